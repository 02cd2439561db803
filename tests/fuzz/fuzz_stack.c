/*
 * fuzz_stack.c: stacks of monitors (vmm/run), on any guest.
 *
 * The input's program (guest.h, in a machine of FUZZ_STACK_WORDS words)
 * runs bare and on a stack chosen from the input: c, asm, c,asm, asm,asm,
 * c,asm,asm, with the C VMM in te.  Properties: both end within their
 * budgets (FUZZ_STACK_STEPS of the program, FUZZ_STACK_UNITS of real
 * work); on pg (virtualizable), when the stacked run was not cut by the
 * real budget, did not stall and no monitor gave up, and the program kept
 * ISA.md's page-table rule (as far as the machine's record of changed
 * entries can tell: none changed past it), the program ends as on the
 * bare machine:
 * stop, registers, PSW, memory, output, steps.
 */
#include "guest.h"

#include "../../vmm/run/run.h"

#define FUZZ_STACK_WORDS 0x800u
#define FUZZ_STACK_STEPS 1500u
#define FUZZ_STACK_UNITS 4000000u

/* The built-in asm VMM, assembled once for the whole campaign: assembling
 * it for every run was 55% of the harness's time.  The fuzzer's process is
 * this harness's main, so this is main's state; runs only take references. */
static struct asm_vmm *built_in_vmm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char err[RUN_ERROR_SIZE];
    built_in_vmm = run_load_asm_vmm(NULL, err);
    FUZZ_CHECK(built_in_vmm != NULL, "the asm VMM: %s", err);
    return 0;
}

static struct run *side(const struct fuzz_guest *g, const struct run_spec *spec,
                        const struct asm_image *img)
{
    struct run_config cfg = {*spec, &g->variant, FUZZ_STACK_WORDS, 1, NULL, built_in_vmm};
    char err[RUN_ERROR_SIZE];
    const struct asm_image *programs[1] = {img};
    struct run *r = run_create(&cfg, programs, err);
    FUZZ_CHECK(r != NULL, "run_create: %s", err);
    run_feed_input(r, 0, g->input, g->input_len);
    run_set_bounds(r, FUZZ_STACK_UNITS, NULL);
    run_go(r, FUZZ_STACK_STEPS);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const stacks[] = {"c", "asm", "c,asm", "asm,asm", "c,asm,asm"};
    struct fuzz_guest *g = malloc(sizeof *g);
    FUZZ_CHECK(g != NULL, "out of memory");
    fuzz_guest_decode(data, size, g);
    struct asm_segment seg = {0, g->mem, FUZZ_STACK_WORDS};
    struct asm_image img = {.entry = g->entry % FUZZ_STACK_WORDS, .segments = &seg, .nsegments = 1};
    struct run_spec bare_spec = {.n = 0, .mode = VMM_TE}, spec;
    char err[RUN_ERROR_SIZE];
    FUZZ_CHECK(run_spec_parse(stacks[g->choice % 5], &spec, err), "%s", err);

    struct run *bare = side(g, &bare_spec, &img), *virt = side(g, &spec, &img);
    struct run_guest_state a, b;
    run_guest_state(bare, 0, &a);
    run_guest_state(virt, 0, &b);
    FUZZ_CHECK(a.steps <= FUZZ_STACK_STEPS && b.steps <= FUZZ_STACK_STEPS, "past the budget");
    unsigned level;
    const char *msg;
    struct machine_pte_use use;
    const bool comparable = g->variant_index == 0 && run_cut_of(virt) == RUN_CUT_NONE &&
                            !run_stalled(virt, 0) && !run_monitor_error(virt, 0, &level, &msg) &&
                            !machine_pte_rule_broken(run_real_machine(bare), &use) &&
                            /* past the record the rule's uses are not seen (machine.h) */
                            machine_stats(run_real_machine(bare))->pte_writes_unchecked == 0;
    if (comparable) {
        const char *on = stacks[g->choice % 5];
        FUZZ_CHECK(a.stop == b.stop, "%s: stop bare %s, stacked %s", on, machine_stop_name(a.stop),
                   machine_stop_name(b.stop));
        FUZZ_CHECK(memcmp(a.regs, b.regs, sizeof a.regs) == 0, "%s: registers", on);
        FUZZ_CHECK(memcmp(&a.psw, &b.psw, sizeof a.psw) == 0, "%s: PSW", on);
        FUZZ_CHECK(a.memsize == b.memsize && memcmp(a.mem, b.mem, a.memsize * sizeof *a.mem) == 0,
                   "%s: memory", on);
        FUZZ_CHECK(a.output_len == b.output_len &&
                       (a.output_len == 0 || memcmp(a.output, b.output, a.output_len) == 0),
                   "%s: output", on);
        FUZZ_CHECK(a.steps == b.steps, "%s: steps bare %llu, stacked %llu", on,
                   (unsigned long long)a.steps, (unsigned long long)b.steps);
    }
    run_destroy(bare);
    run_destroy(virt);
    free(g);
    return 0;
}
