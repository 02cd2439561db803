/*
 * test_run_levels.c: what a run shows of each level (run_level_view, and
 * run_level_state the same state alone), and setting registers where a
 * level's code will see them (run_set_reg).
 *
 * Views are checked unit by unit against a bare run of the program,
 * recorded step by step (tr_trace_bare): whenever the program runs, its
 * registers and PSW are the bare machine's after as many program steps;
 * whenever it is suspended (a monitor below handles its trap), they are as
 * just before that trap, the PSW the bare machine's trap saved (or, for an
 * instruction a monitor emulates, the PSW before it).  Exactly one level
 * runs at any time, and every level below it waits.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

static bool same_psw(const struct psw *a, const struct psw *b)
{
    return a->flags == b->flags && a->pc == b->pc && a->base == b->base && a->bound == b->bound &&
           a->timer == b->timer;
}

static void assert_psw(const struct psw *got, const struct psw *want, const char *what)
{
    cr_assert(same_psw(got, want), "%s: psw {%x %x %x %x %x}, expected {%x %x %x %x %x}", what,
              got->flags, got->pc, got->base, got->bound, got->timer, want->flags, want->pc,
              want->base, want->bound, want->timer);
}

static void assert_regs(const uint32_t *got, const uint32_t *want, const char *what)
{
    for (unsigned reg = 0; reg < ISA_NREGS; reg++)
        cr_assert_eq(got[reg], want[reg], "%s: r%u 0x%x, expected 0x%x", what, reg, got[reg], want[reg]);
}

/* ---- At time 0 -------------------------------------------------------------------------- */

Test(run_levels, at_time_0_the_bottom_runs_and_the_program_waits_to_start)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const struct psw reset = {PSW_M, img.entry, 0, MEM, 0};
    const uint32_t zero[ISA_NREGS] = {0};

    struct run *r = tr_run("asm", "pg", &img, MEM);
    const struct asm_image *vmm = run_asm_image(r);
    struct run_level_view v;
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.level, 1);
    cr_assert_str_eq(v.kind, "guest");
    cr_assert_eq(v.state, RUN_LEVEL_NOT_STARTED);
    cr_assert_eq(v.running, 0);
    cr_assert_not(v.host_code);
    cr_assert_not(v.has_real);
    assert_psw(&v.psw, &reset, "the program, not started");
    assert_regs(v.regs, zero, "the program, not started");
    cr_assert_eq(v.steps, 0);
    cr_assert_eq(v.memsize, MEM);
    run_level_view(r, 0, 0, &v);
    cr_assert_str_eq(v.kind, "asm");
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    cr_assert_eq(run_running_level(r, 0), 0);
    cr_assert(v.has_real);
    const struct psw vmm_reset = {PSW_M, vmm->entry, 0, (uint32_t)v.memsize, 0};
    assert_psw(&v.psw, &vmm_reset, "L0 at reset");
    assert_psw(&v.real, &vmm_reset, "L0's real PSW at reset");
    run_destroy(r);

    r = tr_run("c,asm", "pg", &img, MEM);
    run_level_view(r, 0, 0, &v);
    cr_assert_str_eq(v.kind, "c");
    cr_assert(v.host_code);
    cr_assert_neq(v.state, RUN_LEVEL_RUNNING, "the C VMM's code is never the running level");
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    cr_assert_eq(run_running_level(r, 0), 1);
    assert_psw(&v.psw, &vmm_reset, "L1 asm at reset");
    run_level_view(r, 0, 2, &v);
    cr_assert_eq(v.state, RUN_LEVEL_NOT_STARTED);
    assert_psw(&v.psw, &reset, "the program under c,asm");
    run_destroy(r);

    r = tr_run("bare", "pg", &img, MEM);
    run_level_view(r, 0, 0, &v);
    cr_assert_str_eq(v.kind, "program");
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    assert_psw(&v.psw, &reset, "bare");
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- Unit by unit ----------------------------------------------------------------------- */

struct walk_stats {
    uint64_t running[RUN_MAX_LEVELS], suspended[RUN_MAX_LEVELS];
};

/* Checks every level's view of column 0 against the bare trace. */
static void check_views(const struct run *r, const struct tr_trace *t, const char *what,
                        struct walk_stats *st)
{
    const unsigned n = run_program_level(r), running = run_running_level(r, 0);
    const struct run_spec *spec = run_spec_of(r);
    char where[160];
    unsigned nrunning = 0;
    struct run_guest_state g;
    run_guest_state(r, 0, &g);
    for (unsigned L = 0; L <= n; L++) {
        struct run_level_view v;
        run_level_view(r, 0, L, &v);
        snprintf(where, sizeof where, "%s, time %" PRIu64 ", L%u %s (L%u runs)", what, run_time(r), L,
                 run_level_state_name(v.state), running);
        cr_assert_eq(v.level, L, "%s", where);
        cr_assert_eq(run_level_state(r, 0, L), v.state, "%s: its state alone is its view's", where);
        cr_assert_eq(v.running, running, "%s", where);
        cr_assert_eq(v.host_code, L < spec->n && spec->kind[L] == RUN_MONITOR_C, "%s", where);
        if (L == running) {
            const struct psw live = run_running_psw(r, 0);
            assert_psw(&live, &v.psw, where);
        }
        if (v.state == RUN_LEVEL_RUNNING) {
            nrunning++;
            st->running[L]++;
            cr_assert_eq(L, running, "%s", where);
            cr_assert_not(v.host_code, "%s", where);
            cr_assert(v.has_real, "%s", where);
            /* an asm monitor's code runs in its handler, in (virtual)
             * supervisor mode; on the real machine only L0 is supervisor */
            if (L < n) cr_assert(v.psw.flags & PSW_M, "%s: a monitor runs in supervisor mode", where);
            if (L > 0) cr_assert_eq(v.real.flags & PSW_M, 0, "%s: really in user mode", where);
        }
        if (L < running) {
            cr_assert(v.state == RUN_LEVEL_WAITING, "%s: below the running level", where);
            cr_assert_not(v.has_real, "%s", where);
        }
        if (L > running)
            cr_assert(v.state == RUN_LEVEL_WAITING || v.state == RUN_LEVEL_SUSPENDED ||
                          v.state == RUN_LEVEL_NOT_STARTED,
                      "%s: above the running level", where);
        if (v.state == RUN_LEVEL_SUSPENDED) {
            st->suspended[L]++;
            cr_assert_leq(v.as_of, v.steps, "%s", where);
        }
        if (L != n) continue;

        /* The program, against the bare run. */
        cr_assert_eq(v.steps, g.steps, "%s", where);
        cr_assert_leq(g.steps, t->n, "%s: the trace is long enough", where);
        const struct tr_step *at = &t->at[g.steps];
        switch (v.state) {
        case RUN_LEVEL_RUNNING:
            assert_regs(v.regs, at->regs, where);
            assert_psw(&v.psw, &at->psw, where);
            assert_regs(g.regs, at->regs, where);
            assert_psw(&g.psw, &at->psw, where);
            break;
        case RUN_LEVEL_SUSPENDED: {
            cr_assert_leq(v.as_of, t->n, "%s", where);
            const struct tr_step *before = &t->at[v.as_of];
            assert_regs(v.regs, before->regs, where);
            assert_psw(&v.psw, before->trap ? &before->old : &before->psw, where);
            break;
        }
        case RUN_LEVEL_NOT_STARTED:
            cr_assert_eq(g.steps, 0, "%s", where);
            assert_psw(&v.psw, &t->at[0].psw, where);
            assert_regs(v.regs, t->at[0].regs, where);
            break;
        case RUN_LEVEL_STOPPED:
            cr_assert_neq(at->stop, MACHINE_BUDGET, "%s: the bare run stopped here too", where);
            break;
        case RUN_LEVEL_WAITING:
            cr_assert_fail("%s: the program is never waiting (a state of monitors)", where);
        }
    }
    cr_assert(nrunning == 1 || g.stop != MACHINE_BUDGET, "%s, time %" PRIu64 ": %u levels running",
              what, run_time(r), nrunning);
}

static void walk(const char *program, const char *spec, uint64_t units)
{
    struct asm_image img = tr_load_file(program);
    struct tr_trace t = tr_trace_bare(&img, "pg", MEM, units + 1);
    struct run *r = tr_run(spec, "pg", &img, MEM);
    char what[128];
    snprintf(what, sizeof what, "%s under %s", program, spec);
    struct walk_stats st = {{0}, {0}};
    for (uint64_t u = 0; u < units; u++) {
        check_views(r, &t, what, &st);
        uint64_t chunk, before = run_time(r);
        uint64_t done = run_units(r, 1, &chunk);
        if (done == 0) break; /* stopped */
        cr_assert_eq(done, 1, "%s: one unit", what);
        cr_assert_eq(run_time(r), before + 1, "%s", what);
    }
    check_views(r, &t, what, &st);
    /* the walk saw each kind of moment it is about */
    const unsigned n = run_program_level(r);
    const struct run_spec *sp = run_spec_of(r);
    cr_assert_gt(st.running[n], 0, "%s: the program ran", what);
    for (unsigned L = 0; L < n; L++)
        if (sp->kind[L] == RUN_MONITOR_ASM) cr_assert_gt(st.running[L], 0, "%s: L%u ran", what, L);
    if (sp->n > 0 && sp->kind[sp->n - 1] == RUN_MONITOR_ASM)
        cr_assert_gt(st.suspended[n], 0, "%s: the program was seen suspended", what);
    if (sp->n == 2 && sp->kind[0] == RUN_MONITOR_ASM)
        cr_assert_gt(st.suspended[1], 0, "%s: L1 was seen suspended", what);
    run_destroy(r);
    tr_trace_free(&t);
    asm_image_free(&img);
}

Test(run_levels, unit_by_unit_under_c_asm)
{
    walk("programs/toyos/toyos.s", "c,asm", 6000);
    walk("programs/paging.s", "c,asm", 6000);
    walk("programs/timer.s", "c,asm", 6000);
}

Test(run_levels, unit_by_unit_under_asm_asm)
{
    walk("programs/toyos/toyos.s", "asm,asm", 12000);
    walk("programs/paging.s", "asm,asm", 12000);
    walk("programs/timer.s", "asm,asm", 12000);
}

Test(run_levels, unit_by_unit_under_one_monitor)
{
    walk("programs/toyos/toyos.s", "c", 6000);
    walk("programs/timer.s", "asm", 6000);
    walk("programs/paging.s", "asm", 4000);
    walk("programs/timer.s", "bare", 3000);
}

/* Until its monitor starts it, the program is not started and shown as it
 * will start: from reset at its entry. */
Test(run_levels, the_program_is_not_started_until_its_monitor_starts_it)
{
    /* Regression: between the asm VMM's store of VS_RUNNING and its lpsw the program showed as
     * waiting, pc 0 (timer.s under asm, units 874..878). */
    struct asm_image img = tr_load_file("programs/timer.s");
    const char *specs[] = {"asm", "c,asm", "asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, MEM);
        const unsigned n = run_program_level(r);
        struct run_guest_state g;
        uint64_t chunk;
        for (;;) {
            run_guest_state(r, 0, &g);
            if (g.steps > 0) break;
            struct run_level_view v;
            run_level_view(r, 0, n, &v);
            cr_assert(v.state == RUN_LEVEL_NOT_STARTED || v.state == RUN_LEVEL_RUNNING,
                      "%s, time %" PRIu64 ": the program is %s before its first step", specs[k],
                      run_time(r), run_level_state_name(v.state));
            cr_assert_eq(v.psw.pc, img.entry, "%s, time %" PRIu64 ": pc 0x%x", specs[k], run_time(r),
                         v.psw.pc);
            cr_assert_eq(run_units(r, 1, &chunk), 1);
        }
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* ---- run_set_reg -------------------------------------------------------------------------- */

/* Stops a run at its first event of a given kind arising in a level. */
struct stop_at {
    unsigned arose;
    enum run_handling how;
    bool seen;
};

static enum machine_verdict stop_at_event(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    struct stop_at *s = ctx;
    if (s->seen || e->arose != s->arose || e->how != s->how) return MACHINE_CONTINUE;
    s->seen = true;
    return MACHINE_STOP_RUN;
}

Test(run_levels, registers_are_set_only_where_the_level_runs)
{
    struct asm_image img = tr_load_text("_start: li r2, 7\n"
                                        "wait:   beqz r3, wait\n"
                                        "        add r1, r3, r2\n"
                                        "        halt\n");
    char err[256];

    /* not started: refused, with a message naming the level and who runs */
    struct run *r = tr_run("asm", "pg", &img, MEM);
    err[0] = '\0';
    cr_assert_not(run_set_reg(r, 0, 1, 3, 35, err, sizeof err));
    cr_assert(strstr(err, "L1") && strstr(err, "not started") && strstr(err, "L0"), "%s", err);
    cr_assert_null(strchr(err, '\n'));
    /* L0 runs: its registers can be set, and read back */
    cr_assert(run_set_reg(r, 0, 0, 9, 0x99, err, sizeof err), "%s", err);
    struct run_level_view v;
    run_level_view(r, 0, 0, &v);
    cr_assert_eq(v.regs[9], 0x99);
    run_destroy(r);

    /* the C VMM is host code */
    r = tr_run("c,asm", "pg", &img, MEM);
    err[0] = '\0';
    cr_assert_not(run_set_reg(r, 0, 0, 3, 1, err, sizeof err));
    cr_assert(strstr(err, "host code"), "%s", err);
    run_destroy(r);

    /* waiting and suspended levels: refused; the program's registers do
     * not change */
    r = tr_run("asm,asm", "pg", &img, MEM);
    cr_assert_eq(run_go(r, 1000), MACHINE_BUDGET);
    cr_assert_eq(run_running_level(r, 0), 2);
    err[0] = '\0';
    cr_assert_not(run_set_reg(r, 0, 1, 3, 35, err, sizeof err));
    cr_assert(strstr(err, "waiting"), "%s", err);
    cr_assert_not(run_set_reg(r, 0, 0, 3, 35, err, sizeof err));
    struct run_guest_state s;
    run_guest_state(r, 0, &s);
    cr_assert_eq(s.regs[3], 0);
    run_destroy(r);

    /* the program suspended while L0 handles one of its traps */
    struct asm_image svc = tr_load_text("_start: svc 1\n halt\n");
    r = tr_run("asm,asm", "pg", &svc, MEM);
    struct stop_at stop = {2, RUN_REFLECTED, false};
    run_set_hooks(r, &(struct run_hooks){&stop, stop_at_event, NULL});
    cr_assert_eq(run_go(r, 1000), MACHINE_STOPPED);
    cr_assert(stop.seen);
    run_level_view(r, 0, 2, &v);
    cr_assert_eq(v.state, RUN_LEVEL_SUSPENDED);
    err[0] = '\0';
    cr_assert_not(run_set_reg(r, 0, 2, 3, 35, err, sizeof err));
    cr_assert(strstr(err, "suspended"), "%s", err);
    run_destroy(r);
    asm_image_free(&svc);

    /* stopped */
    r = tr_run("asm", "pg", &img, MEM);
    cr_assert_eq(run_go(r, 100), MACHINE_BUDGET);
    cr_assert(run_set_reg(r, 0, 1, 3, 35, err, sizeof err), "%s", err);
    cr_assert_eq(run_go(r, 1000), MACHINE_HALT);
    run_guest_state(r, 0, &s);
    cr_assert_eq(s.regs[1], 42, "the program halted with the value set");
    err[0] = '\0';
    cr_assert_not(run_set_reg(r, 0, 1, 3, 1, err, sizeof err));
    cr_assert(strstr(err, "stopped"), "%s", err);
    run_destroy(r);
    asm_image_free(&img);
}

/* RUN_REG_PC moves the program wherever it is, at every depth. */
Test(run_levels, the_pc_is_set_at_every_depth)
{
    struct asm_image img = tr_load_text("_start: li r1, 1\n"
                                        "spin:   b spin\n"
                                        "        .org 0x300\n"
                                        "done:   li r1, 42\n"
                                        "        halt\n");
    const char *specs[] = {"bare", "c", "asm", "c,asm", "asm,asm", "c,asm,asm", "asm,asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, MEM);
        const unsigned n = run_program_level(r);
        char err[256] = "";
        cr_assert_eq(run_go(r, 500), MACHINE_BUDGET, "%s: it spins", specs[k]);
        cr_assert(run_set_reg(r, 0, n, RUN_REG_PC, 0x300, err, sizeof err), "%s: %s", specs[k], err);
        struct run_level_view v;
        run_level_view(r, 0, n, &v);
        cr_assert_eq(v.psw.pc, 0x300, "%s: the pc reads back", specs[k]);
        cr_assert_eq(v.psw.flags, PSW_M, "%s: nothing else of the PSW changed", specs[k]);
        cr_assert_eq(run_go(r, 1000), MACHINE_HALT, "%s", specs[k]);
        /* what a bare machine does when its pc is set there */
        struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
        machine_run(m, 500);
        struct psw p = machine_psw(m);
        p.pc = 0x300;
        machine_set_psw(m, &p);
        enum machine_stop bstop = machine_run(m, 1000);
        char why[256];
        cr_assert(tr_same_guest(m, bstop, r, 0, MACHINE_HALT, why, sizeof why), "%s: %s", specs[k], why);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.regs[1], 42, "%s: the program went on from there", specs[k]);
        machine_destroy(m);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* A monitor's registers can be set while it runs: the asm VMM at L1 under
 * asm,asm, at its first unit of work, reads the value back; the program
 * still ends as it does bare. */
Test(run_levels, a_running_monitor_gets_its_registers)
{
    struct asm_image img = tr_load_file("programs/hello.s");
    struct run *r = tr_run("asm,asm", "pg", &img, MEM);
    uint64_t chunk;
    while (run_running_level(r, 0) != 1) cr_assert_eq(run_units(r, 1, &chunk), 1);
    struct run_level_view v;
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    char err[256] = "";
    cr_assert(run_set_reg(r, 0, 1, 12, 0x1234, err, sizeof err), "%s", err);
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.regs[12], 0x1234);
    run_level_view(r, 0, 0, &v);
    cr_assert_eq(v.state, RUN_LEVEL_WAITING);
    cr_assert_eq(v.regs[12], 0x1234, "a waiting level shows the machine's registers");
    cr_assert_eq(run_go(r, TR_BIG_BUDGET), MACHINE_HALT);
    size_t len;
    const uint8_t *out = run_output(r, 0, &len);
    cr_assert(len > 5 && memcmp(out, "Hello", 5) == 0, "%.*s", (int)len, out);
    run_destroy(r);
    asm_image_free(&img);
}

/* run_translate uses the level's PSW as its view shows it: for the
 * program, the bare machine's translation, faults and their details
 * included (toyos_paged runs its processes paged). */
Test(run_levels, translation_is_the_programs_own)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos_paged.s");
    const char *specs[] = {"bare", "c", "asm", "c,asm", "asm,asm"};
    const uint64_t stops[] = {5000, 20000, 30011};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++)
        for (size_t s = 0; s < 3; s++) {
            struct run *r = tr_run(specs[k], "pg", &img, MEM);
            cr_assert_eq(run_go(r, stops[s]), MACHINE_BUDGET);
            struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
            machine_run(m, stops[s]);
            const struct psw p = machine_psw(m);
            const unsigned n = run_program_level(r);
            unsigned checked = 0, faults = 0;
            for (uint32_t va = 0; va < 0x12000; va += 97) {
                uint32_t pa = 0, pb = 0;
                unsigned da = 99, db = 99;
                const bool a = run_translate(r, 0, n, va, &pa, &da);
                const bool b = machine_translate(m, &p, va, ACCESS_LOAD, &pb, &db);
                cr_assert_eq(a, b, "%s at %" PRIu64 ": va 0x%x", specs[k], stops[s], va);
                if (a) cr_assert_eq(pa, pb, "%s: va 0x%x", specs[k], va);
                else cr_assert_eq(da, db, "%s: va 0x%x: detail", specs[k], va);
                checked++;
                faults += !a;
            }
            cr_assert_gt(faults, 0);
            cr_assert_lt(faults, checked);
            machine_destroy(m);
            run_destroy(r);
        }
    /* a host-code level translates nothing */
    struct run *r = tr_run("c,asm", "pg", &img, MEM);
    uint32_t pa;
    unsigned d;
    cr_assert_not(run_translate(r, 0, 0, 0x10, &pa, &d));
    run_destroy(r);
    asm_image_free(&img);
}
