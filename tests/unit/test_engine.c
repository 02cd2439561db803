/*
 * Units for the debugging engine (tui/engine.h): stepping, the trap log,
 * breakpoints, going back, and the views, on the bare machine, under the C
 * VMM and on stacks of monitors.
 *
 * The central properties: going back to time t gives exactly the state a
 * fresh session has after running forward to t (registers, PSW, memory,
 * console output, trap log), whatever was done in between; and a stop
 * shows each level as it is (running, waiting, suspended), never a state
 * half made by a monitor.
 *
 * Levels are numbered from the one on the real machine: bare L0 program;
 * --vmm te L0 C VMM, L1 guest; c,asm L0 C VMM, L1 asm VMM, L2 guest.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../../tui/commands.h"
#include "../../tui/engine.h"
#include "../../vmm/vmm.h"

static struct isa_variant pg(void)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", &v, err), "%s", err);
    return v;
}

/* A session over a program of programs/ (the tests run from the root) on
 * a stack of monitors ("bare", "c", "c,asm", "asm"), with a budget of the
 * program's steps (0: none) and a variant. */
static struct engine *open_on(const char *program, const char *spec, uint64_t max_steps,
                              const struct isa_variant *v)
{
    struct engine_config cfg = {0};
    char err[RUN_ERROR_SIZE];
    cr_assert(run_spec_parse(spec, &cfg.spec, err), "%s", err);
    cfg.program = program;
    cfg.variant = v;
    cfg.mem = 65536;
    cfg.max_steps = max_steps;
    struct engine *e = engine_open(&cfg, stderr);
    cr_assert_not_null(e, "engine_open %s on %s", program, spec);
    return e;
}

static struct engine *open_stack(const char *program, const char *spec)
{
    struct isa_variant v = pg();
    return open_on(program, spec, 0, &v);
}

static struct engine *open_session(const char *program, bool vmm, uint64_t max_steps)
{
    struct isa_variant v = pg();
    return open_on(program, vmm ? "c" : "bare", max_steps, &v);
}

static struct engine_result go(struct engine *e, enum engine_motion m, unsigned L)
{
    engine_begin(e, m, L);
    return engine_go(e, 0);
}

/* Runs forward exactly n units (a continue in a slice of n). */
static void run_for(struct engine *e, uint64_t n)
{
    engine_begin(e, ENGINE_CONTINUE, 0);
    struct engine_result r = engine_go(e, n);
    cr_assert_eq(r.units, n, "ran %llu of %llu units", (unsigned long long)r.units,
                 (unsigned long long)n);
}

/* Compares every part of the program's level that a student can see. */
static void assert_same(const struct engine *a, const struct engine *b, const char *what)
{
    unsigned L = engine_program_level(a);
    cr_assert_eq(engine_time(a), engine_time(b), "%s: time", what);
    cr_assert_eq(engine_guest_steps(a), engine_guest_steps(b), "%s: the program's steps", what);
    struct run_level_view x, y;
    engine_level(a, L, &x);
    engine_level(b, L, &y);
    cr_assert_eq(x.state, y.state, "%s: state", what);
    for (unsigned r = 0; r < ISA_NREGS; r++)
        cr_assert_eq(x.regs[r], y.regs[r], "%s: r%u 0x%x vs 0x%x", what, r, x.regs[r], y.regs[r]);
    cr_assert(memcmp(&x.psw, &y.psw, sizeof x.psw) == 0, "%s: PSW", what);
    for (uint32_t addr = 0; addr < x.memsize; addr++) {
        uint32_t u = 0, w = 0;
        engine_read_phys(a, L, addr, &u);
        engine_read_phys(b, L, addr, &w);
        cr_assert_eq(u, w, "%s: memory word 0x%x", what, addr);
    }
    size_t la, lb;
    const uint8_t *oa = engine_output(a, &la), *ob = engine_output(b, &lb);
    cr_assert_eq(la, lb, "%s: output length", what);
    cr_assert(la == 0 || memcmp(oa, ob, la) == 0, "%s: output", what);
    cr_assert_eq(engine_trap_total(a), engine_trap_total(b), "%s: trap log", what);
    for (uint64_t s = 1; s <= engine_trap_total(a); s++) {
        const struct run_event *p = engine_trap_get(a, s), *q = engine_trap_get(b, s);
        cr_assert(p && q && p->cause == q->cause && p->pc == q->pc && p->time == q->time &&
                      p->how == q->how && p->arose == q->arose && p->handler == q->handler,
                  "%s: trap %llu", what, (unsigned long long)s);
    }
}

static uint32_t symbol(const struct engine *e, const char *name)
{
    uint32_t v;
    cr_assert(engine_symbol(e, name, &v), "no symbol %s", name);
    return v;
}

static uint32_t pc_of(const struct engine *e)
{
    uint32_t pc;
    cr_assert(engine_pc(e, engine_program_level(e), &pc));
    return pc;
}

static struct run_level_view view(const struct engine *e, unsigned L)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    return v;
}

Test(engine, levels_bare_and_vmm)
{
    struct engine *e = open_session("programs/hello.s", false, 0);
    cr_assert_eq(engine_level_count(e), 1);
    struct run_level_view lv = view(e, 0);
    cr_assert_str_eq(lv.kind, "program");
    cr_assert_eq(lv.state, RUN_LEVEL_RUNNING);
    cr_assert(!lv.host_code && lv.has_real);
    cr_assert(memcmp(&lv.psw, &lv.real, sizeof lv.psw) == 0, "bare: the PSW is the real one");
    engine_close(e);

    e = open_session("programs/hello.s", true, 0);
    cr_assert_eq(engine_level_count(e), 2);
    cr_assert_eq(engine_running_level(e), 1);
    lv = view(e, 0);
    cr_assert_str_eq(lv.kind, "c");
    cr_assert(lv.host_code);
    cr_assert_eq(lv.state, RUN_LEVEL_WAITING, "the C VMM waits while its guest runs");
    cr_assert_eq(engine_code_level(e, 0), 1);
    lv = view(e, 1);
    cr_assert(lv.has_real, "a guest shows the real PSW beside its own");
    cr_assert(lv.psw.flags & PSW_M, "the guest starts in virtual supervisor mode");
    cr_assert(!(lv.real.flags & PSW_M), "... on a real machine in user mode");
    struct run_extent x[4];
    cr_assert_eq(engine_fmap(e, 1, false, x, 4), 1);
    cr_assert_eq(engine_fmap(e, 0, false, x, 4), 0, "L0 is on the real machine");
    engine_fmap(e, 1, false, x, 4);
    cr_assert_eq(x[0].from, 0);
    cr_assert_eq(x[0].words, 65536);
    uint32_t real;
    cr_assert(engine_to_real(e, 1, 5, &real));
    cr_assert_eq(real, x[0].to + 5);
    engine_close(e);
}

Test(engine, until_trap_bare_logs_the_hardware_trap)
{
    struct engine *e = open_session("programs/traps.s", false, 0);
    struct engine_result r = go(e, ENGINE_UNTIL_TRAP, 0);
    cr_assert_eq(r.outcome, ENGINE_TRAPPED);
    cr_assert_eq(engine_trap_total(e), 1);
    const struct run_event *t = engine_trap_get(e, 1);
    cr_assert_eq(t->cause, CAUSE_SVC);
    cr_assert_eq(t->how, RUN_HARDWARE);
    cr_assert_eq(t->arose, 0);
    cr_assert_eq(t->handler, 0);
    cr_assert(t->supervisor);
    cr_assert_eq(t->pc, symbol(e, "at_svc") + 1, "svc saves the next pc");
    cr_assert_eq(pc_of(e), symbol(e, "handler"));
    engine_close(e);
}

Test(engine, vmm_privileged_instruction_is_emulated_and_reversible)
{
    struct engine *e = open_session("programs/traps.s", true, 0);
    struct engine_result r = go(e, ENGINE_UNTIL_TRAP, 1);
    cr_assert_eq(r.outcome, ENGINE_TRAPPED);
    const struct run_event *t = engine_trap_get(e, 1);
    cr_assert_eq(t->cause, CAUSE_PRIV);
    cr_assert_eq(t->how, RUN_EMULATED);
    cr_assert_eq(t->arose, 1);
    cr_assert_eq(t->handler, 0);
    cr_assert(t->has_insn && isa_opcode_of(t->insn) == ISA_SRR);
    uint32_t at = t->pc;
    uint64_t now = engine_time(e);

    r = engine_reverse_step(e, 1);
    cr_assert_eq(r.outcome, ENGINE_DONE);
    cr_assert_eq(engine_time(e), now - 1);
    cr_assert_eq(pc_of(e), at, "back at the privileged instruction");
    cr_assert_eq(engine_trap_total(e), 0, "the trap is undone");

    r = go(e, ENGINE_STEP, 1);
    cr_assert_eq(r.outcome, ENGINE_DONE);
    cr_assert_eq(engine_trap_total(e), 1, "stepping it again traps again");
    cr_assert_eq(pc_of(e), at + 1);
    engine_close(e);
}

Test(engine, reverse_equals_fresh_run_bare)
{
    /* Past several snapshot intervals, so a later snapshot is restored. */
    struct engine *a = open_session("programs/paging.s", false, 0);
    run_for(a, 60000);
    for (int i = 0; i < 5; i++) cr_assert_eq(engine_reverse_step(a, 0).outcome, ENGINE_DONE);
    struct engine *b = open_session("programs/paging.s", false, 0);
    run_for(b, 59995);
    assert_same(a, b, "paging.s back 5 from 60000");
    engine_close(b);
    engine_close(a);
}

Test(engine, reverse_equals_fresh_run_vmm)
{
    struct engine *a = open_session("programs/traps.s", true, 0);
    run_for(a, 3000);
    go(a, ENGINE_UNTIL_TRAP, 1);
    go(a, ENGINE_STEP, 1);
    uint64_t t = engine_time(a);
    run_for(a, 500);
    cr_assert_eq(engine_reverse_step(a, 1).outcome, ENGINE_DONE);
    while (engine_time(a) > t) engine_reverse_step(a, 1);
    struct engine *b = open_session("programs/traps.s", true, 0);
    run_for(b, 3000);
    go(b, ENGINE_UNTIL_TRAP, 1);
    go(b, ENGINE_STEP, 1);
    assert_same(a, b, "traps.s under the C VMM");
    /* Replayed in the chunks first run, the host side comes out the same. */
    struct run_level_counts ka, kb;
    engine_level_counts(a, 0, &ka);
    engine_level_counts(b, 0, &kb);
    cr_assert_eq(ka.entries, kb.entries);
    cr_assert_eq(ka.emulated, kb.emulated);
    cr_assert_eq(ka.direct, kb.direct);
    engine_close(b);
    engine_close(a);
}

Test(engine, reverse_from_a_vmm_snapshot)
{
    /* paging.s pages, so the C VMM interprets it; 40000 units pass two
     * snapshots, the latest of which is restored. */
    struct engine *a = open_session("programs/paging.s", true, 0);
    run_for(a, 40000);
    for (int i = 0; i < 3; i++) cr_assert_eq(engine_reverse_step(a, 1).outcome, ENGINE_DONE);
    struct engine *b = open_session("programs/paging.s", true, 0);
    run_for(b, 39997);
    assert_same(a, b, "paging.s under the C VMM, back 3 from 40000");
    engine_close(b);
    engine_close(a);
}

Test(engine, reverse_undoes_console_output)
{
    struct engine *e = open_session("programs/hello.s", false, 0);
    struct engine_result r = go(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(r.outcome, ENGINE_EXITED);
    size_t all;
    engine_output(e, &all);
    cr_assert_gt(all, 0);
    cr_assert(engine_exited(e, NULL, NULL));
    engine_reverse_continue(e);
    size_t now;
    engine_output(e, &now);
    cr_assert_eq(now, 0, "back at the start, nothing was written");
    cr_assert_eq(engine_time(e), 0);
    cr_assert_not(engine_exited(e, NULL, NULL));
    engine_close(e);
}

Test(engine, next_runs_a_trap_through)
{
    struct engine *e = open_session("programs/traps.s", false, 0);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = 0};
    b.addr = symbol(e, "at_svc");
    unsigned id = engine_break_add(e, &b, NULL);
    cr_assert_neq(id, 0);
    struct engine_result r = go(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(r.outcome, ENGINE_BREAK);
    cr_assert_eq(r.breakpoint, id);
    cr_assert_eq(pc_of(e), b.addr);
    r = go(e, ENGINE_NEXT, 0);
    cr_assert_eq(r.outcome, ENGINE_DONE);
    cr_assert_eq(pc_of(e), b.addr + 1, "back from the handler, after the svc");
    cr_assert_eq(engine_trap_total(e), 1);
    cr_assert_gt(r.units, 20, "the handler ran");
    engine_close(e);
}

Test(engine, next_under_vmm_over_a_reflected_trap)
{
    struct engine *e = open_session("programs/traps.s", true, 0);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = 1};
    b.addr = symbol(e, "user_prog");
    engine_break_add(e, &b, NULL);
    cr_assert_eq(go(e, ENGINE_CONTINUE, 1).outcome, ENGINE_BREAK);
    cr_assert_eq(pc_of(e), 0, "user_prog runs relocated at virtual 0");
    uint64_t first = engine_trap_total(e) + 1;
    cr_assert_eq(go(e, ENGINE_NEXT, 1).outcome, ENGINE_DONE);
    const struct run_event *t = engine_trap_get(e, first);
    cr_assert_eq(t->cause, CAUSE_PRIV);
    cr_assert_eq(t->how, RUN_REFLECTED, "user-mode halt goes to the guest's kernel");
    cr_assert_eq(t->handler, 1, "... the guest's own handler");
    cr_assert_eq(t->first, 0, "... passed up by the C VMM");
    cr_assert_not(t->supervisor);
    cr_assert_eq(pc_of(e), 1, "the kernel skipped it");
    engine_close(e);
}

Test(engine, trap_breakpoints_and_reverse_continue)
{
    struct engine *e = open_session("programs/traps.s", false, 0);
    struct engine_break b = {.kind = ENGINE_BREAK_TRAP, .level = ENGINE_NO_LEVEL, .cause = CAUSE_DIV};
    unsigned id = engine_break_add(e, &b, NULL);
    unsigned dup;
    cr_assert_eq(engine_break_add(e, &b, &dup), 0, "no duplicates");
    cr_assert_eq(dup, id);
    struct engine_result r = go(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(r.outcome, ENGINE_BREAK);
    const struct run_event *t = engine_trap_get(e, engine_trap_total(e));
    cr_assert_eq(t->cause, CAUSE_DIV);
    uint64_t at = engine_time(e);
    cr_assert_eq(go(e, ENGINE_CONTINUE, 0).outcome, ENGINE_EXITED);
    r = engine_reverse_continue(e);
    cr_assert_eq(r.outcome, ENGINE_BREAK);
    cr_assert_eq(r.breakpoint, id);
    cr_assert_eq(engine_time(e), at, "back just after the DIV trap");
    r = engine_reverse_continue(e);
    cr_assert_eq(r.outcome, ENGINE_AT_START);
    cr_assert_eq(engine_time(e), 0);
    cr_assert(engine_break_delete(e, id));
    cr_assert_not(engine_break_delete(e, id));
    engine_close(e);
}

Test(engine, mode_breakpoint)
{
    struct engine *e = open_session("programs/traps.s", true, 0);
    struct engine_break b = {.kind = ENGINE_BREAK_MODE, .level = 1};
    engine_break_add(e, &b, NULL);
    cr_assert_eq(go(e, ENGINE_CONTINUE, 1).outcome, ENGINE_BREAK);
    struct run_level_view lv = view(e, 1);
    cr_assert_not(lv.psw.flags & PSW_M, "the first change is to user mode");
    cr_assert_eq(pc_of(e), 0);
    engine_close(e);
}

Test(engine, register_edits_are_journalled)
{
    struct engine *e = open_session("programs/hello.s", false, 0);
    run_for(e, 3);
    char err[160];
    cr_assert(engine_set_reg(e, 0, 9, 77, err, sizeof err));
    cr_assert_not(engine_set_reg(e, 0, 0, 1, err, sizeof err), "r0 cannot be set");
    run_for(e, 2);
    engine_reverse_step(e, 0);
    engine_reverse_step(e, 0);
    cr_assert_eq(engine_time(e), 3);
    cr_assert_eq(view(e, 0).regs[9], 77, "the edit made at time 3 is kept at time 3");
    engine_reverse_step(e, 0);
    cr_assert_eq(view(e, 0).regs[9], 0, "... and undone before it");
    engine_close(e);

    e = open_session("programs/hello.s", true, 0);
    cr_assert_not(engine_set_reg(e, 0, 3, 1, err, sizeof err), "the C VMM has no registers");
    cr_assert(engine_set_reg(e, 1, ENGINE_REG_PC, 0x20, err, sizeof err), "%s", err);
    cr_assert_eq(pc_of(e), 0x20);
    engine_close(e);
}

Test(engine, budget_stops_the_run)
{
    struct engine *e = open_session("programs/traps.s", false, 100);
    struct engine_result r = go(e, ENGINE_CONTINUE, 0);
    cr_assert_eq(r.outcome, ENGINE_BUDGET);
    cr_assert_eq(engine_time(e), 100);
    cr_assert_eq(go(e, ENGINE_STEP, 0).outcome, ENGINE_BUDGET);
    engine_close(e);
}

Test(engine, budget_counts_the_programs_steps_and_stops_where_it_runs)
{
    /* At depth 2 a step of the program costs many units; the budget is the
     * program's, and the stop comes where the program's state is whole. */
    struct isa_variant v = pg();
    struct engine *e = open_on("programs/traps.s", "c,asm", 400, &v);
    struct engine_result r = go(e, ENGINE_CONTINUE, 2);
    cr_assert_eq(r.outcome, ENGINE_BUDGET);
    cr_assert_eq(engine_guest_steps(e), 400);
    cr_assert_eq(view(e, 2).state, RUN_LEVEL_RUNNING);
    cr_assert_gt(engine_time(e), 400, "the monitors' instructions are units too");
    engine_close(e);
}

Test(engine, c_vmm_level_steps_to_its_next_action)
{
    struct engine *e = open_session("programs/traps.s", true, 0);
    struct engine_result r = go(e, ENGINE_STEP, 0);
    cr_assert_eq(r.outcome, ENGINE_DONE);
    cr_assert_eq(engine_trap_total(e), 1, "level 0 ran when it handled a trap");
    cr_assert_eq(engine_trap_get(e, 1)->handler, 0);
    uint64_t t = engine_time(e);
    r = engine_reverse_step(e, 0);
    cr_assert_eq(engine_time(e), t - 1, "back to just before that");
    cr_assert_eq(engine_trap_total(e), 0);
    engine_close(e);
}

Test(engine, sliced_motions_resume)
{
    struct engine *e = open_session("programs/traps.s", false, 0);
    engine_begin(e, ENGINE_CONTINUE, 0);
    struct engine_result r = engine_go(e, 1000);
    cr_assert_eq(r.outcome, ENGINE_RUNNING);
    cr_assert_eq(engine_time(e), 1000);
    while (r.outcome == ENGINE_RUNNING) r = engine_go(e, 1000);
    cr_assert_eq(r.outcome, ENGINE_EXITED);
    engine_close(e);
}

Test(engine, bad_program_is_an_error)
{
    struct isa_variant v = pg();
    struct engine_config cfg = {.program = "tests/no/such/file.s", .variant = &v, .mem = 4096};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_null(engine_open(&cfg, f));
    fclose(f);
    cr_assert_gt(len, 0, "a message was written");
    free(buf);
}

Test(engine, halted_level_shows_the_halt)
{
    struct engine *e = open_stack("programs/hello.s", "asm");
    cr_assert_eq(go(e, ENGINE_CONTINUE, 1).outcome, ENGINE_EXITED);
    for (unsigned L = 0; L < 2; L++) {
        struct run_level_view v = view(e, L);
        cr_assert_eq(v.state, RUN_LEVEL_STOPPED);
        cr_assert_eq(v.stop, MACHINE_HALT);
        uint32_t pc, pa, w;
        cr_assert(engine_pc(e, L, &pc));
        cr_assert_eq(pc, v.psw.pc - 1, "L%u: the halt, not the word after it", L);
        cr_assert(engine_translate(e, L, pc, &pa, NULL) && engine_read_phys(e, L, pa, &w));
        cr_assert_eq(isa_opcode_of(w), ISA_HALT, "L%u: the word there is a halt", L);
    }
    engine_close(e);
}

/* ---- Stacks of monitors ---------------------------------------------------------- */

Test(engine, stack_levels)
{
    struct engine *e = open_stack("programs/hello.s", "c,asm");
    cr_assert_eq(engine_level_count(e), 3);
    cr_assert_eq(engine_program_level(e), 2);
    cr_assert(view(e, 0).host_code);
    struct run_level_view lv = view(e, 1);
    cr_assert_str_eq(lv.kind, "asm");
    cr_assert_eq(lv.state, RUN_LEVEL_RUNNING, "the asm VMM starts first");
    cr_assert(!lv.host_code && lv.has_real);
    cr_assert_eq(engine_running_level(e), 1);
    cr_assert_eq(view(e, 2).state, RUN_LEVEL_NOT_STARTED, "the guest waits for its monitor to start it");
    cr_assert_str_eq(engine_label_at(e, 1, 0x10), "_start", "the asm VMM's own labels");
    struct run_extent x[2];
    cr_assert_eq(engine_fmap(e, 2, false, x, 2), 1);
    uint32_t guest_base = x[0].to; /* the asm VMM's GUEST_BASE, in machine 1 */
    cr_assert_gt(guest_base, 0, "the asm VMM's own memory comes first");
    cr_assert_eq(engine_fmap(e, 2, true, x, 2), 1);
    cr_assert_gt(x[0].to, guest_base, "composed through the C VMM's region");
    char err[160];
    cr_assert_not(engine_set_reg(e, 2, 9, 1, err, sizeof err), "not started: nothing to set yet");
    cr_assert_eq(go(e, ENGINE_STEP, 2).outcome, ENGINE_DONE, "to the guest's first instruction");
    cr_assert_eq(view(e, 2).state, RUN_LEVEL_RUNNING);
    cr_assert(engine_set_reg(e, 2, 9, 0x1234, err, sizeof err), "%s", err);
    cr_assert_eq(view(e, 2).regs[9], 0x1234, "the guest's register, through the stack");
    uint32_t pc = pc_of(e);
    cr_assert(engine_set_reg(e, 2, ENGINE_REG_PC, pc, err, sizeof err), "%s", err);
    cr_assert_not(engine_set_reg(e, 1, 9, 1, err, sizeof err), "the asm VMM waits: its registers are the guest's");
    engine_close(e);
}

Test(engine, stack_trap_story)
{
    /* A guest's privileged instruction: it arises at L2, is passed up by the
     * C VMM (L0) to the asm VMM (L1), which emulates it; the asm VMM's own
     * privileged instructions are emulated by L0; the stop comes where the
     * guest runs again. */
    struct engine *e = open_stack("programs/traps.s", "c,asm");
    const struct run_event *t = NULL;
    uint64_t seq = 0;
    for (int i = 0; i < 50 && !seq; i++) {
        struct engine_result r = go(e, ENGINE_UNTIL_TRAP, 2);
        cr_assert_eq(r.outcome, ENGINE_TRAPPED);
        for (uint64_t s = r.first_trap; s <= r.last_trap && !seq; s++)
            if (engine_trap_get(e, s)->arose == 2) seq = s;
    }
    cr_assert_neq(seq, 0, "a trap of the guest");
    t = engine_trap_get(e, seq);
    cr_assert_eq(t->cause, CAUSE_PRIV);
    cr_assert_eq(t->how, RUN_EMULATED);
    cr_assert_eq(t->handler, 1);
    cr_assert_eq(t->first, 0);
    bool below = false;
    for (uint64_t s = seq + 1; s <= engine_trap_total(e); s++) {
        const struct run_event *u = engine_trap_get(e, s);
        below |= u->arose == 1 && u->handler == 0 && u->how == RUN_EMULATED;
    }
    cr_assert(below, "the asm VMM's privileged instructions go to the C VMM");
    cr_assert_eq(engine_running_level(e), 2, "until-trap stops where the guest runs again");
    const uint32_t trap_pc = t->pc;
    /* Back to the guest's instruction, and through it again. */
    cr_assert_eq(engine_reverse_step(e, 2).outcome, ENGINE_DONE);
    cr_assert_eq(pc_of(e), trap_pc, "back at the privileged instruction");
    cr_assert_lt(engine_trap_total(e), seq, "its trap is undone");
    cr_assert_eq(go(e, ENGINE_STEP, 2).outcome, ENGINE_DONE);
    bool again = false;
    for (uint64_t s = 1; s <= engine_trap_total(e); s++) {
        const struct run_event *u = engine_trap_get(e, s);
        again |= u->arose == 2 && u->pc == trap_pc;
    }
    cr_assert(again, "the same trap, replayed");
    cr_assert_eq(pc_of(e), trap_pc + 1);
    engine_close(e);
}

Test(engine, stack_reverse_equals_fresh_run)
{
    struct engine *a = open_stack("programs/traps.s", "asm");
    run_for(a, 40000);
    for (int i = 0; i < 3; i++) cr_assert_eq(engine_reverse_step(a, 0).outcome, ENGINE_DONE);
    struct engine *b = open_stack("programs/traps.s", "asm");
    run_for(b, engine_time(a));
    assert_same(a, b, "traps.s on the asm VMM, back 3 steps of L0 from 40000");
    /* A step of the guest level is many units; going back one of them
     * lands where the guest ran. */
    go(a, ENGINE_STEP, 1);
    uint64_t t = engine_time(a);
    cr_assert_eq(engine_reverse_step(a, 1).outcome, ENGINE_DONE);
    cr_assert_lt(engine_time(a), t);
    cr_assert_eq(engine_running_level(a), 1);
    engine_close(b);
    engine_close(a);
}

Test(engine, suspended_levels_are_shown_as_before_their_trap)
{
    /* The example: stop at the guest's first user-mode trap under
     * c,asm: its registers are its own, not a stale copy in the asm VMM's
     * save area, and while a monitor handles its traps it is suspended. */
    struct engine *e = open_stack("programs/toyos/toyos.s", "c,asm");
    struct engine *bare = open_session("programs/toyos/toyos.s", false, 0);
    struct engine_break b = {.kind = ENGINE_BREAK_TRAP, .level = 2, .cause = CAUSE_SVC};
    engine_break_add(e, &b, NULL);
    cr_assert_eq(go(e, ENGINE_CONTINUE, 2).outcome, ENGINE_BREAK);
    cr_assert_eq(engine_running_level(e), 2, "stopped where the guest's handler begins");
    run_for(bare, engine_guest_steps(e));
    struct run_level_view g = view(e, 2), m = view(bare, 0);
    for (unsigned r = 0; r < ISA_NREGS; r++) cr_assert_eq(g.regs[r], m.regs[r], "r%u", r);
    cr_assert(memcmp(&g.psw, &m.psw, sizeof g.psw) == 0, "the PSW of the bare run");
    /* One unit on: the guest's next trap is being handled by the monitors. */
    bool seen = false;
    for (int i = 0; i < 20000 && !seen; i++) {
        run_for(e, 1);
        struct run_level_view v = view(e, 2);
        if (v.state != RUN_LEVEL_SUSPENDED) continue;
        seen = true;
        cr_assert_neq(v.running, 2);
        /* As just before its trap: the bare run at that many steps. */
        struct engine *ref = open_session("programs/toyos/toyos.s", false, 0);
        run_for(ref, v.as_of);
        struct run_level_view w = view(ref, 0);
        for (unsigned r = 0; r < ISA_NREGS; r++) cr_assert_eq(v.regs[r], w.regs[r], "suspended r%u", r);
        cr_assert(memcmp(&v.psw, &w.psw, sizeof v.psw) == 0, "suspended: the PSW before the trap");
        engine_close(ref);
    }
    cr_assert(seen, "the guest is suspended while a monitor handles its trap");
    engine_close(bare);
    engine_close(e);
}

Test(engine, mode_breakpoint_stops_with_the_whole_psw)
{
    /* An emulated lpsw changes the guest's mode; the stop comes where the
     * guest runs under its new PSW, never halfway through the emulation. */
    struct engine *e = open_stack("programs/traps.s", "asm,asm");
    struct engine_break b = {.kind = ENGINE_BREAK_MODE, .level = 2};
    engine_break_add(e, &b, NULL);
    cr_assert_eq(go(e, ENGINE_CONTINUE, 2).outcome, ENGINE_BREAK);
    struct run_level_view g = view(e, 2);
    cr_assert_eq(g.state, RUN_LEVEL_RUNNING);
    cr_assert_not(g.psw.flags & PSW_M);
    struct engine *bare = open_session("programs/traps.s", false, 0);
    run_for(bare, engine_guest_steps(e));
    struct run_level_view m = view(bare, 0);
    cr_assert(memcmp(&g.psw, &m.psw, sizeof g.psw) == 0, "pc, base and bound all new");
    engine_close(bare);
    engine_close(e);
}

Test(engine, a_monitor_that_cannot_host_the_variant_stalls_within_bounds)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_load("tests/variants/pg_lpsw_exec.var", &v, err), "%s", err);
    struct engine *e = open_on("programs/hello.s", "asm,asm", 0, &v);
    struct engine_result r = go(e, ENGINE_CONTINUE, 2);
    cr_assert(r.outcome == ENGINE_STALLED || r.outcome == ENGINE_EXITED,
              "the run ends (outcome %d)", r.outcome);
    engine_close(e);
}

/* ---- The command table ------------------------------------------------------------ */

static char *run_commands(struct engine *e, const char *const *lines, int *failures)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct cmd_ctx c;
    commands_init(&c, e, f);
    *failures = 0;
    for (size_t i = 0; lines[i]; i++) *failures += commands_execute(&c, lines[i]) != 0;
    fclose(f);
    return buf;
}

Test(commands, arity_aliases_prefixes)
{
    struct engine *e = open_session("programs/hello.s", false, 0);
    const char *const lines[] = {"s", "stepi 2", "cont", "rev", "reverse-s", "step 1 2", "info",
                                 "x/4 _start", "bogus", "# comment", "", NULL};
    int failures;
    char *out = run_commands(e, lines, &failures);
    cr_assert_eq(failures, 4, "rev (ambiguous), step 1 2, info, bogus: %s", out);
    cr_assert(strstr(out, "'rev' is ambiguous"));
    cr_assert(strstr(out, "error: step takes at most 1 operand"));
    cr_assert(strstr(out, "error: info takes at least 1 operand"));
    cr_assert(strstr(out, "the program halted, status 0"));
    cr_assert(strstr(out, "0x000010 <_start>: 0x"));
    free(out);
    engine_close(e);
}

Test(commands, help_is_generated_from_the_table)
{
    size_t n;
    const struct cmd_spec *t = commands_table(&n);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(commands_help(f, NULL));
    cr_assert_not(commands_help(f, "nosuch"));
    fclose(f);
    for (size_t i = 0; i < n; i++) cr_assert(strstr(buf, t[i].name), "help lacks %s", t[i].name);
    free(buf);
}

static void count_word(void *ctx, const char *word)
{
    (void)word;
    (*(int *)ctx)++;
}

Test(commands, completion)
{
    struct engine *e = open_session("programs/traps.s", false, 0);
    struct cmd_ctx c;
    commands_init(&c, e, stderr);
    int n = 0;
    commands_complete(&c, 0, NULL, "rev", count_word, &n);
    cr_assert_eq(n, 3, "reverse-step, reverse-next and reverse-continue");
    n = 0;
    commands_complete(&c, 1, "info", "re", count_word, &n);
    cr_assert_eq(n, 2, "info regs and gdb's info registers");
    n = 0;
    commands_complete(&c, 1, "break", "at_", count_word, &n);
    cr_assert_geq(n, 8, "labels at_svc, at_hcall, ...");
    engine_close(e);
}

/* ---- Page tables ----------------------------------------------------------------------------- */

/* Runs the session until the program runs paged on a table at a base other
 * than `not_base` with its real table walked (break mode stops at each
 * change of the program's mode; one step more and the shadow is built). */
static uint32_t engine_to_process(struct engine *e, uint32_t not_base)
{
    const unsigned L = engine_program_level(e);
    for (int i = 0; i < 40; i++) {
        engine_begin(e, ENGINE_STEP, L);
        cr_assert_eq(engine_go(e, 0).outcome, ENGINE_DONE);
        struct run_page_table t[RUN_MAX_PAGE_TABLES];
        const unsigned n = engine_page_tables(e, L, t, RUN_MAX_PAGE_TABLES);
        if (n && t[0].base != not_base && t[n - 1].walker == RUN_WALK_HARDWARE && !t[n - 1].stale)
            return t[0].base;
        engine_begin(e, ENGINE_CONTINUE, L);
        cr_assert_eq(engine_go(e, 0).outcome, ENGINE_BREAK);
    }
    cr_assert_fail("no process ran paged");
    return 0;
}

Test(engine, page_tables_show_the_asm_vmms_rebuild_until_going_back)
{
    struct isa_variant v = pg();
    struct engine *e = open_on("programs/toyos/toyos_paged.s", "asm", 0, &v);
    const struct engine_break b = {.kind = ENGINE_BREAK_MODE, .level = 1};
    cr_assert_neq(engine_break_add(e, &b, NULL), 0);
    const uint32_t first = engine_to_process(e, 0);
    engine_to_process(e, first);
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    cr_assert_eq(engine_page_tables(e, 1, t, RUN_MAX_PAGE_TABLES), 2);
    cr_assert_eq(t[1].kind, RUN_TABLE_ASM_SHADOW);
    cr_assert(t[1].change.known, "the SHADOW was rebuilt for the second process");
    cr_assert_eq(t[1].change.reason, VMM_SHADOW_BY_REBUILD);
    uint32_t pte;
    cr_assert(engine_page_entry(e, &t[1], t[1].change.vpn, &pte));
    struct run_chain ch;
    cr_assert(engine_translate_chain(e, 1, 0x10, &ch));
    cr_assert(ch.ok && ch.has_shortcut && ch.shortcut.to == ch.real);

    /* Going back: what was found later is not so any more. */
    cr_assert_eq(engine_reverse_step(e, 1).outcome, ENGINE_DONE);
    cr_assert_eq(engine_page_tables(e, 1, t, RUN_MAX_PAGE_TABLES), 2);
    cr_assert_not(t[1].change.known);
    cr_assert_eq(engine_page_tables(e, 7, t, RUN_MAX_PAGE_TABLES), 0, "no level 7");
    cr_assert_not(engine_translate_chain(e, 7, 0, &ch));
    engine_close(e);
}
