/*
 * test_run_guards.c: the run's preconditions are live in the test build.
 *
 * A guest index past the run's guests, or a level past the program, is the
 * caller's bug: in the test build the invariant check aborts (isa/invariant.h),
 * in release the run answers for guest 0 or the program instead.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>

#include "test_run_support.h"

/* The abort's message is expected: keep it off the test's output. */
static void quiet(void) { cr_redirect_stderr(); }

static struct run *hello(const char *spec, struct asm_image *img)
{
    *img = tr_load_file("programs/hello.s");
    return tr_run(spec, "pg", img, TR_MEM);
}

Test(run_guards, a_guest_past_the_runs_aborts, .signal = SIGABRT, .init = quiet)
{
    struct asm_image img;
    struct run *r = hello("c", &img);
    struct run_guest_state s;
    run_guest_state(r, 1, &s); /* one guest: index 1 does not exist */
}

Test(run_guards, a_level_past_the_program_aborts, .signal = SIGABRT, .init = quiet)
{
    struct asm_image img;
    struct run *r = hello("c,asm", &img);
    struct run_level_view v;
    run_level_view(r, 0, 3, &v); /* levels 0..2 */
}

Test(run_guards, counts_of_a_level_past_the_program_abort, .signal = SIGABRT, .init = quiet)
{
    struct asm_image img;
    struct run *r = hello("asm", &img);
    struct run_level_counts k;
    run_level_counts(r, 0, 2, &k);
}

Test(run_guards, in_range_nothing_aborts)
{
    struct asm_image img;
    struct run *r = hello("c,asm", &img);
    for (unsigned L = 0; L < run_level_count(r); L++) {
        struct run_level_view v;
        run_level_view(r, 0, L, &v);
        cr_assert_eq(v.level, L);
    }
    run_destroy(r);
    asm_image_free(&img);
}
