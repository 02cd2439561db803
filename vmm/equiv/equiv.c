/* equiv.c: the equivalence check (equiv.h). */
#include "equiv.h"

#include "../run/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

/* The check under way: the latest run of each side, and the real work of
 * the runs before them. */
struct check {
    const struct equiv_config *cfg;
    struct run *bare, *virt;
    char *err;
    uint64_t spent;
    enum run_cut cut; /* a run was cut: stop */
    const struct run_medium *disks;
    unsigned ndisks;
};

/* What q's runs have spent in all, the latest ones included. */
static uint64_t spent(const struct check *q)
{
    return q->spent + (q->bare ? run_time(q->bare) : 0) + (q->virt ? run_time(q->virt) : 0);
}

static struct run *new_side(struct check *q, const struct run_spec *spec, bool virtualized)
{
    struct run_config rc = {*spec, q->cfg->variant, q->cfg->memsize, 1, q->cfg->asm_vmm_path,
                            q->cfg->asm_vmm};
    const struct asm_image *programs[1] = {q->cfg->program};
    struct run *r = run_create(&rc, programs, q->err);
    if (r && virtualized && q->cfg->io_given &&
        !run_set_io_model(r, q->cfg->io_model, q->cfg->iommu, q->err)) {
        run_destroy(r);
        r = NULL;
    }
    for (unsigned k = 0; r && k < q->ndisks; k++)
        if (!run_attach_disk(r, k, q->disks[k].words, q->disks[k].sectors, q->err)) {
            run_destroy(r);
            r = NULL;
        }
    if (r) run_feed_input(r, 0, q->cfg->input, q->cfg->input_len);
    return r;
}

/* Both sides made afresh, at their first step. */
static bool fresh(struct check *q)
{
    q->spent = spent(q);
    run_destroy(q->bare);
    run_destroy(q->virt);
    q->bare = q->virt = NULL;
    /* pv's reference is the PV machine, its hypercalls served, every
     * instruction interpreted: the bare machine has no hypercalls. */
    const bool pv = q->cfg->spec.n > 0 && q->cfg->spec.kind[0] == RUN_MONITOR_C && q->cfg->spec.mode == VMM_PV;
    const struct run_spec bare = pv ? (struct run_spec){.n = 1, .kind = {RUN_MONITOR_C}, .mode = VMM_PV,
                                                        .pv_reference = true}
                                    : (struct run_spec){.n = 0, .mode = VMM_TE};
    q->bare = new_side(q, &bare, false);
    q->virt = q->bare ? new_side(q, &q->cfg->spec, true) : NULL;
    return q->bare && q->virt;
}

/* Runs side r on to `steps` steps within what is left of the budget;
 * false (q->cut set) when it was cut. */
static bool go(struct check *q, struct run *r, uint64_t steps)
{
    const uint64_t max = q->cfg->max_real_steps;
    if (q->cut != RUN_CUT_NONE) return false;
    if (max && spent(q) >= max) {
        q->cut = RUN_CUT_REAL_BUDGET;
        return false;
    }
    /* The budget left, as a bound on r's own clock. */
    run_set_bounds(r, max ? run_time(r) + (max - spent(q)) : 0, q->cfg->interrupt);
    run_go(r, steps);
    q->cut = run_cut_of(r);
    return q->cut == RUN_CUT_NONE;
}

/* Both sides from the start for `steps` steps; false when they cannot be
 * made or a bound cut them (q->cut). */
static bool run_both(struct check *q, uint64_t steps)
{
    return fresh(q) && go(q, q->bare, steps) && go(q, q->virt, steps);
}

static void add(struct equiv_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct equiv_lines *l, const char *fmt, ...)
{
    if (l->n == EQUIV_MAX_LINES) {
        l->more++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->text[l->n++], EQUIV_LINE_SIZE, fmt, ap);
    va_end(ap);
}

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

static const char *stop_word(enum machine_stop s)
{
    return s == MACHINE_BUDGET ? "running" : machine_stop_name(s);
}

/* The final contents of the units: the first few words that differ. */
static void disk_differences(const struct run_guest_state *a, const struct run_guest_state *b,
                             struct equiv_lines *l)
{
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) {
        if (a->disk_sectors[k] != b->disk_sectors[k]) {
            add(l, "disk unit %u: bare %" PRIu32 " sectors, vmm %" PRIu32, k, a->disk_sectors[k],
                b->disk_sectors[k]);
            continue;
        }
        size_t words = 0;
        for (size_t w = 0; w < (size_t)a->disk_sectors[k] * ISA_SECTOR_WORDS; w++) {
            if (a->disk[k][w] == b->disk[k][w]) continue;
            if (words++ < 4)
                add(l, "disk unit %u sector %zu word %zu: bare 0x%08" PRIx32 ", vmm 0x%08" PRIx32, k,
                    w / ISA_SECTOR_WORDS, w % ISA_SECTOR_WORDS, a->disk[k][w], b->disk[k][w]);
        }
        if (words > 4) add(l, "... %zu words of disk unit %u differ in all", words, k);
    }
}

/* Lists every difference between a (bare) and b (virtualized).  With
 * cheap, only registers, PSW, output length and stop (the lockstep). */
static size_t differences(const struct run_guest_state *a, const struct run_guest_state *b, bool cheap,
                          struct equiv_lines *l)
{
    size_t before = l->n + l->more;
    if (a->stop != b->stop) add(l, "stop: bare %s, vmm %s", stop_word(a->stop), stop_word(b->stop));
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
        if (av[i] != bv[i]) add(l, "psw.%s: bare 0x%" PRIx32 ", vmm 0x%" PRIx32, names[i], av[i], bv[i]);
    size_t common = a->output_len < b->output_len ? a->output_len : b->output_len;
    if (cheap) {
        if (a->output_len != b->output_len)
            add(l, "output: bare %zu bytes, vmm %zu bytes", a->output_len, b->output_len);
    } else {
        size_t i = 0;
        while (i < common && a->output[i] == b->output[i]) i++;
        if (i < common) {
            char ca[24], cb[24];
            byte_text(a->output[i], ca, sizeof ca);
            byte_text(b->output[i], cb, sizeof cb);
            add(l, "output byte %zu: bare %s, vmm %s (bare %zu bytes, vmm %zu)", i, ca, cb,
                a->output_len, b->output_len);
        } else if (a->output_len != b->output_len) {
            add(l, "output: bare %zu bytes, vmm %zu bytes (the same up to byte %zu)", a->output_len,
                b->output_len, common);
        }
        size_t words = 0;
        const size_t n = a->memsize < b->memsize ? a->memsize : b->memsize;
        for (size_t w = 0; w < n; w++) {
            /* Pages neither side ever wrote are 0 on both. */
            const size_t wa = machine_next_written(a->machine, w), wb = machine_next_written(b->machine, w);
            w = wa < wb ? wa : wb;
            if (w >= n) break;
            if (a->mem[w] == b->mem[w]) continue;
            if (words++ < 4)
                add(l, "memory word 0x%06zx: bare 0x%08" PRIx32 ", vmm 0x%08" PRIx32, w, a->mem[w],
                    b->mem[w]);
        }
        if (words > 4) add(l, "... %zu memory words differ in all", words);
        disk_differences(a, b, l);
    }
    if (a->steps != b->steps) add(l, "steps: bare %" PRIu64 ", vmm %" PRIu64, a->steps, b->steps);
    return l->n + l->more - before;
}

static bool same(const struct check *q, bool cheap)
{
    struct run_guest_state a, b;
    run_guest_state(q->bare, 0, &a);
    run_guest_state(q->virt, 0, &b);
    struct equiv_lines l = {.n = 0};
    return differences(&a, &b, cheap, &l) == 0;
}

static struct equiv_end end_of(const struct run *r)
{
    struct run_guest_state s;
    run_guest_state(r, 0, &s);
    return (struct equiv_end){.stop = s.stop, .status = s.regs[1], .steps = s.steps,
                              .disk_reads = s.disk_reads, .disk_writes = s.disk_writes,
                              .disk_errors = s.disk_errors};
}

/* Describes step `step` (1-based) of the bare side, from whose state before
 * it both sides started the same. */
static bool describe_step(struct check *q, uint64_t step, char *buf, size_t size)
{
    if (!fresh(q) || !go(q, q->bare, step - 1)) return false;
    struct run_level_view v;
    run_level_view(q->bare, 0, 0, &v);
    const struct psw p = v.psw;
    uint32_t pa, w = 0;
    const bool fetched = run_translate(q->bare, 0, 0, p.pc, &pa, NULL);
    if (fetched) w = run_machine_memory(q->bare, 0, 0, NULL)[pa];
    if (!go(q, q->bare, step)) return false;
    const struct machine_trap *t = machine_last_trap(run_real_machine(q->bare));
    const bool interrupt = t && t->step == step - 1 && (t->cause == CAUSE_TIMER || t->cause == CAUSE_IO);
    const char *mode = (p.flags & PSW_M) ? "supervisor" : "user";
    if (interrupt) {
        snprintf(buf, size, "step %" PRIu64 ", in %s mode: the %s interrupt was taken before the "
                 "instruction at 0x%06" PRIx32, step, mode,
                 t->cause == CAUSE_TIMER ? "timer" : t->value == PORT_CONSOLE_IN ? "console" : "disk", p.pc);
        return true;
    }
    char place[96], text[96] = "(the fetch faults)";
    run_describe_place(q->bare, 0, 0, p.pc, fetched, pa, place, sizeof place);
    if (fetched) isa_disassemble(w, p.pc, NULL, NULL, text, sizeof text);
    snprintf(buf, size, "step %" PRIu64 ", in %s mode: %s  %s", step, mode, place, text);
    return true;
}

/* hi: the steps of the side that stopped first (both sides differ at the
 * end, which may be one step later: the step it could not take). */
static bool find_first(struct check *q, uint64_t hi, struct equiv_report *out)
{
    out->bisect_lo = 0, out->first_step = hi + 1; /* known so far, if the next run is cut */
    if (!run_both(q, hi)) return false;
    if (same(q, false)) hi++;
    /* Bisection: the state after lo steps is the same on both sides, after hi it is not. */
    uint64_t lo = 0;
    if (!run_both(q, 0)) return false;
    if (!same(q, false)) hi = 0;
    out->first_step = hi;
    while (hi > 0 && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (!run_both(q, mid)) return false;
        if (same(q, false)) lo = mid;
        else hi = mid;
        out->bisect_lo = lo, out->first_step = hi; /* what is known, if the next run is cut */
    }
    /* Lockstep up to hi: an earlier difference that went away again. */
    if (hi > 1 && hi <= EQUIV_LOCKSTEP_LIMIT) {
        if (!fresh(q)) return false;
        for (uint64_t k = 1; k < hi; k++) {
            if (!go(q, q->bare, k) || !go(q, q->virt, k)) return false;
            if (!same(q, true)) {
                hi = k;
                break;
            }
        }
    }
    out->first_step = hi;
    if (hi > 0 && !describe_step(q, hi, out->step, sizeof out->step)) return false;
    if (!run_both(q, hi)) return false;
    struct run_guest_state a, b;
    run_guest_state(q->bare, 0, &a);
    run_guest_state(q->virt, 0, &b);
    differences(&a, &b, false, &out->at_step);
    return true;
}

/* The bare side's first use of a changed page-table entry, if any, in words. */
static void note_pte_rule(const struct run *bare, struct equiv_report *out)
{
    const struct machine *m = run_real_machine(bare);
    out->pte_rule_broken = machine_pte_rule_broken(m, &out->pte_use);
    if (!out->pte_rule_broken) return;
    out->pte_uses = machine_stats(m)->stale_pte_uses;
    const struct machine_pte_use *u = &out->pte_use;
    snprintf(out->pte_rule, sizeof out->pte_rule,
             "relied on a changed page-table entry without tlbflush at step %" PRIu64 " (pc 0x%06" PRIx32
             ", PTE at 0x%06" PRIx32 " changed 0x%08" PRIx32 " -> 0x%08" PRIx32 ")",
             u->step + 1, u->pc, u->pte_pa, u->old_value, u->new_value);
}

bool equiv_check(const struct equiv_config *cfg, struct equiv_report *out, char err[RUN_ERROR_SIZE])
{
    return equiv_check_disks(cfg, NULL, 0, out, err);
}

bool equiv_check_disks(const struct equiv_config *cfg, const struct run_medium *disks, unsigned ndisks,
                       struct equiv_report *out, char err[RUN_ERROR_SIZE])
{
    *out = (struct equiv_report){0};
    struct check q = {cfg, NULL, NULL, err, 0, RUN_CUT_NONE, disks, ndisks};
    bool ok = false;
    if (!fresh(&q)) goto done;
    if (cfg->trace) run_set_hooks(q.virt, cfg->trace);
    if (!go(&q, q.bare, cfg->max_steps) || !go(&q, q.virt, cfg->max_steps)) {
        out->cut = q.cut; /* no verdict */
        ok = true;
        goto done;
    }
    run_set_hooks(q.virt, NULL);
    note_pte_rule(q.bare, out);
    out->bare = end_of(q.bare);
    out->virt = end_of(q.virt);
    const char *msg;
    if (run_monitor_error(q.virt, 0, &out->gave_up_level, &msg)) {
        out->gave_up = true;
        snprintf(out->gave_up_message, sizeof out->gave_up_message, "%s", msg);
    }
    const char *refusal = run_vmm_refusal(q.virt, 0);
    if (refusal) {
        /* Nothing ran to compare: the refusal is the verdict. */
        out->refused = true;
        snprintf(out->refusal, sizeof out->refusal, "%s", refusal);
        ok = true;
        goto done;
    }
    if (same(&q, false)) {
        out->equivalent = true;
        ok = true;
        goto done;
    }
    {
        struct run_guest_state a, b;
        run_guest_state(q.bare, 0, &a);
        run_guest_state(q.virt, 0, &b);
        differences(&a, &b, false, &out->at_end);
    }
    /* When one side stopped first, the states differ at its last step. */
    ok = find_first(&q, out->bare.steps < out->virt.steps ? out->bare.steps : out->virt.steps, out);
    if (q.cut != RUN_CUT_NONE) {
        out->cut = q.cut;
        out->cut_in_bisection = true;
        ok = true;
    }
    /* A use after the first difference cannot be its cause: a note then. */
    out->pte_explains = ok && out->pte_rule_broken && out->pte_use.step + 1 <= out->first_step;
done:
    out->real_steps = spent(&q);
    run_destroy(q.bare);
    run_destroy(q.virt);
    return ok;
}

static void print_lines(FILE *out, const struct equiv_lines *l)
{
    for (size_t i = 0; i < l->n; i++) fprintf(out, "  %s\n", l->text[i]);
    if (l->more) fprintf(out, "  ... and %zu more\n", l->more);
}

static void print_end(FILE *out, const char *side, const struct equiv_end *e)
{
    fprintf(out, "%s %s", side, machine_stop_name(e->stop));
    if (e->stop == MACHINE_HALT) fprintf(out, ", status %" PRId32, (int32_t)e->status);
    fprintf(out, " after %" PRIu64 " steps", e->steps);
}

/* The rule broken without explaining a difference: the program is still
 * not portable, and the reader should know. */
static void print_pte_note(FILE *out, const struct equiv_report *rep)
{
    if (!rep->pte_rule_broken || rep->pte_explains) return;
    fprintf(out, "note: the program %s%s; ISA.md lets a monitor run such a program differently\n",
            rep->pte_rule, rep->equivalent ? "" : ", after the first difference (so not its cause)");
}

void equiv_print(FILE *out, const struct equiv_report *rep, const char *what)
{
    if (rep->equivalent) {
        fprintf(out, "equivalent: %s: %s", what, machine_stop_name(rep->bare.stop));
        if (rep->bare.stop == MACHINE_HALT) fprintf(out, ", status %" PRId32, (int32_t)rep->bare.status);
        fprintf(out, " after %" PRIu64 " steps\n", rep->bare.steps);
        print_pte_note(out, rep);
        return;
    }
    fprintf(out, "not equivalent: %s\n", what);
    if (rep->refused) {
        fprintf(out, "the C VMM refused it: %s\n", rep->refusal);
        return;
    }
    if (rep->gave_up)
        fprintf(out, "the asm VMM at L%u gave up: %s\n", rep->gave_up_level, rep->gave_up_message);
    if (rep->pte_explains)
        fprintf(out, "why: the program %s; ISA.md lets a monitor run such a program differently\n",
                rep->pte_rule);
    fprintf(out, "first difference after step %" PRIu64 ":\n", rep->first_step);
    if (rep->first_step > 0) fprintf(out, "  %s\n", rep->step);
    print_lines(out, &rep->at_step);
    fprintf(out, "at the end: ");
    print_end(out, "bare", &rep->bare);
    fprintf(out, "; ");
    print_end(out, "vmm", &rep->virt);
    fputc('\n', out);
    print_lines(out, &rep->at_end);
    print_pte_note(out, rep);
}
