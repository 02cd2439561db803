/*
 * test_machine_translate.c: address translation, directly through
 * machine_translate and through fetches, loads, stores and lpsw that fault.
 * A faulting instruction has no effect: registers, memory and the timer are
 * as before, and the MEM trap saves the instruction's own pc.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

struct xlate {
    const char *what;
    struct psw psw;
    uint32_t va;
    enum machine_access access;
    bool ok;
    uint32_t pa_or_detail;
};

#define PT 0x2000u /* page table used by the paged cases */
#define U64 (uint32_t)TS_MEM

static void set_page_table(struct machine *m)
{
    uint32_t *e = machine_memory(m);
    e[PT + 0] = 0x30u << 8 | PTE_V | PTE_W;       /* page 0: frame 0x30, rw      */
    e[PT + 1] = 0x31u << 8 | PTE_V;               /* page 1: frame 0x31, ro      */
    e[PT + 2] = 0x32u << 8 | PTE_W;               /* page 2: invalid (W only)    */
    e[PT + 3] = (U64 >> 8) << 8 | PTE_V | PTE_W;  /* page 3: frame just beyond memory */
    e[PT + 4] = 0xffffff00u | PTE_V | PTE_W;      /* page 4: the largest frame   */
    e[PT + 5] = 0x35u << 8 | 0xfc | PTE_V;        /* page 5: other bits ignored  */
    e[PT + 6] = ((U64 >> 8) - 1) << 8 | PTE_V;    /* page 6: the last frame      */
}

static const struct xlate cases[] = {
    /* PG=0 */
    {"unpaged identity", {PSW_M, 0, 0, U64, 0}, 0x1234, ACCESS_LOAD, true, 0x1234},
    {"unpaged relocated", {0, 0, 0x100, 0x50, 0}, 0x4f, ACCESS_STORE, true, 0x14f},
    {"unpaged va = bound", {0, 0, 0x100, 0x50, 0}, 0x50, ACCESS_FETCH, false, MEMF_BOUND},
    {"unpaged va huge", {0, 0, 0x100, 0x50, 0}, 0xffffffff, ACCESS_LOAD, false, MEMF_BOUND},
    {"unpaged bound 0", {PSW_M, 0, 0, 0, 0}, 0, ACCESS_FETCH, false, MEMF_BOUND},
    {"unpaged last word", {0, 0, U64 - 4, 100, 0}, 3, ACCESS_LOAD, true, U64 - 1},
    {"unpaged beyond memory", {0, 0, U64 - 4, 100, 0}, 4, ACCESS_LOAD, false, MEMF_PHYSICAL},
    {"unpaged base beyond memory", {0, 0, U64, 100, 0}, 0, ACCESS_FETCH, false, MEMF_PHYSICAL},
    {"unpaged base + va beyond 2^32 does not wrap", {0, 0, 0xfffffff0, 0x100, 0}, 0x20,
     ACCESS_LOAD, false, MEMF_PHYSICAL},
    {"unpaged bound checked before memory", {0, 0, U64, 10, 0}, 10, ACCESS_LOAD, false, MEMF_BOUND},
    /* PG=1, page table at PT with 7 entries */
    {"paged fetch", {PSW_PG, 0, PT, 7, 0}, 0x0012, ACCESS_FETCH, true, 0x3012},
    {"paged store rw", {PSW_PG, 0, PT, 7, 0}, 0x00ff, ACCESS_STORE, true, 0x30ff},
    {"paged load ro", {PSW_PG, 0, PT, 7, 0}, 0x0100, ACCESS_LOAD, true, 0x3100},
    {"paged fetch ro", {PSW_PG, 0, PT, 7, 0}, 0x01ff, ACCESS_FETCH, true, 0x31ff},
    {"paged store ro: write-protect", {PSW_PG, 0, PT, 7, 0}, 0x0101, ACCESS_STORE, false, MEMF_WRITE},
    {"paged invalid load", {PSW_PG, 0, PT, 7, 0}, 0x0200, ACCESS_LOAD, false, MEMF_INVALID},
    {"paged invalid store (not write-protect)", {PSW_PG, 0, PT, 7, 0}, 0x0200, ACCESS_STORE, false,
     MEMF_INVALID},
    {"paged invalid fetch", {PSW_PG, 0, PT, 7, 0}, 0x02ff, ACCESS_FETCH, false, MEMF_INVALID},
    {"paged frame beyond memory", {PSW_PG, 0, PT, 7, 0}, 0x0300, ACCESS_LOAD, false, MEMF_PHYSICAL},
    {"paged largest frame does not wrap", {PSW_PG, 0, PT, 7, 0}, 0x0410, ACCESS_FETCH, false,
     MEMF_PHYSICAL},
    {"paged PTE flag bits ignored", {PSW_PG, 0, PT, 7, 0}, 0x0501, ACCESS_LOAD, true, 0x3501},
    {"paged last frame", {PSW_PG, 0, PT, 7, 0}, 0x06ff, ACCESS_LOAD, true, U64 - 1},
    {"paged vpn = bound", {PSW_PG, 0, PT, 7, 0}, 0x0700, ACCESS_LOAD, false, MEMF_BOUND},
    {"paged vpn huge", {PSW_PG, 0, PT, 7, 0}, 0xffffffff, ACCESS_FETCH, false, MEMF_BOUND},
    {"paged bound checked before the PTE", {PSW_PG, 0, PT, 2, 0}, 0x0200, ACCESS_LOAD, false,
     MEMF_BOUND},
    {"paged bound 0", {PSW_PG | PSW_M, 0, PT, 0, 0}, 0, ACCESS_FETCH, false, MEMF_BOUND},
    {"page-table entry beyond memory", {PSW_PG, 0, U64 - 2, 10, 0}, 0x0300, ACCESS_LOAD, false,
     MEMF_PHYSICAL},
    {"page-table address + vpn beyond 2^32", {PSW_PG, 0, 0xffffffff, 10, 0}, 0x0100, ACCESS_LOAD,
     false, MEMF_PHYSICAL},
    {"page table read physically, whatever base", {PSW_PG, 0, U64 - 1, 1, 0}, 0x0042, ACCESS_LOAD,
     true, 0x42},
    {"supervisor mode makes no difference", {PSW_PG | PSW_M, 0, PT, 7, 0}, 0x0101, ACCESS_STORE,
     false, MEMF_WRITE},
};

Test(machine_translate, table)
{
    struct machine *m = test_support_machine("pg");
    set_page_table(m);
    machine_memory(m)[TS_MEM - 1] = 0x00u << 8 | PTE_V; /* for "read physically" */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct xlate *c = &cases[i];
        uint32_t pa = 0xdeadbeef;
        unsigned detail = 99;
        bool ok = machine_translate(m, &c->psw, c->va, c->access, &pa, &detail);
        cr_assert_eq(ok, c->ok, "%s: translate returned %d", c->what, ok);
        if (ok) cr_assert_eq(pa, c->pa_or_detail, "%s: pa 0x%x", c->what, pa);
        else cr_assert_eq(detail, c->pa_or_detail, "%s: detail %u", c->what, detail);
    }
    machine_destroy(m);
}

/* Runs one faulting instruction and checks the MEM trap and the absence of
 * any other effect. */
static void expect_fault(struct machine *m, unsigned detail, uint32_t va)
{
    uint32_t regs[ISA_NREGS];
    for (unsigned r = 0; r < ISA_NREGS; r++) regs[r] = machine_reg(m, r);
    uint32_t *before = malloc(TS_MEM * sizeof *before);
    memcpy(before, machine_memory(m), TS_MEM * sizeof *before);
    struct psw old = machine_psw(m);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    test_support_expect_trap(m, CAUSE_MEM, detail, va, &old);
    cr_assert_eq(machine_stats(m)->retired, 0);
    for (unsigned r = 0; r < ISA_NREGS; r++)
        cr_assert_eq(machine_reg(m, r), regs[r], "r%u changed", r);
    const uint32_t *now = machine_memory(m);
    for (uint32_t a = 16; a < TS_MEM; a++)
        cr_assert_eq(now[a], before[a], "E[0x%x] changed", a);
    free(before);
}

Test(machine_translate, unpaged_faults)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    test_support_fill_regs(m);
    /* fetch at va = bound */
    test_support_set_psw(m, PSW_IE, 0x40, 0x1000, 0x40, 9);
    expect_fault(m, MEMF_BOUND, 0x40);
    /* fetch with base + pc beyond memory */
    test_support_set_psw(m, 0, 5, TS_MEM - 5, 100, 0);
    expect_fault(m, MEMF_PHYSICAL, 5);
    /* load beyond bound, value = the virtual address */
    e[0x1000 + 3] = TS_I(LD, 1, 2, 0x10);
    machine_set_reg(m, 2, 0x30);
    test_support_set_psw(m, 0, 3, 0x1000, 0x40, 9);
    expect_fault(m, MEMF_BOUND, 0x40);
    /* store with base + va beyond memory */
    e[TS_MEM - 0x20] = TS_I(ST, 1, 2, 0);
    machine_set_reg(m, 2, 0x20);
    test_support_set_psw(m, PSW_M, 0, TS_MEM - 0x20, 0x100, 0);
    expect_fault(m, MEMF_PHYSICAL, 0x20);
    /* store beyond 2^32 does not wrap onto low memory */
    e[0x1000] = TS_I(ST, 1, 2, 0);
    machine_set_reg(m, 2, 0xffffff00u);
    test_support_set_psw(m, PSW_M, 0, 0x1000, 0xffffffff, 0);
    expect_fault(m, MEMF_PHYSICAL, 0xffffff00u);
    machine_destroy(m);
}

Test(machine_translate, paged_faults)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    set_page_table(m);
    test_support_fill_regs(m);
    e[0x3010] = TS_I(ST, 1, 2, 0);
    e[0x3011] = TS_I(LD, 1, 2, 0);
    e[0x3012] = TS_I(LPSW, 0, 2, 0);
    /* store to a read-only page */
    machine_set_reg(m, 2, 0x0105);
    test_support_set_psw(m, PSW_PG, 0x10, PT, 7, 4);
    expect_fault(m, MEMF_WRITE, 0x0105);
    /* load from an invalid page */
    machine_set_reg(m, 2, 0x0207);
    test_support_set_psw(m, PSW_PG, 0x11, PT, 7, 4);
    expect_fault(m, MEMF_INVALID, 0x0207);
    /* load from a frame beyond memory */
    machine_set_reg(m, 2, 0x0300);
    test_support_set_psw(m, PSW_PG, 0x11, PT, 7, 4);
    expect_fault(m, MEMF_PHYSICAL, 0x0300);
    /* load with vpn >= bound */
    machine_set_reg(m, 2, 0x0700);
    test_support_set_psw(m, PSW_PG, 0x11, PT, 7, 4);
    expect_fault(m, MEMF_BOUND, 0x0700);
    /* fetch from an invalid page, vpn >= bound, frame beyond memory */
    test_support_set_psw(m, PSW_PG, 0x0234, PT, 7, 4);
    expect_fault(m, MEMF_INVALID, 0x0234);
    test_support_set_psw(m, PSW_PG, 0x0800, PT, 7, 4);
    expect_fault(m, MEMF_BOUND, 0x0800);
    test_support_set_psw(m, PSW_PG | PSW_M, 0x0301, PT, 7, 4);
    expect_fault(m, MEMF_PHYSICAL, 0x0301);
    /* fetch whose page-table entry lies beyond memory */
    test_support_set_psw(m, PSW_PG, 0x0300, TS_MEM - 1, 7, 4);
    expect_fault(m, MEMF_PHYSICAL, 0x0300);
    /* lpsw whose five words cross into an invalid page: value = first bad word */
    machine_set_reg(m, 2, 0x01fd);
    test_support_set_psw(m, PSW_PG | PSW_M, 0x12, PT, 7, 4);
    expect_fault(m, MEMF_INVALID, 0x0200);
    machine_destroy(m);
}

Test(machine_translate, paged_accesses_reach_the_right_frames)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    set_page_table(m);
    static const uint32_t prog[] = {
        TS_I(LD, 1, 0, 0x0120),  /* page 1 (ro): frame 0x31 */
        TS_I(ST, 1, 0, 0x0080),  /* page 0 (rw): frame 0x30 */
        TS_I(LD, 3, 0, 0x0501),  /* page 5: frame 0x35      */
        TS_J(JMP, 0x0140),       /* fetch from page 1       */
    };
    test_support_poke(m, 0x3000, prog, 4);
    e[0x3120] = 0xabc;
    e[0x3501] = 0xdef;
    e[0x3140] = TS_J(HALT, 0);
    test_support_set_psw(m, PSW_PG | PSW_M, 0, PT, 7, 0);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 1), 0xabc);
    cr_assert_eq(e[0x3080], 0xabc);
    cr_assert_eq(machine_reg(m, 3), 0xdef);
    cr_assert_eq(machine_psw(m).pc, 0x0141);
    machine_destroy(m);
}

/* Translations are never cached: a store to a page-table entry takes effect
 * at the next access, tlbflush or not. */
Test(machine_translate, page_table_changes_take_effect_at_once)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    set_page_table(m);
    /* page 0 maps the page table itself at virtual 0x0f00..: use page 6 -> frame PT>>8 */
    e[PT + 6] = (PT >> 8) << 8 | PTE_V | PTE_W;
    static const uint32_t prog[] = {
        TS_I(LD, 1, 0, 0x0100),          /* old mapping: frame 0x31 */
        TS_I(ADDI, 2, 0, 0x34),
        TS_I(SHLI, 2, 2, 8),
        TS_I(ORI, 2, 2, PTE_V),
        TS_I(ST, 2, 0, 0x0601),          /* PTE of page 1 := frame 0x34 */
        TS_I(LD, 3, 0, 0x0100),          /* new mapping, no tlbflush */
        TS_J(HALT, 0),
    };
    test_support_poke(m, 0x3000, prog, 7);
    e[0x3100] = 1;
    e[0x3400] = 2;
    test_support_set_psw(m, PSW_PG | PSW_M, 0, PT, 7, 0);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 1), 1);
    cr_assert_eq(machine_reg(m, 3), 2);
    machine_destroy(m);
}

/* Running off the end of the relocated space, as a fetch fault. */
Test(machine_translate, running_off_the_bound_faults_at_the_bound)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    for (uint32_t i = 0; i < 0x20; i++) e[0x1000 + i] = TS_I(ADDI, 1, 1, 1);
    test_support_set_psw(m, 0, 0, 0x1000, 0x20, 0);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT); /* the handler halts */
    cr_assert_eq(machine_reg(m, 1), 0x20);
    struct psw old = {0, 0x20, 0x1000, 0x20, 0};
    const uint32_t *w = e;
    cr_assert_eq(w[0], old.flags);
    cr_assert_eq(w[1], 0x20);
    cr_assert_eq(w[5], CAUSE_MEM | MEMF_BOUND << 8);
    cr_assert_eq(w[6], 0x20);
    machine_destroy(m);
}
