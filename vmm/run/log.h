/*
 * log.h: the event log of a run -- every trap, numbered, told one way.
 *
 * `run --trace traps`, `equiv --trace traps`, the debugger and the TUI keep
 * their traps here and describe them with run_event_describe, so a trap
 * reads the same, with the same level numbers, wherever it is shown:
 *
 *   trap 7: PRIV lpsw 0(r1) at L2 guest, supervisor -> emulated by L1 asm,
 *           passed up by L0 c; pc 0x000040 <resume+3>
 *   trap 8: SVC svc 2 at L2 guest, user -> reflected by L0 c, L1 asm to
 *           L2's handler; pc 0x000312 <main+7>
 *
 * The log keeps the most recent `keep` events and counts all of them by
 * path (the level a trap arose in, the level whose code handled it, how).
 */
#ifndef TRAPEZE_RUN_LOG_H
#define TRAPEZE_RUN_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

#define RUN_HANDLINGS 5 /* enum run_handling */

struct run_log_counts {
    uint64_t total;
    uint64_t by_cause[CAUSE_COUNT];
    /* [arose][handler][how] */
    uint64_t path[RUN_MAX_LEVELS][RUN_MAX_LEVELS][RUN_HANDLINGS];
};

struct run_log;

/* A log keeping the last `keep` events (at least 1); NULL without memory. */
struct run_log *run_log_create(size_t keep);
void run_log_destroy(struct run_log *log);
/* Adds e; returns its number (1, 2, ...). */
uint64_t run_log_add(struct run_log *log, const struct run_event *e);
/* How many events there have been (the last one's number). */
uint64_t run_log_total(const struct run_log *log);
/* Event number seq, or NULL when it is not kept any more or does not exist. */
const struct run_event *run_log_get(const struct run_log *log, uint64_t seq);
const struct run_log_counts *run_log_counts(const struct run_log *log);
/* Goes back to the first n events, whose counts were `counts` (saved with
 * run_log_counts when there were n); events after n are forgotten. */
void run_log_rewind(struct run_log *log, uint64_t n, const struct run_log_counts *counts);

enum run_event_style {
    RUN_EVENT_FULL,    /* one line: cause, instruction, level, mode, pc with its label, path */
    RUN_EVENT_COMPACT, /* a narrow pane's line */
};
/* Describes event number seq of run r (labels come from r's images). */
void run_event_describe(const struct run *r, const struct run_event *e, uint64_t seq,
                        enum run_event_style style, char *buf, size_t size);
/* The full description without its "trap N: " (the same for every event
 * with the same fields but time and steps: a trace caches it). */
void run_event_body(const struct run *r, const struct run_event *e, char *buf, size_t size);
/* "PRIV", "MEM/write", ... */
void run_event_cause(const struct run_event *e, char *buf, size_t size);
/* "L2 guest", "L0 C VMM (te)" with long names. */
void run_describe_level(const struct run *r, unsigned level, bool long_name, char *buf, size_t size);
/* "0x000040 <resume+3>": va of level L, labelled by its machine-L physical
 * address pa when has_pa. */
void run_describe_place(const struct run *r, unsigned g, unsigned level, uint32_t va, bool has_pa,
                        uint32_t pa, char *buf, size_t size);
/* The counts as a table, one line per path with a count, each line
 * prefixed by `prefix`. */
void run_log_print_counts(FILE *out, const struct run *r, const struct run_log_counts *counts,
                          const char *prefix);

#endif
