/*
 * test_vmm_bt.c: the translation cache of --vmm bt (vmm/bt.h) on its own,
 * then through a vmm: lookup by key, what a block holds and where it
 * ends, chaining and stale links, invalidation of the blocks overlapping a
 * write (and only those), the bound on the cache's size (a flush when
 * full), the verify after code run directly, and the counters.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../vmm/bt.h"
#include "support.h"

#define MEM 4096u

static uint32_t mem[MEM];

/* Straight-line code from 16: addi r1, r1, 1 ... then a branch at 16 + n. */
static void code(uint32_t at, unsigned n, uint32_t last)
{
    for (unsigned i = 0; i < n; i++) mem[at + i] = isa_make_i(ISA_ADDI, 1, 1, 1);
    mem[at + n] = last;
}

static struct isa_variant x86(void) { return test_support_variant("x86like"); }

Test(vmm_bt, a_block_ends_at_its_branch_and_is_found_by_its_key)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(8, MEM);
    cr_assert_not_null(c);
    code(16, 5, isa_make_i(ISA_BNE, 1, 0, (uint32_t)-6));
    cr_assert_eq(bt_lookup(c, 16, 16, true), -1);
    int32_t b = bt_translate(c, mem, MEM, 16, 16, true, &v);
    cr_assert_eq(c->blocks[b].n, 6, "five addi and the branch");
    cr_assert_eq(c->blocks[b].op[5].kind, ISA_BNE);
    cr_assert_eq(c->blocks[b].op[5].imm, (uint32_t)-6, "the immediate, extended once");
    cr_assert_eq(bt_lookup(c, 16, 16, true), b);
    /* Another address space (gpa) or mode: another block. */
    cr_assert_eq(bt_lookup(c, 16, 0x416, true), -1);
    cr_assert_eq(bt_lookup(c, 16, 16, false), -1);
    cr_assert_eq(c->stats.blocks, 1);
    cr_assert_eq(c->stats.insns, 6);
    bt_cache_destroy(c);
}

Test(vmm_bt, critical_instructions_are_rewritten_privileged_ones_call_out)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(8, MEM);
    mem[16] = isa_make_i(ISA_PUSHF, 3, 0, 0);
    mem[17] = isa_make_i(ISA_POPF, 3, 0, 0);
    mem[18] = isa_make_r(ISA_SRR, 4, 5, 0);
    mem[19] = isa_make_i(ISA_OUT, 3, 0, 0);
    mem[20] = isa_make_i(ISA_ADDI, 1, 1, 1);
    int32_t s = bt_translate(c, mem, MEM, 16, 16, true, &v);
    cr_assert_eq(c->blocks[s].n, 4, "the block ends at the callout");
    cr_assert_eq(c->blocks[s].op[0].kind, BT_VPUSHF);
    cr_assert_eq(c->blocks[s].op[1].kind, BT_VPOPF);
    cr_assert_eq(c->blocks[s].op[2].kind, BT_VSRR);
    cr_assert_eq(c->blocks[s].op[3].kind, BT_CALLOUT);
    /* User mode on x86like: pushf and srr execute (on the virtual PSW),
     * popf is silent, out traps (a callout that reflects PRIV). */
    int32_t u = bt_translate(c, mem, MEM, 16, 16, false, &v);
    cr_assert_neq(u, s);
    cr_assert_eq(c->blocks[u].op[0].kind, BT_VPUSHF);
    cr_assert_eq(c->blocks[u].op[1].kind, BT_NOP);
    cr_assert_eq(c->blocks[u].op[2].kind, BT_VSRR);
    cr_assert_eq(c->blocks[u].op[3].kind, BT_CALLOUT);
    bt_cache_destroy(c);
}

Test(vmm_bt, a_block_stays_in_one_page_and_within_the_bound)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(8, MEM);
    code(250, 40, isa_make_j(ISA_JMP, 16));
    int32_t b = bt_translate(c, mem, MEM, 250, 250, true, &v);
    cr_assert_eq(c->blocks[b].n, 6, "250..255: the page ends");
    code(300, 40, isa_make_j(ISA_JMP, 16));
    b = bt_translate(c, mem, MEM, 300, 300, true, &v);
    cr_assert_eq(c->blocks[b].n, BT_BLOCK_MAX);
    /* An undefined opcode ends a block too. */
    mem[600] = 0;
    b = bt_translate(c, mem, MEM, 600, 600, true, &v);
    cr_assert_eq(c->blocks[b].n, 1);
    cr_assert_eq(c->blocks[b].op[0].kind, BT_ILL);
    bt_cache_destroy(c);
}

Test(vmm_bt, chains_are_followed_until_their_target_dies)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(8, MEM);
    code(16, 2, isa_make_j(ISA_JMP, 32));
    code(32, 2, isa_make_j(ISA_JMP, 16));
    int32_t a = bt_translate(c, mem, MEM, 16, 16, true, &v);
    int32_t b = bt_translate(c, mem, MEM, 32, 32, true, &v);
    cr_assert_eq(bt_follow(c, a, 0, 32, 32, true), -1, "not chained yet");
    bt_chain(c, a, 0, b);
    cr_assert_eq(bt_follow(c, a, 0, 32, 32, true), b);
    cr_assert_eq(bt_follow(c, a, 0, 32, 0x432, true), -1, "another address space");
    cr_assert_eq(c->stats.chain_hits, 1);
    bt_invalidate(c, 33, 1); /* a word of b */
    cr_assert_eq(bt_follow(c, a, 0, 32, 32, true), -1, "the link died with b");
    cr_assert_eq(bt_lookup(c, 32, 32, true), -1);
    /* b's slot reused by another block: the old link still does not match. */
    int32_t d = bt_translate(c, mem, MEM, 40, 40, true, &v);
    cr_assert_eq(d, b, "the dropped slot is reused");
    cr_assert_eq(bt_follow(c, a, 0, 32, 32, true), -1);
    cr_assert_eq(c->stats.chain_hits, 1);
    bt_cache_destroy(c);
}

Test(vmm_bt, a_write_drops_exactly_the_blocks_it_overlaps)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(16, MEM);
    code(16, 9, isa_make_j(ISA_JMP, 16)); /* 16..25 */
    int32_t a = bt_translate(c, mem, MEM, 16, 16, true, &v);
    int32_t a2 = bt_translate(c, mem, MEM, 20, 20, true, &v); /* 20..25: overlaps a */
    int32_t u = bt_translate(c, mem, MEM, 16, 16, false, &v);  /* same words, user mode */
    code(64, 3, isa_make_j(ISA_JMP, 64));
    int32_t b = bt_translate(c, mem, MEM, 64, 64, true, &v);
    cr_assert_eq(c->stats.blocks_live, 4);
    bt_invalidate(c, 26, 38); /* 26..63: between the blocks */
    cr_assert_eq(c->stats.invalidations, 0);
    cr_assert(bt_page_has_code(c, 30), "by page: cheap, not exact");
    cr_assert_not(bt_page_has_code(c, 300));
    bt_invalidate(c, 18, 1);
    cr_assert_eq(c->stats.invalidations, 2, "a and its user twin, not a2 (20..)");
    cr_assert_eq(bt_lookup(c, 16, 16, true), -1);
    cr_assert_eq(bt_lookup(c, 16, 16, false), -1);
    cr_assert_eq(bt_lookup(c, 20, 20, true), a2);
    cr_assert_eq(bt_lookup(c, 64, 64, true), b);
    bt_invalidate(c, 25, 40); /* a2's last word and b's first */
    cr_assert_eq(c->stats.invalidations, 4);
    cr_assert_eq(c->stats.blocks_live, 0);
    (void)a, (void)u;
    bt_cache_destroy(c);
}

Test(vmm_bt, verify_drops_only_blocks_whose_words_changed)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(16, MEM);
    code(16, 3, isa_make_j(ISA_JMP, 16));
    code(32, 3, isa_make_j(ISA_JMP, 32));
    bt_translate(c, mem, MEM, 16, 16, true, &v);
    int32_t b = bt_translate(c, mem, MEM, 32, 32, true, &v);
    mem[17] = isa_make_i(ISA_PUSHF, 1, 0, 0); /* written behind the cache's back */
    bt_verify(c, mem, 0, MEM);
    cr_assert_eq(c->stats.invalidations, 1);
    cr_assert_eq(bt_lookup(c, 16, 16, true), -1);
    cr_assert_eq(bt_lookup(c, 32, 32, true), b);
    bt_cache_destroy(c);
}

Test(vmm_bt, a_full_cache_is_flushed_and_stays_bounded)
{
    memset(mem, 0, sizeof mem);
    struct isa_variant v = x86();
    struct bt_cache *c = bt_cache_create(4, MEM);
    for (uint32_t i = 0; i < 64; i++) mem[16 + i] = isa_make_j(ISA_JMP, 16);
    for (uint32_t i = 0; i < 10; i++) {
        int32_t b = bt_translate(c, mem, MEM, 16 + i, 16 + i, true, &v);
        cr_assert(b >= 0 && b < 4, "block %d of a cache of 4", b);
        cr_assert_leq(c->stats.blocks_live, 4);
    }
    cr_assert_eq(c->stats.blocks, 10);
    cr_assert_eq(c->stats.flushes, 2, "at the 5th and the 9th block");
    cr_assert_eq(c->stats.blocks_live, 2);
    cr_assert_eq(bt_lookup(c, 16, 16, true), -1, "flushed");
    cr_assert_geq(bt_lookup(c, 25, 25, true), 0);
    bt_flush(c);
    cr_assert_eq(c->stats.blocks_live, 0);
    cr_assert_eq(bt_lookup(c, 25, 25, true), -1);
    bt_cache_destroy(c);
}

Test(vmm_bt, user_mode_sensitivity_is_read_from_the_variant)
{
    struct isa_variant x = test_support_variant("x86like"), h = test_support_variant("hybrid"),
                       p = test_support_variant("pg");
    cr_assert(bt_user_mode_sensitive(&x), "x86like's user pushf and srr show real state");
    cr_assert_not(bt_user_mode_sensitive(&h), "hybrid's silent popf shows nothing");
    cr_assert_not(bt_user_mode_sensitive(&p));
}

/* Through a vmm: a loop translated once, run by chains, counted. */
Test(vmm_bt, a_loop_runs_by_chains_and_counts)
{
    struct isa_variant v = x86();
    struct vmm_config cfg = {VMM_BT, &v, MEM, 1, 0, VMM_SHADOW_TRACE};
    struct vmm *vm = vmm_create(&cfg);
    cr_assert_not_null(vm);
    uint32_t *g = vmm_guest_memory(vm, 0);
    /* r1 counts to 1000 (two blocks: the loop body, the halt), pushf in it. */
    g[16] = isa_make_i(ISA_ADDI, 2, 0, 1000);
    g[17] = isa_make_i(ISA_ADDI, 1, 1, 1);
    g[18] = isa_make_i(ISA_PUSHF, 3, 0, 0);
    g[19] = isa_make_i(ISA_BNE, 1, 2, (uint32_t)-3);
    g[20] = isa_make_j(ISA_HALT, 0);
    vmm_set_step_limit(vm, 100000);
    cr_assert_eq(vmm_run(vm, UINT64_MAX), VMM_RUN_DONE);
    cr_assert_eq(vmm_guest_stop(vm, 0), MACHINE_HALT);
    cr_assert_eq(vmm_guest_reg(vm, 0, 1), 1000);
    cr_assert_eq(vmm_guest_reg(vm, 0, 3), PSW_M, "pushf: the virtual flags");
    cr_assert_eq(vmm_guest_steps(vm, 0), 1 + 3 * 1000 + 1);
    const struct vmm_bt_stats *s = vmm_guest_bt_stats(vm, 0);
    cr_assert_not_null(s);
    cr_assert_leq(s->blocks, 4, "translated once: %llu blocks", (unsigned long long)s->blocks);
    cr_assert_gt(s->chain_hits, 990, "the loop's back edge chained");
    cr_assert_eq(s->inlined, 1000, "every pushf inline");
    cr_assert_eq(s->callouts, 1, "the halt");
    cr_assert_eq(s->executed, 1 + 3 * 1000);
    /* A write through the vmm's interface drops the cache. */
    vmm_guest_memory(vm, 0)[17] = isa_make_i(ISA_ADDI, 1, 1, 2);
    cr_assert_eq(s->blocks_live, 0);
    vmm_destroy(vm);
    /* Other modes have no cache. */
    cfg.mode = VMM_TE;
    vm = vmm_create(&cfg);
    cr_assert_null(vmm_guest_bt_stats(vm, 0));
    vmm_destroy(vm);
}
