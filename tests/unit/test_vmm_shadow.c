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

#include "../../assembler/asm.h"
#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

#define CODE 0x2000u
#define PTAB 0x3000u
#define PAGE(f) ((uint32_t)(f) << ISA_PAGE_SHIFT)
#define PTE(f, bits) (PAGE(f) | (bits))
#define PAST_FRAME 0x400u /* past the standard machine's 256 frames */


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

/* ---- Helpers ----------------------------------------------------------------------- */

/* The host frame of guest frame f of guest g. */
static uint32_t host_frame(const struct vmm *v, unsigned g, uint32_t f)
{
    return (vmm_guest_fmap(v, g)->ext[0].hpa >> ISA_PAGE_SHIFT) + f;
}

/* Shadow entry vpn of table t, as the real machine reads it. */
static uint32_t spte(const struct vmm *v, const struct vmm_shadow_table *t, uint32_t vpn)
{
    return machine_memory_const(vmm_real_machine_const(v))[t->hpa + vpn];
}

/* Guest 0's shadow tables, the active one first; returns how many. */
static unsigned tables(const struct vmm *v, struct vmm_shadow_table *t)
{
    return vmm_guest_shadow_tables(v, 0, t, VMM_SHADOW_TABLES);
}

/* Runs v's guests until each has taken `steps` steps in all. */
static void run_to(struct vmm *v, uint64_t steps)
{
    vmm_set_step_limit(v, steps);
    vmm_run(v, UINT64_MAX);
}

/* Asserts guest 0 of v equivalent to a clone of bare run for `steps`. */
static void expect_same_as_bare(const struct machine *bare, const struct vmm *v, uint64_t steps,
                                const char *what)
{
    struct machine *b = machine_clone(bare);
    const enum machine_stop bs = machine_run(b, steps);
    char why[256];
    cr_assert(tv_same(b, bs, v, 0, why, sizeof why), "%s: %s", what, why);
    machine_destroy(b);
}

/* A kernel on a table that maps itself writable at vpn 1 (virtual 0x100)
 * and vpn 2 onto frame 0x21. */
static struct machine *self_mapping_kernel(void)
{
    struct machine *m = paged_machine(PSW_M, 4);
    uint32_t *e = machine_memory(m);
    e[PTAB + 1] = PTE(PTAB >> ISA_PAGE_SHIFT, PTE_V | PTE_W);
    e[PTAB + 2] = PTE(0x21, PTE_V | PTE_W);
    return m;
}

/* ---- Counters and entries, per policy ------------------------------------------------ */

/* A kernel on a table that maps itself (vpn 1) remaps vpn 2 through it,
 * tlbflush, stores through vpn 2.  trace: the store into the table traps
 * and the shadow entry is synced at once (before the tlbflush); rebuild:
 * the entry changes at the rebuild after the flush; lazy: entries are
 * filled at their first use and dropped at the flush. */
Test(vmm_shadow, a_pte_write_under_each_policy)
{
    struct machine *m = self_mapping_kernel();
    PUT(m, CODE, TS_I(ADDI, 1, 0, PTE(0x22, PTE_V | PTE_W)), TS_I(ST, 1, 0, 0x102),
        TS_J(TLBFLUSH, 0), TS_I(ST, 1, 0, 0x200), TS_J(HALT, 0));
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
        const struct vmm_shadow_stats *st = vmm_guest_shadow_stats(v, 0);
        struct vmm_shadow_table t[VMM_SHADOW_TABLES];
        run_to(v, 2); /* the addi and the store into the table */
        cr_assert_eq(tables(v, t), 1, "%s: one table", pname(p));
        cr_assert(t[0].active && t[0].root == PTAB, "%s", pname(p));
        cr_assert_eq(vmm_guest_memory_const(v, 0)[PTAB + 2], PTE(0x22, PTE_V | PTE_W));
        switch (p) {
        case VMM_SHADOW_TRACE:
            cr_assert_eq(st->pte_writes, 1, "trace: the store into the table trapped");
            cr_assert_eq(st->hidden_faults, 1);
            cr_assert_eq(spte(v, &t[0], 2), PTE(host_frame(v, 0, 0x22), PTE_V | PTE_W),
                         "trace: the entry synced right after the store (0x%x)", spte(v, &t[0], 2));
            cr_assert_eq(t[0].last_reason, VMM_SHADOW_BY_PTE_WRITE);
            cr_assert_eq(t[0].last_vpn, 2);
            cr_assert_eq(t[0].last_step, 1, "the store's own step (steps before it)");
            cr_assert_eq(spte(v, &t[0], 1) & (PTE_V | PTE_W | VMM_SPTE_TRACED),
                         PTE_V | VMM_SPTE_TRACED, "the self-mapping entry is write-protected");
            break;
        case VMM_SHADOW_REBUILD:
            cr_assert_eq(st->pte_writes, 0);
            cr_assert_eq(spte(v, &t[0], 2), PTE(host_frame(v, 0, 0x21), PTE_V | PTE_W),
                         "rebuild: the old entry until the flush");
            cr_assert_eq(spte(v, &t[0], 1), PTE(host_frame(v, 0, PTAB >> ISA_PAGE_SHIFT), PTE_V | PTE_W),
                         "rebuild: the self-map stays writable");
            break;
        default:
            cr_assert_eq(st->fills, 2, "lazy: the code page and the table's page");
            cr_assert_eq(spte(v, &t[0], 2), 0, "lazy: vpn 2 not filled yet");
            break;
        }
        run_to(v, 100);
        expect_same_as_bare(m, v, 100, pname(p));
        cr_assert_eq(tables(v, t), 1);
        cr_assert_eq(spte(v, &t[0], 2), PTE(host_frame(v, 0, 0x22), PTE_V | PTE_W), "%s", pname(p));
        cr_assert_eq(st->flushes, 1, "%s: the tlbflush", pname(p));
        cr_assert_eq(st->true_faults, 0);
        if (p == VMM_SHADOW_TRACE) cr_assert_eq(st->rebuilds, 1, "trace: built once");
        if (p == VMM_SHADOW_REBUILD) cr_assert_eq(st->rebuilds, 2, "rebuild: at start and after the flush");
        if (p == VMM_SHADOW_LAZY) {
            cr_assert_eq(st->rebuilds, 0);
            cr_assert_eq(st->drops, 1, "lazy: the flush emptied the table");
            cr_assert_eq(st->fills, 4, "lazy: code and table, then code and vpn 2 again");
            cr_assert_eq(st->hidden_faults, 4);
        }
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* Flushes, paged and unpaged: two tlbflush, an svc to an unpaged handler
 * that returns with lpsw.  rebuild builds at each flush followed by paged
 * code (the trap and the lpsw: once); lazy drops what it filled; trace
 * keeps its table, but verifies it after the unpaged handler (whose
 * relocation covers the table). */
Test(vmm_shadow, flushes_under_each_policy)
{
    struct machine *m = paged_machine(PSW_M, 4);
    PUT(m, CODE, TS_J(TLBFLUSH, 0), TS_J(TLBFLUSH, 0), TS_I(SVC, 0, 0, 7), TS_J(HALT, 0));
    PUT(m, TS_HANDLER, TS_I(LPSW, 0, 0, 0));
    static const struct {
        uint64_t rebuilds, fills, drops, verifies;
    } want[VMM_SHADOW_POLICY_COUNT] = {
        [VMM_SHADOW_TRACE] = {1, 0, 0, 1},
        [VMM_SHADOW_REBUILD] = {4, 0, 0, 0},
        [VMM_SHADOW_LAZY] = {0, 4, 3, 0},
    };
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_check_equivalent_policy(m, VMM_TE, p, 100, pname(p));
        const struct vmm_shadow_stats *st = vmm_guest_shadow_stats(v, 0);
        cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
        cr_assert_eq(st->flushes, 4, "%s: 2 tlbflush, the svc, the lpsw", pname(p));
        cr_assert_eq(st->rebuilds, want[p].rebuilds, "%s: %llu rebuilds", pname(p),
                     (unsigned long long)st->rebuilds);
        cr_assert_eq(st->fills, want[p].fills, "%s: %llu fills", pname(p),
                     (unsigned long long)st->fills);
        cr_assert_eq(st->drops, want[p].drops, "%s: %llu drops", pname(p),
                     (unsigned long long)st->drops);
        cr_assert_eq(st->verifies, want[p].verifies, "%s: %llu verifies", pname(p),
                     (unsigned long long)st->verifies);
        cr_assert_eq(st->hidden_faults, st->fills, "%s: hidden faults are the fills", pname(p));
        cr_assert_eq(st->interpreted + st->true_faults + st->pte_writes, 0, "%s", pname(p));
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* ---- Tables: least recently used, the active one first ------------------------------ */

#define SPACE(k) (PTAB + (k)*0x10u)
#define NSPACES (VMM_SHADOW_TABLES + 1)

/* VMM_SHADOW_TABLES + 1 address spaces, each a table mapping vpn 0 the code
 * and vpn 1 a page of PSWs; the code loads the next PSW: spaces 1, 2, ...,
 * N-1 (the last evicts space 0, least recently used), 1 again (still
 * there), 0 again (in place of 2, now the least recently used), where it
 * halts. */
Test(vmm_shadow, trace_keeps_the_most_recently_used_tables)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    for (unsigned k = 0; k < NSPACES; k++) {
        e[SPACE(k)] = PTE(0x20, PTE_V);
        e[SPACE(k) + 1] = PTE(0x21, PTE_V);
    }
    PUT(m, CODE, TS_I(ADDI, 1, 1, 5), TS_I(LPSW, 0, 1, 0x100), TS_J(HALT, 0));
    unsigned order[NSPACES + 1], n_order = 0;
    for (unsigned k = 1; k < NSPACES; k++) order[n_order++] = k;
    order[n_order++] = 1;
    order[n_order++] = 0;
    for (unsigned i = 0; i < n_order; i++) {
        struct psw p = {PSW_M | PSW_PG, i == n_order - 1 ? 2 : 0, SPACE(order[i]), 2, 0};
        isa_psw_to_words(&p, e + 0x2100 + 5 * i);
    }
    test_support_set_psw(m, PSW_M | PSW_PG, 0, SPACE(0), 2, 0);
    machine_set_reg(m, 1, (uint32_t)-5);
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_check_equivalent_policy(m, VMM_TE, p, 200, pname(p));
        const struct vmm_shadow_stats *st = vmm_guest_shadow_stats(v, 0);
        struct vmm_shadow_table t[VMM_SHADOW_TABLES];
        cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
        const unsigned n = tables(v, t);
        cr_assert(n >= 1 && t[0].active && t[0].root == SPACE(0), "%s: space 0, active, first",
                  pname(p));
        for (unsigned i = 1; i < n; i++) cr_assert_not(t[i].active);
        if (p == VMM_SHADOW_TRACE) {
            cr_assert_eq(n, VMM_SHADOW_TABLES);
            bool held[NSPACES] = {false};
            for (unsigned i = 0; i < n; i++)
                for (unsigned k = 0; k < NSPACES; k++) held[k] |= t[i].root == SPACE(k);
            for (unsigned k = 0; k < NSPACES; k++)
                cr_assert_eq(held[k], k != 2, "trace holds every space but 2 (%u: %d)", k, held[k]);
            cr_assert_eq(st->rebuilds, NSPACES + 1, "each space once, and 0 again: 1 was still there");
        } else {
            cr_assert_eq(n, 1, "%s keeps one table", pname(p));
        }
        if (p == VMM_SHADOW_REBUILD) cr_assert_eq(st->rebuilds, n_order + 1, "rebuild: at every space");
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* Stopped while unpaged, no table is active; paged again, its own is. */
Test(vmm_shadow, no_table_is_active_while_unpaged)
{
    struct machine *m = paged_machine(PSW_M, 4);
    PUT(m, CODE, TS_I(SVC, 0, 0, 1), TS_J(HALT, 0));
    PUT(m, TS_HANDLER, TS_I(ADDI, 2, 2, 1), TS_I(ADDI, 2, 2, 1), TS_I(LPSW, 0, 0, 0));
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
        struct vmm_shadow_table t[VMM_SHADOW_TABLES];
        run_to(v, 2); /* the svc and the handler's first addi */
        cr_assert_eq(vmm_guest_vcpu(v, 0)->psw.flags & PSW_PG, 0);
        const unsigned n = tables(v, t);
        cr_assert_eq(n, 1, "%s: the table is kept", pname(p));
        cr_assert_not(t[0].active, "%s: but not active", pname(p));
        cr_assert_eq(t[0].root, PTAB);
        run_to(v, 100);
        expect_same_as_bare(m, v, 100, pname(p));
        cr_assert_eq(tables(v, t), 1);
        cr_assert(t[0].active, "%s: halted paged: active", pname(p));
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* ---- Capacity ---------------------------------------------------------------------- */

/* Pages past the shadow's capacity are interpreted, one instruction at a
 * time, and nothing else is: code that runs there (two addi and a jmp) and a
 * store and a load there from code inside it. */
Test(vmm_shadow, pages_past_the_capacity_are_interpreted_exactly)
{
    const uint32_t cap = 256;
    struct machine *m = paged_machine(PSW_M, cap + 4);
    uint32_t *e = machine_memory(m);
    e[PTAB + cap + 1] = PTE(0x21, PTE_V);
    e[PTAB + cap + 2] = PTE(0x22, PTE_V | PTE_W);
    PUT(m, CODE, TS_J(JMP, PAGE(cap + 1)), TS_I(LUI, 3, 0, PAGE(cap + 2) >> 16),
        TS_I(ORI, 3, 3, (PAGE(cap + 2) & 0xffff) + 5), TS_I(ST, 1, 3, 0), TS_I(LD, 2, 3, 0),
        TS_J(HALT, 0));
    PUT(m, 0x2100, TS_I(ADDI, 1, 1, 1), TS_I(ADDI, 1, 1, 2), TS_J(JMP, 1));
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_check_equivalent_policy(m, VMM_TE, p, 100, pname(p));
        cr_assert_eq(vmm_shadow_capacity(v), cap);
        const struct vmm_shadow_stats *st = vmm_guest_shadow_stats(v, 0);
        cr_assert_eq(vmm_guest_memory_const(v, 0)[0x2205], 3);
        cr_assert_eq(vmm_guest_vcpu(v, 0)->reg[2], 3);
        cr_assert_eq(st->interpreted, 5, "%s: addi, addi, jmp, st, ld", pname(p));
        cr_assert_eq(vmm_guest_stats(v, 0)->interpreted, 5, "%s", pname(p));
        cr_assert_eq(st->hidden_faults, 5 + (p == VMM_SHADOW_LAZY), "%s: one each (lazy: and the "
                     "code page's fill)", pname(p));
        cr_assert_eq(st->true_faults, 0);
        struct vmm_shadow_table t[VMM_SHADOW_TABLES];
        cr_assert_eq(tables(v, t), 1);
        cr_assert_eq(t[0].entries, cap, "%s: a shadow of the capacity", pname(p));
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* ---- Clones, the words of the shadow area, writes from outside ------------------------ */

/* tests/attacks/shadow_many_spaces.s on the standard machine: ten address
 * spaces round-robin, each writing the next one's table. */
static struct machine *many_spaces(void)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program("tests/attacks/shadow_many_spaces.s", &img, stderr), 0,
                 "run the tests from the repository root");
    struct machine *m = test_support_machine("pg");
    cr_assert(asm_image_place(&img, machine_memory(m), TS_MEM, 0));
    machine_reset(m, img.entry);
    asm_image_free(&img);
    return m;
}
#define MANY_STEPS 60000u /* it halts after 29695 */

/* The host words of guest g's shadow tables holding a translation (V). */
static uint64_t valid_words(const struct vmm *v, unsigned g)
{
    const uint32_t *real = machine_memory_const(vmm_real_machine_const(v));
    const uint64_t words = (uint64_t)VMM_SHADOW_TABLES * vmm_shadow_capacity(v);
    const uint64_t from = v->shadow_hpa + g * words;
    uint64_t n = 0;
    for (uint64_t a = from; a < from + words; a++) n += (real[a] & PTE_V) != 0;
    return n;
}

/* A clone made mid-run, its shadow tables in their most eventful state,
 * goes on exactly as the original: the same guest, the same shadow tables
 * and counters; and it runs on its own memory (the original destroyed
 * first: ASan would see a table left pointing into it). */
Test(vmm_shadow, a_clone_mid_run_goes_on_identically)
{
    struct machine *m = many_spaces();
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++)
        for (uint64_t at = 3001; at < MANY_STEPS; at += 7001) {
            struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
            run_to(v, at);
            struct vmm *c = vmm_clone(v);
            cr_assert_not_null(c);
            run_to(v, MANY_STEPS);
            expect_same_as_bare(m, v, MANY_STEPS, pname(p));
            const struct vmm_shadow_stats done = *vmm_guest_shadow_stats(v, 0);
            struct vmm_shadow_table tv[VMM_SHADOW_TABLES], tc[VMM_SHADOW_TABLES];
            const unsigned nv = tables(v, tv);
            uint32_t words[VMM_SHADOW_TABLES][8];
            for (unsigned i = 0; i < nv; i++)
                for (unsigned k = 0; k < 8; k++) words[i][k] = spte(v, &tv[i], k);
            vmm_destroy(v);
            run_to(c, MANY_STEPS);
            expect_same_as_bare(m, c, MANY_STEPS, "the clone");
            cr_assert_eq(memcmp(&done, vmm_guest_shadow_stats(c, 0), sizeof done), 0,
                         "%s, cloned at %llu: the same shadow counters", pname(p),
                         (unsigned long long)at);
            cr_assert_eq(tables(c, tc), nv);
            for (unsigned i = 0; i < nv; i++) {
                cr_assert_eq(tc[i].root, tv[i].root);
                cr_assert_eq(tc[i].hpa, tv[i].hpa);
                for (unsigned k = 0; k < 8; k++) cr_assert_eq(spte(c, &tc[i], k), words[i][k]);
            }
            vmm_destroy(c);
        }
    machine_destroy(m);
}

/* words_in_use counts exactly the shadow words that hold a translation (the
 * whole shadow area of the guest: tables no longer used are empty);
 * words_reserved is the guest's part of the area. */
Test(vmm_shadow, words_in_use_are_the_valid_shadow_entries)
{
    struct machine *m = many_spaces();
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
        const struct vmm_shadow_stats *st = vmm_guest_shadow_stats(v, 0);
        cr_assert_eq(st->words_reserved, (uint64_t)VMM_SHADOW_TABLES * vmm_shadow_capacity(v));
        cr_assert_eq(st->words_in_use, 0);
        uint64_t most = 0;
        for (uint64_t at = 200; at < MANY_STEPS; at += 397) {
            run_to(v, at);
            cr_assert_eq(st->words_in_use, valid_words(v, 0), "%s, step %llu: %llu in use, %llu valid",
                         pname(p), (unsigned long long)at, (unsigned long long)st->words_in_use,
                         (unsigned long long)valid_words(v, 0));
            cr_assert_leq(st->words_in_use, st->words_reserved);
            if (st->words_in_use > most) most = st->words_in_use;
        }
        expect_same_as_bare(m, v, MANY_STEPS, pname(p));
        /* Ten tables of four entries: trace keeps VMM_SHADOW_TABLES, the others one. */
        if (p == VMM_SHADOW_TRACE)
            cr_assert(most > 4 && most <= 4 * VMM_SHADOW_TABLES,
                      "trace: %llu entries in use: several tables", (unsigned long long)most);
        else
            cr_assert(most > 0 && most <= 4, "%s: %llu entries in use: one table", pname(p),
                      (unsigned long long)most);
        cr_assert_geq(st->words_written, st->words_in_use);
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* A write from outside (vmm_guest_memory: a loader, a debugger) takes
 * effect at once, as on the bare machine, page-table entries included: the
 * shadow tables are dropped. */
Test(vmm_shadow, a_write_through_vmm_guest_memory_is_seen_at_once)
{
    struct machine *m = paged_machine(PSW_M, 4);
    uint32_t *e = machine_memory(m);
    e[PTAB + 2] = PTE(0x21, PTE_V | PTE_W);
    e[0x2100] = 0x111;
    e[0x2200] = 0x222;
    /* r3 += the word at vpn 2, forever */
    PUT(m, CODE, TS_I(LD, 1, 0, 0x200), TS_R(ADD, 3, 3, 1), TS_J(JMP, 0));
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct machine *b = machine_clone(m);
        struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
        run_to(v, 30);
        machine_run(b, 30);
        struct vmm_shadow_table t[VMM_SHADOW_TABLES];
        cr_assert_eq(tables(v, t), 1);
        cr_assert_gt(vmm_guest_shadow_stats(v, 0)->words_in_use, 0);
        vmm_guest_memory(v, 0)[PTAB + 2] = PTE(0x22, PTE_V | PTE_W);
        machine_memory(b)[PTAB + 2] = PTE(0x22, PTE_V | PTE_W);
        cr_assert_eq(tables(v, t), 0, "%s: the shadow tables are dropped", pname(p));
        cr_assert_eq(vmm_guest_shadow_stats(v, 0)->words_in_use, 0);
        cr_assert_eq(valid_words(v, 0), 0);
        run_to(v, 60);
        const enum machine_stop bs = machine_run(b, 30);
        char why[256];
        cr_assert(tv_same(b, bs, v, 0, why, sizeof why), "%s: %s", pname(p), why);
        cr_assert_eq(vmm_guest_vcpu(v, 0)->reg[3], 10 * 0x111 + 10 * 0x222);
        machine_destroy(b);
        vmm_destroy(v);
    }
    machine_destroy(m);
}

/* ---- The rule ------------------------------------------------------------------------ */

/* A guest that breaks ISA.md's rule: it stores into its table and uses the
 * new entry with no tlbflush.  The bare machine caches nothing, so the new
 * entry is used at once; trace synced it at the store and is exact even
 * here; rebuild and lazy still use the old one (the rule allows them to),
 * until the next flush. */
Test(vmm_shadow, only_trace_is_exact_for_a_guest_that_breaks_the_rule)
{
    struct machine *m = self_mapping_kernel();
    uint32_t *e = machine_memory(m);
    e[0x2100] = 0x111;
    e[0x2200] = 0x222;
    PUT(m, CODE, TS_I(LD, 2, 0, 0x200), TS_I(ADDI, 1, 0, PTE(0x22, PTE_V | PTE_W)),
        TS_I(ST, 1, 0, 0x102), TS_I(LD, 3, 0, 0x200), TS_J(HALT, 0));
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct machine *b = machine_clone(m);
        const enum machine_stop bs = machine_run(b, 100);
        cr_assert_eq(machine_reg(b, 3), 0x222, "bare: the new entry at once");
        struct vmm *v = tv_mirror_policy(m, VMM_TE, p, 1, NULL);
        run_to(v, 100);
        char why[256];
        if (p == VMM_SHADOW_TRACE) {
            cr_assert(tv_same(b, bs, v, 0, why, sizeof why), "trace: %s", why);
        } else {
            cr_assert_eq(vmm_guest_vcpu(v, 0)->reg[3], 0x111, "%s: the old entry, no flush yet",
                         pname(p));
            cr_assert_not(tv_same(b, bs, v, 0, why, sizeof why));
        }
        vmm_destroy(v);
        machine_destroy(b);
    }
    machine_destroy(m);
}
