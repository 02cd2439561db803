/*
 * trace.h: the text trace of a run -- every trap (--trace traps) or, on a
 * bare run, every instruction (--trace insns) -- cheap enough to leave on.
 *
 *   [        17] trap 2: PRIV out r2, 0 at L1 guest, supervisor -> emulated by L0 c; pc ...
 *   [         3] S 0x000013 <next+1>  beq r1, r0, done
 *
 * Why it is cheap: a line is built in a buffer of the trace's own and the
 * buffer goes out in large writes (one write(2) per TRACE_BUFFER bytes, not
 * four per line as stdio on stderr does; to a file, fewer and larger writes
 * also cost the kernel less per byte); and what a line says apart from
 * its numbers -- the description of an event, the place and disassembly of
 * an instruction -- depends only on fields that repeat (a loop traps at the
 * same pc, with the same instruction, by the same path), so it is made once
 * and kept in a small direct-mapped cache.  Nothing that changes during a
 * run (labels come from the images, levels from the spec) goes into a
 * cached text, so a cached line is the line run_event_describe would give.
 *
 * The trace is flushed by run_trace_flush and run_trace_destroy; a command
 * that traces stops its run on an interrupt flag (run_trace_set_interrupt:
 * the hooks then stop the run at the next line), so Ctrl-C still leaves the
 * whole trace up to where it stopped.
 */
#ifndef TRAPEZE_RUN_TRACE_H
#define TRAPEZE_RUN_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "log.h"
#include "run.h"

#define TRACE_BUFFER (1u << 20)

struct run_trace;

/* A trace of run r (NULL when the run is made later: events are described
 * with the run their hook is given; --trace insns needs r) to out
 * (borrowed; not closed).  several: lines carry
 * "vmK " (several guests).  program: the bare program's image, whose labels
 * --trace insns shows (NULL: none).  NULL without memory. */
struct run_trace *run_trace_create(const struct run *r, FILE *out, bool several,
                                   const struct asm_image *program);
/* Flushes, then frees. */
void run_trace_destroy(struct run_trace *t);
/* Writes what is buffered; false once a write to out has failed. */
bool run_trace_flush(struct run_trace *t);
/* The hooks stop the run (MACHINE_STOP_RUN) once *flag is non-zero. */
void run_trace_set_interrupt(struct run_trace *t, const volatile sig_atomic_t *flag);
/* True when the hooks stopped the run for the interrupt flag. */
bool run_trace_interrupted(const struct run_trace *t);
/* The events traced so far, numbered and counted (for the summary). */
const struct run_log *run_trace_log(const struct run_trace *t);

/* As run_hooks.on_event (ctx: the trace). */
enum machine_verdict run_trace_event(void *ctx, struct run *r, const struct run_event *e);
/* As machine_observer.before_insn (ctx: the trace), for a bare run. */
enum machine_verdict run_trace_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn);

#endif
