/*
 * test_machine_trap.c: every trap cause through the trap area, word by word;
 * undefined opcodes; unhandled traps, machine checks and halt.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define UBASE 0x1000u
#define UBOUND 0x400u

/* One trap of each cause, taken from user mode with a relocated PSW whose
 * every word is distinct, so that E[0..4] is checked word by word. */
struct cause_case {
    enum isa_cause cause;
    uint32_t insn;      /* at virtual 0x20 */
    uint32_t flags;     /* user PSW flags */
    unsigned detail;
    uint32_t value;
    uint32_t saved_pc;
    uint32_t old_flags; /* as saved */
    uint32_t old_timer;
};

static const struct cause_case cause_cases[] = {
    {CAUSE_PRIV, TS_I(STMR, 1, 0, 0), PSW_IE, 0, TS_I(STMR, 1, 0, 0), 0x20, PSW_IE, 77},
    {CAUSE_MEM, TS_I(LD, 1, 2, 0), PSW_IE, MEMF_BOUND, 0x500, 0x20, PSW_IE, 77},
    {CAUSE_ILL, 0x00000000, PSW_IE, 0, 0, 0x20, PSW_IE, 77},
    {CAUSE_DIV, TS_R(REM, 1, 2, 0), PSW_IE, 0, 0, 0x20, PSW_IE, 77},
    {CAUSE_SVC, TS_I(SVC, 0, 0, 0x1234), PSW_IE, 0, 0x1234, 0x21, PSW_IE, 77},
    {CAUSE_HCALL, TS_I(HCALL, 0, 0, 0xfffe), PSW_IE, 0, 0xfffffffe, 0x21, PSW_IE, 77},
    /* interrupts: taken before the instruction at 0x20, saved pc = 0x20 */
    {CAUSE_TIMER, TS_I(ADDI, 1, 1, 1), PSW_IE | PSW_TP, 0, 0, 0x20, PSW_IE, 77},
    {CAUSE_IO, TS_I(ADDI, 1, 1, 1), PSW_IE, 0, PORT_CONSOLE_IN, 0x20, PSW_IE, 77},
};

Test(machine_trap, every_cause_through_the_trap_area)
{
    bool seen[CAUSE_COUNT] = {false};
    for (size_t i = 0; i < sizeof cause_cases / sizeof cause_cases[0]; i++) {
        const struct cause_case *c = &cause_cases[i];
        struct machine *m = test_support_machine("pg");
        uint32_t *e = machine_memory(m);
        struct psw handler = {PSW_M | PSW_PG, 0x345, 0x4000, 4, 1000};
        test_support_set_new_psw(m, &handler);
        e[0x4000 + 3] = 0x50u << 8 | PTE_V; /* page 3 -> frame 0x50 */
        test_support_fill_regs(m);
        machine_set_reg(m, 2, UBOUND + 0x100);
        e[UBASE + 0x20] = c->insn;
        if (c->cause == CAUSE_IO) {
            machine_feed_input(m, (const uint8_t *)"!", 1);
            /* input interrupts on: out r3, 2 with r3 = 1, from supervisor mode */
            e[TS_CODE] = TS_I(OUT, 3, 0, PORT_CONSOLE_CTRL);
            machine_set_reg(m, 3, 1);
            cr_assert_eq(machine_step(m), MACHINE_BUDGET);
            cr_assert_eq(machine_reg(m, 3), 1);
            machine_set_reg(m, 3, test_support_reg_pattern(3));
        }
        test_support_set_psw(m, c->flags, 0x20, UBASE, UBOUND, 77);
        uint32_t regs[ISA_NREGS];
        for (unsigned r = 0; r < ISA_NREGS; r++) regs[r] = machine_reg(m, r);
        cr_assert_eq(machine_step(m), MACHINE_BUDGET, "cause %d", c->cause);
        struct psw old = {c->old_flags, c->saved_pc, UBASE, UBOUND, c->old_timer};
        test_support_expect_trap(m, c->cause, c->detail, c->value, &old);
        cr_assert_eq(machine_psw(m).flags, PSW_M | PSW_PG);
        cr_assert_eq(machine_psw(m).pc, 0x345);
        cr_assert_eq(machine_stats(m)->traps[c->cause], 1);
        for (unsigned r = 0; r < ISA_NREGS; r++)
            cr_assert_eq(machine_reg(m, r), regs[r], "cause %d: r%u changed", c->cause, r);
        seen[c->cause] = true;
        machine_destroy(m);
    }
    for (int c = 1; c < CAUSE_COUNT; c++) cr_assert(seen[c], "cause %d untested", c);
}

/* The trap writes E[0..6] only: E[7] and E[13..15] keep whatever they hold. */
Test(machine_trap, reserved_words_untouched)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    e[7] = 0x77777777;
    e[13] = 13, e[14] = 14, e[15] = 15;
    e[TS_CODE] = TS_I(SVC, 0, 0, 1);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(e[5], CAUSE_SVC);
    cr_assert_eq(e[7], 0x77777777);
    cr_assert_eq(e[13], 13);
    cr_assert_eq(e[14], 14);
    cr_assert_eq(e[15], 15);
    machine_destroy(m);
}

/* Every undefined opcode, opcode 0 included, is ILL in both modes. */
Test(machine_trap, every_undefined_opcode_is_ill)
{
    int undefined = 0;
    for (unsigned op = 0; op < ISA_OPCODE_SLOTS; op++) {
        if (isa_op_by_opcode((uint8_t)op)) continue;
        undefined++;
        for (int user = 0; user < 2; user++) {
            struct machine *m = test_support_machine("x86like");
            uint32_t w = (uint32_t)op << 24 | 0x00a5a5a5u;
            machine_memory(m)[UBASE + 7] = w;
            struct psw before = {user ? 0u : PSW_M, 7, UBASE, UBOUND, 5};
            machine_set_psw(m, &before);
            cr_assert_eq(machine_step(m), MACHINE_BUDGET);
            test_support_expect_trap(m, CAUSE_ILL, 0, w, &before);
            machine_destroy(m);
        }
    }
    cr_assert_eq(undefined, ISA_OPCODE_SLOTS - (int)isa_op_count());
    cr_assert(isa_op_by_opcode(0) == NULL, "opcode 0 must stay undefined");
}

/* A trap into an all-zero new PSW is performed, then the machine stops. */
Test(machine_trap, unhandled_trap)
{
    struct machine *m = test_support_machine("pg");
    static const struct psw zero = {0};
    test_support_set_new_psw(m, &zero);
    machine_memory(m)[TS_CODE] = TS_I(SVC, 0, 0, 3);
    cr_assert_eq(machine_run(m, 100), MACHINE_UNHANDLED_TRAP);
    struct psw old = {PSW_M, TS_CODE + 1, 0, TS_MEM, 0};
    test_support_expect_trap(m, CAUSE_SVC, 0, 3, &old);
    cr_assert_eq(machine_steps(m), 1);
    cr_assert_eq(machine_state(m), MACHINE_UNHANDLED_TRAP);
    /* it stays stopped, taking no step */
    cr_assert_eq(machine_run(m, 100), MACHINE_UNHANDLED_TRAP);
    cr_assert_eq(machine_step(m), MACHINE_UNHANDLED_TRAP);
    cr_assert_eq(machine_steps(m), 1);
    /* until reset */
    machine_reset(m, TS_CODE);
    cr_assert_eq(machine_state(m), MACHINE_BUDGET);
    machine_destroy(m);
}

/* Only all five words zero is "unhandled": flags alone make a real PSW. */
Test(machine_trap, nonzero_new_psw_is_handled)
{
    for (int word = 0; word < PSW_WORDS; word++) {
        struct machine *m = test_support_machine("pg");
        uint32_t *e = machine_memory(m);
        uint32_t words[PSW_WORDS] = {0, 0, 0, TS_MEM, 0};
        if (word != 3) words[word] = word == 0 ? PSW_M : word == 1 ? 0x20 : word == 2 ? 0x10 : 9;
        memcpy(e + TRAP_NEW_PSW, words, sizeof words);
        e[TS_CODE] = TS_I(SVC, 0, 0, 3);
        cr_assert_eq(machine_step(m), MACHINE_BUDGET, "new PSW word %d", word);
        cr_assert_eq(machine_state(m), MACHINE_BUDGET);
        machine_destroy(m);
    }
}

/* A new PSW whose pc does not translate: the trap is performed, then a
 * machine check stops the machine. */
Test(machine_trap, machine_check)
{
    static const struct psw bad[] = {
        {PSW_M, 0x100, 0, 0x100, 0},            /* pc = bound          */
        {PSW_M, 0, 0, 0, 0},                    /* bound 0, flags only  */
        {PSW_M, 0, TS_MEM, 10, 0},              /* beyond memory        */
        {PSW_M | PSW_PG, 0x100, 0x2000, 1, 0},  /* vpn >= bound         */
        {PSW_M | PSW_PG, 0x000, 0x2001, 1, 0},  /* invalid page (E[0x2001] = 0) */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct machine *m = test_support_machine("pg");
        test_support_set_new_psw(m, &bad[i]);
        machine_memory(m)[TS_CODE] = TS_R(DIV, 1, 1, 0);
        cr_assert_eq(machine_run(m, 100), MACHINE_CHECK, "case %zu", i);
        struct psw old = {PSW_M, TS_CODE, 0, TS_MEM, 0};
        test_support_expect_trap(m, CAUSE_DIV, 0, 0, &old);
        cr_assert_eq(machine_steps(m), 1);
        cr_assert_eq(machine_run(m, 100), MACHINE_CHECK);
        cr_assert_eq(machine_steps(m), 1);
        machine_destroy(m);
    }
}

/* A write-only-invalid page is fine for fetch as long as V is set: the
 * machine check looks at fetch translation only. */
Test(machine_trap, new_psw_on_read_only_page_is_fine)
{
    struct machine *m = test_support_machine("pg");
    machine_memory(m)[0x2000] = 0x30u << 8 | PTE_V;
    struct psw p = {PSW_M | PSW_PG, 5, 0x2000, 1, 0};
    test_support_set_new_psw(m, &p);
    machine_memory(m)[TS_CODE] = TS_I(SVC, 0, 0, 0);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_state(m), MACHINE_BUDGET);
    machine_destroy(m);
}

Test(machine_trap, halt_status_is_r1_and_pc_advances)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(ADDI, 1, 0, 42), TS_J(HALT, 0), TS_I(ADDI, 1, 0, 7)};
    test_support_poke(m, TS_CODE, prog, 3);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 1), 42);
    cr_assert_eq(machine_psw(m).pc, TS_CODE + 2);
    cr_assert_eq(machine_stats(m)->retired, 2);
    cr_assert_eq(machine_steps(m), 2);
    /* stays halted */
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_state(m), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 1), 42);
    cr_assert_eq(machine_steps(m), 2);
    /* reset: runs again from the entry with registers cleared */
    machine_reset(m, TS_CODE + 2);
    cr_assert_eq(machine_reg(m, 1), 0);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 7);
    machine_destroy(m);
}

/* The trap's step number counts the steps before it. */
Test(machine_trap, last_trap_step)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(ADDI, 1, 0, 1), TS_I(ADDI, 1, 0, 1), TS_I(SVC, 0, 0, 0)};
    test_support_poke(m, TS_CODE, prog, 3);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_run(m, 3), MACHINE_BUDGET);
    cr_assert_not_null(machine_last_trap(m));
    cr_assert_eq(machine_last_trap(m)->step, 2);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_SVC);
    machine_destroy(m);
}

/* machine_raise_trap performs a trap exactly as the hardware does. */
Test(machine_trap, raise_trap)
{
    struct machine *m = test_support_machine("pg");
    test_support_set_psw(m, PSW_IE | PSW_TP, 0x20, UBASE, UBOUND, 3);
    machine_raise_trap(m, CAUSE_MEM, MEMF_WRITE, 0x1234, 0x21);
    struct psw old = {PSW_IE | PSW_TP, 0x21, UBASE, UBOUND, 3};
    test_support_expect_trap(m, CAUSE_MEM, MEMF_WRITE, 0x1234, &old);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_MEM], 1);
    /* a raised TIMER saves TP = 0 */
    test_support_set_psw(m, PSW_IE | PSW_TP, 0x20, UBASE, UBOUND, 0);
    machine_raise_trap(m, CAUSE_TIMER, 0, 0, 0x20);
    old = (struct psw){PSW_IE, 0x20, UBASE, UBOUND, 0};
    test_support_expect_trap(m, CAUSE_TIMER, 0, 0, &old);
    machine_destroy(m);
}

Test(machine_trap, cause_names)
{
    static const char *const names[] = {NULL, "PRIV", "MEM", "ILL", "DIV", "SVC", "HCALL", "TIMER", "IO"};
    for (unsigned c = 1; c < CAUSE_COUNT; c++) {
        cr_assert_str_eq(isa_cause_name(c), names[c]);
        cr_assert_eq(isa_cause_by_name(names[c]), (enum isa_cause)c);
    }
    cr_assert_eq(CAUSE_COUNT, 9);
    cr_assert_null(isa_cause_name(0));
    cr_assert_null(isa_cause_name(9));
    cr_assert_eq(isa_cause_by_name("timer"), CAUSE_TIMER);
    cr_assert_eq(isa_cause_by_name("nope"), CAUSE_NONE);
}

/* "All zero" looks at the five words in memory, before the flags are masked:
 * flags 0xfffffff0 load as 0, but the trap is handled (here: machine check,
 * since the loaded bound is 0). */
Test(machine_trap, all_zero_means_the_words_in_memory)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    static const uint32_t words[PSW_WORDS] = {0xfffffff0u, 0, 0, 0, 0};
    memcpy(e + TRAP_NEW_PSW, words, sizeof words);
    e[TS_CODE] = TS_I(SVC, 0, 0, 0);
    cr_assert_eq(machine_run(m, 10), MACHINE_CHECK);
    cr_assert_eq(machine_psw(m).flags, 0);
    machine_destroy(m);
}
