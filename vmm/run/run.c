/*
 * run.c: building, running and looking into a run (run.h).
 *
 * Memory, for spec "c,asm,asm" and a program of G words (B = GUEST_BASE):
 *
 *   real memory (the C VMM's allocator)
 *   +------+--------------------------------------------------------+
 *   | host | machine 1: G + 2B words (the C VMM's guest region)      |
 *   +------+--------------------------------------------------------+
 *          | asm VMM 1 | machine 2: G + B words                      |
 *          |  B words  +---------------------------------------------+
 *          |           | asm VMM 2 | machine 3 = the program: G words|
 *
 * With an asm VMM at the bottom, machine 0 is the real machine itself and
 * machine j starts j * B words into it.
 *
 * Accounting keeps, per column, `cur`, the level whose code has run since
 * `mark` (a count of retired instructions of the bottom machine: the real
 * one, or the C VMM's guest), and charges the difference whenever the
 * level can change:
 *
 *   real machine at the bottom: a trap always enters level 0; the bottom
 *       asm VMM's lpsw leaves its handler for the level the loaded PSW and
 *       the VMMs' vflags name.  The observer sees only system
 *       instructions (the machine's filter), so every level runs in the
 *       interpreter's whole batches and stops for nothing but a trap or
 *       an lpsw.
 *   the C VMM at the bottom: every change of level is one of its events
 *       (its guest's traps, and its guest's lpsw); the level is read off
 *       the virtual PSW.
 *
 * An asm level's emulated instructions are not retired instructions of the
 * machine below (they trapped), so a level's instruction count is what was
 * charged to it plus what its monitor emulated.
 */
#include "run_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum machine_verdict real_before_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn);
static enum machine_verdict real_after_trap(void *ctx, struct machine *m, const struct machine_trap *t);
static enum machine_verdict c_event(void *ctx, struct vmm *v, const struct vmm_event *e);
static bool machine_started(const struct run *r, const struct column *c, unsigned j);
static void take_delivered(const struct run *r, struct column *c);

const char *run_handling_name(enum run_handling h)
{
    switch (h) {
    case RUN_HARDWARE: return "hardware";
    case RUN_EMULATED: return "emulated";
    case RUN_REFLECTED: return "reflected";
    case RUN_DELIVERED: return "delivered";
    case RUN_ABSORBED: return "absorbed";
    }
    return "?";
}

const char *run_level_state_name(enum run_level_state s)
{
    switch (s) {
    case RUN_LEVEL_RUNNING: return "running";
    case RUN_LEVEL_WAITING: return "waiting";
    case RUN_LEVEL_SUSPENDED: return "suspended";
    case RUN_LEVEL_NOT_STARTED: return "not started";
    case RUN_LEVEL_STOPPED: return "stopped";
    }
    return "?";
}

/* ---- Machines and levels ------------------------------------------------------------ */

static bool monitor_is_asm(const struct run *r, unsigned i)
{
    return i < r->n && r->spec.kind[i] == RUN_MONITOR_ASM;
}

/* A column's bottom code machine: the real one, or the C VMM's guest. */
static uint32_t bottom_reg(const struct run *r, const struct column *c, unsigned reg)
{
    if (reg == 0 || reg >= ISA_NREGS) return 0;
    if (r->bottom == BOTTOM_C) return vmm_guest_reg(r->cvmm, c->index, reg);
    return machine_reg(r->real, reg);
}

static void bottom_regs(const struct run *r, const struct column *c, uint32_t out[ISA_NREGS])
{
    if (r->bottom == BOTTOM_C) vmm_guest_regs(r->cvmm, c->index, out);
    else memcpy(out, machine_regs(r->real), ISA_NREGS * sizeof *out);
}

/* Machine j's PSW, as the code running on it sees it.  A machine made by
 * an asm VMM: the real PSW of the machine below holds IE, TP, pc and timer
 * (while that VMM is in its handler, the trap saved them in its trap area),
 * and the VMM's words hold the rest. */
static struct psw psw_of(const struct run *r, const struct column *c, unsigned j)
{
    if (j == 0) return machine_psw(r->real);
    if (r->bottom == BOTTOM_C && j == 1) return vmm_guest_vcpu(r->cvmm, c->index)->psw;
    TRAPEZE_ASSERT(j <= r->n && monitor_is_asm(r, j - 1)); /* made by an asm VMM */
    const uint32_t *mem = c->mem[j - 1];
    const struct asm_layout *at = &r->asm_vmm->at;
    if (asm_vmm_guest_stop(r->asm_vmm, mem) != MACHINE_BUDGET) return isa_psw_from_words(&mem[at->vpsw]);
    if (!machine_started(r, c, j))
        return (struct psw){PSW_M, mem[at->guest_entry], 0, (uint32_t)r->memsize[j], 0};
    struct psw below = psw_of(r, c, j - 1);
    if (below.flags & PSW_M) below = isa_psw_from_words(&mem[TRAP_OLD_PSW]);
    return (struct psw){(below.flags & (PSW_IE | PSW_TP)) | (mem[at->vflags] & (PSW_M | PSW_PG)),
                        below.pc, mem[at->vbase], mem[at->vbound], below.timer};
}

/* Level a's PSW at a trap out of its code, the quick way: every machine
 * between the bottom code machine and machine a ran its guest (virtual
 * user mode), so the trap saved IE, TP, pc and timer in `saved` (the
 * bottom code machine's old PSW), and the asm VMM just below a holds the
 * rest.  The same as psw_of(r, c, a) then. */
static struct psw trapped_psw(const struct run *r, const struct column *c, unsigned a,
                              const struct psw *saved)
{
    TRAPEZE_ASSERT(a > r->code0 && monitor_is_asm(r, a - 1));
    const uint32_t *w = c->mem[a - 1];
    const struct asm_layout *at = &r->asm_vmm->at;
    const struct psw p = {(saved->flags & (PSW_IE | PSW_TP)) | (w[at->vflags] & (PSW_M | PSW_PG)),
                          saved->pc, w[at->vbase], w[at->vbound], saved->timer};
    if (TRAPEZE_TESTING) {
        const struct psw slow = psw_of(r, c, a);
        TRAPEZE_ASSERT(memcmp(&slow, &p, sizeof p) == 0);
    }
    return p;
}

/* The level whose code runs when machine j is in mode `supervisor`: the
 * first machine in supervisor mode from j up runs its monitor's code. */
static unsigned walk(const struct run *r, const struct column *c, unsigned j, bool supervisor)
{
    for (;;) {
        if (j >= r->n || supervisor) return j < r->n ? j : r->n;
        supervisor = (c->mem[j][r->asm_vmm->at.vflags] & PSW_M) != 0;
        j++;
    }
}

static unsigned running_level(const struct run *r, const struct column *c)
{
    if (r->n == 0) return 0;
    if (r->bottom == BOTTOM_C)
        return walk(r, c, 1, (vmm_guest_vcpu(r->cvmm, c->index)->psw.flags & PSW_M) != 0);
    return walk(r, c, 0, (machine_psw(r->real).flags & PSW_M) != 0);
}

/* Why machine j stopped, or MACHINE_BUDGET while it can run.  A machine
 * whose monitor stopped is stopped too. */
static enum machine_stop machine_stop_of(const struct run *r, const struct column *c, unsigned j)
{
    enum machine_stop below = MACHINE_BUDGET;
    if (r->bottom == BOTTOM_C) {
        if (!vmm_guest_runnable(r->cvmm, c->index)) below = vmm_guest_stop(r->cvmm, c->index);
        if (j <= 1) return below;
    } else {
        below = machine_state(r->real);
        if (j == 0) return below;
    }
    for (unsigned i = j; i-- > r->code0;) { /* the nearest monitor knows best */
        enum machine_stop s = asm_vmm_guest_stop(r->asm_vmm, c->mem[i]);
        if (s != MACHINE_BUDGET) return s;
    }
    return below;
}

/* Machine j has started once code of its level or above has run: an asm
 * VMM marks its guest running a few instructions before it starts it. */
static bool machine_started(const struct run *r, const struct column *c, unsigned j)
{
    (void)r;
    return c->ran[j];
}

/* The level running since the last mark becomes `level`. */
static void set_cur(struct column *c, unsigned level)
{
    TRAPEZE_ASSERT(level < RUN_MAX_LEVELS);
    c->cur = level;
    if (c->ran[level]) return; /* and every level below it */
    for (unsigned k = 0; k <= level; k++) c->ran[k] = true;
}

/* ---- Accounting ------------------------------------------------------------------------ */

static uint64_t retired_now(const struct run *r, const struct column *c)
{
    if (r->bottom == BOTTOM_C) return vmm_guest_retired(r->cvmm, c->index);
    return machine_stats(r->real)->retired;
}

static void charge(struct run *r, struct column *c)
{
    uint64_t now = retired_now(r, c);
    TRAPEZE_ASSERT(now >= c->mark && c->cur <= r->n);
    c->charged[c->cur] += now - c->mark;
    c->mark = now;
}

/* Instructions charged to level i, the running interval included. */
static uint64_t charged(const struct run *r, const struct column *c, unsigned i)
{
    uint64_t k = c->charged[i];
    if (c->cur == i) k += retired_now(r, c) - c->mark;
    return k;
}

/* Traps asm monitor i delivered into machine i + 1, by cause. */
static uint64_t asm_reflected(const struct run *r, const struct column *c, unsigned i,
                              uint64_t by_cause[CAUSE_COUNT])
{
    uint64_t total = 0;
    for (unsigned k = 0; k < CAUSE_COUNT; k++) {
        uint64_t n = c->mem[i][r->asm_vmm->at.n_traps + k];
        if (by_cause) by_cause[k] = n;
        total += n;
    }
    return total;
}

static uint64_t asm_emulated(const struct run *r, const struct column *c, unsigned i)
{
    return c->mem[i][r->asm_vmm->at.n_emulated];
}

/* Of those, the ones a hybrid build interpreted (not system instructions). */
static uint64_t asm_interpreted(const struct run *r, const struct column *c, unsigned i)
{
    return r->asm_vmm->at.has_interpreted ? c->mem[i][r->asm_vmm->at.n_interpreted] : 0;
}

/* Level i's instructions completed: charged to it, plus those its asm
 * monitor emulated (they trapped, so nothing below retired them).  The
 * C VMM runs none of the machine's instructions. */
static uint64_t level_instructions(const struct run *r, const struct column *c, unsigned i)
{
    if (r->n == 0) return machine_stats(r->real)->retired;
    if (i < r->n && r->spec.kind[i] == RUN_MONITOR_C) return 0;
    uint64_t k = charged(r, c, i);
    if (i > 0 && monitor_is_asm(r, i - 1)) k += asm_emulated(r, c, i - 1);
    return k;
}

/* Traps machine i took (its handler's), by cause when by_cause is given. */
static uint64_t machine_traps(const struct run *r, const struct column *c, unsigned i,
                              uint64_t by_cause[CAUSE_COUNT])
{
    const uint64_t *counts = NULL;
    if (i == 0 && r->bottom == BOTTOM_MACHINE) counts = machine_stats(r->real)->traps;
    else if (i == 1 && r->bottom == BOTTOM_C) counts = vmm_guest_stats(r->cvmm, c->index)->traps;
    else if (i == 0) counts = NULL; /* the C VMM takes no traps of the machine's */
    else return asm_reflected(r, c, i - 1, by_cause);
    uint64_t total = 0;
    for (unsigned k = 0; k < CAUSE_COUNT; k++) {
        uint64_t n = counts ? counts[k] : 0;
        if (by_cause) by_cause[k] = n;
        total += n;
    }
    return total;
}

/* Level i's steps when an asm VMM is its monitor: what level_steps gives,
 * the short way (at every trap, for its snapshot). */
static uint64_t asm_level_steps(const struct run *r, const struct column *c, unsigned i)
{
    TRAPEZE_ASSERT(i > 0 && monitor_is_asm(r, i - 1));
    const uint32_t *n_traps = &c->mem[i - 1][r->asm_vmm->at.n_traps];
    uint64_t k = charged(r, c, i) + asm_emulated(r, c, i - 1);
    for (unsigned cause = 0; cause < CAUSE_COUNT; cause++) k += n_traps[cause];
    return k;
}

static uint64_t level_steps(const struct run *r, const struct column *c, unsigned i)
{
    if (i < r->n && r->spec.kind[i] == RUN_MONITOR_C) return vmm_guest_stats(r->cvmm, c->index)->entries;
    if (i > 0 && monitor_is_asm(r, i - 1)) return asm_level_steps(r, c, i);
    return level_instructions(r, c, i) + machine_traps(r, c, i, NULL);
}

static uint64_t guest_steps(const struct run *r, const struct column *c)
{
    return level_steps(r, c, r->n);
}

/* ---- The observer of the real machine ------------------------------------------------- */

static void install_observer(struct run *r)
{
    if (r->bottom != BOTTOM_MACHINE) return;
    bool before = r->n > 0 || r->insn_obs.before_insn;
    bool after = r->n > 0 || r->hooks.on_event || r->insn_obs.after_trap;
    if (!before && !after) {
        machine_set_observer(r->real, NULL); /* the interpreter's fast loop */
        return;
    }
    struct machine_observer obs = {r, before ? real_before_insn : NULL, after ? real_after_trap : NULL};
    machine_set_observer(r->real, &obs);
    /* Under monitors only an lpsw can change the level without a trap, so
     * the observer sees the system instructions alone and everything
     * between runs in whole batches; --trace insns (bare) sees each one. */
    machine_set_observer_filter(r->real, r->n > 0 ? MACHINE_OBSERVE_SYSTEM : MACHINE_OBSERVE_ALL);
}

/* An lpsw of the bottom asm VMM (real supervisor mode: no other level runs
 * there) ends its handler: the loaded PSW's level begins with the next
 * instruction.  Under monitors this sees system instructions only. */
static enum machine_verdict real_before_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    struct run *r = ctx;
    if (r->insn_obs.before_insn &&
        r->insn_obs.before_insn(r->insn_obs.ctx, m, pc, insn) == MACHINE_STOP_RUN)
        return MACHINE_STOP_RUN;
    if (r->n == 0 || isa_opcode_of(insn) != ISA_LPSW) return MACHINE_CONTINUE;
    struct column *c = &r->cols[0];
    const struct psw p = machine_psw(m);
    if (!(p.flags & PSW_M)) return MACHINE_CONTINUE;
    const uint32_t va = machine_reg(m, isa_field_b(insn)) + isa_simm16(insn);
    uint32_t pa = p.base + va;
    unsigned detail;
    /* The VMM's own space is unpaged: the usual case needs no walk. */
    if ((p.flags & PSW_PG) || va >= p.bound || (uint64_t)p.base + va >= machine_memsize(m)) {
        if (!machine_translate(m, &p, va, ACCESS_LOAD, &pa, &detail))
            return MACHINE_CONTINUE; /* it faults: the trap will say where we are */
    }
    unsigned next = walk(r, c, 0, (machine_memory_const(m)[pa] & PSW_M) != 0);
    if (r->stop_at_guest && next == r->n && !r->lpsw_pass) {
        r->lpsw_pass = true; /* stop before it; run_go executes it alone */
        r->stopped_for_guest = true;
        return MACHINE_STOP_RUN;
    }
    r->lpsw_pass = false;
    charge(r, c);
    c->charged[c->cur]++; /* the lpsw itself, which retires */
    c->mark++;
    set_cur(c, next);
    take_delivered(r, c);
    return MACHINE_CONTINUE;
}

/* ---- Events ------------------------------------------------------------------------------ */

/* Where a trap arose and who handles it: what the run itself needs of an
 * event.  The rest of a struct run_event is worked out only for a hook. */
struct routing {
    unsigned arose, handler;
    enum run_handling how;
};

/* A trap of the program on its way to its handler through an asm VMM: its
 * record is taken from the program's trap area when the program runs
 * again, as it was delivered (the handler may write those words). */
static void note_delivery(const struct run *r, struct column *c, const struct routing *rt)
{
    if (r->n > r->code0 && rt->arose == r->n && rt->handler == r->n &&
        (rt->how == RUN_REFLECTED || rt->how == RUN_DELIVERED))
        c->delivering = true;
}

static void take_delivered(const struct run *r, struct column *c)
{
    if (!c->delivering || c->cur != r->n) return;
    c->delivering = false;
    struct isa_trap_record t;
    if (!isa_trap_decode(c->mem[r->n], &t)) return; /* a VMM that gave up before delivering */
    c->last_trap = (struct machine_trap){t.cause, t.detail, t.value, t.old_psw, guest_steps(r, c) - 1};
    c->has_trap = true;
}

_Static_assert(RUN_MAX_LEVELS <= 32, "a column's suspended levels are the bits of a word");

/* A trap arose in level `arose`, whose state just before it was `pre`:
 * the levels below it were waiting, and it is suspended until it runs
 * again.  The bottom code level handles its own traps at once (or the C
 * VMM does, atomically), so it is never seen suspended. */
static void note_suspension(const struct run *r, struct column *c, unsigned arose, const struct psw *pre)
{
    c->suspended &= ~((1u << arose) - 1); /* the levels below it */
    if (arose <= r->code0) return;
    struct level_snapshot *s = &c->snap[arose];
    bottom_regs(r, c, s->regs);
    s->psw = *pre;
    /* Charged just now, so its steps are charged, emulated and trapped. */
    TRAPEZE_ASSERT(c->cur == arose && c->mark == retired_now(r, c));
    const uint32_t *mon = c->mem[arose - 1], *n_traps = &mon[r->asm_vmm->at.n_traps];
    uint64_t steps = c->charged[arose] + mon[r->asm_vmm->at.n_emulated];
    for (unsigned cause = 0; cause < CAUSE_COUNT; cause++) steps += n_traps[cause];
    TRAPEZE_ASSERT(steps == level_steps(r, c, arose));
    s->steps = steps;
    c->suspended |= 1u << arose;
}

/* How the asm monitors from level `from` up pass on a trap that arose in
 * level rt->arose: a privileged instruction of a level in (virtual)
 * supervisor mode is emulated by the monitor just below it, and so is a
 * MEM trap there when that monitor interprets virtual supervisor mode (a
 * hybrid build: the gate's fault, vmm_hybrid.s, where its interpreter
 * takes the level on); anything else goes up through every monitor to the
 * level's own handler. */
static void route_asm(const struct run *r, struct routing *rt, enum isa_cause cause, bool supervisor, unsigned from)
{
    bool interrupt = cause == CAUSE_TIMER || cause == CAUSE_IO;
    bool gate = cause == CAUSE_MEM && monitor_is_asm(r, rt->arose - 1) && r->asm_vmm->at.has_interpreted;
    if ((cause == CAUSE_PRIV || gate) && supervisor && rt->arose > from) {
        rt->how = RUN_EMULATED;
        rt->handler = rt->arose - 1;
    } else {
        rt->how = interrupt ? RUN_DELIVERED : RUN_REFLECTED;
        rt->handler = rt->arose;
    }
}

/* The instruction and the physical pc of an event, under the arising
 * level's PSW before the trap. */
static void fill_place(const struct column *c, struct run_event *e, const struct psw *pre)
{
    unsigned d;
    const struct machine *view = c->views[e->arose];
    e->has_pc_phys = machine_translate(view, pre, e->pc, ACCESS_FETCH, &e->pc_phys, &d);
    if (e->has_insn || e->cause == CAUSE_TIMER || e->cause == CAUSE_IO) return;
    if (e->cause == CAUSE_PRIV || e->cause == CAUSE_ILL) {
        e->insn = e->value, e->has_insn = true;
        return;
    }
    uint32_t at = e->cause == CAUSE_SVC || e->cause == CAUSE_HCALL ? e->pc - 1 : e->pc, pa;
    if (machine_translate(view, pre, at, ACCESS_FETCH, &pa, &d)) {
        e->insn = machine_memory_const(view)[pa];
        e->has_insn = true;
    }
}

static enum machine_verdict tell(struct run *r, const struct run_event *e)
{
    if (!r->hooks.on_event || r->hooks.on_event(r->hooks.ctx, r, e) != MACHINE_STOP_RUN)
        return MACHINE_CONTINUE;
    r->stop_now = true;
    return MACHINE_STOP_RUN;
}

static enum machine_verdict real_after_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    struct run *r = ctx;
    struct column *c = &r->cols[0];
    enum machine_verdict verdict = MACHINE_CONTINUE;
    if (r->insn_obs.after_trap && r->insn_obs.after_trap(r->insn_obs.ctx, m, t) == MACHINE_STOP_RUN)
        verdict = MACHINE_STOP_RUN;
    if (r->n > 0) charge(r, c);
    struct routing rt = {.arose = r->n == 0 ? 0 : c->cur};
    const struct psw pre = rt.arose == 0 ? t->old_psw : trapped_psw(r, c, rt.arose, &t->old_psw);
    const bool supervisor = (pre.flags & PSW_M) != 0;
    if (rt.arose == 0) rt.how = RUN_HARDWARE, rt.handler = 0;
    else route_asm(r, &rt, t->cause, supervisor, 0);
    /* The event, only for a hook (before the level changes). */
    struct run_event e;
    if (r->hooks.on_event) {
        e = (struct run_event){
            .guest = 0, .time = t->step, .guest_step = r->n == 0 ? t->step : guest_steps(r, c),
            .cause = t->cause, .detail = t->detail, .value = t->value, .pc = t->old_psw.pc,
            .arose = rt.arose, .supervisor = supervisor, .place = VMM_PLACE_DIRECT,
            .handler = rt.handler, .first = 0, .how = rt.how, .target = rt.arose,
        };
        fill_place(c, &e, &pre);
    }
    note_suspension(r, c, rt.arose, &pre);
    note_delivery(r, c, &rt);
    if (r->n > 0) set_cur(c, 0); /* every trap lands in level 0 */
    if (r->hooks.on_event && tell(r, &e) == MACHINE_STOP_RUN) verdict = MACHINE_STOP_RUN;
    /* Checking was turned on: run_units goes on unit by unit. */
    if (r->in_piece && r->checking && r->hooks.at_boundary) verdict = MACHINE_STOP_RUN;
    return verdict;
}

/* The C VMM's events: every trap of its guest's machine, and every change
 * of level above it. */
static enum machine_verdict c_event(void *ctx, struct vmm *v, const struct vmm_event *ev)
{
    struct run *r = ctx;
    struct column *c = &r->cols[ev->guest];
    charge(r, c);
    const unsigned arose = c->cur;
    const bool told = r->hooks.on_event != NULL;
    const bool trap = ev->how == VMM_EMULATED || ev->how == VMM_REFLECTED ||
                      ev->how == VMM_DELIVERED || ev->how == VMM_ABSORBED;
    struct run_event e; /* the event, only for a hook */
    if (trap) {
        struct psw pre;
        /* Above level 1 the trap passed into machine 1's handler, whose
         * trap area holds what the levels above ran with; level 1 itself
         * was handled by the C VMM, and its trap area (reflected) or its
         * PSW (emulated, absorbed) tell where it was. */
        if (arose > 1 && ev->how != VMM_EMULATED) {
            /* Machine 1's PSW is its handler's when the trap went in. */
            const struct psw *p1 = &vmm_guest_vcpu(v, ev->guest)->psw;
            const struct psw saved = p1->flags & PSW_M ? isa_psw_from_words(&c->mem[1][TRAP_OLD_PSW]) : *p1;
            pre = trapped_psw(r, c, arose, &saved);
        } else {
            pre = c->psw1;
            pre.pc = ev->pc;
        }
        const bool supervisor = arose == 1 ? ev->supervisor : (pre.flags & PSW_M) != 0;
        struct routing rt = {.arose = arose};
        if (ev->how == VMM_ABSORBED) rt.how = RUN_ABSORBED, rt.handler = 0;
        else if (ev->how == VMM_EMULATED) rt.how = RUN_EMULATED, rt.handler = 0;
        else if (arose == 1)
            rt.how = ev->how == VMM_DELIVERED ? RUN_DELIVERED : RUN_REFLECTED, rt.handler = 1;
        else route_asm(r, &rt, ev->cause, supervisor, 1);
        if (told) {
            e = (struct run_event){
                .guest = ev->guest, .time = run_time(r) - (ev->how != VMM_ABSORBED),
                .guest_step = r->n == 1 ? ev->step : guest_steps(r, c),
                .cause = ev->cause, .detail = ev->detail, .value = ev->value, .pc = ev->pc,
                .insn = ev->insn, .has_insn = ev->insn != 0, .arose = arose,
                .supervisor = supervisor, .place = ev->place, .handler = rt.handler,
                .first = 0, .how = rt.how, .target = arose,
            };
            fill_place(c, &e, &pre);
        }
        if (ev->how != VMM_ABSORBED) note_suspension(r, c, arose, &pre);
        note_delivery(r, c, &rt);
    }
    c->psw1 = vmm_guest_vcpu(v, ev->guest)->psw;
    set_cur(c, walk(r, c, 1, (c->psw1.flags & PSW_M) != 0));
    take_delivered(r, c);
    if (r->stop_at_guest && c->cur == r->n && ev->how != VMM_STOPPED) {
        r->stopped_for_guest = true;
        return MACHINE_STOP_RUN;
    }
    if (trap && told) {
        e.runs_next = c->cur; /* handled: the level whose code runs now */
        if (tell(r, &e) == MACHINE_STOP_RUN) return MACHINE_STOP_RUN;
    }
    /* Checking was turned on: run_units goes on unit by unit. */
    if (r->in_piece && r->checking && r->hooks.at_boundary) return MACHINE_STOP_RUN;
    return MACHINE_CONTINUE;
}

/* ---- Life cycle ----------------------------------------------------------------------------- */

static void fail(char err[RUN_ERROR_SIZE], const char *what) { snprintf(err, RUN_ERROR_SIZE, "%s", what); }

static void free_views(struct run *r)
{
    for (unsigned g = 0; r->cols && g < r->ncols; g++)
        for (unsigned j = 1; j <= r->n; j++) {
            machine_destroy(r->cols[g].views[j]);
            r->cols[g].views[j] = NULL;
        }
}

void run_destroy(struct run *r)
{
    if (!r) return;
    free_views(r);
    free(r->cols);
    if (r->cvmm) vmm_destroy(r->cvmm);
    else machine_destroy(r->real);
    run_release_asm_vmm(r->asm_vmm);
    free(r);
}

/* Loads img into m's memory, marking the pages it fills as written
 * (false: it does not fit). */
static bool place_image(const struct asm_image *img, struct machine *m)
{
    size_t end = 0;
    for (size_t i = 0; i < img->nsegments; i++) {
        const size_t e = (size_t)img->segments[i].at + img->segments[i].count;
        if (e > end) end = e;
    }
    const size_t memsize = machine_memsize(m);
    if (end > memsize) return false;
    return asm_image_place(img, machine_memory_span(m, 0, end), memsize, 0);
}

/* Points each column at its machines' memory and makes the views. */
static bool map_columns(struct run *r)
{
    for (unsigned g = 0; g < r->ncols; g++) {
        struct column *c = &r->cols[g];
        c->index = g;
        c->mem[0] = machine_memory_const(r->real);
        c->views[0] = r->real;
        for (unsigned j = 1; j <= r->n; j++) {
            size_t at = (size_t)j * r->asm_guest_base;
            if (r->bottom == BOTTOM_C)
                at = (size_t)(vmm_guest_memory_const(r->cvmm, g) - c->mem[0]) + (size_t)(j - 1) * r->asm_guest_base;
            c->views[j] = machine_create_view(r->real, at, r->memsize[j], &r->variant);
            if (!c->views[j]) return false;
            c->mem[j] = machine_memory_const(c->views[j]);
        }
    }
    return true;
}

struct run *run_create(const struct run_config *cfg, const struct asm_image *const *programs,
                       char err[RUN_ERROR_SIZE])
{
    const unsigned nguests = cfg && cfg->nguests ? cfg->nguests : 1;
    if (!cfg || !cfg->variant || cfg->spec.n > RUN_MAX_MONITORS || cfg->memsize < TRAP_AREA_WORDS ||
        cfg->memsize > UINT32_MAX || (unsigned)cfg->spec.mode >= VMM_MODE_COUNT || !programs) {
        fail(err, "bad run configuration");
        return NULL;
    }
    for (unsigned i = 1; i < cfg->spec.n; i++)
        if (cfg->spec.kind[i] != RUN_MONITOR_ASM) {
            fail(err, "bad stack: 'c' (the C VMM) can only be the bottom level");
            return NULL;
        }
    const bool c_only = cfg->spec.n == 1 && cfg->spec.kind[0] == RUN_MONITOR_C;
    if (nguests > 1 && (!c_only || nguests > VMM_MAX_GUESTS)) {
        snprintf(err, RUN_ERROR_SIZE, "%u guests need the C VMM alone (--vmm), with at most %u",
                 nguests, VMM_MAX_GUESTS);
        return NULL;
    }
    struct run *r = calloc(1, sizeof *r);
    if (!r) {
        fail(err, "out of memory");
        return NULL;
    }
    r->spec = cfg->spec;
    r->n = cfg->spec.n;
    r->variant = *cfg->variant;
    r->bottom = r->n > 0 && r->spec.kind[0] == RUN_MONITOR_C ? BOTTOM_C : BOTTOM_MACHINE;
    r->code0 = r->bottom == BOTTOM_C ? 1 : 0;
    r->ncols = nguests;
    r->cols = calloc(nguests, sizeof *r->cols);
    if (!r->cols) {
        fail(err, "out of memory");
        goto failed;
    }
    if (r->n > r->code0) {
        if (cfg->asm_vmm) {
            r->asm_vmm = cfg->asm_vmm;
            r->asm_vmm->refs++;
        } else {
            r->asm_vmm = run_load_asm_vmm(cfg->asm_vmm_path, err);
            if (!r->asm_vmm) goto failed;
        }
        r->asm_guest_base = r->asm_vmm->at.guest_base;
    }

    /* Sizes from the top down: each asm level adds GUEST_BASE words. */
    r->memsize[r->n] = cfg->memsize;
    for (unsigned j = r->n; j-- > r->code0;) {
        r->memsize[j] = r->memsize[j + 1] + r->asm_guest_base;
        if (r->memsize[j] > UINT32_MAX) {
            fail(err, "the stack's memory does not fit in 2^32 words");
            goto failed;
        }
    }
    if (r->bottom == BOTTOM_C && (r->spec.mode == VMM_HW || r->spec.mode == VMM_HW_SLT) &&
        (r->variant.features & ISA_FEATURE_ASSIST)) {
        snprintf(err, RUN_ERROR_SIZE, "--vmm %s: variant '%.40s' has the assist feature itself, and "
                 "hw offers its guests no nested guest mode (give the variant without it, e.g. x86like)",
                 vmm_mode_name(r->spec.mode), r->variant.name);
        goto failed;
    }
    if (r->bottom == BOTTOM_C) {
        struct vmm_config vc = {r->spec.mode, &r->variant, r->memsize[1], nguests, r->spec.slice,
                                r->spec.shadow};
        r->cvmm = vmm_create(&vc);
        if (r->cvmm && r->spec.pv_reference) vmm_pv_interpret_all(r->cvmm);
        if (!r->cvmm) {
            snprintf(err, RUN_ERROR_SIZE, "cannot allocate %u guest%s of %zu words for the C VMM",
                     nguests, nguests == 1 ? "" : "s", r->memsize[1]);
            goto failed;
        }
        r->real = vmm_real_machine(r->cvmm);
        r->memsize[0] = machine_memsize(r->real);
    } else {
        r->real = machine_create(r->memsize[0], &r->variant);
        if (!r->real) {
            snprintf(err, RUN_ERROR_SIZE, "cannot allocate %zu words of memory", r->memsize[0]);
            goto failed;
        }
    }
    if (!map_columns(r)) {
        fail(err, "out of memory");
        goto failed;
    }

    /* Load: the VMM into every asm level, each program on top of its column. */
    for (unsigned g = 0; g < r->ncols; g++) {
        struct column *c = &r->cols[g];
        c->program = programs[g];
        for (unsigned i = r->code0; i < r->n; i++) {
            uint32_t *entry_word = machine_memory_span(c->views[i], r->asm_vmm->at.guest_entry, 1);
            if (!place_image(&r->asm_vmm->img, c->views[i]) || !entry_word) {
                fail(err, "the asm VMM does not fit in its machine");
                goto failed;
            }
            *entry_word = i + 1 < r->n ? r->asm_vmm->img.entry : c->program->entry;
        }
        if (!place_image(c->program, c->views[r->n])) {
            snprintf(err, RUN_ERROR_SIZE, "the program does not fit in %zu words of memory (--mem)",
                     r->memsize[r->n]);
            goto failed;
        }
        const uint32_t entry = r->n > r->code0 ? r->asm_vmm->img.entry : c->program->entry;
        if (r->bottom == BOTTOM_C) {
            vmm_guest_reset(r->cvmm, g, entry);
            c->psw1 = vmm_guest_vcpu(r->cvmm, g)->psw;
            set_cur(c, walk(r, c, 1, true));
        } else {
            machine_reset(r->real, entry);
            set_cur(c, 0);
        }
    }
    if (r->bottom == BOTTOM_C) vmm_set_observer(r->cvmm, &(struct vmm_observer){r, c_event});
    install_observer(r);
    return r;

failed:
    run_destroy(r);
    return NULL;
}

struct run *run_clone(const struct run *r)
{
    struct run *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *r;
    c->hooks = (struct run_hooks){0};
    c->checking = false;
    c->insn_obs = (struct machine_observer){0};
    c->cvmm = NULL;
    c->real = NULL;
    c->cols = malloc(r->ncols * sizeof *c->cols);
    if (!c->cols) {
        free(c);
        return NULL;
    }
    memcpy(c->cols, r->cols, r->ncols * sizeof *c->cols);
    for (unsigned g = 0; g < c->ncols; g++)
        for (unsigned j = 1; j <= c->n; j++) c->cols[g].views[j] = NULL;
    if (c->asm_vmm) c->asm_vmm->refs++;
    if (r->cvmm) {
        c->cvmm = vmm_clone(r->cvmm);
        if (!c->cvmm) goto failed;
        c->real = vmm_real_machine(c->cvmm);
        for (unsigned g = 0; g < c->ncols; g++) vmm_set_output_sink(c->cvmm, g, NULL, NULL);
        vmm_set_observer(c->cvmm, &(struct vmm_observer){c, c_event});
    } else {
        c->real = machine_clone(r->real);
        if (!c->real) goto failed;
        machine_set_output_sink(c->real, NULL, NULL);
    }
    machine_set_disk_sink(c->real, NULL, NULL);
    if (!map_columns(c)) goto failed;
    install_observer(c);
    return c;

failed:
    run_destroy(c);
    return NULL;
}

const struct run_spec *run_spec_of(const struct run *r) { return &r->spec; }
unsigned run_guest_count(const struct run *r) { return r->ncols; }
unsigned run_level_count(const struct run *r) { return r->n + 1; }
unsigned run_program_level(const struct run *r) { return r->n; }
const struct machine *run_real_machine(const struct run *r) { return r->real; }
const struct asm_image *run_asm_image(const struct run *r) { return r->asm_vmm ? &r->asm_vmm->img : NULL; }

void run_feed_input(struct run *r, unsigned g, const uint8_t *bytes, size_t n)
{
    if (r->bottom == BOTTOM_C) vmm_feed_input(r->cvmm, column_of(r, g)->index, bytes, n);
    else machine_feed_input(r->real, bytes, n);
}

void run_feed_input_all(struct run *r, const uint8_t *bytes, size_t n)
{
    run_feed_input(r, 0, bytes, n);
    if (r->bottom != BOTTOM_C) return;
    for (unsigned g = 1; g < r->ncols; g++)
        vmm_share_input(r->cvmm, column_of(r, g)->index, column_of(r, 0)->index);
}

const uint8_t *run_output(const struct run *r, unsigned g, size_t *len)
{
    if (r->bottom == BOTTOM_C) return vmm_guest_output(r->cvmm, column_of(r, g)->index, len);
    return machine_output(r->real, len);
}

void run_set_output_sink(struct run *r, unsigned g, void (*sink)(void *ctx, uint8_t byte), void *ctx)
{
    if (r->bottom == BOTTOM_C) vmm_set_output_sink(r->cvmm, column_of(r, g)->index, sink, ctx);
    else machine_set_output_sink(r->real, sink, ctx);
}

/* Tells every asm level of every column its guest's unit `unit`: the whole
 * of its own machine's unit (one guest each), `sectors` long.  Its _start
 * reads these words, so the run must not have started. */
static void tell_asm_levels(struct run *r, unsigned unit, uint32_t sectors)
{
    const struct asm_layout *at = &r->asm_vmm->at;
    for (unsigned g = 0; g < r->ncols; g++)
        for (unsigned i = r->code0; i < r->n; i++) {
            uint32_t *first = machine_memory_span(r->cols[g].views[i], at->vdisk_first + unit, 1);
            uint32_t *size = machine_memory_span(r->cols[g].views[i], at->vdisk_size + unit, 1);
            if (NEVER(!first || !size)) continue; /* checked below GUEST_BASE at load */
            *first = 0;
            *size = sectors;
        }
}

bool run_attach_disk(struct run *r, unsigned unit, const uint32_t *words, uint32_t sectors,
                     char err[RUN_ERROR_SIZE])
{
    if (r->n > r->code0 && !r->asm_vmm->at.has_disk) {
        fail(err, "this asm VMM defines no vdisk_first and vdisk_size: it cannot take a disk "
                  "(programs/vmm/README.md)");
        return false;
    }
    bool ok;
    if (r->bottom == BOTTOM_C) {
        ok = vmm_attach_disk(r->cvmm, unit, words, sectors, err, RUN_ERROR_SIZE);
    } else {
        ok = machine_attach_disk(r->real, unit, words, sectors);
        if (!ok)
            snprintf(err, RUN_ERROR_SIZE, "disk unit %u: no such unit, attached already, or %u sectors "
                     "cannot be had", unit, sectors);
    }
    if (ok && r->n > r->code0) {
        /* the bottom asm level's unit: the C VMM's partition for its one guest, or the real unit */
        uint32_t below = sectors;
        if (r->bottom == BOTTOM_C && !vmm_guest_disk(r->cvmm, 0, unit, &below)) below = 0;
        tell_asm_levels(r, unit, below);
    }
    return ok;
}

bool run_set_io_model(struct run *r, enum vmm_io_model model, bool iommu, char err[RUN_ERROR_SIZE])
{
    if (r->bottom != BOTTOM_C || r->n != 1) {
        fail(err, "the I/O models are the C VMM's: --io and --no-iommu need --vmm");
        return false;
    }
    vmm_set_io_model(r->cvmm, model, iommu);
    return true;
}

const uint32_t *run_disk(const struct run *r, unsigned g, unsigned unit, uint32_t *sectors)
{
    const struct column *c = column_of(r, g);
    uint32_t n = 0;
    const uint32_t *words = r->bottom == BOTTOM_C ? vmm_guest_disk(r->cvmm, c->index, unit, &n)
                                                  : machine_disk(r->real, unit, &n);
    /* Each asm level's guest has the partition its words name of the unit below. */
    for (unsigned i = r->code0; words && i < r->n && unit < ISA_DISK_UNITS; i++) {
        if (!r->asm_vmm->at.has_disk) return NULL;
        const uint32_t first = c->mem[i][r->asm_vmm->at.vdisk_first + unit];
        const uint32_t size = c->mem[i][r->asm_vmm->at.vdisk_size + unit];
        if (size == 0 || first > n || size > n - first) return NULL;
        words += (size_t)first * ISA_SECTOR_WORDS;
        n = size;
    }
    if (words && sectors) *sectors = n;
    return words;
}

void run_set_disk_sink(struct run *r,
                       void (*sink)(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words),
                       void *ctx)
{
    machine_set_disk_sink(r->real, sink, ctx);
}

void run_set_hooks(struct run *r, const struct run_hooks *hooks)
{
    r->hooks = hooks ? *hooks : (struct run_hooks){0};
    install_observer(r);
}

void run_set_checking(struct run *r, bool on)
{
    if (r->checking == on) return;
    r->checking = on;
    install_observer(r);
}

bool run_set_insn_observer(struct run *r, const struct machine_observer *obs)
{
    if (r->n != 0) return false;
    r->insn_obs = obs ? *obs : (struct machine_observer){0};
    install_observer(r);
    return true;
}

/* ---- Running --------------------------------------------------------------------------------- */

uint64_t run_time(const struct run *r)
{
    if (r->bottom == BOTTOM_MACHINE) return machine_steps(r->real);
    uint64_t t = 0;
    for (unsigned g = 0; g < r->ncols; g++) t += vmm_guest_steps(r->cvmm, g);
    return t;
}

static bool finished(const struct run *r, const struct column *c)
{
    if (r->bottom == BOTTOM_C) return !vmm_guest_runnable(r->cvmm, c->index);
    return machine_state(r->real) != MACHINE_BUDGET;
}

/* Under the C VMM, how a piece of units is cut matters (its own timer, and
 * so its absorbed events, runs by slices): run_units says how it cut them,
 * run_repeat cuts them the same way.  The real machine runs any cut alike. */
uint64_t run_units(struct run *r, uint64_t k, uint64_t *chunk)
{
    const uint64_t t0 = run_time(r);
    r->stop_now = false;
    *chunk = r->bottom == BOTTOM_MACHINE ? 0 : 1;
    if (!(r->checking && r->hooks.at_boundary)) {
        /* One piece; if a hook turns checking on, it ends at that event. */
        r->in_piece = true;
        if (r->bottom == BOTTOM_MACHINE) machine_run(r->real, k);
        else vmm_run(r->cvmm, k);
        r->in_piece = false;
        if (r->bottom == BOTTOM_C) *chunk = run_time(r) - t0;
        return run_time(r) - t0;
    }
    /* A boundary between every two units: before an interrupt as before an
     * instruction, so that a step of a level is one of its steps. */
    uint64_t checked = UINT64_MAX; /* the time at_boundary last looked at */
    while (run_time(r) - t0 < k && !r->stop_now) {
        const uint64_t now = run_time(r);
        if (now != checked) {
            checked = now;
            if (r->hooks.at_boundary(r->hooks.ctx, r) == MACHINE_STOP_RUN) break;
        }
        if (r->bottom == BOTTOM_MACHINE) {
            machine_run(r->real, 1);
            /* A fetch stop at the boundary just looked at: past it. */
            if (run_time(r) == now && machine_fetch_stopped(r->real)) machine_run(r->real, 1);
            if (run_time(r) == now) break; /* the machine stopped */
        } else if (vmm_run(r->cvmm, 1) == VMM_RUN_DONE) {
            break; /* (a vmm_run may take no unit: its own scheduling) */
        }
    }
    return run_time(r) - t0;
}

bool run_set_fetch_stops(struct run *r, const uint32_t *real, unsigned n)
{
    if (r->bottom == BOTTOM_C) return vmm_set_fetch_stops(r->cvmm, real, n);
    return machine_set_fetch_stops(r->real, real, n);
}

bool run_fetch_stopped(const struct run *r)
{
    if (r->bottom == BOTTOM_C) return vmm_fetch_stopped(r->cvmm);
    return machine_fetch_stopped(r->real);
}

uint64_t run_units_fine(struct run *r, uint64_t k, uint64_t *chunk)
{
    TRAPEZE_ASSERT(!r->checking);
    if (r->bottom == BOTTOM_MACHINE) return run_units(r, k, chunk); /* any cut alike */
    const uint64_t t0 = run_time(r);
    r->stop_now = false;
    *chunk = 1;
    r->in_piece = true;
    while (run_time(r) - t0 < k && !r->stop_now && !r->checking)
        if (vmm_run_fine(r->cvmm, k - (run_time(r) - t0)) != VMM_RUN_BUDGET) break;
    r->in_piece = false;
    return run_time(r) - t0;
}

uint64_t run_repeat(struct run *r, uint64_t units, uint64_t chunk)
{
    const uint64_t t0 = run_time(r);
    const bool checking = r->checking;
    r->checking = false;
    install_observer(r);
    if (r->bottom == BOTTOM_MACHINE) {
        machine_run(r->real, units);
    } else {
        const uint64_t piece = chunk ? chunk : units;
        while (run_time(r) - t0 < units) {
            uint64_t left = units - (run_time(r) - t0), before = run_time(r);
            /* One unit a call, the checked cut: in one call, the same. */
            if (chunk == 1) vmm_run_fine(r->cvmm, left);
            else vmm_run(r->cvmm, left < piece ? left : piece);
            if (run_time(r) == before) break; /* every guest stopped */
        }
    }
    r->checking = checking;
    install_observer(r);
    return run_time(r) - t0;
}

bool run_stalled(const struct run *r, unsigned g) { return column_of(r, g)->stalled; }

/* The program's stop in column c. */
static enum machine_stop guest_stop(const struct run *r, const struct column *c)
{
    return machine_stop_of(r, c, r->n);
}

static void bottom_run(struct run *r, uint64_t k)
{
    if (r->bottom == BOTTOM_C) vmm_run(r->cvmm, k);
    else machine_run(r->real, k);
}

void run_set_bounds(struct run *r, uint64_t max_units, const volatile sig_atomic_t *interrupt)
{
    r->max_units = max_units;
    r->interrupt = interrupt;
}

enum run_cut run_cut_of(const struct run *r) { return r->cut; }

/* At most `want` units, fewer when a bound is near (RUN_POLL_UNITS, the
 * units left); 0 after setting r->cut when a bound is reached. */
static uint64_t bounded_slice(struct run *r, uint64_t want)
{
    if (r->interrupt && *r->interrupt) {
        r->cut = RUN_CUT_INTERRUPT;
        return 0;
    }
    if (!r->max_units && !r->interrupt) return want;
    const uint64_t now = run_time(r);
    if (r->max_units && now >= r->max_units) {
        r->cut = RUN_CUT_REAL_BUDGET;
        return 0;
    }
    if (want > RUN_POLL_UNITS) want = RUN_POLL_UNITS;
    if (r->max_units && want > r->max_units - now) want = r->max_units - now;
    return want;
}

enum machine_stop run_go(struct run *r, uint64_t max_steps)
{
    struct column *c = &r->cols[0];
    r->stop_now = false;
    r->cut = RUN_CUT_NONE;
    if (r->n == r->code0) {
        /* Bare, or the C VMM alone: it counts its guests' steps itself, and
         * a unit is a step of a program. */
        if (r->bottom == BOTTOM_C && r->ncols > 1) {
            vmm_set_step_limit(r->cvmm, max_steps); /* each guest its own budget */
            uint64_t k;
            while ((k = bounded_slice(r, UINT64_MAX)) > 0 && vmm_run(r->cvmm, k) == VMM_RUN_BUDGET) {}
        } else {
            /* One program: the total is its own, and the run can go on later. */
            uint64_t k;
            while (!finished(r, c) && !r->stop_now && guest_steps(r, c) < max_steps &&
                   (k = bounded_slice(r, max_steps - guest_steps(r, c))) > 0)
                bottom_run(r, k);
        }
        return r->stop_now ? MACHINE_STOPPED : guest_stop(r, c);
    }
    /* Asm levels: the bottom runs in slices of guest steps still allowed
     * (each costs a unit at least, so the program cannot overshoot), and a
     * handler under way when the budget is spent is run to its end. */
    uint64_t seen_steps = guest_steps(r, c), seen_time = run_time(r);
    while (!finished(r, c)) {
        uint64_t g = guest_steps(r, c), slice;
        if (g >= max_steps) {
            if (c->cur == r->n) break; /* whole: the budget stop */
            r->stop_at_guest = true;
            /* A hybrid monitor may be interpreting the program: it leaves
             * its interpreter before the next instruction. */
            if (monitor_is_asm(r, r->n - 1) && r->asm_vmm->at.has_yield)
                *machine_memory_span(c->views[r->n - 1], r->asm_vmm->at.yield_request, 1) = 1;
            slice = RUN_STALL_UNITS;
        } else {
            slice = max_steps - g < RUN_STALL_UNITS ? max_steps - g : RUN_STALL_UNITS;
        }
        if ((slice = bounded_slice(r, slice)) == 0) break;
        r->stopped_for_guest = false;
        bottom_run(r, slice);
        r->stop_at_guest = false;
        if (r->stopped_for_guest) {
            if (r->bottom == BOTTOM_MACHINE) machine_run(r->real, 1); /* the lpsw into the program */
            r->lpsw_pass = false;
        } else if (r->stop_now) {
            charge(r, c);
            return MACHINE_STOPPED;
        }
        if (guest_steps(r, c) != seen_steps) {
            seen_steps = guest_steps(r, c);
            seen_time = run_time(r);
        } else if (run_time(r) - seen_time >= RUN_STALL_UNITS && !finished(r, c)) {
            c->stalled = true;
            break;
        }
    }
    charge(r, c);
    if (TRAPEZE_TESTING) {
        uint64_t all = 0;
        for (unsigned L = 0; L <= r->n; L++) all += c->charged[L];
        TRAPEZE_ASSERT(all == retired_now(r, c)); /* every instruction is some level's */
    }
    return guest_stop(r, c);
}

/* ---- The program ------------------------------------------------------------------------------- */

void run_guest_state(const struct run *r, unsigned g, struct run_guest_state *out)
{
    const struct column *c = column_of(r, g);
    *out = (struct run_guest_state){0};
    out->stop = guest_stop(r, c);
    /* As its view shows it: whole where a budget stop leaves it, reset
     * before it started, as before its trap when a stalled run left it
     * suspended. */
    struct run_level_view v;
    run_level_view(r, g, r->n, &v);
    memcpy(out->regs, v.regs, sizeof out->regs);
    out->psw = v.psw;
    out->mem = c->mem[r->n];
    out->machine = c->views[r->n];
    out->memsize = r->memsize[r->n];
    out->output = run_output(r, g, &out->output_len);
    out->instructions = level_instructions(r, c, r->n);
    out->steps = guest_steps(r, c);
    machine_traps(r, c, r->n, out->traps);
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) out->disk[k] = run_disk(r, g, k, &out->disk_sectors[k]);
    if (r->bottom == BOTTOM_C) {
        const struct vmm_disk_stats *ds = vmm_guest_disk_stats(r->cvmm, c->index);
        out->disk_reads = ds->reads;
        out->disk_writes = ds->writes;
        out->disk_errors = ds->errors;
        out->disk_kicks = ds->kicks;
        out->disk_requests = ds->requests;
        out->disk_notifications = ds->notifications;
        out->disk_suppressed = ds->suppressed;
    } else {
        /* the asm VMM runs one real command for each of its guest's */
        const struct machine_stats *ms = machine_stats(r->real);
        out->disk_reads = ms->disk_reads;
        out->disk_writes = ms->disk_writes;
        out->disk_errors = ms->disk_errors;
    }
    const struct machine_trap *last = NULL;
    if (r->n == 0) last = machine_last_trap(r->real);
    else if (r->n == 1 && r->bottom == BOTTOM_C) last = vmm_guest_last_trap(r->cvmm, c->index);
    if (last) {
        out->last_trap = *last;
        out->has_trap = true;
        return;
    }
    /* The top asm VMM delivered it through the program's trap area; when
     * its new PSW could not run, the program stopped right there. */
    struct isa_trap_record t;
    if (c->delivering && (out->stop == MACHINE_CHECK || out->stop == MACHINE_UNHANDLED_TRAP) &&
        isa_trap_decode(c->mem[r->n], &t)) {
        out->last_trap = (struct machine_trap){t.cause, t.detail, t.value, t.old_psw, out->steps - 1};
        out->has_trap = true;
    } else if (c->has_trap) {
        out->last_trap = c->last_trap;
        out->has_trap = true;
    }
}

bool run_monitor_error(const struct run *r, unsigned g, unsigned *level, const char **message)
{
    const struct column *c = column_of(r, g);
    for (unsigned i = r->code0; i < r->n; i++) {
        const char *m = asm_vmm_error(r->asm_vmm, c->mem[i]);
        if (!m) continue;
        *level = i;
        *message = m;
        return true;
    }
    return false;
}

const char *run_vmm_refusal(const struct run *r, unsigned g)
{
    return r->cvmm ? vmm_guest_refusal(r->cvmm, column_of(r, g)->index) : NULL;
}

const uint64_t *run_pv_calls(const struct run *r, unsigned g)
{
    return r->cvmm ? vmm_guest_pv_calls(r->cvmm, column_of(r, g)->index) : NULL;
}

uint64_t run_pv_pte_pairs(const struct run *r, unsigned g)
{
    return r->cvmm ? vmm_guest_pv_pte_pairs(r->cvmm, column_of(r, g)->index) : 0;
}

/* ---- Levels --------------------------------------------------------------------------------------- */

unsigned run_running_level(const struct run *r, unsigned g) { return running_level(r, column_of(r, g)); }

void run_level_name(const struct run *r, unsigned level, char *buf, size_t size)
{
    if (level >= r->n) snprintf(buf, size, "%s", r->n == 0 ? "program" : "guest");
    else if (r->spec.kind[level] == RUN_MONITOR_C) snprintf(buf, size, "C VMM (%s)", vmm_mode_name(r->spec.mode));
    else snprintf(buf, size, "asm VMM");
}

static const char *level_kind(const struct run *r, unsigned level)
{
    if (level >= r->n) return r->n == 0 ? "program" : "guest";
    return run_monitor_name(r->spec.kind[level]);
}

/* Level `level`, suspended, is interpreted by the asm monitor just below,
 * which runs its own code and stands between two of the level's
 * instructions (interp_next): the level is whole in gregs and the
 * monitor's trap area. */
static bool interpreted_now(const struct run *r, const struct column *c, unsigned level)
{
    if (level == 0 || !monitor_is_asm(r, level - 1) || !r->asm_vmm->at.has_interp_next) return false;
    if (running_level(r, c) != level - 1) return false;
    const struct psw mon = psw_of(r, c, level - 1);
    return (mon.flags & PSW_M) && !(mon.flags & PSW_PG) && mon.pc == r->asm_vmm->at.interp_next;
}

bool run_interp_next(const struct run *r, unsigned level, uint32_t *addr)
{
    if (level == 0 || !monitor_is_asm(r, level - 1) || !r->asm_vmm->at.has_interp_next) return false;
    *addr = r->asm_vmm->at.interp_next;
    return true;
}

/* Level `level`'s state, the one that runs now being `running`; *stop:
 * why it stopped (MACHINE_BUDGET when it did not). */
static enum run_level_state level_state(const struct run *r, const struct column *c, unsigned level,
                                        unsigned running, enum machine_stop *stop)
{
    *stop = machine_stop_of(r, c, level);
    if (*stop != MACHINE_BUDGET) return RUN_LEVEL_STOPPED;
    if (!machine_started(r, c, level)) return RUN_LEVEL_NOT_STARTED;
    if (level == running) return RUN_LEVEL_RUNNING;
    if (level < running || !(c->suspended & 1u << level)) return RUN_LEVEL_WAITING;
    return RUN_LEVEL_SUSPENDED;
}

enum run_level_state run_level_state(const struct run *r, unsigned g, unsigned level)
{
    const struct column *c = column_of(r, g);
    enum machine_stop stop;
    return level_state(r, c, level_in(r, level), running_level(r, c), &stop);
}

struct psw run_running_psw(const struct run *r, unsigned g)
{
    const struct column *c = column_of(r, g);
    const unsigned L = running_level(r, c);
    if (L < r->n && r->spec.kind[L] == RUN_MONITOR_C) return (struct psw){0};
    return psw_of(r, c, L);
}

void run_level_view(const struct run *r, unsigned g, unsigned level, struct run_level_view *out)
{
    const struct column *c = column_of(r, g);
    level = level_in(r, level);
    *out = (struct run_level_view){0};
    out->level = level;
    out->kind = level_kind(r, level);
    out->running = running_level(r, c);
    out->host_code = level < r->n && r->spec.kind[level] == RUN_MONITOR_C;
    out->memsize = r->memsize[level];
    out->instructions = level_instructions(r, c, level);
    out->steps = level_steps(r, c, level);
    out->place = VMM_PLACE_DIRECT;
    if (r->bottom == BOTTOM_C && level >= 1) out->place = vmm_guest_place(r->cvmm, c->index);

    enum machine_stop stop;
    out->state = level_state(r, c, level, out->running, &stop);
    if (out->state == RUN_LEVEL_STOPPED) out->stop = stop;
    if (out->host_code) return;

    if (out->state == RUN_LEVEL_SUSPENDED && interpreted_now(r, c, level)) {
        /* Its monitor's interpreter is between two of its instructions:
         * the level is whole in the monitor's memory, as at its last step. */
        const uint32_t *mon = c->mem[level - 1];
        for (unsigned reg = 1; reg < ISA_NREGS; reg++) out->regs[reg] = mon[r->asm_vmm->at.gregs + reg];
        out->psw = psw_of(r, c, level);
        out->as_of = out->steps;
        out->interpreted = true;
        out->place = VMM_PLACE_INTERPRETED;
        return;
    }
    if (out->state == RUN_LEVEL_SUSPENDED) {
        const struct level_snapshot *s = &c->snap[level];
        memcpy(out->regs, s->regs, sizeof out->regs);
        out->psw = s->psw;
        out->as_of = s->steps;
        return;
    }
    out->psw = psw_of(r, c, level);
    if (out->state == RUN_LEVEL_NOT_STARTED) return; /* registers 0, as at reset */
    if (out->state == RUN_LEVEL_STOPPED && (c->suspended & 1u << level)) {
        /* Stopped by its monitor at a trap of its own (halt, unhandled,
         * ...): its registers are the ones that trap found, while the
         * levels below may still be at work on it with theirs. */
        memcpy(out->regs, c->snap[level].regs, sizeof out->regs);
        return;
    }
    for (unsigned reg = 0; reg < ISA_NREGS; reg++) out->regs[reg] = bottom_reg(r, c, reg);
    if (out->state != RUN_LEVEL_RUNNING) return;
    out->has_real = true;
    out->real = r->bottom == BOTTOM_C ? vmm_guest_real_psw(r->cvmm, c->index) : machine_psw(r->real);
}

bool run_set_reg(struct run *r, unsigned g, unsigned level, unsigned reg, uint32_t value, char *err,
                 size_t errsize)
{
    if (level > r->n) {
        snprintf(err, errsize, "there is no level %u: the program is L%u", level, r->n);
        return false;
    }
    struct run_level_view v;
    run_level_view(r, g, level, &v);
    char name[32];
    run_level_name(r, level, name, sizeof name);
    if (v.host_code) {
        snprintf(err, errsize, "L%u %s is host code: it has no registers of the machine's", level, name);
        return false;
    }
    if (v.state != RUN_LEVEL_RUNNING) {
        snprintf(err, errsize,
                 "L%u %s is %s: its registers can be set while it runs (now L%u does)", level, name,
                 run_level_state_name(v.state), v.running);
        return false;
    }
    if (reg == 0 || reg > RUN_REG_PC) {
        snprintf(err, errsize, "r0 is always 0");
        return false;
    }
    /* A running level's registers and pc are the bottom machine's: the asm
     * VMMs pass both through. */
    const unsigned gi = column_of(r, g)->index;
    if (r->bottom == BOTTOM_C) {
        if (reg == RUN_REG_PC) {
            struct psw p = vmm_guest_vcpu(r->cvmm, gi)->psw;
            p.pc = value;
            vmm_guest_set_psw(r->cvmm, gi, &p);
        } else {
            vmm_guest_set_reg(r->cvmm, gi, reg, value);
        }
    } else if (reg == RUN_REG_PC) {
        struct psw p = machine_psw(r->real);
        p.pc = value;
        machine_set_psw(r->real, &p);
    } else {
        machine_set_reg(r->real, reg, value);
    }
    return true;
}

static uint64_t guest_privileged(const struct run *r, const struct column *c)
{
    if (r->n == 0) return 0;
    if (monitor_is_asm(r, r->n - 1)) return asm_emulated(r, c, r->n - 1) - asm_interpreted(r, c, r->n - 1);
    const struct vmm_stats *st = vmm_guest_stats(r->cvmm, c->index);
    return st->emulated - st->interpreted;
}

/* The machine instructions monitor i spent (the C VMM: its emulations). */
static uint64_t monitor_cost(const struct run *r, const struct column *c, unsigned i)
{
    if (r->spec.kind[i] == RUN_MONITOR_C) return vmm_guest_stats(r->cvmm, c->index)->emulated;
    return level_instructions(r, c, i);
}

void run_level_counts(const struct run *r, unsigned g, unsigned level, struct run_level_counts *out)
{
    const struct column *c = column_of(r, g);
    level = level_in(r, level);
    *out = (struct run_level_counts){.kind = level_kind(r, level)};
    const uint64_t priv = guest_privileged(r, c);
    out->instructions = level_instructions(r, c, level);
    if (level == r->n) {
        out->traps = machine_traps(r, c, level, NULL);
        if (priv) {
            uint64_t cost = 0;
            for (unsigned i = 0; i < r->n; i++) cost += monitor_cost(r, c, i);
            out->amplification = (double)cost / (double)priv;
        }
        return;
    }
    if (r->spec.kind[level] == RUN_MONITOR_C) {
        const struct vmm_stats *st = vmm_guest_stats(r->cvmm, c->index);
        out->traps = st->entries;
        out->emulated = st->emulated;
        out->interpreted = st->interpreted;
        out->reflected = st->reflected;
        out->direct = st->direct;
        out->entries = st->entries;
        out->slices = st->scheduled;
        out->efficiency = vmm_efficiency(st);
    } else {
        out->emulated = asm_emulated(r, c, level);
        out->interpreted = asm_interpreted(r, c, level);
        out->reflected = asm_reflected(r, c, level, NULL);
        out->traps = out->emulated - out->interpreted + out->reflected;
        /* As the C VMM's (vmm_efficiency): the level above's instructions
         * that ran directly, of all it completed. */
        out->direct = charged(r, c, level + 1);
        const uint64_t total = out->direct + out->emulated;
        out->efficiency = total ? (double)out->direct / (double)total : 1.0;
    }
    if (priv) out->amplification = (double)monitor_cost(r, c, level) / (double)priv;
}

bool run_shadow_area(const struct run *r, unsigned g, uint32_t *real, size_t *words)
{
    if (!r->cvmm || (r->spec.mode != VMM_TE && r->spec.mode != VMM_HW && r->spec.mode != VMM_PV)) return false;
    *real = vmm_guest_shadow_area(r->cvmm, column_of(r, g)->index, words);
    return true;
}

const struct vmm_shadow_stats *run_shadow_stats(const struct run *r, unsigned g,
                                                enum vmm_shadow_policy *policy)
{
    if (!r->cvmm || (r->spec.mode != VMM_TE && r->spec.mode != VMM_HW && r->spec.mode != VMM_PV)) return NULL;
    const struct column *c = column_of(r, g);
    if (policy) *policy = vmm_shadow_policy(r->cvmm);
    return vmm_guest_shadow_stats(r->cvmm, c->index);
}

const struct vmm_bt_stats *run_bt_stats(const struct run *r, unsigned g)
{
    if (!r->cvmm || r->spec.mode != VMM_BT) return NULL;
    return vmm_guest_bt_stats(r->cvmm, column_of(r, g)->index);
}

const uint64_t *run_vmm_exits(const struct run *r, unsigned g)
{
    if (!r->cvmm || (r->spec.mode != VMM_HW && r->spec.mode != VMM_HW_SLT)) return NULL;
    return vmm_guest_stats(r->cvmm, column_of(r, g)->index)->exits;
}

/* ---- Memory and addresses ---------------------------------------------------------------------- */

const uint32_t *run_machine_memory(const struct run *r, unsigned g, unsigned j, size_t *words)
{
    j = level_in(r, j);
    if (words) *words = r->memsize[j];
    return column_of(r, g)->mem[j];
}

bool run_to_real(const struct run *r, unsigned g, unsigned j, uint32_t pa, uint32_t *real)
{
    if (j > r->n || pa >= r->memsize[j]) return false;
    const struct column *c = column_of(r, g);
    *real = (uint32_t)((size_t)(c->mem[j] - c->mem[0]) + pa);
    return true;
}

bool run_translate(const struct run *r, unsigned g, unsigned level, uint32_t va, uint32_t *pa,
                   unsigned *detail)
{
    const struct column *c = column_of(r, g);
    level = level_in(r, level);
    unsigned d = MEMF_BOUND;
    bool ok = false;
    if (!(level < r->n && r->spec.kind[level] == RUN_MONITOR_C)) {
        /* The running level's view holds its live PSW: no view needed (a
         * backward search translates its pc every unit). */
        struct psw psw;
        if (level == running_level(r, c)) {
            psw = psw_of(r, c, level);
        } else {
            struct run_level_view v;
            run_level_view(r, g, level, &v);
            psw = v.psw;
        }
        ok = machine_translate(c->views[level], &psw, va, ACCESS_LOAD, pa, &d);
    }
    if (!ok && detail) *detail = d;
    return ok;
}

unsigned run_fmap(const struct run *r, unsigned g, unsigned level, bool composed,
                  struct run_extent *out, unsigned max)
{
    if (level == 0 || level > r->n || max == 0) return 0;
    const struct column *c = column_of(r, g);
    const unsigned i = level - 1; /* the monitor that keeps it */
    if (r->spec.kind[i] == RUN_MONITOR_C) {
        const struct vmm_fmap *f = vmm_guest_fmap(r->cvmm, c->index);
        unsigned n = 0;
        for (unsigned k = 0; k < f->n && n < max; k++)
            out[n++] = (struct run_extent){f->ext[k].gpa, f->ext[k].hpa, f->ext[k].words};
        return n;
    }
    uint32_t base = r->asm_guest_base;
    if (composed) base += (uint32_t)(c->mem[i] - c->mem[0]);
    out[0] = (struct run_extent){0, base, (uint32_t)r->memsize[level]};
    return 1;
}

const struct asm_image *run_image_at(const struct run *r, unsigned g, unsigned level, uint32_t pa,
                                     uint32_t *image_address)
{
    const struct column *c = column_of(r, g);
    uint32_t real;
    if (!run_to_real(r, g, level, pa, &real)) return NULL;
    for (unsigned j = r->n + 1; j-- > r->code0;) {
        uint32_t off = (uint32_t)(c->mem[j] - c->mem[0]);
        if (real < off || real - off >= r->memsize[j]) continue;
        *image_address = real - off;
        if (j == r->n) return c->program;
        return monitor_is_asm(r, j) ? &r->asm_vmm->img : NULL;
    }
    return NULL;
}
