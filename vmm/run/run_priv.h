/*
 * run_priv.h: the run's private layout, shared by its parts.
 *
 *   run.c          building, cloning, running, accounting, events, views
 *   asm_monitor.c  the asm VMM: its image, the layout it exports, and what
 *                  its words say about the machine it makes
 *   spec.c         stack specs ("c,asm,asm", --depth N)
 *   log.c          the event log (log.h)
 *
 * The two kinds of monitor differ in one place each: the C VMM is host
 * code and can only be the bottom level, where it owns machine 0 and makes
 * machine 1 (its guest: registers, PSW and memory through vmm.h); an asm
 * VMM at level i is code of machine i, whose words (asm_monitor.c) say
 * what machine i + 1 is.
 */
#ifndef TRAPEZE_RUN_PRIV_H
#define TRAPEZE_RUN_PRIV_H

#include "../../isa/invariant.h"
#include "run.h"

/* Where the asm VMM keeps what the run reads: addresses in its machine's
 * memory, and the values of its vstate and vm_error words, all by name
 * from its image (programs/vmm/README.md lists them). */
struct asm_layout {
    uint32_t guest_base;  /* its guest's physical 0, in its machine */
    uint32_t guest_entry, vflags, vbase, vbound, vstate, vm_error, vpsw;
    uint32_t n_emulated, n_traps, gregs;
    uint32_t vs_not_started, vs_running, vs_halted, vs_unhandled, vs_check, vs_error;
    uint32_t e_shadow, e_small;
    /* Its shadow page table (SHADOW_MAX entries at SHADOW) and the marks
     * its entries carry that the hardware ignores. */
    uint32_t shadow, shadow_max, pte_phys, pte_frame_past;
    /* Its guest's disk partitions (ISA_DISK_UNITS words each), written by
     * the loader: unit k is sectors vdisk_first[k] .. + vdisk_size[k] of
     * its machine's unit k.  Optional: without them (has_disk false) the
     * monitor takes no disk. */
    uint32_t vdisk_first, vdisk_size;
    bool has_disk;
    /* The guest instructions it interpreted (a hybrid build,
     * programs/vmm/vmm_hybrid.s), counted in n_emulated too.  Optional:
     * without it (has_interpreted false) it interprets none. */
    uint32_t n_interpreted;
    bool has_interpreted;
    /* A word the run sets to 1 to ask an interpreting monitor to leave its
     * interpreter before the guest's next instruction, so that a budget
     * stop finds the guest whole (run_go).  Optional, with n_interpreted. */
    uint32_t yield_request;
    bool has_yield;
    /* Where its interpreter is between two of the guest's instructions,
     * the guest whole in gregs and the trap area (vmm_hybrid.s: hy_next).
     * Optional: without it (has_interp_next false) a level it interprets
     * is shown as at its last trap. */
    uint32_t interp_next;
    bool has_interp_next;
};

/* The asm VMM's image, shared by a run and its clones. */
struct asm_vmm {
    struct asm_image img;
    struct asm_layout at;
    unsigned refs;
};

/* run_load_asm_vmm (run.h) checks every name the asm VMM must export and
 * every word the run reads inside the image and below GUEST_BASE. */

/* What monitor words in machine i's memory `mem` say about machine i + 1. */
enum machine_stop asm_vmm_guest_stop(const struct asm_vmm *v, const uint32_t *mem);
bool asm_vmm_guest_started(const struct asm_vmm *v, const uint32_t *mem);
/* The message for a monitor that gave up, or NULL when it did not. */
const char *asm_vmm_error(const struct asm_vmm *v, const uint32_t *mem);

/* A level's state saved when a trap takes the processor from it. */
struct level_snapshot {
    uint32_t regs[ISA_NREGS];
    struct psw psw;
    uint64_t steps;
};

/* One guest of the bottom monitor and the levels above it (a column). */
struct column {
    unsigned index;
    const struct asm_image *program; /* borrowed: outlives the run */
    /* Machine j's memory (j = 0 is the real machine) and a machine over it
     * that translates only (views[0] is the real machine itself).  Writes go
     * through the views (machine_memory_span), which mark the real
     * machine's written pages. */
    const uint32_t *mem[RUN_MAX_LEVELS];
    struct machine *views[RUN_MAX_LEVELS];

    /* Accounting: `cur` is the level whose code has run since `mark` (a
     * count of retired instructions of the bottom machine); the difference
     * is charged whenever the level can change. */
    unsigned cur;
    uint64_t mark;
    uint64_t charged[RUN_MAX_LEVELS];

    /* A level is suspended from the trap that arose in it until it runs
     * again (or a level above it traps: then it was waiting). */
    uint32_t suspended; /* bit L: level L (RUN_MAX_LEVELS <= 32) */
    struct level_snapshot snap[RUN_MAX_LEVELS];
    /* Machine j has started: code of level j or above has run. */
    bool ran[RUN_MAX_LEVELS];

    /* The program's last trap under an asm VMM, as delivered. */
    bool delivering, has_trap;
    struct machine_trap last_trap;

    /* The C VMM at the bottom: machine 1's PSW as its last event left it.
     * Every change of it but pc and timer is an event, so with the pc of
     * the next one it is the PSW that event's trap interrupted. */
    struct psw psw1;

    bool stalled;
};

enum bottom { BOTTOM_MACHINE, BOTTOM_C };

struct run {
    struct run_spec spec;
    unsigned n;                          /* monitors */
    enum bottom bottom;
    unsigned code0;                      /* the lowest level running code: 0, or 1 above the C VMM */
    struct isa_variant variant;
    size_t memsize[RUN_MAX_LEVELS];      /* machine j's words */

    struct asm_vmm *asm_vmm;             /* when an asm level exists */
    uint32_t asm_guest_base;             /* its GUEST_BASE (0 without one) */
    struct machine *real;                /* owned unless the C VMM made it */
    struct vmm *cvmm;

    struct column *cols;
    unsigned ncols;

    /* Hooks and the observer of the real machine. */
    struct run_hooks hooks;
    bool checking;                       /* call at_boundary before each unit */
    struct machine_observer insn_obs;    /* --trace insns (bare runs) */
    bool stop_now;                       /* a hook asked to stop */
    bool in_piece;                       /* run_units runs one piece, unchecked */

    /* Budget stops at the program's boundary (run_go). */
    bool stop_at_guest, lpsw_pass, stopped_for_guest;

    /* Bounds on run_go's real work (run_set_bounds) and what cut it last. */
    uint64_t max_units;                  /* 0: none */
    const volatile sig_atomic_t *interrupt;
    enum run_cut cut;
};

/* Guest g's column; a bad index is the caller's bug (guest 0 in release). */
static inline const struct column *column_of(const struct run *r, unsigned g)
{
    if (NEVER(g >= r->ncols)) g = 0;
    return &r->cols[g];
}

/* A level the caller names; past the program is the caller's bug (the
 * program in release). */
static inline unsigned level_in(const struct run *r, unsigned level)
{
    if (NEVER(level > r->n)) level = r->n;
    return level;
}

#endif
