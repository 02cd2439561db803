/*
 * test_machine_filter.c: the observer filtered to system instructions
 * (machine_set_observer_filter): before_insn sees those and nothing else,
 * with the state exact, may stop the run before one, and leaves the run
 * otherwise what it is unobserved.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

struct seen {
    unsigned calls;
    uint32_t pcs[16], words[16];
    uint64_t steps[16];
    uint32_t timers[16];
    unsigned stop_at; /* stop before this call (1-based); 0: never */
};

static enum machine_verdict seen_before(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    struct seen *s = ctx;
    cr_assert_eq(machine_psw(m).pc, pc, "the pc is the instruction's");
    if (s->stop_at && s->calls + 1 == s->stop_at) {
        s->stop_at = 0;
        return MACHINE_STOP_RUN;
    }
    if (s->calls < 16) {
        s->pcs[s->calls] = pc;
        s->words[s->calls] = insn;
        s->steps[s->calls] = machine_steps(m);
        s->timers[s->calls] = machine_psw(m).timer;
    }
    s->calls++;
    return MACHINE_CONTINUE;
}

/* addi, rtmr, addi, addi, srr (supervisor, all execute), halt: a timer
 * running from 100, so the observer sees it charged. */
static const uint32_t prog[] = {
    TS_I(ADDI, 1, 0, 7), TS_I(RTMR, 2, 0, 0), TS_I(ADDI, 1, 1, 1),
    TS_I(ADDI, 1, 1, 1), TS_R(SRR, 3, 4, 0),  TS_J(HALT, 0),
};

static struct machine *filtered(struct seen *s)
{
    struct machine *m = test_support_machine("pg");
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    test_support_set_psw(m, PSW_M, TS_CODE, 0, TS_MEM, 100);
    machine_set_observer(m, &(struct machine_observer){s, seen_before, NULL});
    machine_set_observer_filter(m, MACHINE_OBSERVE_SYSTEM);
    return m;
}

Test(machine_filter, sees_only_system_instructions_with_exact_state)
{
    struct seen s = {0};
    struct machine *m = filtered(&s);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    cr_assert_eq(s.calls, 3, "rtmr, srr, halt");
    const uint32_t pcs[] = {TS_CODE + 1, TS_CODE + 4, TS_CODE + 5};
    for (unsigned i = 0; i < 3; i++) {
        cr_assert_eq(s.pcs[i], pcs[i]);
        cr_assert_eq(s.words[i], prog[pcs[i] - TS_CODE]);
        cr_assert_eq(s.steps[i], pcs[i] - TS_CODE, "every instruction before it counted");
        cr_assert_eq(s.timers[i], 100 - (pcs[i] - TS_CODE), "the timer charged for them");
    }
    cr_assert_eq(machine_reg(m, 1), 9);
    cr_assert_eq(machine_reg(m, 2), 99);
    machine_destroy(m);
}

Test(machine_filter, stops_before_a_system_instruction)
{
    struct seen s = {.stop_at = 2};
    struct machine *m = filtered(&s);
    cr_assert_eq(machine_run(m, 1000), MACHINE_STOPPED);
    cr_assert_eq(machine_psw(m).pc, TS_CODE + 4, "before the srr");
    cr_assert_eq(machine_steps(m), 4);
    cr_assert_eq(machine_reg(m, 3), 0, "the srr did not run");
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT, "the next run starts with it");
    cr_assert_eq(machine_reg(m, 4), TS_MEM);
    cr_assert_eq(machine_steps(m), 6);
    machine_destroy(m);
}

Test(machine_filter, an_unfiltered_observer_sees_them_all_again)
{
    struct seen s = {0};
    struct machine *m = filtered(&s);
    machine_set_observer_filter(m, MACHINE_OBSERVE_ALL);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    cr_assert_eq(s.calls, 6);
    machine_destroy(m);
}

/* A system instruction that traps (user mode) is shown before the trap:
 * the filter looks before the privilege check. */
Test(machine_filter, sees_a_system_instruction_that_traps)
{
    struct seen s = {0};
    struct machine *m = filtered(&s);
    test_support_set_psw(m, 0, TS_CODE, 0, TS_MEM, 0);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT, "the handler's halt");
    cr_assert_eq(s.calls, 2, "the rtmr that traps, then the handler's halt");
    cr_assert_eq(s.pcs[0], TS_CODE + 1);
    cr_assert_eq(s.pcs[1], TS_HANDLER);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_PRIV], 1);
    machine_destroy(m);
}
