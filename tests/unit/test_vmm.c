/*
 * test_vmm.c: the dispatcher, reflection, the virtual clock, the scheduler
 * and resource control of the C VMM.
 *
 * Most tests are differential (test_vmm_support.h): the same program on the
 * standard test machine of support.h, bare and as a guest, must leave every
 * guest-visible word the same; the accounting and the event log then say
 * how the VMM got there.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"


static const enum vmm_mode all_modes[] = {VMM_TE, VMM_HVM, VMM_INTERP};

/* The program on the standard machine, equivalent under every mode. */
static void check_all_modes(const struct machine *m, uint64_t steps, const char *what)
{
    for (size_t i = 0; i < 3; i++) vmm_destroy(tv_check_equivalent(m, all_modes[i], 1, steps, NULL, what));
}

/* ---- Life cycle, allocator ---------------------------------------------------- */

Test(vmm, create_rejects_bad_configs)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm_config ok = {VMM_TE, &pg, 4096, 2, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&ok);
    cr_assert_not_null(v);
    vmm_destroy(v);
    struct vmm_config bad[] = {
        {VMM_TE, NULL, 4096, 1, 0, VMM_SHADOW_TRACE},
        {VMM_TE, &pg, 4096, 0, 0, VMM_SHADOW_TRACE},
        {VMM_TE, &pg, 4096, VMM_MAX_GUESTS + 1, 0, VMM_SHADOW_TRACE},
        {VMM_TE, &pg, TRAP_AREA_WORDS - 1, 1, 0, VMM_SHADOW_TRACE},
        {VMM_MODE_COUNT, &pg, 4096, 1, 0, VMM_SHADOW_TRACE},
        {VMM_TE, &pg, (size_t)1 << 31, 4, 0, VMM_SHADOW_TRACE}, /* does not fit 32-bit real memory */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_null(vmm_create(&bad[i]), "config %zu accepted", i);
    cr_assert_null(vmm_create(NULL));
    vmm_destroy(NULL);
}

Test(vmm, modes_by_name)
{
    enum vmm_mode m;
    cr_assert(vmm_mode_by_name("te", &m) && m == VMM_TE);
    cr_assert(vmm_mode_by_name("hvm", &m) && m == VMM_HVM);
    cr_assert(vmm_mode_by_name("interp", &m) && m == VMM_INTERP);
    cr_assert_not(vmm_mode_by_name("TE", &m));
    cr_assert_not(vmm_mode_by_name("", &m));
    cr_assert_str_eq(vmm_mode_name(VMM_HVM), "hvm");
    cr_assert_str_eq(vmm_handling_name(VMM_REFLECTED), "reflected");
}

/* Each guest gets its own page-aligned region after the host page, its
 * f-map says so, and everything between is canary. */
Test(vmm, fmap_layout)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm_config cfg = {VMM_TE, &pg, 1000, 3, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    /* Past the regions, each guest's shadow tables of 256 entries. */
    cr_assert_eq(vmm_shadow_capacity(v), 256);
    cr_assert_eq(machine_memsize(vmm_real_machine(v)),
                 VMM_HOST_WORDS + 3 * 1024 + 3 * VMM_SHADOW_TABLES * 256);
    for (unsigned g = 0; g < 3; g++) {
        const struct vmm_fmap *f = vmm_guest_fmap(v, g);
        cr_assert_eq(f->n, 1);
        cr_assert_eq(f->ext[0].gpa, 0);
        cr_assert_eq(f->ext[0].hpa, VMM_HOST_WORDS + g * 1024);
        cr_assert_eq(f->ext[0].words, 1000);
        cr_assert_eq(vmm_guest_memory(v, g), machine_memory(vmm_real_machine(v)) + f->ext[0].hpa);
        uint32_t hpa, run;
        cr_assert(vmm_fmap_lookup(f, 999, &hpa, &run));
        cr_assert_eq(hpa, f->ext[0].hpa + 999);
        cr_assert_eq(run, 1);
        cr_assert_not(vmm_fmap_lookup(f, 1000, &hpa, &run));
        cr_assert_not(vmm_fmap_lookup(f, UINT32_MAX, &hpa, &run));
    }
    cr_assert(tv_canaries_intact(v));
    /* The checker itself: a changed word of the vmm's own, between two
     * regions or after the last is caught; a guest's or a shadow table's
     * is not. */
    uint32_t *real = machine_memory(vmm_real_machine(v));
    const size_t caught[] = {VMM_HOST_WORDS - 1, VMM_HOST_WORDS + 1000, VMM_HOST_WORDS + 1024 + 1023,
                             VMM_HOST_WORDS + 2 * 1024 + 1000},
                 free_to_change[] = {VMM_HOST_WORDS, VMM_HOST_WORDS + 2 * 1024 + 999,
                                     VMM_HOST_WORDS + 3 * 1024 + 5};
    for (size_t k = 0; k < 4 + 3; k++) {
        const size_t a = k < 4 ? caught[k] : free_to_change[k - 4];
        real[a] ^= 1;
        cr_assert_eq(tv_canaries_intact(v), k >= 4, "word %zu", a);
        real[a] ^= 1;
    }
    const struct vmm_vcpu *cpu = vmm_guest_vcpu(v, 2);
    cr_assert_eq(cpu->psw.flags, PSW_M);
    cr_assert_eq(cpu->psw.pc, ISA_DEFAULT_ENTRY);
    cr_assert_eq(cpu->psw.bound, 1000, "a guest's reset bound is its own memory size");
    vmm_destroy(v);
}

/* ---- The dispatcher: emulate or reflect ------------------------------------------ */

Test(vmm, emulates_system_instructions_of_the_guest_kernel)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, 'A'), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT), TS_I(RTMR, 2, 0, 0),
        TS_J(HALT, 0));
    struct vmm *v = tv_check_equivalent(m, VMM_TE, 1, 100, NULL, "kernel out");
    const struct vmm_stats *s = vmm_guest_stats(v, 0);
    cr_assert_eq(s->direct, 1, "addi ran directly");
    cr_assert_eq(s->emulated, 3, "out, rtmr and halt were emulated");
    cr_assert_eq(s->interpreted, 0);
    cr_assert_eq(s->reflected, 0);
    cr_assert_eq(s->entries, 3);
    cr_assert_eq(s->by_cause[CAUSE_PRIV], 3);
    size_t len;
    const uint8_t *out = vmm_guest_output(v, 0, &len);
    cr_assert(len == 1 && out[0] == 'A');
    vmm_destroy(v);
    machine_destroy(m);
}

/* A system instruction in virtual user mode belongs to the guest's kernel:
 * PRIV is reflected into its trap area, with the instruction as value. */
Test(vmm, reflects_priv_from_virtual_user_mode)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, 0x4000 + TS_CODE, TS_I(ADDI, 1, 0, 'B'), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT));
    test_support_set_psw(m, PSW_IE, TS_CODE, 0x4000, 0x1000, 0);
    struct vmm *v = tv_mirror(m, VMM_TE, 1, NULL);
    struct psw real = vmm_guest_real_psw(v, 0);
    cr_assert_eq(real.flags, PSW_IE, "real user mode, interrupts on");
    cr_assert_eq(real.base, vmm_guest_fmap(v, 0)->ext[0].hpa + 0x4000, "composed relocation");
    cr_assert_eq(real.bound, 0x1000);
    cr_assert_eq(real.timer, VMM_DEFAULT_SLICE, "the slice");
    vmm_destroy(v);
    v = tv_check_equivalent(m, VMM_TE, 1, 100, NULL, "user out");
    const uint32_t *e = vmm_guest_memory(v, 0);
    cr_assert_eq(e[TRAP_CAUSE], CAUSE_PRIV);
    cr_assert_eq(e[TRAP_VALUE], TS_I(OUT, 1, 0, PORT_CONSOLE_OUT));
    cr_assert_eq(e[TRAP_OLD_PSW + 0], PSW_IE);
    cr_assert_eq(e[TRAP_OLD_PSW + 1], TS_CODE + 1);
    cr_assert_eq(e[TRAP_OLD_PSW + 2], 0x4000, "the old PSW holds the virtual base, not the real one");
    const struct vmm_stats *s = vmm_guest_stats(v, 0);
    cr_assert_eq(s->reflected, 1);
    cr_assert_eq(s->emulated, 1, "only the handler's halt");
    size_t len;
    vmm_guest_output(v, 0, &len);
    cr_assert_eq(len, 0);
    vmm_destroy(v);
    machine_destroy(m);
}

Test(vmm, reflects_svc_hcall_ill_div)
{
    static const uint32_t traps[] = {TS_I(SVC, 0, 0, 7), TS_I(HCALL, 0, 0, 0x1234), 0x00000000u,
                                     0xff000000u, TS_R(DIV, 1, 2, 0), TS_R(REM, 1, 2, 0)};
    for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++) {
        for (int user = 0; user < 2; user++) {
            struct machine *m = test_support_machine("pg");
            uint32_t base = user ? 0x2000 : 0;
            PUT(m, base + TS_CODE, TS_I(ADDI, 2, 0, 5));
            machine_memory(m)[base + TS_CODE + 1] = traps[i];
            test_support_set_psw(m, user ? 0 : PSW_M, TS_CODE, base, 0x3000, 0);
            check_all_modes(m, 100, "trap");
            machine_destroy(m);
        }
    }
}

/* A real bound fault is recomputed against the virtual PSW: past the
 * virtual bound it is detail 0, inside it but past the guest's memory it is
 * detail 3 (physical), as on a bare machine of the guest's size. */
Test(vmm, recomputes_mem_detail_against_the_virtual_psw)
{
    static const struct {
        uint32_t va;
        unsigned detail;
    } cases[] = {{0xf000, MEMF_PHYSICAL}, {0x7fffff, MEMF_PHYSICAL}, {0x800000, MEMF_BOUND}};
    for (size_t i = 0; i < 3; i++) {
        struct machine *m = test_support_machine("pg");
        PUT(m, 0x1000 + TS_CODE, TS_I(LUI, 3, 0, cases[i].va >> 16),
            TS_I(ORI, 3, 3, cases[i].va & 0xffff), TS_I(LD, 1, 3, 0));
        test_support_set_psw(m, 0, TS_CODE, 0x1000, 0x800000, 0);
        struct vmm *v = tv_check_equivalent(m, VMM_TE, 1, 100, NULL, "mem detail");
        const uint32_t *e = vmm_guest_memory(v, 0);
        cr_assert_eq(e[TRAP_CAUSE], CAUSE_MEM | cases[i].detail << 8, "va 0x%x: E[5] = 0x%x",
                     cases[i].va, e[TRAP_CAUSE]);
        cr_assert_eq(e[TRAP_VALUE], cases[i].va);
        vmm_destroy(v);
        machine_destroy(m);
    }
}

/* A base beyond the guest's memory: the composed bound is 0, every fetch
 * faults, and the guest sees a physical fault at its pc. */
Test(vmm, base_beyond_guest_memory)
{
    struct machine *m = test_support_machine("pg");
    test_support_set_psw(m, 0, 0, 0x20000, 0x100, 0);
    check_all_modes(m, 100, "wild base");
    machine_destroy(m);
}

Test(vmm, unhandled_trap_and_machine_check_stop_the_guest)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(SVC, 0, 0, 1));
    struct psw zero = {0, 0, 0, 0, 0};
    test_support_set_new_psw(m, &zero);
    struct vmm *v = tv_check_equivalent(m, VMM_TE, 1, 100, NULL, "unhandled");
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_UNHANDLED_TRAP);
    cr_assert_not(vmm_guest_runnable(v, 0));
    vmm_destroy(v);

    struct psw wild = {PSW_M, 0x5000, 0, 0x100, 0};
    test_support_set_new_psw(m, &wild);
    v = tv_check_equivalent(m, VMM_TE, 1, 100, NULL, "machine check");
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_CHECK);
    vmm_destroy(v);
    machine_destroy(m);
}

/* ---- The virtual clock --------------------------------------------------------------- */

static void fill(struct machine *m, uint32_t at, uint32_t n, uint32_t w)
{
    for (uint32_t i = 0; i < n; i++) machine_memory(m)[at + i] = w;
}

/* timer = N: the virtual interrupt comes after exactly N guest instructions,
 * counted across direct runs, emulated instructions (which tick the clock)
 * and slices of other lengths. */
Test(vmm, timer_interrupt_lands_on_the_exact_instruction)
{
    static const uint32_t ns[] = {1, 2, 3, 7, 64, 1000, 25000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (int user = 0; user < 2; user++) {
            struct machine *m = test_support_machine("pg");
            uint32_t base = user ? 0x4000u : 0;
            fill(m, base + TS_CODE, 0x3000, TS_I(ADDI, 1, 1, 1));
            if (!user) /* emulated instructions count too */
                for (uint32_t k = 0; k < 0x3000; k += 5)
                    machine_memory(m)[TS_CODE + k] = TS_I(RTMR, 2, 0, 0);
            test_support_set_psw(m, (user ? 0 : PSW_M) | PSW_IE, TS_CODE, base, 0x4000, ns[i]);
            check_all_modes(m, 100000, "timer");
            machine_destroy(m);
        }
    }
}

/* With IE=0 the timer's TP stays pending in the virtual PSW; popf, stmr and
 * lpsw behave by the ISA's rules around it. */
Test(vmm, pending_timer_waits_for_ie)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, 1), TS_I(ADDI, 1, 1, 1), TS_I(ADDI, 1, 1, 1),
        TS_I(PUSHF, 5, 0, 0), TS_I(STMR, 0, 0, 0), TS_I(ADDI, 6, 0, PSW_IE), TS_I(POPF, 6, 0, 0),
        TS_I(ADDI, 1, 1, 100));
    test_support_set_psw(m, PSW_M, TS_CODE, 0, TS_MEM, 2);
    check_all_modes(m, 100, "pending timer");
    machine_destroy(m);
}

Test(vmm, console_interrupts_and_input)
{
    struct machine *m = test_support_machine("pg");
    /* Interrupts on input; the handler reads one byte, echoes it, returns. */
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, 1), TS_I(OUT, 1, 0, PORT_CONSOLE_CTRL),
        TS_I(ADDI, 1, 0, PSW_M | PSW_IE), TS_I(POPF, 1, 0, 0), TS_I(ADDI, 2, 2, 1),
        TS_J(JMP, TS_CODE + 4));
    PUT(m, TS_HANDLER, TS_I(IN, 3, 0, PORT_CONSOLE_IN), TS_I(OUT, 3, 0, PORT_CONSOLE_OUT),
        TS_I(ADDI, 4, 0, -1), TS_I(BNE, 3, 4, 1), TS_J(HALT, 0), TS_I(LPSW, 0, 0, 0));
    for (size_t i = 0; i < 3; i++) {
        vmm_destroy(tv_check_equivalent(m, all_modes[i], 1, 2000, "xyz", "console irq"));
    }
    struct vmm *v = tv_check_equivalent(m, VMM_TE, 1, 2000, "hello", "console irq");
    size_t len;
    const uint8_t *out = vmm_guest_output(v, 0, &len);
    cr_assert(len == 5 && memcmp(out, "hello", 5) == 0);
    cr_assert_eq(vmm_guest_stats(v, 0)->reflected, 5, "one IO interrupt a byte");
    vmm_destroy(v);
    machine_destroy(m);
}

/* --max-steps means the same thing bare and virtualized: for every budget
 * the guest stops on the same step in the same state. */
Test(vmm, step_limit_is_exact)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 1, 1), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT), TS_I(SVC, 0, 0, 3),
        TS_I(ADDI, 2, 2, 1), TS_J(JMP, TS_CODE));
    PUT(m, TS_HANDLER, TS_I(ADDI, 3, 3, 1), TS_I(LPSW, 0, 0, 0));
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 4);
    for (uint64_t steps = 0; steps < 60; steps++)
        for (size_t i = 0; i < 3; i++) vmm_destroy(tv_check_equivalent(m, all_modes[i], 1, steps, NULL, "budget"));
    machine_destroy(m);
}

/* vmm_run's own budget can cut anywhere (the TUI steps one at a time): the
 * result is the same as one long run. */
Test(vmm, running_step_by_step_changes_nothing)
{
    struct machine *m = test_support_machine("pg");
    fill(m, TS_CODE, 30, TS_I(ADDI, 1, 1, 1));
    PUT(m, TS_CODE + 30, TS_I(OUT, 1, 0, PORT_CONSOLE_OUT), TS_I(SVC, 0, 0, 1), TS_J(JMP, TS_CODE));
    PUT(m, TS_HANDLER, TS_I(ADDI, 3, 3, 1), TS_I(LPSW, 0, 0, 0));
    test_support_set_psw(m, PSW_IE, TS_CODE, 0, TS_MEM, 11);
    struct isa_variant pg = test_support_variant("pg");
    (void)pg;
    for (size_t i = 0; i < 3; i++) {
        struct machine *b = machine_clone(m);
        enum machine_stop bs = machine_run(b, 700);
        struct vmm *v = tv_mirror(m, all_modes[i], 1, NULL);
        vmm_set_step_limit(v, 700);
        uint64_t calls = 1;
        while (vmm_run(v, 1) == VMM_RUN_BUDGET) calls++;
        cr_assert_eq(calls, 700, "one step a call: %llu calls", (unsigned long long)calls);
        char why[200];
        cr_assert(tv_same(b, bs, v, 0, why, sizeof why), "%s: %s", vmm_mode_name(all_modes[i]), why);
        vmm_destroy(v);
        machine_destroy(b);
    }
    machine_destroy(m);
}

/* A clone taken halfway ends where the original ends; the original is not
 * disturbed by running the clone. */
Test(vmm, clone_snapshots_everything)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(IN, 1, 0, PORT_CONSOLE_IN), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT),
        TS_I(ADDI, 2, 2, 1), TS_I(SVC, 0, 0, 1), TS_I(SLTI, 3, 2, 40), TS_I(BNE, 3, 0, -6),
        TS_J(HALT, 0));
    PUT(m, TS_HANDLER, TS_I(ADDI, 4, 4, 1), TS_I(LPSW, 0, 0, 0));
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 7);
    struct machine *b = machine_clone(m);
    machine_feed_input(b, (const uint8_t *)"snapshot", 8);
    enum machine_stop bs = machine_run(b, 100000);
    for (size_t i = 0; i < 3; i++) {
        struct vmm *v = tv_mirror(m, all_modes[i], 2, "snapshot");
        cr_assert_eq(vmm_run(v, 77), VMM_RUN_BUDGET);
        struct vmm *c = vmm_clone(v);
        cr_assert_not_null(c);
        cr_assert_eq(vmm_run(c, 100000), VMM_RUN_DONE);
        cr_assert_eq(vmm_guest_steps(v, 0) + vmm_guest_steps(v, 1), 77, "the original stayed put");
        cr_assert_eq(vmm_run(v, 100000), VMM_RUN_DONE);
        char why[200];
        for (unsigned g = 0; g < 2; g++) {
            cr_assert(tv_same(b, bs, v, g, why, sizeof why), "original: %s", why);
            cr_assert(tv_same(b, bs, c, g, why, sizeof why), "clone: %s", why);
        }
        cr_assert(tv_canaries_intact(c));
        vmm_destroy(c);
        vmm_destroy(v);
    }
    machine_destroy(b);
    machine_destroy(m);
}

/* ---- Scheduling and resource control ---------------------------------------------- */

/* A guest that turns interrupts off and loops forever keeps neither the
 * CPU nor the other guests from finishing; every real instruction runs in
 * user mode with interrupts on, inside the region of the guest it belongs to. */
Test(vmm, a_guest_looping_with_interrupts_off_cannot_keep_the_cpu)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm_config cfg = {VMM_TE, &pg, 4096, 3, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    static const uint32_t hog[] = {TS_I(POPF, 0, 0, 0), TS_I(STMR, 0, 0, 0), TS_J(JMP, 18)};
    static const uint32_t count[] = {TS_I(ADDI, 1, 1, 1), TS_I(BNE, 1, 2, -2), TS_J(HALT, 0)};
    memcpy(vmm_guest_memory(v, 0) + 16, hog, sizeof hog);
    for (unsigned g = 1; g < 3; g++) {
        memcpy(vmm_guest_memory(v, g) + 16, count, sizeof count);
        vmm_guest_set_reg(v, g, 2, 30000 * g);
    }
    struct tv_real_watch w;
    tv_watch_start(&w, v);
    enum vmm_run_status st = vmm_run(v, 1000000);
    cr_assert_eq(st, VMM_RUN_BUDGET, "the hog is still running");
    cr_assert(vmm_guest_runnable(v, 0));
    for (unsigned g = 1; g < 3; g++) {
        cr_assert_eq(vmm_guest_stop(v, g), MACHINE_HALT, "guest %u finished", g);
        cr_assert_eq(vmm_guest_vcpu(v, g)->reg[1], 30000 * g);
    }
    cr_assert(vmm_guest_stats(v, 0)->scheduled > 10, "the hog was preempted");
    cr_assert_gt(w.checked, 100000);
    cr_assert_eq(w.bad, 0, "%llu real instructions ran with a bad PSW", (unsigned long long)w.bad);
    cr_assert(tv_canaries_intact(v));
    vmm_destroy(v);
}

/* Several guests at once: each one's result and output are its own, the
 * same as alone. */
Test(vmm, four_guests_are_each_equivalent)
{
    struct machine *m = test_support_machine("pg");
    fill(m, TS_CODE, 20, TS_I(ADDI, 1, 1, 3));
    PUT(m, TS_CODE + 20, TS_I(OUT, 1, 0, PORT_CONSOLE_OUT), TS_I(ADDI, 2, 2, 1),
        TS_I(SLTI, 3, 2, 3000), TS_I(BNE, 3, 0, -24), TS_J(HALT, 0));
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 0);
    struct vmm *v = tv_check_equivalent(m, VMM_TE, 4, 1000000, NULL, "four");
    for (unsigned g = 0; g < 4; g++) cr_assert_gt(vmm_guest_stats(v, g)->scheduled, 1);
    vmm_destroy(v);
    machine_destroy(m);
}

/* ---- Observation ------------------------------------------------------------------------ */

#define MAX_EVENTS 64
struct log {
    struct vmm_event e[MAX_EVENTS];
    size_t n;
    size_t stop_after;
};

static enum machine_verdict record(void *ctx, struct vmm *v, const struct vmm_event *e)
{
    (void)v;
    struct log *l = ctx;
    if (e->how == VMM_SCHEDULED) return MACHINE_CONTINUE;
    if (l->n < MAX_EVENTS) l->e[l->n++] = *e;
    return l->stop_after && l->n >= l->stop_after ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

Test(vmm, observer_sees_each_trap_with_its_handling)
{
    struct machine *m = test_support_machine("pg");
    /* kernel: out (emulated), lpsw into user code; user: svc (reflected);
     * handler: halt (emulated). */
    PUT(m, TS_CODE, TS_I(OUT, 0, 0, PORT_CONSOLE_OUT), TS_I(LPSW, 0, 0, 0x40));
    PUT(m, 0x40, 0, 0x300, 0, 0x1000, 0);
    PUT(m, 0x300, TS_I(ADDI, 1, 0, 1), TS_I(SVC, 0, 0, 9));
    struct vmm *v = tv_mirror(m, VMM_TE, 1, NULL);
    struct log l = {.n = 0};
    vmm_set_observer(v, &(struct vmm_observer){&l, record});
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_DONE);
    cr_assert_eq(l.n, 5);
    struct {
        enum vmm_handling how;
        enum isa_cause cause;
        uint32_t pc;
        bool supervisor;
        uint64_t step;
    } want[] = {
        {VMM_EMULATED, CAUSE_PRIV, TS_CODE, true, 0},
        {VMM_EMULATED, CAUSE_PRIV, TS_CODE + 1, true, 1},
        {VMM_REFLECTED, CAUSE_SVC, 0x302, false, 3},
        {VMM_EMULATED, CAUSE_PRIV, TS_HANDLER, true, 4},
        {VMM_STOPPED, CAUSE_NONE, TS_HANDLER + 1, true, 5},
    };
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(l.e[i].how, want[i].how, "event %zu: %s", i, vmm_handling_name(l.e[i].how));
        cr_assert_eq(l.e[i].cause, want[i].cause, "event %zu", i);
        cr_assert_eq(l.e[i].pc, want[i].pc, "event %zu: pc 0x%x", i, l.e[i].pc);
        cr_assert_eq(l.e[i].supervisor, want[i].supervisor, "event %zu", i);
        cr_assert_eq(l.e[i].step, want[i].step, "event %zu: step %llu", i,
                     (unsigned long long)l.e[i].step);
        cr_assert_eq(l.e[i].guest, 0);
        cr_assert_eq(l.e[i].place, VMM_PLACE_DIRECT, "event %zu", i);
    }
    cr_assert_eq(l.e[2].value, 9);
    cr_assert_eq(l.e[4].stop, MACHINE_HALT);
    vmm_destroy(v);
    machine_destroy(m);
}

/* An observer can stop the run at an event: vmm_run returns STOPPED with the
 * vcpu current, and running on gives the same end as never stopping. */
Test(vmm, observer_can_stop_the_run)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 1, 1), TS_I(OUT, 1, 0, 0), TS_I(ADDI, 2, 2, 1),
        TS_I(SLTI, 3, 2, 10), TS_I(BNE, 3, 0, -5), TS_J(HALT, 0));
    struct vmm *v = tv_mirror(m, VMM_TE, 1, NULL);
    struct log l = {.n = 0, .stop_after = 1};
    vmm_set_observer(v, &(struct vmm_observer){&l, record});
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_STOPPED);
    cr_assert_eq(vmm_guest_vcpu(v, 0)->psw.pc, TS_CODE + 2, "stopped after the out");
    cr_assert_eq(vmm_guest_vcpu(v, 0)->reg[1], 1);
    cr_assert_eq(vmm_guest_reg(v, 0, 1), 1);
    l.stop_after = 0;
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_DONE);
    struct machine *b = machine_clone(m);
    enum machine_stop bs = machine_run(b, 1000);
    char why[200];
    cr_assert(tv_same(b, bs, v, 0, why, sizeof why), "%s", why);
    machine_destroy(b);
    vmm_destroy(v);
    machine_destroy(m);
}

/* ---- Efficiency and modes --------------------------------------------------------------- */

Test(vmm, compute_bound_guest_runs_directly)
{
    struct machine *m = test_support_machine("pg");
    /* 200000 turns of a 3-instruction loop, then print and halt. */
    PUT(m, TS_CODE, TS_I(LUI, 2, 0, 3), TS_I(ADDI, 1, 1, 1), TS_I(XOR, 4, 4, 1),
        TS_I(BNE, 1, 2, -3), TS_I(OUT, 1, 0, 0), TS_J(HALT, 0));
    struct vmm *v = tv_check_equivalent(m, VMM_TE, 1, 10000000, NULL, "compute");
    const struct vmm_stats *s = vmm_guest_stats(v, 0);
    cr_assert_geq(vmm_efficiency(s), 0.999, "efficiency %f", vmm_efficiency(s));
    cr_assert_eq(s->emulated, 2);
    vmm_destroy(v);
    v = tv_check_equivalent(m, VMM_INTERP, 1, 10000000, NULL, "compute");
    cr_assert_eq(vmm_efficiency(vmm_guest_stats(v, 0)), 0.0);
    vmm_destroy(v);
    machine_destroy(m);
}

/* hvm interprets the guest kernel and runs its user code directly. */
Test(vmm, hvm_places_kernel_and_user_code)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, 1), TS_I(ADDI, 1, 1, 1), TS_I(LPSW, 0, 0, 0x40));
    PUT(m, 0x40, 0, 0x300, 0, 0x1000, 0);
    PUT(m, 0x300, TS_I(ADDI, 1, 0, 1), TS_I(ADDI, 1, 1, 1), TS_I(ADDI, 1, 1, 1), TS_I(SVC, 0, 0, 9));
    struct vmm *v = tv_check_equivalent(m, VMM_HVM, 1, 100, NULL, "hvm");
    const struct vmm_stats *s = vmm_guest_stats(v, 0);
    cr_assert_eq(s->direct, 3, "user code ran directly");
    cr_assert_eq(s->interpreted, 2, "kernel code was interpreted");
    cr_assert_eq(s->emulated, 4, "2 interpreted + lpsw + halt");
    vmm_destroy(v);
    machine_destroy(m);
}

/* ---- Places ----------------------------------------------------------------------------- */

Test(vmm, place_names)
{
    cr_assert_str_eq(vmm_place_name(VMM_PLACE_DIRECT), "direct");
    cr_assert_str_eq(vmm_place_name(VMM_PLACE_INTERPRETED), "interpreted");
    cr_assert_str_eq(vmm_place_name(VMM_PLACE_COUNT), "?");
    cr_assert_str_eq(vmm_place_name((enum vmm_place)-1), "?");
    for (unsigned p = 0; p < VMM_PLACE_COUNT; p++) {
        cr_assert_not_null(vmm_places[p].machine, "place %u", p);
        cr_assert_not_null(vmm_places[p].compose, "place %u", p);
        cr_assert_not_null(vmm_places[p].charge, "place %u", p);
        cr_assert_not_null(vmm_places[p].shown, "place %u", p);
        cr_assert_eq(vmm_places[p].route[CAUSE_PRIV], ROUTE_SYSTEM,
                     "place %u: system instructions are emulated wherever they trap", p);
    }
}

/* Each mode picks a place from the virtual PSW; the real PSW shown is the
 * place's. */
Test(vmm, modes_pick_places_from_the_virtual_psw)
{
    struct isa_variant pg = test_support_variant("pg");
    const struct {
        uint32_t flags;
        enum vmm_place te, hvm, interp;
    } cases[] = {
        {PSW_M, VMM_PLACE_DIRECT, VMM_PLACE_INTERPRETED, VMM_PLACE_INTERPRETED},
        {0, VMM_PLACE_DIRECT, VMM_PLACE_DIRECT, VMM_PLACE_INTERPRETED},
        {PSW_IE, VMM_PLACE_DIRECT, VMM_PLACE_DIRECT, VMM_PLACE_INTERPRETED},
        {PSW_PG, VMM_PLACE_DIRECT, VMM_PLACE_INTERPRETED, VMM_PLACE_INTERPRETED},
        {PSW_M | PSW_PG, VMM_PLACE_DIRECT, VMM_PLACE_INTERPRETED, VMM_PLACE_INTERPRETED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t k = 0; k < 3; k++) {
            struct vmm *v = vmm_create(&(struct vmm_config){all_modes[k], &pg, 4096, 1, 0, VMM_SHADOW_TRACE});
            cr_assert_not_null(v);
            const struct psw p = {cases[i].flags, 0x20, 0x100, 0x200, 7};
            vmm_guest_set_psw(v, 0, &p);
            const enum vmm_place want[] = {cases[i].te, cases[i].hvm, cases[i].interp};
            cr_assert_eq(vmm_guest_place(v, 0), want[k], "flags 0x%x under %s: %s", p.flags,
                         vmm_mode_name(all_modes[k]), vmm_place_name(vmm_guest_place(v, 0)));
            const struct psw real = vmm_guest_real_psw(v, 0);
            if (want[k] == VMM_PLACE_INTERPRETED) {
                cr_assert_eq(real.flags, p.flags & ~PSW_M, "the interpreter runs it in user mode");
                cr_assert_eq(real.base, p.base);
                cr_assert_eq(real.bound, p.bound);
            } else if (p.flags & PSW_PG) {
                cr_assert_eq(real.flags, PSW_IE | PSW_PG, "direct, paged: on its shadow table");
                struct vmm_shadow_table t[VMM_SHADOW_TABLES];
                cr_assert_eq(vmm_guest_shadow_tables(v, 0, t, VMM_SHADOW_TABLES), 1,
                             "a paged PSW's table is shadowed when it is loaded");
                cr_assert(t[0].active);
                cr_assert_eq(real.base, v->shadow_hpa, "the table it starts with");
                cr_assert_eq(real.base, t[0].hpa);
                cr_assert_eq(real.bound, vmm_shadow_capacity(v), "its bound, capped");
                cr_assert_eq(real.timer, 7);
            } else {
                cr_assert_eq(real.flags, PSW_IE, "direct: real user mode, interrupts on");
                cr_assert_eq(real.base, vmm_guest_fmap(v, 0)->ext[0].hpa + p.base);
                cr_assert_eq(real.bound, p.bound);
                cr_assert_eq(real.timer, 7, "the virtual timer, shorter than a slice");
            }
            cr_assert_eq(real.pc, p.pc);
            vmm_destroy(v);
        }
    }
}

/* Events say where the guest's code ran: under hvm the kernel's on the
 * interpreter, the user program's on the real machine. */
Test(vmm, events_carry_the_place_they_arose_in)
{
    struct machine *m = test_support_machine("pg");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, 1), TS_I(LPSW, 0, 0, 0x40));
    PUT(m, 0x40, 0, 0x300, 0, 0x1000, 0);
    PUT(m, 0x300, TS_I(ADDI, 1, 1, 1), TS_I(SVC, 0, 0, 9));
    struct vmm *v = tv_mirror(m, VMM_HVM, 1, NULL);
    struct log l = {.n = 0};
    vmm_set_observer(v, &(struct vmm_observer){&l, record});
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_DONE);
    const struct {
        enum vmm_handling how;
        enum isa_cause cause;
        enum vmm_place place;
    } want[] = {
        {VMM_EMULATED, CAUSE_PRIV, VMM_PLACE_INTERPRETED}, /* lpsw, kernel   */
        {VMM_REFLECTED, CAUSE_SVC, VMM_PLACE_DIRECT},      /* svc, user      */
        {VMM_EMULATED, CAUSE_PRIV, VMM_PLACE_INTERPRETED}, /* halt, handler  */
        {VMM_STOPPED, CAUSE_NONE, VMM_PLACE_INTERPRETED},  /* at the halt    */
    };
    cr_assert_eq(l.n, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(l.e[i].how, want[i].how, "event %zu: %s", i, vmm_handling_name(l.e[i].how));
        cr_assert_eq(l.e[i].cause, want[i].cause, "event %zu", i);
        cr_assert_eq(l.e[i].place, want[i].place, "event %zu: %s", i, vmm_place_name(l.e[i].place));
    }
    vmm_destroy(v);
    machine_destroy(m);
}

/* On hybrid, popf in the guest kernel is critical: te runs it directly and
 * it silently ignores IE; hvm interprets the kernel and is exact. */
Test(vmm, hybrid_popf_breaks_te_not_hvm)
{
    struct machine *m = test_support_machine("hybrid");
    PUT(m, TS_CODE, TS_I(ADDI, 1, 0, PSW_IE), TS_I(POPF, 1, 0, 0), TS_I(PUSHF, 2, 0, 0), TS_J(HALT, 0));
    struct machine *b = machine_clone(m);
    enum machine_stop bs = machine_run(b, 100);
    cr_assert_eq(machine_reg(b, 2), PSW_M | PSW_IE);
    struct vmm *v = tv_mirror(m, VMM_TE, 1, NULL);
    vmm_run(v, 100);
    char why[200];
    cr_assert_not(tv_same(b, bs, v, 0, why, sizeof why), "te should not be equivalent here");
    cr_assert_eq(vmm_guest_vcpu(v, 0)->reg[2], PSW_M, "popf was silently ignored");
    vmm_destroy(v);
    vmm_destroy(tv_check_equivalent(m, VMM_HVM, 1, 100, NULL, "hybrid hvm"));
    vmm_destroy(tv_check_equivalent(m, VMM_INTERP, 1, 100, NULL, "hybrid interp"));
    machine_destroy(b);
    machine_destroy(m);
}

/* A paging guest: te runs it directly on a shadow table, exactly, with
 * every policy; its true faults (write-protect, a frame past memory) are
 * reflected and the shadow's own are hidden. */
Test(vmm, paging_guest_runs_directly_and_exactly)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    for (uint32_t i = 0; i < 8; i++) e[0x3000 + i] = (0x20 + i) << 8 | PTE_V | PTE_W;
    e[0x3002] &= ~PTE_W;
    e[0x3005] = 0x400u << 8 | PTE_V; /* frame beyond memory: physical fault */
    PUT(m, 0x2000, TS_I(ADDI, 1, 0, 0x123), TS_I(ST, 1, 0, 0x100), TS_I(LD, 2, 0, 0x100),
        TS_I(ST, 1, 0, 0x200), TS_I(ADDI, 3, 0, 0x500), TS_I(LD, 2, 3, 0));
    PUT(m, TS_HANDLER, TS_I(LD, 5, 0, 6), TS_I(ADDI, 6, 6, 1), TS_I(SLTI, 7, 6, 2),
        TS_I(LD, 8, 0, 1), TS_I(ADDI, 8, 8, 1), TS_I(ST, 8, 0, 1), TS_I(BEQ, 7, 0, 1),
        TS_I(LPSW, 0, 0, 0), TS_J(HALT, 0));
    test_support_set_psw(m, PSW_PG, 0, 0x3000, 8, 0);
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = tv_check_equivalent_policy(m, VMM_TE, p, 1000, "paging");
        const struct vmm_shadow_stats *sh = vmm_guest_shadow_stats(v, 0);
        cr_assert_eq(vmm_guest_stats(v, 0)->interpreted, 0, "%s", vmm_shadow_policy_name(p));
        cr_assert_gt(vmm_guest_stats(v, 0)->direct, 0);
        cr_assert_eq(sh->true_faults, 2, "%s: the write-protect and the physical fault",
                     vmm_shadow_policy_name(p));
        if (p == VMM_SHADOW_LAZY) cr_assert_gt(sh->fills, 0, "lazy fills at hidden faults");
        else cr_assert_gt(sh->rebuilds, 0, "%s builds whole tables", vmm_shadow_policy_name(p));
        vmm_destroy(v);
    }
    check_all_modes(m, 1000, "paging");
    machine_destroy(m);
}
