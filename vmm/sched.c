/*
 * sched.c: the virtual clock and the scheduler.
 *
 * Two clocks, never mixed:
 *   - the guest's virtual timer (vcpu.psw.timer) counts the guest's retired
 *     instructions by the ISA's rule, wherever they ran;
 *   - the vmm's slice counts the guest's steps since it was scheduled.
 * A direct run programs the real timer with min(virtual timer, slice left),
 * so the real interrupt lands exactly on the instruction where the guest's
 * timer reaches 0 (and the virtual interrupt is then delivered before the
 * next one, as the hardware would) or where the slice ends.  The machine's
 * step budget backs the slice up, so even a variant that let user mode
 * stop the real timer could not keep the CPU.
 *
 * Guests run round-robin, one slice each; every step a guest takes counts
 * exactly as a bare run counts it, so a per-guest step limit stops it at
 * the same instruction as `--max-steps` stops the bare machine.
 */
#include "vmm_priv.h"

#include <stdlib.h>

uint32_t vmm_program_timer(const struct vmm_guest *g)
{
    uint64_t slice = g->slice_left > 0 ? (uint64_t)g->slice_left : 1;
    uint32_t t = g->vcpu.psw.timer;
    if (t && t < slice) return t;
    return slice < UINT32_MAX ? (uint32_t)slice : UINT32_MAX;
}

static bool runnable(const struct vmm_guest *g) { return !g->stopped; }

/* The guest to run next: the current one while its slice lasts, else the
 * next runnable one after it, with a fresh slice.  NULL when none is left. */
static struct vmm_guest *pick(struct vmm *v)
{
    struct vmm_guest *cur = &v->guests[v->current];
    if (runnable(cur) && cur->slice_left > 0) return cur;
    for (unsigned i = 1; i <= v->nguests; i++) {
        struct vmm_guest *g = &v->guests[(v->current + i) % v->nguests];
        if (!runnable(g)) continue;
        g->slice_left = v->slice;
        g->stats.scheduled++;
        v->current = g->index;
        if (v->obs.on_event)
            vmm_emit(g, VMM_SCHEDULED, CAUSE_NONE, 0, 0, g->vcpu.psw.pc, 0,
                     (g->vcpu.psw.flags & PSW_M) != 0);
        return g;
    }
    return NULL;
}

/* Delivers the virtual interrupt due before g's next instruction. */
static void deliver(struct vmm_guest *g, enum isa_cause irq)
{
    const uint32_t pc = g->vcpu.psw.pc;
    const bool sup = (g->vcpu.psw.flags & PSW_M) != 0;
    const uint32_t value = irq == CAUSE_IO ? vmm_io_port(g) : 0;
    g->slice_left--;
    enum machine_stop stop = vmm_reflect(g, irq, 0, value, pc);
    if (irq == CAUSE_IO) vmm_split_delivered(g, value);
    if (g->vmm->obs.on_event) vmm_emit(g, VMM_DELIVERED, irq, 0, value, pc, 0, sup);
    if (stop != MACHINE_BUDGET) vmm_stop_guest(g, stop);
}

/* Runs g until its slice ends, it stops, `left` steps are taken, or the
 * observer asks to stop.  Returns the steps taken. */
static uint64_t run_slice(struct vmm *v, struct vmm_guest *g, uint64_t left)
{
    const uint64_t start = g->steps;
    while (!g->stopped && g->slice_left > 0 && !v->stop_requested) {
        const uint64_t taken = g->steps - start;
        if (g->steps >= g->step_limit) {
            vmm_stop_guest(g, MACHINE_BUDGET);
            break;
        }
        if (taken >= left) break;
        uint64_t room = left - taken;
        if (room > g->step_limit - g->steps) room = g->step_limit - g->steps;
        TRAPEZE_ASSERT(room >= 1);

        if (v->mode == VMM_PV && !vmm_pv_admit(g)) break;
        enum isa_cause irq = vmm_pending_interrupt(g);
        if (irq != CAUSE_NONE) {
            deliver(g, irq);
            continue;
        }
        g->run_end = g->steps + room;
        struct machine *m = vmm_load(g);
        /* Each machine step is at most one guest step, and each costs the
         * slice at least one: the slice's end (plus the real timer's own
         * interrupt) bounds the run whatever the guest does. */
        uint64_t budget = room, slice = (uint64_t)g->slice_left + 1;
        if (budget > slice) budget = slice;
        /* One instruction no shadow entry can express: one step there. */
        const bool once = g->shadow.interpret_next && g->place == VMM_PLACE_INTERPRETED;
        if (once) budget = 1;
        if (v->fine_cut) {
            /* As one-step calls: the real timer's interrupt is never reached. */
            if (g->place != VMM_PLACE_DIRECT || (g->vcpu.psw.flags & PSW_PG)) budget = 1;
            else if (budget > g->timer_programmed) budget = g->timer_programmed;
        }
        const struct vmm_place_ops *place = &vmm_places[g->place];
        enum machine_stop st = place->run ? place->run(g, m, budget) : machine_run(m, budget);
        /* At most one guest step per machine step, and resume() stops at run_end. */
        TRAPEZE_ASSERT(g->steps <= g->run_end);
        /* A place that runs its code itself (bt) says so in v. */
        if (st == MACHINE_STOPPED && (place->run ? v->fetch_stopped : machine_fetch_stopped(m))) {
            /* Before a word a debugger marked: as a budget's end (bt
             * leaves the vcpu current, as at its every return). */
            vmm_unload(g, m, place->run == NULL);
            v->fetch_stopped = v->stop_requested = true;
        } else if (st == MACHINE_STOPPED) {
            vmm_unload(g, m, false); /* the dispatcher left the vcpu current */
        } else {
            vmm_unload(g, m, true);
            if (st != MACHINE_BUDGET) {
                /* Only a variant that executes halt in user mode halts the
                 * real machine: the guest halted, the host goes on. */
                vmm_stop_guest(g, st);
                machine_reset(m, 0);
            }
        }
        if (once) vmm_shadow_after_interpreted(g);
    }
    if (!g->stopped && g->steps >= g->step_limit) vmm_stop_guest(g, MACHINE_BUDGET);
    return g->steps - start;
}

enum vmm_run_status vmm_run(struct vmm *v, uint64_t max_steps)
{
    TRAPEZE_ASSERT(v->running == NULL); /* not from an observer */
    v->stop_requested = v->fetch_stopped = false;
    uint64_t left = max_steps;
    while (left > 0) {
        struct vmm_guest *g = pick(v);
        if (!g) return VMM_RUN_DONE;
        const uint64_t taken = run_slice(v, g, left);
        TRAPEZE_ASSERT(taken <= left && v->running == NULL);
        left -= taken;
        if (v->stop_requested) return VMM_RUN_STOPPED;
    }
    for (unsigned i = 0; i < v->nguests; i++)
        if (runnable(&v->guests[i])) return VMM_RUN_BUDGET;
    return VMM_RUN_DONE;
}

enum vmm_run_status vmm_run_fine(struct vmm *v, uint64_t max_steps)
{
    v->fine_cut = true;
    const enum vmm_run_status s = vmm_run(v, max_steps);
    v->fine_cut = false;
    return s;
}

bool vmm_set_fetch_stops(struct vmm *v, const uint32_t *real, unsigned n)
{
    v->fetch_stopped = false;
    bool ok = true;
    uint32_t *local = n ? malloc(n * sizeof *local) : NULL;
    if (n && !local) ok = false;
    ok = machine_set_fetch_stops(v->real, real, ok ? n : 0) && ok;
    for (unsigned i = 0; i < v->nguests; i++) {
        /* The interpreter is a view of the guest's region: its words. */
        const struct vmm_guest *g = &v->guests[i];
        const uint32_t at = g->fmap.ext[0].hpa;
        unsigned k = 0;
        for (unsigned j = 0; ok && j < n; j++)
            if (real[j] >= at && real[j] - at < g->memsize) local[k++] = real[j] - at;
        ok = machine_set_fetch_stops(g->interp, local, k) && ok;
    }
    free(local);
    if (!ok) vmm_set_fetch_stops(v, NULL, 0);
    v->fetch_stops_set = ok && n > 0;
    for (unsigned i = 0; i < v->nguests; i++) v->guests[i].bt_stop_steps = UINT64_MAX;
    return ok;
}

bool vmm_fetch_stopped(const struct vmm *v) { return v->fetch_stopped; }
