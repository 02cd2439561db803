/*
 * fuzz_machine.c: the bare machine, on any memory, entry and input.
 *
 * Properties: a run ends within its budget, and it is deterministic
 * whatever the cut: one machine_run of FUZZ_STEPS and a clone run in
 * pieces (sizes from the input, single steps among them) end in the same
 * registers, PSW, memory, output, stop and step count.
 */
#include "guest.h"

static void expect_same(struct machine *a, struct machine *b)
{
    FUZZ_CHECK(machine_state(a) == machine_state(b), "stop %s vs %s", machine_stop_name(machine_state(a)),
               machine_stop_name(machine_state(b)));
    FUZZ_CHECK(machine_steps(a) == machine_steps(b), "steps %llu vs %llu",
               (unsigned long long)machine_steps(a), (unsigned long long)machine_steps(b));
    FUZZ_CHECK(memcmp(machine_regs(a), machine_regs(b), ISA_NREGS * sizeof(uint32_t)) == 0, "registers");
    struct psw pa = machine_psw(a), pb = machine_psw(b);
    FUZZ_CHECK(memcmp(&pa, &pb, sizeof pa) == 0, "PSW");
    FUZZ_CHECK(memcmp(machine_memory(a), machine_memory(b), FUZZ_MEM_WORDS * sizeof(uint32_t)) == 0,
               "memory");
    size_t la, lb;
    const uint8_t *oa = machine_output(a, &la), *ob = machine_output(b, &lb);
    FUZZ_CHECK(la == lb && (la == 0 || memcmp(oa, ob, la) == 0), "output");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_guest *g = malloc(sizeof *g);
    FUZZ_CHECK(g != NULL, "out of memory");
    fuzz_guest_decode(data, size, g);
    struct machine *whole = fuzz_guest_machine(g);
    struct machine *pieces = machine_clone(whole);
    FUZZ_CHECK(pieces != NULL, "machine_clone");
    machine_run(whole, FUZZ_STEPS);
    FUZZ_CHECK(machine_steps(whole) <= FUZZ_STEPS, "ran past its budget");
    const uint64_t piece = 1 + (g->choice & 0x7f) * 37;
    for (uint64_t k = 0; machine_state(pieces) == MACHINE_BUDGET && machine_steps(pieces) < FUZZ_STEPS; k++) {
        uint64_t want = machine_steps(pieces) + ((k & 3) == 3 ? 1 : piece);
        if (want > FUZZ_STEPS) want = FUZZ_STEPS;
        if (k & 1) {
            while (machine_steps(pieces) < want && machine_step(pieces) == MACHINE_BUDGET) {}
        } else {
            machine_run(pieces, want - machine_steps(pieces));
        }
    }
    expect_same(whole, pieces);
    machine_destroy(whole);
    machine_destroy(pieces);
    free(g);
    return 0;
}
