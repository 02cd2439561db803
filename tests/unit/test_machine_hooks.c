/*
 * test_machine_hooks.c: the monitor and the observer, clone and restore,
 * independence of machines, and the exactness of machine_run's budget.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

/* ---- Monitor ------------------------------------------------------------- */

struct mon {
    int calls;
    struct machine_trap trap;
    struct psw psw_at_call;
    uint32_t trap_area_at_call[16];
    bool stop;
};

/* Emulates a trivial VMM: skips the trapping instruction (or resumes after
 * an interrupt or svc) in the same PSW with interrupts off. */
static enum machine_verdict mon_on_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct mon *s = ctx;
    s->calls++;
    s->trap = *t;
    s->psw_at_call = machine_psw(m);
    memcpy(s->trap_area_at_call, machine_memory(m), sizeof s->trap_area_at_call);
    struct psw p = t->old_psw;
    if (t->cause != CAUSE_SVC && t->cause != CAUSE_HCALL && t->cause != CAUSE_TIMER &&
        t->cause != CAUSE_IO)
        p.pc++;
    p.flags &= ~PSW_IE;
    machine_set_psw(m, &p);
    return s->stop ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

Test(machine_hooks, monitor_receives_traps_instead_of_the_trap_area)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    for (int i = 0; i < 16; i++) e[i] = 0xa0 + (uint32_t)i;
    uint32_t area[16];
    memcpy(area, e, sizeof area);
    struct mon s = {0};
    struct machine_monitor mon = {&s, mon_on_trap};
    machine_set_monitor(m, &mon);
    static const uint32_t prog[] = {
        TS_I(ADDI, 1, 0, 1), TS_I(STMR, 1, 0, 0), TS_I(ADDI, 1, 1, 1), TS_I(LD, 2, 0, 0x3000),
        TS_I(ADDI, 1, 1, 1), TS_J(HALT, 0),
    };
    test_support_poke(m, 0x4000 + 0x10, prog, 6);
    test_support_set_psw(m, PSW_IE, 0x10, 0x4000, 0x100, 3);

    cr_assert_eq(machine_step(m), MACHINE_BUDGET); /* addi */
    cr_assert_eq(machine_step(m), MACHINE_BUDGET); /* stmr: PRIV */
    cr_assert_eq(s.calls, 1);
    cr_assert_eq(s.trap.cause, CAUSE_PRIV);
    cr_assert_eq(s.trap.value, prog[1]);
    struct psw old = {PSW_IE, 0x11, 0x4000, 0x100, 2};
    cr_assert(memcmp(&s.trap.old_psw, &old, sizeof old) == 0);
    cr_assert(memcmp(&s.psw_at_call, &old, sizeof old) == 0, "PSW at the call = the old PSW");
    cr_assert_eq(s.trap.step, 1);
    cr_assert(memcmp(s.trap_area_at_call, area, sizeof area) == 0);
    cr_assert_eq(machine_psw(m).pc, 0x12);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_PRIV], 1);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_PRIV);

    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET); /* addi, ld: MEM */
    cr_assert_eq(s.calls, 2);
    cr_assert_eq(s.trap.cause, CAUSE_MEM);
    cr_assert_eq(s.trap.detail, MEMF_BOUND);
    cr_assert_eq(s.trap.value, 0x3000);

    /* the monitor may stop the run after its trap */
    s.stop = true;
    test_support_set_psw(m, PSW_IE | PSW_TP, 0x14, 0x4000, 0x100, 0);
    cr_assert_eq(machine_run(m, 100), MACHINE_STOPPED);
    cr_assert_eq(s.calls, 3);
    cr_assert_eq(s.trap.cause, CAUSE_TIMER);
    cr_assert_eq(s.psw_at_call.flags, PSW_IE, "TIMER: the PSW at the call has TP = 0");
    cr_assert_eq(machine_steps(m), 5);
    s.stop = false;
    cr_assert_eq(machine_psw(m).pc, 0x14);
    test_support_set_psw(m, PSW_M, 0x14, 0x4000, 0x100, 0); /* so that halt halts */
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT, "the next run goes on");
    cr_assert_eq(machine_reg(m, 1), 3);
    cr_assert(memcmp(e, area, sizeof area) == 0, "trap area untouched");

    /* unset: traps go through the trap area again */
    machine_set_monitor(m, NULL);
    machine_reset(m, TS_CODE);
    e[TS_CODE] = TS_I(SVC, 0, 0, 1);
    struct psw h = {PSW_M, TS_HANDLER, 0, TS_MEM, 0};
    test_support_set_new_psw(m, &h);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(e[TRAP_CAUSE], CAUSE_SVC);
    cr_assert_eq(s.calls, 3);
    machine_destroy(m);
}

/* With a monitor, an all-zero trap area is no unhandled trap. */
Test(machine_hooks, monitor_makes_no_machine_check)
{
    struct machine *m = test_support_machine("pg");
    memset(machine_memory(m), 0, 16 * sizeof(uint32_t));
    struct mon s = {0};
    struct machine_monitor mon = {&s, mon_on_trap};
    machine_set_monitor(m, &mon);
    machine_memory(m)[TS_CODE] = TS_I(SVC, 0, 0, 0);
    cr_assert_eq(machine_run(m, 1), MACHINE_BUDGET);
    cr_assert_eq(machine_state(m), MACHINE_BUDGET);
    cr_assert_eq(s.calls, 1);
    machine_destroy(m);
}

/* ---- Observer ------------------------------------------------------------ */

struct obs {
    int insns, traps;
    uint32_t pcs[64], words[64];
    bool pc_matches;
    uint64_t stop_at_insn; /* stop before the insn with this count (1-based); 0: never */
    enum isa_cause stop_on_trap;
    struct machine_trap last;
    uint32_t e5_at_trap;
};

static enum machine_verdict obs_before(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    struct obs *o = ctx;
    if (machine_psw(m).pc != pc) o->pc_matches = false;
    if (o->stop_at_insn && (uint64_t)o->insns + 1 == o->stop_at_insn) {
        o->stop_at_insn = 0;
        return MACHINE_STOP_RUN;
    }
    if (o->insns < 64) o->pcs[o->insns] = pc, o->words[o->insns] = insn;
    o->insns++;
    return MACHINE_CONTINUE;
}

static enum machine_verdict obs_after(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct obs *o = ctx;
    o->traps++;
    o->last = *t;
    o->e5_at_trap = machine_memory(m)[TRAP_CAUSE];
    return t->cause == o->stop_on_trap ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

static const uint32_t obs_prog[] = {
    TS_I(ADDI, 1, 0, 1), TS_I(BEQ, 0, 0, 1), TS_I(ADDI, 1, 0, 99), TS_I(SVC, 0, 0, 7),
    TS_I(ADDI, 2, 0, 2), TS_J(HALT, 0),
};

static struct machine *obs_machine(void)
{
    struct machine *m = test_support_machine("pg");
    test_support_poke(m, TS_CODE, obs_prog, 6);
    /* svc handler: lpsw 0 (returns after the svc) */
    machine_memory(m)[TS_HANDLER] = TS_I(LPSW, 0, 0, 0);
    return m;
}

Test(machine_hooks, observer_sees_every_instruction)
{
    struct machine *m = obs_machine();
    struct obs o = {.pc_matches = true};
    struct machine_observer ob = {&o, obs_before, obs_after};
    machine_set_observer(m, &ob);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    static const uint32_t pcs[] = {TS_CODE, TS_CODE + 1, TS_CODE + 3, TS_HANDLER, TS_CODE + 4,
                                   TS_CODE + 5};
    cr_assert_eq(o.insns, 6);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(o.pcs[i], pcs[i], "insn %d at 0x%x", i, o.pcs[i]);
        cr_assert_eq(o.words[i], machine_memory(m)[pcs[i]]);
    }
    cr_assert(o.pc_matches, "the machine's pc is the instruction's when observed");
    cr_assert_eq(o.traps, 1);
    cr_assert_eq(o.last.cause, CAUSE_SVC);
    cr_assert_eq(o.e5_at_trap, CAUSE_SVC, "after_trap runs after delivery");
    cr_assert_eq(machine_reg(m, 2), 2);
    machine_destroy(m);
}

Test(machine_hooks, observer_stops_before_an_instruction)
{
    struct machine *m = obs_machine();
    struct obs o = {.pc_matches = true, .stop_at_insn = 3};
    struct machine_observer ob = {&o, obs_before, NULL};
    machine_set_observer(m, &ob);
    cr_assert_eq(machine_run(m, 1000), MACHINE_STOPPED);
    cr_assert_eq(machine_psw(m).pc, TS_CODE + 3, "stopped before the svc");
    cr_assert_eq(machine_steps(m), 2);
    cr_assert_null(machine_last_trap(m), "the svc did not run");
    cr_assert_eq(machine_state(m), MACHINE_BUDGET);
    /* the next run resumes at that instruction */
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 2), 2);
    cr_assert_eq(o.insns, 6);
    machine_destroy(m);
}

/* An observer may change the machine before letting the instruction run:
 * the run goes on from the state it left (here: a jump elsewhere). */
static enum machine_verdict obs_redirect(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    (void)insn;
    int *calls = ctx;
    if ((*calls)++ == 0) {
        struct psw p = machine_psw(m);
        p.pc = pc + 3;
        machine_set_psw(m, &p);
        machine_set_reg(m, 7, 77);
    }
    return MACHINE_CONTINUE;
}

Test(machine_hooks, observer_may_change_state)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(ADDI, 1, 0, 1), TS_I(ADDI, 2, 0, 2), TS_I(ADDI, 3, 0, 3),
                                    TS_I(ADDI, 4, 7, 4), TS_J(HALT, 0)};
    test_support_poke(m, TS_CODE, prog, 5);
    int calls = 0;
    struct machine_observer ob = {&calls, obs_redirect, NULL};
    machine_set_observer(m, &ob);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 1), 0, "the first instruction was skipped");
    cr_assert_eq(machine_reg(m, 4), 81);
    cr_assert_eq(machine_stats(m)->retired, 2);
    machine_destroy(m);
}

/* The observer is not called for an instruction whose fetch faults. */
Test(machine_hooks, observer_not_called_on_fetch_fault)
{
    struct machine *m = test_support_machine("pg");
    struct obs o = {.pc_matches = true};
    struct machine_observer ob = {&o, obs_before, obs_after};
    machine_set_observer(m, &ob);
    test_support_set_psw(m, PSW_M, 0x50, 0, 0x50, 0);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(o.insns, 0);
    cr_assert_eq(o.traps, 1);
    cr_assert_eq(o.last.cause, CAUSE_MEM);
    machine_destroy(m);
}

Test(machine_hooks, after_trap_stops_the_run)
{
    struct machine *m = obs_machine();
    struct obs o = {.pc_matches = true, .stop_on_trap = CAUSE_SVC};
    struct machine_observer ob = {&o, NULL, obs_after};
    machine_set_observer(m, &ob);
    cr_assert_eq(machine_run(m, 1000), MACHINE_STOPPED);
    cr_assert_eq(machine_psw(m).pc, TS_HANDLER, "stopped after the trap was delivered");
    cr_assert_eq(machine_steps(m), 3);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    machine_destroy(m);
}

/* An after_trap stop on a machine check: the run says STOPPED, the machine
 * stays checked. */
Test(machine_hooks, after_trap_stop_on_machine_check)
{
    struct machine *m = test_support_machine("pg");
    struct psw bad = {PSW_M, 5, 0, 5, 0};
    test_support_set_new_psw(m, &bad);
    machine_memory(m)[TS_CODE] = TS_I(SVC, 0, 0, 0);
    struct obs o = {.pc_matches = true, .stop_on_trap = CAUSE_SVC};
    struct machine_observer ob = {&o, NULL, obs_after};
    machine_set_observer(m, &ob);
    cr_assert_eq(machine_run(m, 10), MACHINE_STOPPED);
    cr_assert_eq(machine_state(m), MACHINE_CHECK);
    cr_assert_eq(machine_run(m, 10), MACHINE_CHECK);
    machine_destroy(m);
}

/* ---- Clone, restore, independence ------------------------------------------ */

static struct machine *busy_machine(uint64_t seed, const char *variant)
{
    struct machine *m = test_support_machine(variant);
    test_support_random_program(m, seed);
    return m;
}

static void assert_same(const struct machine *a, const struct machine *b, const char *what)
{
    char why[256];
    cr_assert(test_support_same_state(a, b, why, sizeof why), "%s: %s", what, why);
}

Test(machine_hooks, clone_runs_identically)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct machine *m = busy_machine(seed, "pg");
        machine_run(m, 777);
        struct machine *c = machine_clone(m);
        cr_assert_not_null(c);
        assert_same(m, c, "fresh clone");
        enum machine_stop sm = machine_run(m, 5000), sc = machine_run(c, 5000);
        cr_assert_eq(sm, sc);
        assert_same(m, c, "after running both");
        /* their memories are separate */
        machine_memory(c)[0x7000] ^= 1;
        cr_assert_neq(machine_memory(m)[0x7000], machine_memory(c)[0x7000]);
        machine_destroy(c);
        machine_destroy(m);
    }
}

Test(machine_hooks, clone_of_borrowed_memory_owns_its_own)
{
    uint32_t *mem = calloc(TS_MEM, sizeof *mem);
    struct isa_variant v = test_support_variant("pg");
    struct machine *m = machine_create_on(mem, TS_MEM, &v);
    cr_assert_not_null(m);
    cr_assert_eq(machine_memory(m), mem);
    mem[TS_CODE] = TS_I(ADDI, 1, 0, 5);
    struct machine *c = machine_clone(m);
    cr_assert_neq(machine_memory(c), mem);
    machine_destroy(m);
    mem[TS_CODE] = 0; /* m is gone; the clone has its own copy */
    machine_reset(c, TS_CODE);
    cr_assert_eq(machine_step(c), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(c, 1), 5);
    machine_destroy(c);
    free(mem);
}

Test(machine_hooks, restore_replays_identically)
{
    for (uint64_t seed = 10; seed <= 14; seed++) {
        struct machine *m = busy_machine(seed, "x86like");
        machine_run(m, 300);
        struct machine *snap = machine_clone(m);
        machine_run(m, 4000);
        struct machine *first = machine_clone(m);
        cr_assert(machine_restore(m, snap));
        assert_same(m, snap, "restored");
        machine_run(m, 4000);
        assert_same(m, first, "replayed");
        machine_destroy(first);
        machine_destroy(snap);
        machine_destroy(m);
    }
    struct isa_variant v = test_support_variant("pg");
    struct machine *a = machine_create(TS_MEM, &v), *b = machine_create(TS_MEM * 2, &v);
    cr_assert_not(machine_restore(a, b), "sizes differ");
    machine_destroy(a);
    machine_destroy(b);
}

/* restore copies the stopped state too */
Test(machine_hooks, restore_keeps_halt)
{
    struct machine *m = test_support_machine("pg");
    machine_memory(m)[TS_CODE] = TS_J(HALT, 0);
    struct machine *snap = machine_clone(m);
    cr_assert_eq(machine_run(m, 5), MACHINE_HALT);
    struct machine *halted = machine_clone(m);
    cr_assert(machine_restore(m, snap));
    cr_assert_eq(machine_state(m), MACHINE_BUDGET);
    cr_assert(machine_restore(m, halted));
    cr_assert_eq(machine_run(m, 5), MACHINE_HALT);
    cr_assert_eq(machine_steps(m), 1);
    machine_destroy(halted);
    machine_destroy(snap);
    machine_destroy(m);
}

Test(machine_hooks, two_machines_are_independent)
{
    struct machine *a = busy_machine(21, "pg"), *b = busy_machine(22, "hybrid");
    struct machine *a_alone = busy_machine(21, "pg"), *b_alone = busy_machine(22, "hybrid");
    machine_run(a_alone, 6000);
    machine_run(b_alone, 6000);
    for (int i = 0; i < 60; i++) {
        machine_run(a, 100);
        machine_run(b, 100);
    }
    assert_same(a, a_alone, "a interleaved");
    assert_same(b, b_alone, "b interleaved");
    machine_destroy(a);
    machine_destroy(b);
    machine_destroy(a_alone);
    machine_destroy(b_alone);
}

/* ---- Budget ---------------------------------------------------------------- */

/* machine_run(m, k) takes exactly k steps (instructions, traps and
 * interrupts) unless the machine stops. */
Test(machine_hooks, budget_is_exact)
{
    for (uint64_t seed = 30; seed < 40; seed++) {
        struct machine *m = busy_machine(seed, seed % 2 ? "pg" : "x86like");
        uint64_t x = seed;
        for (int i = 0; i < 200; i++) {
            uint64_t k = test_support_rand(&x) % 50;
            uint64_t before = machine_steps(m);
            enum machine_stop s = machine_run(m, k);
            if (s != MACHINE_BUDGET) break;
            cr_assert_eq(machine_steps(m) - before, k, "seed %llu: run(%llu) took %llu steps",
                         (unsigned long long)seed, (unsigned long long)k,
                         (unsigned long long)(machine_steps(m) - before));
        }
        machine_destroy(m);
    }
    struct machine *m = test_support_machine("pg");
    cr_assert_eq(machine_run(m, 0), MACHINE_BUDGET);
    cr_assert_eq(machine_steps(m), 0);
    machine_destroy(m);
}

Test(machine_hooks, interrupts_are_steps)
{
    struct machine *m = test_support_machine("pg");
    test_support_set_psw(m, PSW_M | PSW_IE | PSW_TP, TS_CODE, 0, TS_MEM, 0);
    cr_assert_eq(machine_run(m, 1), MACHINE_BUDGET);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_TIMER], 1);
    cr_assert_eq(machine_stats(m)->retired, 0);
    cr_assert_eq(machine_psw(m).pc, TS_HANDLER, "the handler's halt has not run");
    machine_destroy(m);
}

/* ---- Life cycle ------------------------------------------------------------ */

Test(machine_hooks, create_and_reset)
{
    struct isa_variant v = test_support_variant("hybrid");
    cr_assert_null(machine_create(15, &v));
    struct machine *m = machine_create(16, &v);
    cr_assert_not_null(m);
    cr_assert_eq(machine_memsize(m), 16);
    struct psw p = machine_psw(m);
    cr_assert_eq(p.flags, PSW_M);
    cr_assert_eq(p.pc, ISA_DEFAULT_ENTRY);
    cr_assert_eq(p.base, 0);
    cr_assert_eq(p.bound, 16);
    cr_assert_eq(p.timer, 0);
    cr_assert_str_eq(machine_variant(m)->name, "hybrid");
    for (unsigned r = 0; r < ISA_NREGS; r++) cr_assert_eq(machine_reg(m, r), 0);
    machine_set_reg(m, 0, 5);
    cr_assert_eq(machine_reg(m, 0), 0, "r0 stays 0");
    cr_assert_eq(machine_reg(m, 99), 0);
    struct psw q = {0xfffffff0u | PSW_IE, 1, 2, 3, 4};
    machine_set_psw(m, &q);
    cr_assert_eq(machine_psw(m).flags, PSW_IE, "flags are masked");
    machine_set_reg(m, 3, 7);
    machine_reset(m, 0x20);
    cr_assert_eq(machine_reg(m, 3), 0);
    cr_assert_eq(machine_psw(m).pc, 0x20);
    cr_assert_eq(machine_psw(m).flags, PSW_M);
    machine_destroy(m);
    machine_destroy(NULL);
    cr_assert_str_eq(machine_stop_name(MACHINE_HALT), "halt");
    cr_assert_str_eq(machine_stop_name(MACHINE_CHECK), "machine-check");
    cr_assert_str_eq(machine_stop_name(MACHINE_UNHANDLED_TRAP), "unhandled-trap");
    cr_assert_str_eq(machine_stop_name(MACHINE_BUDGET), "budget");
    cr_assert_str_eq(machine_stop_name(MACHINE_STOPPED), "stopped");
}

/* A 16-word machine: the smallest; everything past the trap area faults. */
Test(machine_hooks, smallest_machine)
{
    struct isa_variant v = test_support_variant("pg");
    struct machine *m = machine_create(16, &v);
    cr_assert_eq(machine_run(m, 10), MACHINE_UNHANDLED_TRAP);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_MEM);
    cr_assert_eq(machine_last_trap(m)->detail, MEMF_BOUND);
    machine_destroy(m);
}
