/*
 * test_equiv.c: Popek and Goldberg's equivalence, checked by running
 * (vmm/equiv/equiv.h).
 *
 * Equivalent programs at depths 1 to 3; critical.s under x86like and the C
 * VMM, whose first difference is its first popf (step 331); a guest the asm
 * VMM gives up on; and a difference that goes away again, which bisection
 * over step budgets cannot see and the lockstep finds: under x86like a
 * kernel's pushf shows the real flags (user mode, IE) under te, and the
 * register it wrote is overwritten at once; a second pushf at the end makes
 * the final states differ.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/equiv/equiv.h"
#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

/* Converges: differs after step 1 (r2), the same from step 2 to 103, and
 * differs again from step 104 (r3) to the end. */
static const char CONVERGES[] = "_start: pushf r2\n"
                                "        li r2, 0\n"
                                "        li r4, 50\n"
                                "loop:   addi r4, r4, -1\n"
                                "        bnez r4, loop\n"
                                "late:   pushf r3\n"
                                "        halt\n";
/* The same without the first pushf: only the late difference. */
static const char LATE_ONLY[] = "_start: li r2, 0\n"
                                "        li r2, 0\n"
                                "        li r4, 50\n"
                                "loop:   addi r4, r4, -1\n"
                                "        bnez r4, loop\n"
                                "late:   pushf r3\n"
                                "        halt\n";

static bool check(const char *spec, const char *variant, const struct asm_image *img, uint64_t max_steps,
                  const uint8_t *input, size_t len, struct equiv_report *rep, char err[RUN_ERROR_SIZE])
{
    struct isa_variant v = test_support_variant(variant);
    struct equiv_config cfg = {tr_spec(spec), &v, MEM, max_steps, input, len, img, NULL, NULL, 0, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    return equiv_check(&cfg, rep, err);
}

static bool line_has(const struct equiv_lines *l, const char *text)
{
    for (size_t i = 0; i < l->n; i++)
        if (strstr(l->text[i], text)) return true;
    return false;
}

/* ---- Equivalent ------------------------------------------------------------------------ */

Test(equiv, equivalent_at_depths_1_to_3)
{
    const char *paths[] = {"programs/toyos/toyos.s", "programs/echo_irq.s", "programs/paging.s"};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        struct asm_image img = tr_load_file(paths[p]);
        size_t len;
        uint8_t *input = tr_input_of(paths[p], &len);
        struct machine *m = tr_bare(&img, "pg", MEM, input, len);
        cr_assert_eq(machine_run(m, TR_BIG_BUDGET), MACHINE_HALT);
        for (unsigned d = 1; d <= 3; d++) {
            struct isa_variant v = test_support_variant("pg");
            struct equiv_config cfg = {.variant = &v, .memsize = MEM, .max_steps = TR_BIG_BUDGET,
                                       .input = input, .input_len = len, .program = &img};
            char err[RUN_ERROR_SIZE] = "";
            cr_assert(run_spec_depth(d, &cfg.spec, err));
            struct equiv_report rep;
            cr_assert(equiv_check(&cfg, &rep, err), "%s: %s", paths[p], err);
            cr_assert(rep.equivalent, "%s at depth %u: %s", paths[p], d, rep.at_end.n ? rep.at_end.text[0] : "");
            cr_assert_not(rep.gave_up);
            cr_assert_eq(rep.bare.stop, MACHINE_HALT);
            cr_assert_eq(rep.virt.stop, MACHINE_HALT);
            cr_assert_eq(rep.bare.steps, machine_steps(m), "%s: the bare side is the machine", paths[p]);
            cr_assert_eq(rep.virt.steps, rep.bare.steps);
            cr_assert_eq(rep.bare.status, machine_reg(m, 1));
            cr_assert_eq(rep.virt.status, rep.bare.status);
            cr_assert_eq(rep.at_end.n, 0);
            cr_assert_eq(rep.at_step.n, 0);
        }
        machine_destroy(m);
        free(input);
        asm_image_free(&img);
    }
}

Test(equiv, a_budget_ends_both_sides_at_the_same_step)
{
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const uint64_t budgets[] = {0, 1, 777, 20000};
    for (size_t b = 0; b < 4; b++) {
        struct equiv_report rep;
        char err[RUN_ERROR_SIZE];
        cr_assert(check("c,asm", "pg", &img, budgets[b], NULL, 0, &rep, err), "%s", err);
        cr_assert(rep.equivalent);
        cr_assert_eq(rep.bare.stop, MACHINE_BUDGET);
        cr_assert_eq(rep.bare.steps, budgets[b]);
        cr_assert_eq(rep.virt.steps, budgets[b]);
    }
    asm_image_free(&img);
}

/* ---- Not equivalent --------------------------------------------------------------------- */

Test(equiv, critical_under_x86like_breaks_at_its_first_popf)
{
    struct asm_image img = tr_load_file("programs/critical.s");
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];
    cr_assert(check("c", "x86like", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    cr_assert_not(rep.equivalent);
    cr_assert_not(rep.gave_up);
    cr_assert_eq(rep.first_step, 331);
    cr_assert(strstr(rep.step, "step 331") && strstr(rep.step, "popf") && strstr(rep.step, "<next_round>") &&
                  strstr(rep.step, "supervisor"),
              "%s", rep.step);
    cr_assert(line_has(&rep.at_step, "psw.flags: bare 0x1 (M), vmm 0x3 (M IE)"), "%s",
              rep.at_step.n ? rep.at_step.text[0] : "(none)");
    cr_assert_eq(rep.bare.stop, MACHINE_HALT);
    cr_assert_eq(rep.bare.status, 0, "bare: a clean report");
    cr_assert_eq(rep.virt.stop, MACHINE_HALT);
    cr_assert_neq(rep.virt.status, 0, "under te: lost updates");
    cr_assert_gt(rep.at_end.n, 0);
    cr_assert(line_has(&rep.at_end, "r1: bare"));
    cr_assert(line_has(&rep.at_end, "steps: bare"));
    /* the hybrid VMM interprets the kernel: equivalent */
    struct run_spec hvm = tr_spec("c");
    hvm.mode = VMM_HVM;
    struct isa_variant v = test_support_variant("x86like");
    struct equiv_config cfg = {hvm, &v, MEM, TR_BIG_BUDGET, NULL, 0, &img, NULL, NULL, 0, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert(rep.equivalent, "hvm: %s", rep.at_end.n ? rep.at_end.text[0] : "");
    /* and on pg, te is exact */
    cr_assert(check("c", "pg", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    cr_assert(rep.equivalent);
    asm_image_free(&img);
}

Test(equiv, the_asm_vmm_gives_up_on_a_long_page_table)
{
    const char *guests[] = {"tests/guests/shadow_limit_load.s", "tests/guests/shadow_limit_lpsw.s",
                            "tests/guests/shadow_limit_new_psw.s"};
    const char *specs[] = {"asm", "c,asm", "asm,asm"};
    const unsigned level[] = {0, 1, 1};
    for (size_t g = 0; g < 3; g++) {
        struct asm_image img = tr_load_file(guests[g]);
        for (size_t k = 0; k < 3; k++) {
            struct equiv_report rep;
            char err[RUN_ERROR_SIZE];
            cr_assert(check(specs[k], "pg", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
            cr_assert_not(rep.equivalent, "%s under %s", guests[g], specs[k]);
            cr_assert(rep.gave_up, "%s under %s", guests[g], specs[k]);
            cr_assert_eq(rep.gave_up_level, level[k], "%s under %s: the program's monitor", guests[g], specs[k]);
            cr_assert(strstr(rep.gave_up_message, "shadow"), "%s", rep.gave_up_message);
            cr_assert_eq(rep.virt.stop, MACHINE_UNHANDLED_TRAP);
            cr_assert_eq(rep.bare.stop, MACHINE_HALT);
            cr_assert(line_has(&rep.at_end, "stop: bare halt, vmm unhandled-trap"));
            cr_assert_lt(rep.virt.steps, rep.bare.steps);
            cr_assert_gt(rep.first_step, 0);
            cr_assert_leq(rep.first_step, rep.virt.steps + 1);
        }
        /* the C VMM alone has no such limit */
        struct equiv_report rep;
        char err[RUN_ERROR_SIZE];
        cr_assert(check("c", "pg", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
        cr_assert(rep.equivalent, "%s under c", guests[g]);
        cr_assert_not(rep.gave_up);
        asm_image_free(&img);
    }
}

/* Where one side stops before the other, the first difference is the step
 * the stopped side could not take, and the report lists what differs just
 * after it. */
Test(equiv, the_first_difference_of_a_side_that_stops_early)
{
    /* Regression: find_first took min(bare.steps, virt.steps) as a differing step unchecked:
     * shadow_limit_load.s under asm said step 271, an ori, with nothing listed. */
    struct asm_image img = tr_load_file("tests/guests/shadow_limit_load.s");
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];
    cr_assert(check("asm", "pg", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    cr_assert_not(rep.equivalent);
    cr_assert_gt(rep.at_step.n, 0, "first step %" PRIu64 ": no difference listed just after it", rep.first_step);
    cr_assert(line_has(&rep.at_step, "stop: bare running, vmm unhandled-trap"));
    cr_assert_eq(rep.first_step, rep.virt.steps + 1);
    cr_assert(strstr(rep.step, "ld r1, 7(r2)"), "%s", rep.step);
    asm_image_free(&img);
}

/* ---- Finding the first difference -------------------------------------------------------- */

Test(equiv, the_lockstep_finds_a_difference_that_went_away)
{
    struct asm_image conv = tr_load_text(CONVERGES), late = tr_load_text(LATE_ONLY);
    uint32_t late_at;
    cr_assert(asm_symbol_value(&conv, "late", &late_at));
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];

    /* bisection alone: the late pushf is where the two part for good */
    cr_assert(check("c", "x86like", &late, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    cr_assert_not(rep.equivalent);
    cr_assert_eq(rep.bare.steps, 105);
    cr_assert_eq(rep.first_step, 104);
    char want[96];
    snprintf(want, sizeof want, "0x%06x <late>  pushf r3", late_at);
    cr_assert(strstr(rep.step, want), "%s", rep.step);
    cr_assert(line_has(&rep.at_step, "r3: bare 0x00000001, vmm 0x00000002"));

    /* with an early difference that converged: the lockstep finds step 1 */
    cr_assert(check("c", "x86like", &conv, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    cr_assert_not(rep.equivalent);
    cr_assert_eq(rep.first_step, 1, "found step %" PRIu64, rep.first_step);
    cr_assert(strstr(rep.step, "step 1, in supervisor mode") && strstr(rep.step, "<_start>  pushf r2"), "%s",
              rep.step);
    cr_assert(line_has(&rep.at_step, "r2: bare 0x00000001, vmm 0x00000002"));
    cr_assert_not(line_has(&rep.at_step, "r3"), "r3 is not written yet at step 1");
    cr_assert(line_has(&rep.at_end, "r3: bare 0x00000001, vmm 0x00000002"));
    cr_assert_not(line_has(&rep.at_end, "r2"), "r2 converged");
    asm_image_free(&conv);
    asm_image_free(&late);
}

/* ---- Errors, hooks, the report ------------------------------------------------------------- */

Test(equiv, a_side_that_cannot_be_made)
{
    struct asm_image img = tr_load_file("programs/hello.s");
    struct isa_variant v = test_support_variant("pg");
    struct equiv_config cfg = {tr_spec("asm"), &v, MEM, 1000, NULL, 0, &img, "/nonexistent/vmm.s", NULL, 0, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE] = "";
    cr_assert_not(equiv_check(&cfg, &rep, err));
    cr_assert(strstr(err, "does not assemble"), "%s", err);
    struct asm_image far = tr_load_text(".org 0x8000\n_start: halt\n");
    cfg = (struct equiv_config){tr_spec("c"), &v, 0x1000, 1000, NULL, 0, &far, NULL, NULL, 0, NULL, NULL,
                                false, VMM_IO_DIRECT, true};
    err[0] = '\0';
    cr_assert_not(equiv_check(&cfg, &rep, err));
    cr_assert(strstr(err, "does not fit"), "%s", err);
    asm_image_free(&far);
    asm_image_free(&img);
}

static enum machine_verdict count(void *ctx, struct run *r, const struct run_event *e)
{
    (void)r, (void)e;
    ++*(uint64_t *)ctx;
    return MACHINE_CONTINUE;
}

Test(equiv, trace_hooks_see_the_virtualized_run)
{
    struct asm_image img = tr_load_text(tr_ev_guest);
    struct isa_variant v = test_support_variant("pg");
    uint64_t seen = 0;
    const struct run_hooks hooks = {&seen, count, NULL};
    struct equiv_config cfg = {tr_spec("c,asm"), &v, MEM, TR_BIG_BUDGET, NULL, 0, &img, NULL, &hooks, 0, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert(rep.equivalent);
    /* as many as a run of its own shows */
    struct run *r = tr_run("c,asm", "pg", &img, MEM);
    uint64_t direct = 0;
    run_set_hooks(r, &(struct run_hooks){&direct, count, NULL});
    run_go(r, TR_BIG_BUDGET);
    cr_assert_gt(direct, 0);
    cr_assert_eq(seen, direct);
    run_destroy(r);
    asm_image_free(&img);
}

static char *printed(const struct equiv_report *rep, const char *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert_not_null(out);
    equiv_print(out, rep, what);
    fclose(out);
    return text;
}

Test(equiv, the_printed_report)
{
    struct asm_image img = tr_load_file("programs/critical.s");
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];
    cr_assert(check("c", "pg", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    char *text = printed(&rep, "critical.s");
    char want[128];
    snprintf(want, sizeof want, "equivalent: critical.s: halt, status 0 after %" PRIu64 " steps\n", rep.bare.steps);
    cr_assert_str_eq(text, want);
    free(text);

    cr_assert(check("c", "x86like", &img, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    text = printed(&rep, "critical.s under --vmm te");
    cr_assert(strncmp(text, "not equivalent: critical.s under --vmm te\nfirst difference after step 331:\n  step 331",
                      strlen("not equivalent: critical.s under --vmm te\nfirst difference after step 331:\n  step 331")) == 0,
              "%s", text);
    snprintf(want, sizeof want, "at the end: bare halt, status 0 after %" PRIu64 " steps; vmm halt, status %d after %" PRIu64
             " steps\n", rep.bare.steps, (int)rep.virt.status, rep.virt.steps);
    cr_assert(strstr(text, want), "%s", text);
    free(text);

    struct asm_image lim = tr_load_file("tests/guests/shadow_limit_load.s");
    cr_assert(check("asm", "pg", &lim, TR_BIG_BUDGET, NULL, 0, &rep, err), "%s", err);
    text = printed(&rep, "x");
    cr_assert(strstr(text, "the asm VMM at L0 gave up: the guest's page table is longer than the shadow table\n"), "%s",
              text);
    free(text);
    asm_image_free(&lim);
    asm_image_free(&img);
}
