/*
 * bt.h: the translation cache of `--vmm bt` (bt.c), private to vmm/ and its
 * unit tests.
 *
 * A block is a run of at most BT_BLOCK_MAX guest instructions decoded once:
 * it starts at a guest pc and ends at a branch, a system instruction that
 * calls out, a trap, the end of a guest-physical page or the bound.  It is
 * keyed by (guest pc, guest-physical address of that pc, supervisor): the
 * gpa is what the relocation base or the page-table root (and PG) make of
 * the pc, so two address spaces never share a block, and a block whose
 * words are written (a store, DMA, the vmm's own trap record) is dropped.
 */
#ifndef TRAPEZE_VMM_BT_H
#define TRAPEZE_VMM_BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa/isa.h"
#include "vmm.h"

#define BT_BLOCK_MAX 32
#define BT_DEFAULT_CAPACITY 2048

/* What a translated instruction does.  Innocuous instructions keep their
 * opcode (copied: the executor runs them as the hardware does); the rest
 * are rewritten. */
enum bt_kind {
    BT_VPUSHF = 0x100, /* rd = virtual flags, inline                          */
    BT_VPOPF,          /* virtual IE = bit 1 of rs, inline                    */
    BT_VSRR,           /* rd = virtual base, rs = virtual bound, inline       */
    BT_NOP,            /* a silent instruction that writes nothing (popf)     */
    BT_CALLOUT,        /* privileged: the vmm's routine (emulate.c)           */
    BT_ILL,            /* an undefined opcode: trap ILL                       */
};

/* One pre-decoded instruction: fields and immediate extracted. */
struct bt_op {
    uint16_t kind; /* an opcode or enum bt_kind */
    uint8_t a, b, c;
    uint32_t imm;  /* imm16 extended as the ISA says, imm24 for jumps */
    uint32_t w;    /* the source word: the callout's, and what a verify compares */
};

/* A successor, once known: the block and the generation it had. */
struct bt_link {
    int32_t block;
    uint32_t gen;
};

struct bt_block {
    uint32_t vpc, gpa;  /* the key: guest pc, its guest-physical address ... */
    bool sup;           /* ... and the mode it was translated for */
    bool live;
    uint16_t n;
    uint32_t gen;       /* bumped when the block dies: links to it go stale */
    int32_t hnext, hprev, pnext, pprev;
    struct bt_link exit[2]; /* 0: branch taken or jump target; 1: fall through */
    struct bt_op op[BT_BLOCK_MAX];
};

struct bt_cache {
    unsigned capacity, used; /* blocks allocated so far (a flush resets) */
    int32_t free;            /* blocks dropped, reusable (through hnext) */
    struct bt_block *blocks;
    int32_t *hash;           /* BT hash buckets: heads */
    unsigned nbuckets;
    int32_t *page;           /* per guest-physical page: its blocks' list */
    size_t npages;
    struct vmm_bt_stats stats;
};

/* A cache of capacity blocks for a guest of memsize words; NULL when memory
 * cannot be had. */
struct bt_cache *bt_cache_create(unsigned capacity, size_t memsize);
void bt_cache_destroy(struct bt_cache *c);
/* The block with this key, or -1. */
int32_t bt_lookup(struct bt_cache *c, uint32_t vpc, uint32_t gpa, bool sup);
/* Translates the block at (vpc, gpa, sup) from the guest memory mem (of
 * memsize words), user mode's system instructions as the variant says;
 * flushes the cache first when it is full.  Returns its index. */
int32_t bt_translate(struct bt_cache *c, const uint32_t *mem, size_t memsize, uint32_t vpc,
                     uint32_t gpa, bool sup, const struct isa_variant *variant);
/* Chains exit e of block from to block to. */
void bt_chain(struct bt_cache *c, int32_t from, unsigned e, int32_t to);
/* The block exit e of from is chained to, if it is still alive and has the
 * key; -1 otherwise.  Counts a chain hit. */
int32_t bt_follow(struct bt_cache *c, int32_t from, unsigned e, uint32_t vpc, uint32_t gpa,
                  bool sup);
/* Guest words [gpa, gpa + n) were written: drops every block holding one. */
void bt_invalidate(struct bt_cache *c, uint32_t gpa, uint32_t n);
/* Guest words [gpa, gpa + n) may have been written by someone who could not
 * say which (code run directly): drops the blocks there whose words differ. */
void bt_verify(struct bt_cache *c, const uint32_t *mem, uint32_t gpa, uint32_t n);
/* Drops every block. */
void bt_flush(struct bt_cache *c);
/* True when a store to gpa may hit a translated word (cheap: by page). */
static inline bool bt_page_has_code(const struct bt_cache *c, uint32_t gpa)
{
    return (gpa >> ISA_PAGE_SHIFT) < c->npages && c->page[gpa >> ISA_PAGE_SHIFT] >= 0;
}

/* True when the variant lets user mode run a sensitive instruction on the
 * real state (x86like's pushf and srr): such user code cannot run directly. */
bool bt_user_mode_sensitive(const struct isa_variant *variant);
/* True when the translator would rewrite word w of supervisor code inline
 * onto the virtual PSW: a critical instruction (pushf, popf, srr), which
 * real user mode runs without a trap.  pv's scan (pv.c) asks it. */
bool bt_critical(uint32_t w, const struct isa_variant *variant);

#endif
