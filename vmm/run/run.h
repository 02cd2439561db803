/*
 * run.h: one run -- a program on a stack of levels over one real machine.
 *
 * Every command that runs a program (run, equiv, debug, tui) opens a run.
 * A run is a list of monitors from the bottom up, then the program, each a
 * *level*, numbered from the one that runs on the real machine:
 *
 *     --stack c,asm (--depth 2)               --stack asm,asm
 *
 *     L2  guest    the program                L2  guest    the program
 *     L1  asm      programs/vmm/vmm.s         L1  asm      vmm.s
 *     L0  c (te)   the C VMM, host code       L0  asm      vmm.s
 *     ==========  the real machine  ==        ==========  the real machine  ==
 *
 *     bare (no monitors): L0 is the program, on the real machine.
 *
 * Level i runs on machine i; the monitor at level i makes machine i + 1;
 * machine 0 is the real machine.  The C VMM (`c`, vmm.h) is host code, so it
 * can only be the bottom level; it may run several guests (columns), each
 * the program, when it is the only monitor.  `asm` is programs/vmm/vmm.s, a
 * program of the machine: it runs on whatever machine it is given.
 *
 * Memory: every machine is a region of the one below.  An asm VMM puts its
 * guest at GUEST_BASE of its own memory, so machine i has GUEST_BASE words
 * more than machine i + 1, and the program's machine has exactly the size
 * asked for.  Loading: each asm level gets the VMM image at 0 with its word
 * `guest_entry` set to the entry of the level above; the program goes at
 * physical 0 of the top machine; every machine starts from reset.
 *
 * Time and accounting.  A run's clock counts *units*: steps of the lowest
 * machine that executes instructions (the real machine; under the C VMM its
 * guest's machine, machine 1).  Every instruction is charged to the level
 * whose code it is, exactly, so each level's steps, and the program's (the
 * *guest steps* that --max-steps budgets), are known at any time.
 *
 * Views are always true (run_level_view): a level that runs is shown live;
 * a monitor whose guest runs is *waiting*; a level for which a level below
 * is handling a trap is *suspended* and shown as it was just before that
 * trap, with who is at work for it.  Budget stops happen only where the
 * program's state is whole (its next instruction is its own).
 *
 * Nothing here prints or exits.  A guest or a monitor that misbehaves stops
 * inside the run with a reason, never the simulator.
 */
#ifndef TRAPEZE_RUN_H
#define TRAPEZE_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../assembler/asm.h"
#include "../../isa/isa.h"
#include "../../machine/machine.h"
#include "../vmm.h"

#define RUN_MAX_MONITORS 8
#define RUN_MAX_LEVELS (RUN_MAX_MONITORS + 1)
#define RUN_ERROR_SIZE 512
/* A run stops (stalled) when its monitors take this many units in a row
 * without a step of the program: a monitor that cannot host the variant,
 * or loops in its handler, still ends. */
#define RUN_STALL_UNITS (1ull << 24)

/* ---- What to run -------------------------------------------------------------- */

enum run_monitor { RUN_MONITOR_C, RUN_MONITOR_ASM };
const char *run_monitor_name(enum run_monitor k); /* "c", "asm" */

struct run_spec {
    unsigned n;                             /* monitors; 0: the bare machine */
    enum run_monitor kind[RUN_MAX_MONITORS]; /* bottom first */
    enum vmm_mode mode;                     /* the C VMM's, when kind[0] is c */
    enum vmm_shadow_policy shadow;          /* ... and its shadow page tables' */
    uint32_t slice;                         /* ... and its scheduler's slice, guest steps (0: default) */
    bool pv_reference;                      /* ... pv: every instruction interpreted (vmm_pv_interpret_all):
                                               the reference side of equiv --vmm pv */
};

/* Parses "c,asm,asm" (case-insensitive names, no blanks; "bare" or "" for
 * none; the C VMM runs in te).  On failure writes a one-line message. */
bool run_spec_parse(const char *text, struct run_spec *out, char err[RUN_ERROR_SIZE]);
/* --depth N: 0 is the bare machine, N >= 1 is "c" then N - 1 "asm". */
bool run_spec_depth(unsigned depth, struct run_spec *out, char err[RUN_ERROR_SIZE]);
/* "c,asm,asm" or "bare"; the mode is not written. */
void run_spec_format(const struct run_spec *spec, char *buf, size_t size);

struct run_config {
    struct run_spec spec;
    const struct isa_variant *variant; /* every machine's; copied */
    size_t memsize;                    /* the program's machine, in words */
    unsigned nguests;                  /* 0 or 1: one; more only when the spec is "c" */
    const char *asm_vmm_path;          /* the asm VMM's source; NULL: the one built in */
    struct asm_vmm *asm_vmm;           /* loaded once and shared (run_load_asm_vmm); NULL:
                                        * loaded from asm_vmm_path for this run alone */
};

/* The asm VMM assembled and checked once, for runs that share it: each run
 * given it (run_config.asm_vmm) holds a reference, so the caller may
 * release its own at any time.  Assembling it is most of what creating a
 * short run costs (a grader's hundred guests, a fuzzer's every input).
 * path NULL: the one built in.  NULL with a one-line message. */
struct asm_vmm;
struct asm_vmm *run_load_asm_vmm(const char *path, char err[RUN_ERROR_SIZE]);
void run_release_asm_vmm(struct asm_vmm *v);

struct run;

/* Builds the run and loads programs[g] as guest g (nguests of them; one
 * image may be given several times), every machine reset.  Returns NULL
 * with a one-line message in err when the configuration is invalid, the
 * asm VMM cannot host the variant, memory cannot be had or a program does
 * not fit. */
struct run *run_create(const struct run_config *cfg, const struct asm_image *const *programs,
                       char err[RUN_ERROR_SIZE]);
void run_destroy(struct run *r);
/* A deep copy that runs on independently (snapshots for reverse
 * execution), without hooks or output sinks.  NULL when memory cannot be
 * had.  Not from inside a hook. */
struct run *run_clone(const struct run *r);

const struct run_spec *run_spec_of(const struct run *r);
unsigned run_guest_count(const struct run *r);
/* Levels 0 .. n: n + 1 of them. */
unsigned run_level_count(const struct run *r);
/* The program's level, n. */
unsigned run_program_level(const struct run *r);

/* Console of guest g: input appended; output so far; a sink for each byte. */
void run_feed_input(struct run *r, unsigned g, const uint8_t *bytes, size_t n);
/* The same input to every guest, held once (--input of a run of several). */
void run_feed_input_all(struct run *r, const uint8_t *bytes, size_t n);
const uint8_t *run_output(const struct run *r, unsigned g, size_t *len);
void run_set_output_sink(struct run *r, unsigned g, void (*sink)(void *ctx, uint8_t byte),
                         void *ctx);

/* A disk unit's medium (ISA.md "The disk"): sectors * ISA_SECTOR_WORDS words. */
struct run_medium {
    const uint32_t *words;
    uint32_t sectors;
};

/* Attaches disk unit `unit` (0..3) of the real machine, holding a copy of
 * words (sectors * ISA_SECTOR_WORDS), before the run starts.  Bare, it is
 * the program's own unit; under the C VMM alone, hypervisor-direct: each
 * guest gets a partition of it as its own unit (vmm_attach_disk); under
 * asm VMMs, hypervisor-direct at each of them: each asm level is told its
 * guest's unit (the whole of its own), through the words vdisk_first and
 * vdisk_size (programs/vmm/README.md).  False with a one-line message when
 * that fails, or when the asm VMM defines no such words. */
bool run_attach_disk(struct run *r, unsigned unit, const uint32_t *words, uint32_t sectors,
                     char err[RUN_ERROR_SIZE]);
/* How the C VMM gives the disks to its guests (vmm_set_io_model), before
 * the first run_attach_disk.  False with a message when the run has no C
 * VMM alone at its bottom. */
bool run_set_io_model(struct run *r, enum vmm_io_model model, bool iommu, char err[RUN_ERROR_SIZE]);
/* Unit `unit` as guest g's program sees it: its medium now (borrowed) and
 * its size in *sectors, or NULL when it has none. */
const uint32_t *run_disk(const struct run *r, unsigned g, unsigned unit, uint32_t *sectors);
/* Hands every completed write of a real unit to sink (the unit, the real
 * sector, its words), within the out that makes it: the write-through to
 * the files behind the units.  NULL to stop.  run_clone drops it. */
void run_set_disk_sink(struct run *r,
                       void (*sink)(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words),
                       void *ctx);

/* ---- Events: every trap, where it arose and who handled it --------------------- */

enum run_handling {
    RUN_HARDWARE,  /* the hardware delivered it to the level's own handler: no monitor took part */
    RUN_EMULATED,  /* a system instruction, carried out by the monitor below on the virtual state */
    RUN_REFLECTED, /* passed up by every monitor below to the level's own handler */
    RUN_DELIVERED, /* an interrupt, delivered by the monitors to the level's own handler */
    RUN_ABSORBED,  /* the C VMM's own timer: charged, and the level resumed untouched */
};
const char *run_handling_name(enum run_handling h); /* "hardware", "emulated", ... */

struct run_event {
    unsigned guest;        /* the column (a guest of the C VMM) */
    uint64_t time;         /* the run's units before it */
    uint64_t guest_step;   /* the program's steps before it */
    enum isa_cause cause;
    unsigned detail;       /* MEM: enum isa_mem_fault, as the arising level's hardware gives it */
    uint32_t value;
    uint32_t pc;           /* the saved pc, virtual in the arising level */
    uint32_t pc_phys;      /* ... in its machine's physical memory, when it translated */
    bool has_pc_phys;
    uint32_t insn;         /* the instruction that trapped, when known */
    bool has_insn;
    unsigned arose;        /* the level whose code trapped (or was interrupted) */
    bool supervisor;       /* its (virtual) mode then */
    enum vmm_place place;  /* where its code ran: directly, or in the C VMM's interpreter */
    unsigned handler;      /* the level whose code handles it (absorbed: the C VMM) */
    unsigned first;        /* the first level that received it: the bottom monitor; or the
                              handler itself (hardware) */
    enum run_handling how;
    unsigned target;       /* the level whose code runs once it is handled */
    unsigned runs_next;    /* the level whose code runs right after the first receiver's
                              handling: exact when that is the C VMM (a monitor between it and
                              the handler passes the trap on later, with code of its own); 0
                              when it is an asm VMM, told of it as it goes in */
};

/* Hooks.  on_event sees every trap once it is handled by the level that
 * received it first; returning MACHINE_STOP_RUN ends run_units as soon as
 * the run is consistent (at once on the real machine; after the C VMM's
 * handling).  at_boundary, while checking is on, is called before each
 * unit (the run then goes one unit at a time: before an interrupt as
 * before an instruction); MACHINE_STOP_RUN stops before the unit.  Both
 * may call run_set_checking; turning it on ends the piece under way at
 * once, so that run_units returns and goes on unit by unit next time. */
struct run_hooks {
    void *ctx;
    enum machine_verdict (*on_event)(void *ctx, struct run *r, const struct run_event *e);
    enum machine_verdict (*at_boundary)(void *ctx, struct run *r);
};
void run_set_hooks(struct run *r, const struct run_hooks *hooks); /* NULL: none */
void run_set_checking(struct run *r, bool on);
/* An observer of the real machine for --trace insns: allowed on a bare
 * run only (false otherwise). */
bool run_set_insn_observer(struct run *r, const struct machine_observer *obs);

/* ---- Running ---------------------------------------------------------------------- */

/* Runs every guest until it stops or has taken max_steps steps (per guest,
 * counted as a bare run counts them).  A budget stop happens only where
 * the program's state is whole.  Returns guest 0's stop. */
enum machine_stop run_go(struct run *r, uint64_t max_steps);
/* Runs at most k units, hooks honoured.  Returns the units done (fewer when
 * a hook stopped it or every guest stopped), and in *chunk how run_repeat
 * runs them again exactly (deterministic replay). */
uint64_t run_units(struct run *r, uint64_t k, uint64_t *chunk);
/* The same, checking off, cut as a checked run_units cuts (the C VMM one
 * unit a call: its timers then never fire between two units, as in one
 * piece they may), so that a stretch a front end knows cannot stop runs
 * the same units, and logs the same events, as if every boundary had been
 * looked at, without the look.  Stops as run_units does when a hook turns
 * checking on. */
uint64_t run_units_fine(struct run *r, uint64_t k, uint64_t *chunk);
/* Fetch stops for a debugger's address breakpoints (machine.h, vmm.h):
 * run_units and run_units_fine stop, checking off, before a unit that
 * fetches one of these real words, once an arrival (the next piece goes
 * on past it), whatever the bottom and the mode.  False (none set)
 * without memory.  n = 0 clears them; a clone has none.  run_fetch_stopped: the
 * last piece ended at one. */
bool run_set_fetch_stops(struct run *r, const uint32_t *real, unsigned n);
bool run_fetch_stopped(const struct run *r);
/* Runs `units` units as run_units did when it gave `chunk`, without
 * stopping for hooks (which still see every event).  Returns the units done. */
uint64_t run_repeat(struct run *r, uint64_t units, uint64_t chunk);
/* Units done so far. */
uint64_t run_time(const struct run *r);
/* True when the monitors ran RUN_STALL_UNITS units without a step of
 * guest g's program: run_go stopped it there. */
bool run_stalled(const struct run *r, unsigned g);

/* Bounds on the real work.  run_go's budget counts the program's steps;
 * under asm levels one of them can cost thousands of real ones (trap
 * amplification: a privileged instruction at depth 8 costs millions), so
 * run_go also stops once run_time reaches max_units (0: no bound), and
 * soon after *interrupt becomes non-zero (NULL: never; the flag of a
 * SIGINT handler), looking at both between slices of at most
 * RUN_POLL_UNITS units.  Such a stop leaves the program as a stalled run
 * does (suspended levels shown as before their trap) and its stop
 * MACHINE_BUDGET; run_cut says which bound cut the last run_go. */
#define RUN_POLL_UNITS (1ull << 20)
enum run_cut { RUN_CUT_NONE, RUN_CUT_REAL_BUDGET, RUN_CUT_INTERRUPT };
void run_set_bounds(struct run *r, uint64_t max_units, const volatile sig_atomic_t *interrupt);
enum run_cut run_cut_of(const struct run *r);

/* ---- The program, as a bare machine would show it ------------------------------- */

struct run_guest_state {
    enum machine_stop stop;    /* BUDGET while it can run */
    uint32_t regs[ISA_NREGS];
    struct psw psw;
    const uint32_t *mem;       /* its physical memory, memsize words (borrowed) */
    const struct machine *machine; /* a machine over mem: which pages were written */
    size_t memsize;
    const uint8_t *output;     /* borrowed */
    size_t output_len;
    uint64_t instructions;     /* retired */
    uint64_t steps;
    uint64_t traps[CAUSE_COUNT];
    bool has_trap;             /* last_trap is its most recent trap */
    struct machine_trap last_trap;
    uint64_t disk_reads, disk_writes, disk_errors; /* its commands to its units */
    /* --io split: kicks, requests served, notifications raised and suppressed */
    uint64_t disk_kicks, disk_requests, disk_notifications, disk_suppressed;
    const uint32_t *disk[ISA_DISK_UNITS];          /* run_disk: its units' media (borrowed) */
    uint32_t disk_sectors[ISA_DISK_UNITS];         /* ... and sizes, 0 when it has none */
};
void run_guest_state(const struct run *r, unsigned g, struct run_guest_state *out);
/* When a monitor below guest g's program gave up (an asm VMM's vm_error):
 * its level and a message. */
bool run_monitor_error(const struct run *r, unsigned g, unsigned *level, const char **message);
/* When the C VMM refused guest g's program (pv: not paravirtual, or its
 * kernel broke the paravirtual contract, vmm_guest_refusal): the one line
 * why; else NULL. */
const char *run_vmm_refusal(const struct run *r, unsigned g);
/* pv: the hypercalls of guest g's program by number - PV_HCALL_FIRST
 * (PV_HCALL_COUNT of them); NULL unless the C VMM runs in pv. */
const uint64_t *run_pv_calls(const struct run *r, unsigned g);
/* pv: the PTE pairs its PV_PTE_BATCH calls applied (vmm_guest_pv_pte_pairs). */
uint64_t run_pv_pte_pairs(const struct run *r, unsigned g);

/* ---- Levels ------------------------------------------------------------------------ */

enum run_level_state {
    RUN_LEVEL_RUNNING,     /* its code is what runs now */
    RUN_LEVEL_WAITING,     /* a monitor whose guest runs: it resumes at its next trap */
    RUN_LEVEL_SUSPENDED,   /* a level below is handling a trap for it: shown as just before it */
    RUN_LEVEL_NOT_STARTED, /* its monitor has not started it yet: shown as it will start */
    RUN_LEVEL_STOPPED,     /* its machine stopped: halt, machine check, unhandled trap, gave up */
};
const char *run_level_state_name(enum run_level_state s); /* "running", "waiting", ... */

/* What a view shows of one level, true whenever it is asked. */
struct run_level_view {
    unsigned level;
    const char *kind;          /* "c", "asm", "guest" (under monitors), "program" (bare) */
    enum run_level_state state;
    unsigned running;          /* the level that runs now (SUSPENDED: the one at work) */
    enum machine_stop stop;    /* STOPPED: why */
    bool host_code;            /* the C VMM: no registers or PSW of its own */
    /* Not host code: its registers and its PSW (virtual: machine L's, as
     * its code sees it).  RUNNING: live.  WAITING: the machine's now, whose
     * registers hold the running level's and whose PSW is what this monitor
     * loaded for its guest.  SUSPENDED: as just before the trap being
     * handled.  NOT_STARTED: as it will start.  STOPPED: as it stopped. */
    uint32_t regs[ISA_NREGS];
    struct psw psw;
    /* RUNNING: the PSW really loaded for its code, on the real machine or
     * (interpreted) on the C VMM's interpreter. */
    bool has_real;
    struct psw real;
    enum vmm_place place;
    uint64_t steps;            /* its own steps so far (instructions + traps it took) */
    uint64_t instructions;     /* its own instructions completed, however */
    uint64_t as_of;            /* SUSPENDED: its steps when the trap came */
    /* SUSPENDED, and its asm monitor's interpreter carries out its
     * instructions (a hybrid build) and is between two of them: registers
     * and PSW live (as_of = steps), place INTERPRETED. */
    bool interpreted;
    size_t memsize;            /* words of machine L */
};
void run_level_view(const struct run *r, unsigned g, unsigned level, struct run_level_view *out);
/* Its state alone, as its view gives it, without the rest (a search
 * looks at it every unit). */
enum run_level_state run_level_state(const struct run *r, unsigned g, unsigned level);
/* The PSW of the level that runs now, as its view gives it (the running
 * level is never suspended: always its live PSW; host code: zero). */
struct psw run_running_psw(const struct run *r, unsigned g);
/* Where, in machine level - 1, the asm monitor below `level` stands
 * between two instructions of the level it interprets (its export
 * interp_next): the debugger stops there to look for a breakpoint in
 * interpreted code.  False when that monitor interprets nothing. */
bool run_interp_next(const struct run *r, unsigned level, uint32_t *addr);
/* The level whose code runs now in column g. */
unsigned run_running_level(const struct run *r, unsigned g);
/* "C VMM (te)", "asm VMM", "guest", "program". */
void run_level_name(const struct run *r, unsigned level, char *buf, size_t size);

/* Sets register r (1..15) of level L, or its pc (r == ISA_NREGS), where L's
 * code will see it: only while L is the running level (every level's
 * registers and pc are then the machine's).  False with a message. */
#define RUN_REG_PC ISA_NREGS
bool run_set_reg(struct run *r, unsigned g, unsigned level, unsigned reg, uint32_t value,
                 char *err, size_t errsize);

/* Per-level accounting of column g.
 *   instructions  the level's instructions completed, directly or emulated
 *                 below (the C VMM runs none of the machine's: 0)
 *   traps         traps and interrupts that reached it (a monitor's
 *                 dispatcher; the program's own handler)
 *   emulated      instructions it carried out for the level above
 *   interpreted   of which non-system ones (the C VMM's interpreter)
 *   reflected     traps it passed to the level above
 *   direct, entries, slices, efficiency: the C VMM's own figures (0 for asm)
 *   amplification monitors: machine instructions spent per privileged
 *                 instruction of the program (the C VMM: its emulations);
 *                 the program: the sum over every monitor */
struct run_level_counts {
    const char *kind;
    uint64_t instructions, traps, emulated, interpreted, reflected;
    uint64_t direct, entries, slices;
    double efficiency, amplification;
};
void run_level_counts(const struct run *r, unsigned g, unsigned level, struct run_level_counts *out);
/* The real machine's figures. */
const struct machine *run_real_machine(const struct run *r);
/* The C VMM's shadow page tables for column g, and their policy: NULL
 * unless level 0 is the C VMM in te. */
/* Under the C VMM in te: where guest g's shadow tables are reserved in
 * real memory (*words from *real); false otherwise. */
bool run_shadow_area(const struct run *r, unsigned g, uint32_t *real, size_t *words);
const struct vmm_shadow_stats *run_shadow_stats(const struct run *r, unsigned g,
                                                enum vmm_shadow_policy *policy);
/* Guest g's translation cache counters when the C VMM runs it under bt, else NULL. */
const struct vmm_bt_stats *run_bt_stats(const struct run *r, unsigned g);
/* Under the C VMM in hw: guest g's exits from guest mode, EXIT_REASON_COUNT
 * of them by reason (vmm_stats.exits); NULL otherwise. */
const uint64_t *run_vmm_exits(const struct run *r, unsigned g);

/* ---- Memory and addresses ------------------------------------------------------------ */

/* Machine j's physical memory in column g (j = 0 .. n), and its size. */
const uint32_t *run_machine_memory(const struct run *r, unsigned g, unsigned j, size_t *words);
/* Where machine j's word pa lives in real memory; false beyond it. */
bool run_to_real(const struct run *r, unsigned g, unsigned j, uint32_t pa, uint32_t *real);
/* Translates va under level L's PSW (as its view shows it) to machine L's
 * physical memory, as its hardware would for a load. */
bool run_translate(const struct run *r, unsigned g, unsigned level, uint32_t va, uint32_t *pa,
                   unsigned *detail);

/* One piece of an f-map: machine L's physical words [from, from + words)
 * live at [to, to + words) of the machine below its monitor, or of real
 * memory (composed). */
struct run_extent {
    uint32_t from, to, words;
};
/* The f-map that level L's monitor (level L - 1) keeps, composed down to
 * real memory or not.  Returns the number of extents written (at most max);
 * 0 for level 0, which is on the real machine. */
unsigned run_fmap(const struct run *r, unsigned g, unsigned level, bool composed,
                  struct run_extent *out, unsigned max);

/* The image whose code is at machine L's physical pa, and the address
 * there (the innermost machine holding the word decides: a monitor's
 * machine holds its own image below its guest's memory), or NULL. */
const struct asm_image *run_image_at(const struct run *r, unsigned g, unsigned level, uint32_t pa,
                                     uint32_t *image_address);
/* The asm VMM's image, or NULL when there is no asm level. */
const struct asm_image *run_asm_image(const struct run *r);

/* ---- Page tables: each level's own, the monitors' shadows, the real one ------------ (pages.c)
 *
 * A level L that pages (its PSW, as run_level_view shows it, has PG=1)
 * has its own table in machine L's memory.  Each monitor below that runs
 * it directly keeps a shadow of the table above it, composed with its
 * f-map, in its own machine's memory; the last one is in real memory, and
 * it is what the hardware walks while L runs:
 *
 *   --stack c,asm, L2 paged:
 *     L2's table (machine 2)  --shadowed by-->  L1 asm VMM's SHADOW (machine 1)
 *                             --shadowed by-->  L0 C VMM's shadow (real memory)
 *
 * A monitor's table is listed only while it shadows the one above it: an
 * asm VMM whose guest's virtual PSW pages through that table (its vflags
 * and vbase); the C VMM's table for that root (vmm_guest_shadow_tables).
 * The list stops at the first monitor that does not (the C VMM under
 * hvm or interp interprets paging guests; no table is then real). */

#define RUN_MAX_PAGE_TABLES RUN_MAX_LEVELS
/* Pages past this are neither listed nor compared (a table may be as long
 * as a PSW bound; the shadows' capacities are at most this). */
#define RUN_MAX_VPN 65536u

enum run_table_kind {
    RUN_TABLE_OWN,        /* the level's own: what its PSW's base names */
    RUN_TABLE_ASM_SHADOW, /* an asm VMM's SHADOW, rebuilt at each lpsw, tlbflush and trap of its guest */
    RUN_TABLE_C_SHADOW,   /* one of the C VMM's shadow tables, kept by its policy */
};

/* Who walks a table now: nobody (its level does not run), the real
 * machine, or the C VMM's interpreter (a paging guest it interprets). */
enum run_table_walker { RUN_WALK_NONE, RUN_WALK_HARDWARE, RUN_WALK_INTERPRETER };

/* The last change of a table's entries: from the C VMM's own record, or,
 * for tables that keep none, found by run_pages_look. */
struct run_table_change {
    bool known;
    uint32_t vpn;                      /* the entry that changed last */
    unsigned count;                    /* entries changed then (run_pages_look), 1 for the C VMM */
    enum vmm_shadow_reason reason;     /* "rebuild" for an asm VMM, "PTE write" for an own table */
    uint64_t time;                     /* the column's units (run_time, for one guest) when it was
                                          made or found */
};

struct run_page_table {
    enum run_table_kind kind;
    unsigned keeper;         /* the level that keeps it: L itself, or a monitor below */
    unsigned machine;        /* the machine whose physical memory holds its entries (0: real) */
    uint32_t base;           /* its first entry, machine-physical */
    uint32_t entries;        /* entries the hardware may use: the PSW bound it is loaded with */
    unsigned frames_in;      /* the machine whose frames its entries name */
    char what[40];           /* "own", "shadow, trace", "shadow, rebuild (asm VMM)" */
    enum run_table_walker walker; /* the walk starts at L's next instruction, after the
                                     refresh of a stale table */
    bool stale;              /* C VMM: rebuilt or verified before its next use */
    struct run_table_change change;
};

/* Level L's tables for its virtual pages, its own first and the real one
 * (when there is one) last; at most max written, how many returned.  0
 * when L does not page or is host code.  L must be a level of the run. */
unsigned run_page_tables(const struct run *r, unsigned g, unsigned level, struct run_page_table *out,
                         unsigned max);
/* Entry vpn of table t: false past its entries or past its machine's memory. */
bool run_page_table_entry(const struct run *r, unsigned g, const struct run_page_table *t, uint32_t vpn,
                          uint32_t *pte);

/* What an entry says, in words for a student.  The marks are bits the
 * hardware ignores that a monitor sets to remember why (VMM_SPTE_*, the
 * asm VMM's PTE_PHYS and PTE_FRAME_PAST). */
enum run_pte_mark {
    RUN_PTE_PLAIN,         /* a table entry like any other */
    RUN_PTE_NOT_FILLED,    /* C VMM: not filled yet: its first use is a hidden fault */
    RUN_PTE_GUEST_INVALID, /* shadow: the guest's own entry is invalid */
    RUN_PTE_INTERPRETED,   /* C VMM: not expressible: the accesses are interpreted */
    RUN_PTE_TRACED,        /* C VMM, trace: read-only: its frame holds a page table */
    RUN_PTE_PAST_MEMORY,   /* the frame, or the guest's entry, lies past memory: a physical fault */
    RUN_PTE_ABSENT,        /* no entry: past the table's machine's memory */
};
struct run_pte_meaning {
    bool valid, writable;
    uint32_t frame;
    enum run_pte_mark mark;
};
/* Decodes the entry vpn of t (present: whether run_page_table_entry found it). */
void run_pte_decode(const struct run *r, const struct run_page_table *t, bool present, uint32_t pte,
                    struct run_pte_meaning *out);
/* "read-only: holds a page table", ...; "" for RUN_PTE_PLAIN. */
const char *run_pte_mark_text(enum run_pte_mark m);
/* A few letters for a narrow column: "unfilled", "g-invalid", "interp", "pt r/o", "past mem". */
const char *run_pte_mark_tag(enum run_pte_mark m);

/* What a viewer saw of level L's tables at its last look, so that the next
 * finds which entry changed since, for the tables that keep no record of
 * their own (the asm VMM's, the levels' own).  The caller owns it: zero it
 * to start, free it with run_pages_seen_free. */
struct run_seen_table {
    enum run_table_kind kind;
    unsigned machine;
    uint32_t base, entries;
    uint32_t *words;                /* min(entries, RUN_MAX_VPN) of them, or NULL */
    struct run_table_change change; /* the last one found */
};
struct run_pages_seen {
    unsigned n;
    struct run_seen_table t[RUN_MAX_PAGE_TABLES];
};
/* Looks at level L's tables now: notes, in seen, the last change of each
 * since the last look (the highest entry that differs, and how many do).
 * Without note_changes, only what they hold now, every change forgotten
 * (after going back in time, what was found later is not so).  A level
 * that does not page leaves seen as it was.  False when memory cannot be
 * had (seen then forgets). */
bool run_pages_look(const struct run *r, unsigned g, unsigned level, struct run_pages_seen *seen,
                    bool note_changes);
/* Sets the change of each table of tables[0..n) that keeps no record from
 * what seen found (by kind, machine and base). */
void run_pages_seen_apply(const struct run_pages_seen *seen, struct run_page_table *tables, unsigned n);
void run_pages_seen_free(struct run_pages_seen *seen);

/* ---- The way of one address: level by level to the real word ------------------------ */

enum run_hop_kind {
    RUN_HOP_PAGED,     /* level L's PSW pages: its table's entry gives the frame */
    RUN_HOP_RELOCATED, /* level L's PSW relocates: base + va, under its bound */
    RUN_HOP_FMAP,      /* machine j's physical address, through its monitor's f-map */
};
struct run_hop {
    enum run_hop_kind kind;
    unsigned level;        /* PAGED, RELOCATED: the level; FMAP: machine `level`, kept by level - 1 */
    uint32_t from, to;     /* the address in, and out (when ok) */
    unsigned to_machine;   /* where `to` is: machine level (PAGED, RELOCATED), level - 1 (FMAP) */
    bool ok;
    unsigned detail;       /* !ok, PAGED and RELOCATED: enum isa_mem_fault */
    uint32_t base, bound;  /* PAGED, RELOCATED: the PSW's */
    uint32_t vpn, pte_at;  /* PAGED: the entry used, at machine-physical pte_at ... */
    uint32_t pte;
    bool has_pte;          /* ... when it lies in memory */
    struct run_extent extent; /* FMAP: the extent used */
};
struct run_chain {
    unsigned level;
    uint32_t va;
    unsigned n;
    struct run_hop hop[RUN_MAX_LEVELS + 1];
    bool ok;               /* it reached real memory: real, word */
    uint32_t real, word;
    /* What the hardware does: while L runs directly, the real PSW takes va
     * to real memory in one hop (through the real table when it pages). */
    bool has_shortcut;
    enum run_table_walker by;   /* HARDWARE; INTERPRETER: the C VMM interprets L (no shortcut) */
    struct run_hop shortcut;    /* level 0 = the real machine; ok, to = the real word's address */
    /* The real table the shortcut reads is a shadow of L's, up to date.
     * False while the C VMM has yet to build or refresh it: it does so
     * before L's next instruction, so the entry read now is not yet L's. */
    bool shortcut_ready;
};
/* The chain for level L's virtual va (as its view's PSW translates a
 * load).  False only for host code (no addresses of its own). */
bool run_translate_chain(const struct run *r, unsigned g, unsigned level, uint32_t va,
                         struct run_chain *out);

#endif
