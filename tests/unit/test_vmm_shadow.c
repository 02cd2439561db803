/*
 * test_vmm_shadow.c: the shadow page tables of te (vmm/shadow.c).
 *
 * Each test runs a small paging program on the standard test machine
 * (support.h), bare and under te with each policy, requires every guest
 * word equivalent (test_vmm_support.h), and then checks how the policy got
 * there: its counters, its tables and their entries.
 *
 * The programs: code at physical CODE (frame 0x20) runs at virtual 0
 * (vpn 0), the page table is at PTAB, data pages are frames 0x21.. .
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

#define CODE 0x2000u
#define PTAB 0x3000u
#define PAGE(f) ((uint32_t)(f) << ISA_PAGE_SHIFT)
#define PTE(f, bits) (PAGE(f) | (bits))
#define PAST_FRAME 0x400u /* past the standard machine's 256 frames */

static void put(struct machine *m, uint32_t at, const uint32_t *w, size_t n)
{
    test_support_poke(m, at, w, n);
}
#define PUT(m, at, ...)                                                   \
    do {                                                                  \
        const uint32_t words_[] = {__VA_ARGS__};                          \
        put((m), (at), words_, sizeof words_ / sizeof words_[0]);         \
    } while (0)

static const char *pname(unsigned p) { return vmm_shadow_policy_name((enum vmm_shadow_policy)p); }

/* The standard machine, paging on: PSW {flags | PG, pc 0, PTAB, bound}, vpn 0
 * -> CODE read-only, the handler (TS_HANDLER) a halt. */
static struct machine *paged_machine(uint32_t flags, uint32_t bound)
{
    struct machine *m = test_support_machine("pg");
    machine_memory(m)[PTAB] = PTE(CODE >> ISA_PAGE_SHIFT, PTE_V);
    test_support_set_psw(m, flags | PSW_PG, 0, PTAB, bound, 0);
    return m;
}

/* The MEM trap the guest took, from its own trap area. */
static unsigned guest_mem_detail(const struct vmm *v)
{
    const uint32_t *e = vmm_guest_memory_const(v, 0);
    cr_assert_eq(e[TRAP_CAUSE] & 255, CAUSE_MEM, "the guest took a MEM trap (E[5] = 0x%x)",
                 e[TRAP_CAUSE]);
    return e[TRAP_CAUSE] >> 8;
}

/* ---- The fault's access kind --------------------------------------------------- */

/* Regression: a store that faults on the real machine with "invalid" (lazy:
 * the entry is not filled yet) or "bound" (past the table's capacity) was
 * taken for a load, and the guest's walk as a load, through a read-only
 * entry whose frame is past memory, said "physical".  The guest's hardware
 * checks W before the frame: "write". */
Test(vmm_shadow, store_to_read_only_frame_past_memory_is_write_protect)
{
    const uint32_t cap = 256; /* the standard machine's 256 frames */
    struct {
        const char *what;
        uint32_t vpn;
    } cases[] = {{"past the capacity", cap + 4}, {"inside the capacity", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct machine *m = paged_machine(PSW_M, cap + 8);
        machine_memory(m)[PTAB + cases[i].vpn] = PTE(PAST_FRAME, PTE_V);
        PUT(m, CODE, TS_I(ADDI, 2, 0, 0x77), TS_I(LUI, 3, 0, PAGE(cases[i].vpn) >> 16),
            TS_I(ORI, 3, 3, PAGE(cases[i].vpn) & 0xffff), TS_I(ST, 2, 3, 5));
        for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
            struct vmm *v = tv_check_equivalent_policy(m, VMM_TE, p, 100, cases[i].what);
            cr_assert_eq(guest_mem_detail(v), MEMF_WRITE, "%s, %s: the store is write-protected",
                         cases[i].what, pname(p));
            cr_assert_eq(vmm_guest_memory_const(v, 0)[TRAP_VALUE], PAGE(cases[i].vpn) + 5);
            vmm_destroy(v);
        }
        machine_destroy(m);
    }
}
