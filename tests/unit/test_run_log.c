/*
 * test_run_log.c: the event log (vmm/run/log.h): numbering, the last N kept,
 * counts by path, rewinding, and the one way an event is told.
 *
 * The descriptions are checked on real events of tr_ev_guest (a kernel
 * with a user task, svc, timer interrupts) under bare, c, asm and c,asm: the
 * words that matter (cause, instruction, level numbers and kinds, mode,
 * label, the path) are exact.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/run/log.h"
#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

/* An event told apart by its value, with a path of its own. */
static struct run_event made(uint32_t value, unsigned arose, unsigned handler, enum run_handling how,
                             enum isa_cause cause)
{
    return (struct run_event){.cause = cause, .value = value, .arose = arose, .handler = handler, .how = how};
}

/* ---- The ring and the counts ------------------------------------------------------------ */

Test(run_log, numbering_and_keeping_the_last_n)
{
    struct run_log *log = run_log_create(4);
    cr_assert_not_null(log);
    cr_assert_eq(run_log_total(log), 0);
    cr_assert_null(run_log_get(log, 0));
    cr_assert_null(run_log_get(log, 1), "nothing yet");
    for (uint32_t i = 1; i <= 10; i++) {
        struct run_event e = made(i * 100, 0, 0, RUN_HARDWARE, CAUSE_SVC);
        cr_assert_eq(run_log_add(log, &e), i, "numbered from 1");
        cr_assert_eq(run_log_total(log), i);
        const struct run_event *got = run_log_get(log, i);
        cr_assert_not_null(got);
        cr_assert_eq(got->value, i * 100, "a copy of what was added");
    }
    for (uint64_t seq = 1; seq <= 6; seq++) cr_assert_null(run_log_get(log, seq), "event %" PRIu64 " is forgotten", seq);
    for (uint64_t seq = 7; seq <= 10; seq++) {
        const struct run_event *got = run_log_get(log, seq);
        cr_assert_not_null(got, "event %" PRIu64 " is kept", seq);
        cr_assert_eq(got->value, seq * 100);
    }
    cr_assert_null(run_log_get(log, 11), "not there yet");
    cr_assert_null(run_log_get(log, UINT64_MAX));
    cr_assert_eq(run_log_counts(log)->total, 10, "counts know every event, kept or not");
    cr_assert_eq(run_log_counts(log)->by_cause[CAUSE_SVC], 10);
    run_log_destroy(log);

    /* keep 0 keeps one */
    log = run_log_create(0);
    cr_assert_not_null(log);
    struct run_event e = made(1, 0, 0, RUN_HARDWARE, CAUSE_SVC);
    run_log_add(log, &e);
    e.value = 2;
    run_log_add(log, &e);
    cr_assert_null(run_log_get(log, 1));
    cr_assert_not_null(run_log_get(log, 2));
    cr_assert_eq(run_log_get(log, 2)->value, 2);
    run_log_destroy(log);
    run_log_destroy(NULL);
}

Test(run_log, counts_by_path)
{
    struct run_log *log = run_log_create(8);
    const struct run_event es[] = {
        made(1, 2, 1, RUN_EMULATED, CAUSE_PRIV),  made(2, 2, 1, RUN_EMULATED, CAUSE_PRIV),
        made(3, 1, 0, RUN_EMULATED, CAUSE_PRIV),  made(4, 2, 2, RUN_REFLECTED, CAUSE_SVC),
        made(5, 2, 2, RUN_DELIVERED, CAUSE_TIMER), made(6, 2, 0, RUN_ABSORBED, CAUSE_TIMER),
        made(7, 2, 2, RUN_REFLECTED, CAUSE_MEM),
    };
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++) run_log_add(log, &es[i]);
    const struct run_log_counts *c = run_log_counts(log);
    cr_assert_eq(c->total, 7);
    cr_assert_eq(c->path[2][1][RUN_EMULATED], 2);
    cr_assert_eq(c->path[1][0][RUN_EMULATED], 1);
    cr_assert_eq(c->path[2][2][RUN_REFLECTED], 2);
    cr_assert_eq(c->path[2][2][RUN_DELIVERED], 1);
    cr_assert_eq(c->path[2][0][RUN_ABSORBED], 1);
    cr_assert_eq(c->path[2][2][RUN_EMULATED], 0);
    cr_assert_eq(c->by_cause[CAUSE_PRIV], 3);
    cr_assert_eq(c->by_cause[CAUSE_TIMER], 2);
    cr_assert_eq(c->by_cause[CAUSE_SVC], 1);
    cr_assert_eq(c->by_cause[CAUSE_MEM], 1);
    uint64_t sum = 0;
    for (unsigned a = 0; a < RUN_MAX_LEVELS; a++)
        for (unsigned h = 0; h < RUN_MAX_LEVELS; h++)
            for (unsigned w = 0; w < RUN_HANDLINGS; w++) sum += c->path[a][h][w];
    cr_assert_eq(sum, 7, "every event on one path");
    /* an event whose levels are out of range is counted, on no path */
    struct run_event odd = made(8, RUN_MAX_LEVELS, 0, RUN_REFLECTED, CAUSE_SVC);
    cr_assert_eq(run_log_add(log, &odd), 8);
    cr_assert_eq(c->total, 8);
    run_log_destroy(log);
}

Test(run_log, rewind_restores_counts_and_total)
{
    struct run_log *log = run_log_create(16);
    struct run_log_counts at3 = {0};
    for (uint32_t i = 1; i <= 10; i++) {
        struct run_event e = made(i, i % 3, 0, i % 2 ? RUN_REFLECTED : RUN_EMULATED, i % 2 ? CAUSE_SVC : CAUSE_PRIV);
        run_log_add(log, &e);
        if (i == 3) at3 = *run_log_counts(log);
    }
    run_log_rewind(log, 3, &at3);
    cr_assert_eq(run_log_total(log), 3);
    cr_assert_eq(memcmp(run_log_counts(log), &at3, sizeof at3), 0, "the counts of the first 3");
    cr_assert_null(run_log_get(log, 4), "events after 3 are forgotten");
    cr_assert_not_null(run_log_get(log, 3));
    cr_assert_eq(run_log_get(log, 3)->value, 3);
    cr_assert_eq(run_log_get(log, 1)->value, 1);
    /* numbering goes on from there */
    struct run_event e = made(99, 0, 0, RUN_HARDWARE, CAUSE_SVC);
    cr_assert_eq(run_log_add(log, &e), 4);
    cr_assert_eq(run_log_get(log, 4)->value, 99);
    cr_assert_eq(run_log_counts(log)->total, 4);
    cr_assert_eq(run_log_counts(log)->path[0][0][RUN_HARDWARE], 1);
    /* a rewind forward is ignored */
    run_log_rewind(log, 100, &at3);
    cr_assert_eq(run_log_total(log), 4);
    cr_assert_eq(run_log_counts(log)->total, 4);
    run_log_destroy(log);
}

/* A log keeping 4 of 10 events (values 100 .. 1000), rewound to event k
 * with the counts it had there. */
static struct run_log *rewound_to(uint64_t k)
{
    struct run_log *log = run_log_create(4);
    struct run_log_counts at = {0};
    for (uint32_t i = 1; i <= 10; i++) {
        struct run_event e = made(i * 100, 0, 0, RUN_HARDWARE, CAUSE_SVC);
        run_log_add(log, &e);
        if (i == k) at = *run_log_counts(log);
    }
    run_log_rewind(log, k, &at);
    return log;
}

/* Rewinding past the kept events: the ones it goes back to that the ring
 * no longer holds are forgotten, not read as the later events that took
 * their slots. */
Test(run_log, rewind_past_the_ring_forgets)
{
    struct run_log *log = rewound_to(5);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        const struct run_event *got = run_log_get(log, seq);
        cr_assert(got == NULL || got->value == seq * 100, "event %" PRIu64 " reads as the event of value %u",
                  seq, got ? got->value : 0);
    }
    run_log_destroy(log);
}

/* Rewinding within the kept events keeps them. */
Test(run_log, rewind_within_the_ring)
{
    struct run_log *log = rewound_to(8);
    cr_assert_eq(run_log_get(log, 7)->value, 700);
    cr_assert_eq(run_log_get(log, 8)->value, 800);
    cr_assert_null(run_log_get(log, 9));
    cr_assert_eq(run_log_counts(log)->total, 8);
    run_log_destroy(log);
}

/* ---- Describing ---------------------------------------------------------------------------- */

struct events {
    struct run_event e[4096];
    size_t n;
};

static enum machine_verdict record(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    struct events *l = ctx;
    if (l->n < sizeof l->e / sizeof l->e[0]) l->e[l->n++] = *e;
    return MACHINE_CONTINUE;
}

static struct events *run_recorded(const char *spec, const struct asm_image *img, struct run **out)
{
    struct events *ev = calloc(1, sizeof *ev);
    cr_assert_not_null(ev);
    struct run *r = tr_run(spec, "pg", img, MEM);
    run_set_hooks(r, &(struct run_hooks){ev, record, NULL});
    cr_assert_eq(run_go(r, TR_BIG_BUDGET), MACHINE_HALT);
    *out = r;
    return ev;
}

/* The first event of this cause, arising in this level, handled this way
 * (and its number, 1-based). */
static const struct run_event *first(const struct events *ev, enum isa_cause cause, unsigned arose,
                                     enum run_handling how, uint64_t *seq)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->e[i].cause == cause && ev->e[i].arose == arose && ev->e[i].how == how) {
            *seq = i + 1;
            return &ev->e[i];
        }
    cr_assert_fail("no %s event arising in L%u, %s", isa_cause_name(cause), arose, run_handling_name(how));
    return NULL;
}

static void expect_line(const struct run *r, const struct run_event *e, uint64_t seq,
                        enum run_event_style style, const char *want)
{
    char buf[320];
    run_event_describe(r, e, seq, style, buf, sizeof buf);
    cr_assert_str_eq(buf, want);
}

Test(run_log, full_and_compact_lines)
{
    struct asm_image img = tr_load_text(tr_ev_guest);
    uint32_t ksrr, klpsw;
    cr_assert(asm_symbol_value(&img, "ksrr", &ksrr));
    cr_assert(asm_symbol_value(&img, "klpsw", &klpsw));
    char want[320];
    uint64_t seq;
    struct run *r;

    struct events *ev = run_recorded("bare", &img, &r);
    const struct run_event *e = first(ev, CAUSE_SVC, 0, RUN_HARDWARE, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": SVC svc 1 at L0 program, user -> to L0's handler by the hardware; pc 0x000005 <uskip>", seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    snprintf(want, sizeof want, "%3" PRIu64 " SVC       svc   L0U 000005->L0 hardware", seq);
    expect_line(r, e, seq, RUN_EVENT_COMPACT, want);
    e = first(ev, CAUSE_TIMER, 0, RUN_HARDWARE, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": TIMER at L0 program, user -> to L0's handler by the hardware; pc 0x000006 <uskip+1>", seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    run_destroy(r);
    free(ev);

    ev = run_recorded("c", &img, &r);
    e = first(ev, CAUSE_PRIV, 1, RUN_EMULATED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": PRIV srr r2, r3 at L1 guest, supervisor -> emulated by L0 c; pc 0x%06x <ksrr>", seq, ksrr);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    e = first(ev, CAUSE_TIMER, 1, RUN_ABSORBED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": TIMER at L1 guest, user -> absorbed by L0 c (its own timer); pc 0x000006 <uskip+1>", seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    snprintf(want, sizeof want, "%3" PRIu64 " TIMER           L1U 000006->L0 absorbed", seq);
    expect_line(r, e, seq, RUN_EVENT_COMPACT, want);
    e = first(ev, CAUSE_SVC, 1, RUN_REFLECTED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": SVC svc 1 at L1 guest, user -> reflected by L0 c to L1's handler; pc 0x000005 <uskip>", seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    run_destroy(r);
    free(ev);

    ev = run_recorded("c,asm", &img, &r);
    e = first(ev, CAUSE_PRIV, 2, RUN_EMULATED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": PRIV srr r2, r3 at L2 guest, supervisor -> emulated by L1 asm, "
             "passed up by L0 c; pc 0x%06x <ksrr>", seq, ksrr);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    snprintf(want, sizeof want, "%3" PRIu64 " PRIV      srr   L2S %06x->L1 emulated", seq, ksrr);
    expect_line(r, e, seq, RUN_EVENT_COMPACT, want);
    e = first(ev, CAUSE_SVC, 2, RUN_REFLECTED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": SVC svc 1 at L2 guest, user -> reflected by L0 c, L1 asm to L2's handler; pc 0x000005 <uskip>",
             seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    e = first(ev, CAUSE_TIMER, 2, RUN_DELIVERED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": TIMER at L2 guest, user -> delivered by L0 c, L1 asm to L2's handler; pc 0x000006 <uskip+1>",
             seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    /* the asm VMM's own first srr, at its entry */
    e = first(ev, CAUSE_PRIV, 1, RUN_EMULATED, &seq);
    cr_assert_eq(seq, 1);
    expect_line(r, e, seq, RUN_EVENT_FULL,
                "trap 1: PRIV srr r2, r3 at L1 asm, supervisor -> emulated by L0 c; pc 0x000010 <_start>");
    expect_line(r, e, seq, RUN_EVENT_COMPACT, "  1 PRIV      srr   L1S 000010->L0 emulated");
    run_destroy(r);
    free(ev);

    ev = run_recorded("asm", &img, &r);
    e = first(ev, CAUSE_SVC, 1, RUN_REFLECTED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": SVC svc 1 at L1 guest, user -> reflected by L0 asm to L1's handler; pc 0x000005 <uskip>", seq);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    e = first(ev, CAUSE_PRIV, 1, RUN_EMULATED, &seq);
    snprintf(want, sizeof want,
             "trap %" PRIu64 ": PRIV srr r2, r3 at L1 guest, supervisor -> emulated by L0 asm; pc 0x%06x <ksrr>", seq, ksrr);
    expect_line(r, e, seq, RUN_EVENT_FULL, want);
    run_destroy(r);
    free(ev);
    asm_image_free(&img);
}

/* The interpreter's events say so (toyos under hvm runs its kernel in the
 * C VMM's interpreter). */
Test(run_log, interpreted_events_say_so)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos_paged.s");
    struct events *ev = calloc(1, sizeof *ev);
    cr_assert_not_null(ev);
    const struct run_spec hvm = {.n = 1, .kind = {RUN_MONITOR_C}, .mode = VMM_HVM};
    struct run *r = tr_run_spec(&hvm, "pg", &img, MEM);
    run_set_hooks(r, &(struct run_hooks){ev, record, NULL});
    cr_assert_eq(run_go(r, TR_BIG_BUDGET), MACHINE_HALT);
    size_t interpreted = 0;
    for (size_t i = 0; i < ev->n; i++) {
        char buf[320];
        run_event_describe(r, &ev->e[i], i + 1, RUN_EVENT_FULL, buf, sizeof buf);
        const bool says = strstr(buf, "(interpreted)") != NULL;
        cr_assert_eq(says, ev->e[i].place == VMM_PLACE_INTERPRETED, "%s", buf);
        interpreted += says;
    }
    cr_assert_gt(interpreted, 0);
    run_destroy(r);
    free(ev);
    asm_image_free(&img);
}

Test(run_log, causes_and_levels_by_name)
{
    char buf[64];
    struct run_event e = made(0, 0, 0, RUN_REFLECTED, CAUSE_MEM);
    const char *faults[] = {"bound", "invalid", "write", "physical"};
    for (unsigned d = 0; d < 4; d++) {
        e.detail = d;
        run_event_cause(&e, buf, sizeof buf);
        char want[32];
        snprintf(want, sizeof want, "MEM/%s", faults[d]);
        cr_assert_str_eq(buf, want);
    }
    e.cause = CAUSE_HCALL;
    run_event_cause(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "HCALL");
    e.cause = (enum isa_cause)77;
    run_event_cause(&e, buf, sizeof buf);
    cr_assert_str_eq(buf, "cause 77");

    struct asm_image img = tr_load_file("programs/hello.s");
    struct run *r = tr_run("c,asm,asm", "pg", &img, MEM);
    const char *shorts[] = {"L0 c", "L1 asm", "L2 asm", "L3 guest"};
    const char *longs[] = {"L0 C VMM (te)", "L1 asm VMM", "L2 asm VMM", "L3 guest"};
    for (unsigned L = 0; L < 4; L++) {
        run_describe_level(r, L, false, buf, sizeof buf);
        cr_assert_str_eq(buf, shorts[L]);
        run_describe_level(r, L, true, buf, sizeof buf);
        cr_assert_str_eq(buf, longs[L]);
    }
    run_destroy(r);
    struct run_spec hvm = tr_spec("c");
    hvm.mode = VMM_HVM;
    r = tr_run_spec(&hvm, "pg", &img, MEM);
    run_describe_level(r, 0, true, buf, sizeof buf);
    cr_assert_str_eq(buf, "L0 C VMM (hvm)");
    run_destroy(r);
    r = tr_run("bare", "pg", &img, MEM);
    run_describe_level(r, 0, false, buf, sizeof buf);
    cr_assert_str_eq(buf, "L0 program");
    /* a place with no image word there has no label */
    run_describe_place(r, 0, 0, 0x1234, true, 0x1234, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x001234");
    run_describe_place(r, 0, 0, 0x10, false, 0, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x000010", "without a physical address, no label");
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_log, counts_printed_one_line_per_path)
{
    struct asm_image img = tr_load_text(tr_ev_guest);
    struct run *r;
    struct events *ev = run_recorded("c,asm", &img, &r);
    struct run_log *log = run_log_create(8);
    for (size_t i = 0; i < ev->n; i++) run_log_add(log, &ev->e[i]);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    run_log_print_counts(out, r, run_log_counts(log), "  ");
    fclose(out);
    const struct run_log_counts *c = run_log_counts(log);
    char want[128];
    snprintf(want, sizeof want, "  %-10s -> %-10s %-10s %10" PRIu64 "\n", "L2 guest", "L2 guest", "reflected",
             c->path[2][2][RUN_REFLECTED]);
    cr_assert(strstr(text, want), "%s lacks '%s'", text, want);
    snprintf(want, sizeof want, "  %-10s -> %-10s %-10s %10" PRIu64 "\n", "L1 asm", "L0 c", "emulated",
             c->path[1][0][RUN_EMULATED]);
    cr_assert(strstr(text, want), "%s lacks '%s'", text, want);
    size_t lines = 0, paths = 0;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    for (unsigned a = 0; a < 3; a++)
        for (unsigned h = 0; h < 3; h++)
            for (unsigned w = 0; w < RUN_HANDLINGS; w++) paths += c->path[a][h][w] != 0;
    cr_assert_eq(lines, paths, "one line per path with a count");
    cr_assert_geq(paths, 5);
    free(text);
    run_log_destroy(log);
    run_destroy(r);
    free(ev);
    asm_image_free(&img);
}
