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
 * Regions start on page boundaries so that shadow page tables map guest
 * frames onto host frames one to one.  Past the last region lies the
 * shadow area: VMM_SHADOW_TABLES tables of vmm_shadow_capacity() entries
 * per guest (shadow.c), which no guest's f-map reaches:
 *
 *   ... | guest n-1 | pad | guest 0's tables | guest 1's | ... | guest n-1's |
 */
#include "vmm_priv.h"

static size_t region_words(size_t memsize)
{
    return (memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS * ISA_PAGE_WORDS;
}

/* Per guest: its region, and VMM_SHADOW_TABLES shadow tables. */
static uint64_t guest_words(size_t memsize)
{
    return (uint64_t)region_words(memsize) +
           (uint64_t)VMM_SHADOW_TABLES * vmm_shadow_capacity_for(memsize);
}

size_t vmm_alloc_real_size(unsigned n, size_t memsize)
{
    /* Real memory stays below the frame shadow entries use for "past memory". */
    const uint64_t limit = (uint64_t)VMM_SPTE_PAST << ISA_PAGE_SHIFT;
    if (n == 0 || memsize == 0 || memsize > UINT32_MAX ||
        guest_words(memsize) > (limit - VMM_HOST_WORDS) / n)
        return 0;
    return VMM_HOST_WORDS + (size_t)n * (size_t)guest_words(memsize);
}

void vmm_alloc_shadow_area(struct vmm *v)
{
    v->shadow_capacity = vmm_shadow_capacity_for(v->guest_memsize);
    v->shadow_hpa = (uint32_t)(VMM_HOST_WORDS + (size_t)v->nguests * region_words(v->guest_memsize));
    v->shadow_words = (size_t)v->nguests * VMM_SHADOW_TABLES * v->shadow_capacity;
}

void vmm_alloc_guest(struct vmm *v, struct vmm_guest *g)
{
    size_t region = region_words(v->guest_memsize);
    size_t hpa = VMM_HOST_WORDS + (size_t)g->index * region;
    g->fmap.n = 1;
    g->fmap.ext[0] = (struct vmm_extent){0, (uint32_t)hpa, (uint32_t)v->guest_memsize};
    g->mem = machine_memory_const(v->real) + hpa;
    g->memsize = v->guest_memsize;
    const size_t tail = hpa + v->guest_memsize;
    uint32_t *canary = machine_memory_span(v->real, tail, region - v->guest_memsize);
    for (size_t a = 0; a < region - v->guest_memsize; a++) canary[a] = VMM_CANARY;
    if (g->index == 0) {
        canary = machine_memory_span(v->real, TRAP_AREA_WORDS, VMM_HOST_WORDS - TRAP_AREA_WORDS);
        for (size_t a = 0; a < VMM_HOST_WORDS - TRAP_AREA_WORDS; a++) canary[a] = VMM_CANARY;
    }
}

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

bool vmm_fmaps_valid(const struct vmm *v)
{
    const uint64_t real_words = machine_memsize(v->real);
    const uint32_t *real = machine_memory_const(v->real);
    for (unsigned i = 0; i < v->nguests; i++) {
        const struct vmm_guest *g = &v->guests[i];
        const struct vmm_fmap *f = &g->fmap;
        if (f->n != 1 || f->ext[0].gpa != 0 || f->ext[0].words != g->memsize ||
            g->mem != real + f->ext[0].hpa)
            return false;
        for (unsigned k = 0; k < f->n; k++) {
            const struct vmm_extent *x = &f->ext[k];
            if (x->words == 0 || x->hpa < VMM_HOST_WORDS ||
                (uint64_t)x->hpa + x->words > v->shadow_hpa || x->hpa % ISA_PAGE_WORDS ||
                (uint64_t)v->shadow_hpa + v->shadow_words > real_words)
                return false;
            if (k > 0 && (uint64_t)f->ext[k - 1].gpa + f->ext[k - 1].words > x->gpa) return false;
            for (unsigned j = 0; j < i; j++)
                for (unsigned l = 0; l < v->guests[j].fmap.n; l++) {
                    const struct vmm_extent *y = &v->guests[j].fmap.ext[l];
                    if (overlap(x->hpa, x->words, y->hpa, y->words)) return false;
                }
        }
    }
    return true;
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
