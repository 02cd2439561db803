/*
 * test_machine_invariants.c: machine.c's assertions are live in the test
 * build.  Each test breaks a precondition on purpose and must die with
 * SIGABRT (isa/invariant.h); guest misbehaviour never gets here, it traps.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>

#include "support.h"

static void quiet(void) { cr_redirect_stderr(); }

/* A machine at TS_CODE with `svc 1` and a halt after it. */
static struct machine *svc_then_halt(void)
{
    struct machine *m = test_support_machine("pg");
    const uint32_t prog[] = {TS_I(SVC, 0, 0, 1), TS_J(HALT, 0)};
    test_support_poke(m, TS_CODE, prog, 2);
    return m;
}

Test(machine_invariants, a_raised_trap_needs_a_cause, .signal = SIGABRT, .init = quiet)
{
    machine_raise_trap(svc_then_halt(), CAUSE_NONE, 0, 0, TS_CODE);
}

Test(machine_invariants, a_raised_trap_needs_a_known_cause, .signal = SIGABRT, .init = quiet)
{
    machine_raise_trap(svc_then_halt(), CAUSE_COUNT, 0, 0, TS_CODE);
}

Test(machine_invariants, only_mem_traps_have_a_detail, .signal = SIGABRT, .init = quiet)
{
    machine_raise_trap(svc_then_halt(), CAUSE_SVC, MEMF_WRITE, 0, TS_CODE);
}

Test(machine_invariants, a_mem_detail_names_a_fault, .signal = SIGABRT, .init = quiet)
{
    machine_raise_trap(svc_then_halt(), CAUSE_MEM, MEMF_COUNT, 0, TS_CODE);
}

/* A monitor that performs a second trap of its own while machine_run runs
 * takes a step the run did not budget: machine_run's accounting catches it. */
static enum machine_verdict trap_again(void *ctx, struct machine *m, const struct machine_trap *t)
{
    bool *again = ctx;
    if (*again) {
        *again = false;
        machine_raise_trap(m, CAUSE_SVC, 0, 2, t->old_psw.pc);
    }
    return MACHINE_CONTINUE;
}

Test(machine_invariants, the_step_budget_is_exact, .signal = SIGABRT, .init = quiet)
{
    struct machine *m = svc_then_halt();
    bool again = true;
    machine_set_monitor(m, &(struct machine_monitor){&again, trap_again});
    machine_run(m, 1);
}

/* The same monitor without the second trap is fine, and so is a guest
 * raising every trap it can: the machine's own traps are always valid. */
Test(machine_invariants, legal_traps_do_not_abort)
{
    struct machine *m = svc_then_halt();
    bool again = false;
    machine_set_monitor(m, &(struct machine_monitor){&again, trap_again});
    cr_assert_eq(machine_run(m, 1), MACHINE_BUDGET);
    for (uint64_t seed = 1; seed <= 50; seed++) {
        struct machine *r = test_support_machine("pg");
        test_support_random_program(r, seed);
        machine_run(r, 2000);
        machine_destroy(r);
    }
    machine_destroy(m);
}
