/*
 * diagram.h: a run drawn for graphviz -- the traps of a window as a
 * sequence diagram, the cascade of one guest instruction as a tree, and
 * each level's memory down to real memory as a map.
 *
 * A recorder (a run's on_event hook) keeps the events of a window of the
 * program's steps, each with every level's instructions when it was seen,
 * so that what each level spent between two events is exact: the notes
 * of a diagram add up to the per-level instructions that `run --json`
 * gives for the same stretch of the run.
 *
 * The writers print graphviz source text, byte-stable for the same run:
 *
 *   sequence  one lifeline per level and one for the real machine, an
 *             arrow per hop of each trap (into the hardware, to the first
 *             monitor, passed up, emulated and resumed), rows in order;
 *             every position is given (render with `neato -n2`);
 *   tree      one guest instruction's cascade: each node a trap, its
 *             children the traps its handler took (render with `dot`);
 *   memory    every machine's physical memory in bands -- the guest
 *             region its monitor gave the level above, the monitor's own
 *             words, the C VMM's trap area, canaries and shadow tables --
 *             with an arrow from each machine to where it lives below
 *             (render with `dot`).
 */
#ifndef TRAPEZE_RUN_DIAGRAM_H
#define TRAPEZE_RUN_DIAGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "run.h"

/* A sequence diagram draws at most this many traps (readable on a page);
 * the window's other traps are counted in its summary. */
#define DIAGRAM_MAX_DRAWN 60u

struct diagram_step {
    struct run_event e;
    uint64_t seq;                          /* its number in the run: 1, 2, ... */
    uint64_t instructions[RUN_MAX_LEVELS]; /* each level's, when the event was seen */
};

/* The program's steps from..to (inclusive) of guest 0.  A cascade window
 * goes on past `to` with the traps the monitors take for the program's
 * last trap in it, up to the program's next trap: the whole of one guest
 * instruction's handling, its resume included (the program's step count
 * moves on when a monitor has emulated the instruction, before the
 * monitor's own lpsw back into it). */
struct diagram_window {
    uint64_t from, to;
    bool cascade;
};

struct diagram_recorder {
    struct diagram_window window;
    unsigned levels;
    unsigned program;                   /* the program's level */
    uint64_t total;                     /* events of the run seen */
    uint64_t before[RUN_MAX_LEVELS];    /* the counts at the window's start */
    uint64_t after[RUN_MAX_LEVELS];     /* ... at its end (diagram_recorder_finish) */
    struct diagram_step *steps;         /* the window's events (at most DIAGRAM_MAX_KEPT) */
    size_t n, cap;
    uint64_t in_window;                 /* all of them, kept or not */
    bool started, ended, out_of_memory;
    bool root_seen;                     /* cascade: the program's trap is in */
};
/* Events past this in one window are counted, not kept. */
#define DIAGRAM_MAX_KEPT 4096u

void diagram_recorder_init(struct diagram_recorder *rec, const struct run *r, struct diagram_window w);
void diagram_recorder_free(struct diagram_recorder *rec);
/* As run_hooks.on_event (ctx: the recorder): stops the run (MACHINE_STOP_RUN)
 * at the first event past the window. */
enum machine_verdict diagram_record(void *ctx, struct run *r, const struct run_event *e);
/* Takes the counts at the window's end (the run stopped past it, or ended). */
void diagram_recorder_finish(struct diagram_recorder *rec, const struct run *r);

/* What level L spent between step i and the next one (i = n: after the last). */
uint64_t diagram_spent(const struct diagram_recorder *rec, size_t i, unsigned level);

/* The writers: 0 on success; -1 when there is nothing to draw (err says why,
 * e.g. "no trap at step 12"). */
int diagram_sequence(FILE *out, const struct run *r, const struct diagram_recorder *rec,
                     const char *title, char *err, size_t err_size);
int diagram_tree(FILE *out, const struct run *r, const struct diagram_recorder *rec,
                 const char *title, char *err, size_t err_size);
int diagram_memory(FILE *out, const struct run *r, unsigned g, const char *title);

/* The graphviz layout engine each diagram is made for: "neato" (given
 * positions, -n2) or "dot". */
enum diagram_kind { DIAGRAM_SEQUENCE, DIAGRAM_TREE, DIAGRAM_MEMORY };
const char *diagram_layout(enum diagram_kind k);
bool diagram_kind_by_name(const char *name, enum diagram_kind *k);
const char *diagram_kind_name(enum diagram_kind k);

#endif
