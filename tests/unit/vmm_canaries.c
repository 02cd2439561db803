/*
 * vmm_canaries.c: tv_canaries_intact (test_vmm_support.h), without
 * Criterion, so that the fuzz harness of the C VMM (tests/fuzz/fuzz_vmm.c)
 * checks real memory the same way the unit tests do.
 */
#include "test_vmm_support.h"

#include <stdlib.h>

#include "../../vmm/vmm_priv.h"

/* A span of real memory the guests or the vmm own: [from, to). */
struct owned {
    size_t from, to;
};

static int by_start(const void *a, const void *b)
{
    const struct owned *x = a, *y = b;
    return x->from < y->from ? -1 : x->from > y->from;
}

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
     * (the vmm's own, past every region), must hold the canary.  The owned
     * spans sorted, the words between them are scanned once (a word-by-word
     * search of every extent was most of the fuzz harness's time). */
    size_t n = 1;
    for (unsigned g = 0; g < vmm_guest_count(v); g++) n += vmm_guest_fmap(v, g)->n;
    struct owned *spans = malloc(n * sizeof *spans);
    if (!spans) return false;
    spans[0] = (struct owned){v->shadow_hpa, v->shadow_hpa + v->shadow_words};
    n = 1;
    for (unsigned g = 0; g < vmm_guest_count(v); g++) {
        const struct vmm_fmap *f = vmm_guest_fmap(v, g);
        for (unsigned i = 0; i < f->n; i++) spans[n++] = (struct owned){f->ext[i].hpa, f->ext[i].hpa + f->ext[i].words};
    }
    qsort(spans, n, sizeof *spans, by_start);
    bool intact = true;
    size_t a = VMM_HOST_WORDS;
    for (size_t k = 0; k <= n && intact; k++) {
        const size_t gap_end = k < n && spans[k].from < size ? spans[k].from : size;
        for (; a < gap_end; a++)
            if (mem[a] != VMM_CANARY) intact = false;
        if (k < n && spans[k].to > a) a = spans[k].to;
    }
    free(spans);
    return intact;
}
