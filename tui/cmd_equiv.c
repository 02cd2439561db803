/*
 * cmd_equiv.c: `trapeze equiv`, Popek and Goldberg's equivalence, checked.
 *
 * The program runs on a bare machine and as the one guest of the C VMM,
 * with the same memory size, input, variant and step budget.  Their final
 * guest-visible states are compared: registers, PSW, every memory word,
 * console output, stop reason, exit status and the step count.
 *
 * When they differ, the first step after which they differ is found by
 * bisection over step budgets (both sides are deterministic, so "run n
 * steps" can be repeated at will), then confirmed by running both in
 * lockstep up to it with a cheap comparison (registers, PSW, output, stop),
 * in case the states had differed earlier and converged again.  The report
 * names that step, the instruction it executed (address, label and
 * disassembly, or the interrupt taken) and each differing register, PSW
 * field, memory word and output byte with both values, then the
 * differences at the end.
 *
 * With --stack SPEC or --depth N the virtualized side is that stack of
 * monitors (vmm/stack.h) instead of the C VMM alone.
 *
 * Exit status: 0 equivalent, 1 not equivalent, 2 bad input.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../assembler/asm.h"
#include "../machine/machine.h"
#include "../vmm/stack.h"
#include "../vmm/vmm.h"
#include "cli.h"
#include "options.h"

#define MAX_LINES 12
#define LINE_SIZE 160
#define LOCKSTEP_LIMIT 4000000u /* steps up to which the lockstep check runs */

/* One side's guest-visible state after a run, borrowed from its owner. */
struct state {
    uint32_t regs[ISA_NREGS];
    struct psw psw;
    const uint32_t *mem;
    size_t memsize;
    const uint8_t *out;
    size_t out_len;
    enum machine_stop stop;
    uint64_t steps;
};

/* The virtualized side: the C VMM's one guest, or the guest of a stack. */
struct virt {
    struct vmm *v;
    struct stack *s;
};

struct equiv {
    const struct run_options *o;
    struct asm_image img;
    struct machine *bare_start; /* loaded and reset: each bare run clones it */
    struct machine *bare;       /* the latest bare run                        */
    struct virt x;              /* the latest virtualized run                 */
    struct machine *bare_end;   /* the full runs, kept for the final report   */
    struct virt x_end;
    char err[STACK_ERROR_SIZE]; /* why a stack could not be made              */
};

/* ---- Running both sides --------------------------------------------------------- */

static void virt_free(struct virt *x)
{
    vmm_destroy(x->v);
    stack_destroy(x->s);
    *x = (struct virt){NULL, NULL};
}

/* A fresh virtualized side at its first step, to run at most `steps`. */
static bool new_virt(struct equiv *q, uint64_t steps)
{
    virt_free(&q->x);
    if (q->o->stacked) {
        struct stack_config cfg = {q->o->stack, &q->o->variant, q->o->mem, NULL, true};
        q->x.s = stack_create(&cfg, &q->img, q->err);
        if (!q->x.s) return false;
        stack_feed_input(q->x.s, q->o->input, q->o->input_len);
        return true;
    }
    struct vmm_config cfg = {q->o->vmm_mode, &q->o->variant, q->o->mem, 1, 0};
    q->x.v = vmm_create(&cfg);
    if (!q->x.v) return snprintf(q->err, sizeof q->err, "out of memory"), false;
    asm_image_place(&q->img, vmm_guest_memory(q->x.v, 0), q->o->mem, 0);
    vmm_guest_reset(q->x.v, 0, q->img.entry);
    vmm_feed_input(q->x.v, 0, q->o->input, q->o->input_len);
    vmm_set_step_limit(q->x.v, steps);
    return true;
}

/* Runs the virtualized side on until its guest has taken `steps` steps in
 * all (or stopped). */
static void run_virt(struct virt *x, uint64_t steps)
{
    if (x->s) {
        stack_run(x->s, steps);
        return;
    }
    uint64_t done = vmm_guest_steps(x->v, 0);
    if (steps > done) vmm_run(x->v, steps - done);
}

static bool new_bare(struct equiv *q)
{
    machine_destroy(q->bare);
    q->bare = machine_clone(q->bare_start);
    return q->bare != NULL;
}

/* Both sides from the start for `steps` steps. */
static bool run_both(struct equiv *q, uint64_t steps)
{
    if (!new_bare(q)) return snprintf(q->err, sizeof q->err, "out of memory"), false;
    if (!new_virt(q, steps)) return false;
    machine_run(q->bare, steps);
    run_virt(&q->x, steps);
    return true;
}

static struct state bare_state(const struct machine *m)
{
    struct state s = {0};
    for (unsigned r = 0; r < ISA_NREGS; r++) s.regs[r] = machine_reg(m, r);
    s.psw = machine_psw(m);
    s.mem = machine_memory_const(m);
    s.memsize = machine_memsize(m);
    s.out = machine_output(m, &s.out_len);
    s.stop = machine_state(m);
    s.steps = machine_steps(m);
    return s;
}

static struct state virt_state(const struct virt *x)
{
    struct state s = {0};
    if (x->s) {
        for (unsigned r = 0; r < ISA_NREGS; r++) s.regs[r] = stack_guest_reg(x->s, r);
        s.psw = stack_guest_psw(x->s);
        s.mem = stack_guest_memory(x->s);
        s.memsize = stack_guest_memsize(x->s);
        s.out = stack_guest_output(x->s, &s.out_len);
        s.stop = stack_guest_stop(x->s);
        s.steps = stack_guest_steps(x->s);
        return s;
    }
    const struct vmm *v = x->v;
    memcpy(s.regs, vmm_guest_vcpu(v, 0)->reg, sizeof s.regs);
    s.psw = vmm_guest_vcpu(v, 0)->psw;
    s.mem = vmm_guest_memory_const(v, 0);
    s.memsize = vmm_guest_memsize(v);
    s.out = vmm_guest_output(v, 0, &s.out_len);
    s.stop = vmm_guest_stop(v, 0);
    s.steps = vmm_guest_steps(v, 0);
    return s;
}

/* ---- Comparing ---------------------------------------------------------------------- */

static void flag_names(uint32_t flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s", flags & PSW_M ? " M" : "", flags & PSW_IE ? " IE" : "",
             flags & PSW_PG ? " PG" : "", flags & PSW_TP ? " TP" : "");
    if (!*buf) snprintf(buf, size, " -");
}

static void byte_text(uint8_t b, char *buf, size_t size)
{
    if (b >= 0x20 && b < 0x7f && b != '\'') snprintf(buf, size, "'%c' (0x%02x)", b, b);
    else snprintf(buf, size, "0x%02x", b);
}

struct lines {
    char text[MAX_LINES][LINE_SIZE];
    size_t n, more;
};

static void add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct lines *l, const char *fmt, ...)
{
    if (l->n == MAX_LINES) {
        l->more++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text[l->n++], LINE_SIZE, fmt, ap);
    va_end(ap);
}

/* Lists every difference between a (bare) and b (vmm).  With cheap, only
 * registers, PSW, output length and stop are looked at (the lockstep). */
static size_t differences(const struct state *a, const struct state *b, bool cheap, struct lines *l)
{
    size_t before = l->n + l->more;
    if (a->stop != b->stop)
        add(l, "stop: bare %s, vmm %s", a->stop == MACHINE_BUDGET ? "running" : machine_stop_name(a->stop),
            b->stop == MACHINE_BUDGET ? "running" : machine_stop_name(b->stop));
    for (unsigned r = 0; r < ISA_NREGS; r++)
        if (a->regs[r] != b->regs[r])
            add(l, "r%u: bare 0x%08" PRIx32 ", vmm 0x%08" PRIx32, r, a->regs[r], b->regs[r]);
    if (a->psw.flags != b->psw.flags) {
        char fa[24], fb[24];
        flag_names(a->psw.flags, fa, sizeof fa);
        flag_names(b->psw.flags, fb, sizeof fb);
        add(l, "psw.flags: bare 0x%" PRIx32 " (%s), vmm 0x%" PRIx32 " (%s)", a->psw.flags, fa + 1,
            b->psw.flags, fb + 1);
    }
    static const char *const names[] = {"pc", "base", "bound", "timer"};
    const uint32_t av[] = {a->psw.pc, a->psw.base, a->psw.bound, a->psw.timer};
    const uint32_t bv[] = {b->psw.pc, b->psw.base, b->psw.bound, b->psw.timer};
    for (int i = 0; i < 4; i++)
        if (av[i] != bv[i])
            add(l, "psw.%s: bare 0x%" PRIx32 ", vmm 0x%" PRIx32, names[i], av[i], bv[i]);
    size_t common = a->out_len < b->out_len ? a->out_len : b->out_len;
    if (cheap) {
        if (a->out_len != b->out_len)
            add(l, "output: bare %zu bytes, vmm %zu bytes", a->out_len, b->out_len);
    } else {
        size_t i = 0;
        while (i < common && a->out[i] == b->out[i]) i++;
        if (i < common) {
            char ca[24], cb[24];
            byte_text(a->out[i], ca, sizeof ca);
            byte_text(b->out[i], cb, sizeof cb);
            add(l, "output byte %zu: bare %s, vmm %s (bare %zu bytes, vmm %zu)", i, ca, cb,
                a->out_len, b->out_len);
        } else if (a->out_len != b->out_len) {
            add(l, "output: bare %zu bytes, vmm %zu bytes (the same up to byte %zu)", a->out_len,
                b->out_len, common);
        }
        size_t words = 0;
        for (size_t w = 0; w < a->memsize && w < b->memsize; w++) {
            if (a->mem[w] == b->mem[w]) continue;
            if (words++ < 4)
                add(l, "memory word 0x%06zx: bare 0x%08" PRIx32 ", vmm 0x%08" PRIx32, w, a->mem[w],
                    b->mem[w]);
        }
        if (words > 4) add(l, "... %zu memory words differ in all", words);
    }
    if (a->steps != b->steps)
        add(l, "steps: bare %" PRIu64 ", vmm %" PRIu64, a->steps, b->steps);
    return l->n + l->more - before;
}

static bool same(struct equiv *q, bool cheap)
{
    struct state a = bare_state(q->bare), b = virt_state(&q->x);
    struct lines l = {.n = 0};
    return differences(&a, &b, cheap, &l) == 0;
}

static void print_lines(const struct lines *l)
{
    for (size_t i = 0; i < l->n; i++) printf("  %s\n", l->text[i]);
    if (l->more) printf("  ... and %zu more\n", l->more);
}

/* ---- The report ------------------------------------------------------------------------ */

static const char *label_at(void *ctx, uint32_t address) { return asm_symbol_at(ctx, address); }

/* Describes step `step` (1-based): the bare machine's state before it is
 * the common state.  Leaves q->bare after the step. */
static bool describe_step(struct equiv *q, uint64_t step)
{
    if (!new_bare(q)) return false;
    machine_run(q->bare, step - 1);
    struct psw p = machine_psw(q->bare);
    uint32_t pa, w = 0;
    unsigned detail;
    bool fetched = machine_translate(q->bare, &p, p.pc, ACCESS_FETCH, &pa, &detail);
    if (fetched) w = machine_memory_const(q->bare)[pa];
    machine_run(q->bare, 1);
    const struct machine_trap *t = machine_last_trap(q->bare);
    bool interrupt = t && t->step == step - 1 && (t->cause == CAUSE_TIMER || t->cause == CAUSE_IO);
    printf("  step %" PRIu64 ", in %s mode: ", step, (p.flags & PSW_M) ? "supervisor" : "user");
    if (interrupt) {
        printf("the %s interrupt was taken before the instruction at 0x%06" PRIx32 "\n",
               t->cause == CAUSE_TIMER ? "timer" : "console", p.pc);
        return true;
    }
    printf("0x%06" PRIx32, p.pc);
    uint32_t off;
    const char *label = asm_symbol_near(&q->img, p.pc, &off);
    if (label && off == 0) printf(" <%s>", label);
    else if (label) printf(" <%s+%" PRIu32 ">", label, off);
    if (fetched) {
        char text[96];
        isa_disassemble(w, p.pc, label_at, (void *)&q->img, text, sizeof text);
        printf("  %s\n", text);
    } else {
        printf("  (the fetch faults)\n");
    }
    return true;
}

/* hi: a step count after which the two differ (both full runs ended by it). */
static int report_difference(struct equiv *q, uint64_t hi)
{
    /* Bisection: state(lo) is the same on both sides, state(hi) is not. */
    uint64_t lo = 0;
    if (!run_both(q, 0)) return CLI_EXIT_USAGE;
    if (!same(q, false)) hi = 0;
    while (hi > 0 && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (!run_both(q, mid)) return CLI_EXIT_USAGE;
        if (same(q, false)) lo = mid;
        else hi = mid;
    }
    /* Lockstep up to hi: an earlier difference that went away again. */
    if (hi > 1 && hi <= LOCKSTEP_LIMIT) {
        if (!new_bare(q) || !new_virt(q, q->o->max_steps)) return CLI_EXIT_USAGE;
        for (uint64_t k = 1; k < hi; k++) {
            machine_run(q->bare, 1);
            run_virt(&q->x, k);
            if (!same(q, true)) {
                hi = k;
                break;
            }
        }
    }
    printf("first difference after step %" PRIu64 ":\n", hi);
    if (hi > 0 && !describe_step(q, hi)) return CLI_EXIT_USAGE;
    if (!run_both(q, hi)) return CLI_EXIT_USAGE;
    struct state a = bare_state(q->bare), b = virt_state(&q->x);
    struct lines l = {.n = 0};
    differences(&a, &b, false, &l);
    print_lines(&l);

    a = bare_state(q->bare_end);
    b = virt_state(&q->x_end);
    printf("at the end: bare %s", machine_stop_name(a.stop));
    if (a.stop == MACHINE_HALT) printf(", status %" PRId32, (int32_t)a.regs[1]);
    printf(" after %" PRIu64 " steps; vmm %s", a.steps, machine_stop_name(b.stop));
    if (b.stop == MACHINE_HALT) printf(", status %" PRId32, (int32_t)b.regs[1]);
    printf(" after %" PRIu64 " steps\n", b.steps);
    struct lines end = {.n = 0};
    differences(&a, &b, false, &end);
    print_lines(&end);
    return 1;
}

int cmd_equiv(int argc, char **argv)
{
    struct run_options o;
    int rc = run_options_parse(
        &o, argc, argv,
        "Runs PROGRAM on the bare machine and under the C VMM (--vmm te unless\n"
        "given) or a stack of monitors (--stack, --depth), and compares registers,\n"
        "PSW, all memory, output, stop and status.\n"
        "Prints 'equivalent' (exit 0), or the first step after which the two differ,\n"
        "the instruction executed there and every difference (exit 1); 2 on bad input.",
        "PROGRAM");
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    if (o.nprograms != 1 || (o.vms && o.vms != 1) || o.out_dir || o.json) {
        fprintf(stderr, "trapeze equiv: expected one PROGRAM and no --vms, --out-dir or --json "
                        "(see trapeze equiv --help)\n");
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    if (!o.vmm) o.vmm_mode = VMM_TE;
    char under[128];
    if (o.stacked) {
        char spec[96];
        stack_spec_format(&o.stack, spec, sizeof spec);
        snprintf(under, sizeof under, "--stack %s", spec);
    } else {
        snprintf(under, sizeof under, "--vmm %s", vmm_mode_name(o.vmm_mode));
    }
    struct equiv q = {.o = &o};
    rc = CLI_EXIT_USAGE;
    const char *path = o.programs[0];
    if (asm_load_program(path, &q.img, stderr) != 0) {
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    q.bare_start = machine_create(o.mem, &o.variant);
    if (!q.bare_start) {
        fprintf(stderr, "trapeze equiv: cannot allocate %zu words of memory\n", o.mem);
        goto out;
    }
    if (!asm_image_place(&q.img, machine_memory(q.bare_start), o.mem, 0)) {
        fprintf(stderr, "%s: error: the program does not fit in %zu words of memory (--mem)\n",
                path, o.mem);
        goto out;
    }
    machine_reset(q.bare_start, q.img.entry);
    machine_feed_input(q.bare_start, o.input, o.input_len);

    if (!run_both(&q, o.max_steps)) {
        fprintf(stderr, "trapeze equiv: %s\n", q.err);
        goto out;
    }
    struct state a = bare_state(q.bare), b = virt_state(&q.x);
    if (same(&q, false)) {
        printf("equivalent: %s under %s (--isa %s): %s", path, under, o.variant.name,
               machine_stop_name(a.stop));
        if (a.stop == MACHINE_HALT) printf(", status %" PRId32, (int32_t)a.regs[1]);
        printf(" after %" PRIu64 " steps\n", a.steps);
        rc = CLI_EXIT_OK;
        goto out;
    }
    printf("not equivalent: %s under %s (--isa %s)\n", path, under, o.variant.name);
    unsigned gave_up_level;
    const char *gave_up;
    if (q.x.s && stack_vmm_error(q.x.s, &gave_up_level, &gave_up))
        printf("the asm VMM at level %u gave up: %s\n", gave_up_level, gave_up);
    /* When one side stopped first, the states differ at its last step. */
    q.bare_end = q.bare;
    q.x_end = q.x;
    q.bare = NULL;
    q.x = (struct virt){NULL, NULL};
    rc = report_difference(&q, a.steps < b.steps ? a.steps : b.steps);
out:
    machine_destroy(q.bare_end);
    virt_free(&q.x_end);
    machine_destroy(q.bare);
    machine_destroy(q.bare_start);
    virt_free(&q.x);
    asm_image_free(&q.img);
    run_options_free(&o);
    return rc;
}
