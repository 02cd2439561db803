/*
 * harness.h: what the bench harnesses (observer.c, unobserved.c) share.
 * Each is one file built by lib.sh's `harness` against the release objects.
 */
#ifndef TRAPEZE_BENCH_HARNESS_H
#define TRAPEZE_BENCH_HARNESS_H

#include <stdlib.h>
#include <time.h>

/* CPU time of this process: on a machine shared with other jobs it varies
 * far less than wall time does. */
static double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of times[0..n) (n >= 1), which it sorts. */
static double bench_median(double *times, size_t n)
{
    qsort(times, n, sizeof times[0], bench_cmp_double);
    return times[n / 2];
}

#endif
