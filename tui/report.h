/*
 * report.h: how a finished run is told to the user.
 *
 * A run_outcome is the guest-visible result of a run, whoever produced it:
 * the bare machine, or a VMM for one of its guests.  The summary line, the
 * --json object, the exit status and `trapeze equiv` all work on outcomes,
 * so bare and virtualized runs are reported and compared the same way.
 */
#ifndef TRAPEZE_REPORT_H
#define TRAPEZE_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../machine/machine.h"
#include "../vmm/run/run.h"
#include "json.h"

struct run_outcome {
    enum machine_stop stop;
    uint32_t regs[ISA_NREGS];
    struct psw psw;
    uint64_t instructions; /* retired */
    uint64_t steps;        /* retired + traps + interrupts */
    uint64_t traps[CAUSE_COUNT];
    struct machine_trap last_trap; /* valid when has_trap */
    bool has_trap;
    const uint8_t *output; /* borrowed from whoever ran it */
    size_t output_len;
};

/* The outcome of guest g's program in run r (borrows r's output). */
struct run_outcome report_outcome_of_run(const struct run *r, unsigned g);

/* The process exit status for an outcome (cli.h): r1 at halt (clamped to
 * CLI_EXIT_HALT_OTHER above CLI_EXIT_HALT_MAX), CLI_EXIT_BUDGET for a
 * budget stop, CLI_EXIT_STOPPED for a machine check or unhandled trap. */
int report_exit_status(const struct run_outcome *o);

/* Writes the fields of the run schema (stop, status, regs, psw, instructions,
 * steps, traps, output) into the JSON object being written. */
void report_json_fields(struct json *j, const struct run_outcome *o);

/* The one-line message for a run that did not halt (machine check, budget,
 * unhandled trap), or nothing for a halt.  who prefixes it ("trapeze"). */
void report_stop_line(FILE *out, const char *who, const struct run_outcome *o,
                      uint64_t max_steps);

/* The human summary: stop, status, counts, traps by cause. */
void report_summary(FILE *out, const struct run_outcome *o);


#endif
