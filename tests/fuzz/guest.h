/*
 * guest.h: the input format of the harnesses that run a program
 * (fuzz_machine, fuzz_vmm, fuzz_stack), and the bare machine it makes.
 *
 *   byte 0     variant: pg, hybrid, x86like (by value mod 3)
 *   byte 1     the harness's own choices (mode, policy, stack, chunking)
 *   bytes 2-5  the entry point (big-endian, mod the memory size)
 *   byte 6     N, then N bytes of console input
 *   the rest   memory words from address 0 (big-endian), FUZZ_MEM_WORDS at most
 *
 * tests/fuzz/seeds.sh writes the programs of programs/ and tests/ in this
 * form (pg, entry from the image) as seeds.
 */
#ifndef TRAPEZE_FUZZ_GUEST_H
#define TRAPEZE_FUZZ_GUEST_H

#include "fuzz.h"

#include "../../isa/isa.h"
#include "../../machine/machine.h"

#define FUZZ_MEM_WORDS 0x2000u
#define FUZZ_STEPS 3000u

struct fuzz_guest {
    struct isa_variant variant;
    unsigned variant_index; /* 0 pg, 1 hybrid, 2 x86like */
    unsigned choice;
    uint32_t entry;
    uint8_t input[256];
    size_t input_len;
    uint32_t mem[FUZZ_MEM_WORDS];
};

static inline void fuzz_guest_decode(const uint8_t *data, size_t size, struct fuzz_guest *g)
{
    static const char *const names[] = {"pg", "hybrid", "x86like"};
    struct fuzz_bytes b = {data, size};
    memset(g, 0, sizeof *g);
    g->variant_index = fuzz_byte(&b) % 3;
    char err[ISA_ERROR_SIZE];
    FUZZ_CHECK(isa_variant_load(names[g->variant_index], &g->variant, err), "%s", err);
    g->choice = fuzz_byte(&b);
    g->entry = fuzz_word(&b) % FUZZ_MEM_WORDS;
    g->input_len = fuzz_byte(&b);
    for (size_t i = 0; i < g->input_len; i++) g->input[i] = (uint8_t)fuzz_byte(&b);
    for (size_t a = 0; a < FUZZ_MEM_WORDS && b.n; a++) g->mem[a] = fuzz_word(&b);
}

/* A bare machine of FUZZ_MEM_WORDS words holding g, reset at its entry. */
static inline struct machine *fuzz_guest_machine(const struct fuzz_guest *g)
{
    struct machine *m = machine_create(FUZZ_MEM_WORDS, &g->variant);
    FUZZ_CHECK(m != NULL, "machine_create");
    memcpy(machine_memory(m), g->mem, sizeof g->mem);
    machine_reset(m, g->entry);
    machine_feed_input(m, g->input, g->input_len);
    return m;
}

#endif
