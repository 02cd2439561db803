/*
 * dispatch.c: the places and the dispatcher.
 *
 * A place is where a guest's code runs (vmm.h, enum vmm_place); the table
 * vmm_places says, per place, which machine runs it, the PSW it runs with,
 * how to charge what ran and where each cause of trap goes.  Every trap of
 * the real machine, and every trap of the vmm's interpreter, lands here and
 * is routed by the table of the place it came from:
 *
 *   trap --> charge what ran (direct: virtual clock from the real timer;
 *            interpreted: the interpreter's PSW is the virtual one)
 *        --> ABSORB   direct TIMER, IO: the vmm's own timer (slice or
 *                     virtual clock); no guest step
 *        --> SYSTEM   PRIV, virtual M=1 (or the variant executes it in user
 *                     mode): emulated by the routine for the opcode;
 *                     PRIV, virtual M=0 (variant: trap): reflected
 *        --> MEM      direct MEM: reflected, detail recomputed against the
 *                     virtual PSW (a real bound fault may be a virtual
 *                     physical fault)
 *        --> REFLECT  SVC HCALL ILL DIV, and all the interpreter's own:
 *                     reflected as they are
 *        --> resume: straight back into the machine when nothing needs
 *            the scheduler, else stop the machine's run
 *
 * The path allocates nothing and calls the observer only when one is set.
 */
#include "vmm_priv.h"

#include <string.h>

/* ---- The places -------------------------------------------------------------- */

/* True when real words [base, base + bound) lie inside one extent of g's
 * f-map: all that guest code with this relocation can reach. */
static inline bool inside_region(const struct vmm_guest *g, uint32_t base, uint32_t bound)
{
    if (bound == 0) return true;
    for (unsigned i = 0; i < g->fmap.n; i++) {
        const struct vmm_extent *x = &g->fmap.ext[i];
        if (base >= x->hpa && (uint64_t)base + bound <= (uint64_t)x->hpa + x->words) return true;
    }
    return false;
}

/* The real PSW for running g directly: user mode, interrupts on, no paging,
 * the guest's virtual relocation composed with its f-map, the timer given. */
static struct psw compose_direct(const struct vmm_guest *g, uint32_t timer)
{
    const struct psw *vp = &g->vcpu.psw;
    uint32_t hpa, run;
    struct psw real = {PSW_IE, vp->pc, g->fmap.ext[0].hpa, 0, timer};
    if (vmm_fmap_lookup(&g->fmap, vp->base, &hpa, &run)) {
        real.base = hpa;
        real.bound = vp->bound < run ? vp->bound : run;
    }
    /* Resource control: whatever the virtual PSW says, the guest's code
     * reaches nothing outside its own region. */
    TRAPEZE_ASSERT(inside_region(g, real.base, real.bound));
    return real;
}

static struct machine *direct_machine(const struct vmm_guest *g) { return g->vmm->real; }

/* A paging guest's code runs with real PG=1 on its shadow table, which
 * maps nothing outside its region (shadow.c). */
static bool paged(const struct vmm_guest *g) { return (g->vcpu.psw.flags & PSW_PG) != 0; }

static struct psw direct_compose(struct vmm_guest *g)
{
    g->timer_programmed = vmm_program_timer(g);
    /* The real timer always fires within the slice: the CPU comes back. */
    TRAPEZE_ASSERT(g->timer_programmed >= 1 && g->timer_programmed <= g->vmm->slice);
    if (paged(g)) return vmm_shadow_compose(g, g->timer_programmed);
    const struct psw real = compose_direct(g, g->timer_programmed);
    /* bt: what this code can store into, checked before translated code runs. */
    if (g->bt) vmm_bt_direct_window(g, real.base - g->fmap.ext[0].hpa, real.bound);
    return real;
}

/* The instructions m retired for g since the last resume: each is a guest
 * step and costs the slice one. */
static uint64_t charge_retired(struct vmm_guest *g, struct machine *m)
{
    uint64_t retired = machine_stats(m)->retired;
    TRAPEZE_ASSERT(retired >= g->retired_mark);
    uint64_t n = retired - g->retired_mark;
    g->retired_mark = retired;
    g->steps += n;
    g->slice_left -= (int64_t)n;
    return n;
}

/* Directly executed instructions: the real timer ran down by exactly the
 * instructions the virtual timer counts. */
static void direct_charge(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    g->stats.direct += charge_retired(g, m);
    struct psw *vp = &g->vcpu.psw;
    uint32_t ran = now->timer <= g->timer_programmed ? g->timer_programmed - now->timer : 0;
    g->timer_programmed = now->timer;
    if (vp->timer) {
        if (ran > vp->timer) ran = vp->timer; /* only a variant that lets user mode set the timer */
        vp->timer -= ran;
        if (vp->timer == 0) vp->flags |= PSW_TP;
    }
    vp->pc = now->pc;
}

static struct psw direct_shown(const struct vmm_guest *g)
{
    const struct vmm *v = g->vmm;
    if (g->loaded && g->place == VMM_PLACE_DIRECT) return machine_psw(v->real);
    /* Not running there: what its next slice would start with. */
    uint64_t slice = g->slice_left > 0 ? (uint64_t)g->slice_left : v->slice;
    uint32_t t = g->vcpu.psw.timer;
    const uint32_t timer = t && t < slice ? t : (uint32_t)slice;
    return paged(g) ? vmm_shadow_shown(g, timer) : compose_direct(g, timer);
}

/* ---- The assisted place (hw): the real machine in guest mode ---------------------
 *
 * The guest runs on exactly te's composed PSW (real user mode, IE on, the
 * relocation or shadow table composed with the f-map, the timer the slice
 * or the virtual clock), in guest mode: every system instruction but pushf
 * and srr exits, every trap and interrupt exits, so the dispatcher sees
 * what te sees; pushf and srr read the read shadow, the virtual flags and
 * relocation, which is all te's x86like gets wrong.  The shadow is exact
 * between exits: the virtual flags and relocation change only by an
 * instruction or a trap, and the virtual timer's end is the real timer's. */
static uint32_t assisted_exit_insns(void)
{
    uint32_t bits = 0;
    const struct isa_op *op;
    for (size_t i = 0; (op = isa_op_with_flags(ISA_F_SYSTEM, i)); i++)
        if (op->opcode != ISA_PUSHF && op->opcode != ISA_SRR)
            bits |= 1u << (op->opcode - ISA_VMCB_FIRST_OPCODE);
    return bits;
}

static struct psw assisted_compose(struct vmm_guest *g)
{
    const struct psw real = direct_compose(g);
    struct machine *m = g->vmm->real;
    uint32_t block[VMCB_WORDS] = {0};
    isa_psw_to_words(&real, &block[VMCB_PSW]);
    memcpy(&block[VMCB_REGS], machine_regs(m), ISA_NREGS * sizeof *block);
    block[VMCB_EXIT_INSNS] = assisted_exit_insns();
    block[VMCB_EXIT_TRAPS] = ~0u;
    block[VMCB_PORTS] = ~0u;
    block[VMCB_CTRL] = VMCB_CTRL_SHADOW;
    block[VMCB_SHADOW_FLAGS] = g->vcpu.psw.flags;
    block[VMCB_SHADOW_BASE] = g->vcpu.psw.base;
    block[VMCB_SHADOW_BOUND] = g->vcpu.psw.bound;
    if (machine_in_guest(m)) machine_vm_set_controls(m, block);
    else if (NEVER(!machine_vm_enter(m, block))) return real; /* vmm_create gave it the feature */
    return real;
}

static struct psw assisted_shown(const struct vmm_guest *g)
{
    const struct vmm *v = g->vmm;
    if (g->loaded && g->place == VMM_PLACE_ASSISTED) return machine_psw(v->real);
    uint64_t slice = g->slice_left > 0 ? (uint64_t)g->slice_left : v->slice;
    uint32_t t = g->vcpu.psw.timer;
    const uint32_t timer = t && t < slice ? t : (uint32_t)slice;
    return paged(g) ? vmm_shadow_shown(g, timer) : compose_direct(g, timer);
}

static void assisted_leave(struct vmm_guest *g, struct machine *m)
{
    (void)g;
    machine_vm_leave(m);
}

/* ---- The assisted place with SLT (hw-slt) ------------------------------------------
 *
 * The guest runs on its virtual PSW itself, in guest mode, with a
 * second-level table made from its f-map in its (otherwise unused) shadow
 * area: guest-physical page k -> the host frame of its region's page k,
 * bounded by its memory size, so its own relocation, paging and trap area
 * are its own.  Its traps go to its own handler inside guest mode; only
 * halt, in and out exit, and the vmm's slice (the host's timer).  While a
 * virtual interrupt waits for the guest's IE (its console's line is up),
 * every system instruction and trap exits instead, so that the dispatcher
 * delivers it at the boundary where the guest's IE lets it in. */
static bool io_line_up(const struct vmm_guest *g)
{
    return console_io_pending(&g->con) || g->vdisk_lines || g->split_lines;
}

static struct psw slt_compose(struct vmm_guest *g)
{
    struct vmm *v = g->vmm;
    struct machine *m = v->real;
    const uint32_t exits = 1u << (ISA_HALT - ISA_VMCB_FIRST_OPCODE) |
                           1u << (ISA_IN - ISA_VMCB_FIRST_OPCODE) |
                           1u << (ISA_OUT - ISA_VMCB_FIRST_OPCODE);
    size_t words;
    const uint32_t slt = vmm_guest_shadow_area(v, g->index, &words);
    uint32_t block[VMCB_WORDS] = {0};
    isa_psw_to_words(&g->vcpu.psw, &block[VMCB_PSW]);
    memcpy(&block[VMCB_REGS], machine_regs(m), ISA_NREGS * sizeof *block);
    block[VMCB_EXIT_INSNS] = io_line_up(g) ? ~0u : exits;
    /* The split driver's kicks are hcalls the vmm serves: they exit. */
    const uint32_t hcalls = g->vmm->io_model == VMM_IO_SPLIT ? 1u << CAUSE_HCALL : 0;
    block[VMCB_EXIT_TRAPS] = io_line_up(g) ? ~0u : 1u << CAUSE_IO | hcalls;
    block[VMCB_PORTS] = ~0u;
    block[VMCB_CTRL] = VMCB_CTRL_SLT;
    block[VMCB_SLT_BASE] = slt;
    block[VMCB_SLT_BOUND] = (uint32_t)g->memsize;
    if (machine_in_guest(m)) {
        machine_vm_set_controls(m, block);
        return g->vcpu.psw;
    }
    /* Entering: the table, the host's timer (the slice), the marks. */
    const uint32_t pages = (uint32_t)((g->memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS);
    TRAPEZE_ASSERT(pages <= words && g->fmap.ext[0].hpa % ISA_PAGE_WORDS == 0);
    uint32_t *table = machine_memory_span(m, slt, pages < words ? pages : words);
    for (uint32_t k = 0; k < pages && k < words; k++)
        table[k] = ((g->fmap.ext[0].hpa >> ISA_PAGE_SHIFT) + k) << ISA_PAGE_SHIFT | PTE_V | PTE_W;
    const uint32_t slice = g->slice_left > 0 ? (uint32_t)g->slice_left : 1;
    const struct psw host = {PSW_M, 0, 0, (uint32_t)machine_memsize(m), slice};
    machine_set_psw(m, &host);
    if (NEVER(!machine_vm_enter(m, block))) return g->vcpu.psw;
    memcpy(g->trap_mark, machine_stats(m)->traps, sizeof g->trap_mark);
    return g->vcpu.psw;
}

/* Retired instructions and the traps delivered inside guest mode are the
 * guest's steps; the machine's PSW is the virtual one. */
static void slt_charge(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    g->stats.direct += charge_retired(g, m);
    const struct machine_stats *st = machine_stats(m);
    for (unsigned c = 0; c < CAUSE_COUNT; c++) {
        const uint64_t n = st->traps[c] - g->trap_mark[c];
        g->trap_mark[c] = st->traps[c];
        g->stats.traps[c] += n;
        g->steps += n;
        g->slice_left -= (int64_t)n;
    }
    g->vcpu.psw = *now;
}

static struct psw slt_shown(const struct vmm_guest *g)
{
    if (g->loaded && g->place == VMM_PLACE_ASSISTED_SLT) return machine_psw(g->vmm->real);
    return g->vcpu.psw;
}

static struct machine *interp_machine(const struct vmm_guest *g) { return g->interp; }

/* The interpreter runs the virtual PSW itself, in user mode so that every
 * system instruction comes here (its variant traps them all). */
static struct psw compose_interp(const struct vmm_guest *g)
{
    struct psw p = g->vcpu.psw;
    p.flags &= ~PSW_M;
    return p;
}

static struct psw interp_compose(struct vmm_guest *g) { return compose_interp(g); }

/* Interpreted instructions are emulated ones; the interpreter ran the
 * virtual PSW itself, so the virtual PSW is its PSW with the virtual mode
 * put back. */
static void interp_charge(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    uint64_t n = charge_retired(g, m);
    g->stats.interpreted += n;
    g->stats.emulated += n;
    uint32_t mode = g->vcpu.psw.flags & PSW_M;
    g->vcpu.psw = *now;
    g->vcpu.psw.flags = (now->flags & ~PSW_M) | mode;
}

/* Translated instructions were charged as they retired (bt.c); the trap's
 * PSW is the virtual one with the virtual mode put back. */
static void translated_charge(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    (void)m;
    uint32_t mode = g->vcpu.psw.flags & PSW_M;
    g->vcpu.psw = *now;
    g->vcpu.psw.flags = (now->flags & ~PSW_M) | mode;
}

/*
 * The table of places.  Routes: on the real machine the timer is the vmm's
 * (slices, the virtual clock) and so is the console's line, which never
 * fires there; a MEM fault is against the composed relocation, so its
 * detail is recomputed.  The interpreter runs the virtual PSW, so all its
 * traps but PRIV are the guest's own, already exact.  HCALL is the vmm's
 * when it is one of its own hypercalls (the split driver's), else
 * reflected like SVC.  A new place is one more row, with its
 * enum vmm_place value in vmm.h.
 */
const struct vmm_place_ops vmm_places[VMM_PLACE_COUNT] = {
    [VMM_PLACE_DIRECT] = {
        .name = "direct",
        .machine = direct_machine,
        .compose = direct_compose,
        .charge = direct_charge,
        .shown = direct_shown,
        .route = {[CAUSE_PRIV] = ROUTE_SYSTEM, [CAUSE_MEM] = ROUTE_MEM, [CAUSE_HCALL] = ROUTE_HCALL,
                  [CAUSE_TIMER] = ROUTE_ABSORB, [CAUSE_IO] = ROUTE_ABSORB},
    },
    [VMM_PLACE_INTERPRETED] = {
        .name = "interpreted",
        .machine = interp_machine,
        .compose = interp_compose,
        .charge = interp_charge,
        .shown = compose_interp,
        .route = {[CAUSE_PRIV] = ROUTE_SYSTEM, [CAUSE_HCALL] = ROUTE_HCALL},
    },
    /* Translated code (bt.c) runs the virtual PSW like the interpreter, on
     * the interpreter machine's registers; its callouts come as PRIV, its
     * traps are the guest's own.  It counts its own instructions. */
    [VMM_PLACE_TRANSLATED] = {
        .name = "translated",
        .machine = interp_machine,
        .compose = interp_compose,
        .charge = translated_charge,
        .shown = compose_interp,
        .route = {[CAUSE_PRIV] = ROUTE_SYSTEM, [CAUSE_HCALL] = ROUTE_HCALL},
        .run = vmm_bt_run,
    },
    [VMM_PLACE_ASSISTED] = {
        .name = "assisted",
        .machine = direct_machine,
        .compose = assisted_compose,
        .charge = direct_charge,
        .shown = assisted_shown,
        /* An exit is routed as the trap te would have taken (vmm_on_real_exit). */
        .route = {[CAUSE_PRIV] = ROUTE_SYSTEM, [CAUSE_MEM] = ROUTE_MEM, [CAUSE_HCALL] = ROUTE_HCALL,
                  [CAUSE_TIMER] = ROUTE_ABSORB, [CAUSE_IO] = ROUTE_ABSORB},
        .leave = assisted_leave,
    },
    [VMM_PLACE_ASSISTED_SLT] = {
        .name = "assisted-slt",
        .machine = direct_machine,
        .compose = slt_compose,
        .charge = slt_charge,
        .shown = slt_shown,
        /* The guest's own traps exit only while a virtual interrupt waits:
         * reflected as they are; the host's timer is the slice. */
        .route = {[CAUSE_PRIV] = ROUTE_SYSTEM, [CAUSE_TIMER] = ROUTE_REFLECT, [CAUSE_HCALL] = ROUTE_HCALL},
        .leave = assisted_leave,
    },
};

struct psw vmm_guest_real_psw(const struct vmm *v, unsigned gi)
{
    if (NEVER(gi >= v->nguests)) return (struct psw){0};
    const struct vmm_guest *g = &v->guests[gi];
    return vmm_places[vmm_place_of(v, g)].shown(g);
}

/* ---- Loading a guest on a machine -------------------------------------------- */

/* Sets m's PSW for g's next run on it and marks where the clock starts. */
static void program(struct vmm_guest *g, struct machine *m)
{
    const struct psw p = vmm_places[g->place].compose(g);
    machine_set_psw(m, &p);
}

struct machine *vmm_load(struct vmm_guest *g)
{
    struct vmm *v = g->vmm;
    TRAPEZE_ASSERT(!g->loaded && v->running == NULL && v->current == g->index);
    g->place = vmm_place_of(v, g);
    struct machine *m = vmm_places[g->place].machine(g);
    for (unsigned r = 1; r < ISA_NREGS; r++) machine_set_reg(m, r, g->vcpu.reg[r]);
    program(g, m);
    g->retired_mark = machine_stats(m)->retired;
    g->loaded = true;
    v->running = g;
    return m;
}

/* ---- Charging what ran since the last resume ------------------------------------ */

void vmm_unload(struct vmm_guest *g, struct machine *m, bool sync_psw)
{
    TRAPEZE_ASSERT(g->loaded && g->vmm->running == g && vmm_places[g->place].machine(g) == m);
    if (sync_psw) {
        struct psw now = machine_psw(m);
        vmm_places[g->place].charge(g, m, &now);
    }
    TRAPEZE_ASSERT(g->slice_left >= -1);
    for (unsigned r = 1; r < ISA_NREGS; r++) g->vcpu.reg[r] = machine_reg(m, r);
    if (vmm_places[g->place].leave) vmm_places[g->place].leave(g, m);
    g->loaded = false;
    g->vmm->running = NULL;
}

/* ---- Events ------------------------------------------------------------------------- */

void vmm_emit(struct vmm_guest *g, enum vmm_handling how, enum isa_cause cause, unsigned detail,
              uint32_t value, uint32_t pc, uint32_t insn, bool supervisor)
{
    struct vmm *v = g->vmm;
    if (!v->obs.on_event) return;
    const uint64_t counted = how == VMM_EMULATED || how == VMM_REFLECTED || how == VMM_DELIVERED;
    TRAPEZE_ASSERT(g->steps >= counted);
    struct vmm_event e = {
        .guest = g->index,
        .how = how,
        .cause = cause,
        .detail = detail,
        .value = value,
        .pc = pc,
        .insn = insn,
        .supervisor = supervisor,
        .place = g->loaded ? g->place : VMM_PLACE_DIRECT,
        .stop = g->stop,
        /* Events of a guest step come after it was counted. */
        .step = g->steps - counted,
    };
    if (v->obs.on_event(v->obs.ctx, v, &e) == MACHINE_STOP_RUN) v->stop_requested = true;
}

void vmm_stop_guest(struct vmm_guest *g, enum machine_stop why)
{
    g->stopped = true;
    g->stop = why;
    vmm_emit(g, VMM_STOPPED, CAUSE_NONE, 0, 0, g->vcpu.psw.pc, 0, (g->vcpu.psw.flags & PSW_M) != 0);
}

/* ---- Routing -------------------------------------------------------------------------- */

/* A system instruction trapped (PRIV) at pc: emulate it when the guest's
 * virtual mode allows it (supervisor, or the variant executes it in user
 * mode), else reflect the PRIV trap to the guest's kernel. */
static void handle_system(struct vmm_guest *g, struct machine *cpu, uint32_t w, uint32_t pc,
                          bool sup)
{
    const uint8_t opcode = isa_opcode_of(w);
    const bool user = !sup;
    const enum isa_user_action act = user ? g->vmm->variant.user_action[opcode] : USER_EXEC;
    const vmm_routine routine = vmm_routine_for(opcode);
    const bool tracing = g->vmm->obs.on_event != NULL;

    /* A paravirtual kernel asks by hcall: one that executes a system
     * instruction after all is wrong, and is not emulated behind its back. */
    if (sup && g->vmm->mode == VMM_PV) {
        vmm_pv_refuse_insn(g, w, pc);
        return;
    }
    /* PRIV comes only from system instructions, and each has a routine. */
    if (act == USER_TRAP || NEVER(routine == NULL)) {
        enum machine_stop stop = vmm_reflect(g, CAUSE_PRIV, 0, w, pc);
        if (tracing) vmm_emit(g, VMM_REFLECTED, CAUSE_PRIV, 0, w, pc, w, sup);
        if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
        return;
    }
    struct vmm_emul e = {.g = g, .cpu = cpu, .w = w, .pc = pc, .user = user,
                         .silent = act == USER_SILENT};
    const enum vmm_emul_result result = routine(&e);
    switch (result) {
    case EMUL_RETIRED:
    case EMUL_HALTED:
        g->stats.emulated++;
        g->steps++;
        if (tracing) vmm_emit(g, VMM_EMULATED, CAUSE_PRIV, 0, w, pc, w, sup);
        if (result == EMUL_HALTED) vmm_stop_guest(g, MACHINE_HALT);
        return;
    case EMUL_ILLEGAL: {
        enum machine_stop stop = vmm_reflect(g, CAUSE_ILL, 0, w, pc);
        if (tracing) vmm_emit(g, VMM_REFLECTED, CAUSE_ILL, 0, w, pc, w, sup);
        if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
        return;
    }
    case EMUL_FAULT: {
        enum machine_stop stop = vmm_reflect(g, CAUSE_MEM, e.detail, e.value, pc);
        if (tracing) vmm_emit(g, VMM_REFLECTED, CAUSE_MEM, e.detail, e.value, pc, w, sup);
        if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
        return;
    }
    }
}

/* The access that faulted on m: the fetch when the instruction itself does
 * not translate under the PSW it ran with, else the instruction's own (a
 * store or a load).  The fault's detail cannot say it: on a shadow table a
 * store can fault "invalid" (an entry not filled yet) or "bound" (a page past
 * the capacity), and for the guest a store's W check comes before the
 * frame's, so a store to a read-only frame past memory is "write". */
static enum machine_access faulting_access(const struct machine *m, const struct machine_trap *t)
{
    uint32_t pa;
    unsigned detail;
    if (!machine_translate(m, &t->old_psw, t->old_psw.pc, ACCESS_FETCH, &pa, &detail))
        return ACCESS_FETCH;
    const struct isa_op *op = isa_op_by_opcode(isa_opcode_of(machine_memory_const(m)[pa]));
    return op && (op->flags & ISA_F_STORE) ? ACCESS_STORE : ACCESS_LOAD;
}

/* A MEM trap of the real machine.  Unpaged, it is the guest's own fault
 * (the composed bound never exceeds the virtual one), its detail
 * recomputed against the virtual PSW.  Paged, it may be the shadow
 * table's own (a hidden fault: fixed and retried, or the instruction
 * interpreted), which the guest never sees; else the shadow gives the
 * guest's fault exactly, and the guest's walk says so. */
static void handle_mem(struct vmm_guest *g, struct machine *m, const struct machine_trap *t,
                       bool sup)
{
    const enum machine_access access = faulting_access(m, t);
    if (paged(g) && vmm_shadow_fault(g, t, access)) {
        if (g->vmm->obs.on_event)
            vmm_emit(g, VMM_ABSORBED, CAUSE_MEM, t->detail, t->value, t->old_psw.pc, 0, sup);
        return;
    }
    unsigned detail;
    uint32_t gpa;
    if (NEVER(machine_translate(g->interp, &g->vcpu.psw, t->value, access, &gpa, &detail)))
        detail = MEMF_BOUND; /* the composed bound is within the virtual one */
    enum machine_stop stop = vmm_reflect(g, CAUSE_MEM, detail, t->value, t->old_psw.pc);
    if (g->vmm->obs.on_event)
        vmm_emit(g, VMM_REFLECTED, CAUSE_MEM, detail, t->value, t->old_psw.pc, 0, sup);
    if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
}

static void handle_reflect(struct vmm_guest *g, const struct machine_trap *t, bool sup)
{
    enum machine_stop stop = vmm_reflect(g, t->cause, t->detail, t->value, t->old_psw.pc);
    if (g->vmm->obs.on_event) {
        enum vmm_handling how =
            t->cause == CAUSE_TIMER || t->cause == CAUSE_IO ? VMM_DELIVERED : VMM_REFLECTED;
        vmm_emit(g, how, t->cause, t->detail, t->value, t->old_psw.pc, 0, sup);
    }
    if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
}

/* An hcall: the split driver's, served like an emulated instruction that
 * completed (one guest step, the virtual clock ticks), or the guest's own. */
static void handle_hcall(struct vmm_guest *g, struct machine *m, const struct machine_trap *t, bool sup)
{
    if (vmm_pv_hcall(g, m, t->value, t->old_psw.pc, sup)) return; /* it did its own accounting */
    if (!vmm_split_hcall(g, m, t->value, sup)) {
        handle_reflect(g, t, sup);
        return;
    }
    g->stats.emulated++;
    g->steps++;
    vmm_vclock_tick(g);
    if (g->vmm->obs.on_event) vmm_emit(g, VMM_EMULATED, CAUSE_HCALL, 0, t->value, t->old_psw.pc, 0, sup);
}

/* Back into the machine that trapped, unless the scheduler has work: the
 * guest stopped, its slice or budget ended, a virtual interrupt is due, the
 * mode wants it elsewhere, or the observer asked to stop. */
static enum machine_verdict resume(struct vmm_guest *g, struct machine *m)
{
    struct vmm *v = g->vmm;
    const bool same_place = vmm_place_of(v, g) == g->place;
    /* The machine is programmed for the guest's next instruction even when
     * the scheduler takes over: whoever looks at it between runs (a view
     * of the real PSW, the table it walks) sees what will run. */
    if (!g->stopped && same_place) program(g, m);
    /* vmm_run_fine: the timer may be set anew; its budget is the scheduler's. */
    if (v->fine_cut && g->place == VMM_PLACE_DIRECT) return MACHINE_STOP_RUN;
    if (v->stop_requested || g->stopped || g->slice_left <= 0 || g->steps >= g->run_end ||
        vmm_pending_interrupt(g) != CAUSE_NONE || !same_place)
        return MACHINE_STOP_RUN;
    return MACHINE_CONTINUE;
}

/* Every trap of the machine of g's place: charge what ran there, route the
 * trap by the place's table, resume. */
static enum machine_verdict dispatch(struct vmm_guest *g, struct machine *m,
                                     const struct machine_trap *t)
{
    const struct vmm_place_ops *place = &vmm_places[g->place];
    TRAPEZE_ASSERT(g->loaded && g->vmm->running == g && place->machine(g) == m);
    TRAPEZE_ASSERT((unsigned)t->cause < CAUSE_COUNT);
    const bool sup = (g->vcpu.psw.flags & PSW_M) != 0;
    place->charge(g, m, &t->old_psw);
    g->stats.entries++;
    g->stats.by_cause[t->cause]++;
    g->slice_left--;
    /* Every machine step costs the slice one and the run was budgeted
     * slice_left + 1 steps, the last for the real timer's own interrupt. */
    TRAPEZE_ASSERT(g->slice_left >= -1);
    switch ((enum vmm_route)place->route[t->cause]) {
    case ROUTE_ABSORB:
        if (g->vmm->obs.on_event) vmm_emit(g, VMM_ABSORBED, t->cause, 0, 0, t->old_psw.pc, 0, sup);
        break;
    case ROUTE_SYSTEM: handle_system(g, m, t->value, t->old_psw.pc, sup); break;
    case ROUTE_MEM: handle_mem(g, m, t, sup); break;
    case ROUTE_REFLECT: handle_reflect(g, t, sup); break;
    case ROUTE_HCALL: handle_hcall(g, m, t, sup); break;
    }
    return resume(g, m);
}

/* The real machine's monitor: the trap is the running guest's. */
enum machine_verdict vmm_on_real_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct vmm *v = ctx;
    TRAPEZE_ASSERT(v->running != NULL);
    return dispatch(v->running, m, t);
}

/* A guest's interpreter's monitor. */
enum machine_verdict vmm_on_interp_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    return dispatch(ctx, m, t);
}

/* The real machine's exit handler (hw): an exit is the trap te would have
 * taken there, with the guest's PSW as its old PSW (an instruction exit is
 * its PRIV), and goes the same way. */
enum machine_verdict vmm_on_real_exit(void *ctx, struct machine *m, const struct machine_exit *x)
{
    struct vmm *v = ctx;
    struct vmm_guest *g = v->running;
    TRAPEZE_ASSERT(g != NULL &&
                   (g->place == VMM_PLACE_ASSISTED || g->place == VMM_PLACE_ASSISTED_SLT));
    if ((unsigned)x->reason < EXIT_REASON_COUNT) g->stats.exits[x->reason]++;
    struct machine_trap t = {x->cause, x->detail, x->value, x->guest_psw, x->step};
    /* hw-slt: the guest changes its own mode inside guest mode; the
     * dispatcher reads the virtual mode before it charges, so charge first
     * (the second charge finds nothing new). */
    if (g->place == VMM_PLACE_ASSISTED_SLT) slt_charge(g, m, &x->guest_psw);
    if (x->reason == EXIT_HOST_TIMER) {
        /* The slice: absorbed, as te's real timer. */
        vmm_places[g->place].charge(g, m, &x->guest_psw);
        g->stats.entries++;
        g->slice_left--;
        if (g->vmm->obs.on_event)
            vmm_emit(g, VMM_ABSORBED, CAUSE_TIMER, 0, 0, x->guest_psw.pc, 0,
                     (g->vcpu.psw.flags & PSW_M) != 0);
        return resume(g, m);
    }
    if (x->reason == EXIT_SLT) { /* the f-map ends where guest memory does */
        t.cause = CAUSE_MEM;
        t.detail = MEMF_PHYSICAL;
    }
    if (x->reason == EXIT_CHECK) {
        /* The trap was delivered inside guest mode: a guest step, then the
         * guest's machine check. */
        vmm_places[g->place].charge(g, m, &x->guest_psw);
        g->stats.entries++;
        g->steps++;
        g->slice_left--;
        g->stats.traps[x->cause]++;
        vmm_stop_guest(g, MACHINE_CHECK);
        return resume(g, m);
    }
    if (x->reason == EXIT_INSN) {
        t.cause = CAUSE_PRIV;
        t.detail = 0;
        t.value = x->insn;
        /* The guests' machine has no vmenter: an undefined instruction in either mode. */
        if (!isa_variant_has(&v->variant, isa_opcode_of(x->insn)))
            t.cause = CAUSE_ILL;
    } else if (NEVER((x->reason != EXIT_TRAP && x->reason != EXIT_SLT) || t.cause == CAUSE_NONE)) {
        /* hw sets no host timer and no SLT, and every trap exits before a
         * guest handler could be checked. */
        vmm_stop_guest(g, MACHINE_CHECK);
        return MACHINE_STOP_RUN;
    }
    return dispatch(g, m, &t);
}
