/*
 * bt.c: dynamic binary translation (`--vmm bt`), after VMware's 1999
 * monitor (Adams & Agesen, ASPLOS'06), on this simulator.
 *
 * The guest's code in the place `translated` is never fetched and decoded
 * instruction by instruction.  It is cut into basic blocks, each decoded
 * once into pre-decoded ops (bt.h) and kept in the guest's translation
 * cache; the block executor below runs the ops:
 *
 *   guest pc --fetch check (the hardware's: bound / page walk)--> gpa
 *       --> cache: chained from the block before (no lookup), else hashed
 *           by (pc, gpa, mode), else translated now:
 *             innocuous      copied (opcode and fields, decoded once)
 *             pushf popf srr rewritten: act on the virtual PSW inline
 *             privileged     a callout: the routine of emulate.c, through
 *                            the dispatcher (machine_raise_trap on the
 *                            guest's interpreter machine, PRIV)
 *             svc hcall ill  the trap, reflected through the dispatcher
 *       --> run the ops: loads and stores through the guest's own
 *           translation (unpaged: base + va below the limit; paged: its
 *           page table, exact faults and details), a store onto a page
 *           holding code drops the blocks holding the word (the current
 *           one too: the block ends after the store);
 *           at most min(budget, virtual timer) instructions a batch, so
 *           the clock, the budget and TP are exact at every instruction
 *       --> the exit: a branch's two successors and a jump's target are
 *           chained (patched into the block) once known.
 *
 * The registers live in a local array while blocks run and in the guest's
 * interpreter machine (the place's machine) whenever the dispatcher or an
 * observer may look; the virtual PSW is g->vcpu.psw throughout.
 */
#include "bt.h"

#include <stdlib.h>
#include <string.h>

#include "vmm_priv.h"

/* ---- The cache ---------------------------------------------------------------------- */

static unsigned bucket_of(const struct bt_cache *c, uint32_t vpc, uint32_t gpa)
{
    uint32_t h = vpc * 2654435761u ^ gpa * 40503u;
    return (h >> 7) & (c->nbuckets - 1);
}

struct bt_cache *bt_cache_create(unsigned capacity, size_t memsize)
{
    if (capacity == 0) return NULL;
    struct bt_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->capacity = capacity;
    c->nbuckets = 1;
    while (c->nbuckets < capacity) c->nbuckets <<= 1;
    c->npages = (memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS;
    c->blocks = calloc(capacity, sizeof *c->blocks);
    c->hash = malloc(c->nbuckets * sizeof *c->hash);
    c->page = malloc((c->npages ? c->npages : 1) * sizeof *c->page);
    if (!c->blocks || !c->hash || !c->page) {
        bt_cache_destroy(c);
        return NULL;
    }
    for (unsigned i = 0; i < c->nbuckets; i++) c->hash[i] = -1;
    for (size_t i = 0; i < c->npages; i++) c->page[i] = -1;
    c->free = -1;
    return c;
}

void bt_cache_destroy(struct bt_cache *c)
{
    if (!c) return;
    free(c->blocks);
    free(c->hash);
    free(c->page);
    free(c);
}

int32_t bt_lookup(struct bt_cache *c, uint32_t vpc, uint32_t gpa, bool sup)
{
    for (int32_t i = c->hash[bucket_of(c, vpc, gpa)]; i >= 0; i = c->blocks[i].hnext) {
        const struct bt_block *b = &c->blocks[i];
        if (b->vpc == vpc && b->gpa == gpa && b->sup == sup) return i;
    }
    return -1;
}

/* Takes block i out of the hash and its page's list; links to it go stale. */
static void drop(struct bt_cache *c, int32_t i)
{
    struct bt_block *b = &c->blocks[i];
    TRAPEZE_ASSERT(b->live);
    if (b->hprev >= 0) c->blocks[b->hprev].hnext = b->hnext;
    else c->hash[bucket_of(c, b->vpc, b->gpa)] = b->hnext;
    if (b->hnext >= 0) c->blocks[b->hnext].hprev = b->hprev;
    if (b->pprev >= 0) c->blocks[b->pprev].pnext = b->pnext;
    else c->page[b->gpa >> ISA_PAGE_SHIFT] = b->pnext;
    if (b->pnext >= 0) c->blocks[b->pnext].pprev = b->pprev;
    b->live = false;
    b->gen++;
    b->hnext = c->free;
    c->free = i;
    c->stats.blocks_live--;
}

void bt_flush(struct bt_cache *c)
{
    for (unsigned i = 0; i < c->used; i++) {
        c->blocks[i].live = false;
        c->blocks[i].gen++;
    }
    for (unsigned i = 0; i < c->nbuckets; i++) c->hash[i] = -1;
    for (size_t i = 0; i < c->npages; i++) c->page[i] = -1;
    c->used = 0;
    c->free = -1;
    c->stats.blocks_live = 0;
    c->stats.flushes++;
}

static int32_t allocate(struct bt_cache *c)
{
    if (c->free >= 0) {
        int32_t i = c->free;
        c->free = c->blocks[i].hnext;
        return i;
    }
    if (c->used == c->capacity) bt_flush(c); /* full: start again (the bound on its size) */
    return (int32_t)c->used++;
}

bool bt_user_mode_sensitive(const struct isa_variant *variant)
{
    const struct isa_op *op;
    for (unsigned i = 0; (op = isa_op_with_flags(ISA_F_SYSTEM, i)); i++) {
        const enum isa_user_action act = variant->user_action[op->opcode];
        /* exec acts on the real state; a silent one that writes a register
         * writes a real value (pushf, srr, rtmr, in).  A silent popf is the
         * same on the real machine as on the virtual one. */
        if (act == USER_EXEC) return true;
        if (act == USER_SILENT && (op->flags & (ISA_F_WRITES_A | ISA_F_WRITES_B))) return true;
    }
    return false;
}

/* The op for word w in a block of mode sup; *ends when the block ends with it. */
static struct bt_op decode(uint32_t w, bool sup, const struct isa_variant *variant, bool *ends)
{
    const uint8_t opc = isa_opcode_of(w);
    const struct isa_op *op = isa_op_by_opcode(opc);
    struct bt_op o = {.kind = opc, .a = (uint8_t)isa_field_a(w), .b = (uint8_t)isa_field_b(w),
                      .c = (uint8_t)isa_field_c(w), .w = w};
    *ends = false;
    if (!op || !isa_variant_has(variant, opc)) {
        o.kind = BT_ILL;
        *ends = true;
        return o;
    }
    o.imm = op->format == FMT_J ? isa_imm24(w) : (op->flags & ISA_F_ZEXT) ? isa_imm16(w) : isa_simm16(w);
    if (op->flags & (ISA_F_BRANCH | ISA_F_TRAPS)) *ends = true;
    if (!(op->flags & ISA_F_SYSTEM)) return o;
    /* A system instruction: what the guest's hardware does with it in this
     * mode, on the virtual PSW. */
    const enum isa_user_action act = sup ? USER_EXEC : variant->user_action[opc];
    if (act != USER_TRAP && opc == ISA_PUSHF) o.kind = BT_VPUSHF;
    else if (act == USER_EXEC && opc == ISA_POPF) o.kind = BT_VPOPF;
    else if (act == USER_SILENT && opc == ISA_POPF) o.kind = BT_NOP;
    else if (act != USER_TRAP && opc == ISA_SRR) o.kind = BT_VSRR;
    else {
        o.kind = BT_CALLOUT;
        *ends = true;
    }
    return o;
}

bool bt_critical(uint32_t w, const struct isa_variant *variant)
{
    bool ends;
    const uint16_t kind = decode(w, true, variant, &ends).kind;
    return kind == BT_VPUSHF || kind == BT_VPOPF || kind == BT_VSRR;
}

int32_t bt_translate(struct bt_cache *c, const uint32_t *mem, size_t memsize, uint32_t vpc,
                     uint32_t gpa, bool sup, const struct isa_variant *variant)
{
    TRAPEZE_ASSERT(gpa < memsize && (gpa >> ISA_PAGE_SHIFT) < c->npages);
    const int32_t i = allocate(c);
    struct bt_block *b = &c->blocks[i];
    const uint32_t gen = b->gen;
    *b = (struct bt_block){.vpc = vpc, .gpa = gpa, .sup = sup, .live = true, .gen = gen,
                           .exit = {{-1, 0}, {-1, 0}}};
    /* Up to the bound, a block-ending instruction, the end of the page
     * (a block lies in one guest-physical page: one list holds it, and
     * paged, one PTE maps it), the end of memory or of the pc. */
    const uint32_t page_end = (gpa | (ISA_PAGE_WORDS - 1)) + 1;
    bool ends = false;
    while (!ends && b->n < BT_BLOCK_MAX && gpa + b->n < page_end && gpa + b->n < memsize &&
           vpc + b->n >= vpc) {
        b->op[b->n] = decode(mem[gpa + b->n], sup, variant, &ends);
        b->n++;
    }
    const unsigned h = bucket_of(c, vpc, gpa);
    b->hprev = -1;
    b->hnext = c->hash[h];
    if (b->hnext >= 0) c->blocks[b->hnext].hprev = i;
    c->hash[h] = i;
    const size_t p = gpa >> ISA_PAGE_SHIFT;
    b->pprev = -1;
    b->pnext = c->page[p];
    if (b->pnext >= 0) c->blocks[b->pnext].pprev = i;
    c->page[p] = i;
    c->stats.blocks++;
    c->stats.insns += b->n;
    c->stats.blocks_live++;
    return i;
}

void bt_chain(struct bt_cache *c, int32_t from, unsigned e, int32_t to)
{
    TRAPEZE_ASSERT(e < 2 && c->blocks[to].live);
    c->blocks[from].exit[e] = (struct bt_link){to, c->blocks[to].gen};
}

int32_t bt_follow(struct bt_cache *c, int32_t from, unsigned e, uint32_t vpc, uint32_t gpa,
                  bool sup)
{
    const struct bt_link l = c->blocks[from].exit[e];
    if (l.block < 0) return -1;
    const struct bt_block *b = &c->blocks[l.block];
    if (!b->live || b->gen != l.gen || b->vpc != vpc || b->gpa != gpa || b->sup != sup) return -1;
    c->stats.chain_hits++;
    return l.block;
}

void bt_invalidate(struct bt_cache *c, uint32_t gpa, uint32_t n)
{
    if (n == 0) return;
    const uint64_t end = (uint64_t)gpa + n;
    for (uint64_t p = gpa >> ISA_PAGE_SHIFT; p < c->npages && p << ISA_PAGE_SHIFT < end; p++) {
        for (int32_t i = c->page[p], next; i >= 0; i = next) {
            const struct bt_block *b = &c->blocks[i];
            next = b->pnext;
            if (b->gpa < end && gpa < (uint64_t)b->gpa + b->n) {
                drop(c, i);
                c->stats.invalidations++;
            }
        }
    }
}

void bt_verify(struct bt_cache *c, const uint32_t *mem, uint32_t gpa, uint32_t n)
{
    const uint64_t end = (uint64_t)gpa + n;
    for (uint64_t p = gpa >> ISA_PAGE_SHIFT; p < c->npages && p << ISA_PAGE_SHIFT < end; p++) {
        for (int32_t i = c->page[p], next; i >= 0; i = next) {
            const struct bt_block *b = &c->blocks[i];
            next = b->pnext;
            for (unsigned k = 0; k < b->n; k++) {
                if (mem[b->gpa + k] != b->op[k].w) {
                    drop(c, i);
                    c->stats.invalidations++;
                    break;
                }
            }
        }
    }
}

/* ---- A guest's cache ------------------------------------------------------------------ */

bool vmm_bt_init(struct vmm_guest *g)
{
    g->bt = bt_cache_create(BT_DEFAULT_CAPACITY, g->memsize);
    g->bt_dirty = false;
    return g->bt != NULL;
}

void vmm_bt_free(struct vmm_guest *g)
{
    bt_cache_destroy(g->bt);
    g->bt = NULL;
}

void vmm_bt_wrote(struct vmm_guest *g, uint32_t gpa, uint32_t n)
{
    if (g->bt) bt_invalidate(g->bt, gpa, n);
}

void vmm_bt_forget(struct vmm_guest *g)
{
    if (g->bt && g->bt->stats.blocks_live) bt_flush(g->bt);
}

void vmm_bt_direct_window(struct vmm_guest *g, uint32_t gpa, uint32_t n)
{
    if (!g->bt || n == 0) return;
    const uint32_t end = gpa + n; /* inside the guest's region: no wrap */
    if (!g->bt_dirty) {
        g->bt_dirty = true;
        g->bt_dirty_lo = gpa;
        g->bt_dirty_hi = end;
        return;
    }
    if (gpa < g->bt_dirty_lo) g->bt_dirty_lo = gpa;
    if (end > g->bt_dirty_hi) g->bt_dirty_hi = end;
}

const struct vmm_bt_stats *vmm_guest_bt_stats(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return v->guests[g].bt ? &v->guests[g].bt->stats : NULL;
}

/* ---- The block executor ----------------------------------------------------------------- */

struct exec {
    struct vmm_guest *g;
    struct machine *m; /* the place's machine: the guest's interpreter */
    uint32_t R[ISA_NREGS];
    uint64_t left;     /* steps of the budget left */
};

/* n instructions retired by translated code: guest steps, the slice, the
 * virtual clock (never past 0 within a batch: TP is set on the last). */
static void retired(struct exec *x, uint64_t n)
{
    struct vmm_guest *g = x->g;
    struct psw *vp = &g->vcpu.psw;
    g->steps += n;
    g->slice_left -= (int64_t)n;
    g->stats.emulated += n;
    g->bt->stats.executed += n;
    x->left -= n;
    if (vp->timer) {
        TRAPEZE_ASSERT(n <= vp->timer);
        vp->timer -= (uint32_t)n;
        if (vp->timer == 0) vp->flags |= PSW_TP;
    }
}

/* The registers and the PSW where the dispatcher and the observers look. */
static void sync_out(struct exec *x)
{
    for (unsigned r = 1; r < ISA_NREGS; r++) machine_set_reg(x->m, r, x->R[r]);
    struct psw p = x->g->vcpu.psw;
    p.flags &= ~PSW_M;
    machine_set_psw(x->m, &p);
}

static void sync_in(struct exec *x)
{
    memcpy(x->R, machine_regs(x->m), sizeof x->R);
    x->R[0] = 0;
}

/* A trap of the guest's hardware (or a callout, PRIV) at this point: the
 * dispatcher routes it by the translated place's row (PRIV emulated,
 * everything else reflected), exactly as from the interpreter. */
static void trap(struct exec *x, enum isa_cause cause, unsigned detail, uint32_t value,
                 uint32_t saved_pc)
{
    sync_out(x);
    x->g->bt->stats.callouts++;
    machine_raise_trap(x->m, cause, detail, value, saved_pc);
    x->left--;
    sync_in(x);
}

/* The dispatcher's resume() test: the scheduler has work. */
static bool must_leave(const struct vmm_guest *g)
{
    const struct vmm *v = g->vmm;
    return v->stop_requested || g->stopped || g->slice_left <= 0 || g->steps >= g->run_end ||
           vmm_pending_interrupt(g) != CAUSE_NONE ||
           vmm_place_of(v, g) != VMM_PLACE_TRANSLATED;
}

/* A guest access at va through its own translation: unpaged, base + va
 * below the limit, else the hardware's walk (exact detail). */
static inline bool guest_addr(const struct vmm_guest *g, uint32_t limit, uint32_t va,
                              enum machine_access access, uint32_t *gpa, unsigned *detail)
{
    if (va < limit) {
        *gpa = g->vcpu.psw.base + va;
        return true;
    }
    return machine_translate(g->interp, &g->vcpu.psw, va, access, gpa, detail);
}

enum machine_stop vmm_bt_run(struct vmm_guest *g, struct machine *m, uint64_t budget)
{
    struct bt_cache *c = g->bt;
    struct psw *vp = &g->vcpu.psw;
    struct exec x = {.g = g, .m = m, .left = budget};
    const uint32_t *const mem = g->mem;
    sync_in(&x);
    /* Code run directly since may have rewritten translated words. */
    if (g->bt_dirty) {
        bt_verify(c, mem, g->bt_dirty_lo, g->bt_dirty_hi - g->bt_dirty_lo);
        g->bt_dirty = false;
    }
    /* The debugger's fetch stops, on the interpreter: the guest's words. */
    const bool stops = g->vmm->fetch_stops_set;
    bool stopped = false;
    int32_t prev = -1; /* the block just left, and its generation then */
    uint32_t prev_gen = 0;
    int exit_slot = -1;

    while (x.left > 0 && !must_leave(g)) {
        /* One batch: nothing but a callout, a trap or an inline popf
         * changes the virtual PSW, so its mode, relocation and allowance
         * hold for the whole batch, and the dispatcher's checks are made
         * between batches.  It may go as far as the budget, the run's end,
         * the slice and the virtual clock (TP set on its last instruction). */
        const bool sup = (vp->flags & PSW_M) != 0;
        const bool paged = (vp->flags & PSW_PG) != 0;
        uint32_t limit = 0;
        if (!paged && vp->base < g->memsize) {
            const uint64_t room = g->memsize - vp->base;
            limit = vp->bound < room ? vp->bound : (uint32_t)room;
        }
        uint64_t batch = x.left;
        if (g->run_end - g->steps < batch) batch = g->run_end - g->steps;
        if ((uint64_t)g->slice_left < batch) batch = (uint64_t)g->slice_left;
        if (vp->timer && vp->timer < batch) batch = vp->timer;
        uint64_t done = 0; /* retired in this batch, charged at its end */
        uint32_t pc = vp->pc;
        bool recheck = false, trapped = false;
        while (done < batch && !recheck) {
        uint32_t gpa;
        unsigned detail = 0;
        if (!guest_addr(g, limit, pc, ACCESS_FETCH, &gpa, &detail)) {
            retired(&x, done);
            trap(&x, CAUSE_MEM, detail, pc, pc);
            trapped = true;
            break;
        }
        int32_t bi = prev >= 0 && exit_slot >= 0 ? bt_follow(c, prev, (unsigned)exit_slot, pc, gpa, sup) : -1;
        if (bi < 0) {
            bi = bt_lookup(c, pc, gpa, sup);
            if (bi >= 0) c->stats.lookups++;
            else bi = bt_translate(c, mem, g->memsize, pc, gpa, sup, &g->vmm->variant);
            /* A flush while translating killed prev: its link check fails. */
            if (prev >= 0 && exit_slot >= 0 && c->blocks[prev].live && c->blocks[prev].gen == prev_gen)
                bt_chain(c, prev, (unsigned)exit_slot, bi);
        }
        const struct bt_block *b = &c->blocks[bi];
        /* Unpaged, a fetch past the bound faults there: at the next block. */
        uint32_t fetchable = b->n;
        if (!paged && limit - pc < fetchable) fetchable = limit - pc;
        const uint64_t room = batch - done;
        uint32_t lim = room < fetchable ? (uint32_t)room : fetchable;
        if (stops) {
            /* A debugger's fetch stop: met before the word (once an
             * arrival, as the machine's), else the block runs up to it. */
            uint32_t j = machine_fetch_stop_first(m, gpa, lim);
            const bool passed = g->bt_stop_steps == g->steps + done && g->bt_stop_gpa == gpa;
            if (j == 0 && passed && lim > 1) j = 1 + machine_fetch_stop_first(m, gpa + 1, lim - 1);
            else if (j == 0 && passed) j = lim;
            if (j == 0) {
                g->bt_stop_steps = g->steps + done;
                g->bt_stop_gpa = gpa;
                g->vmm->fetch_stopped = stopped = true;
                break;
            }
            lim = j;
        }

        uint32_t *const R = x.R;
        uint32_t k = 0, next = pc;
        prev = bi;
        prev_gen = b->gen;
        exit_slot = -1;
        for (; k < lim; k++) {
            const struct bt_op *o = &b->op[k];
            const uint32_t at = pc + k;
            switch (o->kind) {
            case ISA_ADD: R[o->a] = R[o->b] + R[o->c]; break;
            case ISA_SUB: R[o->a] = R[o->b] - R[o->c]; break;
            case ISA_MUL: R[o->a] = R[o->b] * R[o->c]; break;
            case ISA_AND: R[o->a] = R[o->b] & R[o->c]; break;
            case ISA_OR: R[o->a] = R[o->b] | R[o->c]; break;
            case ISA_XOR: R[o->a] = R[o->b] ^ R[o->c]; break;
            case ISA_SHL: R[o->a] = R[o->b] << (R[o->c] & 31); break;
            case ISA_SHR: R[o->a] = R[o->b] >> (R[o->c] & 31); break;
            case ISA_SRA: R[o->a] = (uint32_t)((int32_t)R[o->b] >> (R[o->c] & 31)); break;
            case ISA_SLT: R[o->a] = (int32_t)R[o->b] < (int32_t)R[o->c]; break;
            case ISA_SLTU: R[o->a] = R[o->b] < R[o->c]; break;
            case ISA_DIV:
            case ISA_REM: {
                const int32_t p = (int32_t)R[o->b], q = (int32_t)R[o->c];
                if (q == 0) {
                    retired(&x, done + k);
                    trap(&x, CAUSE_DIV, 0, 0, at);
                    goto left_block;
                }
                const bool is_div = o->kind == ISA_DIV;
                if (p == INT32_MIN && q == -1) R[o->a] = is_div ? (uint32_t)INT32_MIN : 0;
                else R[o->a] = (uint32_t)(is_div ? p / q : p % q);
                break;
            }
            case ISA_ADDI: R[o->a] = R[o->b] + o->imm; break;
            case ISA_ANDI: R[o->a] = R[o->b] & o->imm; break;
            case ISA_ORI: R[o->a] = R[o->b] | o->imm; break;
            case ISA_XORI: R[o->a] = R[o->b] ^ o->imm; break;
            case ISA_SHLI: R[o->a] = R[o->b] << (o->imm & 31); break;
            case ISA_SHRI: R[o->a] = R[o->b] >> (o->imm & 31); break;
            case ISA_SRAI: R[o->a] = (uint32_t)((int32_t)R[o->b] >> (o->imm & 31)); break;
            case ISA_SLTI: R[o->a] = (int32_t)R[o->b] < (int32_t)o->imm; break;
            case ISA_LUI: R[o->a] = o->imm << 16; break;
            case ISA_LD: {
                uint32_t a;
                if (!guest_addr(g, limit, R[o->b] + o->imm, ACCESS_LOAD, &a, &detail)) {
                    retired(&x, done + k);
                    trap(&x, CAUSE_MEM, detail, R[o->b] + o->imm, at);
                    goto left_block;
                }
                R[o->a] = mem[a];
                break;
            }
            case ISA_ST: {
                uint32_t a;
                if (!guest_addr(g, limit, R[o->b] + o->imm, ACCESS_STORE, &a, &detail)) {
                    retired(&x, done + k);
                    trap(&x, CAUSE_MEM, detail, R[o->b] + o->imm, at);
                    goto left_block;
                }
                *vmm_guest_span(g, a, 1) = R[o->a];
                if (bt_page_has_code(c, a)) {
                    bt_invalidate(c, a, 1);
                    /* This block itself: it ends after the store. */
                    if (!b->live) {
                        k++;
                        next = at + 1;
                        prev = -1;
                        goto exit;
                    }
                }
                break;
            }
            case ISA_BEQ: case ISA_BNE: case ISA_BLT: case ISA_BGE: case ISA_BLTU: case ISA_BGEU: {
                const uint32_t p = R[o->a], q = R[o->b];
                bool taken;
                switch (o->kind) {
                case ISA_BEQ: taken = p == q; break;
                case ISA_BNE: taken = p != q; break;
                case ISA_BLT: taken = (int32_t)p < (int32_t)q; break;
                case ISA_BGE: taken = (int32_t)p >= (int32_t)q; break;
                case ISA_BLTU: taken = p < q; break;
                default: taken = p >= q; break;
                }
                next = taken ? at + 1 + o->imm : at + 1;
                exit_slot = taken ? 0 : 1;
                k++;
                goto exit;
            }
            case ISA_JMP: next = o->imm; exit_slot = 0; k++; goto exit;
            case ISA_CALL: R[ISA_REG_LR] = at + 1; next = o->imm; exit_slot = 0; k++; goto exit;
            case ISA_JR: next = R[o->a]; k++; goto exit;
            case ISA_CALLR: next = R[o->a]; R[ISA_REG_LR] = at + 1; k++; goto exit;
            case ISA_SVC:
            case ISA_HCALL:
                retired(&x, done + k);
                trap(&x, o->kind == ISA_SVC ? CAUSE_SVC : CAUSE_HCALL, 0, o->imm, at + 1);
                goto left_block;
            case BT_VPUSHF: R[o->a] = vp->flags; c->stats.inlined++; break;
            case BT_VPOPF:
                vp->flags = (vp->flags & ~PSW_IE) | (R[o->a] & PSW_IE);
                c->stats.inlined++;
                /* Interrupts just enabled with one pending: it is taken
                 * before the next instruction. */
                if (vmm_pending_interrupt(g) != CAUSE_NONE) {
                    k++;
                    next = at + 1;
                    prev = -1;
                    recheck = true;
                    goto exit;
                }
                break;
            case BT_VSRR: R[o->a] = vp->base; R[o->b] = vp->bound; c->stats.inlined++; break;
            case BT_NOP: c->stats.inlined++; break;
            case BT_CALLOUT:
                retired(&x, done + k);
                vp->pc = at;
                trap(&x, CAUSE_PRIV, 0, o->w, at);
                goto left_block;
            default: /* BT_ILL */
                retired(&x, done + k);
                trap(&x, CAUSE_ILL, 0, o->w, at);
                goto left_block;
            }
            R[0] = 0;
        }
        /* The batch or the block ran out without a branch: fall through. */
        next = pc + k;
        if (k == b->n) exit_slot = 1;
        else prev = -1;
    exit:
        R[0] = 0;
        done += k;
        pc = next;
        continue;
    left_block:
        trapped = true;
        break;
        }
        if (trapped) {
            prev = -1;
            exit_slot = -1;
        } else {
            retired(&x, done);
            vp->pc = pc;
        }
        if (stopped) break;
    }
    sync_out(&x);
    return MACHINE_STOPPED;
}
