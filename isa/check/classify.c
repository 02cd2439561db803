/*
 * classify.c: which states each instruction is tried from, and the verdicts.
 *
 * For every instruction of isa.def (whatever its flags say) the checker
 * takes base states, first a systematic grid of edge cases, then seeded
 * random ones, and from each base state four partners that differ from it in
 * one aspect only:
 *
 *     base ──M flipped──────────> mode partner
 *          ──other location─────> location partner  (same virtual contents)
 *          ──IE flipped─────────> IE partner        (skipped if it would
 *          ──other timer value──> timer partner      take an interrupt)
 *
 * Each of the (up to) five states is run once; every run is a test of
 * privilege and of control sensitivity, and every pair a test of behaviour.
 */
#include "check_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *check_aspect_name(enum check_aspect a)
{
    switch (a) {
    case CHECK_MODE: return "mode";
    case CHECK_LOCATION: return "location";
    case CHECK_IE: return "ie";
    case CHECK_TIMER: return "timer";
    case CHECK_ASPECTS: break;
    }
    return "?";
}

/* ---- The states ------------------------------------------------------------ */

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = (*s += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint32_t below(uint64_t *rng, uint32_t n) { return (uint32_t)(next_random(rng) % n); }

/* Values where arithmetic, comparisons, addresses and flags change. */
static const uint32_t edge_values[] = {
    0, 1, 2, 3, 0xffffffffu, 0x80000000u, 0x7fffffffu, CHECK_VWORDS - 1, CHECK_VWORDS,
    0xfffffffeu, 0x41, PSW_IE | PSW_M, 0x10, 0x100,
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Timer values: off, about to fire, small, far, and anything. */
static uint32_t pick_timer(uint64_t *rng)
{
    static const uint32_t timers[] = {0, 1, 2, 3, 0x7fffffffu, 0xffffffffu};
    uint32_t k = below(rng, NELEM(timers) + 2);
    if (k < NELEM(timers)) return timers[k];
    return k == NELEM(timers) ? below(rng, 50) : (uint32_t)next_random(rng);
}

static uint32_t pick_value(uint64_t *rng)
{
    uint32_t k = below(rng, 10);
    if (k < 3) return below(rng, CHECK_VWORDS + 16); /* mostly valid addresses */
    if (k < 5) return edge_values[below(rng, NELEM(edge_values))];
    return (uint32_t)next_random(rng);
}

static uint32_t pick_imm16(uint64_t *rng)
{
    static const uint16_t imms[] = {0, 1, 2, 3, 4, 16, 17, 0xffff, 0xfffe, 0x7fff, 0x8000};
    uint32_t k = below(rng, 10);
    if (k < 3) return imms[below(rng, NELEM(imms))]; /* ports 0..2 and 16 among them */
    if (k < 6) return below(rng, CHECK_VWORDS);
    return below(rng, 0x10000);
}

static uint32_t make_insn(const struct isa_op *op, unsigned a, unsigned b, unsigned c,
                          uint32_t imm)
{
    switch ((enum isa_format)op->format) {
    case FMT_R: return isa_make_r(op->opcode, a, b, c);
    case FMT_I: return isa_make_i(op->opcode, a, b, imm);
    case FMT_J: return isa_make_j(op->opcode, imm);
    }
    return 0;
}

/* Makes a state that reaches its instruction: with IE on, nothing may be
 * pending (see check_state_valid). */
static void make_valid(struct check_state *s)
{
    if (s->ie) {
        s->tp = 0;
        if (s->ctrl && s->input) s->ctrl = 0;
    }
}

static void random_state(const struct isa_op *op, uint64_t *rng, struct check_state *s)
{
    memset(s, 0, sizeof *s);
    uint32_t imm = op->format == FMT_J
                       ? (below(rng, 2) ? below(rng, CHECK_VWORDS + 16) : below(rng, 1u << 24))
                       : pick_imm16(rng);
    s->insn = make_insn(op, below(rng, 16), below(rng, 16), below(rng, 16), imm);
    s->mode = (uint8_t)below(rng, 2);
    s->loc = (uint8_t)below(rng, CHECK_LOCATIONS);
    s->ie = (uint8_t)below(rng, 2);
    s->tp = below(rng, 6) == 0;
    s->timer = pick_timer(rng);
    s->input = (uint8_t)(below(rng, 2) ? below(rng, CHECK_MAX_INPUT + 1) : 0);
    s->ctrl = (uint8_t)below(rng, 2);
    uint32_t k = below(rng, 8);
    s->pc = k == 0 ? 0 : k == 1 ? CHECK_VWORDS - 1 : below(rng, CHECK_VWORDS);
    s->mem_seed = below(rng, 10) == 0 ? 0 : (uint32_t)next_random(rng) | 1u;
    for (unsigned r = 1; r < ISA_NREGS; r++) s->reg[r] = pick_value(rng);
    make_valid(s);
}

/* The systematic states: every combination of mode, location, IE, timer
 * (0, 1, far), console input and control, plus TP pending with IE off; the
 * operands cycle through edge cases. */
#define GRID_TIMERS 3
#define GRID_MAIN (2 * CHECK_LOCATIONS * 2 * GRID_TIMERS * 2 * 2)
#define GRID_SIZE (GRID_MAIN + 2 * CHECK_LOCATIONS * GRID_TIMERS)

static bool grid_state(const struct isa_op *op, unsigned g, struct check_state *s)
{
    static const uint32_t timers[GRID_TIMERS] = {0, 1, 0x7fffffffu};
    static const uint8_t fields[][3] = {{1, 2, 3}, {3, 1, 2}, {10, 0, 12},
                                        {2, 2, 0}, {0, 1, 2}, {15, 14, 13}};
    static const uint32_t imms[] = {0, 1, 2, 0xffff, 16, 0x20, 0x7fff, 0x8000, 3};
    static const uint32_t imm24s[] = {0x30, 0, CHECK_VWORDS - 1, CHECK_VWORDS, 0xffffff};
    static const uint32_t regs[ISA_NREGS] = {0,      1,     2,     0xffffffffu, 0x80000000u,
                                             0x7fffffffu, 0x30, 0x1ff, 0x200, 0,
                                             0x41,   3,     0x100, 0xfffffffeu, 0x1f0, 0x60};
    memset(s, 0, sizeof *s);
    unsigned k = g;
    if (g < GRID_MAIN) {
        s->mode = (uint8_t)(1 - k % 2), k /= 2;
        s->loc = (uint8_t)(k % CHECK_LOCATIONS), k /= CHECK_LOCATIONS;
        s->ie = (uint8_t)(k % 2), k /= 2;
        s->timer = timers[k % GRID_TIMERS], k /= GRID_TIMERS;
        s->input = (uint8_t)(k % 2), k /= 2;
        s->ctrl = (uint8_t)(k % 2);
        if (s->ie && s->input && s->ctrl) return false;
    } else {
        k -= GRID_MAIN;
        s->mode = (uint8_t)(1 - k % 2), k /= 2;
        s->loc = (uint8_t)(k % CHECK_LOCATIONS), k /= CHECK_LOCATIONS;
        s->timer = timers[k % GRID_TIMERS];
        s->tp = 1;
    }
    const uint8_t *f = fields[g % NELEM(fields)];
    uint32_t imm = op->format == FMT_J ? imm24s[g % NELEM(imm24s)] : imms[g % NELEM(imms)];
    s->insn = make_insn(op, f[0], f[1], f[2], imm);
    s->pc = g % 7 == 6 ? CHECK_VWORDS - 1 : 0x40;
    s->mem_seed = g % 2 ? 0x5eed : 0;
    memcpy(s->reg, regs, sizeof regs);
    return true;
}

/* The partner of s in one aspect; false when there is none that is valid. */
static bool partner(const struct check_state *s, enum check_aspect a, uint64_t *rng,
                    struct check_state *p)
{
    *p = *s;
    switch (a) {
    case CHECK_MODE: p->mode = !s->mode; break;
    case CHECK_LOCATION: p->loc = (uint8_t)((s->loc + 1 + below(rng, CHECK_LOCATIONS - 1)) % CHECK_LOCATIONS); break;
    case CHECK_IE: p->ie = !s->ie; break;
    case CHECK_TIMER:
        do p->timer = pick_timer(rng);
        while (p->timer == s->timer);
        break;
    case CHECK_ASPECTS: return false;
    }
    return check_state_valid(p);
}

/* ---- Verdicts ---------------------------------------------------------------- */

/* What one instruction's runs have shown so far. */
struct tally {
    struct check_witness priv_trap;  /* a user state that trapped PRIV */
    struct check_witness not_priv;   /* ... or one that did not         */
};

static void keep(struct check_witness *w, enum check_kind kind, enum check_aspect aspect,
                 const struct check_state *s1, const struct check_state *s2, const char *what)
{
    if (w->found) return;
    memset(w, 0, sizeof *w);
    w->found = true;
    w->kind = kind;
    w->aspect = aspect;
    w->s1 = *s1;
    if (s2) w->s2 = *s2;
    snprintf(w->what, sizeof w->what, "%s", what);
}

/* The user witness: any sensitivity from a user-mode state, but one that
 * keeps the mode (both states in user mode, or a control change) is
 * preferred to a mode pair: it is what a hybrid VMM, which runs virtual user
 * code in real user mode, would actually meet. */
static void keep_user(struct check_row *row, enum check_kind kind, enum check_aspect aspect,
                      const struct check_state *s1, const struct check_state *s2, const char *what)
{
    struct check_witness *w = &row->w.user;
    bool mode_pair = kind == CHECK_W_PAIR && aspect == CHECK_MODE;
    if (w->found && w->kind == CHECK_W_PAIR && w->aspect == CHECK_MODE && !mode_pair)
        w->found = false;
    keep(w, kind, aspect, s1, s2, what);
}

/* One run: a test of privilege and of control sensitivity. */
static void observe_run(struct check_row *row, struct tally *t, const struct check_state *s,
                        const struct check_outcome *o)
{
    char what[CHECK_TEXT_SIZE];
    bool priv_trap = check_trapped_priv(o);
    if (s->mode == 0) {
        row->user_states++;
        if (priv_trap) keep(&t->priv_trap, CHECK_W_PRIV, CHECK_MODE, s, NULL, "traps PRIV in user mode");
        else {
            size_t len = 0;
            what[0] = '\0';
            if (o->end == CHECK_END_TRAP)
                check_append(what, sizeof what, &len, "traps %s, not PRIV, in user mode",
                             isa_cause_name(o->cause));
            else check_append(what, sizeof what, &len, "executes in user mode without trapping");
            keep(&t->not_priv, CHECK_W_NOT_PRIV, CHECK_MODE, s, NULL, what);
        }
    } else {
        row->super_states++;
        if (priv_trap) keep(&t->not_priv, CHECK_W_NOT_PRIV, CHECK_MODE, s, NULL, "traps PRIV in supervisor mode");
    }

    unsigned ch = check_control_changes(s, o, what, sizeof what);
    if (!ch) return;
    row->control = true;
    keep(&row->w.control, CHECK_W_CONTROL, CHECK_MODE, s, NULL, what);
    if (s->mode == 0) keep_user(row, CHECK_W_CONTROL, CHECK_MODE, s, NULL, what);
    if (ch & CHANGE_TIMER) {
        row->timing = true;
        if (o->end == CHECK_END_TRAP) row->timing_in_trap = true;
        if (!row->w.timing.found) {
            keep(&row->w.timing, CHECK_W_CONTROL, CHECK_MODE, s, NULL, what);
            row->w.timing.timer_only = true;
        }
    }
}

/* One pair: a test of behaviour in one aspect. */
static void observe_pair(struct check_row *row, enum check_aspect a, const struct check_state *s1,
                         const struct check_outcome *o1, const struct check_state *s2,
                         const struct check_outcome *o2)
{
    /* A PRIV trap hands the instruction to the VMM: it is not behaviour. */
    if (check_trapped_priv(o1) || check_trapped_priv(o2)) return;
    row->pairs[a]++;
    char what[CHECK_TEXT_SIZE];
    if (!check_outcomes_differ(o1, o2, what, sizeof what)) return;
    row->behavior = true;
    row->aspects |= 1u << a;
    keep(&row->w.behavior[a], CHECK_W_PAIR, a, s1, s2, what);
    if (s1->mode == 0 || s2->mode == 0) keep_user(row, CHECK_W_PAIR, a, s1, s2, what);
    if (a == CHECK_TIMER) {
        row->timing = true;
        keep(&row->w.timing, CHECK_W_PAIR, a, s1, s2, what);
    }
}

/* Classifies one instruction into row; false when memory runs out. */
static bool classify_op(struct check_lab *lab, const struct isa_op *op,
                        const struct check_options *opt, struct check_row *row)
{
    memset(row, 0, sizeof *row);
    row->op = op;
    struct tally t;
    memset(&t, 0, sizeof t);
    uint64_t rng = opt->seed ^ (uint64_t)op->opcode * 0x9e3779b97f4a7c15ull;
    uint32_t img[CHECK_VWORDS];
    struct check_outcome *o = malloc(2 * sizeof *o);
    if (!o) return false;

    for (unsigned i = 0; i < GRID_SIZE + opt->states; i++) {
        struct check_state s, p;
        if (i < GRID_SIZE) {
            if (!grid_state(op, i, &s)) continue;
        } else {
            random_state(op, &rng, &s);
        }
        check_fill_image(&s, img); /* the partners share it */
        check_lab_run(lab, &s, img, &o[0]);
        observe_run(row, &t, &s, &o[0]);
        for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++) {
            if (!partner(&s, a, &rng, &p)) continue;
            check_lab_run(lab, &p, img, &o[1]);
            observe_run(row, &t, &p, &o[1]);
            observe_pair(row, a, &s, &o[0], &p, &o[1]);
        }
    }
    free(o);

    /* Simpler witnesses read better: shrink each one while it holds. */
    struct check_witness *all[] = {&t.priv_trap, &t.not_priv, &row->w.control, &row->w.user,
                                   &row->w.timing, &row->w.behavior[0], &row->w.behavior[1],
                                   &row->w.behavior[2], &row->w.behavior[3]};
    for (size_t i = 0; i < NELEM(all); i++)
        if (all[i]->found) check_witness_shrink(lab, all[i]);

    row->privileged = row->user_states > 0 && !t.not_priv.found;
    row->w.priv = row->privileged ? t.priv_trap : t.not_priv;
    bool sensitive = row->control || row->behavior;
    row->critical = sensitive && !row->privileged;
    row->user = row->w.user.found;
    row->user_critical = row->user && !row->privileged;
    row->timing_offender = row->timing && (!row->privileged || row->timing_in_trap);
    return true;
}

bool check_classify(const struct isa_variant *v, const struct check_options *o,
                    struct check_report *out)
{
    struct check_report r;
    memset(&r, 0, sizeof r);
    snprintf(r.variant, sizeof r.variant, "%s", v->name);
    r.options = *o;
    r.nrows = isa_op_count();
    r.rows = calloc(r.nrows, sizeof *r.rows);
    struct check_lab *lab = check_lab_new(v);
    if (!r.rows || !lab) {
        free(r.rows);
        check_lab_free(lab);
        return false;
    }
    for (size_t i = 0; i < r.nrows; i++)
        if (!classify_op(lab, &isa_ops()[i], o, &r.rows[i])) {
            check_lab_free(lab);
            check_report_free(&r);
            return false;
        }
    check_lab_free(lab);

    r.theorem1 = r.theorem2 = r.theorem3 = true;
    for (size_t i = 0; i < r.nrows; i++) {
        const struct check_row *row = &r.rows[i];
        if (row->critical) r.theorem1 = false;
        if (row->user_critical) r.theorem3 = false;
        if (row->timing_offender) r.theorem2 = false;
    }
    r.theorem2 = r.theorem2 && r.theorem1;
    *out = r;
    return true;
}

void check_report_free(struct check_report *r)
{
    free(r->rows);
    r->rows = NULL;
    r->nrows = 0;
}

const struct check_row *check_report_row(const struct check_report *r, const char *mnemonic)
{
    for (size_t i = 0; i < r->nrows; i++)
        if (strcmp(r->rows[i].op->mnemonic, mnemonic) == 0) return &r->rows[i];
    return NULL;
}

const char *check_row_verdict(const struct check_row *row)
{
    if (row->user_critical) return "critical-user";
    if (row->critical) return "critical";
    if (row->control || row->behavior) return "emulated";
    return row->privileged ? "privileged" : "innocuous";
}
