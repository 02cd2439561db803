/*
 * vmm_canaries.c: tv_canaries_intact (test_vmm_support.h), without
 * Criterion, so that the fuzz harness of the C VMM (tests/fuzz/fuzz_vmm.c)
 * checks real memory the same way the unit tests do.
 */
#include "test_vmm_support.h"

#include "../../vmm/vmm_priv.h"

bool tv_canaries_intact(const struct vmm *v)
{
    const struct machine *real = vmm_real_machine_const(v);
    const uint32_t *mem = machine_memory_const(real);
    size_t size = machine_memsize(real);
    for (size_t a = TRAP_AREA_WORDS; a < VMM_HOST_WORDS; a++)
        if (mem[a] != VMM_CANARY) return false;
    for (size_t a = 0; a < TRAP_AREA_WORDS; a++)
        if (mem[a] != 0) return false;
    /* Every word not in some guest's f-map, nor in the shadow tables' area
     * (the vmm's own, past every region), must hold the canary. */
    for (size_t a = VMM_HOST_WORDS; a < size; a++) {
        if (a - v->shadow_hpa < v->shadow_words) continue;
        bool mapped = false;
        for (unsigned g = 0; g < vmm_guest_count(v) && !mapped; g++) {
            const struct vmm_fmap *f = vmm_guest_fmap(v, g);
            for (unsigned i = 0; i < f->n; i++)
                if (a - f->ext[i].hpa < f->ext[i].words) mapped = true;
        }
        if (!mapped && mem[a] != VMM_CANARY) return false;
    }
    return true;
}
