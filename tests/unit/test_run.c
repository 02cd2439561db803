/*
 * test_run.c: runs of a program on stacks of monitors (vmm/run/run.h) and
 * the asm VMM (programs/vmm/vmm.s) under them -- the old tests of
 * vmm/stack.h, on the one kind of run.
 *
 * The tests are differential: a program runs on a plain bare machine of
 * --mem words and as the program of a run, and everything it can see must
 * be the same: stop reason, registers, PSW, every word of memory, console
 * output, instruction, step and trap counts, its last trap.  The full
 * matrix of programs x depths is tests/e2e/soak_stack.sh; here each program
 * runs at a few depths and a small one at depth 4.
 *
 * Levels are numbered from the real machine up: L0 is the bottom monitor
 * (or the program, bare), the program is Ln.
 *
 * Dropped from the old file: "without_accounting" (every run accounts
 * now) and "vmm_source_is_found_from_the_executable_or_the_environment"
 * (the asm VMM is built into the binary; run_config.asm_vmm_path may name
 * another source, tested in test_run_image.c).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/run/log.h"
#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM
#define BIG_BUDGET TR_BIG_BUDGET

static struct run *make(const char *spec, const struct asm_image *img, size_t mem)
{
    return tr_run(spec, "pg", img, mem);
}

static bool same(const struct machine *m, enum machine_stop bstop, const struct run *r,
                 enum machine_stop rstop, char *why, size_t size)
{
    return tr_same_guest(m, bstop, r, 0, rstop, why, size);
}

/* ---- Specs ----------------------------------------------------------------------- */

Test(run, spec_parse_and_format)
{
    const char *good[] = {"c", "asm", "c,asm,asm", "ASM,Asm", "bare", ""};
    const unsigned n[] = {1, 1, 3, 2, 0, 0};
    const char *formatted[] = {"c", "asm", "c,asm,asm", "asm,asm", "bare", "bare"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct run_spec sp = tr_spec(good[i]);
        cr_assert_eq(sp.n, n[i], "%s", good[i]);
        cr_assert_eq(sp.mode, VMM_TE, "%s: the C VMM runs in te", good[i]);
        char buf[64];
        run_spec_format(&sp, buf, sizeof buf);
        cr_assert_str_eq(buf, formatted[i]);
    }
    struct run_spec sp = tr_spec("c,asm,asm");
    cr_assert_eq(sp.kind[0], RUN_MONITOR_C);
    cr_assert_eq(sp.kind[2], RUN_MONITOR_ASM);
    cr_assert_str_eq(run_monitor_name(RUN_MONITOR_C), "c");
    cr_assert_str_eq(run_monitor_name(RUN_MONITOR_ASM), "asm");

    const char *bad[] = {"x", "asm,c", "c,,asm", "asm,", ",asm", "asm asm",
                         "asm,asm,asm,asm,asm,asm,asm,asm,asm"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[RUN_ERROR_SIZE] = "";
        cr_assert_not(run_spec_parse(bad[i], &sp, err), "'%s' accepted", bad[i]);
        cr_assert(strstr(err, "bad stack") != NULL, "message for '%s': %s", bad[i], err);
        cr_assert_null(strchr(err, '\n'), "one line: %s", err);
    }
}

Test(run, depth_is_c_then_asm)
{
    char err[RUN_ERROR_SIZE], buf[64];
    struct run_spec sp;
    const char *want[] = {"bare", "c", "c,asm", "c,asm,asm", "c,asm,asm,asm"};
    for (unsigned d = 0; d <= 4; d++) {
        cr_assert(run_spec_depth(d, &sp, err));
        run_spec_format(&sp, buf, sizeof buf);
        cr_assert_str_eq(buf, want[d]);
    }
    cr_assert(run_spec_depth(RUN_MAX_MONITORS, &sp, err));
    cr_assert_not(run_spec_depth(RUN_MAX_MONITORS + 1, &sp, err));
    cr_assert(strstr(err, "bad depth") != NULL);
}

/* One asm VMM loaded for several runs: each holds a reference, so the
 * loader's may go first; the runs (and a clone) end as runs that loaded
 * their own, and a path given beside it is not read. */
Test(run, shared_asm_vmm)
{
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = tr_load_file("programs/hello.s");
    const struct asm_image *programs[1] = {&img};
    char err[RUN_ERROR_SIZE];
    struct asm_vmm *vmm = run_load_asm_vmm(NULL, err);
    cr_assert_not_null(vmm, "%s", err);
    cr_assert_null(run_load_asm_vmm("/nonexistent/vmm.s", err));
    cr_assert(strstr(err, "does not assemble") != NULL, "%s", err);

    struct run_config own = {tr_spec("c,asm,asm"), &pg, MEM, 1, NULL, NULL};
    struct run_config shared = own;
    shared.asm_vmm = vmm;
    shared.asm_vmm_path = "/nonexistent/vmm.s";
    struct run *a = run_create(&shared, programs, err), *b = run_create(&shared, programs, err);
    cr_assert(a && b, "%s", err);
    run_release_asm_vmm(vmm);
    struct run *c = run_clone(a), *mine = run_create(&own, programs, err);
    cr_assert(c && mine, "%s", err);
    run_destroy(a);
    struct run *rs[] = {b, c, mine};
    for (size_t i = 0; i < 3; i++) run_go(rs[i], TR_BIG_BUDGET);
    char why[256];
    cr_assert(tr_same_runs(mine, b, 0, why, sizeof why), "%s", why);
    cr_assert(tr_same_runs(mine, c, 0, why, sizeof why), "%s", why);
    for (size_t i = 0; i < 3; i++) run_destroy(rs[i]);
    asm_image_free(&img);
}

/* ---- Errors of run_create ----------------------------------------------------------- */

Test(run, create_errors)
{
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = tr_load_file("programs/hello.s");
    const struct asm_image *programs[1] = {&img};
    char err[RUN_ERROR_SIZE];

    struct run_config cfg = {tr_spec("asm"), &pg, MEM, 1, "/nonexistent/vmm.s", NULL};
    cr_assert_null(run_create(&cfg, programs, err));
    cr_assert(strstr(err, "does not assemble") != NULL, "%s", err);

    char path[] = "/tmp/trapeze_badvmm_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *text = "_start: halt\n"; /* assembles, but exports nothing */
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cfg.asm_vmm_path = path;
    cr_assert_null(run_create(&cfg, programs, err));
    cr_assert(strstr(err, "defines no 'GUEST_BASE'") != NULL, "%s", err);
    unlink(path);

    /* no asm level: the VMM's source is not even read */
    cfg.spec = tr_spec("c");
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_not_null(r, "%s", err);
    run_destroy(r);

    cfg.asm_vmm_path = NULL;
    cfg.spec.kind[0] = RUN_MONITOR_ASM;
    cfg.spec.kind[1] = RUN_MONITOR_C;
    cfg.spec.n = 2;
    cr_assert_null(run_create(&cfg, programs, err));
    cr_assert(strstr(err, "bottom level") != NULL, "%s", err);

    cfg.spec = tr_spec("c");
    cfg.spec.mode = VMM_MODE_COUNT;
    cr_assert_null(run_create(&cfg, programs, err), "a mode that does not exist");

    struct asm_image far = tr_load_text(".org 0x8000\n_start: halt\n");
    const struct asm_image *far_programs[1] = {&far};
    cfg.spec = tr_spec("c,asm");
    cfg.memsize = 0x1000;
    cr_assert_null(run_create(&cfg, far_programs, err));
    cr_assert(strstr(err, "does not fit") != NULL, "%s", err);
    cfg.spec = tr_spec("bare");
    cr_assert_null(run_create(&cfg, far_programs, err));
    cr_assert(strstr(err, "does not fit") != NULL, "%s", err);

    cfg.spec = tr_spec("c,asm");
    cfg.memsize = 4;
    cr_assert_null(run_create(&cfg, programs, err));
    cfg.memsize = MEM;
    cfg.variant = NULL;
    cr_assert_null(run_create(&cfg, programs, err));
    cfg.variant = &pg;
    cr_assert_null(run_create(&cfg, NULL, err));
    cr_assert_null(run_create(NULL, programs, err));
    asm_image_free(&far);
    asm_image_free(&img);
}

/* ---- Equivalence ------------------------------------------------------------------------- */

Test(run, hello_at_every_depth)
{
    char err[RUN_ERROR_SIZE], spec[64];
    for (unsigned d = 0; d <= 4; d++) {
        struct run_spec sp;
        cr_assert(run_spec_depth(d, &sp, err));
        run_spec_format(&sp, spec, sizeof spec);
        tr_check_equivalent("programs/hello.s", spec, MEM, BIG_BUDGET);
    }
    tr_check_equivalent("programs/hello.s", "asm,asm,asm", MEM, BIG_BUDGET);
}

Test(run, toyos_at_depth_4_and_on_three_asm_vmms)
{
    tr_check_equivalent("programs/toyos/toyos.s", "c,asm,asm,asm", MEM, BIG_BUDGET);
    tr_check_equivalent("programs/toyos/toyos.s", "asm,asm,asm", MEM, BIG_BUDGET);
    tr_check_equivalent("programs/toyos/toyos_paged.s", "c,asm,asm,asm", MEM, BIG_BUDGET);
    tr_check_equivalent("programs/toyos/toyos_paged.s", "asm,asm,asm", MEM, BIG_BUDGET);
}

/* Every example program under one asm VMM on the bare machine and under the
 * C VMM with an asm VMM on it. */
Test(run, example_programs_at_depth_1_and_2)
{
    const char *programs[] = {"hello", "fib", "sort", "traps", "usermode", "timer",
                              "paging", "critical", "echo", "echo_irq"};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "programs/%s.s", programs[i]);
        tr_check_equivalent(path, "c", MEM, BIG_BUDGET);
        tr_check_equivalent(path, "asm", MEM, BIG_BUDGET);
        tr_check_equivalent(path, "c,asm", MEM, BIG_BUDGET);
    }
}

/* The default memory size (a megaword) works the same. */
Test(run, default_memory_size)
{
    tr_check_equivalent("programs/traps.s", "asm,asm", ISA_DEFAULT_MEMSIZE, BIG_BUDGET);
}

/* A budget stops the program at the same step as the bare machine, even
 * when the step falls while a monitor handles one of its traps. */
Test(run, budget_stops_at_the_same_step)
{
    const uint64_t budgets[] = {0, 1, 2, 3, 17, 100, 999, 4321, 12345, 33333};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        tr_check_equivalent("programs/toyos/toyos.s", "asm,asm", MEM, budgets[i]);
        tr_check_equivalent("programs/toyos/toyos_paged.s", "c,asm", MEM, budgets[i]);
        tr_check_equivalent("programs/toyos/toyos_paged.s", "c", MEM, budgets[i]);
        tr_check_equivalent("programs/echo_irq.s", "asm", MEM, budgets[i]);
    }
}

/* Runs can be continued: several budgets in a row end where one would. */
Test(run, run_continues)
{
    struct asm_image img = tr_load_file("programs/timer.s");
    const char *specs[] = {"c,asm,asm", "asm", "c", "bare"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
        enum machine_stop bstop = machine_run(m, BIG_BUDGET);
        struct run *r = make(specs[k], &img, MEM);
        const unsigned n = run_program_level(r);
        enum machine_stop st = MACHINE_BUDGET;
        for (uint64_t b = 500; st == MACHINE_BUDGET; b += 777) {
            st = run_go(r, b);
            if (st != MACHINE_BUDGET) break;
            struct run_guest_state s;
            run_guest_state(r, 0, &s);
            cr_assert_eq(s.steps, b, "%s", specs[k]);
            cr_assert_eq(run_running_level(r, 0), n, "%s: a budget stop leaves the program's code next",
                         specs[k]);
            struct run_level_view v;
            run_level_view(r, 0, n, &v);
            cr_assert_eq(v.state, RUN_LEVEL_RUNNING, "%s", specs[k]);
            cr_assert_eq(run_go(r, b), MACHINE_BUDGET, "%s: the same budget again does nothing", specs[k]);
            run_guest_state(r, 0, &s);
            cr_assert_eq(s.steps, b, "%s", specs[k]);
        }
        char why[256];
        cr_assert(same(m, bstop, r, st, why, sizeof why), "%s: %s", specs[k], why);
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT, "a stopped program stays stopped");
        run_destroy(r);
        machine_destroy(m);
    }
    asm_image_free(&img);
}

/* ---- Stops: the program's machine stops, every machine below stops the same way ---- */

Test(run, unhandled_trap_and_machine_check)
{
    const char *unhandled = "_start: li r1, 5\n li r7, 77\n svc 3\n";
    const char *check =
        "_start: li r1, 1\n st r1, 8(r0)\n li r1, 0x7000\n st r1, 9(r0)\n"
        " li r1, 0x100\n st r1, 11(r0)\n li r9, 9\n hcall 2\n";
    const char *sources[] = {unhandled, check};
    const enum machine_stop stops[] = {MACHINE_UNHANDLED_TRAP, MACHINE_CHECK};
    const char *specs[] = {"bare", "c", "asm", "asm,asm", "c,asm,asm"};
    for (size_t i = 0; i < 2; i++) {
        struct asm_image img = tr_load_text(sources[i]);
        for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
            tr_check_equivalent_image(&img, sources[i], specs[k], "pg", MEM, 1000, NULL, 0);
            struct run *r = make(specs[k], &img, MEM);
            cr_assert_eq(run_go(r, 1000), stops[i], "%s", specs[k]);
            /* every level is stopped the same way, and no monitor gave up */
            for (unsigned L = 0; L < run_level_count(r); L++) {
                struct run_level_view v;
                run_level_view(r, 0, L, &v);
                cr_assert_eq(v.state, RUN_LEVEL_STOPPED, "%s L%u", specs[k], L);
                cr_assert_eq(v.stop, stops[i], "%s L%u", specs[k], L);
            }
            unsigned level;
            const char *msg;
            cr_assert_not(run_monitor_error(r, 0, &level, &msg));
            run_destroy(r);
        }
        asm_image_free(&img);
    }
}

/* A page table longer than the asm VMM's shadow table is the one thing it
 * cannot run: it stops and says so. */
Test(run, vmm_error_for_a_huge_page_table)
{
    /* the program touches page 0x1800: inside its table, beyond the shadow */
    struct asm_image img = tr_load_text(
        "_start: li r1, 4\n st r1, psw(r0)\n li r1, 0x180000\n lpsw psw(r0)\n"
        "psw: .word 0, 0x20, 0x400, 0x10000, 0\n"
        ".org 0x20\n ld r2, 0(r1)\n halt\n"
        ".org 0x400\n .word 1\n");
    const char *specs[] = {"asm,asm", "c,asm"};
    for (size_t k = 0; k < 2; k++) {
        struct run *r = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(r, 1000), MACHINE_UNHANDLED_TRAP, "%s", specs[k]);
        unsigned level = 99;
        const char *msg = NULL;
        cr_assert(run_monitor_error(r, 0, &level, &msg), "%s", specs[k]);
        cr_assert_eq(level, 1, "%s: the program's monitor gave up", specs[k]);
        cr_assert(strstr(msg, "shadow") != NULL, "%s", msg);
        struct run_level_view v;
        run_level_view(r, 0, 2, &v);
        cr_assert_eq(v.state, RUN_LEVEL_STOPPED);
        run_destroy(r);
    }
    asm_image_free(&img);
}

Test(run, vmm_error_when_there_is_no_room)
{
    struct asm_image img = tr_load_text("_start: halt\n");
    struct run *r = make("asm", &img, 64);
    cr_assert_eq(run_go(r, 1000), MACHINE_UNHANDLED_TRAP);
    unsigned level = 99;
    const char *msg = NULL;
    cr_assert(run_monitor_error(r, 0, &level, &msg));
    cr_assert_eq(level, 0);
    cr_assert(strstr(msg, "no room") != NULL, "%s", msg);
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- The attacker: 0 escapes ---------------------------------------------------------- */

Test(run, attacker_gets_nothing_but_its_own_machine)
{
    const char *specs[] = {"asm", "asm,asm", "c,asm", "c,asm,asm"};
    struct asm_image img = tr_load_file("programs/vmm/attack.s");
    for (size_t k = 0; k < 4; k++) {
        tr_check_equivalent_image(&img, "attack.s", specs[k], "pg", MEM, BIG_BUDGET, NULL, 0);
        struct run *r = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
        size_t len;
        const uint8_t *out = run_output(r, 0, &len);
        cr_assert(len > 11 && memcmp(out + len - 11, "no way out\n", 11) == 0);
        tr_check_vmm_intact(r);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* ---- Accounting ------------------------------------------------------------------------- */

static uint64_t total_traps(const uint64_t traps[CAUSE_COUNT])
{
    uint64_t t = 0;
    for (unsigned c = 0; c < CAUSE_COUNT; c++) t += traps[c];
    return t;
}

Test(run, accounting_adds_up)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
    machine_run(m, BIG_BUDGET);
    const char *specs[] = {"asm,asm,asm", "c,asm,asm"};
    for (size_t k = 0; k < 2; k++) {
        struct run *r = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
        const unsigned n = run_program_level(r);
        cr_assert_eq(n, 3);
        cr_assert_eq(run_level_count(r), n + 1);
        struct run_level_counts lv[RUN_MAX_LEVELS];
        for (unsigned i = 0; i <= n; i++) run_level_counts(r, 0, i, &lv[i]);
        cr_assert_str_eq(lv[n].kind, "guest");
        cr_assert_eq(lv[n].instructions, machine_stats(m)->retired);
        cr_assert_eq(lv[n].traps, total_traps(machine_stats(m)->traps));
        cr_assert_gt(lv[n - 1].emulated, 0, "the program's privileged instructions");
        /* what a monitor reflects is what reaches the level above */
        for (unsigned i = 0; i < n; i++)
            cr_assert_eq(lv[i].reflected, lv[i + 1].traps,
                         "%s: level %u reflects what reaches level %u", specs[k], i, i + 1);
        /* each level below emulates at least one privileged instruction per
         * emulation above: the amplification */
        for (unsigned i = 1; i < n; i++) {
            cr_assert_geq(lv[i - 1].emulated, lv[i].emulated + lv[i].reflected);
            if (run_spec_of(r)->kind[i - 1] == RUN_MONITOR_ASM)
                cr_assert_gt(lv[i - 1].amplification, lv[i].amplification);
        }
        double sum = 0;
        for (unsigned i = 0; i < n; i++) sum += lv[i].amplification;
        cr_assert_float_eq(lv[n].amplification, sum, 1e-6);
        /* every instruction the real machine retired is some level's */
        const struct machine *real = run_real_machine(r);
        uint64_t retired = 0;
        for (unsigned i = 0; i <= n; i++) {
            uint64_t own = lv[i].instructions;
            if (i > 0 && run_spec_of(r)->kind[i - 1] == RUN_MONITOR_ASM) own -= lv[i - 1].emulated;
            retired += own;
        }
        if (run_spec_of(r)->kind[0] == RUN_MONITOR_C) {
            cr_assert_str_eq(lv[0].kind, "c");
            cr_assert_eq(lv[0].instructions, 0);
            cr_assert_eq(retired, lv[0].direct + lv[0].emulated);
            cr_assert_eq(lv[0].traps, lv[0].entries);
            cr_assert_gt(lv[0].efficiency, 0.0);
            cr_assert_leq(lv[0].efficiency, 1.0);
        } else {
            cr_assert_str_eq(lv[0].kind, "asm");
            cr_assert_eq(retired, machine_stats(real)->retired);
            cr_assert_eq(lv[0].traps, total_traps(machine_stats(real)->traps),
                         "every real trap reaches the bottom VMM");
            /* what ran directly of level 1's: all it completed but what
             * the bottom emulated (as the C VMM counts it) */
            cr_assert_eq(lv[0].direct, lv[1].instructions - lv[0].emulated);
            cr_assert_gt(lv[0].efficiency, 0.0);
            cr_assert_leq(lv[0].efficiency, 1.0);
            cr_assert_eq(lv[0].entries, 0);
        }
        /* a level's view counts what its counts say */
        for (unsigned i = 0; i <= n; i++) {
            struct run_level_view v;
            run_level_view(r, 0, i, &v);
            cr_assert_eq(v.instructions, lv[i].instructions, "%s L%u", specs[k], i);
        }
        run_destroy(r);
    }
    machine_destroy(m);
    asm_image_free(&img);
}

Test(run, bare_run_is_the_machine)
{
    struct asm_image img = tr_load_file("programs/fib.s");
    tr_check_equivalent_image(&img, "fib", "bare", "pg", MEM, BIG_BUDGET, NULL, 0);
    struct run *r = make("bare", &img, MEM);
    cr_assert_eq(run_level_count(r), 1);
    cr_assert_eq(run_program_level(r), 0);
    cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
    struct run_level_counts lv;
    run_level_counts(r, 0, 0, &lv);
    cr_assert_str_eq(lv.kind, "program");
    cr_assert_eq(lv.instructions, machine_stats(run_real_machine(r))->retired);
    cr_assert_gt(lv.instructions, 0);
    cr_assert_eq(run_time(r), machine_steps(run_real_machine(r)));
    size_t words;
    cr_assert_eq(run_machine_memory(r, 0, 0, &words), machine_memory_const(run_real_machine(r)));
    cr_assert_eq(words, MEM);
    cr_assert_null(run_asm_image(r));
    struct run_extent ext[2];
    cr_assert_eq(run_fmap(r, 0, 0, true, ext, 2), 0, "the real machine has no f-map");
    char name[32];
    run_level_name(r, 0, name, sizeof name);
    cr_assert_str_eq(name, "program");
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- Looking into the levels (the TUI's view) -------------------------------------------- */

static enum machine_verdict count_event(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r, (void)e;
    ++*(uint64_t *)ctx;
    return MACHINE_CONTINUE;
}

Test(run, levels_and_machines)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos_paged.s");
    struct run *r = make("asm,asm", &img, MEM);
    uint64_t events = 0;
    run_set_hooks(r, &(struct run_hooks){&events, count_event, NULL});
    cr_assert_eq(run_running_level(r, 0), 0, "the bottom VMM starts first");
    struct run_level_view v;
    run_level_view(r, 0, 2, &v);
    cr_assert_eq(v.state, RUN_LEVEL_NOT_STARTED);
    cr_assert_eq(v.psw.pc, img.entry, "the program's reset PSW");
    cr_assert_eq(v.psw.flags, PSW_M);
    cr_assert_eq(v.psw.base, 0);
    cr_assert_eq(v.psw.bound, MEM);
    cr_assert_str_eq(v.kind, "guest");
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.state, RUN_LEVEL_NOT_STARTED);
    cr_assert_str_eq(v.kind, "asm");
    cr_assert_eq(run_go(r, 20000), MACHINE_BUDGET);
    cr_assert_eq(run_running_level(r, 0), 2);

    /* memory: each asm level puts its guest GUEST_BASE words up */
    const struct asm_image *vmm = run_asm_image(r);
    uint32_t base;
    cr_assert(asm_symbol_value(vmm, "GUEST_BASE", &base));
    size_t words;
    const uint32_t *m0 = run_machine_memory(r, 0, 0, &words);
    cr_assert_eq(words, MEM + 2 * base);
    cr_assert_eq(m0, machine_memory_const(run_real_machine(r)));
    cr_assert_eq(run_machine_memory(r, 0, 1, &words), m0 + base);
    cr_assert_eq(words, MEM + base);
    cr_assert_eq(run_machine_memory(r, 0, 2, &words), m0 + 2 * base);
    cr_assert_eq(words, MEM);
    for (unsigned j = 0; j <= 2; j++) {
        run_level_view(r, 0, j, &v);
        cr_assert_eq(v.memsize, MEM + (2 - j) * base, "L%u", j);
    }
    uint32_t real;
    cr_assert(run_to_real(r, 0, 2, 0, &real));
    cr_assert_eq(real, 2 * base);
    cr_assert(run_to_real(r, 0, 1, 5, &real));
    cr_assert_eq(real, base + 5);
    cr_assert(run_to_real(r, 0, 2, MEM - 1, &real));
    cr_assert_not(run_to_real(r, 0, 2, MEM, &real), "beyond the program's machine");

    /* f-maps: kept by the monitor below, composed down to real memory or not */
    struct run_extent f[4];
    cr_assert_eq(run_fmap(r, 0, 2, false, f, 4), 1);
    cr_assert_eq(f[0].from, 0);
    cr_assert_eq(f[0].to, base);
    cr_assert_eq(f[0].words, MEM);
    cr_assert_eq(run_fmap(r, 0, 2, true, f, 4), 1);
    cr_assert_eq(f[0].to, 2 * base);
    cr_assert_eq(f[0].words, MEM);
    cr_assert_eq(run_fmap(r, 0, 1, false, f, 4), 1);
    cr_assert_eq(f[0].to, base);
    cr_assert_eq(f[0].words, MEM + base);
    cr_assert_eq(run_fmap(r, 0, 0, false, f, 4), 0, "L0 is on the real machine");
    cr_assert_eq(run_fmap(r, 0, 3, false, f, 4), 0, "no level 3");

    /* images: the innermost machine holding the word decides */
    uint32_t at = 0;
    cr_assert_eq(run_image_at(r, 0, 2, img.entry, &at), &img);
    cr_assert_eq(at, img.entry);
    cr_assert_eq(run_image_at(r, 0, 1, vmm->entry, &at), vmm);
    cr_assert_eq(at, vmm->entry);
    cr_assert_eq(run_image_at(r, 0, 1, base + img.entry, &at), &img);
    cr_assert_eq(at, img.entry);
    cr_assert_eq(run_image_at(r, 0, 0, base + vmm->entry, &at), vmm, "L1's VMM, seen from L0");
    cr_assert_eq(at, vmm->entry);
    cr_assert_eq(run_image_at(r, 0, 0, 2 * base + 0x33, &at), &img);
    cr_assert_eq(at, 0x33);
    cr_assert_null(run_image_at(r, 0, 2, MEM, &at), "beyond the program's machine");

    /* the program's code runs, so neither VMM is in its handler */
    struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
    machine_run(m, 20000);
    struct run_guest_state s;
    run_guest_state(r, 0, &s);
    struct psw b = machine_psw(m);
    cr_assert_eq(s.psw.flags, b.flags);
    cr_assert_eq(s.psw.pc, b.pc);
    cr_assert_eq(machine_psw(run_real_machine(r)).flags & PSW_M, 0);
    run_level_view(r, 0, 1, &v);
    cr_assert_eq(v.state, RUN_LEVEL_WAITING);
    cr_assert_eq(v.psw.flags & PSW_M, 0, "L1 loaded a user PSW for its guest");
    run_level_view(r, 0, 0, &v);
    cr_assert_eq(v.state, RUN_LEVEL_WAITING);
    run_level_view(r, 0, 2, &v);
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    cr_assert(v.has_real);
    cr_assert_eq(v.real.flags & PSW_M, 0, "the program runs in real user mode");
    for (unsigned L = 0; L <= 2; L++) {
        run_level_view(r, 0, L, &v);
        for (unsigned reg = 0; reg < ISA_NREGS; reg++)
            cr_assert_eq(v.regs[reg], machine_reg(m, reg), "L%u r%u", L, reg);
    }
    machine_destroy(m);
    cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
    cr_assert_eq(events, total_traps(machine_stats(run_real_machine(r))->traps),
                 "on_event sees every real trap");
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- The trap log: where each trap arose and which level handled it ------------------- */

struct trap_log {
    unsigned n;                                   /* monitors */
    uint64_t emulated_by[RUN_MAX_LEVELS];
    uint64_t handled_above[RUN_MAX_LEVELS];       /* handled by a level above k */
    uint64_t absorbed;
    uint64_t bad;
    struct run_log *log;
};

static enum machine_verdict log_event(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r;
    struct trap_log *l = ctx;
    run_log_add(l->log, e);
    switch (e->how) {
    case RUN_EMULATED:
        if (e->handler + 1 != e->arose || e->cause != CAUSE_PRIV || !e->supervisor) l->bad++;
        l->emulated_by[e->handler]++;
        break;
    case RUN_REFLECTED:
    case RUN_DELIVERED:
        if (e->handler != e->arose || e->arose == 0) l->bad++;
        if ((e->how == RUN_DELIVERED) != (e->cause == CAUSE_TIMER || e->cause == CAUSE_IO)) l->bad++;
        break;
    case RUN_HARDWARE:
        if (l->n != 0 || e->handler != 0 || e->arose != 0) l->bad++;
        break;
    case RUN_ABSORBED:
        if (e->handler != 0 || e->cause != CAUSE_TIMER) l->bad++;
        l->absorbed++;
        return MACHINE_CONTINUE;
    }
    if (e->first != (e->how == RUN_HARDWARE ? e->handler : 0)) l->bad++;
    for (unsigned k = 0; k < e->handler; k++) l->handled_above[k]++;
    return MACHINE_CONTINUE;
}

Test(run, trap_log_adds_up)
{
    const char *specs[] = {"asm,asm", "c,asm,asm", "c", "bare"};
    const char *programs[] = {"programs/toyos/toyos.s", "programs/toyos/toyos_paged.s"};
    for (size_t p = 0; p < 2; p++) {
        struct asm_image img = tr_load_file(programs[p]);
        for (size_t k = 0; k < 4; k++) {
            struct run *r = make(specs[k], &img, MEM);
            const unsigned n = run_program_level(r);
            struct trap_log log = {.n = n, .log = run_log_create(16)};
            cr_assert_not_null(log.log);
            run_set_hooks(r, &(struct run_hooks){&log, log_event, NULL});
            cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
            cr_assert_eq(log.bad, 0, "%s %s: inconsistent events", programs[p], specs[k]);
            for (unsigned i = 0; i < n; i++) {
                struct run_level_counts lv;
                run_level_counts(r, 0, i, &lv);
                cr_assert_eq(log.emulated_by[i], lv.emulated - lv.interpreted,
                             "%s %s: emulated by level %u", programs[p], specs[k], i);
                cr_assert_eq(log.handled_above[i], lv.reflected,
                             "%s %s: reflected by level %u", programs[p], specs[k], i);
            }
            struct run_guest_state s;
            run_guest_state(r, 0, &s);
            const uint64_t guest_traps = total_traps(s.traps);
            cr_assert_gt(guest_traps, 0);
            if (n > 0) cr_assert_eq(log.handled_above[n - 1], guest_traps, "%s", specs[k]);
            /* the log counts the same paths */
            const struct run_log_counts *lc = run_log_counts(log.log);
            uint64_t program_handled = 0, emulated_by0 = 0;
            for (unsigned a = 0; a <= n; a++)
                for (unsigned how = 0; how < RUN_HANDLINGS; how++) {
                    if (how != RUN_EMULATED && how != RUN_ABSORBED) program_handled += lc->path[a][n][how];
                }
            for (unsigned a = 0; a <= n; a++) emulated_by0 += lc->path[a][0][RUN_EMULATED];
            cr_assert_eq(program_handled, guest_traps, "%s: paths to the program's handler", specs[k]);
            if (n > 0) cr_assert_eq(emulated_by0, log.emulated_by[0]);
            /* the C VMM's own slice timer shows as absorbed events; with
             * an asm VMM at the bottom every real trap is one event */
            if (run_spec_of(r)->n > 0 && run_spec_of(r)->kind[0] == RUN_MONITOR_C) {
                cr_assert_gt(log.absorbed, 0, "toyos runs longer than a slice");
                uint64_t by_cause = 0;
                for (unsigned c = 0; c < CAUSE_COUNT; c++) by_cause += lc->by_cause[c];
                cr_assert_eq(by_cause, lc->total, "the counts by cause add up");
            } else {
                cr_assert_eq(lc->total, total_traps(machine_stats(run_real_machine(r))->traps),
                             "%s: one event per real trap", specs[k]);
                cr_assert_eq(log.absorbed, 0);
            }
            run_log_destroy(log.log);
            run_destroy(r);
        }
        asm_image_free(&img);
    }
}

/* A clone runs on by itself: both it and the original end as the bare run,
 * with or without the C VMM, and a clone run on equals a fresh run. */
Test(run, clone_for_snapshots)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos_paged.s");
    struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
    enum machine_stop bstop = machine_run(m, BIG_BUDGET);
    char why[256];
    const char *specs[] = {"asm,asm", "c,asm", "c", "bare"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = make(specs[k], &img, MEM);
        uint64_t events = 0;
        run_set_hooks(r, &(struct run_hooks){&events, count_event, NULL});
        cr_assert_eq(run_go(r, 12345), MACHINE_BUDGET);
        struct run *c = run_clone(r);
        cr_assert_not_null(c);
        struct run_guest_state s;
        run_guest_state(c, 0, &s);
        cr_assert_eq(s.steps, 12345);
        cr_assert_eq(run_time(c), run_time(r));
        cr_assert(tr_same_runs(r, c, 0, why, sizeof why), "%s: clone at once: %s", specs[k], why);
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
        run_guest_state(c, 0, &s);
        cr_assert_eq(s.steps, 12345, "%s: the clone did not move", specs[k]);
        cr_assert(same(m, bstop, r, MACHINE_HALT, why, sizeof why), "%s original: %s", specs[k], why);
        const uint64_t events_original = events;
        run_destroy(r); /* the clone keeps the VMM image alive */
        if (run_spec_of(c)->n > 0 && run_spec_of(c)->kind[run_spec_of(c)->n - 1] == RUN_MONITOR_ASM)
            cr_assert_not_null(run_asm_image(c));
        cr_assert_eq(run_go(c, BIG_BUDGET), MACHINE_HALT);
        cr_assert_eq(events, events_original, "%s: the clone has no hooks", specs[k]);
        cr_assert(same(m, bstop, c, MACHINE_HALT, why, sizeof why), "%s clone: %s", specs[k], why);
        /* and it is what a fresh run is */
        struct run *fresh = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(fresh, BIG_BUDGET), MACHINE_HALT);
        cr_assert(tr_same_runs(fresh, c, 0, why, sizeof why), "%s clone vs fresh: %s", specs[k], why);
        for (unsigned L = 0; L < run_level_count(c); L++) {
            struct run_level_counts a, b2;
            run_level_counts(fresh, 0, L, &a);
            run_level_counts(c, 0, L, &b2);
            cr_assert_eq(a.instructions, b2.instructions, "%s L%u", specs[k], L);
            cr_assert_eq(a.traps, b2.traps, "%s L%u", specs[k], L);
            cr_assert_eq(a.emulated, b2.emulated, "%s L%u", specs[k], L);
            cr_assert_eq(a.reflected, b2.reflected, "%s L%u", specs[k], L);
        }
        run_destroy(fresh);
        run_destroy(c);
    }
    machine_destroy(m);
    asm_image_free(&img);
}

/* A register set on the program's level is the value it computes with,
 * whichever monitors sit below it. */
Test(run, registers_set_reach_the_guest)
{
    struct asm_image img = tr_load_text("wait:   beqz r3, wait\n"
                                        "        beqz r5, wait\n"
                                        "        add r1, r3, r5\n"
                                        "        halt\n");
    const char *specs[] = {"bare", "c", "asm", "c,asm", "asm,asm", "c,asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = make(specs[k], &img, MEM);
        const unsigned n = run_program_level(r);
        char err[256] = "";
        cr_assert_eq(run_go(r, 2000), MACHINE_BUDGET, "%s: the program spins", specs[k]);
        cr_assert(run_set_reg(r, 0, n, 3, 40, err, sizeof err), "%s: %s", specs[k], err);
        cr_assert(run_set_reg(r, 0, n, 5, 2, err, sizeof err), "%s: %s", specs[k], err);
        struct run_level_view v;
        run_level_view(r, 0, n, &v);
        cr_assert_eq(v.regs[3], 40, "%s: r3 reads back", specs[k]);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.regs[5], 2, "%s: r5 reads back", specs[k]);
        cr_assert_not(run_set_reg(r, 0, n, 0, 1, err, sizeof err), "r0 stays 0");
        cr_assert_not(run_set_reg(r, 0, n, RUN_REG_PC + 1, 1, err, sizeof err), "no register 17");
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT, "%s", specs[k]);
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.regs[1], 42, "%s: the program saw both registers", specs[k]);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* There is no level above the program: setting its registers is refused,
 * not passed to the program. */
Test(run, no_registers_beyond_the_program)
{
    /* Regression: run_level_view's clamp let run_set_reg(n + 1) set the program's register. */
    struct asm_image img = tr_load_text("wait: beqz r3, wait\n halt\n");
    const char *specs[] = {"bare", "asm", "c,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = make(specs[k], &img, MEM);
        const unsigned n = run_program_level(r);
        char err[256] = "";
        cr_assert_eq(run_go(r, 100), MACHINE_BUDGET);
        cr_assert_not(run_set_reg(r, 0, n + 1, 3, 1, err, sizeof err), "%s: no level %u", specs[k], n + 1);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.regs[3], 0, "%s: the program's r3 untouched", specs[k]);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* The program's last trap is the trap it took, whatever its handler did to
 * its trap area afterwards. */
Test(run, last_trap_is_the_trap_not_the_trap_area)
{
    /* Regression: the last trap was rebuilt from the trap area when asked, so a handler
     * rewriting E[4..6] changed it. */
    struct asm_image img = tr_load_text(
        "_start: li r1, 1\n st r1, 8(r0)\n la r1, handler\n st r1, 9(r0)\n"
        " li r1, 0x10000\n st r1, 11(r0)\n svc 7\n"
        "handler: li r2, 2\n st r2, 5(r0)\n li r2, 0x99\n st r2, 6(r0)\n"
        " li r2, 0x25\n st r2, 4(r0)\n halt\n");
    const char *specs[] = {"c", "asm", "c,asm", "asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct machine *m = tr_bare(&img, "pg", MEM, NULL, 0);
        cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
        const struct machine_trap *t = machine_last_trap(m);
        struct run *r = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(r, 100), MACHINE_HALT);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert(s.has_trap, "%s", specs[k]);
        cr_assert_eq(s.last_trap.cause, t->cause, "%s: cause %u, bare %u", specs[k], s.last_trap.cause,
                     t->cause);
        cr_assert_eq(s.last_trap.value, t->value, "%s", specs[k]);
        cr_assert_eq(s.last_trap.old_psw.timer, t->old_psw.timer, "%s", specs[k]);
        cr_assert_eq(s.last_trap.old_psw.pc, t->old_psw.pc, "%s", specs[k]);
        run_destroy(r);
        machine_destroy(m);
    }
    asm_image_free(&img);
}

/* ---- Consoles and observers ----------------------------------------------------------------- */

struct sink {
    uint8_t bytes[8192];
    size_t n;
};

static void to_sink(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    if (s->n < sizeof s->bytes) s->bytes[s->n++] = byte;
}

/* The output sink gets each byte the program writes; a clone has none of
 * its own, and its console (input left, output so far) is a copy. */
Test(run, output_sink_and_input)
{
    struct asm_image img = tr_load_file("programs/echo.s");
    size_t len;
    uint8_t *input = tr_input_of("programs/echo.s", &len);
    cr_assert_gt(len, 0);
    const char *specs[] = {"bare", "c", "asm", "c,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = make(specs[k], &img, MEM);
        static struct sink s, t;
        memset(&s, 0, sizeof s);
        memset(&t, 0, sizeof t);
        run_set_output_sink(r, 0, to_sink, &s);
        run_feed_input(r, 0, input, len);
        cr_assert_eq(run_go(r, 1000), MACHINE_BUDGET, "%s", specs[k]);
        struct run *c = run_clone(r);
        cr_assert_not_null(c);
        cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT, "%s", specs[k]);
        size_t n;
        const uint8_t *out = run_output(r, 0, &n);
        cr_assert_gt(n, 0);
        cr_assert_eq(s.n, n, "%s: every byte to the sink", specs[k]);
        cr_assert_eq(memcmp(s.bytes, out, n), 0);
        /* the clone runs on without the sink, with its own console */
        const size_t before = s.n;
        run_set_output_sink(c, 0, to_sink, &t);
        cr_assert_eq(run_go(c, BIG_BUDGET), MACHINE_HALT);
        cr_assert_eq(s.n, before, "%s: the original's sink is not the clone's", specs[k]);
        size_t cn;
        const uint8_t *cout = run_output(c, 0, &cn);
        cr_assert_eq(cn, n);
        cr_assert_eq(memcmp(cout, out, n), 0, "%s: the clone wrote the same", specs[k]);
        cr_assert_lt(t.n, n, "%s: the clone's sink got only what came after the clone", specs[k]);
        cr_assert_eq(memcmp(t.bytes, out + (n - t.n), t.n), 0);
        run_destroy(c);
        run_destroy(r);
    }
    free(input);
    asm_image_free(&img);
}

static enum machine_verdict count_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    (void)m, (void)pc, (void)insn;
    ++*(uint64_t *)ctx;
    return MACHINE_CONTINUE;
}

/* --trace insns: an observer of the real machine, on a bare run only. */
Test(run, instruction_observer_on_bare_runs_only)
{
    struct asm_image img = tr_load_file("programs/fib.s");
    uint64_t n = 0;
    const struct machine_observer obs = {&n, count_insn, NULL};
    struct run *r = make("bare", &img, MEM);
    cr_assert(run_set_insn_observer(r, &obs));
    cr_assert_eq(run_go(r, BIG_BUDGET), MACHINE_HALT);
    struct run_guest_state s;
    run_guest_state(r, 0, &s);
    cr_assert_eq(n, s.instructions, "every instruction, the halt too");
    cr_assert(run_set_insn_observer(r, NULL));
    run_destroy(r);
    const char *specs[] = {"c", "asm", "c,asm"};
    for (size_t k = 0; k < 3; k++) {
        r = make(specs[k], &img, MEM);
        cr_assert_not(run_set_insn_observer(r, &obs), "%s", specs[k]);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* Every f-map says where a machine's words are: through it, the words of
 * machine L are the words of the machine below (or of real memory,
 * composed), and run_to_real agrees. */
static void check_fmaps(const struct run *r, const char *what)
{
    for (unsigned L = 1; L < run_level_count(r); L++) {
        size_t words;
        const uint32_t *mine = run_machine_memory(r, 0, L, &words);
        for (int composed = 0; composed < 2; composed++) {
            struct run_extent ext[8];
            const unsigned n = run_fmap(r, 0, L, composed, ext, 8);
            cr_assert_gt(n, 0, "%s L%u", what, L);
            const bool c_below = run_spec_of(r)->kind[L - 1] == RUN_MONITOR_C;
            /* the C VMM's map is into real memory already */
            const unsigned below = composed || c_below ? 0 : L - 1;
            size_t bwords;
            const uint32_t *under = run_machine_memory(r, 0, below, &bwords);
            uint64_t covered = 0;
            for (unsigned k = 0; k < n; k++) {
                cr_assert_leq((uint64_t)ext[k].to + ext[k].words, bwords, "%s L%u", what, L);
                cr_assert_leq((uint64_t)ext[k].from + ext[k].words, words, "%s L%u", what, L);
                covered += ext[k].words;
                for (uint32_t i = 0; i < ext[k].words; i += 61) {
                    cr_assert_eq(under[ext[k].to + i], mine[ext[k].from + i], "%s L%u%s: word 0x%x", what, L,
                                 composed ? " composed" : "", ext[k].from + i);
                    if (composed || below == 0) {
                        uint32_t real;
                        cr_assert(run_to_real(r, 0, L, ext[k].from + i, &real));
                        cr_assert_eq(real, ext[k].to + i, "%s L%u: run_to_real", what, L);
                    }
                }
            }
            cr_assert_eq(covered, words, "%s L%u: the whole machine is mapped", what, L);
        }
    }
}

Test(run, fmaps_map_every_machine)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const char *specs[] = {"c", "asm", "c,asm", "asm,asm", "c,asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = make(specs[k], &img, MEM);
        cr_assert_eq(run_go(r, 20000), MACHINE_BUDGET);
        check_fmaps(r, specs[k]);
        run_destroy(r);
    }
    asm_image_free(&img);
}
