/*
 * test_run_events.c: the events of a run (run_set_hooks' on_event): where
 * each trap arose, who handled it and how, and where it happened.
 *
 * A small kernel (tr_ev_guest) does one of everything: a supervisor srr, an
 * lpsw into a relocated user task with interrupts and the timer on, svc 1
 * from user mode every eight rounds, the timer interrupts, svc 3 to end.
 * Its events are checked for known routes under bare, c, asm and c,asm;
 * every event the program's own handler receives must be, in order, a trap
 * the bare machine takes (cause, value, saved pc, step); every event a
 * monitor emulates for the program must be an instruction the bare machine
 * executes at that step.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/run/log.h"
#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

#define EV_GUEST tr_ev_guest

/* Every event of a run, copied. */
struct events {
    struct run_event *e;
    size_t n, cap;
};

static enum machine_verdict record(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    struct events *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->e = realloc(l->e, l->cap * sizeof *l->e);
        cr_assert_not_null(l->e);
    }
    l->e[l->n++] = *e;
    return MACHINE_CONTINUE;
}

/* Runs img under spec to the end, recording every event. */
static struct run *run_recorded(const char *spec, const struct asm_image *img, struct events *ev)
{
    struct run *r = tr_run(spec, "pg", img, MEM);
    *ev = (struct events){NULL, 0, 0};
    run_set_hooks(r, &(struct run_hooks){ev, record, NULL});
    cr_assert_eq(run_go(r, TR_BIG_BUDGET), MACHINE_HALT, "%s", spec);
    return r;
}

static uint32_t sym(const struct asm_image *img, const char *name)
{
    uint32_t v;
    cr_assert(asm_symbol_value(img, name, &v), "no symbol %s", name);
    return v;
}

/* The first event matching cause, arose and (when pc != ~0u) pc. */
static const struct run_event *find(const struct events *ev, enum isa_cause cause, unsigned arose,
                                    uint32_t pc)
{
    for (size_t i = 0; i < ev->n; i++)
        if (ev->e[i].cause == cause && ev->e[i].arose == arose && (pc == ~0u || ev->e[i].pc == pc))
            return &ev->e[i];
    return NULL;
}

/* Every timer event is the C VMM's own (absorbed by L0) or delivered to
 * the program's handler, and there are some of the second kind. */
static void check_timer_events(const struct events *ev, unsigned n, const char *what)
{
    size_t delivered = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const struct run_event *e = &ev->e[i];
        if (e->cause != CAUSE_TIMER) continue;
        if (e->how == RUN_ABSORBED) {
            cr_assert_eq(e->handler, 0, "%s", what);
            continue;
        }
        cr_assert_eq(e->how, RUN_DELIVERED, "%s: timer event %zu is %s", what, i, run_handling_name(e->how));
        cr_assert_eq(e->handler, n, "%s", what);
        cr_assert_eq(e->arose, n, "%s", what);
        cr_assert_eq(e->first, 0, "%s", what);
        cr_assert_not(e->supervisor, "%s: the user task was interrupted", what);
        cr_assert_not(e->has_insn, "%s: an interrupt has no instruction", what);
        delivered++;
    }
    cr_assert_gt(delivered, 0, "%s: timer interrupts delivered", what);
}

static void place(const struct run *r, const struct run_event *e, char *buf, size_t size)
{
    run_describe_place(r, e->guest, e->arose, e->pc, e->has_pc_phys, e->pc_phys, buf, size);
}

/* ---- Routes ------------------------------------------------------------------------------ */

Test(run_events, bare_traps_go_to_the_handler_by_the_hardware)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    struct events ev;
    struct run *r = run_recorded("bare", &img, &ev);
    cr_assert_gt(ev.n, 10);
    for (size_t i = 0; i < ev.n; i++) {
        const struct run_event *e = &ev.e[i];
        cr_assert_eq(e->how, RUN_HARDWARE, "event %zu", i);
        cr_assert_eq(e->arose, 0);
        cr_assert_eq(e->handler, 0);
        cr_assert_eq(e->first, 0);
        cr_assert_eq(e->time, e->guest_step, "bare: the run's units are the program's steps");
        cr_assert_eq(e->guest, 0);
    }
    const struct run_event *svc = find(&ev, CAUSE_SVC, 0, ~0u);
    cr_assert_not_null(svc);
    cr_assert_not(svc->supervisor, "svc comes from the user task");
    cr_assert_eq(svc->value, 1);
    cr_assert_eq(svc->pc, sym(&img, "uskip") - 0x1000, "the saved pc: the next instruction, virtual");
    cr_assert(svc->has_pc_phys);
    cr_assert_eq(svc->pc_phys, sym(&img, "uskip"), "physical: relocated by 0x1000");
    cr_assert(svc->has_insn);
    cr_assert_eq(svc->insn, run_machine_memory(r, 0, 0, NULL)[svc->pc_phys - 1], "the svc itself");
    cr_assert_eq(isa_opcode_of(svc->insn), ISA_SVC);
    char buf[128];
    place(r, svc, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x000005 <uskip>");
    free(ev.e);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_events, the_c_vmm_emulates_a_kernel_srr)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    struct events ev;
    struct run *r = run_recorded("c", &img, &ev);
    const struct run_event *e = find(&ev, CAUSE_PRIV, 1, sym(&img, "ksrr"));
    cr_assert_not_null(e, "the kernel's srr is an event");
    cr_assert_eq(e->how, RUN_EMULATED);
    cr_assert_eq(e->handler, 0);
    cr_assert_eq(e->first, 0);
    cr_assert(e->supervisor);
    cr_assert(e->has_insn);
    cr_assert_eq(isa_opcode_of(e->insn), ISA_SRR);
    cr_assert(e->has_pc_phys);
    cr_assert_eq(e->pc_phys, sym(&img, "ksrr"));
    char buf[128];
    place(r, e, buf, sizeof buf);
    char want[96];
    snprintf(want, sizeof want, "0x%06x <ksrr>", sym(&img, "ksrr"));
    cr_assert_str_eq(buf, want);
    /* the user task's svc: reflected to the program's own handler */
    e = find(&ev, CAUSE_SVC, 1, ~0u);
    cr_assert_not_null(e);
    cr_assert_eq(e->how, RUN_REFLECTED);
    cr_assert_eq(e->handler, 1);
    cr_assert_not(e->supervisor);
    check_timer_events(&ev, 1, "c");
    free(ev.e);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_events, routes_under_c_asm)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    struct events ev;
    struct run *r = run_recorded("c,asm", &img, &ev);
    const struct asm_image *vmm = run_asm_image(r);

    /* the program's srr in supervisor mode: emulated by L1, passed up by L0 */
    const struct run_event *e = find(&ev, CAUSE_PRIV, 2, sym(&img, "ksrr"));
    cr_assert_not_null(e);
    cr_assert_eq(e->how, RUN_EMULATED);
    cr_assert_eq(e->handler, 1);
    cr_assert_eq(e->first, 0);
    cr_assert(e->supervisor);
    cr_assert_eq(isa_opcode_of(e->insn), ISA_SRR);
    cr_assert(e->has_pc_phys);
    uint32_t at;
    cr_assert_eq(run_image_at(r, 0, 2, e->pc_phys, &at), &img);
    char buf[128];
    place(r, e, buf, sizeof buf);
    char want[96];
    snprintf(want, sizeof want, "0x%06x <ksrr>", sym(&img, "ksrr"));
    cr_assert_str_eq(buf, want);

    /* the asm VMM's own lpsw: emulated by L0, and labelled from vmm.s */
    e = NULL;
    for (size_t i = 0; i < ev.n && !e; i++)
        if (ev.e[i].arose == 1 && ev.e[i].cause == CAUSE_PRIV && isa_opcode_of(ev.e[i].insn) == ISA_LPSW)
            e = &ev.e[i];
    cr_assert_not_null(e, "the asm VMM's lpsw");
    cr_assert_eq(e->how, RUN_EMULATED);
    cr_assert_eq(e->handler, 0);
    cr_assert_eq(e->first, 0);
    cr_assert(e->supervisor);
    cr_assert(e->has_pc_phys);
    cr_assert_eq(run_image_at(r, 0, 1, e->pc_phys, &at), vmm, "L1's code is the asm VMM's");
    cr_assert_eq(at, e->pc_phys);
    uint32_t off;
    const char *label = asm_symbol_near(vmm, e->pc_phys, &off);
    cr_assert_not_null(label);
    place(r, e, buf, sizeof buf);
    if (off) snprintf(want, sizeof want, "<%s+%u>", label, off);
    else snprintf(want, sizeof want, "<%s>", label);
    cr_assert(strstr(buf, want) != NULL, "%s names %s", buf, want);

    /* the user task's svc: reflected by both to L2's handler */
    e = find(&ev, CAUSE_SVC, 2, ~0u);
    cr_assert_not_null(e);
    cr_assert_eq(e->how, RUN_REFLECTED);
    cr_assert_eq(e->handler, 2);
    cr_assert_eq(e->first, 0);
    cr_assert_not(e->supervisor);
    cr_assert_eq(e->value, 1);
    cr_assert_eq(e->pc_phys, sym(&img, "uskip"));
    place(r, e, buf, sizeof buf);
    cr_assert_str_eq(buf, "0x000005 <uskip>");

    /* timer interrupts of the user task: delivered to L2's handler */
    check_timer_events(&ev, 2, "c,asm");

    /* no event is handled by the hardware: L0 and L1 are monitors */
    for (size_t i = 0; i < ev.n; i++) cr_assert_neq(ev.e[i].how, RUN_HARDWARE);
    free(ev.e);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_events, routes_under_asm)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    struct events ev;
    struct run *r = run_recorded("asm", &img, &ev);
    const struct run_event *e = find(&ev, CAUSE_PRIV, 1, sym(&img, "ksrr"));
    cr_assert_not_null(e);
    cr_assert_eq(e->how, RUN_EMULATED);
    cr_assert_eq(e->handler, 0);
    cr_assert_eq(e->first, 0);
    cr_assert_eq(e->pc_phys, sym(&img, "ksrr"), "machine 1's physical address, not real memory");
    e = find(&ev, CAUSE_SVC, 1, ~0u);
    cr_assert_not_null(e);
    cr_assert_eq(e->how, RUN_REFLECTED);
    cr_assert_eq(e->handler, 1);
    check_timer_events(&ev, 1, "asm");
    /* the asm VMM at L0 runs on the real machine and never traps */
    cr_assert_null(find(&ev, CAUSE_PRIV, 0, ~0u));
    free(ev.e);
    run_destroy(r);
    asm_image_free(&img);
}

/* The C VMM's own slice timer: absorbed, handled by L0, whichever level
 * it interrupted. */
Test(run_events, the_c_vmm_absorbs_its_own_timer)
{
    struct asm_image img = tr_load_text("_start: li r2, 20000\n"
                                        "loop:   addi r2, r2, -1\n"
                                        "        bnez r2, loop\n"
                                        "        halt\n");
    const char *specs[] = {"c", "c,asm"};
    for (size_t k = 0; k < 2; k++) {
        struct events ev;
        struct run *r = run_recorded(specs[k], &img, &ev);
        const unsigned n = run_program_level(r);
        size_t absorbed = 0;
        for (size_t i = 0; i < ev.n; i++) {
            const struct run_event *e = &ev.e[i];
            if (e->how != RUN_ABSORBED) continue;
            absorbed++;
            cr_assert_eq(e->cause, CAUSE_TIMER);
            cr_assert_eq(e->handler, 0);
            cr_assert_eq(e->first, 0);
            cr_assert_geq(e->arose, 1);
            cr_assert_leq(e->arose, n);
            char line[256];
            run_event_describe(r, e, i + 1, RUN_EVENT_FULL, line, sizeof line);
            cr_assert(strstr(line, "TIMER") && strstr(line, "absorbed by L0 c"), "%s", line);
        }
        /* 40,000 program steps, a slice of VMM_DEFAULT_SLICE */
        cr_assert_geq(absorbed, 3, "%s: %zu absorbed", specs[k], absorbed);
        const struct run_event *in_loop = NULL;
        for (size_t i = 0; i < ev.n && !in_loop; i++)
            if (ev.e[i].how == RUN_ABSORBED && ev.e[i].arose == n) in_loop = &ev.e[i];
        cr_assert_not_null(in_loop, "%s: the timer interrupted the program", specs[k]);
        cr_assert(in_loop->pc == sym(&img, "loop") || in_loop->pc == sym(&img, "loop") + 1, "%s: pc 0x%x",
                  specs[k], in_loop->pc);
        cr_assert(in_loop->supervisor);
        free(ev.e);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* ---- Against the bare run ------------------------------------------------------------------ */

struct bare_traps {
    struct machine_trap *t;
    size_t n, cap;
};

static enum machine_verdict bare_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    (void)m;
    struct bare_traps *b = ctx;
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->t = realloc(b->t, b->cap * sizeof *b->t);
        cr_assert_not_null(b->t);
    }
    b->t[b->n++] = *t;
    return MACHINE_CONTINUE;
}

/* Every trap the program's handler receives is one the bare machine takes,
 * at the same step; every instruction a monitor emulates for the program is
 * one the bare machine executes there. */
static void against_bare(const char *what, const struct asm_image *img, const char *spec)
{
    struct machine *m = tr_bare(img, "pg", MEM, NULL, 0);
    struct bare_traps bt = {NULL, 0, 0};
    machine_set_observer(m, &(struct machine_observer){&bt, NULL, bare_trap});
    cr_assert_eq(machine_run(m, TR_BIG_BUDGET), MACHINE_HALT);
    machine_destroy(m);
    struct tr_trace trace = tr_trace_bare(img, "pg", MEM, TR_BIG_BUDGET / 1000);

    struct events ev;
    struct run *r = run_recorded(spec, img, &ev);
    const unsigned n = run_program_level(r);
    size_t k = 0, emulated = 0;
    for (size_t i = 0; i < ev.n; i++) {
        const struct run_event *e = &ev.e[i];
        if (e->arose == n && e->how == RUN_EMULATED) {
            emulated++;
            cr_assert_leq(e->guest_step, trace.n);
            const struct tr_step *at = &trace.at[e->guest_step];
            cr_assert_eq(e->pc, at->psw.pc, "%s under %s: emulated at step %" PRIu64 ": pc 0x%x, bare 0x%x",
                         what, spec, e->guest_step, e->pc, at->psw.pc);
            cr_assert(at->psw.flags & PSW_M, "%s: the bare machine is in supervisor mode", what);
            cr_assert(e->supervisor);
            cr_assert_not(at->trap, "%s: the bare machine executes it", what);
            cr_assert(e->has_insn && e->has_pc_phys);
            cr_assert_eq(e->insn, run_machine_memory(r, 0, n, NULL)[e->pc_phys]);
            continue;
        }
        if (e->handler != n || e->how == RUN_EMULATED || e->how == RUN_ABSORBED) continue;
        cr_assert_lt(k, bt.n, "%s under %s: more traps than bare", what, spec);
        const struct machine_trap *t = &bt.t[k++];
        cr_assert_eq(e->arose, n, "%s under %s: only the program's traps reach its handler", what, spec);
        cr_assert_eq(e->cause, t->cause, "%s under %s, trap %zu", what, spec, k);
        cr_assert_eq(e->detail, t->detail, "%s under %s, trap %zu", what, spec, k);
        cr_assert_eq(e->value, t->value, "%s under %s, trap %zu", what, spec, k);
        cr_assert_eq(e->pc, t->old_psw.pc, "%s under %s, trap %zu", what, spec, k);
        cr_assert_eq(e->supervisor, (t->old_psw.flags & PSW_M) != 0, "%s under %s, trap %zu", what, spec, k);
        cr_assert_eq(e->guest_step, t->step, "%s under %s, trap %zu: step %" PRIu64 ", bare %" PRIu64, what,
                     spec, k, e->guest_step, t->step);
    }
    cr_assert_eq(k, bt.n, "%s under %s: %zu of %zu bare traps", what, spec, k, bt.n);
    if (n > 0) cr_assert_gt(emulated, 0, "%s under %s", what, spec);
    free(ev.e);
    free(bt.t);
    tr_trace_free(&trace);
    run_destroy(r);
}

Test(run_events, the_programs_events_are_its_bare_traps)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    const char *specs[] = {"bare", "c", "asm", "c,asm", "asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) against_bare("EV_GUEST", &img, specs[k]);
    asm_image_free(&img);
    struct asm_image toyos = tr_load_file("programs/toyos/toyos.s");
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) against_bare("toyos", &toyos, specs[k]);
    asm_image_free(&toyos);
}

/* The level whose code runs once an event is handled. */
Test(run_events, target_is_the_level_that_runs_next)
{
    /* Regression: target was never set, so it read 0. */
    struct asm_image img = tr_load_text(EV_GUEST);
    const char *specs[] = {"c", "asm", "c,asm"};
    for (size_t k = 0; k < 3; k++) {
        struct events ev;
        struct run *r = run_recorded(specs[k], &img, &ev);
        const unsigned n = run_program_level(r);
        const struct run_event *svc = find(&ev, CAUSE_SVC, n, ~0u);
        cr_assert_not_null(svc);
        cr_assert_eq(svc->target, n, "%s: the program's handler runs next, target %u", specs[k], svc->target);
        const struct run_event *srr = find(&ev, CAUSE_PRIV, n, sym(&img, "ksrr"));
        cr_assert_not_null(srr);
        cr_assert_eq(srr->target, n, "%s: the kernel goes on after its srr", specs[k]);
        free(ev.e);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* An event hook can stop the run; the run goes on from there to the same end. */
static enum machine_verdict stop_every_tenth(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r, (void)e;
    return ++*(unsigned *)ctx % 10 == 0 ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

Test(run_events, a_hook_stops_the_run_and_it_goes_on)
{
    struct asm_image img = tr_load_text(EV_GUEST);
    struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
    enum machine_stop bstop = machine_run(m, TR_BIG_BUDGET);
    const char *specs[] = {"bare", "c", "asm", "c,asm", "asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, MEM);
        unsigned seen = 0, stops = 0;
        run_set_hooks(r, &(struct run_hooks){&seen, stop_every_tenth, NULL});
        enum machine_stop st;
        while ((st = run_go(r, TR_BIG_BUDGET)) == MACHINE_STOPPED) {
            stops++;
            cr_assert_eq(seen % 10, 0, "%s: stopped at the event that asked", specs[k]);
            cr_assert_lt(stops, 100000);
        }
        cr_assert_gt(stops, 0, "%s", specs[k]);
        char why[256];
        cr_assert(tr_same_guest(m, bstop, r, 0, st, why, sizeof why), "%s: %s", specs[k], why);
        run_destroy(r);
    }
    machine_destroy(m);
    asm_image_free(&img);
}
