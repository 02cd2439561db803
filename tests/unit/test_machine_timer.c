/*
 * test_machine_timer.c: the PSW timer and the two interrupts.
 *
 * timer = N means: exactly N instructions complete, then the TIMER interrupt
 * is taken before the next one (saved pc = that next instruction, saved
 * TP = 0).  lpsw and stmr set the timer instead of counting; a pending TP
 * belongs to its PSW; TIMER goes before IO.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

static const uint32_t INC = TS_I(ADDI, 1, 1, 1);

static void fill(struct machine *m, uint32_t at, uint32_t n, uint32_t w)
{
    for (uint32_t i = 0; i < n; i++) machine_memory(m)[at + i] = w;
}

/* For several N, in supervisor and in relocated user mode, with runs of
 * several budgets: the interrupt comes after exactly N instructions. */
Test(machine_timer, exact_count)
{
    static const uint32_t ns[] = {1, 2, 3, 7, 64, 1000};
    static const uint64_t budgets[] = {1, 3, 1000000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        for (int user = 0; user < 2; user++) {
            for (size_t b = 0; b < 3; b++) {
                uint32_t n = ns[i];
                struct machine *m = test_support_machine("pg");
                uint32_t base = user ? 0x4000u : 0;
                fill(m, base + TS_CODE, n + 10, INC);
                test_support_set_psw(m, (user ? 0 : PSW_M) | PSW_IE, TS_CODE, base, 0x2000, n);
                enum machine_stop s;
                do s = machine_run(m, budgets[b]);
                while (s == MACHINE_BUDGET);
                cr_assert_eq(s, MACHINE_HALT); /* the handler halts */
                cr_assert_eq(machine_reg(m, 1), n, "timer %u: %u instructions", n, machine_reg(m, 1));
                struct psw old = {(user ? 0 : PSW_M) | PSW_IE, TS_CODE + n, base, 0x2000, 0};
                uint32_t words[PSW_WORDS];
                isa_psw_to_words(&old, words);
                cr_assert(memcmp(machine_memory(m), words, sizeof words) == 0,
                          "timer %u: old PSW {%x %x %x %x %x}", n, machine_memory(m)[0],
                          machine_memory(m)[1], machine_memory(m)[2], machine_memory(m)[3],
                          machine_memory(m)[4]);
                cr_assert_eq(machine_memory(m)[TRAP_CAUSE], CAUSE_TIMER);
                cr_assert_eq(machine_memory(m)[TRAP_VALUE], 0);
                cr_assert_eq(machine_stats(m)->traps[CAUSE_TIMER], 1);
                cr_assert_eq(machine_stats(m)->retired, n + 1); /* + the handler's halt */
                machine_destroy(m);
            }
        }
    }
}

/* timer = 0 is off: nothing ever fires. */
Test(machine_timer, zero_is_off)
{
    struct machine *m = test_support_machine("pg");
    fill(m, TS_CODE, 5000, INC);
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 0);
    cr_assert_eq(machine_run(m, 5000), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 5000);
    cr_assert_eq(machine_psw(m).timer, 0);
    cr_assert_eq(machine_psw(m).flags, PSW_M | PSW_IE);
    machine_destroy(m);
}

/* stmr and lpsw set the timer without counting themselves. */
Test(machine_timer, stmr_and_lpsw_do_not_count)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    static const uint32_t prog[] = {
        TS_I(ADDI, 1, 1, 1), /* timer 2 -> 1 */
        TS_I(STMR, 2, 0, 0), /* timer := 3, not 2 */
        TS_I(ADDI, 1, 1, 1), /* 2 */
        TS_I(LPSW, 0, 0, 0x40), /* timer := 2, not 1; pc := 0x200 */
    };
    test_support_poke(m, TS_CODE, prog, 4);
    static const uint32_t psw[] = {PSW_M | PSW_IE, 0x200, 0, TS_MEM, 2};
    test_support_poke(m, 0x40, psw, 5);
    fill(m, 0x200, 10, INC);
    machine_set_reg(m, 2, 3);
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 2);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 1), 4);
    cr_assert_eq(e[1], 0x202, "saved pc 0x%x", e[1]);
    cr_assert_eq(e[TRAP_CAUSE], CAUSE_TIMER);
    machine_destroy(m);
}

/* A timer that runs out with IE = 0 leaves TP pending in the PSW: it survives
 * a trap that saves that PSW, and fires as soon as the PSW is loaded again
 * with IE = 1 (here by the SVC handler's lpsw). */
Test(machine_timer, pending_tp_survives_traps)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    static const uint32_t prog[] = {INC, INC, INC, TS_I(SVC, 0, 0, 5), INC, INC};
    test_support_poke(m, TS_CODE, prog, 6);
    /* SVC handler at 0x600: set IE in the saved PSW, then lpsw it */
    static const uint32_t svc_handler[] = {
        TS_I(LD, 3, 0, 0), TS_I(ORI, 3, 3, PSW_IE), TS_I(ST, 3, 0, 0), TS_I(LPSW, 0, 0, 0),
    };
    test_support_poke(m, 0x600, svc_handler, 4);
    struct psw h = {PSW_M, 0x600, 0, TS_MEM, 0};
    test_support_set_new_psw(m, &h);
    test_support_set_psw(m, PSW_M, TS_CODE, 0, TS_MEM, 2);
    cr_assert_eq(machine_run(m, 3), MACHINE_BUDGET);
    cr_assert_eq(machine_psw(m).flags, PSW_M | PSW_TP, "TP set at 0, no interrupt with IE=0");
    cr_assert_eq(machine_psw(m).timer, 0);
    cr_assert_eq(machine_reg(m, 1), 3);
    cr_assert_eq(machine_run(m, 1), MACHINE_BUDGET); /* svc */
    cr_assert_eq(e[0], PSW_M | PSW_TP, "the old PSW keeps TP");
    cr_assert_eq(e[1], TS_CODE + 4);
    cr_assert_eq(machine_psw(m).flags, PSW_M, "the handler's PSW has no TP");
    cr_assert_eq(machine_run(m, 4), MACHINE_BUDGET); /* handler */
    cr_assert_eq(machine_psw(m).flags, PSW_M | PSW_IE | PSW_TP);
    cr_assert_eq(machine_psw(m).pc, TS_CODE + 4);
    /* switch the handler to one that halts, and take the interrupt */
    h.pc = TS_HANDLER;
    test_support_set_new_psw(m, &h);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 3, "the interrupt comes before the next instruction");
    struct psw old = {PSW_M | PSW_IE, TS_CODE + 4, 0, TS_MEM, 0};
    test_support_expect_trap(m, CAUSE_TIMER, 0, 0, &old);
    machine_destroy(m);
}

/* popf enabling interrupts with TP pending: the interrupt comes right after. */
Test(machine_timer, popf_enabling_ie_fires_pending_tp)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(POPF, 2, 0, 0), INC};
    test_support_poke(m, TS_CODE, prog, 2);
    machine_set_reg(m, 2, PSW_IE);
    test_support_set_psw(m, PSW_M | PSW_TP, TS_CODE, 0, TS_MEM, 0);
    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET);
    struct psw old = {PSW_M | PSW_IE, TS_CODE + 1, 0, TS_MEM, 0};
    test_support_expect_trap(m, CAUSE_TIMER, 0, 0, &old);
    cr_assert_eq(machine_reg(m, 1), 0);
    machine_destroy(m);
}

/* The timer runs out on a system instruction (pushf) and on halt. */
Test(machine_timer, system_instructions_count)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(PUSHF, 1, 0, 0), TS_J(TLBFLUSH, 0), INC};
    test_support_poke(m, TS_CODE, prog, 3);
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 2);
    cr_assert_eq(machine_run(m, 3), MACHINE_BUDGET);
    struct psw old = {PSW_M | PSW_IE, TS_CODE + 2, 0, TS_MEM, 0};
    test_support_expect_trap(m, CAUSE_TIMER, 0, 0, &old);
    machine_destroy(m);

    m = test_support_machine("pg");
    machine_memory(m)[TS_CODE] = TS_J(HALT, 0);
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 1);
    cr_assert_eq(machine_run(m, 10), MACHINE_HALT);
    cr_assert_eq(machine_psw(m).flags, PSW_M | PSW_IE | PSW_TP);
    cr_assert_eq(machine_psw(m).timer, 0);
    cr_assert_null(machine_last_trap(m));
    machine_destroy(m);
}

/* A trapping instruction does not count; the timer restarts in the loaded PSW. */
Test(machine_timer, traps_do_not_count)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(SVC, 0, 0, 0), INC};
    test_support_poke(m, TS_CODE, prog, 2);
    test_support_set_psw(m, PSW_M | PSW_IE, TS_CODE, 0, TS_MEM, 1);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_memory(m)[4], 1, "the saved timer was not charged");
    cr_assert_eq(machine_memory(m)[TRAP_CAUSE], CAUSE_SVC);
    machine_destroy(m);
}

/* ---- IO interrupts ------------------------------------------------------ */

static struct machine *io_machine(void)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {
        TS_I(ADDI, 2, 0, 1),
        TS_I(OUT, 2, 0, PORT_CONSOLE_CTRL), /* input interrupts on */
        TS_I(POPF, 2, 0, 0),                /* r2 = 1: IE stays 0 */
        INC, INC, INC, INC,
    };
    test_support_poke(m, TS_CODE, prog, 7);
    return m;
}

Test(machine_timer, io_interrupt_taken_with_ie)
{
    struct machine *m = io_machine();
    machine_memory(m)[TS_CODE + 2] = TS_I(POPF, 3, 0, 0);
    machine_set_reg(m, 3, PSW_IE);
    machine_feed_input(m, (const uint8_t *)"ab", 2);
    cr_assert_eq(machine_run(m, 3), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    struct psw old = {PSW_M | PSW_IE, TS_CODE + 3, 0, TS_MEM, 0};
    test_support_expect_trap(m, CAUSE_IO, 0, PORT_CONSOLE_IN, &old);
    cr_assert_eq(machine_input_pending(m), 2, "the interrupt reads nothing");
    machine_destroy(m);
}

Test(machine_timer, io_interrupt_needs_ie_and_ctrl)
{
    /* IE = 0 */
    struct machine *m = io_machine();
    machine_feed_input(m, (const uint8_t *)"a", 1);
    cr_assert_eq(machine_run(m, 7), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 1), 4);
    machine_destroy(m);
    /* ctrl bit 0 off (written 2) */
    m = io_machine();
    machine_memory(m)[TS_CODE] = TS_I(ADDI, 2, 0, 2);
    machine_memory(m)[TS_CODE + 2] = TS_I(POPF, 2, 0, 0); /* r2 = 2: IE = 1 */
    machine_feed_input(m, (const uint8_t *)"a", 1);
    cr_assert_eq(machine_run(m, 7), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 1), 4);
    machine_destroy(m);
    /* ctrl on, IE on, but no input */
    m = io_machine();
    machine_memory(m)[TS_CODE + 2] = TS_I(POPF, 3, 0, 0);
    machine_set_reg(m, 3, PSW_IE);
    cr_assert_eq(machine_run(m, 7), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    /* input arriving between runs is taken before the next instruction */
    machine_feed_input(m, (const uint8_t *)"z", 1);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_IO);
    cr_assert_eq(machine_memory(m)[1], TS_CODE + 7);
    machine_destroy(m);
}

/* Level-triggered: a handler that returns without reading gets the interrupt
 * again; one that reads everything does not. */
Test(machine_timer, io_interrupt_is_level_triggered)
{
    for (int reads = 0; reads < 2; reads++) {
        struct machine *m = io_machine();
        machine_memory(m)[TS_CODE + 2] = TS_I(POPF, 3, 0, 0);
        machine_set_reg(m, 3, PSW_IE);
        /* handler: (in r5, 1; in r5, 1;) lpsw 0 */
        uint32_t *e = machine_memory(m);
        uint32_t at = 0x600;
        if (reads) {
            e[at++] = TS_I(IN, 5, 0, PORT_CONSOLE_IN);
            e[at++] = TS_I(IN, 5, 0, PORT_CONSOLE_IN);
        }
        e[at] = TS_I(LPSW, 0, 0, 0);
        struct psw h = {PSW_M, 0x600, 0, TS_MEM, 0};
        test_support_set_new_psw(m, &h);
        machine_feed_input(m, (const uint8_t *)"ab", 2);
        cr_assert_eq(machine_run(m, reads ? 11 : 23), MACHINE_BUDGET);
        if (reads) {
            cr_assert_eq(machine_stats(m)->traps[CAUSE_IO], 1);
            cr_assert_eq(machine_reg(m, 5), 'b');
            cr_assert_eq(machine_input_pending(m), 0);
            cr_assert_eq(machine_reg(m, 1), 4);
        } else {
            cr_assert_eq(machine_stats(m)->traps[CAUSE_IO], 10, "io %llu",
                         (unsigned long long)machine_stats(m)->traps[CAUSE_IO]);
            cr_assert_eq(machine_reg(m, 1), 0);
        }
        machine_destroy(m);
    }
}

/* With both pending, TIMER goes first; IO follows once IE is on again. */
Test(machine_timer, timer_before_io)
{
    struct machine *m = io_machine();
    uint32_t *e = machine_memory(m);
    e[TS_CODE + 2] = TS_I(POPF, 3, 0, 0);
    machine_set_reg(m, 3, PSW_IE);
    e[0x600] = TS_I(LPSW, 0, 0, 0);
    struct psw h = {PSW_M, 0x600, 0, TS_MEM, 0};
    test_support_set_new_psw(m, &h);
    machine_feed_input(m, (const uint8_t *)"a", 1);
    test_support_set_psw(m, PSW_M | PSW_TP, TS_CODE, 0, TS_MEM, 0);
    cr_assert_eq(machine_run(m, 3), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_TIMER);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET); /* the handler's lpsw */
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_IO);
    cr_assert_eq(e[1], TS_CODE + 3);
    cr_assert_eq(e[0], PSW_M | PSW_IE);
    machine_destroy(m);
}

/* Writing the control port keeps bit 0 only; reading it gives 0. */
Test(machine_timer, ctrl_port_bit_0)
{
    struct machine *m = io_machine();
    uint32_t *e = machine_memory(m);
    e[TS_CODE] = TS_I(ADDI, 2, 0, 0xfffe); /* all bits but 0 */
    e[TS_CODE + 2] = TS_I(POPF, 3, 0, 0);
    e[TS_CODE + 3] = TS_I(IN, 4, 0, PORT_CONSOLE_CTRL);
    machine_set_reg(m, 3, PSW_IE);
    machine_set_reg(m, 4, 99);
    machine_feed_input(m, (const uint8_t *)"a", 1);
    cr_assert_eq(machine_run(m, 5), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 4), 0);
    machine_destroy(m);
}
