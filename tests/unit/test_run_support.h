/*
 * test_run_support.h: helpers for the tests of runs (vmm/run/run.h), the
 * event log (vmm/run/log.h) and the equivalence check (vmm/equiv/equiv.h).
 *
 * The reference for everything a program can see is a plain machine
 * (machine.h) on which the program runs bare: the run layer is never
 * compared with itself.  Every helper asserts with Criterion, so a failure
 * inside one fails the calling test.
 */
#ifndef TRAPEZE_TEST_RUN_SUPPORT_H
#define TRAPEZE_TEST_RUN_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../assembler/asm.h"
#include "../../machine/machine.h"
#include "../../vmm/run/run.h"

#define TR_MEM 65536u
#define TR_BIG_BUDGET 200000000ull

/* Programs: a file of the tree (the tests run from its root), or text. */
struct asm_image tr_load_file(const char *path);
struct asm_image tr_load_text(const char *text);

/* A spec by its text ("c,asm", "bare"); asserts that it parses.  The C
 * VMM's mode is te unless tr_spec_mode says otherwise. */
struct run_spec tr_spec(const char *text);

/* The console input beside a program (X.s -> X.input), malloc'd, or NULL
 * with *len = 0 when there is none. */
uint8_t *tr_input_of(const char *path, size_t *len);

/* A run of one program under spec (variant by name, memory in words);
 * asserts that it is made. */
struct run *tr_run(const char *spec, const char *variant, const struct asm_image *img, size_t mem);
/* The same with a run_spec (for modes other than te). */
struct run *tr_run_spec(const struct run_spec *spec, const char *variant, const struct asm_image *img,
                        size_t mem);

/* The program on a bare machine of mem words (variant by name), reset at
 * its entry, input fed; not run.  Destroy with machine_destroy. */
struct machine *tr_bare(const struct asm_image *img, const char *variant, size_t mem,
                        const uint8_t *input, size_t input_len);

/* Compares what guest g of run shows (run_guest_state) with the bare
 * machine m stopped with bstop: stop, registers, PSW, memory size and every
 * word, output, retired instructions, steps, traps by cause, and (when the
 * bare machine trapped) the last trap.  False with the first difference. */
bool tr_same_guest(const struct machine *m, enum machine_stop bstop, const struct run *r, unsigned g,
                   enum machine_stop rstop, char *why, size_t size);

/* The program runs bare and under spec for `budget` steps from the start,
 * and everything it can see is the same.  Returns nothing; asserts. */
void tr_check_equivalent_image(const struct asm_image *img, const char *what, const char *spec,
                               const char *variant, size_t mem, uint64_t budget,
                               const uint8_t *input, size_t len);
/* The same for a program file, with the input beside it. */
void tr_check_equivalent(const char *path, const char *spec, size_t mem, uint64_t budget);

/* Two runs' guest g shows the same (as tr_same_guest), with run_time. */
bool tr_same_runs(const struct run *a, const struct run *b, unsigned g, char *why, size_t size);

/* Every asm level's VMM code and constants in guest 0's column are intact,
 * and nothing was written between its data (vmm_end) and the shadow table.
 * Asserts. */
void tr_check_vmm_intact(const struct run *r);

/* A bare reference, step by step: the program's state before each step up
 * to `steps`, and for a step that was a trap, the PSW the trap saved. */
struct tr_step {
    uint32_t regs[ISA_NREGS];
    struct psw psw;  /* before the step */
    bool trap;       /* the step was a trap (or an interrupt) */
    struct psw old;  /* trap: the PSW it saved */
    enum machine_stop stop; /* the machine's state before the step */
};
struct tr_trace {
    struct tr_step *at; /* at[s]: before step s + 1, i.e. after s steps */
    uint64_t n;         /* at[0 .. n] are known (the machine stopped, or the limit) */
};
struct tr_trace tr_trace_bare(const struct asm_image *img, const char *variant, size_t mem,
                              uint64_t steps);
void tr_trace_free(struct tr_trace *t);

/* A small kernel that does one of everything a trap can be: a supervisor
 * srr (label ksrr), an lpsw (klpsw) into a user task relocated to 0x1000
 * with interrupts and a timer of 50 on, svc 1 from user mode every eight
 * rounds (usvc, saved pc uskip), timer interrupts its handler re-arms, and
 * svc 3 to halt with r1 = 100 + the ticks. */
extern const char tr_ev_guest[];

/* Writes text to dir/name (made with mkdtemp by the caller). */
void tr_write_file(const char *dir, const char *name, const char *text);
/* A whole file, malloc'd and NUL-terminated. */
char *tr_read_file(const char *path);

#endif
