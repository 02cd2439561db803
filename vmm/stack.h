/*
 * stack.h: stacks of virtual machine monitors on one real machine.
 *
 * A stack is a list of monitors from the bottom up, then one guest: "c"
 * is the C VMM (vmm.h), which can only be the bottom one because it is not
 * a program of the machine; "asm" is programs/vmm/vmm.s, a program of the
 * machine that runs on whatever machine it is given, bare or virtual.
 *
 *   spec "c,asm,asm":                     spec "asm,asm":
 *
 *   level 3  guest program                level 2  guest program
 *   level 2  asm VMM   (machine 2)        level 1  asm VMM   (machine 1)
 *   level 1  asm VMM   (machine 1)        level 0  asm VMM   (machine 0 = real)
 *   level 0  C VMM     owns machine 0 = the real machine
 *
 * Level i runs on machine i; monitor i provides machine i + 1; the guest
 * runs on machine n (n = number of monitors; with none, the stack is the
 * bare machine).  Every machine's memory is a region of the one below it:
 * an asm VMM puts its guest at GUEST_BASE of its own memory, so machine i
 * has GUEST_BASE words more than machine i + 1, and the guest's machine
 * has exactly the memory size asked for.
 *
 * Loading: each asm level's memory gets the VMM image at 0 with the word
 * `guest_entry` set to the entry of the level above (the VMM's own entry,
 * or the guest program's); the guest image goes at guest-physical 0 of the
 * top machine.  Every machine starts from reset.
 *
 * Accounting (cfg.accounting) attributes every instruction to the level
 * whose code it is, exactly: under the C VMM by its events (every change
 * of level passes through it); on the bare machine by an observer that
 * follows the bottom VMM's handler one instruction at a time, from each
 * trap to its lpsw, and lets everything else run at full speed.  Measured
 * cost: about 1.1x for a guest that mostly computes, up to 2.5x on the bare
 * machine for a guest that executes a privileged instruction every 50
 * (the bottom VMM then runs half of all instructions, one at a time), and
 * 1.25x under the C VMM.  Accounting also makes the step budget exact.
 *
 * Nothing here prints or exits.
 */
#ifndef TRAPEZE_STACK_H
#define TRAPEZE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../assembler/asm.h"
#include "../isa/isa.h"
#include "../machine/machine.h"
#include "vmm.h"

#define STACK_MAX_MONITORS 8
#define STACK_ERROR_SIZE 512

enum stack_kind { STACK_C, STACK_ASM };

struct stack_spec {
    unsigned n;                               /* monitors; 0 = the bare machine */
    enum stack_kind kind[STACK_MAX_MONITORS]; /* bottom first */
};

/* Parses "c,asm,asm" (case-insensitive names, no blanks; "bare" or "" for
 * none).  On failure writes a one-line message into err. */
bool stack_spec_parse(const char *text, struct stack_spec *out, char err[STACK_ERROR_SIZE]);
/* --depth N: 0 is the bare machine, N >= 1 is "c" then N - 1 "asm". */
bool stack_spec_depth(unsigned depth, struct stack_spec *out, char err[STACK_ERROR_SIZE]);
/* "c,asm,asm", or "bare" for none. */
void stack_spec_format(const struct stack_spec *spec, char *buf, size_t size);
const char *stack_kind_name(enum stack_kind k); /* "c", "asm" */

struct stack_config {
    struct stack_spec spec;
    const struct isa_variant *variant; /* every machine's; copied */
    size_t guest_memsize;              /* the guest's machine, in words */
    const char *vmm_source;            /* the asm VMM; NULL: stack_vmm_source() */
    bool accounting;                   /* count instructions by level */
};

/* Where the asm VMM's source is looked for when cfg.vmm_source is NULL:
 * $TRAPEZE_VMM, else programs/vmm/vmm.s in the directory of the running
 * executable or one of its three parents, else in the current directory.
 * Writes the path into buf; false when no such file exists. */
bool stack_vmm_source(char *buf, size_t size);

struct stack;

/* Builds the stack and loads guest (an image: see asm.h) as the innermost
 * guest, every machine reset.  Returns NULL with a one-line message in err
 * when the configuration is invalid, the VMM does not assemble, memory
 * cannot be had or the guest does not fit. */
struct stack *stack_create(const struct stack_config *cfg, const struct asm_image *guest,
                           char err[STACK_ERROR_SIZE]);
void stack_destroy(struct stack *s);
/* A deep copy that runs on independently (snapshots for reverse
 * execution), with the same hooks and no output sink; not while stack_run
 * runs.  NULL when memory cannot be had. */
struct stack *stack_clone(const struct stack *s);

/* Console input for the guest (appended). */
void stack_feed_input(struct stack *s, const uint8_t *bytes, size_t n);
/* Also hands each guest output byte to sink as it is written (NULL: stop). */
void stack_set_output_sink(struct stack *s, void (*sink)(void *ctx, uint8_t byte), void *ctx);
/* An observer of the real machine, called as machine.h says (the stack's
 * own accounting observer forwards to it). */
void stack_set_observer(struct stack *s, const struct machine_observer *obs);

/* A trap of the real machine (or of the C VMM's guest), told the way the
 * TUI's trap log tells it: the level whose code it arose in, and the level
 * whose handler deals with it.  A privileged instruction of a monitor, or
 * of the guest's kernel, is emulated by the monitor below it; anything
 * else passes up through every monitor below (each reflects it) to the
 * arising level's own handler.  The C VMM's own timer is not reported. */
enum stack_handling { STACK_EMULATED, STACK_REFLECTED, STACK_DELIVERED };
struct stack_trap_event {
    unsigned arose;          /* level whose instruction trapped (or was interrupted) */
    unsigned handled;        /* level whose handler takes it */
    enum stack_handling how; /* DELIVERED: an interrupt */
    enum isa_cause cause;
    unsigned detail;         /* as the real machine saw it */
    uint32_t value;
    uint32_t pc;             /* the saved pc, virtual in the arising level */
    uint64_t real_step;      /* the real machine's steps before it */
};
/* Calls hook for every trap (NULL: none).  It works with or without
 * accounting; without, the arising level is computed at the trap. */
void stack_set_trap_hook(struct stack *s,
                         void (*hook)(void *ctx, const struct stack_trap_event *e), void *ctx);

/* ---- Running ---------------------------------------------------------------- */

/* Runs until the guest stops or has taken max_steps steps in all (counted
 * as machine_steps() counts a bare run).  A budget stop happens only where
 * the guest's state is whole: its next instruction is the guest's own.
 * Without accounting the budget counts real machine steps instead (or the
 * C VMM's guest steps).  Returns the guest's stop: HALT, CHECK,
 * UNHANDLED_TRAP, BUDGET, or STOPPED when the observer asked. */
enum machine_stop stack_run(struct stack *s, uint64_t max_steps);

/* ---- The guest, as a bare machine would show it -------------------------------- */

enum machine_stop stack_guest_stop(const struct stack *s);
uint32_t stack_guest_reg(const struct stack *s, unsigned r);
struct psw stack_guest_psw(const struct stack *s);
/* Guest-physical memory: stack_guest_memsize() words. */
const uint32_t *stack_guest_memory(const struct stack *s);
size_t stack_guest_memsize(const struct stack *s);
const uint8_t *stack_guest_output(const struct stack *s, size_t *len);
/* Retired instructions and steps; exact only with accounting (or with no
 * asm level), else 0. */
uint64_t stack_guest_instructions(const struct stack *s);
uint64_t stack_guest_steps(const struct stack *s);
/* Traps the guest took, by cause (interrupts included). */
void stack_guest_traps(const struct stack *s, uint64_t traps[CAUSE_COUNT]);
/* The guest's last trap as its trap area records it; false before any. */
bool stack_guest_last_trap(const struct stack *s, struct machine_trap *t);
/* When an asm VMM gave up (vmm error): its level and a message; else false. */
bool stack_vmm_error(const struct stack *s, unsigned *level, const char **message);

/* ---- Levels (the TUI's level stack) ----------------------------------------------- */

unsigned stack_monitor_count(const struct stack *s);   /* n */
const struct stack_spec *stack_spec_of(const struct stack *s);
struct machine *stack_real_machine(struct stack *s);
const struct machine *stack_real_machine_const(const struct stack *s);
/* The C VMM at level 0, or NULL. */
struct vmm *stack_c_vmm(struct stack *s);
/* The asm VMM's image (symbols, lines), or NULL when there is no asm level. */
const struct asm_image *stack_vmm_image(const struct stack *s);


/* Machine j (0 = real .. n = the guest's): its memory and size, its PSW
 * and its registers as the program running on it sees them.  For a
 * machine made by an asm VMM that is inside its trap handler, the PSW and
 * r1..r4 are those the trap saved. */
uint32_t *stack_machine_memory(struct stack *s, unsigned j, size_t *words);
const uint32_t *stack_machine_memory_const(const struct stack *s, unsigned j, size_t *words);
struct psw stack_machine_psw(const struct stack *s, unsigned j);
uint32_t stack_machine_reg(const struct stack *s, unsigned j, unsigned r);
/* Sets register r of machine j where stack_machine_reg reads it, so the
 * program on machine j sees the value when it next runs.  False for r0, a
 * register outside r1..r15 or a machine beyond the guest's. */
bool stack_machine_set_reg(struct stack *s, unsigned j, unsigned r, uint32_t value);
/* Where machine j's word 0 lives in real memory (machine 0: 0). */
uint64_t stack_machine_offset(const struct stack *s, unsigned j);
/* Monitor i's f-map: machine i + 1's physical memory onto machine i's
 * (the C VMM's is vmm_guest_fmap's).  Compose them with
 * stack_machine_offset() to reach real memory.  False when i >= n. */
bool stack_fmap(const struct stack *s, unsigned i, struct vmm_fmap *out);
/* The level whose code the real machine runs now (0 .. n). */
unsigned stack_current_level(const struct stack *s);

/* Per-level accounting.  Level i < n is monitor i, level n the guest.
 *   instructions  that level's instructions completed, however: directly
 *                 or emulated below (the C VMM runs none: 0)
 *   traps         traps and interrupts that reached it (a monitor's
 *                 dispatcher; the guest's own handler)
 *   emulated      instructions it carried out for the level above
 *   interpreted   of which non-system ones (the C VMM's interpreter)
 *   reflected     traps it delivered to the level above
 *   amplification monitors: machine instructions it spent per privileged
 *                 instruction of the guest (the C VMM: emulations); the
 *                 guest: the sum over every monitor */
struct stack_level_stats {
    const char *name; /* "c", "asm", "guest", "bare" */
    uint64_t instructions;
    uint64_t traps;
    uint64_t emulated;
    uint64_t interpreted;
    uint64_t reflected;
    double amplification;
};
void stack_level_stats(const struct stack *s, unsigned level, struct stack_level_stats *out);
/* The guest's privileged instructions (emulated by the top monitor). */
uint64_t stack_guest_privileged(const struct stack *s);

#endif
