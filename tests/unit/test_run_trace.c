/*
 * test_run_trace.c: the text trace (vmm/run/trace.h): every line is the
 * one run_event_describe (or the instruction's place and disassembly)
 * gives, whatever its cache holds; numbers of any size; a line never split
 * by a flush; the interrupt flag stops the run.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/run/log.h"
#include "../../vmm/run/trace.h"
#include "test_run_support.h"

/* Beside the trace: each event described the slow way, once. */
struct both {
    struct run_trace *trace;
    struct run_log *log;
    FILE *reference;
};

static enum machine_verdict both_event(void *ctx, struct run *r, const struct run_event *e)
{
    struct both *b = ctx;
    char line[400];
    uint64_t seq = run_log_add(b->log, e);
    run_event_describe(r, e, seq, RUN_EVENT_FULL, line, sizeof line);
    fprintf(b->reference, "[%10" PRIu64 "] %s\n", e->guest_step, line);
    return run_trace_event(b->trace, r, e);
}

static void check_same_lines(const char *spec, const char *path)
{
    struct asm_image img = tr_load_file(path);
    struct run *r = tr_run(spec, "pg", &img, TR_MEM);
    char *fast = NULL, *slow = NULL;
    size_t fast_len = 0, slow_len = 0;
    FILE *f = open_memstream(&fast, &fast_len), *s = open_memstream(&slow, &slow_len);
    struct both b = {run_trace_create(r, f, false, NULL), run_log_create(1), s};
    cr_assert_not_null(b.trace);
    run_set_hooks(r, &(struct run_hooks){&b, both_event, NULL});
    run_go(r, TR_BIG_BUDGET);
    cr_assert(run_trace_flush(b.trace));
    fflush(f);
    fflush(s);
    cr_assert_gt(slow_len, 0, "%s under %s: events", path, spec);
    cr_assert_eq(fast_len, slow_len, "%s under %s: the trace has %zu bytes, the descriptions %zu", path, spec,
                 fast_len, slow_len);
    cr_assert(memcmp(fast, slow, slow_len) == 0, "%s under %s: the lines differ", path, spec);
    cr_assert_eq(run_log_total(run_trace_log(b.trace)), run_log_total(b.log), "numbered alike");
    run_trace_destroy(b.trace);
    run_log_destroy(b.log);
    fclose(f);
    fclose(s);
    free(fast);
    free(slow);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_trace, every_line_is_the_description)
{
    const char *specs[] = {"bare", "c", "c,asm", "asm", "c,asm,asm"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        check_same_lines(specs[i], "programs/traps.s");
        check_same_lines(specs[i], "programs/toyos/toyos.s");
    }
}

/* A run of img under spec with a trace into memory. */
struct traced {
    struct asm_image img;
    struct run *r;
    char *text; /* what the trace wrote, once traced_end */
    size_t len;
    FILE *f;
    struct run_trace *t;
};

static void traced_begin(struct traced *x, struct asm_image img, const char *spec, bool several)
{
    x->img = img;
    x->r = tr_run(spec, "pg", &x->img, TR_MEM);
    x->text = NULL;
    x->len = 0;
    x->f = open_memstream(&x->text, &x->len);
    x->t = run_trace_create(x->r, x->f, several, NULL);
    cr_assert_not_null(x->t);
}

/* Flushes the trace and ends it: x->text holds every line. */
static void traced_end(struct traced *x)
{
    run_trace_destroy(x->t);
    x->t = NULL;
    fflush(x->f);
}

static void traced_free(struct traced *x)
{
    if (x->t) traced_end(x);
    fclose(x->f);
    free(x->text);
    run_destroy(x->r);
    asm_image_free(&x->img);
}

/* Events that share a slot's pc but differ elsewhere are told apart. */
Test(run_trace, the_cache_tells_fields_apart)
{
    struct traced x;
    traced_begin(&x, tr_load_file("programs/traps.s"), "c,asm", true);
    struct run *r = x.r;
    struct run_trace *t = x.t;
    struct run_event base = {.guest = 0, .guest_step = 5, .cause = CAUSE_PRIV, .pc = 0x40, .insn = 0,
                             .has_insn = false, .value = 7, .arose = 2, .supervisor = true,
                             .handler = 1, .first = 0, .how = RUN_EMULATED, .target = 1};
    struct run_event variants[8];
    for (int k = 0; k < 8; k++) variants[k] = base;
    variants[1].value = 8;            /* shown: no instruction */
    variants[2].supervisor = false;
    variants[3].how = RUN_REFLECTED;
    variants[4].handler = 2;
    variants[5].cause = CAUSE_SVC;
    variants[6].arose = 1;
    variants[7].guest_step = UINT64_C(123456789012345); /* past 32 bits */
    /* Each variant right after the base, so that the base's text is what
     * the slot holds when the variant comes: only its own fields tell it. */
    uint64_t seq = 0;
    const char *p = NULL;
    char expect_all[16 * 400] = "";
    size_t used = 0;
    for (int k = 0; k < 8; k++)
        for (int which = 0; which < 2; which++) {
            const struct run_event *e = which ? &variants[k] : &base;
            run_trace_event(t, r, e);
            char line[380];
            run_event_describe(r, e, ++seq, RUN_EVENT_FULL, line, sizeof line);
            used += (size_t)snprintf(expect_all + used, sizeof expect_all - used, "[%10" PRIu64 "] vm0 %s\n",
                                     e->guest_step, line);
        }
    traced_end(&x);
    p = x.text;
    cr_assert_str_eq(p, expect_all);
    p += used;
    cr_assert_eq(*p, '\0', "nothing more");
    traced_free(&x);
}

/* Far more than one buffer: every line whole, in order. */
Test(run_trace, lines_are_never_split_by_a_flush)
{
    struct traced x;
    traced_begin(&x, tr_load_file("programs/traps.s"), "c", false);
    struct run_event e = {.cause = CAUSE_PRIV, .pc = 0x17, .arose = 1, .handler = 0, .how = RUN_EMULATED};
    const uint64_t lines = 3 * TRACE_BUFFER / 64;
    for (uint64_t i = 0; i < lines; i++) {
        e.guest_step = i;
        run_trace_event(x.t, x.r, &e);
    }
    traced_end(&x);
    uint64_t seen = 0;
    for (char *line = x.text, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1, seen++) {
        uint64_t step, seq;
        cr_assert_eq(sscanf(line, "[%" SCNu64 "] trap %" SCNu64 ":", &step, &seq), 2, "line %" PRIu64, seen);
        cr_assert_eq(step, seen);
        cr_assert_eq(seq, seen + 1);
    }
    cr_assert_eq(seen, lines);
    traced_free(&x);
}

Test(run_trace, the_interrupt_flag_stops_the_run)
{
    struct traced x;
    traced_begin(&x, tr_load_text("_start: rtmr r2\n beq r0, r0, _start\n"), "c", false);
    volatile sig_atomic_t flag = 1;
    run_trace_set_interrupt(x.t, &flag);
    run_set_hooks(x.r, &(struct run_hooks){x.t, run_trace_event, NULL});
    cr_assert_eq(run_go(x.r, 1000000), MACHINE_STOPPED, "stopped at the first trap");
    cr_assert(run_trace_interrupted(x.t));
    cr_assert_eq(run_log_total(run_trace_log(x.t)), 1);
    traced_free(&x);
}
