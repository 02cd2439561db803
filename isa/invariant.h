/*
 * invariant.h: the simulator's own invariants, asserted in the test build.
 *
 * Guest misbehaviour is never checked here: it is a trap.  These are the
 * simulator's promises to itself (the batch accounting, the f-map, which
 * guest is loaded) and the preconditions of its APIs, after SQLite's
 * assert(), ALWAYS() and NEVER():
 *
 *                        test build (-DTRAPEZE_TEST_BUILD)   release build
 *   TRAPEZE_ASSERT(x)    abort with file:line: x when false   nothing; x is not evaluated
 *   ALWAYS(x)            (x), abort when false                (x)
 *   NEVER(x)             (x), abort when true                 (x)
 *
 * TRAPEZE_ASSERT is for what cannot happen.  ALWAYS and NEVER guard a
 * defensive branch that the release build still takes, so a broken
 * invariant there degrades instead of corrupting memory:
 *
 *     if (NEVER(g >= v->nguests)) return 0;
 *
 * In the release build TRAPEZE_ASSERT's expression is still compiled (as
 * the operand of sizeof), so it keeps type-checking and the variables it
 * names count as used; TRAPEZE_TESTING lets code compute a value only an
 * assertion needs: `const uint64_t before = TRAPEZE_TESTING ? f() : 0;`.
 */
#ifndef TRAPEZE_INVARIANT_H
#define TRAPEZE_INVARIANT_H

#ifdef TRAPEZE_TEST_BUILD

#include <stdio.h>
#include <stdlib.h>

#define TRAPEZE_TESTING 1

/* Reports a broken invariant on stderr and aborts (SIGABRT). */
_Noreturn static inline void trapeze_invariant_failed(const char *file, int line,
                                                      const char *expr)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, expr);
    fflush(stderr);
    abort();
}

#define TRAPEZE_ASSERT(x) \
    ((x) ? (void)0 : trapeze_invariant_failed(__FILE__, __LINE__, #x))
#define ALWAYS(x) ((x) ? 1 : (trapeze_invariant_failed(__FILE__, __LINE__, "ALWAYS(" #x ")"), 0))
#define NEVER(x) ((x) ? (trapeze_invariant_failed(__FILE__, __LINE__, "NEVER(" #x ")"), 1) : 0)

#else

#define TRAPEZE_TESTING 0
#define TRAPEZE_ASSERT(x) ((void)sizeof(!(x)))
#define ALWAYS(x) (x)
#define NEVER(x) (x)

#endif

#endif
