/*
 * observer.c: what the observer hook costs the interpreter.
 *
 *   build/bench/observer PROGRAM [RUNS]
 *
 * Runs PROGRAM (a .s or an image) on fresh machines, RUNS times (default 3)
 * in each of three set-ups, and prints the median simulated MIPS of each:
 *
 *   unset         no observer: the hot loop
 *   after_trap    an observer with only after_trap: before_insn stays NULL,
 *                 so this must run as fast as "unset"
 *   before_insn   an observer whose before_insn does nothing: the price of
 *                 per-instruction tracing
 *   system_only   the same filtered to system instructions
 *                 (machine_set_observer_filter): the run's accounting
 *                 under monitors, which must run as fast as "unset"
 *
 * tests/bench/run.sh builds it against the release objects; it is not part
 * of ./trapeze.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../assembler/asm.h"
#include "../../machine/machine.h"
#include "harness.h"

#define MAX_RUNS 31

enum setup { SETUP_UNSET, SETUP_AFTER_TRAP, SETUP_BEFORE_INSN, SETUP_SYSTEM_ONLY, SETUP_COUNT };
static const char *const setup_names[SETUP_COUNT] = {"unset", "after_trap", "before_insn",
                                                     "system_only"};

struct counter {
    unsigned long long calls;
};

static enum machine_verdict count_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    (void)m, (void)pc, (void)insn;
    ((struct counter *)ctx)->calls++;
    return MACHINE_CONTINUE;
}

static enum machine_verdict count_trap(void *ctx, struct machine *m,
                                       const struct machine_trap *trap)
{
    (void)m, (void)trap;
    ((struct counter *)ctx)->calls++;
    return MACHINE_CONTINUE;
}

/* CPU time of this process: on a machine shared with other jobs it varies
 * far less than wall time does. */
/* One run of img in the given set-up: returns the CPU time in seconds and
 * sets *retired, or returns a negative number when the run does not halt. */
static double run_once(const struct asm_image *img, const struct isa_variant *variant,
                       enum setup setup, uint64_t *retired)
{
    struct machine *m = machine_create(ISA_DEFAULT_MEMSIZE, variant);
    if (!m || !asm_image_place(img, machine_memory(m), machine_memsize(m), 0)) {
        machine_destroy(m);
        return -1;
    }
    machine_reset(m, img->entry);
    struct counter counter = {0};
    struct machine_observer obs = {&counter, NULL, NULL};
    if (setup == SETUP_AFTER_TRAP) obs.after_trap = count_trap;
    if (setup == SETUP_BEFORE_INSN || setup == SETUP_SYSTEM_ONLY) obs.before_insn = count_insn;
    if (setup != SETUP_UNSET) machine_set_observer(m, &obs);
    if (setup == SETUP_SYSTEM_ONLY) machine_set_observer_filter(m, MACHINE_OBSERVE_SYSTEM);
    double t0 = bench_now();
    enum machine_stop stop = machine_run(m, UINT64_MAX);
    double t1 = bench_now();
    *retired = machine_stats(m)->retired;
    machine_destroy(m);
    return stop == MACHINE_HALT ? t1 - t0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PROGRAM [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc == 3 ? atoi(argv[2]) : 3;
    if (runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "%s: RUNS must be 1..%d\n", argv[0], MAX_RUNS);
        return 2;
    }
    struct asm_image img;
    if (asm_load_program(argv[1], &img, stderr) != 0) return 2;
    struct isa_variant variant;
    char err[ISA_ERROR_SIZE];
    if (!isa_variant_load("pg", &variant, err)) {
        fprintf(stderr, "%s\n", err);
        asm_image_free(&img);
        return 2;
    }
    double base_mips = 0;
    for (int s = 0; s < SETUP_COUNT; s++) {
        double times[MAX_RUNS];
        uint64_t retired = 0;
        for (int i = 0; i < runs; i++) {
            times[i] = run_once(&img, &variant, (enum setup)s, &retired);
            if (times[i] < 0) {
                fprintf(stderr, "%s: %s did not halt\n", argv[0], argv[1]);
                asm_image_free(&img);
                return 1;
            }
        }
        double median = bench_median(times, (size_t)runs);
        double mips = (double)retired / median / 1e6;
        if (s == SETUP_UNSET) base_mips = mips;
        printf("  observer %-12s %6.0f MIPS  (median of %d: %.3f s cpu)  %+6.1f%% vs unset\n",
               setup_names[s], mips, runs, median, (mips / base_mips - 1) * 100);
    }
    asm_image_free(&img);
    return 0;
}
