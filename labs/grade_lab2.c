/*
 * grade_lab2.c: Lab 2, "Trap and emulate" (labs/lab2-trap-and-emulate/README.md).
 *
 * The submission is vmm.s, the asm VMM with the student's interpreter
 * routines.  It runs as the asm level of --stack c,asm under every guest,
 * and each guest must be equivalent to its bare run (vmm/equiv/equiv.h):
 *
 *   smoke      programs of the tree, visible
 *   random     guests generated from the seed (system instructions in
 *              supervisor and user mode, timer interrupts), hidden
 *   attack     the resource-control attacks of tests/attacks, hidden
 *   efficiency the asm level's trap amplification on toyos against a
 *              target, with partial credit (as CS:APP's archlab scores CPE)
 *
 * The submission is data: its text is vetted (no .include but the
 * machine's constants), copied into a private folder beside the one file
 * it may include, and assembled there by Trapeze; it runs only inside the
 * simulated machine, under instruction budgets.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../assembler/asm.h"
#include "../vmm/equiv/equiv.h"
#include "grade.h"

#define VMM_FILE "vmm.s"
#define ALLOWED_INCLUDE "\"../lib/machine.inc\""
#define GUEST_MEM 0x10000u
#define GUEST_STEPS 300000u
#define RANDOM_GUESTS 8
#define RANDOM_BODY 60
/* Lab 3: the real instructions one run of a guest may take, all levels
 * together.  Its reference needs at most some 35 a guest step, and an
 * interpreter that never lets a budget stop find its guest whole
 * (yield_request ignored) is cut here rather than run for ever. */
#define LAB3_REAL_BUDGET (GUEST_STEPS * 400ull)
/* The asm level's trap amplification on toyos (machine instructions per
 * emulated guest instruction) that earns full marks; twice it earns none.
 * The reference measures 33.5 (labs/lab2-trap-and-emulate/README.md). */
#define AMPLIFICATION_TARGET 38.0
#define EFFICIENCY_POINTS 10.0
#define MAX_EFFICIENCY_LEVELS 3
/* Lab 3's target: the asm level's amplification on user_compute.s, the
 * reference's rounded up (labs/lab3-hybrid/README.md). */
#define LAB3_TARGET 400.0
/* Lab 6's targets, asm levels 1..3 at depth 3 (the reference, rounded up). */
#define LAB6_TARGETS 380.0, 150.0, 34.0

static const char *const lab2_files[] = {VMM_FILE, NULL};

/* An asm-VMM lab as data: the variant and stack the submission runs in,
 * its visible and hidden guests, and the efficiency budget.  Labs 2, 5
 * and 6 are rows of this one grader. */
struct asm_lab_spec {
    const char *file;                    /* the submission: "vmm.s"           */
    /* NULL, or a file of the tree's programs/ (embedded in trapeze) put
     * beside it, which it may include by its name: lab 3's vmm_hybrid.s
     * includes the given vmm.s */
    const char *beside;
    const char *variant;                 /* "pg"                              */
    const char *stack;                   /* run_spec_parse's: "c,asm"         */
    const char *const *smoke; size_t nsmoke;     /* visible, 2 points each   */
    const char *const *attacks; size_t nattacks; /* hidden, 1 point each     */
    unsigned random_guests;              /* hidden, from the seed, 2 each     */
    bool random_paging;                  /* ... which page (random_guest)     */
    const char *efficiency_guest;        /* one of smoke (its name says which) */
    /* its amplification at asm level 1, 2, ...: full marks; none from twice it */
    double amplification_target[MAX_EFFICIENCY_LEVELS];
    double efficiency_points;
    uint64_t real_budget;                /* a run's real instructions; 0: no bound */
};

static const char *const smoke_guests[] = {
    "programs/traps.s", "programs/timer.s", "programs/usermode.s", "programs/echo_irq.s",
    "programs/toyos/toyos.s",
};
#define TOYOS "programs/toyos/toyos.s"

/* Resource control: the guests of tests/attacks that do not depend on the
 * C VMM's shadow capacity, and the asm VMM's own attack. */
static const char *const attack_guests[] = {
    "tests/attacks/halt_early.s",      "tests/attacks/interrupts_off_forever.s",
    "tests/attacks/machine_check.s",   "tests/attacks/port_sweep.s",
    "tests/attacks/probe_the_host.s",  "tests/attacks/psw_forgery.s",
    "tests/attacks/relocation_overhang.s", "tests/attacks/timer_storm.s",
    "tests/attacks/trap_storm.s",      "tests/attacks/unhandled_trap.s",
    "tests/attacks/wild_addresses.s",  "programs/vmm/attack.s",
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

struct lab2 {
    struct grade *g;
    const struct asm_lab_spec *spec;
    char root[512];      /* the Trapeze tree the lab lives in           */
    struct grade_private priv; /* vmm/vmm.s, lib/machine.inc */
    char vmm_path[GRADE_PRIVATE_PATH];
    /* The submission assembled once for all its runs; NULL when it does
     * not assemble (each run then says why, from vmm_path). */
    struct asm_vmm *vmm;
};

/* The private folder: the submission as vmm/FILE beside lib/machine.inc
 * (and the spec's `beside`, vmm/NAME), the files it may include. */
static bool make_private_copy(struct lab2 *l, const struct grade_file *f, char err[GRADE_ERROR_SIZE])
{
    char rel[96];
    if (!grade_private_open(&l->priv, err) || !grade_private_write(&l->priv, "lib/machine.inc", NULL, 0, err))
        return false;
    if (l->spec->beside) {
        snprintf(rel, sizeof rel, "vmm/%s", strrchr(l->spec->beside, '/') + 1);
        if (!grade_private_write(&l->priv, rel, NULL, 0, err)) return false;
    }
    snprintf(rel, sizeof rel, "vmm/%s", l->spec->file);
    if (!grade_private_write(&l->priv, rel, f->text, f->len, err)) return false;
    grade_private_path(&l->priv, rel, l->vmm_path, sizeof l->vmm_path);
    return true;
}

/* Runs one guest bare and under c,asm with the submission; scores the
 * test when equivalent, else says where they first differ. */
static bool equiv_guest(struct lab2 *l, struct grade_test *t, const struct asm_image *img, size_t mem,
                        const uint8_t *input, size_t input_len, char err[GRADE_ERROR_SIZE])
{
    struct isa_variant pg;
    char verr[ISA_ERROR_SIZE];
    if (!isa_variant_load(l->spec->variant, &pg, verr)) {
        snprintf(err, GRADE_ERROR_SIZE, "%s", verr);
        return false;
    }
    struct equiv_config cfg = {.variant = &pg, .memsize = mem, .max_steps = GUEST_STEPS, .input = input,
                               .input_len = input_len, .program = img, .asm_vmm_path = l->vmm_path,
                               .asm_vmm = l->vmm, .max_real_steps = 8 * l->spec->real_budget};
    char serr[RUN_ERROR_SIZE];
    if (!run_spec_parse(l->spec->stack, &cfg.spec, serr)) {
        snprintf(err, GRADE_ERROR_SIZE, "%s", serr);
        return false;
    }
    /* A VMM that stalls (RUN_STALL_UNITS instructions without a guest
     * step) is told so from one run: equiv's bisection would repeat the
     * stall at every probe. */
    struct run_config rc = {.spec = cfg.spec, .variant = &pg, .memsize = mem, .nguests = 1,
                            .asm_vmm_path = l->vmm_path, .asm_vmm = l->vmm};
    const struct asm_image *programs[] = {img};
    struct run *r = run_create(&rc, programs, serr);
    if (r) {
        run_feed_input(r, 0, input, input_len);
        if (l->spec->real_budget) run_set_bounds(r, l->spec->real_budget, NULL);
        run_go(r, GUEST_STEPS);
        l->g->instructions += run_time(r);
        struct run_guest_state gs;
        run_guest_state(r, 0, &gs);
        bool stalled = run_stalled(r, 0), cut = run_cut_of(r) != RUN_CUT_NONE;
        run_destroy(r);
        if (cut) {
            grade_say(t, "your VMM ran %llu instructions and its guest made %llu steps of its %u: too slow, "
                         "or it never leaves its interpreter when a budget ends (pc 0x%x)",
                      (unsigned long long)l->spec->real_budget, (unsigned long long)gs.steps, GUEST_STEPS,
                      gs.psw.pc);
            return true;
        }
        if (stalled) {
            grade_say(t, "your VMM ran %llu instructions without a step of the guest, after guest "
                         "step %llu (pc 0x%x): it loops",
                      (unsigned long long)RUN_STALL_UNITS, (unsigned long long)gs.steps, gs.psw.pc);
            return true;
        }
    }
    struct equiv_report rep;
    if (!equiv_check(&cfg, &rep, serr)) {
        char named[RUN_ERROR_SIZE];
        grade_name_submission(l->vmm_path, grade_file(l->g, l->spec->file), serr, named, sizeof named);
        grade_say(t, "%s", named);
        return true;
    }
    l->g->instructions += rep.bare.steps + rep.virt.steps;
    if (rep.cut != RUN_CUT_NONE) {
        grade_say(t, "no verdict: your VMM's runs took more than %llu instructions in all",
                  (unsigned long long)cfg.max_real_steps);
        return true;
    }
    if (rep.equivalent) {
        t->score = t->max_score;
        return true;
    }
    if (rep.gave_up) grade_say(t, "your VMM gave up: %s. ", rep.gave_up_message);
    if (rep.first_step) grade_say(t, "first differs after guest step %llu: %s. ",
                                  (unsigned long long)rep.first_step, rep.step);
    else grade_say(t, "differs from the start. ");
    for (size_t i = 0; i < rep.at_step.n && i < 3; i++) grade_say(t, "%s; ", rep.at_step.text[i]);
    grade_say(t, "bare: %s status %u after %llu steps; yours: %s status %u after %llu steps",
              machine_stop_name(rep.bare.stop), rep.bare.status, (unsigned long long)rep.bare.steps,
              machine_stop_name(rep.virt.stop), rep.virt.status, (unsigned long long)rep.virt.steps);
    return true;
}

static bool load_tree_guest(const struct lab2 *l, const char *rel, struct asm_image *img,
                            char err[GRADE_ERROR_SIZE])
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", l->root, rel);
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *errors = open_memstream(&msg, &msg_len);
    int nerr = errors ? asm_load_program(path, img, errors) : -1;
    if (errors) fclose(errors);
    if (nerr != 0) {
        snprintf(err, GRADE_ERROR_SIZE, "the lab's guest %.300s: %.200s", path,
                 msg && *msg ? msg : "cannot load it");
        err[strcspn(err, "\n")] = '\0';
    }
    free(msg);
    return nerr == 0;
}

/* The input file beside a guest (programs/X.input), if any. */
static uint8_t *guest_input(const struct lab2 *l, const char *rel, size_t *len)
{
    char path[700];
    int n = snprintf(path, sizeof path, "%s/%s", l->root, rel);
    if (n < 2 || (size_t)n >= sizeof path) return NULL;
    snprintf(path + n - 2, sizeof path - (size_t)n + 2, ".input");
    FILE *in = fopen(path, "rb");
    if (!in) return NULL;
    uint8_t *buf = malloc(4096);
    *len = buf ? fread(buf, 1, 4096, in) : 0;
    fclose(in);
    return buf;
}

static bool grade_tree_guests(struct lab2 *l, const char *const *guests, size_t n, const char *kind,
                              enum grade_visibility vis, double points, char err[GRADE_ERROR_SIZE])
{
    for (size_t i = 0; i < n; i++) {
        char name[96];
        snprintf(name, sizeof name, "%s: %s", kind, guests[i]);
        struct grade_test *t = grade_add(l->g, name, kind, vis, points);
        struct asm_image img;
        if (!load_tree_guest(l, guests[i], &img, err)) return false;
        size_t len = 0;
        uint8_t *input = guest_input(l, guests[i], &len);
        bool ok = !t || equiv_guest(l, t, &img, GUEST_MEM, input, len, err);
        free(input);
        asm_image_free(&img);
        if (!ok) return false;
    }
    return true;
}

/* ---- Random guests ------------------------------------------------------------
 *
 * A guest of its own handler: it counts traps (halting at the 300th),
 * returns to supervisor mode on svc, skips an instruction that trapped
 * before completing, and otherwise returns where it was.  Its body is
 * RANDOM_BODY statements from the menu below, r1..r12 at random; r13 and
 * r14 are the handler's, r15 holds the memory size.
 *
 * A paging guest (lab 5) first maps its own pages to themselves and turns
 * paging on; its menu also changes entries of its table past those pages
 * (to frames past its own, some past memory, V and W at random), touches
 * those pages, and pages on again in either mode.  Each change is followed
 * by tlbflush, as ISA.md's rule asks (without it what a guest sees is
 * left open, and a lazy shadow may rightly differ from the bare run), and
 * no entry maps the guest's own frames twice, so no store through an
 * alias changes the table unflushed.  Its handler runs unpaged. */

#define PAGING_PAGES 64          /* entries of its table: 16K words virtual   */
#define PAGING_IDENTITY_PAGES 16 /* its code and data, mapped to themselves  */
#define M 1u                     /* PSW word 0 (machine.inc's M and PG)      */
#define PG 4u
#define PTE_V 1u
#define PTE_W 2u

#define EMIT(...) (n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, __VA_ARGS__))

static void random_guest(uint64_t *s, bool paging, char *buf, size_t size)
{
    int n = 0;
    EMIT("; a random guest of trapeze grade\n"
         "_start: li r1, 1\n st r1, 8(r0)\n la r1, handler\n st r1, 9(r0)\n"
         " srr r2, r15\n st r2, 10(r0)\n st r15, 11(r0)\n st r0, 12(r0)\n");
    if (paging) /* pages 0..15 (the guest's code and data) mapped to themselves, W */
        EMIT(" li r1, %u\n li r2, 0\n la r3, ptab\nmap: st r1, 0(r3)\n addi r1, r1, 256\n"
             " addi r3, r3, 1\n addi r2, r2, 1\n li r4, %u\n bne r2, r4, map\n"
             " li r1, %u\n st r1, upsw(r0)\n la r1, paged\n st r1, upsw+1(r0)\n"
             " la r1, ptab\n st r1, upsw+2(r0)\n li r1, %u\n st r1, upsw+3(r0)\n"
             " st r0, upsw+4(r0)\n lpsw upsw(r0)\npaged:\n",
             PTE_V | PTE_W, PAGING_IDENTITY_PAGES, M | PG, PAGING_PAGES);
    for (unsigned i = 0; i < RANDOM_BODY; i++) {
        unsigned a = 1 + (unsigned)(grade_rand(s) % 12), b = 1 + (unsigned)(grade_rand(s) % 12);
        unsigned k = (unsigned)(grade_rand(s) % 40);
        unsigned vpn = PAGING_IDENTITY_PAGES + (unsigned)(grade_rand(s) % (PAGING_PAGES - PAGING_IDENTITY_PAGES));
        switch (grade_rand(s) % (paging ? 18 : 14)) {
        case 0: EMIT(" rtmr r%u\n", a); break;
        case 1: EMIT(" pushf r%u\n", a); break;
        case 2: EMIT(" li r%u, %u\n popf r%u\n", a, k & 3 ? 2u : 0u, a); break;
        case 3: EMIT(" li r%u, %u\n stmr r%u\n", a, k + 1, a); break;
        case 4: EMIT(" srr r%u, r%u\n", a, b); break;
        case 5: EMIT(" li r%u, %u\n out r%u, 0\n", a, 'a' + k % 26, a); break;
        case 6: EMIT(" in r%u, 1\n", a); break;
        case 7: EMIT(" tlbflush\n"); break;
        case 8: EMIT(" addi r%u, r%u, %u\n", a, b, k); break;
        case 9: EMIT(" st r%u, data+%u(r0)\n ld r%u, data+%u(r0)\n", a, k, b, (k + 3) % 40); break;
        case 10: EMIT(" svc %u\n", k); break;
        case 11: /* into user mode, interrupts on or off, a timer set */
            EMIT(" li r%u, %u\n st r%u, upsw(r0)\n la r%u, u%u\n st r%u, upsw+1(r0)\n"
                 " st r0, upsw+2(r0)\n st r15, upsw+3(r0)\n li r%u, %u\n st r%u, upsw+4(r0)\n"
                 " lpsw upsw(r0)\nu%u:\n",
                 a, k & 1 ? 2u : 0u, a, a, i, a, a, k & 2 ? k + 5 : 0u, a, i);
            break;
        case 12: EMIT(" mul r%u, r%u, r%u\n", a, a, b); break;
        case 13: EMIT(" xor r%u, r%u, r%u\n", a, a, b); break;
        case 14: /* an entry changed: any frame, past memory too; V, W at random */
            EMIT(" li r%u, %u\n st r%u, ptab+%u(r0)\n tlbflush\n", a,
                 (PAGING_IDENTITY_PAGES + (unsigned)(grade_rand(s) % 0x60)) << 8 | (unsigned)(grade_rand(s) % 4),
                 a, vpn);
            break;
        case 15: EMIT(" li r%u, %u\n ld r%u, 0(r%u)\n", b, vpn << 8 | k, a, b); break;
        case 16: EMIT(" li r%u, %u\n st r%u, 0(r%u)\n", b, vpn << 8 | k, a, b); break;
        default: /* back into paging, supervisor or user, on the guest's table */
            EMIT(" li r%u, %u\n st r%u, upsw(r0)\n la r%u, p%u\n st r%u, upsw+1(r0)\n"
                 " la r%u, ptab\n st r%u, upsw+2(r0)\n li r%u, %u\n st r%u, upsw+3(r0)\n"
                 " st r0, upsw+4(r0)\n lpsw upsw(r0)\np%u:\n",
                 a, k & 1 ? M + PG : PG, a, a, i, a, a, a, a, PAGING_PAGES, a, i);
            break;
        }
    }
    EMIT(" svc 0\n halt\n"
         "handler: ld r13, count(r0)\n addi r13, r13, 1\n st r13, count(r0)\n"
         " li r14, 300\n bgeu r13, r14, stop\n"
         " ld r14, 5(r0)\n andi r14, r14, 0xff\n li r13, 5\n bne r14, r13, not_svc\n"
         " ld r13, 0(r0)\n ori r13, r13, 1\n st r13, 0(r0)\n lpsw 0(r0)\n"
         "not_svc: bgeu r14, r13, back\n ld r13, 1(r0)\n addi r13, r13, 1\n st r13, 1(r0)\n"
         "back: lpsw 0(r0)\n"
         "stop: halt\n"
         "count: .word 0\nupsw: .space 5\ndata: .space 48\n");
    if (paging) EMIT("ptab: .space %u\n", PAGING_PAGES);
}

static bool grade_random(struct lab2 *l, char err[GRADE_ERROR_SIZE])
{
    uint64_t state = l->g->seed ^ 0x2a2a2a2a2a2a2a2aull;
    char *src = malloc(32768);
    if (!src) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return false;
    }
    bool ok = true;
    for (unsigned k = 1; ok && k <= l->spec->random_guests; k++) {
        random_guest(&state, l->spec->random_paging, src, 32768);
        char name[96];
        snprintf(name, sizeof name, "random guest %u", k);
        struct grade_test *t = grade_add(l->g, name, "hidden,random", GRADE_AFTER_DUE_DATE, 2);
        struct asm_image img;
        if (asm_assemble_string(src, "<random guest>", &img, NULL) != 0) {
            snprintf(err, GRADE_ERROR_SIZE, "random guest %u does not assemble (a grader bug)", k);
            ok = false;
            break;
        }
        if (t) {
            /* Memory sizes vary, whole pages or not: a VMM that
             * hard-codes what srr answers cannot pass. */
            size_t mem = 0x3000 + (size_t)(grade_rand(&state) % 0x3000);
            ok = equiv_guest(l, t, &img, mem, NULL, 0, err);
            if (t->score < t->max_score)
                grade_say(t, " (the guest: trapeze grade --seed %llu regenerates it)",
                          (unsigned long long)l->g->seed);
        }
        asm_image_free(&img);
    }
    free(src);
    return ok;
}

/* ---- Efficiency ---------------------------------------------------------------
 *
 * One test for each asm level of the stack (lab 2 has one, lab 6 three):
 * its trap amplification on the efficiency guest against the spec's
 * target for that level, with partial credit. */

static bool grade_efficiency(struct lab2 *l, bool guest_equivalent, char err[GRADE_ERROR_SIZE])
{
    const struct asm_lab_spec *sp = l->spec;
    struct isa_variant pg;
    char verr[ISA_ERROR_SIZE], rerr[RUN_ERROR_SIZE];
    struct run_config cfg = {.variant = &pg, .memsize = GUEST_MEM, .nguests = 1, .asm_vmm_path = l->vmm_path,
                             .asm_vmm = l->vmm};
    if (!isa_variant_load(sp->variant, &pg, verr) || !run_spec_parse(sp->stack, &cfg.spec, rerr)) {
        snprintf(err, GRADE_ERROR_SIZE, "the lab's spec: %s %s", sp->variant, sp->stack);
        return false;
    }
    struct grade_test *tests[RUN_MAX_MONITORS] = {0};
    for (unsigned level = 1; level < cfg.spec.n && level <= MAX_EFFICIENCY_LEVELS; level++) {
        char name[96];
        const char *guest = strrchr(sp->efficiency_guest, '/') + 1;
        int len = (int)strcspn(guest, ".");
        if (cfg.spec.n == 2) snprintf(name, sizeof name, "efficiency: trap amplification on %.*s", len, guest);
        else snprintf(name, sizeof name, "efficiency: trap amplification of level %u on %.*s", level, len, guest);
        tests[level] = grade_add(l->g, name, "efficiency", GRADE_VISIBLE, sp->efficiency_points);
        if (tests[level] && !guest_equivalent)
            grade_say(tests[level], "%s must first run equivalently under your VMM", sp->efficiency_guest);
    }
    if (!guest_equivalent) return true;
    struct asm_image img;
    if (!load_tree_guest(l, sp->efficiency_guest, &img, err)) return false;
    const struct asm_image *programs[] = {&img};
    struct run *r = run_create(&cfg, programs, rerr);
    if (!r) {
        asm_image_free(&img);
        snprintf(err, GRADE_ERROR_SIZE, "cannot run %.300s for efficiency", sp->efficiency_guest);
        return false;
    }
    if (sp->real_budget) run_set_bounds(r, sp->real_budget, NULL);
    run_go(r, GUEST_STEPS);
    l->g->instructions += run_time(r);
    for (unsigned level = 1; level < cfg.spec.n && level <= MAX_EFFICIENCY_LEVELS; level++) {
        struct grade_test *t = tests[level];
        if (!t) continue;
        struct run_level_counts k;
        run_level_counts(r, 0, level, &k);
        /* Full marks up to the target, none from twice it, linear between. */
        double target = sp->amplification_target[level - 1];
        double a = k.amplification, frac = (2 * target - a) / target;
        frac = frac > 1 ? 1 : frac < 0 ? 0 : frac;
        t->score = sp->efficiency_points * frac;
        /* (a hybrid VMM's interpreted instructions are not the guest's
         * privileged ones: run_level_counts counts them apart) */
        grade_say(t, "your VMM spends %.1f instructions per emulated guest instruction (%llu for %llu); "
                     "target %.1f (full marks), none from %.1f",
                  a, (unsigned long long)k.instructions, (unsigned long long)(k.emulated - k.interpreted),
                  target, 2 * target);
    }
    run_destroy(r);
    asm_image_free(&img);
    return true;
}

/* The Trapeze tree the lab's folder is in (LAB/../..), holding its guests. */
static bool find_root(struct lab2 *l, char err[GRADE_ERROR_SIZE])
{
    snprintf(l->root, sizeof l->root, "%.480s/../..", l->g->lab_dir);
    char probe[600];
    snprintf(probe, sizeof probe, "%s/%s", l->root, TOYOS);
    if (access(probe, R_OK) != 0) {
        snprintf(err, GRADE_ERROR_SIZE,
                 "%.400s: error: the lab's folder must be labs/NAME of a Trapeze tree (no %s)",
                 l->g->lab_dir, TOYOS);
        return false;
    }
    return true;
}

/* Always true: a VMM that assembles but that the run refuses (a missing
 * export) is refused by each run, which names the test it fails. */
static bool share_vmm(struct lab2 *l)
{
    char err[RUN_ERROR_SIZE];
    l->vmm = run_load_asm_vmm(l->vmm_path, err);
    return true;
}

static bool run_asm_lab(struct grade *g, const struct asm_lab_spec *spec, char err[GRADE_ERROR_SIZE])
{
    struct lab2 *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return false;
    }
    l->g = g;
    l->spec = spec;
    const struct grade_file *f = grade_file(g, spec->file);
    char beside[96] = "";
    if (spec->beside) snprintf(beside, sizeof beside, "\"%s\"", strrchr(spec->beside, '/') + 1);
    const char *const allowed[] = {ALLOWED_INCLUDE, spec->beside ? beside : NULL, NULL};
    bool ok = find_root(l, err) && grade_vet_includes(f, allowed, err) && make_private_copy(l, f, err) &&
              grade_assemble(l->vmm_path, NULL, l->vmm_path, f, NULL, err) && share_vmm(l);
    if (ok && !g->check_only) {
        ok = grade_tree_guests(l, spec->smoke, spec->nsmoke, "smoke", GRADE_VISIBLE, 2, err);
        bool toyos_ok = false;
        for (size_t i = 0; ok && i < g->ntests; i++)
            if (strstr(g->tests[i].name, spec->efficiency_guest))
                toyos_ok = g->tests[i].score >= g->tests[i].max_score;
        ok = ok && grade_random(l, err) &&
             grade_tree_guests(l, spec->attacks, spec->nattacks, "attack", GRADE_AFTER_DUE_DATE, 1, err) &&
             grade_efficiency(l, toyos_ok, err);
    }
    run_release_asm_vmm(l->vmm);
    grade_private_remove(&l->priv);
    free(l);
    return ok;
}

/* ---- The labs: rows of the one grader ------------------------------------------ */

static const struct asm_lab_spec lab2_spec = {
    .file = VMM_FILE, .variant = "pg", .stack = "c,asm",
    .smoke = smoke_guests, .nsmoke = NELEMS(smoke_guests),
    .attacks = attack_guests, .nattacks = NELEMS(attack_guests),
    .random_guests = RANDOM_GUESTS, .efficiency_guest = TOYOS,
    .amplification_target = {AMPLIFICATION_TARGET}, .efficiency_points = EFFICIENCY_POINTS,
};

static bool run_lab2(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    return run_asm_lab(g, &lab2_spec, err);
}

const struct grade_lab grade_lab_trap_and_emulate = {"lab2-trap-and-emulate", "Lab 2: Trap and emulate",
                                                     lab2_files, run_lab2};

/* Lab 5, shadow page tables: the student writes `rebuild`.  Graded on the
 * paging programs and on the shadow attacks of tests/attacks (a shadow
 * entry reaching outside the guest differs from the bare run, where the
 * access faults). */
static const char *const lab5_smoke[] = {
    "programs/paging.s", "programs/toyos/toyos_paged.s",
};
static const char *const lab5_attacks[] = {
    "tests/attacks/shadow_foreign_frames.s", "tests/attacks/shadow_frames_past_memory.s",
    "tests/attacks/shadow_many_spaces.s",    "tests/attacks/shadow_partial_frame.s",
    "tests/attacks/shadow_past_capacity.s",  "tests/attacks/shadow_self_map.s",
    "tests/attacks/shadow_trap_area_table.s",
    "tests/attacks/forged_page_table.s",     "tests/attacks/wild_addresses.s",
};
static const struct asm_lab_spec lab5_spec = {
    .file = VMM_FILE, .variant = "pg", .stack = "c,asm",
    .smoke = lab5_smoke, .nsmoke = NELEMS(lab5_smoke),
    .attacks = lab5_attacks, .nattacks = NELEMS(lab5_attacks),
    .random_guests = 4, .random_paging = true, .efficiency_guest = "programs/toyos/toyos_paged.s",
    .amplification_target = {52.0}, .efficiency_points = 4, /* the reference: 51.6 */
};

static bool run_lab5(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    return run_asm_lab(g, &lab5_spec, err);
}

const struct grade_lab grade_lab_shadow = {"lab5-shadow-tables", "Lab 5: Shadow page tables", lab2_files,
                                           run_lab5};

/* Lab 6, recursion: the student's VMM hosts itself, three copies on the
 * C VMM; every guest must be equivalent at depth 3, and each copy's
 * amplification is scored (the reference's, measured: LAB6_TARGETS). */
static const char *const lab6_smoke[] = {
    "programs/traps.s", "programs/timer.s", "programs/usermode.s", "programs/toyos/toyos.s",
};
static const char *const lab6_attacks[] = {
    "tests/attacks/psw_forgery.s", "tests/attacks/trap_storm.s", "programs/vmm/attack.s",
};
static const struct asm_lab_spec lab6_spec = {
    .file = VMM_FILE, .variant = "pg", .stack = "c,asm,asm,asm",
    .smoke = lab6_smoke, .nsmoke = NELEMS(lab6_smoke),
    .attacks = lab6_attacks, .nattacks = NELEMS(lab6_attacks),
    .random_guests = 2, .efficiency_guest = TOYOS,
    .amplification_target = {LAB6_TARGETS}, .efficiency_points = 4,
};

static bool run_lab6(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    return run_asm_lab(g, &lab6_spec, err);
}

const struct grade_lab grade_lab_recursion = {"lab6-recursion", "Lab 6: Recursion", lab2_files, run_lab6};

/* Lab 3, the hybrid VMM: the student writes the interpreter of
 * vmm_hybrid.s (programs/vmm/vmm_hybrid.s, the reference), which includes
 * the given trap-and-emulate vmm.s, on the `hybrid` variant, where popf is
 * critical.  Graded on kernels that use popf, pushf and srr (critical.s,
 * the random guests' supervisor code), the attacks, and on the efficiency
 * of user_compute.s, a guest whose user mode does nearly all the work: a
 * VMM that interprets user mode too spends some thirty times the
 * reference's instructions per kernel system instruction, and earns none. */
static const char *const lab3_files[] = {"vmm_hybrid.s", NULL};
static const char *const lab3_smoke[] = {
    "programs/critical.s", "programs/timer.s", "programs/traps.s", "programs/usermode.s",
    "programs/echo_irq.s", "programs/toyos/toyos.s", "tests/guests/user_compute.s",
};
static const struct asm_lab_spec lab3_spec = {
    .file = "vmm_hybrid.s", .beside = "programs/vmm/vmm.s", .variant = "hybrid", .stack = "c,asm",
    .smoke = lab3_smoke, .nsmoke = NELEMS(lab3_smoke),
    .attacks = attack_guests, .nattacks = NELEMS(attack_guests),
    .random_guests = RANDOM_GUESTS, .efficiency_guest = "tests/guests/user_compute.s",
    .amplification_target = {LAB3_TARGET}, .efficiency_points = 6, .real_budget = LAB3_REAL_BUDGET,
};

static bool run_lab3(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    return run_asm_lab(g, &lab3_spec, err);
}

const struct grade_lab grade_lab_hybrid = {"lab3-hybrid", "Lab 3: The hybrid VMM", lab3_files, run_lab3};
