/* test_vmm_support.c: see test_vmm_support.h. */
#include "test_vmm_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/vmm_priv.h"
#include "support.h"

struct vmm *tv_mirror(const struct machine *bare, enum vmm_mode mode, unsigned n, const char *input)
{
    return tv_mirror_policy(bare, mode, VMM_SHADOW_TRACE, n, input);
}

struct vmm *tv_mirror_policy(const struct machine *bare, enum vmm_mode mode,
                             enum vmm_shadow_policy policy, unsigned n, const char *input)
{
    struct vmm_config cfg = {mode, machine_variant(bare), machine_memsize(bare), n, 0, policy};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v, "vmm_create");
    struct psw p = machine_psw(bare);
    for (unsigned g = 0; g < n; g++) {
        memcpy(vmm_guest_memory(v, g), machine_memory_const(bare),
               machine_memsize(bare) * sizeof(uint32_t));
        vmm_guest_set_psw(v, g, &p);
        for (unsigned r = 1; r < ISA_NREGS; r++) vmm_guest_set_reg(v, g, r, machine_reg(bare, r));
        if (input) vmm_feed_input(v, g, (const uint8_t *)input, strlen(input));
    }
    return v;
}

bool tv_same(const struct machine *bare, enum machine_stop bstop, const struct vmm *v, unsigned g,
             char *why, size_t size)
{
    const struct vmm_vcpu *cpu = vmm_guest_vcpu(v, g);
    for (unsigned r = 0; r < ISA_NREGS; r++)
        if (machine_reg(bare, r) != cpu->reg[r])
            TS_DIFFER("r%u: bare 0x%x vmm 0x%x", r, machine_reg(bare, r), cpu->reg[r]);
    struct psw b = machine_psw(bare), p = cpu->psw;
    if (memcmp(&b, &p, sizeof b) != 0)
        TS_DIFFER("PSW: bare {%x %x %x %x %x} vmm {%x %x %x %x %x}", b.flags, b.pc, b.base, b.bound,
             b.timer, p.flags, p.pc, p.base, p.bound, p.timer);
    const uint32_t *bm = machine_memory_const(bare), *gm = vmm_guest_memory_const(v, g);
    for (size_t a = 0; a < machine_memsize(bare); a++)
        if (bm[a] != gm[a]) TS_DIFFER("E[0x%zx]: bare 0x%x vmm 0x%x", a, bm[a], gm[a]);
    size_t bl, gl;
    const uint8_t *bo = machine_output(bare, &bl), *go = vmm_guest_output(v, g, &gl);
    if (bl != gl || memcmp(bo, go, bl) != 0) TS_DIFFER("output: bare %zu bytes, vmm %zu bytes", bl, gl);
    if (bstop == MACHINE_STOPPED) bstop = MACHINE_BUDGET;
    if (bstop != vmm_guest_stop(v, g))
        TS_DIFFER("stop: bare %s vmm %s", machine_stop_name(bstop),
             machine_stop_name(vmm_guest_stop(v, g)));
    if (machine_steps(bare) != vmm_guest_steps(v, g))
        TS_DIFFER("steps: bare %llu vmm %llu", (unsigned long long)machine_steps(bare),
             (unsigned long long)vmm_guest_steps(v, g));
    for (unsigned c = 0; c < CAUSE_COUNT; c++)
        if (machine_stats(bare)->traps[c] != vmm_guest_stats(v, g)->traps[c])
            TS_DIFFER("%s traps: bare %llu vmm %llu", isa_cause_name(c) ? isa_cause_name(c) : "?",
                 (unsigned long long)machine_stats(bare)->traps[c],
                 (unsigned long long)vmm_guest_stats(v, g)->traps[c]);
    if (machine_stats(bare)->retired != vmm_guest_retired(v, g))
        TS_DIFFER("retired: bare %llu vmm %llu", (unsigned long long)machine_stats(bare)->retired,
             (unsigned long long)vmm_guest_retired(v, g));
    return true;
}

static struct vmm *check_equivalent(const struct machine *bare, enum vmm_mode mode,
                                    enum vmm_shadow_policy policy, unsigned n, uint64_t steps,
                                    const char *input, const char *what)
{
    struct machine *b = machine_clone(bare);
    cr_assert_not_null(b);
    struct vmm *v = tv_mirror_policy(bare, mode, policy, n, input);
    if (input) machine_feed_input(b, (const uint8_t *)input, strlen(input));
    enum machine_stop bstop = machine_run(b, steps);
    vmm_set_step_limit(v, steps);
    vmm_run(v, UINT64_MAX);
    char why[256];
    for (unsigned g = 0; g < n; g++)
        cr_assert(tv_same(b, bstop, v, g, why, sizeof why), "%s, %s (shadow %s), guest %u: %s",
                  what, vmm_mode_name(mode), vmm_shadow_policy_name(policy), g, why);
    cr_assert(tv_canaries_intact(v), "%s: real memory outside the guests changed", what);
    machine_destroy(b);
    return v;
}

struct vmm *tv_check_equivalent(const struct machine *bare, enum vmm_mode mode, unsigned n,
                                uint64_t steps, const char *input, const char *what)
{
    return check_equivalent(bare, mode, VMM_SHADOW_TRACE, n, steps, input, what);
}

struct vmm *tv_check_equivalent_policy(const struct machine *bare, enum vmm_mode mode,
                                       enum vmm_shadow_policy policy, uint64_t steps,
                                       const char *what)
{
    return check_equivalent(bare, mode, policy, 1, steps, NULL, what);
}

struct vmm *tv_check_equivalent_with(const struct machine *bare, enum vmm_mode mode,
                                     enum vmm_shadow_policy policy, unsigned n, uint64_t steps,
                                     const char *input, const char *what)
{
    return check_equivalent(bare, mode, policy, n, steps, input, what);
}

/* ---- Resource control: the real PSW a guest runs with ------------------------------ */

enum machine_verdict tv_watch_real(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    (void)pc, (void)insn;
    struct tv_real_watch *w = ctx;
    struct psw p = machine_psw(m);
    const unsigned g = vmm_current_guest(w->v);
    const struct vmm_fmap *f = vmm_guest_fmap(w->v, g);
    uint64_t lo = f->ext[0].hpa, hi = lo + f->ext[0].words;
    w->checked++;
    if ((p.flags & PSW_M) || !(p.flags & PSW_IE) || p.timer == 0 || p.timer > VMM_DEFAULT_SLICE) {
        w->bad++;
        return MACHINE_CONTINUE;
    }
    if (!(p.flags & PSW_PG)) {
        if (p.base < lo || (uint64_t)p.base + p.bound > hi) w->bad++;
        return MACHINE_CONTINUE;
    }
    /* Paged: the table is one of this guest's shadow tables, and each of
     * its valid entries reaches a whole frame of its region, or past real
     * memory. */
    const struct vmm *v = w->v;
    const uint64_t tables = v->shadow_hpa + (uint64_t)g * VMM_SHADOW_TABLES * v->shadow_capacity;
    if (p.base < tables || (uint64_t)p.base + p.bound > tables + VMM_SHADOW_TABLES * v->shadow_capacity) {
        w->bad++;
        return MACHINE_CONTINUE;
    }
    const uint32_t *mem = machine_memory_const(m);
    for (uint32_t vpn = 0; vpn < p.bound; vpn++) {
        const uint32_t e = mem[p.base + vpn];
        if (!(e & PTE_V) || isa_pte_frame(e) == VMM_SPTE_PAST) continue;
        const uint64_t at = (uint64_t)isa_pte_frame(e) * ISA_PAGE_WORDS;
        if (at < lo || at + ISA_PAGE_WORDS > hi) {
            w->bad++;
            break;
        }
    }
    return MACHINE_CONTINUE;
}

void tv_watch_start(struct tv_real_watch *w, struct vmm *v)
{
    *w = (struct tv_real_watch){v, 0, 0};
    machine_set_observer(vmm_real_machine(v), &(struct machine_observer){w, tv_watch_real, NULL});
}
