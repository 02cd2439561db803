/*
 * check_impl.h: what the files of the checker share; not part of its API.
 *
 *   lab.c       the experimental machines: build a state, step, observe
 *   classify.c  the states tried, the verdicts and the theorems
 *   witness.c   witnesses as text, readable descriptions, replay
 */
#ifndef TRAPEZE_CHECK_IMPL_H
#define TRAPEZE_CHECK_IMPL_H

#include "check.h"

struct machine;

/* A work machine and two pristine templates (console control off, on) for
 * one variant.  A run restores the work machine from a template, so no state
 * leaks from one run into the next. */
struct check_lab;

struct check_lab *check_lab_new(const struct isa_variant *v);
void check_lab_free(struct check_lab *lab);

/* The virtual contents of s: CHECK_VWORDS words with the instruction at pc. */
void check_fill_image(const struct check_state *s, uint32_t img[CHECK_VWORDS]);

/* Fills mem[0 .. CHECK_MEMSIZE) as a run of s finds physical memory: the
 * trap area zero, a pattern, the page tables, s's virtual contents. */
void check_fill_memory(const struct check_state *s, uint32_t *mem);

/* Runs valid state s, whose virtual contents are img, for one step. */
void check_lab_run(struct check_lab *lab, const struct check_state *s,
                   const uint32_t img[CHECK_VWORDS], struct check_outcome *o);

/* What an outcome changed in the system state, as CHANGE_* bits; describes
 * the changes in what (may be NULL).  A trap may change nothing but the pc
 * it saves; a completed instruction may also take the ordinary timer tick. */
enum {
    CHANGE_M = 1u << 0,
    CHANGE_PG = 1u << 1,
    CHANGE_BASE = 1u << 2,
    CHANGE_BOUND = 1u << 3,
    CHANGE_IE = 1u << 4,
    CHANGE_TIMER = 1u << 5, /* the timer or TP, other than by the tick */
    CHANGE_OUTPUT = 1u << 6,
    CHANGE_INPUT = 1u << 7,
    CHANGE_CTRL = 1u << 8,
    CHANGE_TLB = 1u << 9,
    CHANGE_HALT = 1u << 10,
};
unsigned check_control_changes(const struct check_state *s, const struct check_outcome *o,
                               char *what, size_t size);

/* True when a and b differ in registers, virtual memory or where control
 * goes (the trap taken, or the next pc); describes the first difference. */
bool check_outcomes_differ(const struct check_outcome *a, const struct check_outcome *b,
                           char *what, size_t size);

/* True when the outcome is a PRIV trap. */
static inline bool check_trapped_priv(const struct check_outcome *o)
{
    return o->end == CHECK_END_TRAP && o->cause == CAUSE_PRIV;
}

bool check_states_equal(const struct check_state *a, const struct check_state *b);

/* The console input bytes a state with input = n has waiting: the first n. */
extern const uint8_t check_input_bytes[CHECK_MAX_INPUT];

/* True when a and b are equal except in the aspect (and the fields it
 * implies: PG, base and bound follow the location). */
bool check_states_differ_only_in(const struct check_state *a, const struct check_state *b,
                                 enum check_aspect aspect);

/* Runs w again on lab's machines; true when its property holds, and what
 * describes it (or why not). */
bool check_witness_holds(struct check_lab *lab, const struct check_witness *w,
                         char what[CHECK_TEXT_SIZE]);
/* Makes w simpler (registers 0, memory zero, no input, timer off, ...) as
 * long as it still holds, and describes it afresh. */
void check_witness_shrink(struct check_lab *lab, struct check_witness *w);

/* snprintf that appends at *len and never overflows. */
void check_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
