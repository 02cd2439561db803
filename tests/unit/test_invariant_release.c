/*
 * test_invariant_release.c: isa/invariant.h as the release build sees it.
 * This file is compiled like every unit test, with -DTRAPEZE_TEST_BUILD;
 * it undefines it before the header, so the macros here are the release
 * ones: TRAPEZE_ASSERT vanishes without evaluating, ALWAYS and NEVER are
 * their expression and the defensive branch runs.
 */
#undef TRAPEZE_TEST_BUILD
#include "../../isa/invariant.h"

#include <criterion/criterion.h>

Test(invariant_release, assert_vanishes_without_evaluating)
{
    int evaluated = 0;
    TRAPEZE_ASSERT(++evaluated == 5);
    cr_assert_eq(evaluated, 0);
    cr_assert_eq(TRAPEZE_TESTING, 0);
}

Test(invariant_release, always_and_never_are_their_expression)
{
    int taken = 0;
    if (ALWAYS(1 + 1 == 3)) taken |= 1;
    else taken |= 2;
    if (NEVER(2 > 1)) taken |= 4;
    cr_assert_eq(taken, 2 | 4, "both defensive branches ran, nothing aborted");
    cr_assert_eq(ALWAYS(7), 7);
    cr_assert_eq(NEVER(0), 0);
}
