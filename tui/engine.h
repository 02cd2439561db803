/*
 * engine.h: one debugging session over a run, beneath both front ends.
 *
 * The debugger (debugger.c) and the TUI (tui.c) are views: every decision
 * about running, stopping, breakpoints, the trap log and going backwards is
 * made here, and both reach it through the one command table (commands.h).
 *
 * A session is a program on a stack of levels, numbered from the bottom:
 *
 *   bare:          L0 machine (the program runs on it)
 *   --vmm MODE:    L0 machine   L1 C VMM   L2 guest (the program)
 *   --stack c,asm: L0 machine   L1 C VMM   L2 asm VMM   L3 guest
 *   --stack asm:   L0 machine   L1 asm VMM   L2 guest
 *
 * (vmm/stack.h numbers its levels from the bottom monitor: its level i is
 * level i + 1 here, and runs on its machine i.)
 *
 * Each level has, where it makes sense, its registers, its own PSW (the
 * virtual one for a guest) and the real PSW it runs with; its physical
 * memory and the f-map from it down to the level below its monitor.
 *
 * Time.  The session's clock counts *units*: steps of the lowest level that
 * executes instructions (the machine's steps when bare, the guest's steps
 * under the C VMM).  Everything is deterministic (console input comes from a
 * file), so the engine keeps a journal of what it did (runs of units and
 * register edits) plus snapshots, and goes backwards by restoring the
 * latest snapshot before the target (machine_clone, vmm_clone) and
 * replaying the journal up to it.  Going back forgets the future: the
 * journal is cut at the new present.
 *
 * Addresses.  Breakpoints, `x` and labels name words of a level's physical
 * memory (the program's addresses, as in its listing); the pc and the
 * disassembly around it are virtual.  With relocation and paging off both
 * are the same.
 */
#ifndef TRAPEZE_ENGINE_H
#define TRAPEZE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../assembler/asm.h"
#include "../isa/isa.h"
#include "../machine/machine.h"
#include "../vmm/stack.h"

#define ENGINE_MAX_LEVELS 8
#define ENGINE_MAX_BREAKS 64
#define ENGINE_NO_LEVEL (~0u)

struct engine;

/* ---- Opening a session -------------------------------------------------------- */

enum engine_monitor {
    ENGINE_MON_NONE,  /* the bare machine                          */
    ENGINE_MON_C,     /* the C VMM (vmm.h), one guest, in vmm_mode */
    ENGINE_MON_STACK, /* a stack of monitors (vmm/stack.h)         */
};

struct engine_config {
    const char *program;               /* a .s source or an image */
    const struct isa_variant *variant; /* copied */
    size_t mem;                        /* words the program's machine has */
    uint64_t max_steps;                /* units; 0: no limit */
    const uint8_t *input;              /* console input, copied (may be NULL) */
    size_t input_len;
    enum engine_monitor monitor;
    unsigned vmm_mode; /* enum vmm_mode, for ENGINE_MON_C */
    struct stack_spec stack; /* for ENGINE_MON_STACK */
};

/* Loads the program and sets the session up at time 0.  On failure returns
 * NULL after writing the error(s) to errors (assembler messages name
 * file:line:col). */
struct engine *engine_open(const struct engine_config *cfg, FILE *errors);
void engine_close(struct engine *e);

/* ---- Levels -------------------------------------------------------------------- */

enum engine_level_kind {
    ENGINE_LEVEL_MACHINE, /* the real machine                          */
    ENGINE_LEVEL_CVMM,    /* the C VMM: host code, no registers        */
    ENGINE_LEVEL_ASMVMM,  /* programs/vmm/vmm.s: code of the machine   */
    ENGINE_LEVEL_GUEST,   /* the program, as a guest of a monitor      */
};

struct engine_level {
    enum engine_level_kind kind;
    char name[64];   /* "machine", "C VMM (te)", "guest: traps.s" */
    bool has_regs;   /* regs[] are this level's registers */
    uint32_t regs[ISA_NREGS];
    bool has_psw;    /* psw is this level's own PSW (virtual for a guest) */
    struct psw psw;
    bool has_real;   /* real is the PSW it runs with on the machine below */
    struct psw real;
    unsigned real_level; /* ... the level that machine belongs to */
    bool interpreted; /* a guest: its next instructions run in the VMM's interpreter */
    bool runs_code;   /* it executes instructions of its own (not the C VMM) */
    bool active;      /* its code is what runs now (always true for L0); a
                         monitor that is not active waits while its machine
                         runs the code of a level above: its registers and
                         PSW are then that machine's, i.e. the upper level's */
    bool has_steps;   /* steps is known */
    uint64_t steps;   /* its processor's steps */
    size_t memsize;   /* words of its physical memory */
};

unsigned engine_level_count(const struct engine *e);
/* Describes level L (< engine_level_count). */
void engine_level(const struct engine *e, unsigned L, struct engine_level *out);
/* The level whose instructions run now (the program's, or in a stack the
 * monitor at work). */
unsigned engine_running_level(const struct engine *e);
/* The program's level: the top one. */
unsigned engine_program_level(const struct engine *e);
/* The level whose code is shown for L: L itself, or for a monitor written
 * in C, the guest above it. */
unsigned engine_code_level(const struct engine *e, unsigned L);
/* The program's image (symbols and lines), for the program's level. */
const struct asm_image *engine_image(const struct engine *e);

/* Counters of a monitor level; false for other levels.  direct,
 * interpreted, entries and efficiency are the C VMM's own (0 for vmm.s). */
struct engine_vmm_counts {
    const char *mode; /* "te", "hvm", "interp", or "asm" */
    uint64_t direct, emulated, interpreted, reflected, entries;
    double efficiency;
};
bool engine_vmm_counts(const struct engine *e, unsigned L, struct engine_vmm_counts *out);

/* ---- Memory and addresses ------------------------------------------------------ */

/* Reads word addr of level L's physical memory (for a C VMM: the machine it
 * runs on).  False when addr is outside it. */
bool engine_read_phys(const struct engine *e, unsigned L, uint32_t addr, uint32_t *value);
/* Translates virtual va under level L's current PSW to L-physical.  False
 * with *detail (enum isa_mem_fault) when it does not translate. */
bool engine_translate(const struct engine *e, unsigned L, uint32_t va, uint32_t *pa,
                      unsigned *detail);
/* Maps level-L physical pa all the way down to real memory. */
bool engine_to_real(const struct engine *e, unsigned L, uint32_t pa, uint32_t *real);

/* One contiguous piece of an f-map. */
struct engine_extent {
    uint32_t from;  /* first word in the upper level's physical space */
    uint32_t to;    /* where it lives one level down (or in real memory) */
    uint32_t words;
};
/* The f-map of level L: its physical space onto the physical space of its
 * monitor's machine (composed = false; *onto names the level whose space
 * that is) or onto real memory (true).  Returns the number of extents
 * written (at most max); 0 for a level that is not a guest of anything.
 * *monitor is set to the level that owns the map. */
unsigned engine_fmap(const struct engine *e, unsigned L, bool composed, struct engine_extent *out,
                     unsigned max, unsigned *monitor, unsigned *onto);

/* The label at exactly L-physical pa, the nearest one below it, and the
 * source line there ("traps.s:57" in where, the text in text; either may be
 * NULL).  Labels come from the image of engine_code_level(L). */
const char *engine_label_at(const struct engine *e, unsigned L, uint32_t pa);
const char *engine_label_near(const struct engine *e, unsigned L, uint32_t pa, uint32_t *offset);
bool engine_source_line(struct engine *e, unsigned L, uint32_t pa, char *where, size_t wsize,
                        const char **text);
/* Disassembles the word at L-virtual va (translated under L's PSW); branch
 * targets are named by labels.  False when va does not translate (buf then
 * says why). */
bool engine_disassemble(const struct engine *e, unsigned L, uint32_t va, uint32_t *word, char *buf,
                        size_t size);
/* The pc of level L (virtual); false when L has none. */
bool engine_pc(const struct engine *e, unsigned L, uint32_t *pc);
/* Looks a name up among the program's symbols (labels and .equ). */
bool engine_symbol(const struct engine *e, const char *name, uint32_t *value);
/* The i-th symbol name of the program (for completion), NULL past the end. */
const char *engine_symbol_name(const struct engine *e, size_t i);

/* ---- The trap log ---------------------------------------------------------------- */

enum engine_how {
    ENGINE_HW,        /* the hardware delivered it to the level's own handler (trap area) */
    ENGINE_EMULATED,  /* a monitor carried the instruction out on the virtual state */
    ENGINE_REFLECTED, /* a monitor delivered it to the guest's own handler */
    ENGINE_DELIVERED, /* a monitor delivered a virtual interrupt to the guest */
};
const char *engine_how_name(enum engine_how how); /* "hardware", "emulated", ... */

/* One trap, from where it arose to where it was handled. */
struct engine_trap {
    uint64_t seq;       /* 1, 2, ... in the session's history */
    uint64_t time;      /* the session's time just after it */
    enum isa_cause cause;
    unsigned detail;    /* MEM: enum isa_mem_fault */
    uint32_t value;
    uint32_t pc;        /* the saved pc (ISA.md: the instruction, or the next one) */
    uint32_t pc_phys;   /* the saved pc in the raising level's physical memory ... */
    bool has_pc_phys;   /* ... when it translates */
    uint32_t insn;      /* the instruction word when it is known, else 0 */
    bool has_insn;
    unsigned level;     /* the level whose code raised it */
    bool supervisor;    /* that level's (virtual) mode then */
    bool interpreted;   /* it arose in a monitor's interpreter, not on the hardware */
    unsigned handler;   /* the level that handled it */
    unsigned via;       /* the first monitor it reached, when it was passed up
                           from there to handler; else ENGINE_NO_LEVEL */
    enum engine_how how;
    unsigned target;    /* the level whose code runs next: the handler's guest
                           for reflected/delivered, the raising level otherwise */
};

/* How many traps the session's history holds (the last one's seq). */
uint64_t engine_trap_total(const struct engine *e);
/* The trap numbered seq, or NULL when it is not kept any more (the log keeps
 * the most recent ENGINE_LOG_KEEP) or does not exist. */
#define ENGINE_LOG_KEEP 65536u
const struct engine_trap *engine_trap_get(const struct engine *e, uint64_t seq);

/* ---- Breakpoints ----------------------------------------------------------------- */

enum engine_break_kind {
    ENGINE_BREAK_ADDR,  /* before level L executes the word at L-physical addr */
    ENGINE_BREAK_TRAP,  /* after a trap of this cause (CAUSE_NONE: any) is handled */
    ENGINE_BREAK_MODE,  /* when level L's mode (M) changes */
    ENGINE_BREAK_LEVEL, /* when level L gets control (runs, or handles a trap) */
};

struct engine_break {
    unsigned id;
    enum engine_break_kind kind;
    unsigned level;
    uint32_t addr;        /* ENGINE_BREAK_ADDR */
    enum isa_cause cause; /* ENGINE_BREAK_TRAP */
    uint64_t hits;
};

/* Adds a breakpoint (id and hits are set here).  Returns its id, or 0 when
 * the table is full or an equal one exists (*existing then names it). */
unsigned engine_break_add(struct engine *e, const struct engine_break *b, unsigned *existing);
bool engine_break_delete(struct engine *e, unsigned id);
void engine_break_clear(struct engine *e);
unsigned engine_break_count(const struct engine *e);
const struct engine_break *engine_break_get(const struct engine *e, unsigned i);
/* The id of the address breakpoint at (L, pa), or 0. */
unsigned engine_break_find(const struct engine *e, unsigned L, uint32_t pa);

/* ---- Running ------------------------------------------------------------------------ */

enum engine_motion {
    ENGINE_STEP,        /* one instruction of the level                      */
    ENGINE_NEXT,        /* the same, and a trap into its handler run through */
    ENGINE_UNTIL_TRAP,  /* to the next trap                                  */
    ENGINE_CONTINUE,    /* to a breakpoint or the end                        */
};

enum engine_outcome {
    ENGINE_DONE,       /* the motion completed                               */
    ENGINE_RUNNING,    /* the slice ran out: engine_go again to go on        */
    ENGINE_BREAK,      /* a breakpoint (result.breakpoint) stopped it        */
    ENGINE_TRAPPED,    /* until-trap: a trap was handled                     */
    ENGINE_EXITED,     /* the program stopped: halt, machine check, ...      */
    ENGINE_BUDGET,     /* --max-steps units were spent                       */
    ENGINE_AT_START,   /* going back reached the start of the history        */
    ENGINE_FAILED,     /* out of memory, or no motion under way              */
};

struct engine_result {
    enum engine_outcome outcome;
    unsigned breakpoint;   /* ENGINE_BREAK: its id */
    uint64_t first_trap;   /* the traps logged by this motion: seq first_trap .. */
    uint64_t last_trap;    /*   .. last_trap (none when first_trap > last_trap) */
    uint64_t units;        /* time gained (forward) or lost (backward) */
};

/* Starts a motion of level L (ignored by until-trap and continue). */
void engine_begin(struct engine *e, enum engine_motion motion, unsigned L);
/* Runs the motion under way for at most slice units (0: no limit); returns
 * ENGINE_RUNNING when the slice ended first. */
struct engine_result engine_go(struct engine *e, uint64_t slice);
/* Back to the start of the last unit in which level L executed (or, for a
 * C VMM level, handled a trap). */
struct engine_result engine_reverse_step(struct engine *e, unsigned L);
/* Back to the latest earlier point where a breakpoint would have stopped a
 * forward run, else to the start. */
struct engine_result engine_reverse_continue(struct engine *e);

/* ---- State ------------------------------------------------------------------------- */

uint64_t engine_time(const struct engine *e);
uint64_t engine_max_steps(const struct engine *e);
/* True when the program has stopped for good (until going back); *why and
 * *status (r1) say how. */
bool engine_exited(const struct engine *e, enum machine_stop *why, uint32_t *status);
/* The program's console output so far (it shrinks when going back). */
const uint8_t *engine_output(const struct engine *e, size_t *len);
/* Sets register r (1..15) of level L, or its pc when r == ISA_NREGS; the
 * edit is journalled so that going back and forth keeps it.  False with a
 * message in err when L has no registers of its own, or for the pc in a
 * stack of monitors (each level below keeps its own copy of it). */
#define ENGINE_REG_PC ISA_NREGS
bool engine_set_reg(struct engine *e, unsigned L, unsigned r, uint32_t value, char *err,
                    size_t errsize);

#endif
