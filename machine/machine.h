/*
 * machine.h: the Trapeze processor as a value.
 *
 * A machine is an opaque object with its own memory, registers, PSW, console
 * and hooks; a process may hold as many as it likes.  Nothing here prints,
 * exits or aborts: a guest that misbehaves raises a trap inside the machine,
 * and a run ends with a status saying why.
 *
 * Two hooks let other parts of Trapeze watch and take over:
 *
 *   observer  before every instruction (tracing, breakpoints) and after every
 *             trap.  When before_insn is NULL the interpreter runs a loop
 *             compiled without the call, so an unset observer costs nothing.
 *             Filtered to system instructions (machine_set_observer_filter),
 *             before_insn is called only where the interpreter leaves its
 *             hot loop anyway, so the loop keeps its speed between them.
 *   monitor   receives every trap *instead of* the trap area: the host-level
 *             VMM.  The monitor sees the PSW as the trap would have saved it
 *             and decides the next PSW itself.
 *
 * Devices on ports >= 16 attach through a small callback table.
 */
#ifndef TRAPEZE_MACHINE_H
#define TRAPEZE_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa/isa.h"

struct machine;

/* Why machine_run returned. */
enum machine_stop {
    MACHINE_BUDGET,         /* ran the number of steps asked for             */
    MACHINE_HALT,           /* executed halt; exit status is r1              */
    MACHINE_CHECK,          /* a trap's new PSW has a pc that does not translate */
    MACHINE_UNHANDLED_TRAP, /* a trap found the new PSW all zero             */
    MACHINE_STOPPED,        /* the observer or the monitor asked to stop     */
};
const char *machine_stop_name(enum machine_stop s); /* "halt", "budget", ... */

/* One trap, as the hardware saw it. */
struct machine_trap {
    enum isa_cause cause;
    unsigned detail;     /* MEM: enum isa_mem_fault; else 0        */
    uint32_t value;      /* the trap value of ISA.md's table        */
    struct psw old_psw;  /* the PSW as the trap saves it            */
    uint64_t step;       /* steps taken before this trap            */
};

enum machine_verdict { MACHINE_CONTINUE, MACHINE_STOP_RUN };

struct machine_observer {
    void *ctx;
    /* Called with m's pc at the instruction, after a successful fetch and
     * before execution; returning MACHINE_STOP_RUN stops before executing it.
     * It may change m (registers, PSW, memory): the run goes on from the
     * state it leaves, without a new interrupt check. */
    enum machine_verdict (*before_insn)(void *ctx, struct machine *m, uint32_t pc,
                                        uint32_t insn);
    /* Called after a trap has been delivered (through the trap area or to the
     * monitor); returning MACHINE_STOP_RUN ends the run after it. */
    enum machine_verdict (*after_trap)(void *ctx, struct machine *m,
                                       const struct machine_trap *trap);
};

/* One exit from guest mode (feature assist, isa/README.md), as the
 * control block's words 31..36 record it. */
struct machine_exit {
    enum isa_exit_reason reason;
    enum isa_cause cause; /* TRAP: the trap; SLT: CAUSE_MEM; else CAUSE_NONE     */
    unsigned detail;      /* TRAP MEM: enum isa_mem_fault; SLT: the SLT walk's own */
    uint32_t value;       /* TRAP: the trap value; SLT: the guest-virtual address  */
    uint32_t insn;        /* INSN: the instruction; else its word when known, or 0 */
    uint32_t gpa;         /* SLT: the guest-physical address that failed           */
    struct psw guest_psw; /* the guest PSW the exit saved (pc = the exit pc)       */
    uint64_t step;        /* steps taken before this exit                           */
};

struct machine_monitor {
    void *ctx;
    /* The machine's PSW holds trap->old_psw when this is called; the monitor
     * sets whatever state should run next.  MACHINE_STOP_RUN ends the run. */
    enum machine_verdict (*on_trap)(void *ctx, struct machine *m,
                                    const struct machine_trap *trap);
};

struct machine_device {
    void *ctx;
    uint32_t (*read)(void *ctx, struct machine *m, uint32_t port);
    void (*write)(void *ctx, struct machine *m, uint32_t port, uint32_t value);
};

struct machine_stats {
    uint64_t retired;                 /* instructions completed without trapping */
    uint64_t traps[CAUSE_COUNT];      /* by cause, interrupts included           */
    uint64_t output_dropped;          /* console bytes beyond the kept buffer    */
    uint64_t tlb_flushes;             /* tlbflush and PSW loads (lpsw, traps): the
                                         points where cached translations die  */
    uint64_t stale_pte_uses;          /* translations that read a page-table entry
                                         changed since the last flush (below)  */
    uint64_t pte_writes_unchecked;    /* stores that changed an entry when the
                                         record was full: uses of it go unseen  */
    uint64_t disk_reads, disk_writes; /* disk commands that moved a sector      */
    uint64_t disk_errors;             /* ... and that failed (ISA.md's rules)   */
    uint64_t exits[EXIT_REASON_COUNT]; /* exits from guest mode, by reason: each a step */
    uint64_t traps_and_exits;         /* the sums of traps[] and exits[], kept as they
                                         count: machine_steps is asked every unit */
};

enum machine_access { ACCESS_FETCH, ACCESS_LOAD, ACCESS_STORE };

/*
 * ISA.md's page-table rule, watched: "after a store changes a page-table
 * entry, software must execute tlbflush (or load a PSW) before it relies on
 * the change".  This machine caches no translation, so a program that
 * breaks the rule runs as if it had flushed; a VMM with shadow tables may
 * not, and the two runs differ.  The machine makes that visible:
 *
 *   PG=1, table [base, base + bound)   a store that changes one of its
 *                                      words records (address, old value)
 *   tlbflush, lpsw, a trap or          the record is emptied (a flush;
 *   interrupt, machine_set_psw/reset   silent tlbflush and lpsw are not)
 *   a translation by the program       reads a recorded entry whose value
 *   (fetch, load, store, lpsw operand) differs from the old one: a use
 *
 * A use counts whether the translation then succeeds or faults: a fault
 * that a stale translation would not have taken relies on the change too.
 * The record holds MACHINE_PTE_RECORD entries; entries changed beyond them
 * are counted in stats.pte_writes_unchecked and their uses are not seen (a
 * false alarm would be worse than a missed one).  Writes by the host
 * (machine_memory) and by devices are not stores and are not recorded.
 */
#define MACHINE_PTE_RECORD 16

struct machine_pte_use {
    uint64_t step;              /* steps taken before the instruction (as machine_trap.step):
                                   it is step + 1 in a 1-based count */
    uint32_t pc;                /* the instruction's virtual address */
    uint32_t va;                /* the virtual address being translated */
    enum machine_access access; /* lpsw's operand words are loads */
    uint32_t pte_pa;            /* the entry's physical address */
    uint32_t old_value;         /* the entry at the last flush */
    uint32_t new_value;         /* the entry the translation read */
};

/* ---- Life cycle ----------------------------------------------------------- */

/* A machine of memsize words (at least TRAP_AREA_WORDS), zeroed, in the reset
 * state with pc = ISA_DEFAULT_ENTRY.  Returns NULL when memory cannot be had.
 * The variant is copied. */
struct machine *machine_create(size_t memsize, const struct isa_variant *variant);
/* The same over memory the caller owns and keeps alive longer than the machine. */
struct machine *machine_create_on(uint32_t *memory, size_t memsize,
                                  const struct isa_variant *variant);
void machine_destroy(struct machine *m);
/* A machine over words [at, at + memsize) of owner's memory (which must
 * outlive it) that marks the pages it writes in owner's record of written
 * pages, so owner's clone and restore still copy only those.  NULL when the
 * range does not fit or memory cannot be had. */
struct machine *machine_create_view(struct machine *owner, size_t at, size_t memsize,
                                    const struct isa_variant *variant);
/* A deep copy with its own memory (even if m's is borrowed) and the same hooks. */
struct machine *machine_clone(const struct machine *m);
/* Makes dst's state (registers, PSW, memory, console, stats) equal to src's.
 * Both must have the same memory size; hooks are left alone.  Returns false
 * when the sizes differ. */
bool machine_restore(struct machine *dst, const struct machine *src);
/* Reset PSW (M=1, IE=0, PG=0, base 0, bound memsize, timer 0), registers 0,
 * run state cleared.  Memory and the console are untouched. */
void machine_reset(struct machine *m, uint32_t entry);

/* ---- State ------------------------------------------------------------------ */

size_t machine_memsize(const struct machine *m);
/* Physical memory, machine_memsize() words; writes take effect at once.
 * Copy-on-write: a machine records which 256-word pages were ever written
 * (the store path, trap delivery, the assist's control block, disk DMA and
 * machine_memory_span mark them), so machine_clone and machine_restore copy
 * only those.  Handing out the whole memory writable gives that up for good
 * (every page counts as written): writers that know what they write use
 * machine_memory_span. */
uint32_t *machine_memory(struct machine *m);
const uint32_t *machine_memory_const(const struct machine *m);
/* Words [pa, pa + n) of memory, to be written (marked written); NULL past memsize. */
uint32_t *machine_memory_span(struct machine *m, size_t pa, size_t n);
/* The first address >= pa whose page may have been written (memsize when
 * none): the words skipped were never written, so they are still 0. */
size_t machine_next_written(const struct machine *m, size_t pa);
/* True while the record is exact (no whole-memory writable pointer went out). */
bool machine_tracks_pages(const struct machine *m);
uint32_t machine_reg(const struct machine *m, unsigned r);
void machine_set_reg(struct machine *m, unsigned r, uint32_t value); /* r0 stays 0 */
/* All ISA_NREGS registers, r0 first (borrowed: they change as m runs). */
const uint32_t *machine_regs(const struct machine *m);
struct psw machine_psw(const struct machine *m);
/* Flags are masked.  Loading a PSW is a flush: it empties the record of
 * changed page-table entries (above). */
void machine_set_psw(struct machine *m, const struct psw *p);
const struct isa_variant *machine_variant(const struct machine *m);
const struct machine_stats *machine_stats(const struct machine *m);
uint64_t machine_steps(const struct machine *m); /* retired + traps */
/* The most recent trap, or NULL before the first. */
const struct machine_trap *machine_last_trap(const struct machine *m);
/* True when the program has relied on a changed page-table entry without a
 * flush (above); then *first (when not NULL) is the first such use.  How
 * many there were is stats.stale_pte_uses.  Kept across machine_reset, like
 * the statistics; copied by machine_clone and machine_restore. */
bool machine_pte_rule_broken(const struct machine *m, struct machine_pte_use *first);

/* Translates va under psw (which need not be m's) as the hardware does for
 * this kind of access.  Returns true and sets *pa, or false and sets *detail
 * (enum isa_mem_fault). */
bool machine_translate(const struct machine *m, const struct psw *psw, uint32_t va,
                       enum machine_access access, uint32_t *pa, unsigned *detail);

/* ---- Console and devices ---------------------------------------------------- */

/* Appends bytes to the console's unread input. */
void machine_feed_input(struct machine *m, const uint8_t *bytes, size_t n);
size_t machine_input_pending(const struct machine *m);
/* Everything the guest wrote to port 0 (up to a 16 MiB cap), not NUL-terminated. */
const uint8_t *machine_output(const struct machine *m, size_t *len);
/* Also hands each output byte to sink as it is written (NULL to stop). */
void machine_set_output_sink(struct machine *m, void (*sink)(void *ctx, uint8_t byte),
                             void *ctx);
/* Attaches dev to ports first..first+count-1, all >= PORT_DEVICE_FIRST.
 * Returns false when the range is invalid, overlaps another device, or the
 * machine has no room for more devices. */
bool machine_attach_device(struct machine *m, uint32_t first, uint32_t count,
                           const struct machine_device *dev);

/* ---- Disk units (ISA.md "The disk"; machine/disk.h) ------------------------- */

/* Attaches unit (0 .. ISA_DISK_UNITS - 1) on its ports 16 + 8 * unit ..
 * + 7, holding a copy of words: sectors * ISA_SECTOR_WORDS of them, the
 * registers at reset (DMA_BOUND = memsize).  False when the unit is
 * attached already, a device holds one of its ports, sectors is 0 or above
 * DISK_MAX_SECTORS, or memory cannot be had.  machine_reset leaves units
 * as they are (like the console); clone and restore copy them. */
bool machine_attach_disk(struct machine *m, unsigned unit, const uint32_t *words, uint32_t sectors);
/* The unit's medium as it is now (borrowed; it changes as m runs), and in
 * *sectors (when not NULL) its size; NULL when the unit is not attached. */
const uint32_t *machine_disk(const struct machine *m, unsigned unit, uint32_t *sectors);
/* Also hands every completed write command to sink, within the out that
 * runs it: the unit, the sector and its 256 new words (NULL to stop).  The
 * write-through to a file behind the unit.  Kept by machine_clone, like the
 * output sink. */
void machine_set_disk_sink(struct machine *m,
                           void (*sink)(void *ctx, unsigned unit, uint32_t sector,
                                        const uint32_t *words),
                           void *ctx);

/* The host's own in and out (a VMM driving a real unit): what `in` and
 * `out` do in supervisor mode, as an instruction would, without one (no
 * step, no timer). */
uint32_t machine_port_in(struct machine *m, uint32_t port);
void machine_port_out(struct machine *m, uint32_t port, uint32_t value);

/* ---- Hooks ------------------------------------------------------------------ */

void machine_set_observer(struct machine *m, const struct machine_observer *obs); /* NULL: none */
/* Which instructions the observer's before_insn is called before: every one
 * (the default), or only the system instructions (ISA_F_SYSTEM: halt, lpsw,
 * pushf, ...), whatever the mode, before the privilege check.  Filtered, it
 * is called from inside the interpreter with the state exact (pc at the
 * instruction, the timer charged) and may stop the run before it, but must
 * not change m: the instruction it was shown is the one executed.
 * machine_set_observer leaves the filter as it is. */
enum machine_observe { MACHINE_OBSERVE_ALL, MACHINE_OBSERVE_SYSTEM };
void machine_set_observer_filter(struct machine *m, enum machine_observe which);
void machine_set_monitor(struct machine *m, const struct machine_monitor *mon);   /* NULL: none */

/* ---- Guest mode (feature assist; isa/README.md) ------------------------------- */

/* A host written in C (the C VMM under --vmm hw): every exit comes to
 * on_exit instead of the control block, with the machine still in guest
 * mode holding the guest's PSW (exit->guest_psw) and registers.  It sets
 * what the guest runs next (machine_set_psw, machine_vm_set_controls) and
 * returns MACHINE_CONTINUE to go on in guest mode (MACHINE_STOP_RUN ends
 * the run, still in guest mode), or leaves with machine_vm_leave(). */
struct machine_exit_handler {
    void *ctx;
    enum machine_verdict (*on_exit)(void *ctx, struct machine *m,
                                    const struct machine_exit *exit);
};
void machine_set_exit_handler(struct machine *m, const struct machine_exit_handler *h); /* NULL: none */

/* What vmenter does, for a host written in C: the machine's PSW and
 * registers become the host's (kept inside the machine), the guest's PSW,
 * registers and controls are loaded from block (VMCB_WORDS words, the
 * control block's layout; it is read now and not kept).  Exits go to the
 * exit handler (machine_set_exit_handler).  False, with nothing changed, when
 * the variant lacks the feature or the machine is in guest mode already. */
bool machine_vm_enter(struct machine *m, const uint32_t block[VMCB_WORDS]);
/* Reloads the controls (words 21..30 of block) of the running guest. */
void machine_vm_set_controls(struct machine *m, const uint32_t block[VMCB_WORDS]);
/* Back to the host's PSW and registers, no exit recorded (guest's lost
 * unless read first).  Nothing when not in guest mode. */
void machine_vm_leave(struct machine *m);
bool machine_in_guest(const struct machine *m);

/* ---- Running ---------------------------------------------------------------- */

/* Runs at most max_steps steps.  A step is one instruction that completes, one
 * instruction that traps, or one interrupt taken.  After halt, a machine check
 * or an unhandled trap the machine stays stopped (until machine_reset) and
 * every further run returns the same status at once. */
enum machine_stop machine_run(struct machine *m, uint64_t max_steps);
/* Fetch stops, for a debugger: machine_run stops (MACHINE_STOPPED) before
 * fetching the word at any of the n physical addresses given, once an
 * arrival: not again where it last stopped (the same step count, the same
 * word), so the next call goes on past it.  A monitor that calls
 * machine_run many times a run (vmm/) meets a stop on any call's first
 * step too.  Checked in a second copy of the interpreter's loop, used only
 * while stops are set: the plain loop is untouched.  n = 0 clears them; a
 * clone has none; false (none set) when memory cannot be had. */
bool machine_set_fetch_stops(struct machine *m, const uint32_t *pas, size_t n);
/* True when the last machine_run ended at a fetch stop. */
bool machine_fetch_stopped(const struct machine *m);
/* The offset of the first word of [pa, pa + n) a fetch stop marks, n when
 * none: for a monitor that runs the machine's code itself (vmm/bt.c),
 * which keeps its own "once an arrival". */
uint32_t machine_fetch_stop_first(const struct machine *m, uint32_t pa, uint32_t n);
/* One step: machine_run(m, 1). */
enum machine_stop machine_step(struct machine *m);
/* The status the machine is stopped in (HALT, CHECK, UNHANDLED_TRAP), or
 * MACHINE_BUDGET while it can still run. */
enum machine_stop machine_state(const struct machine *m);

/* Makes the machine perform a trap now, through the monitor or the trap area,
 * exactly as the hardware would.  cause is a real cause (1..CAUSE_COUNT-1),
 * detail an enum isa_mem_fault for MEM and 0 otherwise, and it is called
 * between runs, not from a hook (the step would be outside machine_run's
 * budget).  The test build asserts all three; a release build ignores a bad
 * cause. */
void machine_raise_trap(struct machine *m, enum isa_cause cause, unsigned detail,
                        uint32_t value, uint32_t saved_pc);

#endif
