/*
 * vmm_priv.h: the vmm's private layout, shared by its parts.
 *
 *   vmm.c       life cycle, accessors, the modes table
 *   alloc.c     the allocator: guest regions in real memory, the f-maps
 *   dispatch.c  the table of places and the dispatcher: every trap of the
 *               real machine and of the interpreter lands here and is
 *               routed by the place it came from
 *   emulate.c   the interpreter routines, one per system instruction
 *   reflect.c   reflection: a trap or interrupt delivered into the guest
 *   sched.c     the virtual clock, the slices and the round-robin scheduler
 *
 * Functions shared between the parts are prefixed vmm_ and declared here;
 * nothing here is public.
 */
#ifndef TRAPEZE_VMM_PRIV_H
#define TRAPEZE_VMM_PRIV_H

#include "../isa/invariant.h"
#include "../machine/console.h"
#include "../machine/disk.h"
#include "vmm.h"

/* The first real page is the host's: the real trap area (unused, the vmm is
 * the monitor) and a canary the attack tests check. */
#define VMM_HOST_WORDS ISA_PAGE_WORDS
#define VMM_CANARY 0xdead5afeu

/* One shadow table (shadow.c): the public view, and what keeps it. */
struct vmm_shadow_slot {
    struct vmm_shadow_table t; /* root, entries (computed so far), hpa, stale, last change */
    bool used;
    bool unverified;           /* trace: unpaged code could have written its guest table */
    uint64_t last_use;         /* for choosing a table to reuse (least recently used) */
    const uint32_t *spte;      /* its entries, in real memory (t.hpa; written by set_entry) */
    uint32_t *src;             /* per entry, the guest PTE it was made from (host memory) */
    uint32_t *filled;          /* lazy: the entries filled, in order, so a drop clears them */
    uint32_t nfilled;
};

/* A guest's shadow tables and the policy's state. */
struct vmm_guest_shadow {
    struct vmm_shadow_slot slot[VMM_SHADOW_TABLES];
    unsigned tables_used;       /* slots with used set (0: flushes and trap records cost nothing) */
    int active;                 /* the slot of the running paged space, or -1 */
    uint64_t clock;
    uint16_t *traced;           /* trace: per guest frame, the tables whose words lie in it */
    size_t nframes;
    uint32_t *words;            /* the host memory behind src, filled and traced (one block) */
    size_t nwords;
    /* The next instruction is interpreted (no shadow entry can express
     * it); after it, the guest word at sync_gpa is resynced (a traced store). */
    bool interpret_next;
    bool sync_after;
    uint32_t sync_gpa;
    struct vmm_shadow_stats stats;
};

struct vmm_guest {
    struct vmm *vmm;
    unsigned index;

    /* The virtual processor.  vcpu.reg is valid while the guest is not
     * loaded on a machine; vcpu.psw always (the dispatcher syncs it first). */
    struct vmm_vcpu vcpu;

    /* Memory: the f-map and, because the allocator gives one extent per
     * guest, the host pointer to guest-physical 0 (read-only: writes go
     * through vmm_guest_span, which marks the real machine's written pages). */
    struct vmm_fmap fmap;
    const uint32_t *mem;
    size_t memsize;

    /* The vmm's interpreter for this guest: a machine over the guest's
     * region (machine_create_on), whose physical space is guest-physical. */
    struct machine *interp;

    /* Its virtual console: the same device as the bare machine's. */
    struct console con;
    uint64_t output_dropped;
    /* Its virtual disk units (disk.c): registers only, each backed by the
     * sectors [first, first + unit.sectors) of the real unit; the lines
     * up (bit k: unit k), kept at every access. */
    struct {
        struct disk_unit unit;
        uint32_t first;
        unsigned real;        /* the real unit behind it */
    } vdisk[ISA_DISK_UNITS];
    unsigned vdisk_lines;
    /* split (split.c): each unit's ring and the back end's own indices;
     * notifications raised and not yet delivered (bit k: unit k). */
    struct {
        bool registered;
        uint32_t ring;          /* guest-physical */
        uint32_t req_cons, rsp_prod;
    } split[ISA_DISK_UNITS];
    unsigned split_lines;
    struct vmm_disk_stats disk_stats;

    /* Run state. */
    bool stopped;
    enum machine_stop stop;
    uint64_t steps;          /* guest steps, as machine_steps() of a bare run */
    uint64_t step_limit;     /* stop with MACHINE_BUDGET here; UINT64_MAX: none */
    uint64_t run_end;        /* the current machine_run must stop by this step  */
    int64_t slice_left;      /* guest steps left in this slice                */

    /* While loaded on a machine (then it is vmm->running and vmm->current):
     * the place it was loaded in and what the last resume programmed. */
    bool loaded;
    enum vmm_place place;
    uint32_t timer_programmed; /* direct: the real timer at resume            */
    uint64_t retired_mark;     /* the machine's retired count at resume        */
    uint64_t trap_mark[CAUSE_COUNT]; /* hw-slt: its trap counts at resume     */

    struct vmm_stats stats;
    bool has_trapped;
    struct machine_trap last_trap; /* the guest's own, as its hardware saw it */
    uint64_t tlb_flushes;      /* virtual tlbflush events and PSW loads */

    struct vmm_guest_shadow shadow; /* te: its shadow page tables (shadow.c) */

    /* bt: its translation cache (bt.c), and the guest-physical words code
     * run directly since the last translated run could have written. */
    struct bt_cache *bt;
    bool bt_dirty;
    /* bt's fetch stops (vmm_set_fetch_stops): where it last met one (the
     * guest's steps then and the word), which the next fetch passes. */
    uint64_t bt_stop_steps;
    uint32_t bt_stop_gpa;
    uint32_t bt_dirty_lo, bt_dirty_hi;

    /* pv (pv.c): admitted (its first instruction was looked at), the shared
     * area (guest-physical) once registered, the calls by number, the PTE
     * pairs PV_PTE_BATCH applied, and why it was refused ("" if it was not). */
    struct {
        bool admitted, shared_set;
        uint32_t shared;
        uint64_t calls[PV_HCALL_COUNT];
        uint64_t pte_pairs;
        char refusal[200];
    } pv;
};

struct vmm {
    enum vmm_mode mode;
    struct isa_variant variant;        /* the guests' and the real machine's  */
    struct isa_variant interp_variant; /* every system instruction traps      */
    uint32_t slice;
    enum vmm_io_model io_model;        /* how disks are given (disk.c) */
    bool io_no_iommu;                  /* passthrough without the IOMMU */
    enum vmm_shadow_policy shadow_policy;
    uint32_t shadow_capacity;          /* entries per shadow table */
    uint32_t shadow_hpa;               /* the shadow area: past every guest's region */
    size_t shadow_words;               /* its size: nguests * VMM_SHADOW_TABLES * capacity */

    struct machine *real;
    struct vmm_guest *guests;
    unsigned nguests;
    size_t guest_memsize;

    /* Scheduling. */
    unsigned current;           /* the guest on (or last on) the real machine */
    struct vmm_guest *running;  /* the guest loaded during vmm_run, else NULL */
    bool stop_requested;        /* the observer asked to stop                  */
    bool fine_cut;              /* vmm_run_fine: as one-step calls of vmm_run  */
    bool fetch_stopped;         /* the last vmm_run ended at a fetch stop      */
    bool fetch_stops_set;       /* vmm_set_fetch_stops set some                */

    struct vmm_observer obs;
    bool bt_user_translated; /* bt: user mode runs a sensitive instruction on the real state */
    bool pv_interpreted;     /* pv: every instruction interpreted (equiv's reference) */
};

/* Guest-physical words [gpa, gpa + n) of g, to be written: marked in the
 * real machine's written pages (machine_memory_span), so its snapshots
 * copy them. */
static inline uint32_t *vmm_guest_span(struct vmm_guest *g, uint32_t gpa, size_t n)
{
    return machine_memory_span(g->vmm->real, (size_t)g->fmap.ext[0].hpa + gpa, n);
}

/* ---- paravirtualization (pv.c) ---- */
/* Before g's first run under pv: true when its first instruction is hcall
 * PV_HELLO; else g is refused and stopped. */
bool vmm_pv_admit(struct vmm_guest *g);
/* An hcall from g's code on cpu: true when it was one of pv's and served. */
bool vmm_pv_hcall(struct vmm_guest *g, struct machine *cpu, uint32_t number, uint32_t pc, bool supervisor);
/* A system instruction w trapped from g's PV kernel at pc: refused, stopped. */
void vmm_pv_refuse_insn(struct vmm_guest *g, uint32_t w, uint32_t pc);
/* The vmm loaded g's PSW (a PSW load, a trap): the mask follows its IE. */
void vmm_pv_psw_loaded(struct vmm_guest *g);

/* ---- modes (vmm.c) ---- */
/* Where guest g's next instruction runs under v's mode. */
enum vmm_place vmm_place_of(const struct vmm *v, const struct vmm_guest *g);

/* ---- places (dispatch.c) ---- */
/* What the dispatcher does with a trap that came from a place. */
enum vmm_route {
    ROUTE_REFLECT, /* the guest's own trap: into its trap area as it is         */
    ROUTE_SYSTEM,  /* PRIV: emulate the system instruction, or reflect the PRIV  */
    ROUTE_MEM,     /* a real fault: reflected, its detail recomputed against the
                      virtual PSW (the shadow tables' seam)                      */
    ROUTE_ABSORB,  /* the vmm's own (its timer): charged, no guest step          */
    ROUTE_HCALL,   /* a hypercall of the vmm's (served), else reflected          */
};

/*
 * One row per enum vmm_place: everything the dispatcher, the loader and the
 * accessors need to know about a place, so that none of them tests which
 * place a guest is in.
 */
struct vmm_place_ops {
    const char *name; /* vmm_place_name() */
    /* The machine that runs g's code there and holds its registers (and its
     * PSW, composed) while g is loaded. */
    struct machine *(*machine)(const struct vmm_guest *g);
    /* The PSW g's code runs with there for its next run; also records what
     * charge() will need (the timer programmed). */
    struct psw (*compose)(struct vmm_guest *g);
    /* Charges what m ran for g since the last resume (now: m's PSW then):
     * counts, guest steps, the slice, the virtual clock, the virtual pc. */
    void (*charge)(struct vmm_guest *g, struct machine *m, const struct psw *now);
    /* vmm_guest_real_psw() for a guest whose next instructions run there. */
    struct psw (*shown)(const struct vmm_guest *g);
    /* enum vmm_route, by the cause of a trap of that place's machine. */
    uint8_t route[CAUSE_COUNT];
    /* Runs g there for at most budget steps; NULL: machine_run(m). */
    enum machine_stop (*run)(struct vmm_guest *g, struct machine *m, uint64_t budget);
    /* When g leaves the place (unloaded), after its state was read; NULL: nothing. */
    void (*leave)(struct vmm_guest *g, struct machine *m);
};
extern const struct vmm_place_ops vmm_places[VMM_PLACE_COUNT];

/* ---- allocator (alloc.c) ---- */
/* Real memory needed for n guests of memsize words. 0 if it does not fit. */
size_t vmm_alloc_real_size(unsigned n, size_t memsize);
/* Places the shadow area past the n regions: v->shadow_*. */
void vmm_alloc_shadow_area(struct vmm *v);
/* Gives guest g its region of real memory: sets g->fmap, g->mem, g->memsize
 * and fills the padding after the region with the canary. */
void vmm_alloc_guest(struct vmm *v, struct vmm_guest *g);
/* The allocator's invariant, for assertions: every guest's f-map has
 * extents sorted by gpa, disjoint, covering exactly [0, memsize) from one
 * extent at g->mem (what the routines rely on), inside real memory past the
 * host page, and no two guests' extents share a real word. */
bool vmm_fmaps_valid(const struct vmm *v);

/* ---- dispatcher (dispatch.c) ---- */
enum machine_verdict vmm_on_real_trap(void *ctx, struct machine *m, const struct machine_trap *t);
enum machine_verdict vmm_on_interp_trap(void *ctx, struct machine *m, const struct machine_trap *t);
/* The real machine's exit handler (hw): the exit is the running guest's. */
enum machine_verdict vmm_on_real_exit(void *ctx, struct machine *m, const struct machine_exit *x);
/* Loads g's state on the machine of the place its mode picks and marks it
 * loaded.  g must be the current guest, and none may be loaded. */
struct machine *vmm_load(struct vmm_guest *g);
/* Brings g's vcpu up to date from the machine it ran on (after machine_run
 * returned on its own: budget or halt) and unloads it. */
void vmm_unload(struct vmm_guest *g, struct machine *m, bool sync_psw);
/* Reports an event to the observer (if any).  Its place is where g is
 * loaded, or VMM_PLACE_DIRECT between runs. */
void vmm_emit(struct vmm_guest *g, enum vmm_handling how, enum isa_cause cause, unsigned detail,
              uint32_t value, uint32_t pc, uint32_t insn, bool supervisor);
/* Stops guest g for why and reports it. */
void vmm_stop_guest(struct vmm_guest *g, enum machine_stop why);

/* ---- interpreter routines (emulate.c) ---- */
enum vmm_emul_result { EMUL_RETIRED, EMUL_FAULT, EMUL_HALTED, EMUL_ILLEGAL };
struct vmm_emul {
    struct vmm_guest *g;
    struct machine *cpu; /* holds the guest's general registers */
    uint32_t w;          /* the instruction */
    uint32_t pc;         /* its address */
    bool user;           /* virtual user mode: the variant's action applies */
    bool silent;         /* the variant says: change no system state */
    unsigned detail;     /* EMUL_FAULT: MEM detail and value (the address) */
    uint32_t value;
};
typedef enum vmm_emul_result (*vmm_routine)(struct vmm_emul *e);
/* The routine for opcode, or NULL when it is not a system instruction. */
vmm_routine vmm_routine_for(uint8_t opcode);
/* Charges one retired guest instruction to the virtual clock (the timer
 * rule of ISA.md). */
void vmm_vclock_tick(struct vmm_guest *g);

/* ---- reflection (reflect.c) ---- */
/* Delivers a trap to guest g exactly as its hardware would: old PSW (pc =
 * saved_pc) and cause into its trap area, its new PSW loaded.  Counts one
 * guest step.  Returns MACHINE_BUDGET when the guest can go on, or why it
 * must stop: UNHANDLED_TRAP (an all-zero new PSW) or CHECK (its pc does not
 * translate); the caller reports the trap, then stops it. */
enum machine_stop vmm_reflect(struct vmm_guest *g, enum isa_cause cause, unsigned detail,
                              uint32_t value, uint32_t saved_pc);
/* A virtual interrupt the guest takes before its next instruction, or
 * CAUSE_NONE. */
enum isa_cause vmm_pending_interrupt(const struct vmm_guest *g);
/* A guest's port access, routed to its virtual devices (console.c). */
uint32_t vmm_console_read(struct vmm_guest *g, uint32_t port);
void vmm_console_write(struct vmm_guest *g, uint32_t port, uint32_t value);
/* The value of g's pending IO interrupt: its console first, then its
 * virtual units 0..3 (the STATUS port). */
uint32_t vmm_io_port(const struct vmm_guest *g);
/* Carries out cmd (CMD_READ or CMD_WRITE) of g's virtual unit `unit` on the
 * real unit behind it: partition sector `sector` (checked by the caller),
 * guest-physical words gpa .. gpa + 255 (inside guest memory).  True when
 * the sector moved (disk.c). */
bool vmm_disk_transfer(struct vmm_guest *g, unsigned unit, uint32_t cmd, uint32_t sector, uint64_t gpa);
/* An HCALL trap of g from the machine cpu (which holds its registers):
 * true when it is the split driver's and was served (split.c). */
bool vmm_split_hcall(struct vmm_guest *g, struct machine *cpu, uint32_t number, bool supervisor);
/* The IO interrupt of value port was delivered: a split notification of
 * that unit is taken (it is an edge, not a level). */
void vmm_split_delivered(struct vmm_guest *g, uint32_t port);
/* A port of g's virtual unit `unit` (disk.c): register reg read or written. */
uint32_t vmm_disk_read(struct vmm_guest *g, unsigned unit, unsigned reg);
void vmm_disk_write(struct vmm_guest *g, unsigned unit, unsigned reg, uint32_t value);

/* ---- shadow page tables (shadow.c) ---- */
/* Entries per shadow table for guests of memsize words. */
uint32_t vmm_shadow_capacity_for(size_t memsize);
/* Sets up g's shadow state (its tables at their place in the shadow area);
 * false when memory cannot be had.  _free releases it, _copy makes to's
 * equal to from's (the clone's real memory already holds the entries). */
bool vmm_shadow_init(struct vmm_guest *g);
void vmm_shadow_free(struct vmm_guest *g);
bool vmm_shadow_copy(struct vmm_guest *to, const struct vmm_guest *from);
/* The shadow tables' invariant, for assertions: each table where the
 * layout puts it, nothing past its entries, every valid entry onto a frame
 * of g's region (or past real memory), a traced entry never writable,
 * words_in_use true, and (trace) each frame's count of tables in it. */
bool vmm_shadow_valid(const struct vmm_guest *g);
/* The real PSW for g's paged code (virtual PG=1) run directly: the shadow
 * of its current table, made ready by the policy. */
struct psw vmm_shadow_compose(struct vmm_guest *g, uint32_t timer);
/* The same without changing anything: what the next compose would give. */
struct psw vmm_shadow_shown(const struct vmm_guest *g, uint32_t timer);
/* A real MEM fault of g's paged code, made by an access of that kind: true
 * when it was hidden (fixed, or the instruction will be interpreted) and the
 * guest must not see it. */
bool vmm_shadow_fault(struct vmm_guest *g, const struct machine_trap *t,
                      enum machine_access access);
/* The guest's translations may have changed: a tlbflush or a PSW load
 * (lpsw, a trap reflected).  Its new virtual PSW is loaded. */
void vmm_shadow_flush(struct vmm_guest *g);
/* The same for a PSW set from outside (reset, a debugger): not counted. */
void vmm_shadow_psw_changed(struct vmm_guest *g);
/* The vmm itself wrote guest words [gpa, gpa + n) (a trap record). */
void vmm_shadow_wrote(struct vmm_guest *g, uint32_t gpa, uint32_t n);
/* Someone outside the guest may have written anywhere in its memory. */
void vmm_shadow_forget(struct vmm_guest *g);
/* An interpreted instruction (the place was chosen by interpret_next)
 * completed or trapped: resync what it may have written. */
void vmm_shadow_after_interpreted(struct vmm_guest *g);

/* ---- binary translation (bt.c) ---- */
/* g's translation cache: made (false when memory cannot be had), freed. */
bool vmm_bt_init(struct vmm_guest *g);
void vmm_bt_free(struct vmm_guest *g);
/* Runs g's translated code for at most budget steps; its vcpu is current
 * on return (MACHINE_STOPPED: unload without syncing). */
enum machine_stop vmm_bt_run(struct vmm_guest *g, struct machine *m, uint64_t budget);
/* The vmm wrote guest words [gpa, gpa + n) (a trap record, DMA). */
void vmm_bt_wrote(struct vmm_guest *g, uint32_t gpa, uint32_t n);
/* Someone may have written anywhere in g's memory. */
void vmm_bt_forget(struct vmm_guest *g);
/* g's code runs directly with guest-physical words [gpa, gpa + n) in reach. */
void vmm_bt_direct_window(struct vmm_guest *g, uint32_t gpa, uint32_t n);

/* ---- virtual clock and scheduler (sched.c) ---- */
/* The real timer for a direct resume: min(virtual timer, slice left). */
uint32_t vmm_program_timer(const struct vmm_guest *g);

#endif
