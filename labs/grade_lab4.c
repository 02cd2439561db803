/*
 * grade_lab4.c: Lab 4, "Paravirtualization on x86like" (labs/lab4-paravirt/README.md).
 *
 * The submission is toyos's paravirtual port: paravirt.inc (the macros
 * kernel.inc uses for what only a kernel may do, as hypercalls of --vmm pv
 * and the shared area) and pv_console.inc (the console's `out` as
 * PV_CONSOLE).  Each test is a toyos build, assembled twice from the
 * tree's kernel sources (as built into trapeze) in a fresh private folder:
 *
 *   expected  the native build (native.inc, console.inc) on bare x86like;
 *   yours     the paravirtual build with the submission's two files, under
 *             the C VMM in pv on x86like.
 *
 * A test passes when the console output (tick counts included), the way it
 * stops and its status are the same.  Visible: toyos_pv and toyos_pv_paged
 * as the tree builds them.  Hidden, from the seed: the forkwait builds with
 * a drawn fork count, and toyos with a drawn quantum, idle tick and set of
 * processes (written into kernel.inc, user.inc and forkwait.inc's text
 * before assembly, the same for both runs; recorded in each test's
 * extra_data.generated).  Efficiency: the kernel's hypercalls on the
 * visible builds, and its page tables written by PV_PTE_BATCH.
 */
#include <stdlib.h>
#include <string.h>

#include "../vmm/run/run.h"
#include "grade.h"

#define PARAVIRT_FILE "paravirt.inc"
#define CONSOLE_FILE "pv_console.inc"
#define SMOKE_POINTS 4.0
#define HIDDEN_POINTS 3.0
#define HYPERCALL_POINTS 4.0
#define PTE_POINTS 4.0
#define NPROC 7                    /* user.inc's processes */
#define PT_ENTRIES 16              /* the paged builds' entries a page table */
/* The reference's hypercalls but PV_CONSOLE (one a byte, whatever the
 * port) on the two visible builds: toyos_pv 97 (hello, shared, 94 PSW
 * loads, halt), toyos_pv_paged 102 (92 PSW loads and 7 PTE batches).
 * Full marks at it, none from twice it. */
#define KERNEL_HYPERCALLS_TARGET 199u
/* toyos_pv_paged builds NPROC page tables: one batch each at best. */
#define PTE_BATCHES_TARGET NPROC
#define PTE_PAIRS_TARGET (NPROC * PT_ENTRIES)
/* Native toyos halts within this whatever the settings drawn (forkwait's
 * 200 forks take 5.1 million steps); yours gets twice native's steps. */
#define NATIVE_STEPS 50000000u
#define DEFAULT_QUANTUM 400u       /* kernel.inc's */
#define DEFAULT_IDLE_TICK 200u
#define DEFAULT_FORKS 200u         /* forkwait.inc's */

static const char *const lab4_files[] = {PARAVIRT_FILE, CONSOLE_FILE, NULL};

struct build {
    const char *native, *pv;       /* programs/toyos/NAME.s */
    bool forkwait;                 /* forkwait.inc's one process, not user.inc's */
};

static const struct build toyos = {"toyos", "toyos_pv", false};
static const struct build toyos_paged = {"toyos_paged", "toyos_pv_paged", false};
static const struct build forkwait = {"toyos_forkwait", "toyos_forkwait_pv", true};
static const struct build forkwait_paged = {"toyos_forkwait_paged", "toyos_forkwait_paged_pv", true};

/* user.inc's programs: entry and name labels, p_X and n_X. */
static const char *const program_names[] = {"count", "primes", "sleeper", "yielder", "wild", "scribble"};
#define NPROGRAMS (sizeof program_names / sizeof program_names[0])

/* What a test's kernel is built with. */
struct settings {
    unsigned quantum, idle_tick, forks;
    bool drawn_programs;           /* else user.inc's own table */
    unsigned programs[NPROC];      /* indexes into program_names */
};

struct outcome {
    bool created;                  /* false: run_create refused it (why) */
    char why[RUN_ERROR_SIZE];
    char refusal[RUN_ERROR_SIZE];  /* the pv VMM's, "" for none */
    enum machine_stop stop;
    uint32_t status;
    uint64_t steps;
    uint8_t *output;
    size_t output_len;
    uint64_t calls[PV_HCALL_COUNT];
    uint64_t pte_pairs;
};

struct lab4 {
    struct grade *g;
    /* Over the visible builds, when both pass. */
    uint64_t kernel_calls, pte_batches, pte_pairs;
    bool smoke_passed;
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

/* ---- The kernel's sources, with the test's settings ------------------------------ */

/* text with the number after the first `key` replaced by value; NULL
 * (message in err) when key is not there. */
static char *with_number(const char *text, const char *name, const char *key, unsigned value,
                         char err[GRADE_ERROR_SIZE])
{
    const char *at = strstr(text, key);
    if (!at) {
        snprintf(err, GRADE_ERROR_SIZE, "programs/toyos/%s has no '%s' any more: update labs/grade_lab4.c",
                 name, key);
        return NULL;
    }
    const char *rest = at + strlen(key);
    while (*rest >= '0' && *rest <= '9') rest++;
    size_t size = strlen(text) + 24;
    char *out = malloc(size);
    if (!out) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return NULL;
    }
    snprintf(out, size, "%.*s%s%u%s", (int)(at - text), text, key, value, rest);
    return out;
}

/* Replaces *text by with_number's; false when it fails. */
static bool set_number(char **text, const char *name, const char *key, unsigned value, char err[GRADE_ERROR_SIZE])
{
    char *next = with_number(*text, name, key, value, err);
    free(*text);
    *text = next;
    return next != NULL;
}

/* user.inc with its `programs:` table replaced by the drawn one. */
static bool set_programs(char **text, const struct settings *s, char err[GRADE_ERROR_SIZE])
{
    const char *table = strstr(*text, "\nprograms:\n"), *names = table ? strstr(table, "\nn_count:") : NULL;
    if (!names) {
        snprintf(err, GRADE_ERROR_SIZE,
                 "programs/toyos/user.inc has no 'programs:' table before 'n_count:': update labs/grade_lab4.c");
        return false;
    }
    size_t size = strlen(*text) + NPROC * 64;
    char *out = malloc(size);
    if (!out) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return false;
    }
    int n = snprintf(out, size, "%.*s\nprograms:\n", (int)(table - *text), *text);
    for (unsigned i = 0; i < NPROC; i++)
        n += snprintf(out + n, size - (size_t)n, "        .word p_%s-U, n_%s\n", program_names[s->programs[i]],
                      program_names[s->programs[i]]);
    snprintf(out + n, size - (size_t)n, "%s", names + 1);
    free(*text);
    *text = out;
    return true;
}

/* The tree's programs/toyos/NAME as built into trapeze, malloc'd. */
static char *tree_source(const char *name, char err[GRADE_ERROR_SIZE])
{
    char path[96];
    snprintf(path, sizeof path, "programs/toyos/%s", name);
    const char *text = asm_embedded_source(path);
    char *copy = text ? strdup(text) : NULL;
    if (!copy) snprintf(err, GRADE_ERROR_SIZE, "%s is not built into trapeze (or out of memory)", path);
    return copy;
}

static void describe(const struct build *b, const struct settings *s, char *out, size_t size)
{
    int n = snprintf(out, size, "build=%s quantum=%u idle_tick=%u", b->pv, s->quantum, s->idle_tick);
    if (b->forkwait) snprintf(out + n, size - (size_t)n, " forks=%u", s->forks);
    else if (s->drawn_programs) {
        n += snprintf(out + n, size - (size_t)n, " programs=");
        for (unsigned i = 0; i < NPROC && (size_t)n < size; i++)
            n += snprintf(out + n, size - (size_t)n, "%s%s", i ? "," : "", program_names[s->programs[i]]);
    }
}

/* ---- The private folder ---------------------------------------------------------- */

/* lib/ and toyos/ as the tree has them, with the submission's two files in
 * place of the reference's and the test's settings in the kernel's text. */
static bool fill_private(struct lab4 *l, struct grade_private *p, const struct settings *s,
                         char err[GRADE_ERROR_SIZE])
{
    static const char *const tree_files[] = {
        "lib/machine.inc", "lib/pv.inc",       "lib/console.inc",  "lib/console_routines.inc",
        "toyos/native.inc", "toyos/nofork.inc", "toyos/fork.inc",   "toyos/reloc.inc",
        "toyos/paged.inc",  "toyos/nodisk.inc", "toyos/count.inc",  "toyos/lines.inc",
    };
    const struct grade_file *paravirt = grade_file(l->g, PARAVIRT_FILE), *console = grade_file(l->g, CONSOLE_FILE);
    if (!grade_private_open(p, err)) return false;
    for (size_t i = 0; i < NELEMS(tree_files); i++)
        if (!grade_private_write(p, tree_files[i], NULL, 0, err)) return false;
    if (!grade_private_write(p, "toyos/" PARAVIRT_FILE, paravirt->text, paravirt->len, err) ||
        !grade_private_write(p, "lib/" CONSOLE_FILE, console->text, console->len, err))
        return false;
    char *kernel = tree_source("kernel.inc", err), *user = kernel ? tree_source("user.inc", err) : NULL,
         *fork = user ? tree_source("forkwait.inc", err) : NULL;
    bool ok = fork && set_number(&kernel, "kernel.inc", ".equ QUANTUM, ", s->quantum, err) &&
              set_number(&kernel, "kernel.inc", ".equ IDLE_TICK, ", s->idle_tick, err) &&
              set_number(&fork, "forkwait.inc", ".equ FORKS, ", s->forks, err) &&
              set_number(&fork, "forkwait.inc", "\"forkwait: ", s->forks, err) &&
              (!s->drawn_programs || set_programs(&user, s, err)) &&
              grade_private_write(p, "toyos/kernel.inc", kernel, strlen(kernel), err) &&
              grade_private_write(p, "toyos/user.inc", user, strlen(user), err) &&
              grade_private_write(p, "toyos/forkwait.inc", fork, strlen(fork), err);
    free(kernel);
    free(user);
    free(fork);
    return ok;
}

/* Assembles programs/toyos/NAME.s (its banner's tick as the quantum) as if
 * it were the private folder's toyos/NAME.s; failures name the
 * submission's files. */
static bool assemble_build(struct lab4 *l, const struct grade_private *p, const char *name,
                           const struct settings *s, struct asm_image *img, char err[GRADE_ERROR_SIZE])
{
    char file[64], path[GRADE_PRIVATE_PATH], paravirt[GRADE_PRIVATE_PATH], console[GRADE_PRIVATE_PATH],
        console_as_included[GRADE_PRIVATE_PATH];
    snprintf(file, sizeof file, "%s.s", name);
    char *text = tree_source(file, err);
    if (!text || !set_number(&text, file, "a tick every ", s->quantum, err)) {
        free(text);
        return false;
    }
    snprintf(file, sizeof file, "toyos/%s.s", name);
    grade_private_path(p, file, path, sizeof path);
    grade_private_path(p, "toyos/" PARAVIRT_FILE, paravirt, sizeof paravirt);
    grade_private_path(p, "lib/" CONSOLE_FILE, console, sizeof console);
    /* as the assembler names it: the builds include "../lib/pv_console.inc" */
    grade_private_path(p, "toyos/../lib/" CONSOLE_FILE, console_as_included, sizeof console_as_included);
    const struct grade_copy copies[] = {
        {paravirt, grade_file(l->g, PARAVIRT_FILE)},
        {console_as_included, grade_file(l->g, CONSOLE_FILE)},
        {console, grade_file(l->g, CONSOLE_FILE)},
    };
    bool ok = grade_assemble_copies(path, text, copies, NELEMS(copies), img, err);
    free(text);
    return ok;
}

/* ---- Running one ------------------------------------------------------------------ */

static bool run_build(struct lab4 *l, const struct asm_image *img, bool pv, uint64_t budget, struct outcome *o,
                      char err[GRADE_ERROR_SIZE])
{
    memset(o, 0, sizeof *o);
    struct isa_variant x86like;
    char verr[ISA_ERROR_SIZE];
    struct run_config rc = {.variant = &x86like, .memsize = ISA_DEFAULT_MEMSIZE, .nguests = 1};
    if (!isa_variant_load("x86like", &x86like, verr)) {
        snprintf(err, GRADE_ERROR_SIZE, "the lab's machine: %s", verr);
        return false;
    }
    if (!run_spec_parse(pv ? "c" : "bare", &rc.spec, o->why)) {
        snprintf(err, GRADE_ERROR_SIZE, "the lab's machine: %s", o->why);
        return false;
    }
    if (pv) rc.spec.mode = VMM_PV;
    const struct asm_image *programs[] = {img};
    struct run *r = run_create(&rc, programs, o->why);
    if (!r) return true;
    o->created = true;
    run_go(r, budget);
    l->g->instructions += run_time(r);
    struct run_guest_state gs;
    run_guest_state(r, 0, &gs);
    o->stop = gs.stop;
    o->status = gs.regs[1];
    o->steps = gs.steps;
    const char *refusal = run_vmm_refusal(r, 0);
    if (refusal) snprintf(o->refusal, sizeof o->refusal, "%s", refusal);
    const uint64_t *calls = run_pv_calls(r, 0);
    if (calls) memcpy(o->calls, calls, sizeof o->calls);
    o->pte_pairs = run_pv_pte_pairs(r, 0);
    o->output = malloc(gs.output_len + 1);
    if (o->output) {
        memcpy(o->output, gs.output, gs.output_len);
        o->output_len = gs.output_len;
    }
    run_destroy(r);
    if (!o->output) snprintf(err, GRADE_ERROR_SIZE, "out of memory");
    return o->output != NULL;
}

/* Says how yours differs from expected; true when it does not. */
static bool compare(struct grade_test *t, const struct outcome *want, const struct outcome *got)
{
    if (!got->created) {
        grade_say(t, "it cannot run: %s", got->why);
        return false;
    }
    if (got->refusal[0]) {
        grade_say(t, "the C VMM (pv) refused it (trapeze run exits 122): %s", got->refusal);
        if (got->output_len == 0) return false;
        grade_say(t, ". ");
    }
    if (grade_say_output_difference(t, want->output, want->output_len, got->output, got->output_len)) {
        if (got->stop == MACHINE_BUDGET) grade_say(t, " (it ran out of steps, at twice native's)");
        return false;
    }
    if (got->stop != want->stop || got->status != want->status) {
        grade_say(t, "it stopped by %s with status %u after the right output; native toyos stops by %s with "
                     "status %u",
                  machine_stop_name(got->stop), got->status, machine_stop_name(want->stop), want->status);
        return false;
    }
    return !got->refusal[0];
}

static uint64_t kernel_calls(const struct outcome *o)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < PV_HCALL_COUNT; c++)
        if (c != PV_HCALL_CONSOLE - PV_HCALL_FIRST) n += o->calls[c];
    return n;
}

/* One build with settings s: native bare against yours under pv. */
static bool grade_build(struct lab4 *l, const char *name, const char *tags, enum grade_visibility vis,
                        double points, const struct build *b, const struct settings *s, bool *passed,
                        struct outcome *got, char err[GRADE_ERROR_SIZE])
{
    *passed = false;
    memset(got, 0, sizeof *got);
    struct grade_test *t = grade_add(l->g, name, tags, vis, points);
    if (!t) return true;
    describe(b, s, t->generated, sizeof t->generated);
    struct grade_private p;
    struct asm_image native, yours;
    bool ok = fill_private(l, &p, s, err) && assemble_build(l, &p, b->native, s, &native, err);
    struct outcome want = {0};
    if (ok) {
        ok = run_build(l, &native, false, NATIVE_STEPS, &want, err);
        asm_image_free(&native);
        if (ok && (!want.created || want.stop != MACHINE_HALT)) {
            snprintf(err, GRADE_ERROR_SIZE, "native %s (%s) does not halt (a grader bug)", b->native, t->generated);
            ok = false;
        }
    }
    if (ok && assemble_build(l, &p, b->pv, s, &yours, err)) {
        /* Twice the native steps: a kernel that loops is graded, not waited for. */
        ok = run_build(l, &yours, true, 2 * want.steps + 10000, got, err);
        asm_image_free(&yours);
        if (ok && compare(t, &want, got)) {
            t->score = t->max_score;
            *passed = true;
        } else if (ok && strstr(tags, "hidden")) {
            grade_say(t, " (%s; trapeze grade --seed %llu regenerates it)", t->generated,
                      (unsigned long long)l->g->seed);
        }
    } else {
        ok = false;
    }
    grade_private_remove(&p);
    free(want.output);
    return ok;
}

/* ---- The lab ---------------------------------------------------------------------- */

static void draw(uint64_t *state, struct settings *s, bool programs)
{
    s->quantum = 150 + (unsigned)(grade_rand(state) % 751);   /* 150 .. 900 */
    s->idle_tick = 50 + (unsigned)(grade_rand(state) % 351);  /* 50 .. 400 */
    s->forks = 20 + (unsigned)(grade_rand(state) % 61);       /* 20 .. 80 */
    s->drawn_programs = programs;
    for (unsigned i = 0; i < NPROC; i++) s->programs[i] = (unsigned)(grade_rand(state) % NPROGRAMS);
}

/* Linear: full marks at or below target, none from twice it. */
static double below(uint64_t n, uint64_t target)
{
    double frac = (2.0 * (double)target - (double)n) / (double)target;
    return frac > 1 ? 1 : frac < 0 ? 0 : frac;
}

static void grade_efficiency(struct lab4 *l)
{
    struct grade_test *t = grade_add(l->g, "efficiency: the kernel's hypercalls", "efficiency", GRADE_VISIBLE,
                                     HYPERCALL_POINTS);
    struct grade_test *u = grade_add(l->g, "efficiency: page tables by PV_PTE_BATCH", "efficiency",
                                     GRADE_VISIBLE, PTE_POINTS);
    if (!t || !u) return;
    if (!l->smoke_passed) {
        grade_say(t, "both smoke tests must pass first");
        grade_say(u, "both smoke tests must pass first");
        return;
    }
    t->score = HYPERCALL_POINTS * below(l->kernel_calls, KERNEL_HYPERCALLS_TARGET);
    grade_say(t, "your kernel made %llu hypercalls but PV_CONSOLE on toyos_pv and toyos_pv_paged; %u or fewer "
                 "earn full marks, none from %u",
              (unsigned long long)l->kernel_calls, KERNEL_HYPERCALLS_TARGET, 2 * KERNEL_HYPERCALLS_TARGET);
    double pairs = (double)(l->pte_pairs < PTE_PAIRS_TARGET ? l->pte_pairs : PTE_PAIRS_TARGET) / PTE_PAIRS_TARGET;
    u->score = PTE_POINTS * pairs * below(l->pte_batches, PTE_BATCHES_TARGET);
    grade_say(u, "toyos_pv_paged builds %u page tables of %u entries: your PV_PTE_BATCH calls applied %llu of "
                 "the %u entries (the others were plain stores, which a PV kernel must not make) in %llu "
                 "batches; %u or fewer earn full marks, none from %u",
              NPROC, PT_ENTRIES, (unsigned long long)l->pte_pairs, PTE_PAIRS_TARGET,
              (unsigned long long)l->pte_batches, PTE_BATCHES_TARGET, 2 * PTE_BATCHES_TARGET);
}

static bool vet(const struct grade *g, char err[GRADE_ERROR_SIZE])
{
    static const char *const paravirt[] = {"\"../lib/pv.inc\"", "\"../lib/machine.inc\"", NULL};
    static const char *const console[] = {"\"console_routines.inc\"", "\"pv.inc\"", NULL};
    return grade_vet_includes(grade_file(g, PARAVIRT_FILE), paravirt, err) &&
           grade_vet_includes(grade_file(g, CONSOLE_FILE), console, err);
}

/* --check: the paravirtual builds assembled with the tree's settings. */
static bool check_builds(struct lab4 *l, const struct settings *tree, char err[GRADE_ERROR_SIZE])
{
    const struct build *builds[] = {&toyos, &toyos_paged, &forkwait, &forkwait_paged};
    bool ok = true;
    for (size_t i = 0; ok && i < NELEMS(builds); i++) {
        struct grade_private p;
        struct asm_image img;
        ok = fill_private(l, &p, tree, err) && assemble_build(l, &p, builds[i]->pv, tree, &img, err);
        if (ok) asm_image_free(&img);
        grade_private_remove(&p);
    }
    return ok;
}

static bool run_lab4(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    if (!vet(g, err)) return false;
    struct lab4 l = {.g = g, .smoke_passed = true};
    const struct settings tree = {DEFAULT_QUANTUM, DEFAULT_IDLE_TICK, DEFAULT_FORKS, false, {0}};
    if (g->check_only) return check_builds(&l, &tree, err);
    struct outcome got;
    bool passed, ok = true;
    const struct build *smoke[] = {&toyos, &toyos_paged};
    for (size_t i = 0; ok && i < NELEMS(smoke); i++) {
        char name[64];
        snprintf(name, sizeof name, "smoke: %s", smoke[i]->pv);
        ok = grade_build(&l, name, "smoke", GRADE_VISIBLE, SMOKE_POINTS, smoke[i], &tree, &passed, &got, err);
        l.smoke_passed = l.smoke_passed && passed;
        l.kernel_calls += kernel_calls(&got);
        if (smoke[i] == &toyos_paged) {
            l.pte_batches = got.calls[PV_HCALL_PTE_BATCH - PV_HCALL_FIRST];
            l.pte_pairs = got.pte_pairs;
        }
        free(got.output);
    }
    /* Hidden: each forkwait build, then toyos twice in each build, from the seed. */
    uint64_t state = g->seed ^ 0x9a7a4125a7a4125aull;
    const struct build *hidden[] = {&forkwait, &forkwait_paged, &toyos, &toyos_paged, &toyos, &toyos_paged};
    for (size_t i = 0; ok && i < NELEMS(hidden); i++) {
        struct settings s;
        draw(&state, &s, !hidden[i]->forkwait);
        char name[64];
        snprintf(name, sizeof name, "hidden %zu: %s", i + 1, hidden[i]->pv);
        ok = grade_build(&l, name, "hidden,random", GRADE_AFTER_DUE_DATE, HIDDEN_POINTS, hidden[i], &s, &passed,
                         &got, err);
        free(got.output);
    }
    if (ok) grade_efficiency(&l);
    return ok;
}

const struct grade_lab grade_lab_paravirt = {"lab4-paravirt", "Lab 4: paravirtualization on x86like", lab4_files,
                                             run_lab4};
