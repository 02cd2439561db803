/*
 * test_stack.c: stacks of monitors (vmm/stack.h) and the asm VMM
 * (programs/vmm/vmm.s) under them.
 *
 * The tests are differential: a program runs on a bare machine of --mem
 * words and as the innermost guest of a stack, and everything a guest can
 * see must be the same: stop reason, registers, PSW, every word of memory,
 * console output, and (with accounting) instruction, step and trap counts.
 * The full matrix of programs x depths is tests/e2e/soak_stack.sh; here
 * each program runs at a few depths and a small one at depth 4.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/stack.h"
#include "support.h"

#define MEM 65536u
#define BIG_BUDGET 200000000ull

/* ---- Helpers ------------------------------------------------------------------- */

static struct asm_image load_file(const char *path)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program(path, &img, stderr), 0, "%s does not assemble", path);
    return img;
}

static struct asm_image load_text(const char *text)
{
    struct asm_image img;
    cr_assert_eq(asm_assemble_string(text, "test.s", &img, stderr), 0, "test source");
    return img;
}

static struct stack_spec spec_of(const char *text)
{
    struct stack_spec spec;
    char err[STACK_ERROR_SIZE];
    cr_assert(stack_spec_parse(text, &spec, err), "%s: %s", text, err);
    return spec;
}

/* Reads the .input beside path (X.s -> X.input), if any: malloc'd. */
static uint8_t *input_of(const char *path, size_t *len)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s.input", (int)(strlen(path) - 2), path);
    *len = 0;
    FILE *f = fopen(name, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(1 << 16);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static struct machine *run_bare(const struct asm_image *img, size_t mem, uint64_t budget,
                                const uint8_t *input, size_t input_len, enum machine_stop *stop)
{
    struct isa_variant pg = test_support_variant("pg");
    struct machine *m = machine_create(mem, &pg);
    cr_assert_not_null(m);
    cr_assert(asm_image_place(img, machine_memory(m), mem, 0));
    machine_reset(m, img->entry);
    machine_feed_input(m, input, input_len);
    *stop = machine_run(m, budget);
    return m;
}

static struct stack *make_stack(const char *spec, const struct asm_image *img, size_t mem,
                                bool accounting)
{
    struct isa_variant pg = test_support_variant("pg");
    struct stack_config cfg = {spec_of(spec), &pg, mem, NULL, accounting};
    char err[STACK_ERROR_SIZE] = "";
    struct stack *s = stack_create(&cfg, img, err);
    cr_assert_not_null(s, "stack %s: %s", spec, err);
    return s;
}

/* Compares the guest of s with the bare machine m; false with the first
 * difference in why. */
static bool same_guest(const struct machine *m, enum machine_stop bstop, const struct stack *s,
                       enum machine_stop sstop, bool counts, char *why, size_t size)
{
    if (bstop != sstop) {
        snprintf(why, size, "stop: bare %s, stack %s", machine_stop_name(bstop), machine_stop_name(sstop));
        return false;
    }
    for (unsigned r = 0; r < ISA_NREGS; r++)
        if (machine_reg(m, r) != stack_guest_reg(s, r)) {
            snprintf(why, size, "r%u: bare 0x%x, stack 0x%x", r, machine_reg(m, r), stack_guest_reg(s, r));
            return false;
        }
    struct psw a = machine_psw(m), b = stack_guest_psw(s);
    if (memcmp(&a, &b, sizeof a) != 0) {
        snprintf(why, size, "psw: bare {%x %x %x %x %x}, stack {%x %x %x %x %x}", a.flags, a.pc,
                 a.base, a.bound, a.timer, b.flags, b.pc, b.base, b.bound, b.timer);
        return false;
    }
    if (stack_guest_memsize(s) != machine_memsize(m)) {
        snprintf(why, size, "memory size: bare %zu, stack %zu", machine_memsize(m), stack_guest_memsize(s));
        return false;
    }
    const uint32_t *x = machine_memory_const(m), *y = stack_guest_memory(s);
    for (size_t i = 0; i < machine_memsize(m); i++)
        if (x[i] != y[i]) {
            snprintf(why, size, "memory[0x%zx]: bare 0x%x, stack 0x%x", i, x[i], y[i]);
            return false;
        }
    size_t la, lb;
    const uint8_t *oa = machine_output(m, &la), *ob = stack_guest_output(s, &lb);
    if (la != lb || memcmp(oa, ob, la) != 0) {
        snprintf(why, size, "output: bare %zu bytes, stack %zu bytes", la, lb);
        return false;
    }
    if (!counts) return true;
    if (machine_stats(m)->retired != stack_guest_instructions(s) || machine_steps(m) != stack_guest_steps(s)) {
        snprintf(why, size, "counts: bare %" PRIu64 " instructions %" PRIu64 " steps, stack %" PRIu64 " %" PRIu64,
                 machine_stats(m)->retired, machine_steps(m), stack_guest_instructions(s),
                 stack_guest_steps(s));
        return false;
    }
    uint64_t traps[CAUSE_COUNT];
    stack_guest_traps(s, traps);
    for (unsigned c = 1; c < CAUSE_COUNT; c++)
        if (traps[c] != machine_stats(m)->traps[c]) {
            snprintf(why, size, "%s traps: bare %" PRIu64 ", stack %" PRIu64, isa_cause_name(c),
                     machine_stats(m)->traps[c], traps[c]);
            return false;
        }
    return true;
}

/* The program at path runs the same bare and under spec (budget steps). */
static void check_equivalent_image(const struct asm_image *img, const char *what, const char *spec,
                                   size_t mem, uint64_t budget, const uint8_t *input, size_t len)
{
    enum machine_stop bstop;
    struct machine *m = run_bare(img, mem, budget, input, len, &bstop);
    struct stack *s = make_stack(spec, img, mem, true);
    stack_feed_input(s, input, len);
    enum machine_stop sstop = stack_run(s, budget);
    char why[256] = "";
    bool ok = same_guest(m, bstop, s, sstop, true, why, sizeof why);
    stack_destroy(s);
    machine_destroy(m);
    cr_assert(ok, "%s under %s (budget %" PRIu64 "): %s", what, spec, budget, why);
}

static void check_equivalent(const char *path, const char *spec, size_t mem, uint64_t budget)
{
    struct asm_image img = load_file(path);
    size_t len;
    uint8_t *input = input_of(path, &len);
    check_equivalent_image(&img, path, spec, mem, budget, input, len);
    free(input);
    asm_image_free(&img);
}

/* ---- Specs ----------------------------------------------------------------------- */

Test(stack, spec_parse_and_format)
{
    const char *good[] = {"c", "asm", "c,asm,asm", "ASM,Asm", "bare", ""};
    const unsigned n[] = {1, 1, 3, 2, 0, 0};
    const char *formatted[] = {"c", "asm", "c,asm,asm", "asm,asm", "bare", "bare"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct stack_spec sp = spec_of(good[i]);
        cr_assert_eq(sp.n, n[i], "%s", good[i]);
        char buf[64];
        stack_spec_format(&sp, buf, sizeof buf);
        cr_assert_str_eq(buf, formatted[i]);
    }
    struct stack_spec sp = spec_of("c,asm,asm");
    cr_assert_eq(sp.kind[0], STACK_C);
    cr_assert_eq(sp.kind[2], STACK_ASM);

    const char *bad[] = {"x", "asm,c", "c,,asm", "asm,", ",asm", "asm asm",
                         "asm,asm,asm,asm,asm,asm,asm,asm,asm"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[STACK_ERROR_SIZE] = "";
        cr_assert_not(stack_spec_parse(bad[i], &sp, err), "'%s' accepted", bad[i]);
        cr_assert(strstr(err, "bad stack") != NULL, "message for '%s': %s", bad[i], err);
    }
}

Test(stack, depth_is_c_then_asm)
{
    char err[STACK_ERROR_SIZE], buf[64];
    struct stack_spec sp;
    const char *want[] = {"bare", "c", "c,asm", "c,asm,asm", "c,asm,asm,asm"};
    for (unsigned d = 0; d <= 4; d++) {
        cr_assert(stack_spec_depth(d, &sp, err));
        stack_spec_format(&sp, buf, sizeof buf);
        cr_assert_str_eq(buf, want[d]);
    }
    cr_assert_not(stack_spec_depth(STACK_MAX_MONITORS + 1, &sp, err));
    cr_assert(strstr(err, "bad depth") != NULL);
}

/* ---- Errors of stack_create ----------------------------------------------------------- */

Test(stack, create_errors)
{
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = load_file("programs/hello.s");
    char err[STACK_ERROR_SIZE];

    struct stack_config cfg = {spec_of("asm"), &pg, MEM, "/nonexistent/vmm.s", true};
    cr_assert_null(stack_create(&cfg, &img, err));
    cr_assert(strstr(err, "does not assemble") != NULL, "%s", err);

    char path[] = "/tmp/trapeze_badvmm_XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *text = "_start: halt\n";  /* assembles, but exports nothing */
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    cfg.vmm_source = path;
    cr_assert_null(stack_create(&cfg, &img, err));
    cr_assert(strstr(err, "defines no 'GUEST_BASE'") != NULL, "%s", err);
    unlink(path);

    cfg.vmm_source = NULL;
    cfg.spec.kind[0] = STACK_ASM;
    cfg.spec.kind[1] = STACK_C;
    cfg.spec.n = 2;
    cr_assert_null(stack_create(&cfg, &img, err));
    cr_assert(strstr(err, "bottom level") != NULL, "%s", err);

    struct asm_image far = load_text(".org 0x8000\n_start: halt\n");
    cfg.spec = spec_of("c,asm");
    cfg.guest_memsize = 0x1000;
    cr_assert_null(stack_create(&cfg, &far, err));
    cr_assert(strstr(err, "does not fit") != NULL, "%s", err);

    cfg.guest_memsize = 4;
    cr_assert_null(stack_create(&cfg, &img, err));
    cr_assert_null(stack_create(NULL, &img, err));
    asm_image_free(&far);
    asm_image_free(&img);
}

Test(stack, vmm_source_is_found_from_the_executable_or_the_environment)
{
    char path[4096];
    cr_assert(stack_vmm_source(path, sizeof path));
    cr_assert(strstr(path, "programs/vmm/vmm.s") != NULL, "%s", path);
    setenv("TRAPEZE_VMM", "/nonexistent/x.s", 1);
    cr_assert_not(stack_vmm_source(path, sizeof path));
    cr_assert_str_eq(path, "/nonexistent/x.s");
    unsetenv("TRAPEZE_VMM");
}

/* ---- Equivalence ------------------------------------------------------------------------- */

Test(stack, hello_at_every_depth)
{
    char err[STACK_ERROR_SIZE], spec[64];
    for (unsigned d = 0; d <= 4; d++) {
        struct stack_spec sp;
        cr_assert(stack_spec_depth(d, &sp, err));
        stack_spec_format(&sp, spec, sizeof spec);
        check_equivalent("programs/hello.s", spec, MEM, BIG_BUDGET);
    }
    check_equivalent("programs/hello.s", "asm,asm,asm", MEM, BIG_BUDGET);
}

Test(stack, toyos_at_depth_4_and_on_three_asm_vmms)
{
    check_equivalent("programs/toyos/toyos.s", "c,asm,asm,asm", MEM, BIG_BUDGET);
    check_equivalent("programs/toyos/toyos.s", "asm,asm,asm", MEM, BIG_BUDGET);
    check_equivalent("programs/toyos/toyos_paged.s", "c,asm,asm,asm", MEM, BIG_BUDGET);
    check_equivalent("programs/toyos/toyos_paged.s", "asm,asm,asm", MEM, BIG_BUDGET);
}

/* Every example program under one asm VMM on the bare machine and under the
 * C VMM with an asm VMM on it. */
Test(stack, example_programs_at_depth_1_and_2)
{
    const char *programs[] = {"hello", "fib", "sort", "traps", "usermode", "timer",
                              "paging", "critical", "echo", "echo_irq"};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "programs/%s.s", programs[i]);
        check_equivalent(path, "asm", MEM, BIG_BUDGET);
        check_equivalent(path, "c,asm", MEM, BIG_BUDGET);
    }
}

/* The default memory size (a megaword) works the same. */
Test(stack, default_memory_size)
{
    check_equivalent("programs/traps.s", "asm,asm", ISA_DEFAULT_MEMSIZE, BIG_BUDGET);
}

/* A budget stops the guest at the same step as the bare machine, even when
 * the step falls while a monitor handles one of the guest's traps. */
Test(stack, budget_stops_at_the_same_step)
{
    const uint64_t budgets[] = {1, 2, 3, 17, 100, 999, 4321, 12345, 33333};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        check_equivalent("programs/toyos/toyos.s", "asm,asm", MEM, budgets[i]);
        check_equivalent("programs/toyos/toyos_paged.s", "c,asm", MEM, budgets[i]);
        check_equivalent("programs/echo_irq.s", "asm", MEM, budgets[i]);
    }
}

/* Runs can be continued: several budgets in a row end where one would. */
Test(stack, run_continues)
{
    struct asm_image img = load_file("programs/timer.s");
    enum machine_stop bstop;
    struct machine *m = run_bare(&img, MEM, BIG_BUDGET, NULL, 0, &bstop);
    struct stack *s = make_stack("c,asm,asm", &img, MEM, true);
    enum machine_stop st = MACHINE_BUDGET;
    for (uint64_t b = 500; st == MACHINE_BUDGET; b += 777) {
        st = stack_run(s, b);
        if (st == MACHINE_BUDGET) {
            cr_assert_eq(stack_guest_steps(s), b);
            cr_assert_eq(stack_current_level(s), 3, "a budget stop leaves the guest's code next");
        }
    }
    char why[256];
    cr_assert(same_guest(m, bstop, s, st, true, why, sizeof why), "%s", why);
    cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT, "a stopped guest stays stopped");
    stack_destroy(s);
    machine_destroy(m);
    asm_image_free(&img);
}

/* Without accounting the guest's state is the same; the counts are not
 * known. */
Test(stack, without_accounting)
{
    struct asm_image img = load_file("programs/toyos/toyos.s");
    enum machine_stop bstop;
    struct machine *m = run_bare(&img, MEM, BIG_BUDGET, NULL, 0, &bstop);
    for (int c = 0; c < 2; c++) {
        struct stack *s = make_stack(c ? "c,asm" : "asm,asm", &img, MEM, false);
        enum machine_stop st = stack_run(s, BIG_BUDGET);
        char why[256];
        cr_assert(same_guest(m, bstop, s, st, false, why, sizeof why), "%s", why);
        cr_assert_eq(stack_guest_instructions(s), 0);
        stack_destroy(s);
    }
    machine_destroy(m);
    asm_image_free(&img);
}

/* ---- Stops: the guest's machine stops, every machine below stops the same way ---- */

Test(stack, unhandled_trap_and_machine_check)
{
    const char *unhandled = "_start: li r1, 5\n li r7, 77\n svc 3\n";
    const char *check =
        "_start: li r1, 1\n st r1, 8(r0)\n li r1, 0x7000\n st r1, 9(r0)\n"
        " li r1, 0x100\n st r1, 11(r0)\n li r9, 9\n hcall 2\n";
    const char *sources[] = {unhandled, check};
    const char *specs[] = {"asm", "asm,asm", "c,asm,asm"};
    for (size_t i = 0; i < 2; i++) {
        struct asm_image img = load_text(sources[i]);
        for (size_t k = 0; k < 3; k++) check_equivalent_image(&img, sources[i], specs[k], MEM, 1000, NULL, 0);
        asm_image_free(&img);
    }
}

/* A page table longer than the asm VMM's shadow table is the one thing it
 * cannot run: it stops and says so. */
Test(stack, vmm_error_for_a_huge_page_table)
{
    unsigned level = 99;
    const char *msg = NULL;
    struct stack *s;
    uint32_t *mem;
    /* the guest touches page 0x1800: inside its table, beyond the shadow */
    const char *text2 =
        "_start: li r1, 4\n st r1, psw(r0)\n li r1, 0x180000\n lpsw psw(r0)\n"
        "psw: .word 0, 0x20, 0x400, 0x10000, 0\n"
        ".org 0x20\n ld r2, 0(r1)\n halt\n";
    struct asm_image img2 = load_text(text2);
    s = make_stack("asm,asm", &img2, MEM, true);
    mem = (uint32_t *)stack_guest_memory(s);
    mem[0x400] = 0x1;
    cr_assert_eq(stack_run(s, 1000), MACHINE_UNHANDLED_TRAP);
    cr_assert(stack_vmm_error(s, &level, &msg));
    cr_assert_eq(level, 1);
    cr_assert(strstr(msg, "shadow") != NULL, "%s", msg);
    stack_destroy(s);
    asm_image_free(&img2);
}

Test(stack, vmm_error_when_there_is_no_room)
{
    struct asm_image img = load_text("_start: halt\n");
    struct stack *s = make_stack("asm", &img, 64, true);
    cr_assert_eq(stack_run(s, 1000), MACHINE_UNHANDLED_TRAP);
    unsigned level;
    const char *msg;
    cr_assert(stack_vmm_error(s, &level, &msg));
    cr_assert(strstr(msg, "no room") != NULL, "%s", msg);
    stack_destroy(s);
    asm_image_free(&img);
}

/* ---- The attacker: 0 escapes ---------------------------------------------------------- */

/* Every asm level's VMM code and constants are intact, and nothing was
 * written between its data and the shadow table. */
static void check_vmm_intact(struct stack *s)
{
    const struct asm_image *vmm = stack_vmm_image(s);
    cr_assert_not_null(vmm);
    uint32_t data, end, shadow;
    cr_assert(asm_symbol_value(vmm, "guest_entry", &data));
    cr_assert(asm_symbol_value(vmm, "vmm_end", &end));
    cr_assert(asm_symbol_value(vmm, "SHADOW", &shadow));
    const struct stack_spec *spec = stack_spec_of(s);
    for (unsigned i = 0; i < spec->n; i++) {
        if (spec->kind[i] != STACK_ASM) continue;
        const uint32_t *mem = stack_machine_memory(s, i, NULL);
        size_t changed = 0;
        uint32_t first = 0;
        for (size_t g = 0; g < vmm->nsegments; g++)
            for (size_t w = 0; w < vmm->segments[g].count; w++) {
                uint32_t at = vmm->segments[g].at + (uint32_t)w, word = vmm->segments[g].words[w];
                /* code and constants; the slots it writes are 0 in the image */
                if (at < data && word != 0 && mem[at] != word && changed++ == 0) first = at;
            }
        for (uint32_t a = end; a < shadow; a++)
            if (mem[a] != 0 && changed++ == 0) first = a;
        cr_assert_eq(changed, 0, "level %u: %zu VMM words changed, the first at 0x%x", i, changed, first);
    }
}

Test(stack, attacker_gets_nothing_but_its_own_machine)
{
    const char *specs[] = {"asm", "asm,asm", "c,asm", "c,asm,asm"};
    struct asm_image img = load_file("programs/vmm/attack.s");
    for (size_t k = 0; k < 4; k++) {
        check_equivalent_image(&img, "attack.s", specs[k], MEM, BIG_BUDGET, NULL, 0);
        struct stack *s = make_stack(specs[k], &img, MEM, true);
        cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT);
        size_t len;
        const uint8_t *out = stack_guest_output(s, &len);
        cr_assert(len > 11 && memcmp(out + len - 11, "no way out\n", 11) == 0);
        check_vmm_intact(s);
        stack_destroy(s);
    }
    asm_image_free(&img);
}

/* ---- Accounting ------------------------------------------------------------------------- */

Test(stack, accounting_adds_up)
{
    struct asm_image img = load_file("programs/toyos/toyos.s");
    enum machine_stop bstop;
    struct machine *m = run_bare(&img, MEM, BIG_BUDGET, NULL, 0, &bstop);
    const char *specs[] = {"asm,asm,asm", "c,asm,asm"};
    for (size_t k = 0; k < 2; k++) {
        struct stack *s = make_stack(specs[k], &img, MEM, true);
        cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT);
        unsigned n = stack_monitor_count(s);
        struct stack_level_stats lv[STACK_MAX_MONITORS + 1];
        for (unsigned i = 0; i <= n; i++) stack_level_stats(s, i, &lv[i]);
        cr_assert_str_eq(lv[n].name, "guest");
        cr_assert_eq(lv[n].instructions, machine_stats(m)->retired);
        uint64_t guest_traps = 0;
        for (unsigned c = 0; c < CAUSE_COUNT; c++) guest_traps += machine_stats(m)->traps[c];
        cr_assert_eq(lv[n].traps, guest_traps);
        cr_assert_eq(lv[n - 1].emulated, stack_guest_privileged(s));
        cr_assert_gt(stack_guest_privileged(s), 0);
        /* what a monitor reflects is what reaches the level above */
        for (unsigned i = 0; i < n; i++)
            cr_assert_eq(lv[i].reflected, lv[i + 1].traps,
                         "%s: level %u reflects what reaches level %u", specs[k], i, i + 1);
        /* each level below emulates at least one privileged instruction per
         * emulation above: the amplification */
        for (unsigned i = 1; i < n; i++) {
            cr_assert_geq(lv[i - 1].emulated, lv[i].emulated + lv[i].reflected);
            if (stack_spec_of(s)->kind[i - 1] == STACK_ASM)
                cr_assert_gt(lv[i - 1].amplification, lv[i].amplification);
        }
        double sum = 0;
        for (unsigned i = 0; i < n; i++) sum += lv[i].amplification;
        cr_assert_float_eq(lv[n].amplification, sum, 1e-6);
        /* every instruction the real machine retired is some level's */
        const struct machine *real = stack_real_machine_const(s);
        uint64_t retired = 0;
        for (unsigned i = 0; i <= n; i++) {
            uint64_t own = lv[i].instructions;
            if (i > 0 && stack_spec_of(s)->kind[i - 1] == STACK_ASM) own -= lv[i - 1].emulated;
            retired += own;
        }
        if (stack_c_vmm(s)) {
            const struct vmm_stats *cs = vmm_guest_stats(stack_c_vmm(s), 0);
            cr_assert_eq(retired, cs->direct + cs->emulated);
            cr_assert_str_eq(lv[0].name, "c");
            cr_assert_eq(lv[0].instructions, 0);
        } else {
            cr_assert_eq(retired, machine_stats(real)->retired);
            uint64_t real_traps = 0;
            for (unsigned c = 0; c < CAUSE_COUNT; c++) real_traps += machine_stats(real)->traps[c];
            cr_assert_eq(lv[0].traps, real_traps, "every real trap reaches the bottom VMM");
        }
        stack_destroy(s);
    }
    machine_destroy(m);
    asm_image_free(&img);
}

Test(stack, bare_stack_is_the_machine)
{
    struct asm_image img = load_file("programs/fib.s");
    check_equivalent_image(&img, "fib", "bare", MEM, BIG_BUDGET, NULL, 0);
    struct stack *s = make_stack("bare", &img, MEM, true);
    stack_run(s, BIG_BUDGET);
    struct stack_level_stats lv;
    stack_level_stats(s, 0, &lv);
    cr_assert_str_eq(lv.name, "bare");
    cr_assert_eq(lv.instructions, machine_stats(stack_real_machine(s))->retired);
    cr_assert_null(stack_vmm_image(s));
    cr_assert_null(stack_c_vmm(s));
    stack_destroy(s);
    asm_image_free(&img);
}

/* ---- Looking into the levels (the TUI's view) -------------------------------------------- */

static enum machine_verdict count_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    (void)m, (void)t;
    ++*(uint64_t *)ctx;
    return MACHINE_CONTINUE;
}

Test(stack, levels_and_machines)
{
    struct asm_image img = load_file("programs/toyos/toyos_paged.s");
    struct stack *s = make_stack("asm,asm", &img, MEM, true);
    uint64_t traps_seen = 0;
    stack_set_observer(s, &(struct machine_observer){&traps_seen, NULL, count_trap});
    cr_assert_eq(stack_current_level(s), 0, "the bottom VMM starts first");
    cr_assert_eq(stack_machine_psw(s, 2).pc, img.entry, "the guest's reset PSW");
    cr_assert_eq(stack_machine_psw(s, 2).flags, PSW_M);
    cr_assert_eq(stack_run(s, 20000), MACHINE_BUDGET);
    cr_assert_eq(stack_current_level(s), 2);
    size_t words;
    stack_machine_memory(s, 2, &words);
    cr_assert_eq(words, MEM);
    const struct asm_image *vmm = stack_vmm_image(s);
    uint32_t base;
    cr_assert(asm_symbol_value(vmm, "GUEST_BASE", &base));
    stack_machine_memory(s, 1, &words);
    cr_assert_eq(words, MEM + base);
    cr_assert_eq(stack_machine_offset(s, 2), 2 * (uint64_t)base);
    struct vmm_fmap f;
    cr_assert(stack_fmap(s, 1, &f));
    cr_assert_eq(f.n, 1);
    cr_assert_eq(f.ext[0].gpa, 0);
    cr_assert_eq(f.ext[0].hpa, base);
    cr_assert_eq(f.ext[0].words, MEM);
    cr_assert_not(stack_fmap(s, 2, &f), "the guest has no f-map");
    /* the guest's code runs, so neither VMM is in its handler */
    enum machine_stop bstop;
    struct machine *m = run_bare(&img, MEM, 20000, NULL, 0, &bstop);
    struct psw g = stack_guest_psw(s), b = machine_psw(m);
    cr_assert_eq(g.flags, b.flags);
    cr_assert_eq(g.pc, b.pc);
    cr_assert_eq(machine_psw(stack_real_machine(s)).flags & PSW_M, 0);
    cr_assert_eq(stack_machine_psw(s, 1).flags & PSW_M, 0);
    for (unsigned r = 0; r < ISA_NREGS; r++) {
        cr_assert_eq(stack_machine_reg(s, 2, r), machine_reg(m, r));
        cr_assert_eq(stack_machine_reg(s, 1, r), machine_reg(m, r));
    }
    machine_destroy(m);
    cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT);
    uint64_t real_traps = 0;
    for (unsigned c = 0; c < CAUSE_COUNT; c++) real_traps += machine_stats(stack_real_machine(s))->traps[c];
    cr_assert_eq(traps_seen, real_traps, "the observer sees every real trap");
    stack_destroy(s);
    asm_image_free(&img);
}

/* ---- The trap log: where each trap arose and which level handled it ------------------- */

struct trap_log {
    uint64_t emulated_by[STACK_MAX_MONITORS + 1];
    uint64_t handled_above[STACK_MAX_MONITORS + 1]; /* handled by a level above k */
    uint64_t handled_by_guest;
    uint64_t bad;
};

static void log_trap(void *ctx, const struct stack_trap_event *e)
{
    struct trap_log *l = ctx;
    if (e->how == STACK_EMULATED) {
        if (e->handled + 1 != e->arose || e->cause != CAUSE_PRIV) l->bad++;
        l->emulated_by[e->handled]++;
    } else if (e->handled != e->arose) {
        l->bad++;
    }
    for (unsigned k = 0; k < e->handled; k++) l->handled_above[k]++;
}

Test(stack, trap_log_adds_up)
{
    const char *specs[] = {"asm,asm", "c,asm,asm", "c", "bare"};
    const char *programs[] = {"programs/toyos/toyos.s", "programs/toyos/toyos_paged.s"};
    for (size_t p = 0; p < 2; p++)
        for (size_t k = 0; k < 4; k++)
            for (int acc = 0; acc < 2; acc++) {
                struct asm_image img = load_file(programs[p]);
                struct stack *s = make_stack(specs[k], &img, MEM, acc);
                struct trap_log log = {0};
                stack_set_trap_hook(s, log_trap, &log);
                cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT);
                unsigned n = stack_monitor_count(s);
                cr_assert_eq(log.bad, 0, "%s: inconsistent events", specs[k]);
                for (unsigned i = 0; i < n; i++) {
                    struct stack_level_stats lv;
                    stack_level_stats(s, i, &lv);
                    cr_assert_eq(log.emulated_by[i], lv.emulated - lv.interpreted,
                                 "%s %s: emulated by level %u", programs[p], specs[k], i);
                    cr_assert_eq(log.handled_above[i], lv.reflected,
                                 "%s %s: reflected by level %u", programs[p], specs[k], i);
                }
                uint64_t traps[CAUSE_COUNT], total = 0;
                stack_guest_traps(s, traps);
                for (unsigned c = 0; c < CAUSE_COUNT; c++) total += traps[c];
                if (n > 0) cr_assert_eq(log.handled_above[n - 1], total);
                stack_destroy(s);
                asm_image_free(&img);
            }
}

/* A clone runs on by itself: both it and the original end as the bare run,
 * with or without the C VMM. */
Test(stack, clone_for_snapshots)
{
    struct asm_image img = load_file("programs/toyos/toyos_paged.s");
    enum machine_stop bstop;
    struct machine *m = run_bare(&img, MEM, BIG_BUDGET, NULL, 0, &bstop);
    struct stack *s = make_stack("asm,asm", &img, MEM, true);
    cr_assert_eq(stack_run(s, 12345), MACHINE_BUDGET);
    struct stack *c = stack_clone(s);
    cr_assert_not_null(c);
    cr_assert_eq(stack_guest_steps(c), 12345);
    cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT);
    cr_assert_eq(stack_guest_steps(c), 12345, "the clone did not move");
    char why[256];
    cr_assert(same_guest(m, bstop, s, MACHINE_HALT, true, why, sizeof why), "original: %s", why);
    stack_destroy(s); /* the clone keeps the VMM image alive */
    cr_assert_not_null(stack_vmm_image(c));
    cr_assert_eq(stack_run(c, BIG_BUDGET), MACHINE_HALT);
    cr_assert(same_guest(m, bstop, c, MACHINE_HALT, true, why, sizeof why), "clone: %s", why);
    stack_destroy(c);

    struct stack *cv = make_stack("c,asm", &img, MEM, true);
    cr_assert_eq(stack_run(cv, 20000), MACHINE_BUDGET);
    c = stack_clone(cv);
    cr_assert_not_null(c);
    stack_destroy(cv);
    cr_assert_eq(stack_run(c, BIG_BUDGET), MACHINE_HALT);
    cr_assert(same_guest(m, bstop, c, MACHINE_HALT, true, why, sizeof why), "C clone: %s", why);
    stack_destroy(c);
    machine_destroy(m);
    asm_image_free(&img);
}

/* A register set on the guest's machine is the value the guest computes
 * with, whichever monitors sit below it. */
Test(stack, registers_set_reach_the_guest)
{
    struct asm_image img = load_text("wait:   beqz r3, wait\n"
                                     "        beqz r5, wait\n"
                                     "        add r1, r3, r5\n"
                                     "        halt\n");
    const char *specs[] = {"asm", "c,asm", "asm,asm", "c,asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct stack *s = make_stack(specs[k], &img, MEM, false);
        unsigned n = stack_monitor_count(s);
        cr_assert_eq(stack_run(s, 2000), MACHINE_BUDGET, "%s: the guest spins", specs[k]);
        cr_assert(stack_machine_set_reg(s, n, 3, 40));
        cr_assert(stack_machine_set_reg(s, n, 5, 2));
        cr_assert_eq(stack_machine_reg(s, n, 3), 40, "%s: r3 reads back", specs[k]);
        cr_assert_not(stack_machine_set_reg(s, n, 0, 1), "r0 stays 0");
        cr_assert_not(stack_machine_set_reg(s, n + 1, 3, 1), "no machine beyond the guest's");
        cr_assert_eq(stack_run(s, BIG_BUDGET), MACHINE_HALT, "%s", specs[k]);
        cr_assert_eq(stack_guest_reg(s, 1), 42, "%s: the guest saw both registers", specs[k]);
        stack_destroy(s);
    }
    asm_image_free(&img);
}
