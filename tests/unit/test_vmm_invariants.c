/*
 * test_vmm_invariants.c: the C VMM's assertions are live in the test build.
 * Each test breaks an invariant or a precondition on purpose (reaching into
 * vmm_priv.h where the public API cannot) and must die with SIGABRT; the
 * f-map checker is also tested on its own.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>

#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

static void quiet(void) { cr_redirect_stderr(); }

static struct vmm *make(enum vmm_mode mode, unsigned n)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm *v = vmm_create(&(struct vmm_config){mode, &pg, 1000, n, 0, VMM_SHADOW_TRACE});
    cr_assert_not_null(v);
    return v;
}

/* ---- The f-map ------------------------------------------------------------------ */

Test(vmm_invariants, fresh_fmaps_are_valid)
{
    for (unsigned n = 1; n <= 5; n++) {
        struct vmm *v = make(VMM_TE, n);
        cr_assert(vmm_fmaps_valid(v), "%u guests", n);
        struct vmm *c = vmm_clone(v);
        cr_assert(vmm_fmaps_valid(c));
        vmm_destroy(c);
        vmm_destroy(v);
    }
}

Test(vmm_invariants, broken_fmaps_are_seen)
{
    struct vmm *v = make(VMM_TE, 3);
    uint32_t *real = machine_memory(vmm_real_machine(v));
    struct vmm_guest *g = &v->guests[1];
    const struct vmm_guest keep = *g;

    g->fmap.ext[0].hpa = v->guests[0].fmap.ext[0].hpa + 10; /* overlaps guest 0 */
    g->mem = real + g->fmap.ext[0].hpa;
    cr_assert_not(vmm_fmaps_valid(v), "two guests share real words");
    *g = keep;
    g->fmap.ext[0].hpa = (uint32_t)machine_memsize(vmm_real_machine(v)) - 10;
    g->mem = real + g->fmap.ext[0].hpa;
    cr_assert_not(vmm_fmaps_valid(v), "an extent past real memory");
    *g = keep;
    g->fmap.ext[0].hpa = 0;
    g->mem = real;
    cr_assert_not(vmm_fmaps_valid(v), "an extent over the host page");
    *g = keep;
    g->mem++;
    cr_assert_not(vmm_fmaps_valid(v), "g->mem is not the extent");
    *g = keep;
    g->fmap.ext[0].words--;
    cr_assert_not(vmm_fmaps_valid(v), "the extent does not cover the guest's memory");
    *g = keep;
    g->fmap.n = 2;
    g->fmap.ext[1] = (struct vmm_extent){500, keep.fmap.ext[0].hpa + 500, 10};
    cr_assert_not(vmm_fmaps_valid(v), "two extents");
    *g = keep;
    cr_assert(vmm_fmaps_valid(v));
    vmm_destroy(v);
}

Test(vmm_invariants, clone_checks_the_fmaps, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = make(VMM_TE, 2);
    v->guests[1].fmap.ext[0].hpa = v->guests[0].fmap.ext[0].hpa;
    v->guests[1].mem = v->guests[0].mem;
    vmm_clone(v);
}

/* ---- Loading: one guest at a time, the current one ----------------------------- */

Test(vmm_invariants, only_the_current_guest_is_loaded, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = make(VMM_TE, 2); /* current is guest 1 until the first pick */
    vmm_load(&v->guests[0]);
}

Test(vmm_invariants, a_guest_is_loaded_once, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = make(VMM_TE, 1);
    vmm_load(&v->guests[0]);
    vmm_load(&v->guests[0]);
}

Test(vmm_invariants, only_a_loaded_guest_is_unloaded, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = make(VMM_TE, 1);
    vmm_unload(&v->guests[0], vmm_real_machine(v), true);
}

Test(vmm_invariants, a_guest_unloads_from_its_own_machine, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = make(VMM_TE, 1); /* te, supervisor: loaded directly */
    vmm_load(&v->guests[0]);
    vmm_unload(&v->guests[0], v->guests[0].interp, true);
}

/* Loading and unloading in order is fine, in either place. */
Test(vmm_invariants, load_and_unload_in_order)
{
    for (unsigned k = 0; k < 2; k++) {
        struct vmm *v = make(k ? VMM_INTERP : VMM_TE, 1);
        struct vmm_guest *g = &v->guests[0];
        struct machine *m = vmm_load(g);
        cr_assert_eq(m, k ? g->interp : vmm_real_machine(v));
        cr_assert_eq(g->place, k ? VMM_PLACE_INTERPRETED : VMM_PLACE_DIRECT);
        cr_assert(g->loaded && v->running == g);
        vmm_unload(g, m, true);
        cr_assert(!g->loaded && v->running == NULL);
        vmm_destroy(v);
    }
}

/* ---- From inside a run ------------------------------------------------------------ */

enum misdeed { SET_REG, SET_PSW, RUN_AGAIN, CLONE };

static enum machine_verdict misbehave(void *ctx, struct vmm *v, const struct vmm_event *e)
{
    const enum misdeed *what = ctx;
    if (e->how != VMM_EMULATED) return MACHINE_CONTINUE;
    struct psw p = {PSW_M, 0x20, 0, 1000, 0};
    switch (*what) {
    case SET_REG: vmm_guest_set_reg(v, e->guest, 1, 5); break;
    case SET_PSW: vmm_guest_set_psw(v, e->guest, &p); break;
    case RUN_AGAIN: vmm_run(v, 10); break;
    case CLONE: vmm_clone(v); break;
    }
    return MACHINE_CONTINUE;
}

/* A guest kernel whose first instruction (rtmr) is emulated. */
static void run_misbehaving(enum misdeed *what)
{
    struct vmm *v = make(VMM_TE, 1);
    uint32_t *mem = vmm_guest_memory(v, 0);
    mem[ISA_DEFAULT_ENTRY] = TS_I(RTMR, 1, 0, 0);
    mem[ISA_DEFAULT_ENTRY + 1] = TS_J(HALT, 0);
    vmm_set_observer(v, &(struct vmm_observer){what, misbehave});
    vmm_run(v, 100);
}

Test(vmm_invariants, no_register_set_while_running, .signal = SIGABRT, .init = quiet)
{
    enum misdeed d = SET_REG;
    run_misbehaving(&d);
}

Test(vmm_invariants, no_psw_set_while_running, .signal = SIGABRT, .init = quiet)
{
    enum misdeed d = SET_PSW;
    run_misbehaving(&d);
}

Test(vmm_invariants, no_run_inside_a_run, .signal = SIGABRT, .init = quiet)
{
    enum misdeed d = RUN_AGAIN;
    run_misbehaving(&d);
}

Test(vmm_invariants, no_clone_inside_a_run, .signal = SIGABRT, .init = quiet)
{
    enum misdeed d = CLONE;
    run_misbehaving(&d);
}

/* ---- The shadow tables ---------------------------------------------------------- */

/* A guest two steps into paged supervisor code under te: its shadow table
 * built (and, under trace, its table's frame traced). */
static struct vmm *paged_guest(enum vmm_shadow_policy policy)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    for (uint32_t i = 0; i < 8; i++) e[0x300 + i] = (0x20 + i) << 8 | PTE_V | PTE_W;
    e[0x2000] = TS_I(ADDI, 1, 0, 7);
    e[0x2001] = TS_I(ST, 1, 0, 0x100);
    e[0x2002] = TS_J(HALT, 0);
    test_support_set_psw(m, PSW_M | PSW_PG, 0, 0x300, 8, 0);
    struct vmm *v = tv_mirror_policy(m, VMM_TE, policy, 1, NULL);
    vmm_set_step_limit(v, 2);
    vmm_run(v, UINT64_MAX);
    cr_assert_gt(vmm_guest_shadow_stats(v, 0)->words_in_use, 0, "%s",
                 vmm_shadow_policy_name(policy));
    machine_destroy(m);
    return v;
}

Test(vmm_invariants, shadow_tables_are_valid)
{
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        struct vmm *v = paged_guest(p);
        cr_assert(vmm_shadow_valid(&v->guests[0]), "%s", vmm_shadow_policy_name(p));
        struct vmm *c = vmm_clone(v);
        cr_assert(vmm_shadow_valid(&c->guests[0]), "%s, cloned", vmm_shadow_policy_name(p));
        vmm_destroy(c);
        vmm_destroy(v);
    }
}

Test(vmm_invariants, broken_shadow_tables_are_seen)
{
    struct vmm *v = paged_guest(VMM_SHADOW_TRACE);
    struct vmm_guest *g = &v->guests[0];
    struct vmm_shadow_slot *s = &g->shadow.slot[0];
    const uint32_t keep = s->spte[0];
    cr_assert(keep & PTE_V);
    uint32_t *spte = machine_memory_span(vmm_real_machine(v), s->t.hpa, s->t.entries + 1);
    spte[0] = PTE_V | PTE_W; /* frame 0: the host page */
    cr_assert_not(vmm_shadow_valid(g), "an entry outside the guest's region");
    spte[0] = (isa_pte_frame(keep) + 0x1000) << 8 | PTE_V;
    cr_assert_not(vmm_shadow_valid(g), "an entry past the region");
    spte[0] = keep | VMM_SPTE_TRACED | PTE_W;
    cr_assert_not(vmm_shadow_valid(g), "a traced entry that is writable");
    spte[0] = keep;
    spte[s->t.entries] = keep;
    cr_assert_not(vmm_shadow_valid(g), "an entry past the table's");
    spte[s->t.entries] = 0;
    g->shadow.stats.words_in_use++;
    cr_assert_not(vmm_shadow_valid(g), "words in use miscounted");
    g->shadow.stats.words_in_use--;
    g->shadow.traced[3]++; /* the table at 0x300 is in frame 3 */
    cr_assert_not(vmm_shadow_valid(g), "a frame's tables miscounted");
    g->shadow.traced[3]--;
    cr_assert(vmm_shadow_valid(g));
    vmm_destroy(v);
}

Test(vmm_invariants, clone_checks_the_shadow_tables, .signal = SIGABRT, .init = quiet)
{
    struct vmm *v = paged_guest(VMM_SHADOW_LAZY);
    *machine_memory_span(vmm_real_machine(v), v->guests[0].shadow.slot[0].t.hpa, 1) = PTE_V | PTE_W; /* onto the host page */
    vmm_clone(v);
}
