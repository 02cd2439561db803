/*
 * alloc.c: the allocator.  It lays out real memory and gives each guest its
 * region, recorded in the guest's f-map (guest-physical -> host-physical):
 *
 *   real (host-physical) memory
 *   0          16        256        256+R            256+2R
 *   +----------+---------+----------+-------+--------+---- ...
 *   | real trap| canary  | guest 0  | pad   | guest 1|
 *   | area     | (host)  | M words  |canary | M words|
 *   +----------+---------+----------+-------+--------+---- ...
 *   \__ host page (VMM_HOST_WORDS) _/\_ R = M rounded up to a page _/
 *
 * f-map of guest k: [0, M) -> [256 + k*R, 256 + k*R + M), one extent.
 * Regions start on page boundaries so that shadow page tables (a later
 * issue) can map guest frames onto host frames one to one.
 */
#include "vmm_priv.h"

static size_t region_words(size_t memsize)
{
    return (memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS * ISA_PAGE_WORDS;
}

size_t vmm_alloc_real_size(unsigned n, size_t memsize)
{
    size_t region = region_words(memsize);
    if (n == 0 || memsize == 0 || region > (UINT32_MAX - VMM_HOST_WORDS) / n) return 0;
    return VMM_HOST_WORDS + (size_t)n * region;
}

void vmm_alloc_guest(struct vmm *v, struct vmm_guest *g)
{
    uint32_t *real = machine_memory(v->real);
    size_t region = region_words(v->guest_memsize);
    size_t hpa = VMM_HOST_WORDS + (size_t)g->index * region;
    g->fmap.n = 1;
    g->fmap.ext[0] = (struct vmm_extent){0, (uint32_t)hpa, (uint32_t)v->guest_memsize};
    g->mem = real + hpa;
    g->memsize = v->guest_memsize;
    for (size_t a = hpa + v->guest_memsize; a < hpa + region; a++) real[a] = VMM_CANARY;
    if (g->index == 0)
        for (size_t a = TRAP_AREA_WORDS; a < VMM_HOST_WORDS; a++) real[a] = VMM_CANARY;
}

bool vmm_fmap_lookup(const struct vmm_fmap *f, uint32_t gpa, uint32_t *hpa, uint32_t *run)
{
    for (unsigned i = 0; i < f->n; i++) {
        const struct vmm_extent *x = &f->ext[i];
        if (gpa - x->gpa < x->words) {
            *hpa = x->hpa + (gpa - x->gpa);
            *run = x->words - (gpa - x->gpa);
            return true;
        }
    }
    return false;
}
