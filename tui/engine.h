/*
 * engine.h: one debugging session over a run, beneath both front ends.
 *
 * The debugger (debugger.c) and the TUI (tui.c) are views: every decision
 * about running, stopping, breakpoints, the trap log and going backwards is
 * made here, and both reach it through the one command table (commands.h).
 *
 * A session is one run (vmm/run/run.h): the program on a stack of levels,
 * numbered as everywhere in Trapeze from the level on the real machine:
 *
 *   bare:           L0 program
 *   --vmm te:       L0 C VMM (te)   L1 guest
 *   --stack c,asm:  L0 C VMM (te)   L1 asm VMM   L2 guest
 *   --stack asm:    L0 asm VMM      L1 guest
 *
 * Each level is shown through the run's view of it (run_level_view), which
 * is always true: a level that runs is live; a monitor whose guest runs is
 * waiting; a level a monitor below is handling a trap for is suspended,
 * shown as it was just before the trap.
 *
 * Stops.  Motions stop only at boundaries of the level asked about: `step`
 * and `next` of level L, mode and address breakpoints of L, stop where L's
 * code is about to run; a trap (until-trap, trap breakpoints) stops once
 * it is handled: an emulated instruction where its emulator has resumed
 * the level above it, any other trap where the level's own handler
 * begins; the --max-steps budget counts the program's steps and stops
 * where the program runs.
 *
 * Time.  Internally the session counts the run's *units* (run.h), which
 * makes going back exact: everything is deterministic (console input comes
 * from a file), so the engine keeps a journal of what it did (runs of
 * units and register edits) plus snapshots (run_clone), and goes backwards
 * by restoring the latest snapshot before the target and replaying the
 * journal up to it.  Going back forgets the future.  What the views show
 * is the program's step count (engine_guest_steps) and each level's own.
 *
 * Addresses.  Breakpoints, `x` and labels name words of a level's physical
 * memory (machine L's, as in the program's listing); the pc and the
 * disassembly around it are virtual.
 */
#ifndef TRAPEZE_ENGINE_H
#define TRAPEZE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>

#include "../assembler/asm.h"
#include "../isa/isa.h"
#include "../machine/machine.h"
#include "../vmm/run/log.h"
#include "../vmm/run/run.h"

#define ENGINE_MAX_LEVELS RUN_MAX_LEVELS
#define ENGINE_MAX_BREAKS 64
#define ENGINE_NO_LEVEL (~0u)
#define ENGINE_LOG_KEEP 65536u

struct engine;

/* ---- Opening a session -------------------------------------------------------- */

struct engine_config {
    const char *program;               /* a .s source or an image */
    bool embedded;                     /* program is a source built into trapeze (the demo) */
    const char *const *include_dirs;   /* -I: where .include looks after the file's folder */
    size_t ninclude_dirs;
    const struct isa_variant *variant; /* copied */
    size_t mem;                        /* words the program's machine has */
    uint64_t max_steps;                /* the program's steps; 0: no limit */
    const uint8_t *input;              /* console input, copied (may be NULL) */
    size_t input_len;
    struct run_spec spec;              /* the monitors; n = 0: the bare machine */
    const char *asm_vmm_path;          /* the asm levels' source (borrowed); NULL: the one built in */
    struct asm_vmm *asm_vmm;           /* loaded once and shared (run_load_asm_vmm); NULL:
                                        * loaded from asm_vmm_path for this session alone */
    /* The program already assembled (borrowed; it must outlive the session;
     * program then only names it); NULL: program is assembled or read. */
    const struct asm_image *image;
    /* Disk units 0 .. ndisks - 1 (media copied), and where their completed
     * writes go (run_set_disk_sink; NULL: nowhere).  Going back in time
     * rewinds the units, not what the sink was given. */
    const struct run_medium *disks;
    unsigned ndisks;
    void (*disk_sink)(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words);
    void *disk_sink_ctx;
};

/* Loads the program and sets the session up at time 0.  On failure returns
 * NULL after writing the error(s) to errors (assembler messages name
 * file:line:col). */
struct engine *engine_open(const struct engine_config *cfg, FILE *errors);
void engine_close(struct engine *e);

/* The run, for views and reports (never to run it). */
const struct run *engine_run(const struct engine *e);

/* ---- Levels -------------------------------------------------------------------- */

unsigned engine_level_count(const struct engine *e);
/* The view of level L (< engine_level_count): run_level_view. */
void engine_level(const struct engine *e, unsigned L, struct run_level_view *out);
/* "L2 guest: traps.s", "L0 C VMM (te)", "L1 asm VMM". */
void engine_level_name(const struct engine *e, unsigned L, char *buf, size_t size);
/* The level whose code runs now. */
unsigned engine_running_level(const struct engine *e);
/* The program's level: the top one. */
unsigned engine_program_level(const struct engine *e);
/* The level whose code is shown for L: L itself, or for the C VMM (host
 * code), the guest above it. */
unsigned engine_code_level(const struct engine *e, unsigned L);
/* The program's image (symbols and lines). */
const struct asm_image *engine_image(const struct engine *e);
void engine_level_counts(const struct engine *e, unsigned L, struct run_level_counts *out);

/* ---- Memory and addresses ------------------------------------------------------ */

/* Reads word addr of machine L's physical memory.  False outside it. */
bool engine_read_phys(const struct engine *e, unsigned L, uint32_t addr, uint32_t *value);
/* Translates virtual va under level L's PSW (as its view shows it) to
 * machine L's physical memory.  False with *detail when it does not. */
bool engine_translate(const struct engine *e, unsigned L, uint32_t va, uint32_t *pa,
                      unsigned *detail);
/* Maps machine-L physical pa to real memory. */
bool engine_to_real(const struct engine *e, unsigned L, uint32_t pa, uint32_t *real);
/* The f-map level L's monitor keeps (run_fmap). */
unsigned engine_fmap(const struct engine *e, unsigned L, bool composed, struct run_extent *out,
                     unsigned max);

/* ---- Page tables and the way of an address (vmm/run/run.h) ------------------------ */

/* Level L's tables for its virtual pages (run_page_tables), each with its
 * last change: the C VMM's own record, or, for the asm VMM's shadow and
 * the levels' own tables, the entry that differed from what they held at
 * the previous stop of a forward motion (going back forgets those). */
unsigned engine_page_tables(const struct engine *e, unsigned L, struct run_page_table *out,
                            unsigned max);
/* Entry vpn of t; false past its entries or its machine's memory. */
bool engine_page_entry(const struct engine *e, const struct run_page_table *t, uint32_t vpn,
                       uint32_t *pte);
/* What that entry says (run_pte_decode). */
void engine_pte_decode(const struct engine *e, const struct run_page_table *t, bool present,
                       uint32_t pte, struct run_pte_meaning *out);
/* Level L's virtual va, hop by hop to the real word (run_translate_chain). */
bool engine_translate_chain(const struct engine *e, unsigned L, uint32_t va, struct run_chain *out);

/* The label at exactly machine-L physical pa, the nearest one below it
 * (within an image's words), and the source line there ("traps.s:57" in
 * where, the text in text; either may be NULL). */
const char *engine_label_at(const struct engine *e, unsigned L, uint32_t pa);
const char *engine_label_near(const struct engine *e, unsigned L, uint32_t pa, uint32_t *offset);
bool engine_source_line(struct engine *e, unsigned L, uint32_t pa, char *where, size_t wsize,
                        const char **text);
/* Disassembles the word at L-virtual va; branch targets are named by
 * labels.  False when va does not translate (buf then says why). */
bool engine_disassemble(const struct engine *e, unsigned L, uint32_t va, uint32_t *word, char *buf,
                        size_t size);
/* Where level L is in its code: its pc, or for a level that halted, the
 * halt's address (the pc is past it).  False when L has no pc (host code). */
bool engine_pc(const struct engine *e, unsigned L, uint32_t *pc);
/* Looks a name up among the program's symbols (labels and .equ). */
bool engine_symbol(const struct engine *e, const char *name, uint32_t *value);
/* The i-th symbol name of the program (for completion), NULL past the end. */
const char *engine_symbol_name(const struct engine *e, size_t i);

/* ---- The trap log -------------------------------------------------------------- */

/* How many traps the session's history holds (the last one's number). */
uint64_t engine_trap_total(const struct engine *e);
/* Trap number seq, or NULL when it is not kept any more (the log keeps the
 * most recent ENGINE_LOG_KEEP) or does not exist. */
const struct run_event *engine_trap_get(const struct engine *e, uint64_t seq);
/* One line about it (run_event_describe). */
void engine_describe_trap(const struct engine *e, uint64_t seq, bool compact, char *buf, size_t size);
const struct run_log_counts *engine_trap_counts(const struct engine *e);

/* ---- Breakpoints ----------------------------------------------------------------- */

enum engine_break_kind {
    ENGINE_BREAK_ADDR,  /* before level L executes the word at L-physical addr */
    ENGINE_BREAK_TRAP,  /* once a trap of this cause (CAUSE_NONE: any) is handled */
    ENGINE_BREAK_MODE,  /* when level L's mode (M) has changed, where it runs */
    ENGINE_BREAK_LEVEL, /* when level L gets control (runs, or, host code, handles a trap) */
    ENGINE_BREAK_WATCH, /* when the word at L-physical addr has changed, at a boundary */
};

struct engine_break {
    unsigned id;
    enum engine_break_kind kind;
    unsigned level;       /* ENGINE_NO_LEVEL for a trap of any level */
    uint32_t addr;        /* ENGINE_BREAK_ADDR */
    enum isa_cause cause; /* ENGINE_BREAK_TRAP */
    bool temporary;       /* tbreak: the front end deletes it once hit */
    uint64_t hits;        /* stops it made, forwards and backwards */
    uint32_t seen;        /* ENGINE_BREAK_WATCH: the word as last seen (set here) */
    uint32_t was;         /*   ... and, after it stopped a run, the value before */
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
    ENGINE_STEP,        /* one step of level L: to its next boundary, one step on */
    ENGINE_NEXT,        /* the same, and a trap into its own handler run through  */
    ENGINE_UNTIL_TRAP,  /* to the next trap, once it is handled                   */
    ENGINE_CONTINUE,    /* to a breakpoint or the end                             */
};

enum engine_outcome {
    ENGINE_DONE,       /* the motion completed                               */
    ENGINE_RUNNING,    /* the slice ran out: engine_go again to go on        */
    ENGINE_BREAK,      /* a breakpoint (result.breakpoint) stopped it        */
    ENGINE_TRAPPED,    /* until-trap: a trap was handled                     */
    ENGINE_EXITED,     /* the program stopped: halt, machine check, ...      */
    ENGINE_BUDGET,     /* the program took --max-steps steps                 */
    ENGINE_STALLED,    /* the monitors ran RUN_STALL_UNITS units without a step of the program */
    ENGINE_AT_START,   /* going back reached the start of the history        */
    ENGINE_FAILED,     /* out of memory, or no motion under way              */
    ENGINE_INTERRUPTED,/* the interrupt flag was set (Ctrl-C): a usable stop */
};

struct engine_result {
    enum engine_outcome outcome;
    unsigned breakpoint;   /* ENGINE_BREAK: its id */
    uint64_t first_trap;   /* the traps logged by this motion: first_trap .. */
    uint64_t last_trap;    /*   .. last_trap (none when first_trap > last_trap) */
    uint64_t units;        /* time gained (forward) or lost (backward), in units */
};

/* Starts a motion of level L (ignored by until-trap and continue). */
void engine_begin(struct engine *e, enum engine_motion motion, unsigned L);
/* Starts n steps of level L as one motion: where n single steps would
 * end, but a breakpoint or trap on the way stops it, as in gdb.  For host
 * code (whose step is its next action), the same as engine_begin. */
void engine_begin_steps(struct engine *e, unsigned L, uint64_t n);
/* Runs the motion under way for at most slice units (0: no limit); returns
 * ENGINE_RUNNING when the slice ended first. */
struct engine_result engine_go(struct engine *e, uint64_t slice);
/* Back to level L's previous instruction boundary (for host code: to just
 * before the last trap it handled). */
struct engine_result engine_reverse_step(struct engine *e, unsigned L);
/* Back n of level L's instruction boundaries at once: one replay from the
 * snapshots to the target, not n (ENGINE_AT_START when fewer exist). */
struct engine_result engine_reverse_steps(struct engine *e, unsigned L, uint64_t n);
/* Back one of level L's instructions as next would have stepped over it
 * (n times): when L is where a trap into its own handler returned it, to
 * the instruction that trapped (an interrupt: the one before it), the
 * handler run back through; otherwise reverse-step. */
struct engine_result engine_reverse_next(struct engine *e, unsigned L, uint64_t n);
/* Back to the latest earlier point where a breakpoint would have stopped a
 * forward run, else to the start. */
struct engine_result engine_reverse_continue(struct engine *e);

/* The session's run again from its start to now, on a copy whose hooks see
 * every event in order (typed input and register edits replayed where
 * they were made): what a diagram of the steps so far records.  The
 * session is untouched.  The caller destroys the copy; NULL without memory. */
struct run *engine_replay_copy(struct engine *e, const struct run_hooks *hooks);

/* Ctrl-C: a flag a signal handler sets (owned by main; may be NULL).  The
 * engine polls it every few thousand units in every motion, forwards and
 * back; when set, the motion stops with ENGINE_INTERRUPTED at a boundary
 * (going back: where it began), and the flag is left for the caller to clear. */
void engine_set_interrupt(struct engine *e, const volatile sig_atomic_t *flag);

/* ---- State ------------------------------------------------------------------------- */

uint64_t engine_time(const struct engine *e);        /* units */
uint64_t engine_guest_steps(const struct engine *e); /* the program's steps */
uint64_t engine_real_steps(const struct engine *e);  /* the real machine's */
uint64_t engine_max_steps(const struct engine *e);
/* True when the program has stopped for good (until going back); *why and
 * *status (r1) say how. */
bool engine_exited(const struct engine *e, enum machine_stop *why, uint32_t *status);
/* The program's console output so far (it shrinks when going back). */
const uint8_t *engine_output(const struct engine *e, size_t *len);
/* Sets register r (1..15) of level L, or its pc when r == ENGINE_REG_PC,
 * while L runs (run_set_reg); the edit is journalled so that going back
 * and forth keeps it.  False with a message in err. */
#define ENGINE_REG_PC RUN_REG_PC
/* Appends bytes to the program's console input now (typed by the user),
 * journalled with the time, so that going back and forth replays it where
 * it was typed (going back before it forgets it, with the rest of the
 * future).  At most ENGINE_TYPED_MAX bytes a session.  False with a message. */
#define ENGINE_TYPED_MAX (1u << 20)
bool engine_feed_input(struct engine *e, const uint8_t *bytes, size_t n, char *err, size_t errsize);
bool engine_set_reg(struct engine *e, unsigned L, unsigned r, uint32_t value, char *err,
                    size_t errsize);

#endif
