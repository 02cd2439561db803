/*
 * test_run_diagram.c: the recorder and writers of vmm/run/diagram.h: a
 * window keeps exactly its events and stops the run past it; the
 * stretches add up to each level's instructions; a cascade is the
 * program's trap and what the monitors do for it; a memory map covers
 * every word of every machine once, in order.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/run/diagram.h"
#include "test_run_support.h"

/* A program run under a spec with a recorder on its window, to its end or
 * to the first event past the window. */
struct recorded {
    struct asm_image img;
    struct run *r;
    struct diagram_recorder rec;
};

static void record(struct recorded *x, const char *path, const char *spec, struct diagram_window w)
{
    x->img = tr_load_file(path);
    x->r = tr_run(spec, "pg", &x->img, TR_MEM);
    diagram_recorder_init(&x->rec, x->r, w);
    run_set_hooks(x->r, &(struct run_hooks){&x->rec, diagram_record, NULL});
    run_go(x->r, TR_BIG_BUDGET);
    diagram_recorder_finish(&x->rec, x->r);
}

static void recorded_free(struct recorded *x)
{
    diagram_recorder_free(&x->rec);
    run_destroy(x->r);
    asm_image_free(&x->img);
}

Test(run_diagram, a_whole_run_adds_up_to_each_level)
{
    const char *specs[] = {"bare", "c", "c,asm", "asm,asm", "c,asm,asm"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct recorded x;
        record(&x, "programs/traps.s", specs[i], (struct diagram_window){0, UINT64_MAX, false});
        const struct diagram_recorder rec = x.rec;
        struct run *r = x.r;
        cr_assert_gt(rec.n, 0, "%s: events", specs[i]);
        cr_assert_eq(rec.in_window, rec.total, "%s: all of them in the window", specs[i]);
        for (unsigned L = 0; L < run_level_count(r); L++) {
            uint64_t sum = 0;
            for (size_t j = 0; j <= rec.n; j++) sum += diagram_spent(&rec, j, L);
            struct run_level_counts k;
            run_level_counts(r, 0, L, &k);
            cr_assert_eq(sum, k.instructions, "%s: level %u ran %" PRIu64 ", the stretches say %" PRIu64,
                         specs[i], L, k.instructions, sum);
        }
        for (size_t k = 0; k < rec.n; k++) cr_assert_eq(rec.steps[k].seq, k + 1, "%s: numbered", specs[i]);
        recorded_free(&x);
    }
}

Test(run_diagram, a_window_keeps_its_events_and_stops_past_it)
{
    struct recorded x;
    record(&x, "programs/toyos/toyos.s", "c,asm", (struct diagram_window){14600, 15000, false});
    const struct diagram_recorder rec = x.rec;
    struct run *r = x.r;
    cr_assert_gt(rec.n, 3);
    for (size_t k = 0; k < rec.n; k++) {
        cr_assert_geq(rec.steps[k].e.guest_step, 14600);
        cr_assert_leq(rec.steps[k].e.guest_step, 15000);
    }
    struct run_guest_state st;
    run_guest_state(r, 0, &st);
    cr_assert_eq(st.stop, MACHINE_BUDGET, "stopped past the window, not run to its end");
    cr_assert_lt(st.steps, 20000, "stopped soon after step 15000 (at %" PRIu64 ")", st.steps);
    /* The window's first stretch starts at the last event before it. */
    uint64_t first = rec.steps[0].seq;
    cr_assert_gt(first, 1);
    recorded_free(&x);
}

Test(run_diagram, a_cascade_is_one_trap_and_its_handling)
{
    struct recorded x;
    record(&x, "programs/traps.s", "c,asm,asm", (struct diagram_window){7, 7, true});
    const struct diagram_recorder rec = x.rec;
    struct run *r = x.r;
    const unsigned program = run_program_level(r);
    cr_assert_geq(rec.n, 2);
    cr_assert_eq(rec.steps[0].e.arose, program, "it starts with the program's trap");
    for (size_t k = 1; k < rec.n; k++) cr_assert_lt(rec.steps[k].e.arose, program, "then the monitors' own");
    cr_assert_gt(rec.steps[rec.n - 1].e.guest_step, 7, "the resume comes after the step is counted");
    char *text = NULL;
    size_t len = 0;
    char err[200];
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(diagram_tree(f, r, &rec, "t", err, sizeof err), 0);
    fclose(f);
    cr_assert(strstr(text, "digraph amplification {") != NULL);
    uint64_t all = 0;
    for (unsigned L = 0; L < program; L++) {
        uint64_t sum = 0;
        for (size_t j = 1; j <= rec.n; j++) sum += diagram_spent(&rec, j, L);
        all += sum;
        char want[96];
        snprintf(want, sizeof want, "// level %u instructions %" PRIu64 " ", L, sum);
        cr_assert(strstr(text, want) != NULL, "the tree says %s", want);
    }
    char want[64];
    snprintf(want, sizeof want, "// amplification %" PRIu64 "\n", all);
    cr_assert(strstr(text, want) != NULL, "amplification %" PRIu64, all);
    free(text);
    recorded_free(&x);
}

Test(run_diagram, nothing_to_draw_is_an_error)
{
    struct recorded x;
    record(&x, "programs/hello.s", "bare", (struct diagram_window){0, UINT64_MAX, false});
    const struct diagram_recorder rec = x.rec;
    struct run *r = x.r;
    char err[200] = "";
    FILE *f = fopen("/dev/null", "w");
    cr_assert_eq(diagram_sequence(f, r, &rec, "t", err, sizeof err), -1);
    cr_assert(strstr(err, "no trap in steps 0..") != NULL, "%s", err);
    cr_assert_eq(diagram_tree(f, r, &rec, "t", err, sizeof err), -1);
    cr_assert(strstr(err, "no trap") != NULL, "%s", err);
    fclose(f);
    recorded_free(&x);
}

/* Every row of every machine's table: contiguous from 0 to its last word. */
static void check_map(const char *spec, const char *path, uint64_t at)
{
    struct asm_image img = tr_load_file(path);
    struct run *r = tr_run(spec, "pg", &img, TR_MEM);
    run_go(r, at);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(diagram_memory(f, r, 0, "m"), 0);
    fclose(f);
    unsigned machines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned j;
        size_t words;
        if (sscanf(line, "  // machine %u words %zu", &j, &words) != 2) continue;
        machines++;
        char *row = strtok(NULL, "\n"); /* the table follows its comment */
        cr_assert_not_null(row);
        uint64_t next = 0;
        for (char *p = row; (p = strstr(p, "\">0x")) != NULL; p += 4) {
            unsigned from, to;
            if (sscanf(p, "\">0x%x..0x%x", &from, &to) != 2) continue;
            cr_assert_eq(from, next, "%s: machine %u: a row starts at 0x%x, after 0x%" PRIx64, spec, j, from, next);
            cr_assert_geq(to, from);
            next = (uint64_t)to + 1;
        }
        cr_assert_eq(next, words, "%s: machine %u: the rows end at 0x%" PRIx64 " of %zu words", spec, j, next, words);
    }
    cr_assert_eq(machines, run_level_count(r), "%s: one table a machine", spec);
    free(text);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_diagram, a_memory_map_covers_every_word_once)
{
    check_map("bare", "programs/hello.s", TR_BIG_BUDGET);
    check_map("c", "programs/toyos/toyos_paged.s", 15645);
    check_map("c,asm", "programs/toyos/toyos_paged.s", 15645);
    check_map("asm,asm", "programs/hello.s", TR_BIG_BUDGET);
}
