/*
 * equiv.h: Popek and Goldberg's equivalence, checked by running.
 *
 * A program runs on the bare machine and under a stack of monitors (a run
 * of each, run.h), with the same memory size, input, variant and step
 * budget; their final guest-visible states are compared: registers, PSW,
 * every memory word, console output, stop reason, exit status and step
 * count.  When they differ, the first step after which they differ is found
 * by bisection over step budgets (both sides are deterministic, so "run n
 * steps" can be repeated at will), then confirmed by running both in
 * lockstep up to it with a cheap comparison (registers, PSW, output, stop),
 * in case they had differed earlier and converged again.
 *
 * The bare machine also watches ISA.md's page-table rule (machine.h): a
 * program that relies on a changed page-table entry without tlbflush may
 * run differently under a monitor whose shadow tables follow the guest's
 * only at flushes, and ISA.md allows that.  The report then gives the first
 * such use, as the explanation when it came at or before the first
 * differing step, else (and when the runs are equivalent) as a note.
 *
 * `trapeze equiv` prints the report (equiv_print) or writes it as JSON;
 * graders read the report's fields.  Nothing here exits.
 */
#ifndef TRAPEZE_EQUIV_H
#define TRAPEZE_EQUIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../run/run.h"

#define EQUIV_MAX_LINES 12
#define EQUIV_LINE_SIZE 160
#define EQUIV_LOCKSTEP_LIMIT 4000000u /* steps up to which the lockstep check runs */

struct equiv_config {
    struct run_spec spec;              /* the virtualized side */
    const struct isa_variant *variant;
    size_t memsize;
    uint64_t max_steps;
    const uint8_t *input;
    size_t input_len;
    const struct asm_image *program;   /* borrowed */
    const char *asm_vmm_path;          /* NULL: the built-in asm VMM */
    /* Hooks for the first, full run of the virtualized side (--trace). */
    const struct run_hooks *trace;
    /* The real work of the whole check, every run of both sides together
     * (0: no bound), and a flag that stops it soon after it becomes
     * non-zero (NULL: none; a SIGINT handler's): run_set_bounds. */
    uint64_t max_real_steps;
    const volatile sig_atomic_t *interrupt;
    struct asm_vmm *asm_vmm; /* one loaded already (run_load_asm_vmm), else NULL: asm_vmm_path */
    /* The virtualized side's I/O model (--io, --no-iommu: run_set_io_model),
     * when io_given; the bare side just has the units. */
    bool io_given;
    enum vmm_io_model io_model;
    bool iommu;
};

/* Differences between the two sides, one line each ("r3: bare 0x..., vmm 0x..."). */
struct equiv_lines {
    char text[EQUIV_MAX_LINES][EQUIV_LINE_SIZE];
    size_t n, more; /* more: further differences not written */
};

/* How one side ended. */
struct equiv_end {
    enum machine_stop stop;
    uint32_t status; /* r1 */
    uint64_t steps;
    uint64_t disk_reads, disk_writes, disk_errors; /* the program's disk commands */
};

struct equiv_report {
    /* RUN_CUT_NONE: a verdict.  Else the check stopped there, the real
     * budget spent or interrupted: with no verdict when in the first runs
     * (cut_in_bisection false), else with the first difference known to
     * come after step bisect_lo and at or before first_step. */
    enum run_cut cut;
    bool cut_in_bisection;
    uint64_t bisect_lo;
    uint64_t real_steps;   /* spent by every run together */
    bool equivalent;
    struct equiv_end bare, virt;
    /* When a monitor of the virtualized side gave up. */
    bool gave_up;
    unsigned gave_up_level;
    char gave_up_message[128];
    /* When the C VMM refused the program (pv: not paravirtual ...): why.
     * A refused program is never equivalent. */
    bool refused;
    char refusal[200];
    /* Not equivalent: the first step after which they differ (0: they
     * differ from the start), that step in words, and the differences just
     * after it and at the end. */
    uint64_t first_step;
    char step[320];
    struct equiv_lines at_step, at_end;
    /* The bare run relied on a changed page-table entry without a flush:
     * the first use (pte_use.step + 1 is its step, counted as first_step
     * is), how many translations did, whether that explains the difference
     * (not equivalent, and pte_use.step + 1 <= first_step), and the use in
     * words: "relied on a changed page-table entry without tlbflush at step
     * N (pc 0x..., PTE at 0x... changed 0x... -> 0x...)". */
    bool pte_rule_broken;
    struct machine_pte_use pte_use;
    uint64_t pte_uses;
    bool pte_explains;
    char pte_rule[200];
};

/* Runs and compares.  False, with a one-line message, when a side cannot
 * be made (bad configuration, out of memory, the asm VMM). */
bool equiv_check(const struct equiv_config *cfg, struct equiv_report *out, char err[RUN_ERROR_SIZE]);

/* equiv_check with disk units 0 .. ndisks - 1 on both sides, each side on
 * a copy of its own (the media are only read); the final contents of every
 * unit are compared too ("disk unit K sector S word W: ..."). */
bool equiv_check_disks(const struct equiv_config *cfg, const struct run_medium *disks, unsigned ndisks,
                       struct equiv_report *out, char err[RUN_ERROR_SIZE]);

/* The report as `trapeze equiv` prints it; `what` names the program and
 * the side ("programs/x.s under --stack c,asm (--isa pg)").  A broken
 * page-table rule is a line of its own: before the differences when it
 * explains them, else a "note:" line at the end. */
void equiv_print(FILE *out, const struct equiv_report *rep, const char *what);

#endif
