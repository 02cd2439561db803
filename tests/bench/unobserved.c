/*
 * unobserved.c: a stack of asm VMMs on the real machine with no observer,
 * what a run would cost without its accounting.
 *
 *   build/bench/unobserved VMM PROGRAM N [RUNS]
 *
 * Loads N copies of VMM (programs/vmm/vmm.s) and PROGRAM as `trapeze run
 * --stack asm,...,asm` does (vmm/run/run.c: copy i at i * GUEST_BASE, its
 * guest_entry the entry of the level above, the program on top with the
 * default memory), runs the real machine to the end with no hook set, and
 * prints the median CPU time of RUNS runs (default 3) and the real
 * machine's retired instructions:
 *
 *   cpu SECONDS instructions N
 *
 * tests/bench/nested.sh compares it with the same stack under ./trapeze
 * run, whose observer attributes every instruction to a level.  It is built
 * by the script against the release objects; it is not part of ./trapeze.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../assembler/asm.h"
#include "../../machine/machine.h"
#include "harness.h"

#define MAX_RUNS 31
#define MAX_VMMS 8

/* One run: the CPU time of machine_run, or a negative number when the
 * stack cannot be built or the program does not halt. */
static double run_once(const struct asm_image *vmm, const struct asm_image *prog, unsigned n,
                       const struct isa_variant *variant, uint64_t *retired)
{
    uint32_t base, entry_word;
    if (!asm_symbol_value(vmm, "GUEST_BASE", &base) ||
        !asm_symbol_value(vmm, "guest_entry", &entry_word))
        return -1;
    const size_t memsize = ISA_DEFAULT_MEMSIZE + (size_t)n * base;
    struct machine *m = machine_create(memsize, variant);
    if (!m) return -1;
    uint32_t *mem = machine_memory(m);
    for (unsigned i = 0; i < n; i++) {
        uint32_t *at = mem + (size_t)i * base;
        if (!asm_image_place(vmm, at, memsize - (size_t)i * base, 0)) goto failed;
        at[entry_word] = i + 1 < n ? vmm->entry : prog->entry;
    }
    if (!asm_image_place(prog, mem + (size_t)n * base, ISA_DEFAULT_MEMSIZE, 0)) goto failed;
    machine_reset(m, n ? vmm->entry : prog->entry);
    double t0 = bench_now();
    enum machine_stop stop = machine_run(m, UINT64_MAX);
    double t1 = bench_now();
    *retired = machine_stats(m)->retired;
    machine_destroy(m);
    return stop == MACHINE_HALT ? t1 - t0 : -1;
failed:
    machine_destroy(m);
    return -1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s VMM PROGRAM N [RUNS]\n", argv[0]);
        return 2;
    }
    const int n = atoi(argv[3]), runs = argc == 5 ? atoi(argv[4]) : 3;
    if (n < 0 || n > MAX_VMMS || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "%s: N must be 0..%d, RUNS 1..%d\n", argv[0], MAX_VMMS, MAX_RUNS);
        return 2;
    }
    struct asm_image vmm, prog;
    if (asm_load_program(argv[1], &vmm, stderr) != 0) return 2;
    if (asm_load_program(argv[2], &prog, stderr) != 0) {
        asm_image_free(&vmm);
        return 2;
    }
    struct isa_variant variant;
    char err[ISA_ERROR_SIZE];
    int status = 0;
    if (!isa_variant_load("pg", &variant, err)) {
        fprintf(stderr, "%s\n", err);
        status = 2;
        goto done;
    }
    double times[MAX_RUNS];
    uint64_t retired = 0;
    for (int i = 0; i < runs; i++) {
        times[i] = run_once(&vmm, &prog, (unsigned)n, &variant, &retired);
        if (times[i] < 0) {
            fprintf(stderr, "%s: %s on %d asm VMMs did not halt\n", argv[0], argv[2], n);
            status = 1;
            goto done;
        }
    }
    printf("cpu %.6f instructions %llu\n", bench_median(times, (size_t)runs), (unsigned long long)retired);
done:
    asm_image_free(&vmm);
    asm_image_free(&prog);
    return status;
}
