/*
 * grade_lab1.c: Lab 1, "Classify and decide" (labs/lab1-classify/README.md).
 *
 * The submission is answers.txt and two variant files.  answers.txt says,
 * for each system instruction that does not trap in user mode (exec or
 * silent), what check-isa finds it to be, and which theorems hold for the
 * built-in variants and the two files:
 *
 *   classify MNEMONIC exec|silent innocuous|critical|critical-user
 *   theorems VARIANT yes|no yes|no      (Theorem 1, Theorem 3; VARIANT a
 *                                        built-in name or one of the files)
 *   why ...                             (read by the instructor, not here)
 *
 * Everything is graded against check-isa's measured verdicts
 * (isa/check/check.h, its default seed, LAB1_STATES states); the hidden tests are
 * variants generated from the seed, whose theorems the student's table
 * must predict.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../isa/check/check.h"
#include "grade.h"

#define ANSWERS "answers.txt"
#define HYBRID_FILE "hybrid_only.var"
#define NEITHER_FILE "neither.var"
#define HIDDEN_VARIANTS 6
#define MAX_SYSTEM 16
/* check-isa's random states per instruction for every verdict here: its
 * verdicts on pg, hybrid, x86like and the uniform variants are the same
 * at 40, 60 and the default 600, and grading takes a tenth of the time.
 * The handout gives the command: check-isa --states 60 (seed 1). */
#define LAB1_STATES 60u

static const char *const lab1_files[] = {ANSWERS, HYBRID_FILE, NEITHER_FILE, NULL};

/* The verdicts a table entry can give (check_row_verdict's for a
 * non-trapping instruction). */
static const char *const verdicts[] = {"innocuous", "critical", "critical-user"};
#define NVERDICTS 3

enum { ACT_EXEC, ACT_SILENT, NACTIONS };
static const char *const action_names[NACTIONS] = {"exec", "silent"};

struct answers {
    size_t nsystem;
    const struct isa_op *system[MAX_SYSTEM];
    int verdict[MAX_SYSTEM][NACTIONS];   /* index into verdicts, -1: not given */
    struct stated {
        char variant[40];
        int t1, t3;                      /* 1 yes, 0 no, -1 not stated */
    } theorems[8];
    size_t ntheorems;
};

static int system_index(const struct answers *a, const char *mnemonic)
{
    for (size_t i = 0; i < a->nsystem; i++)
        if (strcmp(a->system[i]->mnemonic, mnemonic) == 0) return (int)i;
    return -1;
}

static int word_index(const char *const *words, size_t n, const char *w)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(words[i], w) == 0) return (int)i;
    return -1;
}

static int yes_no(const char *w) { return strcmp(w, "yes") == 0 ? 1 : strcmp(w, "no") == 0 ? 0 : -1; }

/* Parses answers.txt; false with "answers.txt:LINE: error: ..." in err. */
static bool parse_answers(const struct grade_file *f, struct answers *a, char err[GRADE_ERROR_SIZE])
{
    memset(a, 0, sizeof *a);
    /* ISA.md's ten: vmenter belongs to the hardware-assist extension, which
     * lab 1 does not classify. */
    const struct isa_op *op;
    for (size_t k = 0; a->nsystem < MAX_SYSTEM && (op = isa_op_with_flags(ISA_F_SYSTEM, k)); k++)
        if (op->opcode != ISA_VMENTER) a->system[a->nsystem++] = op;
    for (size_t i = 0; i < MAX_SYSTEM; i++) a->verdict[i][0] = a->verdict[i][1] = -1;
    const char *p = f->text;
    for (unsigned line = 1; *p; line++) {
        size_t len = strcspn(p, "\n");
        char buf[256];
        if (len >= sizeof buf) {
            snprintf(err, GRADE_ERROR_SIZE, "%.400s:%u: error: line longer than %zu characters",
                     f->path, line, sizeof buf - 1);
            return false;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        p += len + (p[len] == '\n');
        char *hash = strchr(buf, '#');
        if (hash) *hash = '\0';
        char *w[6];
        size_t nw = 0;
        for (char *save = NULL, *t = strtok_r(buf, " \t\r", &save); t && nw < 6;
             t = strtok_r(NULL, " \t\r", &save))
            w[nw++] = t;
        if (nw == 0 || strcmp(w[0], "why") == 0) continue;
        if (strcmp(w[0], "classify") == 0 && nw == 4) {
            int s = system_index(a, w[1]), act = word_index(action_names, NACTIONS, w[2]),
                v = word_index(verdicts, NVERDICTS, w[3]);
            if (s < 0 || act < 0 || v < 0) {
                snprintf(err, GRADE_ERROR_SIZE,
                         "%.400s:%u: error: expected 'classify SYSTEM-INSTRUCTION exec|silent "
                         "innocuous|critical|critical-user'", f->path, line);
                return false;
            }
            a->verdict[s][act] = v;
        } else if (strcmp(w[0], "theorems") == 0 && nw == 4 && yes_no(w[2]) >= 0 &&
                   yes_no(w[3]) >= 0 && strlen(w[1]) < sizeof a->theorems[0].variant) {
            if (a->ntheorems == sizeof a->theorems / sizeof a->theorems[0]) {
                snprintf(err, GRADE_ERROR_SIZE, "%.400s:%u: error: too many 'theorems' lines",
                         f->path, line);
                return false;
            }
            struct stated *st = &a->theorems[a->ntheorems++];
            snprintf(st->variant, sizeof st->variant, "%s", w[1]);
            st->t1 = yes_no(w[2]);
            st->t3 = yes_no(w[3]);
        } else {
            snprintf(err, GRADE_ERROR_SIZE,
                     "%.400s:%u: error: expected 'classify ...', 'theorems VARIANT yes|no yes|no' "
                     "or 'why ...'", f->path, line);
            return false;
        }
    }
    return true;
}

static const struct stated *stated_for(const struct answers *a, const char *variant)
{
    for (size_t i = a->ntheorems; i-- > 0;)
        if (strcmp(a->theorems[i].variant, variant) == 0) return &a->theorems[i];
    return NULL;
}

/* check-isa's verdicts for v (--states LAB1_STATES); counts the steps run. */
static bool classify(struct grade *g, const struct isa_variant *v, struct check_report *r,
                     char err[GRADE_ERROR_SIZE])
{
    struct check_options o = {.seed = CHECK_DEFAULT_SEED, .states = LAB1_STATES};
    if (!check_classify(v, &o, r)) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory classifying %s", v->name);
        return false;
    }
    for (size_t i = 0; i < r->nrows; i++)
        g->instructions += r->rows[i].user_states + r->rows[i].super_states;
    return true;
}

/* The witness line behind a row's verdict ("trapeze check-isa --replay"). */
static void witness_of(const struct check_row *row, char *buf, size_t size)
{
    const struct check_witness *w = row->w.user.found ? &row->w.user
                                    : row->w.control.found ? &row->w.control
                                                           : &row->w.priv;
    check_witness_format(w, buf, size);
}

static const char *yn(bool b) { return b ? "yes" : "no"; }

/* A variant of pg with every system instruction set to one action. */
static bool uniform_variant(const struct answers *a, const char *action, struct isa_variant *v)
{
    char text[1024];
    int n = snprintf(text, sizeof text, "variant all_%s\nbase pg\n", action);
    for (size_t i = 0; i < a->nsystem; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "user %s %s\n", a->system[i]->mnemonic, action);
    char err[ISA_ERROR_SIZE];
    return isa_variant_parse(text, "<grader>", v, err);
}

/* The table, one column at a time: one point an entry. */
static bool grade_table(struct grade *g, const struct answers *a, struct check_report measured[NACTIONS],
                        char err[GRADE_ERROR_SIZE])
{
    for (int act = 0; act < NACTIONS; act++) {
        struct isa_variant v;
        if (!uniform_variant(a, action_names[act], &v) || !classify(g, &v, &measured[act], err)) {
            if (act == ACT_SILENT) check_report_free(&measured[ACT_EXEC]);
            if (!err[0]) snprintf(err, GRADE_ERROR_SIZE, "cannot make the %s variant", action_names[act]);
            return false;
        }
        char name[96];
        snprintf(name, sizeof name, "classification: system instructions under '%s'", action_names[act]);
        struct grade_test *t = grade_add(g, name, "table", GRADE_VISIBLE, (double)a->nsystem);
        if (!t) continue;
        for (size_t i = 0; i < a->nsystem; i++) {
            const struct check_row *row = check_report_row(&measured[act], a->system[i]->mnemonic);
            const char *truth = check_row_verdict(row);
            int said = a->verdict[i][act];
            if (said >= 0 && strcmp(verdicts[said], truth) == 0) {
                t->score += 1;
                continue;
            }
            if (strlen(t->output) > 600) continue;
            char w[CHECK_TEXT_SIZE + 64];
            witness_of(row, w, sizeof w);
            grade_say(t, "%s %s: you said %s, check-isa measures %s (witness: %s). ",
                      a->system[i]->mnemonic, action_names[act], said >= 0 ? verdicts[said] : "nothing",
                      truth, w);
        }
    }
    return true;
}

/* Theorems 1 and 3 as the student's table predicts them for v. */
static void predict(const struct answers *a, const struct isa_variant *v, int *t1, int *t3)
{
    *t1 = *t3 = 1;
    for (size_t i = 0; i < a->nsystem; i++) {
        uint8_t act = v->user_action[a->system[i]->opcode];
        if (act == USER_TRAP) continue;
        int said = a->verdict[i][act == USER_EXEC ? ACT_EXEC : ACT_SILENT];
        if (said < 0) *t1 = *t3 = -1;
        if (said == 1 && *t1 >= 0) *t1 = 0;
        if (said == 2) *t1 = *t3 = 0;
    }
}

/* The theorems stated for a variant against the measured ones: 1 point. */
static void grade_theorems(struct grade *g, const struct answers *a, const char *label,
                           const struct isa_variant *v, const struct check_report *r, double points)
{
    char name[96];
    snprintf(name, sizeof name, "theorems of %s", label);
    struct grade_test *t = grade_add(g, name, "theorems", GRADE_VISIBLE, points);
    if (!t) return;
    const struct stated *st = stated_for(a, label);
    (void)v;
    if (st && st->t1 == (int)r->theorem1 && st->t3 == (int)r->theorem3) {
        t->score = points;
        return;
    }
    grade_say(t, "you said Theorem 1 %s, Theorem 3 %s; check-isa --isa %s --states %u measures %s, %s",
              st ? yn(st->t1 == 1) : "(nothing)", st ? yn(st->t3 == 1) : "(nothing)", label,
              LAB1_STATES, yn(r->theorem1), yn(r->theorem3));
}

static size_t non_trapping(const struct answers *a, const struct isa_variant *v)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nsystem; i++) n += v->user_action[a->system[i]->opcode] != USER_TRAP;
    return n;
}

/* One of the student's variant files: it must parse, meet its task, and
 * its stated theorems must be the measured ones. */
static bool grade_variant_file(struct grade *g, const struct answers *a, const char *file,
                               char err[GRADE_ERROR_SIZE])
{
    const struct grade_file *f = grade_file(g, file);
    struct isa_variant v;
    char verr[ISA_ERROR_SIZE];
    if (!isa_variant_parse(f->text, f->path, &v, verr)) {
        snprintf(err, GRADE_ERROR_SIZE, "%s", verr);
        return false;
    }
    struct check_report r;
    if (!classify(g, &v, &r, err)) return false;
    char name[96];
    snprintf(name, sizeof name, "%s meets its task", file);
    struct grade_test *t = grade_add(g, name, "variant", GRADE_VISIBLE, 2);
    bool hybrid_task = strcmp(file, HYBRID_FILE) == 0;
    if (t) {
        struct isa_variant builtin;
        char e2[ISA_ERROR_SIZE];
        bool same_as_hybrid = isa_variant_load("hybrid", &builtin, e2) &&
                              memcmp(builtin.user_action, v.user_action, sizeof v.user_action) == 0;
        bool met = hybrid_task ? !r.theorem1 && r.theorem3 && !same_as_hybrid
                               : !r.theorem3 && non_trapping(a, &v) == 1;
        if (met) t->score = 2;
        else if (hybrid_task)
            grade_say(t, "the task: Theorem 1 fails, Theorem 3 holds, not the built-in hybrid; "
                         "check-isa measures Theorem 1 %s, Theorem 3 %s%s", yn(r.theorem1),
                      yn(r.theorem3), same_as_hybrid ? ", and it is hybrid" : "");
        else
            grade_say(t, "the task: exactly one system instruction does not trap in user mode and "
                         "Theorem 3 fails; yours has %zu that do not trap, Theorem 3 %s",
                      non_trapping(a, &v), yn(r.theorem3));
    }
    grade_theorems(g, a, file, &v, &r, 1);
    check_report_free(&r);
    return true;
}

/* A hidden variant: each system instruction traps (3 in 5), executes or is
 * silent in user mode, drawn from the seed; every other one has no exec
 * (which always breaks Theorem 3), so that both theorems are at stake. */
static bool hidden_variant(uint64_t *state, const struct answers *a, unsigned k,
                           struct isa_variant *v, char *text, size_t size)
{
    int n = snprintf(text, size, "variant hidden%u\nbase pg\n", k);
    for (size_t i = 0; i < a->nsystem && n > 0 && (size_t)n < size; i++) {
        uint64_t x = grade_rand(state) % 10;
        const char *act = x < 6 ? "trap" : x < 8 && k % 2 ? "exec" : "silent";
        if (x >= 6) n += snprintf(text + n, size - (size_t)n, "user %s %s\n", a->system[i]->mnemonic, act);
    }
    char err[ISA_ERROR_SIZE];
    return isa_variant_parse(text, "<hidden>", v, err);
}

static bool grade_hidden(struct grade *g, const struct answers *a, char err[GRADE_ERROR_SIZE])
{
    uint64_t state = g->seed;
    for (unsigned k = 1; k <= HIDDEN_VARIANTS; k++) {
        struct isa_variant v;
        char text[512];
        if (!hidden_variant(&state, a, k, &v, text, sizeof text)) continue;
        struct check_report r;
        if (!classify(g, &v, &r, err)) return false;
        char name[96];
        snprintf(name, sizeof name, "hidden variant %u: your table predicts its theorems", k);
        struct grade_test *t = grade_add(g, name, "hidden", GRADE_AFTER_DUE_DATE, 1);
        int t1, t3;
        predict(a, &v, &t1, &t3);
        if (t && t1 == (int)r.theorem1 && t3 == (int)r.theorem3) {
            t->score = 1;
        } else if (t) {
            for (char *nl; (nl = strchr(text, '\n'));) *nl = ';';
            grade_say(t, "variant '%s': your table predicts Theorem 1 %s, Theorem 3 %s; measured %s, %s",
                      text, t1 < 0 ? "(an entry is missing)" : yn(t1), t3 < 0 ? "(missing)" : yn(t3),
                      yn(r.theorem1), yn(r.theorem3));
        }
        check_report_free(&r);
    }
    return true;
}

static bool run_lab1(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    err[0] = '\0';
    struct answers a;
    if (!parse_answers(grade_file(g, ANSWERS), &a, err)) return false;
    if (g->check_only) {
        struct isa_variant v;
        char verr[ISA_ERROR_SIZE];
        for (const char *const *file = (const char *const[]){HYBRID_FILE, NEITHER_FILE, NULL}; *file; file++) {
            const struct grade_file *f = grade_file(g, *file);
            if (!isa_variant_parse(f->text, f->path, &v, verr)) {
                snprintf(err, GRADE_ERROR_SIZE, "%s", verr);
                return false;
            }
        }
        return true;
    }
    struct check_report measured[NACTIONS];
    if (!grade_table(g, &a, measured, err)) return false;
    check_report_free(&measured[ACT_EXEC]);
    check_report_free(&measured[ACT_SILENT]);
    for (const char *const *name = isa_builtin_variant_names(); *name; name++) {
        struct isa_variant v;
        char verr[ISA_ERROR_SIZE];
        struct check_report r;
        if (!isa_variant_load(*name, &v, verr)) {
            snprintf(err, GRADE_ERROR_SIZE, "%s", verr);
            return false;
        }
        if (v.features) continue; /* x86vt: an extension lab 1 does not cover */
        if (!classify(g, &v, &r, err)) {
            if (!err[0]) snprintf(err, GRADE_ERROR_SIZE, "%s", verr);
            return false;
        }
        grade_theorems(g, &a, *name, &v, &r, 1);
        check_report_free(&r);
    }
    if (!grade_variant_file(g, &a, HYBRID_FILE, err) || !grade_variant_file(g, &a, NEITHER_FILE, err))
        return false;
    return grade_hidden(g, &a, err);
}

const struct grade_lab grade_lab_classify = {"lab1-classify", "Lab 1: Classify and decide",
                                             lab1_files, run_lab1};
