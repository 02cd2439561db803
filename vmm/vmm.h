/*
 * vmm.h: the host-level virtual machine monitor.
 *
 * A vmm owns one real machine (machine.h) and runs guests on it.  Each guest
 * sees a bare Trapeze machine of `guest_memsize` words: its own registers,
 * its virtual PSW (vcpu), its own console, and guest-physical memory that the
 * allocator maps onto a region of real memory (the f-map).  The vmm is the
 * real machine's monitor: every trap lands in its dispatcher, which either
 * emulates the instruction on the virtual state, reflects the trap into the
 * guest's own trap area, or absorbs it (the VMM's timer).  vmm/README.md has
 * the design, the trap path and the memory layout.
 *
 * Where a guest's code runs is a *place*: directly on the real machine, or
 * on the vmm's interpreter.  Modes pick a place from the virtual PSW (the
 * dispatcher is the same):
 *   te      virtual-supervisor and virtual-user code run directly in real user
 *           mode; system instructions trap and are emulated.  Paging guests
 *           run directly too, on shadow page tables (below).
 *   hvm     virtual-supervisor code is interpreted, virtual-user code runs
 *           directly (Popek-Goldberg's hybrid VMM, Theorem 3).
 *   interp  every guest instruction is interpreted.
 *   hw      every guest instruction runs on the real machine in guest mode
 *           (the hardware-assist extension, isa/README.md): the real
 *           machine's variant is the guest's plus `feature assist`; system
 *           instructions and traps exit to the dispatcher, except pushf and
 *           srr, which read a shadow of the virtual PSW without exiting.
 *           Paging guests run on te's shadow page tables.
 *   hw-slt  the same machine, the guest on its virtual PSW itself with
 *           second-level translation (its f-map as a table): only halt,
 *           in, out and the vmm's own timer exit, while no virtual
 *           interrupt is waiting for the guest's IE (then everything exits).
 *   pv      paravirtualization: the guest kernel is modified to ask the vmm
 *           by hcall (enum vmm_pv_abi below) instead of executing critical
 *           and privileged instructions, and runs directly as under te.  A
 *           guest whose first instruction is not hcall PV_HELLO is refused
 *           (vmm_guest_refusal).
 *
 * Guest indices: every function taking a guest index g requires
 * g < vmm_guest_count(v).  The test build asserts it (and aborts); a
 * release build never reads or writes out of bounds for a bad g: the
 * function does nothing and returns 0, false, NULL, MACHINE_BUDGET,
 * VMM_PLACE_DIRECT or an all-zero PSW (vmm_guest_output: "" with *len 0).
 *
 * Nothing here prints or exits.  Guest misbehaviour ends that guest with a
 * stop reason, never the vmm.
 */
#ifndef TRAPEZE_VMM_H
#define TRAPEZE_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa/isa.h"
#include "../machine/machine.h"

struct vmm;

enum vmm_mode { VMM_TE, VMM_HVM, VMM_INTERP, VMM_BT, VMM_HW, VMM_HW_SLT, VMM_PV, VMM_MODE_COUNT };
/* "te", "hvm", "interp", "bt", "hw", "hw-slt", "pv" */
const char *vmm_mode_name(enum vmm_mode mode);
/* Sets *mode from its name; false for an unknown name. */
bool vmm_mode_by_name(const char *name, enum vmm_mode *mode);

/* Where a guest's code runs. */
enum vmm_place {
    VMM_PLACE_DIRECT,      /* on the real machine, in real user mode            */
    VMM_PLACE_INTERPRETED, /* on the vmm's interpreter, a machine over its region */
    VMM_PLACE_TRANSLATED,  /* bt: its basic blocks, translated once, run by the vmm (bt.c) */
    VMM_PLACE_ASSISTED,    /* on the real machine in guest mode (feature assist)  */
    VMM_PLACE_ASSISTED_SLT, /* ... on the virtual PSW, second-level translation    */
    /* A new place goes here, with its row in the table of places in dispatch.c. */
    VMM_PLACE_COUNT
};
const char *vmm_place_name(enum vmm_place place); /* "direct", "interpreted", "translated"; "?" */

/* How te keeps a paging guest's shadow page tables in step with its own
 * (vmm/README.md, "Shadow page tables").  The first is the default. */
enum vmm_shadow_policy {
    VMM_SHADOW_TRACE,   /* write-protect the guest's tables, sync each PTE write: flushes are free */
    VMM_SHADOW_REBUILD, /* rebuild the whole shadow at each flush (lpsw, tlbflush, trap) */
    VMM_SHADOW_LAZY,    /* start empty, fill an entry per hidden fault, drop all at each flush */
    VMM_SHADOW_POLICY_COUNT
};
const char *vmm_shadow_policy_name(enum vmm_shadow_policy p); /* "trace", "rebuild", "lazy"; "?" */
bool vmm_shadow_policy_by_name(const char *name, enum vmm_shadow_policy *p);

#define VMM_DEFAULT_SLICE 10000u /* real-timer slice, guest steps */
#define VMM_MAX_GUESTS 64u

struct vmm_config {
    enum vmm_mode mode;
    const struct isa_variant *variant; /* the real machine's and every guest's; copied */
    size_t guest_memsize;              /* words of guest-physical memory each guest sees */
    unsigned nguests;                  /* 1 .. VMM_MAX_GUESTS */
    uint32_t slice;                    /* 0: VMM_DEFAULT_SLICE */
    enum vmm_shadow_policy shadow;     /* te's shadow page tables */
};

/* The virtual processor: what the guest would see in a bare machine. */
struct vmm_vcpu {
    struct psw psw;           /* the virtual PSW (M, IE, PG, TP, pc, base, bound, timer) */
    uint32_t reg[ISA_NREGS];  /* general registers (valid whenever vmm_run is not running) */
};

/* ---- The f-map: guest-physical -> host-physical ------------------------------ */

#define VMM_FMAP_MAX 4
struct vmm_extent {
    uint32_t gpa;   /* first guest-physical word */
    uint32_t hpa;   /* where it lives in real memory */
    uint32_t words; /* length */
};
struct vmm_fmap {
    struct vmm_extent ext[VMM_FMAP_MAX]; /* sorted by gpa, not overlapping */
    unsigned n;
};
/* Maps gpa: true with *hpa and *run (words from gpa to the end of its
 * extent), or false when gpa is not mapped. */
bool vmm_fmap_lookup(const struct vmm_fmap *f, uint32_t gpa, uint32_t *hpa, uint32_t *run);

/* ---- Accounting ---------------------------------------------------------------- */

struct vmm_stats {
    uint64_t direct;      /* guest instructions the real machine retired                 */
    uint64_t emulated;    /* guest instructions the vmm carried out in software:         */
    uint64_t interpreted; /*   of which non-system ones run by its interpreter           */
    uint64_t reflected;   /* traps and interrupts delivered to the guest's own handler   */
    uint64_t entries;     /* times the dispatcher ran for this guest                      */
    uint64_t scheduled;   /* slices given to this guest                                   */
    uint64_t by_cause[CAUSE_COUNT]; /* entries by the cause that brought them             */
    uint64_t traps[CAUSE_COUNT];    /* traps and interrupts the guest itself took, by cause:
                                       what a bare run's machine_stats.traps counts        */
    uint64_t exits[EXIT_REASON_COUNT]; /* hw: exits from guest mode, by reason             */
};
/* direct / (direct + emulated); 1.0 when both are 0. */
double vmm_efficiency(const struct vmm_stats *s);

/* ---- Shadow page tables (te) ---------------------------------------------------
 *
 * Under te a paging guest (virtual PG=1) runs directly with real PG=1 and a
 * shadow table: the guest's table composed with its f-map, guest-virtual ->
 * host-physical, in host memory the allocator reserves past every guest's
 * region.  Each guest has VMM_SHADOW_TABLES of them, one per guest table
 * (root) in use, each of vmm_shadow_capacity() entries; a guest page past
 * that capacity is interpreted, one instruction at a time.
 *
 * A shadow entry is a real PTE (V, W, frame) and, in bits 2..7 that the
 * hardware ignores, why it is what it is: */
#define VMM_SPTE_GUEST_INVALID (1u << 2) /* V=0: the guest's own entry is invalid          */
#define VMM_SPTE_INTERPRET (1u << 3)     /* V=0: not expressible (a frame that is only partly
                                            guest memory): accesses are interpreted       */
#define VMM_SPTE_TRACED (1u << 4)        /* V=1, W withheld: the frame holds a guest page
                                            table (trace): a store traps and is synced    */
#define VMM_SPTE_PAST 0xffffffu          /* the frame of a guest frame past its memory (or of
                                            a guest PTE past it): a physical fault, really */
/* 0 is an entry not filled yet (lazy): its first use is a hidden fault. */

#define VMM_SHADOW_TABLES 8u

struct vmm_shadow_stats {
    uint64_t hidden_faults; /* real MEM faults the guest never sees: fixed and retried */
    uint64_t true_faults;   /* MEM faults of a shadowed guest, reflected to it          */
    uint64_t pte_writes;    /* trace: guest stores into its page tables, trapped and synced */
    uint64_t rebuilds;      /* whole shadow tables built from the guest's                */
    uint64_t fills;         /* entries filled one at a time at a hidden fault            */
    uint64_t drops;         /* shadow tables emptied at a flush (lazy)                   */
    uint64_t verifies;      /* trace: tables compared with the guest's after unpaged code,
                               which no write protection reaches, could have changed them */
    uint64_t interpreted;   /* instructions no shadow entry can express, interpreted      */
    uint64_t flushes;       /* tlbflush and PSW loads (lpsw, traps) of the guest          */
    uint64_t entries_made;  /* shadow entries computed from guest PTEs: the policy's work */
    uint64_t words_written; /* of which changed a shadow word                             */
    uint64_t words_in_use;  /* shadow entries that hold a translation now                 */
    uint64_t words_reserved; /* host words reserved for this guest's shadow tables        */
};
/* Why a shadow entry last changed. */
enum vmm_shadow_reason {
    VMM_SHADOW_UNCHANGED,
    VMM_SHADOW_BY_REBUILD,      /* "rebuild": the table was built from the guest's */
    VMM_SHADOW_BY_HIDDEN_FAULT, /* "hidden fault": filled or fixed at a fault      */
    VMM_SHADOW_BY_PTE_WRITE,    /* "PTE write": the guest stored into its table    */
    VMM_SHADOW_BY_FLUSH,        /* "flush": dropped at a tlbflush or PSW load      */
    VMM_SHADOW_BY_VERIFY,       /* "verify": found changed after unpaged code ran  */
};
const char *vmm_shadow_reason_name(enum vmm_shadow_reason r);

/* One shadow table of a guest. */
struct vmm_shadow_table {
    uint32_t root;      /* the guest table it shadows: guest-physical address (the vbase) */
    uint32_t entries;   /* guest entries it covers: min(guest bound, capacity) */
    uint32_t hpa;       /* where its entries live in real memory */
    bool active;        /* the one the guest's virtual PSW walks now (PG=1) */
    bool stale;         /* to be rebuilt or verified before it is used again */
    enum vmm_shadow_reason last_reason; /* why its last-changed entry changed */
    uint32_t last_vpn;  /* that entry (UNCHANGED: none) */
    uint64_t last_step; /* the guest's step count then */
};
uint32_t vmm_shadow_capacity(const struct vmm *v); /* entries per shadow table */
/* Where guest g's VMM_SHADOW_TABLES tables are reserved in real memory
 * (*words of them), used or not. */
uint32_t vmm_guest_shadow_area(const struct vmm *v, unsigned g, size_t *words);
/* Guest g's shadow tables in use, the active one first; returns how many
 * (at most max) were written. */
unsigned vmm_guest_shadow_tables(const struct vmm *v, unsigned g, struct vmm_shadow_table *out,
                                 unsigned max);
const struct vmm_shadow_stats *vmm_guest_shadow_stats(const struct vmm *v, unsigned g);

/* ---- Binary translation (bt) ------------------------------------------------------
 *
 * Under bt a guest's virtual-supervisor code (and paged code, and on a
 * variant whose user mode executes a sensitive instruction, user code) runs
 * in the place `translated`: basic blocks decoded once into the guest's
 * translation cache, critical instructions rewritten to act on the virtual
 * PSW, privileged ones calling out to the routines (vmm/README.md). */
struct vmm_bt_stats {
    uint64_t blocks;        /* basic blocks translated                              */
    uint64_t insns;         /* instructions translated (decoded once, into blocks)  */
    uint64_t executed;      /* guest instructions retired by translated code        */
    uint64_t inlined;       /* critical instructions run inline on the virtual PSW  */
    uint64_t callouts;      /* calls out to the vmm: privileged instructions, traps */
    uint64_t chain_hits;    /* block exits that went straight to their successor    */
    uint64_t lookups;       /* block entries found by the cache's hash              */
    uint64_t invalidations; /* blocks dropped because a word of theirs was written  */
    uint64_t flushes;       /* the whole cache dropped (full, or memory rewritten)  */
    uint64_t blocks_live;   /* blocks in the cache now                              */
};
/* NULL unless the vmm's mode is bt. */
const struct vmm_bt_stats *vmm_guest_bt_stats(const struct vmm *v, unsigned g);
enum vmm_shadow_policy vmm_shadow_policy(const struct vmm *v);

/* ---- Paravirtualization (pv, vmm/pv.c) -----------------------------------------------
 *
 * What a paravirtual guest kernel asks by `hcall N` instead of executing a
 * critical (pushf, popf, srr) or privileged instruction (vmm/README.md
 * "Paravirtualization"; programs/lib/pv.inc mirrors it).  From virtual
 * supervisor mode under pv; from user mode, or another number, an hcall is
 * the guest's own trap (reflected).  Results in r1 (and r2); every other
 * register is kept.
 *
 *   PV_HELLO       must be the guest's first instruction: the vmm scans the
 *                  guest's memory for critical instructions (refused if it
 *                  holds one) and answers r1 = PV_VERSION, r2 = the memory
 *                  size in words (what srr shows a kernel at reset)
 *   PV_SHARED      r1 = guest-physical address of the shared area
 *                  (PV_SHARED_WORDS words): r1 = 0, or -1 when it is not
 *                  inside memory.  Its words:
 *                    PV_SH_MASK     the event mask (Xen's evtchn_upcall_mask):
 *                                   0 lets interrupts in (the virtual IE of
 *                                   supervisor mode), else masked; read at
 *                                   every hypercall (so an unmask takes
 *                                   effect at the next one), written by the
 *                                   vmm whenever it loads a supervisor PSW
 *                    PV_SH_PENDING  1 when, at the last hypercall or PSW
 *                                   load, an interrupt waited for the mask
 *                    PV_SH_PSW      5 words: the PSW PV_PSW loads
 *   PV_PSW         lpsw: loads the PSW at the shared area's PV_SH_PSW (the
 *                  registers stay the caller's: a kernel restores them all
 *                  first); without a shared area the guest is stopped
 *   PV_TIMER_SET   stmr r1
 *   PV_TIMER_READ  rtmr: r1 = the timer
 *   PV_CONSOLE     out r1, 0: the low byte of r1 to the console
 *   PV_HALT        halt, the exit status in r1
 *   PV_PTE_BATCH   r1 = a list of r2 pairs {PTE guest-physical address,
 *                  value}: each stored in order, the shadow tables synced
 *                  (no write-protect fault), then a flush (as tlbflush);
 *                  r1 = the pairs applied: r2, or the index of the first
 *                  pair whose PTE address is outside memory (the rest are
 *                  not applied); -1 when the list is not inside memory or
 *                  r2 > PV_PTE_BATCH_MAX
 *
 * Each counts one guest step and charges the virtual clock as the
 * instruction it replaces (PV_PSW and PV_TIMER_SET do not; the others do).
 * A privileged instruction trapping from a PV kernel (supervisor mode) is
 * the guest's fault: it is stopped and refused (vmm_guest_refusal). */
enum vmm_pv_abi {
    PV_HCALL_HELLO = 32,
    PV_HCALL_SHARED = 33,
    PV_HCALL_PSW = 34,
    PV_HCALL_TIMER_SET = 35,
    PV_HCALL_TIMER_READ = 36,
    PV_HCALL_CONSOLE = 37,
    PV_HCALL_HALT = 38,
    PV_HCALL_PTE_BATCH = 39,
    PV_HCALL_FIRST = PV_HCALL_HELLO,
    PV_HCALL_COUNT = 8,
    PV_VERSION = 1,
    PV_SH_MASK = 0,
    PV_SH_PENDING = 1,
    PV_SH_PSW = 2,
    PV_SHARED_WORDS = PV_SH_PSW + PSW_WORDS,
    PV_PTE_BATCH_MAX = 64,
};
/* Why the vmm refused guest g (pv: not paravirtual, a critical instruction
 * in its memory, a privileged instruction executed by its kernel), one
 * line; NULL when it did not.  A refused guest is stopped (MACHINE_CHECK). */
const char *vmm_guest_refusal(const struct vmm *v, unsigned g);
/* pv: from now on every instruction of every guest runs on the interpreter
 * (the place `interpreted`), the hypercalls served the same way: the PV
 * machine's reference, the other side of `equiv --vmm pv` (the bare
 * machine has no hypercalls).  Before the first vmm_run; no-op unless pv. */
void vmm_pv_interpret_all(struct vmm *v);
/* pv: the hypercalls guest g made, by number - PV_HCALL_FIRST; NULL unless
 * the mode is pv. */
const uint64_t *vmm_guest_pv_calls(const struct vmm *v, unsigned g);
/* pv: the {PTE, value} pairs guest g's PV_PTE_BATCH calls applied (a
 * kernel that writes its page tables by plain stores has none). */
uint64_t vmm_guest_pv_pte_pairs(const struct vmm *v, unsigned g);
/* The name of hypercall PV_HCALL_FIRST + k: "hello", "shared", "psw",
 * "timer_set", "timer_read", "console", "halt", "pte_batch"; "?" past them. */
const char *vmm_pv_call_name(unsigned k);

/* ---- Observation (trace, TUI) ------------------------------------------------ */

enum vmm_handling {
    VMM_EMULATED,  /* a system instruction carried out on the virtual state      */
    VMM_REFLECTED, /* a trap delivered to the guest's handler                    */
    VMM_DELIVERED, /* a virtual interrupt (timer, console) delivered to the guest */
    VMM_ABSORBED,  /* the vmm's own timer: virtual clock charged, guest resumed   */
    VMM_SCHEDULED, /* the guest was given the CPU for a new slice                */
    VMM_STOPPED,   /* the guest stopped (halt, machine check, unhandled trap, budget) */
};
const char *vmm_handling_name(enum vmm_handling h); /* "emulated", ... */

struct vmm_event {
    unsigned guest;
    enum vmm_handling how;
    enum isa_cause cause;  /* CAUSE_NONE for scheduling and budget stops */
    unsigned detail;       /* MEM: as the guest sees it */
    uint32_t value;
    uint32_t pc;           /* the guest instruction, or the saved pc of svc/interrupts */
    uint32_t insn;         /* the instruction word for PRIV/emulated, else 0 */
    bool supervisor;       /* the guest's virtual mode when it arose (its kernel: true) */
    enum vmm_place place;  /* where the guest's code ran when it arose: the place of
                              the machine that trapped; VMM_PLACE_DIRECT for what the
                              vmm raises between runs (scheduled, delivered, stopped) */
    enum machine_stop stop; /* VMM_STOPPED: why */
    uint64_t step;         /* the guest's step count before it (its step number) */
};

struct vmm_observer {
    void *ctx;
    /* Called for every event; MACHINE_STOP_RUN makes vmm_run return
     * VMM_RUN_STOPPED as soon as the state is consistent (after the event). */
    enum machine_verdict (*on_event)(void *ctx, struct vmm *v, const struct vmm_event *e);
};

/* ---- Life cycle ---------------------------------------------------------------- */

/* A vmm with cfg->nguests guests, each reset with pc = ISA_DEFAULT_ENTRY and
 * zeroed memory.  Returns NULL when the configuration is invalid or memory
 * cannot be had. */
struct vmm *vmm_create(const struct vmm_config *cfg);
void vmm_destroy(struct vmm *v);
/* A deep copy of v, outside vmm_run: real memory (so every guest's), every
 * vcpu, console, statistics and run state, and the observer; not the output
 * sinks.  For snapshots (reverse execution).  NULL when memory cannot be had. */
struct vmm *vmm_clone(const struct vmm *v);

void vmm_set_observer(struct vmm *v, const struct vmm_observer *obs); /* NULL: none */
/* Each guest stops with MACHINE_BUDGET after this many steps in all
 * (UINT64_MAX, the default: no limit), counted exactly as machine_steps()
 * counts a bare run, so that it stops where machine_run(m, steps) would.
 * A guest stopped by a smaller limit before goes on under a bigger one. */
void vmm_set_step_limit(struct vmm *v, uint64_t steps_per_guest);

/* ---- Guests ---------------------------------------------------------------------- */

unsigned vmm_guest_count(const struct vmm *v);
size_t vmm_guest_memsize(const struct vmm *v);
enum vmm_mode vmm_mode(const struct vmm *v);
/* Guest-physical memory of guest g (vmm_guest_memsize words); writes take
 * effect at once.  Load images here.  The call drops g's shadow page
 * tables (the writes may change its page tables): write before the next
 * vmm_run, or call it again. */
uint32_t *vmm_guest_memory(struct vmm *v, unsigned g);
const uint32_t *vmm_guest_memory_const(const struct vmm *v, unsigned g);
/* Resets the vcpu (reset PSW with pc = entry, registers 0) and the run state;
 * memory, console and statistics are kept. */
void vmm_guest_reset(struct vmm *v, unsigned g, uint32_t entry);
const struct vmm_vcpu *vmm_guest_vcpu(const struct vmm *v, unsigned g);
/* A register of guest g, also while vmm_run is running (from an observer). */
uint32_t vmm_guest_reg(const struct vmm *v, unsigned g, unsigned r);
/* All of them, r0 first, the same way. */
void vmm_guest_regs(const struct vmm *v, unsigned g, uint32_t out[ISA_NREGS]);
/* Setters for loaders and debuggers; not while vmm_run is running.  The
 * PSW's flags are masked as machine_set_psw does. */
void vmm_guest_set_reg(struct vmm *v, unsigned g, unsigned r, uint32_t value);
void vmm_guest_set_psw(struct vmm *v, unsigned g, const struct psw *p);
/* True while the guest can still run. */
bool vmm_guest_runnable(const struct vmm *v, unsigned g);
/* Why the guest stopped (HALT, CHECK, UNHANDLED_TRAP, BUDGET for the step
 * limit); MACHINE_BUDGET too while it is runnable. */
enum machine_stop vmm_guest_stop(const struct vmm *v, unsigned g);
uint64_t vmm_guest_steps(const struct vmm *v, unsigned g);   /* as machine_steps() */
uint64_t vmm_guest_retired(const struct vmm *v, unsigned g); /* as stats.retired   */
const struct vmm_stats *vmm_guest_stats(const struct vmm *v, unsigned g);
/* The most recent trap the guest took (as machine_last_trap), or NULL. */
const struct machine_trap *vmm_guest_last_trap(const struct vmm *v, unsigned g);
const struct vmm_fmap *vmm_guest_fmap(const struct vmm *v, unsigned g);
/* Where the guest's next instructions run, by the mode and its virtual PSW. */
enum vmm_place vmm_guest_place(const struct vmm *v, unsigned g);
/* The PSW guest g's code runs with on the machine beneath it (the "real PSW"
 * to show next to the virtual one), for the place of its next instructions:
 * direct, user mode, IE on, the composed relocation and the programmed
 * timer (the real machine's PSW while the guest is loaded there);
 * interpreted, the virtual PSW with M=0 on the vmm's interpreter. */
struct psw vmm_guest_real_psw(const struct vmm *v, unsigned g);
/* Translates guest-virtual va under the guest's virtual PSW to a
 * guest-physical address, as the guest's hardware would. */
bool vmm_guest_translate(const struct vmm *v, unsigned g, uint32_t va,
                         enum machine_access access, uint32_t *gpa, unsigned *detail);

/* The guest's console: input is appended; output is everything written to
 * port 0 (capped like the bare machine's), not NUL-terminated. */
void vmm_feed_input(struct vmm *v, unsigned g, const uint8_t *bytes, size_t n);
/* Guest g reads guest from's input from where from is, sharing the bytes. */
void vmm_share_input(struct vmm *v, unsigned g, unsigned from);
const uint8_t *vmm_guest_output(const struct vmm *v, unsigned g, size_t *len);
/* Also hands each output byte to sink as the guest writes it (NULL: stop). */
void vmm_set_output_sink(struct vmm *v, unsigned g, void (*sink)(void *ctx, uint8_t byte),
                         void *ctx);

/* ---- Disks: hypervisor-direct (vmm/disk.c) --------------------------------------- *
 *
 * Real unit k is partitioned among the guests: guest g's virtual unit k is
 * sectors [g * P, g * P + P) of it, P = SIZE / nguests.  Every access to a
 * virtual unit's ports traps (in/out are privileged) and is emulated on
 * its registers; a command is checked against them as the bare device
 * would check it (SIZE = P, DMA inside guest memory), its DMA address taken
 * through the f-map, and carried out by the vmm on the real unit, whose
 * interrupt it never turns on; its completion is the guest's own IO
 * interrupt (value: the virtual STATUS port). */

struct vmm_disk_stats {
    uint64_t reads, writes, errors; /* commands of the guest's virtual units */
    /* split: kicks (SPLIT_HCALL_KICK), requests served, completion
     * notifications raised, and batches whose notification the front end
     * suppressed (its RSP_EVENT not passed) */
    uint64_t kicks, requests, notifications, suppressed;
};

/* How the units are given to the guests (ISA.md's I/O models):
 *   direct       hypervisor-direct, above: partitions, every command
 *                checked and carried out by the vmm
 *   passthrough  a whole real unit per guest (one guest: every unit as it
 *                is; n guests: real unit g is guest g's unit 0, so n
 *                disks): the guest's commands go to the real unit as they
 *                are, unchecked; the real unit's own IOMMU confines them,
 *                set to the guest's DMA_BASE/DMA_BOUND composed with its
 *                region.  Without the IOMMU (iommu false, --no-iommu) the
 *                guest's DMA_BASE/DMA_BOUND go to the real unit as they
 *                are and its DMA reaches any real word: the unsafe case
 *                the attack suite shows on purpose. */
enum vmm_io_model { VMM_IO_DIRECT, VMM_IO_PASSTHROUGH, VMM_IO_SPLIT };

/* split (vmm/split.c, vmm/README.md "The split driver"): the partitions of
 * direct, and a paravirtual front end in the guest kernel that posts
 * requests on a ring in its own memory and kicks the back end in the vmm
 * with one hcall per batch.  From virtual supervisor mode:
 *   hcall SPLIT_HCALL_RING  r1 = unit, r2 = the ring's guest-physical
 *                           address: the back end serves it from now on
 *                           (its consumer = REQ_PROD, RSP_PROD set to it);
 *                           r1 = 0, or -1 (no such unit, ring outside memory)
 *   hcall SPLIT_HCALL_KICK  r1 = unit: every request posted is served now,
 *                           in order; r1 = how many, -1 (no ring), -2
 *                           (REQ_PROD more than SPLIT_SLOTS ahead: nothing
 *                           served)
 * The ring, SPLIT_RING_WORDS words: REQ_PROD (front end), REQ_EVENT (back
 * end: kick when REQ_PROD passes it), RSP_PROD (back end), RSP_EVENT (front
 * end: raise the unit's IO interrupt when RSP_PROD passes it), then
 * SPLIT_SLOTS slots of {OP (CMD_READ or CMD_WRITE), SECTOR (in the
 * partition), ADDR (guest-physical), STATUS (the back end's: DONE, plus
 * ERROR when it failed)}; request i is slot i mod SPLIT_SLOTS and its
 * response is written over it.  An hcall from virtual user mode, or any
 * other number, is the guest's own trap (reflected). */
enum vmm_split_abi {
    SPLIT_HCALL_RING = 16,
    SPLIT_HCALL_KICK = 17,
    SPLIT_REQ_PROD = 0,
    SPLIT_REQ_EVENT = 1,
    SPLIT_RSP_PROD = 2,
    SPLIT_RSP_EVENT = 3,
    SPLIT_SLOTS_AT = 8,
    SPLIT_SLOTS = 8,
    SPLIT_SLOT_WORDS = 4,
    SPLIT_OP = 0,
    SPLIT_SECTOR = 1,
    SPLIT_ADDR = 2,
    SPLIT_STATUS = 3,
    SPLIT_RING_WORDS = SPLIT_SLOTS_AT + SPLIT_SLOTS * SPLIT_SLOT_WORDS,
};
/* Before the first vmm_attach_disk (default: direct, IOMMU on). */
void vmm_set_io_model(struct vmm *v, enum vmm_io_model model, bool iommu);
/* Attaches real unit `unit` with a copy of words (sectors * 256 of them)
 * and gives every guest its partition as virtual unit `unit` (passthrough:
 * the whole unit to its guest).  False with a one-line message when the
 * unit is taken, the partitions would be empty, passthrough has no guest
 * for it,
 * the variant lets user mode execute in or out (a guest would drive the
 * real unit itself), or memory cannot be had.  Before the first vmm_run. */
bool vmm_attach_disk(struct vmm *v, unsigned unit, const uint32_t *words, uint32_t sectors,
                     char *err, size_t errsize);
/* Guest g's virtual unit: its partition of the real medium as it is now
 * (borrowed), and its size in *sectors; NULL when not attached. */
const uint32_t *vmm_guest_disk(const struct vmm *v, unsigned g, unsigned unit, uint32_t *sectors);
const struct vmm_disk_stats *vmm_guest_disk_stats(const struct vmm *v, unsigned g);

/* ---- The host ------------------------------------------------------------------- */

/* The real machine (its PSW is the "real PSW" of the TUI; its memory holds
 * every guest region).  Do not set its monitor. */
struct machine *vmm_real_machine(struct vmm *v);
const struct machine *vmm_real_machine_const(const struct vmm *v);
/* The guest that runs (or ran last) on the real machine. */
unsigned vmm_current_guest(const struct vmm *v);

/* ---- Running ---------------------------------------------------------------------- */

enum vmm_run_status {
    VMM_RUN_DONE,    /* every guest has stopped                      */
    VMM_RUN_BUDGET,  /* max_steps guest steps were taken             */
    VMM_RUN_STOPPED, /* the observer asked to stop                   */
};
/* Runs the guests round-robin for at most max_steps guest steps in total.
 * On return every vcpu is up to date. */
enum vmm_run_status vmm_run(struct vmm *v, uint64_t max_steps);
/* The same as max_steps calls of vmm_run(v, 1), in one: the real timer is
 * never let fire (one-step calls never reach its interrupt, so its slice
 * ends and the guest's virtual timer are seen between steps, and nothing
 * is absorbed for them).  A directly run unpaged guest goes in runs up to
 * the real timer's end, back to the scheduler after every trap (which may
 * set the timer again); any other place one step a run. */
enum vmm_run_status vmm_run_fine(struct vmm *v, uint64_t max_steps);
/* Fetch stops for a debugger (machine_set_fetch_stops): vmm_run returns
 * VMM_RUN_STOPPED before any guest fetches one of the n real words, on the
 * real machine, on a guest's interpreter or in bt's translated blocks, as
 * if its budget ended there (so a run cut at a stop goes on as the uncut
 * one), once an arrival.  False, and none set, without memory.  n = 0
 * clears them; a clone has none. */
bool vmm_set_fetch_stops(struct vmm *v, const uint32_t *real, unsigned n);
/* True when the last vmm_run ended at a fetch stop. */
bool vmm_fetch_stopped(const struct vmm *v);

#endif
