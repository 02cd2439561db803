/*
 * dispatch.c: the dispatcher.  Every trap of the real machine, and every trap
 * of the vmm's interpreter, lands here and is routed:
 *
 *   real trap --> charge the direct run (virtual clock, slice, counts)
 *             --> TIMER            absorbed: the vmm's own timer (slice or
 *                                  virtual clock); no guest step
 *             --> PRIV, virtual M=1 (or the variant executes it in user mode)
 *                                  emulated by the routine for the opcode
 *             --> PRIV, virtual M=0 (variant: trap)          reflected
 *             --> MEM              reflected, detail recomputed against the
 *                                  virtual PSW (a real bound fault may be a
 *                                  virtual physical fault)
 *             --> SVC HCALL ILL DIV reflected as they are
 *             --> resume: straight back into the machine when nothing needs
 *                 the scheduler, else stop the machine's run
 *
 * The path allocates nothing and calls the observer only when one is set.
 */
#include "vmm_priv.h"

/* ---- Loading a guest on a machine -------------------------------------------- */

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
    return real;
}

/* The interpreter runs the virtual PSW itself, in user mode so that every
 * system instruction comes here (its variant traps them all). */
static struct psw compose_interp(const struct vmm_guest *g)
{
    struct psw p = g->vcpu.psw;
    p.flags &= ~PSW_M;
    return p;
}

struct psw vmm_guest_real_psw(const struct vmm *v, unsigned gi)
{
    const struct vmm_guest *g = &v->guests[gi];
    if (vmm_place_of(v, g) == PLACE_INTERP) return compose_interp(g);
    if (g->loaded) return machine_psw(v->real);
    /* Not running: what its next slice would start with. */
    uint64_t slice = g->slice_left > 0 ? (uint64_t)g->slice_left : v->slice;
    uint32_t t = g->vcpu.psw.timer;
    return compose_direct(g, t && t < slice ? t : (uint32_t)slice);
}

static struct machine *machine_of(struct vmm_guest *g)
{
    return g->place == PLACE_DIRECT ? g->vmm->real : g->interp;
}

/* Sets m's PSW for g's next run on it and marks where the clock starts. */
static void program(struct vmm_guest *g, struct machine *m)
{
    struct psw p;
    if (g->place == PLACE_DIRECT) {
        g->timer_programmed = vmm_program_timer(g);
        p = compose_direct(g, g->timer_programmed);
    } else {
        p = compose_interp(g);
    }
    machine_set_psw(m, &p);
}

struct machine *vmm_load(struct vmm_guest *g)
{
    struct vmm *v = g->vmm;
    g->place = vmm_place_of(v, g);
    struct machine *m = machine_of(g);
    for (unsigned r = 1; r < ISA_NREGS; r++) machine_set_reg(m, r, g->vcpu.reg[r]);
    program(g, m);
    g->retired_mark = machine_stats(m)->retired;
    g->loaded = true;
    v->running = g;
    if (g->place == PLACE_DIRECT) v->current = g->index;
    return m;
}

/* ---- Charging what ran since the last resume ------------------------------------ */

/* Directly executed instructions: each is a guest step; the real timer ran
 * down by exactly the instructions the virtual timer counts. */
static void charge_direct(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    uint64_t retired = machine_stats(m)->retired;
    uint64_t n = retired - g->retired_mark;
    g->retired_mark = retired;
    g->stats.direct += n;
    g->steps += n;
    g->slice_left -= (int64_t)n;

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

/* Interpreted instructions: the interpreter ran the virtual PSW itself, so
 * the virtual PSW is its PSW with the virtual mode put back. */
static void charge_interp(struct vmm_guest *g, struct machine *m, const struct psw *now)
{
    uint64_t retired = machine_stats(m)->retired;
    uint64_t n = retired - g->retired_mark;
    g->retired_mark = retired;
    g->stats.interpreted += n;
    g->stats.emulated += n;
    g->steps += n;
    g->slice_left -= (int64_t)n;
    uint32_t mode = g->vcpu.psw.flags & PSW_M;
    g->vcpu.psw = *now;
    g->vcpu.psw.flags = (now->flags & ~PSW_M) | mode;
}

void vmm_unload(struct vmm_guest *g, struct machine *m, bool sync_psw)
{
    if (sync_psw) {
        struct psw now = machine_psw(m);
        if (g->place == PLACE_DIRECT) charge_direct(g, m, &now);
        else charge_interp(g, m, &now);
    }
    for (unsigned r = 1; r < ISA_NREGS; r++) g->vcpu.reg[r] = machine_reg(m, r);
    g->loaded = false;
    g->vmm->running = NULL;
}

/* ---- Events ------------------------------------------------------------------------- */

void vmm_emit(struct vmm_guest *g, enum vmm_handling how, enum isa_cause cause, unsigned detail,
              uint32_t value, uint32_t pc, uint32_t insn, bool supervisor, bool interpreted)
{
    struct vmm *v = g->vmm;
    if (!v->obs.on_event) return;
    struct vmm_event e = {
        .guest = g->index,
        .how = how,
        .cause = cause,
        .detail = detail,
        .value = value,
        .pc = pc,
        .insn = insn,
        .supervisor = supervisor,
        .interpreted = interpreted,
        .place = interpreted ? VMM_PLACE_INTERPRETED : VMM_PLACE_DIRECT,
        .stop = g->stop,
        /* Events of a guest step come after it was counted. */
        .step = g->steps - (how == VMM_EMULATED || how == VMM_REFLECTED || how == VMM_DELIVERED),
    };
    if (v->obs.on_event(v->obs.ctx, v, &e) == MACHINE_STOP_RUN) v->stop_requested = true;
}

void vmm_stop_guest(struct vmm_guest *g, enum machine_stop why)
{
    g->stopped = true;
    g->stop = why;
    vmm_emit(g, VMM_STOPPED, CAUSE_NONE, 0, 0, g->vcpu.psw.pc, 0, (g->vcpu.psw.flags & PSW_M) != 0,
             g->loaded && g->place == PLACE_INTERP);
}

/* ---- Routing -------------------------------------------------------------------------- */

/* A system instruction trapped (PRIV) at pc: emulate it when the guest's
 * virtual mode allows it (supervisor, or the variant executes it in user
 * mode), else reflect the PRIV trap to the guest's kernel. */
static void handle_system(struct vmm_guest *g, struct machine *cpu, uint32_t w, uint32_t pc,
                          bool sup, bool interpreted)
{
    const uint8_t opcode = isa_opcode_of(w);
    const bool user = !sup;
    const enum isa_user_action act = user ? g->vmm->variant.user_action[opcode] : USER_EXEC;
    const vmm_routine routine = vmm_routine_for(opcode);
    const bool tracing = g->vmm->obs.on_event != NULL;

    if (act == USER_TRAP || !routine) {
        enum machine_stop stop = vmm_reflect(g, CAUSE_PRIV, 0, w, pc);
        if (tracing) vmm_emit(g, VMM_REFLECTED, CAUSE_PRIV, 0, w, pc, w, sup, interpreted);
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
        if (tracing) vmm_emit(g, VMM_EMULATED, CAUSE_PRIV, 0, w, pc, w, sup, interpreted);
        if (result == EMUL_HALTED) vmm_stop_guest(g, MACHINE_HALT);
        return;
    case EMUL_FAULT: {
        enum machine_stop stop = vmm_reflect(g, CAUSE_MEM, e.detail, e.value, pc);
        if (tracing) vmm_emit(g, VMM_REFLECTED, CAUSE_MEM, e.detail, e.value, pc, w, sup, interpreted);
        if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
        return;
    }
    }
}

/* A MEM trap of the real machine: the guest's own fault, with the detail its
 * hardware would give.  Under te every real fault of a direct run is a
 * virtual fault too (the composed bound never exceeds the virtual one); the
 * shadow page tables of a later issue will find faults of their own here
 * and fix them instead of reflecting. */
static void handle_mem(struct vmm_guest *g, const struct machine_trap *t, bool sup)
{
    unsigned detail;
    uint32_t gpa;
    if (machine_translate(g->interp, &g->vcpu.psw, t->value, ACCESS_LOAD, &gpa, &detail))
        detail = MEMF_BOUND; /* unreachable: the composed bound is within the virtual one */
    enum machine_stop stop = vmm_reflect(g, CAUSE_MEM, detail, t->value, t->old_psw.pc);
    if (g->vmm->obs.on_event)
        vmm_emit(g, VMM_REFLECTED, CAUSE_MEM, detail, t->value, t->old_psw.pc, 0, sup, false);
    if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
}

static void handle_reflect(struct vmm_guest *g, const struct machine_trap *t, bool sup,
                           bool interpreted)
{
    enum machine_stop stop = vmm_reflect(g, t->cause, t->detail, t->value, t->old_psw.pc);
    if (g->vmm->obs.on_event) {
        enum vmm_handling how =
            t->cause == CAUSE_TIMER || t->cause == CAUSE_IO ? VMM_DELIVERED : VMM_REFLECTED;
        vmm_emit(g, how, t->cause, t->detail, t->value, t->old_psw.pc, 0, sup, interpreted);
    }
    if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
}

/* Back into the machine that trapped, unless the scheduler has work: the
 * guest stopped, its slice or budget ended, a virtual interrupt is due, the
 * mode wants it elsewhere, or the observer asked to stop. */
static enum machine_verdict resume(struct vmm_guest *g, struct machine *m)
{
    struct vmm *v = g->vmm;
    if (v->stop_requested || g->stopped || g->slice_left <= 0 || g->steps >= g->run_end ||
        vmm_pending_interrupt(g) != CAUSE_NONE || vmm_place_of(v, g) != g->place)
        return MACHINE_STOP_RUN;
    program(g, m);
    return MACHINE_CONTINUE;
}

enum machine_verdict vmm_on_real_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct vmm *v = ctx;
    struct vmm_guest *g = v->running;
    const bool sup = (g->vcpu.psw.flags & PSW_M) != 0;
    charge_direct(g, m, &t->old_psw);
    g->stats.entries++;
    g->stats.by_cause[t->cause]++;
    g->slice_left--;
    switch (t->cause) {
    case CAUSE_TIMER: /* the vmm's timer: slice end or the virtual clock reached 0 */
    case CAUSE_IO:    /* the real console is not the guest's: never raised */
        if (v->obs.on_event)
            vmm_emit(g, VMM_ABSORBED, t->cause, 0, 0, t->old_psw.pc, 0, sup, false);
        break;
    case CAUSE_PRIV: handle_system(g, m, t->value, t->old_psw.pc, sup, false); break;
    case CAUSE_MEM: handle_mem(g, t, sup); break;
    /* HCALL is reflected like SVC for now: a paravirtual interface handled
     * by the vmm itself (a later issue) answers it here instead. */
    default: handle_reflect(g, t, sup, false); break;
    }
    return resume(g, m);
}

enum machine_verdict vmm_on_interp_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct vmm_guest *g = ctx;
    const bool sup = (g->vcpu.psw.flags & PSW_M) != 0;
    charge_interp(g, m, &t->old_psw);
    g->stats.entries++;
    g->stats.by_cause[t->cause]++;
    g->slice_left--;
    /* Everything but PRIV is the guest's own trap, already exact: the
     * interpreter translates with the virtual PSW and keeps its clock. */
    if (t->cause == CAUSE_PRIV) handle_system(g, m, t->value, t->old_psw.pc, sup, true);
    else handle_reflect(g, t, sup, true);
    return resume(g, m);
}
