/*
 * test_run_pages.c: a paging level's tables, down to the real one, and the
 * way of an address (vmm/run/run.h, "Page tables"; vmm/run/pages.c).
 *
 * The references are the machines themselves: the table shown as walked by
 * the hardware must be the one at the real machine's PSW base; the chain of
 * an address, level by level, must end at the word the real PSW reaches in
 * one hop; the C VMM's tables are what vmm_guest_shadow_tables says, word
 * for word in real memory.  toyos_paged.s gives processes that run paged
 * (its kernel runs unpaged).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../vmm/run/run_priv.h"
#include "test_run_support.h"

#define PAGED "programs/toyos/toyos_paged.s"
#define MEM TR_MEM
#define MAX_UNITS 2000000u

/* Runs r a unit at a time until level L runs paged with the hardware on
 * its real table, or the program's nth process (n = 1: the first) does, by
 * its table's base changing n - 1 times. */
static void run_to_paged(struct run *r, unsigned L, unsigned nth)
{
    uint32_t last_base = 0;
    unsigned seen = 0;
    for (unsigned u = 0; u < MAX_UNITS; u++) {
        struct run_level_view v;
        run_level_view(r, 0, L, &v);
        if (v.state == RUN_LEVEL_RUNNING && (v.psw.flags & PSW_PG)) {
            struct run_page_table t[RUN_MAX_PAGE_TABLES];
            const unsigned n = run_page_tables(r, 0, L, t, RUN_MAX_PAGE_TABLES);
            const bool walked = n && (t[n - 1].walker != RUN_WALK_NONE) && !t[n - 1].stale;
            if (walked && v.psw.base != last_base) {
                last_base = v.psw.base;
                if (++seen == nth) return;
            }
        }
        uint64_t chunk;
        cr_assert_eq(run_units(r, 1, &chunk), 1, "the run stopped before L%u ran paged", L);
    }
    cr_assert_fail("L%u never ran paged within %u units", L, MAX_UNITS);
}

/* Every address of L's 16 pages: the chain reaches real memory exactly
 * when the hardware's one hop does, at the same word, and the word it
 * names is that word of real memory.  With hidden faults allowed (lazy), the
 * hardware may also fault on an entry not filled yet. */
static void assert_chain_meets_hardware(const struct run *r, unsigned L, bool hidden)
{
    size_t words;
    const uint32_t *real = run_machine_memory(r, 0, 0, &words);
    for (uint32_t va = 0; va < 16 * ISA_PAGE_WORDS; va += 37) {
        struct run_chain ch;
        cr_assert(run_translate_chain(r, 0, L, va, &ch));
        cr_assert_eq(ch.n, ch.hop[0].ok ? L + 1 : 1, "one hop for L%u's own PSW and one per f-map", L);
        cr_assert(ch.has_shortcut && ch.by == RUN_WALK_HARDWARE && ch.shortcut_ready);
        if (ch.ok && !ch.shortcut.ok && hidden) {
            /* lazy: an entry not filled yet faults, and the C VMM fills it */
            cr_assert_eq(ch.shortcut.pte, 0, "va 0x%x: only an unfilled entry may fault", va);
            continue;
        }
        cr_assert_eq(ch.ok, ch.shortcut.ok, "va 0x%x: the chain %s, the hardware %s", va,
                     ch.ok ? "reaches memory" : "faults", ch.shortcut.ok ? "reaches it" : "faults");
        if (!ch.ok) continue;
        cr_assert_eq(ch.real, ch.shortcut.to, "va 0x%x: chain at real 0x%x, the hardware at 0x%x", va,
                     ch.real, ch.shortcut.to);
        cr_assert_lt(ch.real, words);
        cr_assert_eq(ch.word, real[ch.real]);
        /* Each hop starts where the one before ended. */
        for (unsigned i = 1; i < ch.n; i++) cr_assert_eq(ch.hop[i].from, ch.hop[i - 1].to);
        uint32_t pa;
        cr_assert(run_translate(r, 0, L, va, &pa, NULL));
        cr_assert_eq(ch.hop[0].to, pa, "the first hop is run_translate");
    }
}

/* The table shown as walked by the hardware is the real machine's: real
 * memory at the real PSW's base, paging, while L runs. */
static void assert_walked_is_the_real_psws(const struct run *r, unsigned L,
                                           const struct run_page_table *t, unsigned n)
{
    unsigned walked = 0, k = n;
    for (unsigned i = 0; i < n; i++)
        if (t[i].walker == RUN_WALK_HARDWARE) walked++, k = i;
    cr_assert_eq(walked, 1, "one table is the one the hardware walks");
    cr_assert_eq(k, n - 1, "... the last, the real one");
    cr_assert_eq(t[k].machine, 0);
    const struct psw p = machine_psw(run_real_machine(r));
    cr_assert(p.flags & PSW_PG, "the real PSW pages");
    cr_assert_eq(t[k].base, p.base, "table at real 0x%x, the real PSW's base 0x%x", t[k].base, p.base);
    struct run_level_view v;
    run_level_view(r, 0, L, &v);
    cr_assert_eq(v.state, RUN_LEVEL_RUNNING);
    size_t words;
    const uint32_t *real = run_machine_memory(r, 0, 0, &words);
    for (uint32_t vpn = 0; vpn < t[k].entries; vpn++) {
        uint32_t pte;
        cr_assert(run_page_table_entry(r, 0, &t[k], vpn, &pte));
        cr_assert_eq(pte, real[p.base + vpn]);
    }
}

/* Valid entries of each table map onto the frames of the one above
 * through the f-map of the machine between (what a shadow is). */
static void assert_shadows_compose(const struct run *r, const struct run_page_table *t, unsigned n)
{
    for (unsigned k = 1; k < n; k++) {
        struct run_extent x[4];
        cr_assert_eq(run_fmap(r, 0, t[k - 1].frames_in, false, x, 4), 1);
        for (uint32_t vpn = 0; vpn < t[k].entries && vpn < t[k - 1].entries; vpn++) {
            uint32_t above, below;
            cr_assert(run_page_table_entry(r, 0, &t[k - 1], vpn, &above));
            cr_assert(run_page_table_entry(r, 0, &t[k], vpn, &below));
            cr_assert_eq(above & PTE_V, below & PTE_V, "[%u] vpn %u: V", k, vpn);
            if (!(above & PTE_V)) continue;
            cr_assert_eq(isa_pte_frame(below), isa_pte_frame(above) + x[0].to / ISA_PAGE_WORDS,
                         "[%u] vpn %u: frame", k, vpn);
        }
    }
}

/* ---- Bare --------------------------------------------------------------------------------- */

Test(run_pages, a_bare_run_has_one_table_and_it_is_the_real_one)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run *r = tr_run("bare", "pg", &img, MEM);
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    cr_assert_eq(run_page_tables(r, 0, 0, t, RUN_MAX_PAGE_TABLES), 0, "the kernel starts unpaged");
    run_to_paged(r, 0, 1);
    const unsigned n = run_page_tables(r, 0, 0, t, RUN_MAX_PAGE_TABLES);
    cr_assert_eq(n, 1);
    cr_assert_eq(t[0].kind, RUN_TABLE_OWN);
    cr_assert_str_eq(t[0].what, "own");
    assert_walked_is_the_real_psws(r, 0, t, n);
    assert_chain_meets_hardware(r, 0, false);
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- The C VMM --------------------------------------------------------------------------------- */

static void check_c_vmm(enum vmm_shadow_policy policy)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run_spec spec = tr_spec("c");
    spec.shadow = policy;
    struct run *r = tr_run_spec(&spec, "pg", &img, MEM);
    run_to_paged(r, 1, 2); /* the second process: a table the shadow has followed */
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = run_page_tables(r, 0, 1, t, RUN_MAX_PAGE_TABLES);
    cr_assert_eq(n, 2, "its own table and the C VMM's shadow");
    cr_assert_eq(t[0].kind, RUN_TABLE_OWN);
    cr_assert_eq(t[1].kind, RUN_TABLE_C_SHADOW);
    char what[40];
    snprintf(what, sizeof what, "shadow, %s", vmm_shadow_policy_name(policy));
    cr_assert_str_eq(t[1].what, what);
    assert_walked_is_the_real_psws(r, 1, t, n);
    assert_chain_meets_hardware(r, 1, policy == VMM_SHADOW_LAZY);

    /* What the C VMM itself says of the table for this root. */
    struct vmm_shadow_table st[VMM_SHADOW_TABLES];
    const unsigned k = vmm_guest_shadow_tables(r->cvmm, 0, st, VMM_SHADOW_TABLES);
    const struct vmm_shadow_table *mine = NULL;
    for (unsigned i = 0; i < k; i++)
        if (st[i].root == t[0].base) mine = &st[i];
    cr_assert_not_null(mine, "the C VMM has a table for root 0x%x", t[0].base);
    cr_assert(mine->active);
    cr_assert_eq(t[1].base, mine->hpa);
    cr_assert_eq(t[1].entries, mine->entries);
    cr_assert_eq(t[1].stale, mine->stale);
    cr_assert_eq(t[1].change.known, mine->last_reason != VMM_SHADOW_UNCHANGED);
    if (t[1].change.known) {
        cr_assert_eq(t[1].change.vpn, mine->last_vpn);
        cr_assert_eq(t[1].change.reason, mine->last_reason);
    }
    const uint32_t *real = machine_memory_const(vmm_real_machine_const(r->cvmm));
    for (uint32_t vpn = 0; vpn < mine->entries; vpn++) {
        uint32_t pte;
        cr_assert(run_page_table_entry(r, 0, &t[1], vpn, &pte));
        cr_assert_eq(pte, real[mine->hpa + vpn], "vpn %u", vpn);
    }
    if (policy != VMM_SHADOW_LAZY) assert_shadows_compose(r, t, n);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_pages, c_vmm_trace_shadow_is_the_vmms_and_meets_the_hardware) { check_c_vmm(VMM_SHADOW_TRACE); }
Test(run_pages, c_vmm_rebuild_shadow_is_the_vmms_and_meets_the_hardware) { check_c_vmm(VMM_SHADOW_REBUILD); }
Test(run_pages, c_vmm_lazy_shadow_is_the_vmms_and_meets_the_hardware) { check_c_vmm(VMM_SHADOW_LAZY); }

Test(run_pages, under_hvm_the_interpreter_walks_the_guests_own_table)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run_spec spec = tr_spec("c");
    spec.mode = VMM_HVM;
    struct run *r = tr_run_spec(&spec, "pg", &img, MEM);
    for (unsigned u = 0; u < MAX_UNITS; u++) {
        struct run_level_view v;
        run_level_view(r, 0, 1, &v);
        if (v.state == RUN_LEVEL_RUNNING && (v.psw.flags & PSW_PG)) break;
        uint64_t chunk;
        cr_assert_eq(run_units(r, 1, &chunk), 1);
    }
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    cr_assert_eq(run_page_tables(r, 0, 1, t, RUN_MAX_PAGE_TABLES), 1, "no shadow: no real table");
    cr_assert_eq(t[0].walker, RUN_WALK_INTERPRETER);
    struct run_chain ch;
    cr_assert(run_translate_chain(r, 0, 1, 0x10, &ch));
    cr_assert_eq(ch.by, RUN_WALK_INTERPRETER);
    cr_assert_not(ch.has_shortcut);
    cr_assert(ch.ok);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_pages, host_code_and_unpaged_levels_have_no_tables)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run *r = tr_run("c,asm", "pg", &img, MEM);
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    for (unsigned L = 0; L < run_level_count(r); L++)
        cr_assert_eq(run_page_tables(r, 0, L, t, RUN_MAX_PAGE_TABLES), 0, "L%u at the start", L);
    struct run_chain ch;
    cr_assert_not(run_translate_chain(r, 0, 0, 0, &ch), "the C VMM has no addresses of its own");
    cr_assert(run_translate_chain(r, 0, 2, 0x10, &ch));
    cr_assert_eq(ch.hop[0].kind, RUN_HOP_RELOCATED);
    cr_assert_not(ch.has_shortcut, "the guest has not started: no real PSW translates for it");
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- Stacks ------------------------------------------------------------------------------------ */

static void check_stack(const char *spec, enum run_table_kind bottom)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run *r = tr_run(spec, "pg", &img, MEM);
    run_to_paged(r, 2, 1);
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = run_page_tables(r, 0, 2, t, RUN_MAX_PAGE_TABLES);
    cr_assert_eq(n, 3, "%s: own, the asm VMM's, the bottom's", spec);
    cr_assert_eq(t[0].kind, RUN_TABLE_OWN);
    cr_assert_eq(t[1].kind, RUN_TABLE_ASM_SHADOW);
    cr_assert_eq(t[2].kind, bottom);
    for (unsigned k = 0; k < n; k++) cr_assert_eq(t[k].machine, 2 - k);
    cr_assert_eq(t[1].base, r->asm_vmm->at.shadow, "the asm VMM's SHADOW, by its name");
    assert_walked_is_the_real_psws(r, 2, t, n);
    assert_chain_meets_hardware(r, 2, false);
    assert_shadows_compose(r, t, n);

    /* The waiting asm VMM: its machine pages through its SHADOW, the same
     * tables from there down, walked by the same real PSW. */
    struct run_page_table w[RUN_MAX_PAGE_TABLES];
    cr_assert_eq(run_page_tables(r, 0, 1, w, RUN_MAX_PAGE_TABLES), 2);
    cr_assert_eq(w[0].kind, RUN_TABLE_ASM_SHADOW);
    cr_assert_eq(w[0].base, t[1].base);
    cr_assert_eq(w[1].base, t[2].base);
    cr_assert_eq(w[1].walker, RUN_WALK_HARDWARE);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_pages, asm_on_asm_shadows_compose_to_the_real_table) { check_stack("asm,asm", RUN_TABLE_ASM_SHADOW); }
Test(run_pages, asm_on_the_c_vmm_shadows_compose_to_the_real_table) { check_stack("c,asm", RUN_TABLE_C_SHADOW); }

/* ---- Changes since the last look ------------------------------------------------------------------ */

Test(run_pages, a_look_finds_the_asm_vmms_rebuild_and_going_back_forgets_it)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run *r = tr_run("asm", "pg", &img, MEM);
    struct run_pages_seen seen = {0};
    run_to_paged(r, 1, 1);
    cr_assert(run_pages_look(r, 0, 1, &seen, true));
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    unsigned n = run_page_tables(r, 0, 1, t, RUN_MAX_PAGE_TABLES);
    run_pages_seen_apply(&seen, t, n);
    cr_assert_eq(n, 2);
    cr_assert_not(t[1].change.known, "nothing seen before: no change known");

    run_to_paged(r, 1, 2); /* the next process: the SHADOW rebuilt for its table */
    cr_assert(run_pages_look(r, 0, 1, &seen, true));
    n = run_page_tables(r, 0, 1, t, RUN_MAX_PAGE_TABLES);
    run_pages_seen_apply(&seen, t, n);
    cr_assert(t[1].change.known);
    cr_assert_eq(t[1].change.reason, VMM_SHADOW_BY_REBUILD);
    cr_assert_geq(t[1].change.count, 1);
    cr_assert_lt(t[1].change.vpn, t[1].entries);
    cr_assert_not(t[0].change.known, "a new own table: first seen now");

    /* As after going back: what is there, no change. */
    cr_assert(run_pages_look(r, 0, 1, &seen, false));
    run_pages_seen_apply(&seen, t, n);
    cr_assert_not(t[1].change.known);
    run_pages_seen_free(&seen);
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- What an entry says ------------------------------------------------------------------------------ */

static enum run_pte_mark mark_of(const struct run *r, enum run_table_kind kind, bool present, uint32_t pte)
{
    const struct run_page_table t = {.kind = kind, .keeper = 0, .machine = 0, .entries = 16, .frames_in = 0};
    struct run_pte_meaning m;
    run_pte_decode(r, &t, present, pte, &m);
    cr_assert_eq(m.valid, present && (pte & PTE_V));
    cr_assert_eq(m.writable, present && (pte & PTE_W));
    return m.mark;
}

Test(run_pages, entries_decode_to_their_marks)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run *r = tr_run("asm", "pg", &img, MEM);
    const struct asm_layout *at = &r->asm_vmm->at;
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, 0), RUN_PTE_NOT_FILLED);
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, VMM_SPTE_GUEST_INVALID), RUN_PTE_GUEST_INVALID);
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, VMM_SPTE_INTERPRET), RUN_PTE_INTERPRETED);
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, PTE_V | VMM_SPTE_TRACED | (5u << 8)), RUN_PTE_TRACED);
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, PTE_V | PTE_W | (VMM_SPTE_PAST << 8)), RUN_PTE_PAST_MEMORY);
    cr_assert_eq(mark_of(r, RUN_TABLE_C_SHADOW, true, PTE_V | PTE_W | (5u << 8)), RUN_PTE_PLAIN);
    cr_assert_eq(mark_of(r, RUN_TABLE_ASM_SHADOW, true, 0), RUN_PTE_GUEST_INVALID);
    cr_assert_eq(mark_of(r, RUN_TABLE_ASM_SHADOW, true, at->pte_phys), RUN_PTE_PAST_MEMORY);
    cr_assert_eq(mark_of(r, RUN_TABLE_ASM_SHADOW, true, PTE_V | at->pte_frame_past), RUN_PTE_PAST_MEMORY);
    cr_assert_eq(mark_of(r, RUN_TABLE_ASM_SHADOW, true, PTE_V | (0x21u << 8)), RUN_PTE_PLAIN);
    size_t words;
    run_machine_memory(r, 0, 0, &words);
    const uint32_t past = (uint32_t)(words / ISA_PAGE_WORDS) << 8;
    cr_assert_eq(mark_of(r, RUN_TABLE_OWN, true, PTE_V | past), RUN_PTE_PAST_MEMORY);
    cr_assert_eq(mark_of(r, RUN_TABLE_OWN, true, PTE_V | (1u << 8)), RUN_PTE_PLAIN);
    cr_assert_eq(mark_of(r, RUN_TABLE_OWN, false, 0), RUN_PTE_ABSENT);
    for (unsigned m = RUN_PTE_PLAIN; m <= RUN_PTE_ABSENT; m++) {
        cr_assert_not_null(run_pte_mark_text((enum run_pte_mark)m));
        cr_assert_not_null(run_pte_mark_tag((enum run_pte_mark)m));
    }
    cr_assert_str_eq(run_pte_mark_text(RUN_PTE_TRACED), "read-only: holds a page table");
    run_destroy(r);
    asm_image_free(&img);
}

/* ---- At every boundary -------------------------------------------------------------------------- */

/* Over the first `units` units, wherever the program runs paged and a real
 * table is shown as the one the hardware walks (and up to date), the
 * real machine's PSW pages through it, and the hardware's hop for the pc
 * agrees with the chain through the program's own table: the view never
 * shows a walked table that the hardware does not walk, or that would take
 * it elsewhere. */
static void sweep(const char *spec_text, enum vmm_shadow_policy policy, uint64_t units)
{
    struct asm_image img = tr_load_file(PAGED);
    struct run_spec spec = tr_spec(spec_text);
    spec.shadow = policy;
    struct run *r = tr_run_spec(&spec, "pg", &img, MEM);
    const unsigned L = run_program_level(r);
    unsigned checked = 0;
    for (uint64_t u = 0; u < units; u++) {
        struct run_level_view v;
        run_level_view(r, 0, L, &v);
        struct run_page_table t[RUN_MAX_PAGE_TABLES];
        const unsigned n = run_page_tables(r, 0, L, t, RUN_MAX_PAGE_TABLES);
        if (n && t[n - 1].walker == RUN_WALK_HARDWARE && !t[n - 1].stale) {
            cr_assert_eq(v.state, RUN_LEVEL_RUNNING, "a walked table while L%u does not run", L);
            cr_assert_eq(t[n - 1].machine, 0);
            struct run_chain ch;
            cr_assert(run_translate_chain(r, 0, L, v.psw.pc, &ch));
            cr_assert(ch.shortcut_ready);
            cr_assert(ch.ok && ch.shortcut.ok, "unit %llu: pc 0x%x does not translate",
                      (unsigned long long)u, v.psw.pc);
            cr_assert_eq(ch.real, ch.shortcut.to, "unit %llu: pc 0x%x: chain 0x%x, hardware 0x%x",
                         (unsigned long long)u, v.psw.pc, ch.real, ch.shortcut.to);
            checked++;
            const struct psw real = machine_psw(run_real_machine(r));
            cr_assert((real.flags & PSW_PG) && real.base == t[n - 1].base,
                      "unit %llu: the walked table at real 0x%x, the real machine's PSW base 0x%x",
                      (unsigned long long)u, t[n - 1].base, real.base);
        }
        uint64_t chunk;
        if (run_units(r, 1, &chunk) != 1) break;
    }
    cr_assert_gt(checked, 100, "%s: only %u boundaries ran paged", spec_text, checked);
    run_destroy(r);
    asm_image_free(&img);
}

Test(run_pages, at_every_boundary_c_trace) { sweep("c", VMM_SHADOW_TRACE, 40000); }
Test(run_pages, at_every_boundary_c_rebuild) { sweep("c", VMM_SHADOW_REBUILD, 40000); }
Test(run_pages, at_every_boundary_c_asm) { sweep("c,asm", VMM_SHADOW_TRACE, 60000); }
Test(run_pages, at_every_boundary_asm_asm) { sweep("asm,asm", VMM_SHADOW_TRACE, 60000); }
