/*
 * test_run_units.c: a run's clock (run_units, run_repeat, run_time) and
 * runs of several guests.
 *
 * The same units, run as one piece, as many small pieces, or again with
 * run_repeat and the chunk run_units reported, end in the same state:
 * registers, PSW, every memory word of every machine, output, run_time and
 * the program's steps (tr_same_runs).  The events a repeat shows are the
 * events the first run showed.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

static const char *const SPECS[] = {"bare", "c", "asm", "c,asm"};
#define NSPECS (sizeof SPECS / sizeof SPECS[0])

/* The events a run showed, in a few words each. */
struct trail {
    uint64_t n, hash;
};

static enum machine_verdict trail_event(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    struct trail *t = ctx;
    const uint64_t words[] = {e->time, e->guest_step, e->cause, e->value, e->pc, e->arose, e->handler, e->how};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) t->hash = (t->hash ^ words[i]) * 0x100000001b3ull;
    t->n++;
    return MACHINE_CONTINUE;
}

static struct run *traced(const char *spec, const struct asm_image *img, struct trail *t)
{
    struct run *r = tr_run(spec, "pg", img, MEM);
    *t = (struct trail){0, 0xcbf29ce484222325ull};
    run_set_hooks(r, &(struct run_hooks){t, trail_event, NULL});
    return r;
}

static void check_pieces(const char *program, uint64_t units)
{
    struct asm_image img = tr_load_file(program);
    static const uint64_t cuts[] = {1, 2, 3, 5, 8, 13, 100, 999, 4096, 10001};
    char why[256];
    for (size_t k = 0; k < NSPECS; k++) {
        const char *spec = SPECS[k];
        struct trail ta, tb, tc, td;
        /* one piece */
        struct run *a = traced(spec, &img, &ta);
        uint64_t chunk_a;
        cr_assert_eq(run_units(a, units, &chunk_a), units, "%s %s: one piece", program, spec);
        cr_assert_eq(run_time(a), units);
        /* many small pieces, their chunks kept */
        struct run *b = traced(spec, &img, &tb);
        uint64_t sizes[4096], chunks[4096];
        size_t pieces = 0;
        for (uint64_t done = 0; done < units; pieces++) {
            cr_assert_lt(pieces, 4096);
            uint64_t want = cuts[pieces % (sizeof cuts / sizeof cuts[0])];
            if (want > units - done) want = units - done;
            uint64_t got = run_units(b, want, &chunks[pieces]);
            cr_assert_eq(got, want, "%s %s: piece %zu", program, spec, pieces);
            sizes[pieces] = got;
            done += got;
        }
        cr_assert(tr_same_runs(a, b, 0, why, sizeof why), "%s %s: one piece vs %zu pieces: %s", program,
                  spec, pieces, why);
        /* repeated with the chunk of the one piece */
        struct run *c = traced(spec, &img, &tc);
        cr_assert_eq(run_repeat(c, units, chunk_a), units);
        cr_assert(tr_same_runs(a, c, 0, why, sizeof why), "%s %s: repeat: %s", program, spec, why);
        cr_assert_eq(tc.n, ta.n, "%s %s: the repeat's events", program, spec);
        cr_assert_eq(tc.hash, ta.hash, "%s %s: the repeat's events", program, spec);
        /* the pieces repeated with their chunks */
        struct run *d = traced(spec, &img, &td);
        for (size_t i = 0; i < pieces; i++) cr_assert_eq(run_repeat(d, sizes[i], chunks[i]), sizes[i]);
        cr_assert(tr_same_runs(b, d, 0, why, sizeof why), "%s %s: pieces repeated: %s", program, spec, why);
        cr_assert_eq(td.n, tb.n, "%s %s: the pieces' events", program, spec);
        cr_assert_eq(td.hash, tb.hash, "%s %s: the pieces' events", program, spec);
        /* and the program, where it got to, is its bare run after as many
         * steps (when its state is whole: it runs; see
         * guest_state_while_the_program_is_suspended) */
        struct run_level_view v;
        run_level_view(a, 0, run_program_level(a), &v);
        if (v.state == RUN_LEVEL_RUNNING) {
            struct run_guest_state s;
            run_guest_state(a, 0, &s);
            struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
            enum machine_stop bstop = machine_run(m, s.steps);
            cr_assert(tr_same_guest(m, bstop, a, 0, s.stop, why, sizeof why), "%s %s: %s", program, spec, why);
            machine_destroy(m);
        }
        run_destroy(a);
        run_destroy(b);
        run_destroy(c);
        run_destroy(d);
    }
    asm_image_free(&img);
}

Test(run_units, pieces_and_repeats_are_one_run)
{
    check_pieces("programs/toyos/toyos.s", 40000);
    check_pieces("programs/timer.s", 9000);
}

/* run_guest_state is the program "as a bare machine would show it": while
 * a monitor handles the program's trap, that is the program's state as it
 * was just before the trap (what its level view shows), not the registers
 * of the monitor at work. */
Test(run_units, guest_state_while_the_program_is_suspended)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    struct run *r = tr_run("asm", "pg", &img, MEM);
    unsigned suspended = 0;
    uint64_t chunk;
    for (int u = 0; u < 20000; u++) {
        cr_assert_eq(run_units(r, 1, &chunk), 1);
        struct run_level_view v;
        run_level_view(r, 0, 1, &v);
        if (v.state != RUN_LEVEL_SUSPENDED) continue;
        suspended++;
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        for (unsigned reg = 0; reg < ISA_NREGS; reg++)
            cr_assert_eq(s.regs[reg], v.regs[reg], "time %" PRIu64 ": r%u 0x%x, the program's 0x%x",
                         run_time(r), reg, s.regs[reg], v.regs[reg]);
        cr_assert(memcmp(&s.psw, &v.psw, sizeof s.psw) == 0, "time %" PRIu64 ": the PSW", run_time(r));
    }
    cr_assert_gt(suspended, 100, "the program is suspended while L0 handles its traps");
    run_destroy(r);
    asm_image_free(&img);
}

/* Units past the end: a stopped run does no more. */
Test(run_units, a_stopped_run_does_no_more_units)
{
    struct asm_image img = tr_load_file("programs/hello.s");
    for (size_t k = 0; k < NSPECS; k++) {
        struct run *r = tr_run(SPECS[k], "pg", &img, MEM);
        uint64_t chunk;
        const uint64_t done = run_units(r, TR_BIG_BUDGET, &chunk);
        cr_assert_lt(done, TR_BIG_BUDGET, "%s: fewer units, every guest stopped", SPECS[k]);
        cr_assert_eq(done, run_time(r));
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.stop, MACHINE_HALT, "%s", SPECS[k]);
        cr_assert_eq(run_units(r, 100, &chunk), 0, "%s", SPECS[k]);
        cr_assert_eq(run_repeat(r, 100, chunk), 0, "%s", SPECS[k]);
        cr_assert_eq(run_time(r), done);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* With checking on and an at_boundary hook, run_units goes unit by unit;
 * the hook sees each unit, can stop before one, and a repeat with the
 * chunk reported is the same run. */
struct boundary {
    struct trail trail;   /* the events, as trail_event keeps them */
    uint64_t calls, stop_at, twice;
    uint64_t last;        /* run_time at the last call */
    bool seen[16384];     /* a call came at this time */
};

static enum machine_verdict at_boundary(void *ctx, struct run *r)
{
    struct boundary *b = ctx;
    const uint64_t t = run_time(r);
    if (b->calls > 0 && t == b->last) b->twice++;
    b->calls++;
    b->last = t;
    if (t < sizeof b->seen / sizeof b->seen[0]) b->seen[t] = true;
    return b->stop_at && t == b->stop_at ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

/* A run checked at every boundary, its events and calls kept in b. */
static struct run *checked(const char *spec, const struct asm_image *img, struct boundary *b)
{
    struct run *r = tr_run(spec, "pg", img, MEM);
    memset(b, 0, sizeof *b);
    b->trail.hash = 0xcbf29ce484222325ull;
    /* trail_event takes the trail at the start of the struct */
    run_set_hooks(r, &(struct run_hooks){b, trail_event, at_boundary});
    run_set_checking(r, true);
    return r;
}

Test(run_units, boundaries_and_checking)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    char why[256];
    for (size_t k = 0; k < NSPECS; k++) {
        static struct boundary b;
        struct run *a = checked(SPECS[k], &img, &b);
        uint64_t chunk;
        cr_assert_eq(run_units(a, 5000, &chunk), 5000);
        /* under the C VMM, unit by unit; the real machine runs any cut alike */
        cr_assert_eq(chunk, SPECS[k][0] == 'c' ? 1u : 0u, "%s: chunk %" PRIu64, SPECS[k], chunk);
        for (uint64_t t = 0; t < 5000; t++)
            cr_assert(b.seen[t], "%s: no call before unit %" PRIu64, SPECS[k], t + 1);
        cr_assert_eq(b.calls, 5000 + b.twice, "%s: calls at 5000 times", SPECS[k]);
        cr_assert_not(b.seen[5000], "%s: none after the last unit", SPECS[k]);
        /* stopped before unit 7000 */
        b.stop_at = 7000;
        cr_assert_eq(run_units(a, 5000, &chunk), 2000, "%s", SPECS[k]);
        cr_assert_eq(run_time(a), 7000);
        /* checking off: the hook is not called */
        run_set_checking(a, false);
        b.calls = 0;
        uint64_t chunk2;
        cr_assert_eq(run_units(a, 3000, &chunk2), 3000);
        cr_assert_eq(b.calls, 0, "%s", SPECS[k]);
        /* the same units repeated: the same run, the same events */
        struct trail tc;
        struct run *c = traced(SPECS[k], &img, &tc);
        cr_assert_eq(run_repeat(c, 5000, chunk), 5000);
        cr_assert_eq(run_repeat(c, 2000, chunk), 2000);
        cr_assert_eq(run_repeat(c, 3000, chunk2), 3000);
        cr_assert(tr_same_runs(a, c, 0, why, sizeof why), "%s: %s", SPECS[k], why);
        cr_assert_eq(tc.n, b.trail.n, "%s: the repeat's events", SPECS[k]);
        cr_assert_eq(tc.hash, b.trail.hash, "%s: the repeat's events", SPECS[k]);
        run_destroy(a);
        run_destroy(c);
    }
    asm_image_free(&img);
}

/* run_units_fine runs what a checked run_units runs, without the look:
 * the same units, the same state, the same events (under the C VMM the
 * checked cut is one unit a call, whose timers never fire between units;
 * vmm_run_fine must keep to that in one call). */
static void check_fine(const char *program, uint64_t units)
{
    struct asm_image img = tr_load_file(program);
    char why[256];
    for (size_t k = 0; k < NSPECS; k++) {
        static struct boundary b;
        struct run *a = checked(SPECS[k], &img, &b);
        uint64_t chunk_a, chunk_f;
        const uint64_t got = run_units(a, units, &chunk_a); /* fewer: the program ended */
        cr_assert_gt(got, units / 2, "%s %s: %" PRIu64 " units", program, SPECS[k], got);
        struct trail tf;
        struct run *f = traced(SPECS[k], &img, &tf);
        cr_assert_eq(run_units_fine(f, units, &chunk_f), got, "%s %s", program, SPECS[k]);
        cr_assert_eq(chunk_f, chunk_a, "%s %s: the cut", program, SPECS[k]);
        cr_assert(tr_same_runs(a, f, 0, why, sizeof why), "%s %s: %s", program, SPECS[k], why);
        cr_assert_eq(tf.n, b.trail.n, "%s %s: %" PRIu64 " events, checked %" PRIu64, program, SPECS[k], tf.n,
                     b.trail.n);
        cr_assert_eq(tf.hash, b.trail.hash, "%s %s: the events", program, SPECS[k]);
        run_destroy(a);
        run_destroy(f);
    }
    asm_image_free(&img);
}

Test(run_units, fine_is_the_checked_run)
{
    check_fine("programs/timer.s", 12000);
    check_fine("programs/toyos/toyos.s", 15000);
    check_fine("programs/toyos/toyos_paged.s", 15000);
}

/* The hook is called once before each unit, not twice before some. */
Test(run_units, at_boundary_once_per_unit)
{
    /* Regression: at_boundary was called twice where a vmm_run(1) took no unit (time 0, each
     * slice end). */
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const char *specs[] = {"c", "c,asm"};
    for (size_t k = 0; k < 2; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, MEM);
        static struct boundary b;
        memset(&b, 0, sizeof b);
        run_set_hooks(r, &(struct run_hooks){&b, NULL, at_boundary});
        run_set_checking(r, true);
        uint64_t chunk;
        cr_assert_eq(run_units(r, 15000, &chunk), 15000);
        cr_assert_eq(b.twice, 0, "%s: %" PRIu64 " calls for 15000 units", specs[k], b.calls);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* ---- Several guests ------------------------------------------------------------------------- */

Test(run_units, four_guests_each_equal_their_bare_run)
{
    const char *paths[] = {"programs/toyos/toyos.s", "programs/fib.s", "programs/timer.s", "programs/echo.s"};
    struct asm_image img[4];
    const struct asm_image *programs[4];
    uint8_t *input[4];
    size_t len[4];
    for (int g = 0; g < 4; g++) {
        img[g] = tr_load_file(paths[g]);
        programs[g] = &img[g];
        input[g] = tr_input_of(paths[g], &len[g]);
    }
    cr_assert_gt(len[3], 0, "echo has input");
    struct isa_variant pg = test_support_variant("pg");
    const uint64_t budgets[] = {TR_BIG_BUDGET, 3000, 0};
    for (size_t b = 0; b < 3; b++) {
        struct run_config cfg = {tr_spec("c"), &pg, MEM, 4, NULL, NULL};
        char err[RUN_ERROR_SIZE] = "";
        struct run *r = run_create(&cfg, programs, err);
        cr_assert_not_null(r, "%s", err);
        cr_assert_eq(run_guest_count(r), 4);
        cr_assert_eq(run_level_count(r), 2);
        for (unsigned g = 0; g < 4; g++) run_feed_input(r, g, input[g], len[g]);
        const enum machine_stop st = run_go(r, budgets[b]);
        for (unsigned g = 0; g < 4; g++) {
            struct machine *m = tr_bare(&img[g], "pg", MEM, input[g], len[g]);
            enum machine_stop bstop = machine_run(m, budgets[b]);
            struct run_guest_state s;
            run_guest_state(r, g, &s);
            if (g == 0) cr_assert_eq(st, s.stop, "run_go returns guest 0's stop");
            char why[256];
            cr_assert(tr_same_guest(m, bstop, r, g, s.stop, why, sizeof why), "guest %u (%s), budget %" PRIu64 ": %s",
                      g, paths[g], budgets[b], why);
            struct run_level_view v;
            run_level_view(r, g, 1, &v);
            cr_assert_eq(v.steps, s.steps);
            machine_destroy(m);
        }
        run_destroy(r);
    }
    for (int g = 0; g < 4; g++) {
        free(input[g]);
        asm_image_free(&img[g]);
    }
}

/* A run of several guests stopped by its budget goes on, like a run of one. */
Test(run_units, several_guests_go_on_after_a_budget)
{
    /* Regression: a guest that the C VMM's step limit had stopped could not go on under a
     * bigger one. */
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const struct asm_image *programs[4] = {&img, &img, &img, &img};
    struct isa_variant pg = test_support_variant("pg");
    struct run_config cfg = {tr_spec("c"), &pg, MEM, 4, NULL, NULL};
    char err[RUN_ERROR_SIZE] = "";
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(run_go(r, 3000), MACHINE_BUDGET);
    run_go(r, TR_BIG_BUDGET);
    struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
    enum machine_stop bstop = machine_run(m, TR_BIG_BUDGET);
    for (unsigned g = 0; g < 4; g++) {
        struct run_guest_state s;
        run_guest_state(r, g, &s);
        char why[256];
        cr_assert(tr_same_guest(m, bstop, r, g, s.stop, why, sizeof why), "guest %u, %" PRIu64 " steps: %s", g,
                  s.steps, why);
    }
    machine_destroy(m);
    run_destroy(r);
    asm_image_free(&img);
}

static enum machine_verdict count_by_guest(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    uint64_t *n = ctx;
    cr_assert_lt(e->guest, 4);
    n[e->guest]++;
    return MACHINE_CONTINUE;
}

Test(run_units, events_name_their_guest)
{
    struct asm_image img = tr_load_file("programs/timer.s");
    struct asm_image fib = tr_load_file("programs/fib.s");
    const struct asm_image *programs[4] = {&img, &fib, &img, &fib};
    struct isa_variant pg = test_support_variant("pg");
    struct run_config cfg = {tr_spec("c"), &pg, MEM, 4, NULL, NULL};
    char err[RUN_ERROR_SIZE] = "";
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_not_null(r, "%s", err);
    uint64_t n[4] = {0};
    run_set_hooks(r, &(struct run_hooks){n, count_by_guest, NULL});
    run_go(r, TR_BIG_BUDGET);
    cr_assert_eq(n[0], n[2], "the same program, the same events");
    cr_assert_eq(n[1], n[3]);
    cr_assert_gt(n[0], n[1], "timer.s traps more than fib.s");
    cr_assert_gt(n[1], 0);
    run_destroy(r);
    asm_image_free(&img);
    asm_image_free(&fib);
}

Test(run_units, several_guests_need_the_c_vmm_alone)
{
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = tr_load_file("programs/hello.s");
    const struct asm_image *programs[VMM_MAX_GUESTS + 1];
    for (unsigned g = 0; g <= VMM_MAX_GUESTS; g++) programs[g] = &img;
    const char *specs[] = {"c,asm", "asm", "asm,asm", "bare"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run_config cfg = {tr_spec(specs[k]), &pg, MEM, 2, NULL, NULL};
        char err[RUN_ERROR_SIZE] = "";
        cr_assert_null(run_create(&cfg, programs, err), "%s with 2 guests", specs[k]);
        cr_assert(strstr(err, "guests need the C VMM alone"), "%s: %s", specs[k], err);
    }
    struct run_config cfg = {tr_spec("c"), &pg, MEM, VMM_MAX_GUESTS + 1, NULL, NULL};
    char err[RUN_ERROR_SIZE] = "";
    cr_assert_null(run_create(&cfg, programs, err));
    cr_assert(strstr(err, "at most"), "%s", err);
    cfg.nguests = VMM_MAX_GUESTS;
    cfg.memsize = 4096;
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_not_null(r, "%s", err);
    cr_assert_eq(run_guest_count(r), VMM_MAX_GUESTS);
    run_destroy(r);
    asm_image_free(&img);
}
