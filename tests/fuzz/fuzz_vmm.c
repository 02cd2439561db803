/*
 * fuzz_vmm.c: the C VMM, in every mode, on any guest.
 *
 * The input's program (guest.h) runs bare and as two identical guests of
 * one vmm, in a mode chosen from the input among those exact for its
 * variant (pg: te, hvm, interp; hybrid: hvm, interp; x86like: interp; te
 * with any shadow policy).  Properties: real memory outside the guests
 * (the host page, the padding after each region) is untouched; the two
 * guests end identical; each is equivalent to the bare run, word for word
 * (save under te's rebuild and lazy policies when the program broke
 * ISA.md's page-table rule, which lets them differ).
 */
#include "guest.h"

#include "../unit/test_vmm_support.h" /* tv_canaries_intact (tests/unit/vmm_canaries.c) */

/* Guest g of v against the bare machine b (stopped with bstop). */
static void expect_equivalent(const struct machine *b, enum machine_stop bstop, const struct vmm *v,
                              unsigned g)
{
    const struct vmm_vcpu *cpu = vmm_guest_vcpu(v, g);
    FUZZ_CHECK(memcmp(machine_regs(b), cpu->reg, sizeof cpu->reg) == 0, "guest %u: registers", g);
    struct psw pb = machine_psw(b);
    FUZZ_CHECK(memcmp(&pb, &cpu->psw, sizeof pb) == 0, "guest %u: PSW", g);
    FUZZ_CHECK(memcmp(machine_memory_const(b), vmm_guest_memory_const(v, g),
                      FUZZ_MEM_WORDS * sizeof(uint32_t)) == 0, "guest %u: memory", g);
    size_t lb, lg;
    const uint8_t *ob = machine_output(b, &lb), *og = vmm_guest_output(v, g, &lg);
    FUZZ_CHECK(lb == lg && (lb == 0 || memcmp(ob, og, lb) == 0), "guest %u: output", g);
    FUZZ_CHECK(bstop == vmm_guest_stop(v, g), "guest %u: stop bare %s, vmm %s", g,
               machine_stop_name(bstop), machine_stop_name(vmm_guest_stop(v, g)));
    FUZZ_CHECK(machine_steps(b) == vmm_guest_steps(v, g), "guest %u: steps", g);
}

static void expect_twins(const struct vmm *v)
{
    const struct vmm_vcpu *a = vmm_guest_vcpu(v, 0), *b = vmm_guest_vcpu(v, 1);
    FUZZ_CHECK(memcmp(a, b, sizeof *a) == 0, "the guests' vcpus differ");
    FUZZ_CHECK(memcmp(vmm_guest_memory_const(v, 0), vmm_guest_memory_const(v, 1),
                      FUZZ_MEM_WORDS * sizeof(uint32_t)) == 0, "the guests' memories differ");
    size_t la, lb;
    const uint8_t *oa = vmm_guest_output(v, 0, &la), *ob = vmm_guest_output(v, 1, &lb);
    FUZZ_CHECK(la == lb && (la == 0 || memcmp(oa, ob, la) == 0), "the guests' outputs differ");
    FUZZ_CHECK(vmm_guest_stop(v, 0) == vmm_guest_stop(v, 1), "the guests' stops differ");
    FUZZ_CHECK(vmm_guest_steps(v, 0) == vmm_guest_steps(v, 1), "the guests' steps differ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum vmm_mode exact[3][3] = {
        {VMM_TE, VMM_HVM, VMM_INTERP}, {VMM_HVM, VMM_INTERP, VMM_HVM}, {VMM_INTERP, VMM_INTERP, VMM_INTERP}};
    struct fuzz_guest *g = malloc(sizeof *g);
    FUZZ_CHECK(g != NULL, "out of memory");
    fuzz_guest_decode(data, size, g);
    const enum vmm_mode mode = exact[g->variant_index][g->choice % 3];
    const enum vmm_shadow_policy policy = (enum vmm_shadow_policy)((g->choice / 3) % 3);

    struct machine *bare = fuzz_guest_machine(g);
    struct vmm_config cfg = {mode, &g->variant, FUZZ_MEM_WORDS, 2, 0, policy};
    struct vmm *v = vmm_create(&cfg);
    FUZZ_CHECK(v != NULL, "vmm_create");
    struct psw p = machine_psw(bare);
    for (unsigned k = 0; k < 2; k++) {
        memcpy(vmm_guest_memory(v, k), g->mem, sizeof g->mem);
        vmm_guest_set_psw(v, k, &p);
        vmm_feed_input(v, k, g->input, g->input_len);
    }
    enum machine_stop bstop = machine_run(bare, FUZZ_STEPS);
    if (bstop == MACHINE_STOPPED) bstop = MACHINE_BUDGET;
    vmm_set_step_limit(v, FUZZ_STEPS);
    vmm_run(v, UINT64_MAX);

    FUZZ_CHECK(tv_canaries_intact(v), "real memory outside the guests changed (%s)", vmm_mode_name(mode));
    expect_twins(v);
    struct machine_pte_use use;
    /* Only shadow policies other than trace depend on the rule; past the
     * machine's record its uses are not seen (machine.h). */
    if (policy == VMM_SHADOW_TRACE || mode != VMM_TE ||
        (!machine_pte_rule_broken(bare, &use) && machine_stats(bare)->pte_writes_unchecked == 0))
        expect_equivalent(bare, bstop, v, 0);
    vmm_destroy(v);
    machine_destroy(bare);
    free(g);
    return 0;
}
