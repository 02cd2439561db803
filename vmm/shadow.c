/*
 * shadow.c: shadow page tables, so that te runs a paging guest directly.
 *
 * A paging guest's own table maps guest-virtual pages to guest-physical
 * frames; the hardware must walk one that maps them to host frames.  The
 * shadow table is that composition (guest table, then the f-map), kept in
 * host memory the allocator reserves past every guest's region:
 *
 *   guest va --(guest table, guest memory)--> gpa --(f-map)--> hpa
 *   guest va --(shadow table, host memory)-----------------> hpa
 *
 * The real PSW of a paged guest is M=0, IE=1, PG=1, base = the shadow,
 * bound = min(guest bound, capacity).  Each shadow entry is made from one
 * guest PTE (make_entry) so that the hardware, walking the shadow, faults
 * exactly where the guest's hardware would and with the same detail (the
 * checks come in the same order: bound, PTE address, V, W, frame); a
 * fault it cannot get right is *hidden*: vmm_shadow_fault sees that the
 * guest's own walk succeeds, fixes the entry and retries, or has the one
 * instruction interpreted.
 *
 * ISA.md lets the guest's changes to a PTE take effect only at its next
 * tlbflush or PSW load (a flush).  The policies use that differently:
 *   rebuild  the table is rebuilt from the guest's before the first paged
 *            instruction after a flush;
 *   lazy     a flush empties it; each entry is filled at its first use
 *            (a hidden fault);
 *   trace    (KVM's way) each guest table keeps its shadow across flushes
 *            and context switches; the frames holding guest tables are
 *            mapped read-only, so a paged store into a table traps, is
 *            interpreted and synced.  Relocation has no write protection,
 *            so after the guest ran unpaged over a table's words, that
 *            table is verified (compared with the guest's) before its
 *            next use.
 * Guest pages past a table's capacity, and frames only partly inside guest
 * memory, are interpreted an instruction at a time: exact, and rare.
 */
#include "vmm_priv.h"

#include <stdlib.h>
#include <string.h>

static const char *const policy_names[VMM_SHADOW_POLICY_COUNT] = {
    [VMM_SHADOW_TRACE] = "trace",
    [VMM_SHADOW_REBUILD] = "rebuild",
    [VMM_SHADOW_LAZY] = "lazy",
};

const char *vmm_shadow_policy_name(enum vmm_shadow_policy p)
{
    return (unsigned)p < VMM_SHADOW_POLICY_COUNT ? policy_names[p] : "?";
}

bool vmm_shadow_policy_by_name(const char *name, enum vmm_shadow_policy *p)
{
    for (unsigned i = 0; i < VMM_SHADOW_POLICY_COUNT; i++)
        if (strcmp(policy_names[i], name) == 0) return *p = (enum vmm_shadow_policy)i, true;
    return false;
}

const char *vmm_shadow_reason_name(enum vmm_shadow_reason r)
{
    switch (r) {
    case VMM_SHADOW_UNCHANGED: return "unchanged";
    case VMM_SHADOW_BY_REBUILD: return "rebuild";
    case VMM_SHADOW_BY_HIDDEN_FAULT: return "hidden fault";
    case VMM_SHADOW_BY_PTE_WRITE: return "PTE write";
    case VMM_SHADOW_BY_FLUSH: return "flush";
    case VMM_SHADOW_BY_VERIFY: return "verify";
    }
    return "?";
}

/* A guest of F frames can map a space far larger than its memory, but a
 * table with more entries than frames is rare: F entries (at least 256, a
 * space of 64K words; at most 2^16) cover what real guests do, and a page
 * past them is interpreted. */
uint32_t vmm_shadow_capacity_for(size_t memsize)
{
    size_t frames = (memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS;
    if (frames < 256) frames = 256;
    if (frames > 65536) frames = 65536;
    return (uint32_t)frames;
}

/* ---- State ----------------------------------------------------------------------- */

bool vmm_shadow_init(struct vmm_guest *g)
{
    struct vmm *v = g->vmm;
    struct vmm_guest_shadow *sh = &g->shadow;
    const uint32_t cap = v->shadow_capacity;
    *sh = (struct vmm_guest_shadow){.active = -1};
    sh->nframes = (g->memsize + ISA_PAGE_WORDS - 1) / ISA_PAGE_WORDS;
    sh->nwords = (size_t)2 * VMM_SHADOW_TABLES * cap;
    sh->words = calloc(sh->nwords, sizeof *sh->words);
    sh->traced = calloc(sh->nframes, sizeof *sh->traced);
    if (!sh->words || !sh->traced) return false;
    const uint32_t *real = machine_memory_const(v->real);
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        struct vmm_shadow_slot *s = &sh->slot[i];
        s->t.hpa = v->shadow_hpa + (g->index * VMM_SHADOW_TABLES + i) * cap;
        s->spte = real + s->t.hpa;
        s->src = sh->words + (size_t)2 * i * cap;
        s->filled = s->src + cap;
    }
    sh->stats.words_reserved = (uint64_t)VMM_SHADOW_TABLES * cap;
    return true;
}

void vmm_shadow_free(struct vmm_guest *g)
{
    free(g->shadow.words);
    free(g->shadow.traced);
    g->shadow.words = NULL;
    g->shadow.traced = NULL;
}

bool vmm_shadow_copy(struct vmm_guest *to, const struct vmm_guest *from)
{
    struct vmm_guest_shadow *sh = &to->shadow;
    const struct vmm_guest_shadow *f = &from->shadow;
    const uint32_t *real = machine_memory_const(to->vmm->real);
    *sh = *f;
    sh->words = malloc(f->nwords * sizeof *f->words);
    sh->traced = malloc(f->nframes * sizeof *f->traced + 1);
    if (!sh->words || !sh->traced) {
        vmm_shadow_free(to);
        return false;
    }
    memcpy(sh->words, f->words, f->nwords * sizeof *f->words);
    memcpy(sh->traced, f->traced, f->nframes * sizeof *f->traced);
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        struct vmm_shadow_slot *s = &sh->slot[i];
        s->spte = real + s->t.hpa;
        s->src = sh->words + (f->slot[i].src - f->words);
        s->filled = sh->words + (f->slot[i].filled - f->words);
    }
    return true;
}

/* ---- One entry ----------------------------------------------------------------------- */

static uint32_t spte_frame(uint32_t frame) { return frame << ISA_PAGE_SHIFT; }

static bool frame_traced(const struct vmm_guest *g, uint32_t frame)
{
    return g->vmm->shadow_policy == VMM_SHADOW_TRACE && frame < g->shadow.nframes &&
           g->shadow.traced[frame] > 0;
}

/* The shadow entry for page vpn of the guest table at root, and in *src
 * the guest PTE it comes from.  The hardware's checks on it give the
 * guest's own fault, detail included:
 *   PTE past guest memory     V W, frame past real memory: PHYSICAL for any access
 *   guest V=0                 invalid (marked): INVALID
 *   frame past guest memory   V, the guest's W, frame past: WRITE for a store to a
 *                             read-only page, else PHYSICAL
 *   frame partly in memory    invalid (marked): every access is interpreted
 *   frame in memory           V, the guest's W (withheld if the frame holds a traced
 *                             table), the host frame the f-map gives */
static uint32_t make_entry(const struct vmm_guest *g, uint32_t root, uint32_t vpn, uint32_t *src)
{
    const uint64_t at = (uint64_t)root + vpn;
    if (at >= g->memsize) {
        *src = 0;
        return PTE_V | PTE_W | spte_frame(VMM_SPTE_PAST);
    }
    const uint32_t pte = g->mem[at];
    *src = pte;
    if (!(pte & PTE_V)) return VMM_SPTE_GUEST_INVALID;
    const uint32_t frame = isa_pte_frame(pte);
    const uint64_t first = (uint64_t)frame * ISA_PAGE_WORDS;
    const uint32_t w = pte & PTE_W;
    if (first >= g->memsize) return PTE_V | w | spte_frame(VMM_SPTE_PAST);
    if (first + ISA_PAGE_WORDS > g->memsize) return VMM_SPTE_INTERPRET;
    /* Regions are page-aligned (alloc.c): a guest frame is one host frame. */
    const uint32_t host = (g->fmap.ext[0].hpa + (uint32_t)first) >> ISA_PAGE_SHIFT;
    if (w && frame_traced(g, frame)) return PTE_V | VMM_SPTE_TRACED | spte_frame(host);
    return PTE_V | w | spte_frame(host);
}

static void set_entry(struct vmm_guest *g, struct vmm_shadow_slot *s, uint32_t vpn, uint32_t e,
                      uint32_t src, enum vmm_shadow_reason why)
{
    s->src[vpn] = src;
    const uint32_t old = s->spte[vpn];
    /* Resource control: a valid entry reaches the guest's region or nothing. */
    TRAPEZE_ASSERT(!(e & PTE_V) || isa_pte_frame(e) == VMM_SPTE_PAST ||
                   (isa_pte_frame(e) >= g->fmap.ext[0].hpa >> ISA_PAGE_SHIFT &&
                    isa_pte_frame(e) < (g->fmap.ext[0].hpa + g->memsize) >> ISA_PAGE_SHIFT));
    if (old == e) return;
    struct vmm_shadow_stats *st = &g->shadow.stats;
    st->words_in_use += (e & PTE_V) != 0;
    st->words_in_use -= (old & PTE_V) != 0;
    st->words_written++;
    *machine_memory_span(g->vmm->real, s->t.hpa + vpn, 1) = e;
    s->t.last_reason = why;
    s->t.last_vpn = vpn;
    s->t.last_step = g->steps;
}

/* Makes entry vpn of s agree with the guest's table now. */
static void sync_entry(struct vmm_guest *g, struct vmm_shadow_slot *s, uint32_t vpn,
                       enum vmm_shadow_reason why)
{
    g->shadow.stats.entries_made++;
    uint32_t src;
    const uint32_t e = make_entry(g, s->t.root, vpn, &src);
    set_entry(g, s, vpn, e, src, why);
}

/* ---- Tracing: the frames that hold guest tables ----------------------------------------- */

/* The guest frames [*lo, *hi] holding s's entries' guest PTEs; false when
 * none lies in guest memory. */
static bool table_frames(const struct vmm_guest *g, const struct vmm_shadow_slot *s, uint32_t *lo,
                         uint32_t *hi)
{
    if (s->t.entries == 0 || s->t.root >= g->memsize) return false;
    uint64_t end = (uint64_t)s->t.root + s->t.entries; /* one past the last PTE */
    if (end > g->memsize) end = g->memsize;
    *lo = s->t.root >> ISA_PAGE_SHIFT;
    *hi = (uint32_t)((end - 1) >> ISA_PAGE_SHIFT);
    return true;
}

/* A frame became traced: every writable entry onto it, in every table,
 * loses its W. */
static void protect_frame(struct vmm_guest *g, uint32_t frame)
{
    const uint32_t host = (g->fmap.ext[0].hpa >> ISA_PAGE_SHIFT) + frame;
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        struct vmm_shadow_slot *s = &g->shadow.slot[i];
        if (!s->used) continue;
        for (uint32_t vpn = 0; vpn < s->t.entries; vpn++) {
            const uint32_t e = s->spte[vpn];
            if ((e & (PTE_V | PTE_W)) == (PTE_V | PTE_W) && isa_pte_frame(e) == host)
                set_entry(g, s, vpn, (e & ~PTE_W) | VMM_SPTE_TRACED, s->src[vpn],
                          VMM_SHADOW_BY_PTE_WRITE);
        }
    }
}

/* Counts s's frames in (+1) or out (-1) of the traced set.  A frame that
 * leaves it keeps its read-only entries: the next store is a hidden
 * fault that gives the W back. */
static void trace_table(struct vmm_guest *g, struct vmm_shadow_slot *s, int delta)
{
    uint32_t lo, hi;
    if (g->vmm->shadow_policy != VMM_SHADOW_TRACE || !table_frames(g, s, &lo, &hi)) return;
    for (uint32_t f = lo; f <= hi; f++) {
        if (delta > 0 && g->shadow.traced[f]++ == 0) protect_frame(g, f);
        if (delta < 0) {
            TRAPEZE_ASSERT(g->shadow.traced[f] > 0);
            g->shadow.traced[f]--;
        }
    }
}

/* ---- Tables -------------------------------------------------------------------------- */

/* Empties s: every entry unfilled. */
static void clear_table(struct vmm_guest *g, struct vmm_shadow_slot *s, enum vmm_shadow_reason why)
{
    if (g->vmm->shadow_policy == VMM_SHADOW_LAZY) {
        for (uint32_t i = 0; i < s->nfilled; i++) set_entry(g, s, s->filled[i], 0, 0, why);
    } else {
        for (uint32_t vpn = 0; vpn < s->t.entries; vpn++) set_entry(g, s, vpn, 0, 0, why);
    }
    s->nfilled = 0;
}

static void mark_used(struct vmm_guest_shadow *sh, struct vmm_shadow_slot *s)
{
    if (!s->used) sh->tables_used++;
    s->used = true;
}

static void release_table(struct vmm_guest *g, struct vmm_shadow_slot *s)
{
    if (!s->used) return;
    trace_table(g, s, -1);
    clear_table(g, s, VMM_SHADOW_BY_FLUSH);
    s->used = false;
    g->shadow.tables_used--;
    s->unverified = false;
    s->t.stale = false;
    s->t.entries = 0;
}

/* Entries [from, to) of s from the guest's table. */
static void build(struct vmm_guest *g, struct vmm_shadow_slot *s, uint32_t from, uint32_t to,
                  enum vmm_shadow_reason why)
{
    for (uint32_t vpn = from; vpn < to; vpn++) sync_entry(g, s, vpn, why);
}

/* The slot a table at root is (or would be) kept in: rebuild and lazy keep
 * one; trace, one per root: its own, a free one, or the least recently used. */
static unsigned slot_for(const struct vmm_guest *g, uint32_t root)
{
    if (g->vmm->shadow_policy != VMM_SHADOW_TRACE) return 0;
    const struct vmm_guest_shadow *sh = &g->shadow;
    unsigned pick = 0;
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++)
        if (sh->slot[i].used && sh->slot[i].t.root == root) return i;
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++)
        if (!sh->slot[i].used) return i;
    for (unsigned i = 1; i < VMM_SHADOW_TABLES; i++)
        if (sh->slot[i].last_use < sh->slot[pick].last_use) pick = i;
    return pick;
}

/* Makes slot i shadow the table at root over `want` entries, as the policy
 * says, ready for the hardware. */
static struct vmm_shadow_slot *prepare(struct vmm_guest *g, uint32_t root, uint32_t want)
{
    struct vmm_guest_shadow *sh = &g->shadow;
    const unsigned i = slot_for(g, root);
    struct vmm_shadow_slot *s = &sh->slot[i];
    const bool same = s->used && s->t.root == root;
    switch (g->vmm->shadow_policy) {
    case VMM_SHADOW_REBUILD:
        if (!same || s->t.stale || s->t.entries != want) {
            if (s->t.entries > want) { /* the entries past the new bound are unused */
                for (uint32_t vpn = want; vpn < s->t.entries; vpn++)
                    set_entry(g, s, vpn, 0, 0, VMM_SHADOW_BY_REBUILD);
            }
            s->t.root = root;
            s->t.entries = want;
            build(g, s, 0, want, VMM_SHADOW_BY_REBUILD);
            sh->stats.rebuilds++;
        }
        break;
    case VMM_SHADOW_LAZY:
        if (!same || s->t.entries != want) {
            clear_table(g, s, VMM_SHADOW_BY_FLUSH);
            s->t.root = root;
            s->t.entries = want;
        }
        break;
    case VMM_SHADOW_TRACE:
        if (!same) {
            release_table(g, s);
            s->t.root = root;
            s->t.entries = want;
            mark_used(sh, s);
            trace_table(g, s, +1); /* first, so that entries onto the table come read-only */
            build(g, s, 0, want, VMM_SHADOW_BY_REBUILD);
            sh->stats.rebuilds++;
        } else {
            if (s->unverified) {
                build(g, s, 0, s->t.entries, VMM_SHADOW_BY_VERIFY);
                sh->stats.verifies++;
            }
            if (want > s->t.entries) { /* the guest's bound grew */
                const uint32_t had = s->t.entries;
                trace_table(g, s, -1);
                s->t.entries = want;
                trace_table(g, s, +1);
                build(g, s, had, want, VMM_SHADOW_BY_REBUILD);
            }
        }
        break;
    case VMM_SHADOW_POLICY_COUNT: break;
    }
    mark_used(sh, s);
    s->unverified = false;
    s->t.stale = false;
    s->last_use = ++sh->clock;
    sh->active = (int)i;
    TRAPEZE_ASSERT(!TRAPEZE_TESTING || vmm_shadow_valid(g));
    return s;
}

static uint32_t wanted_entries(const struct vmm_guest *g)
{
    const uint32_t bound = g->vcpu.psw.bound, cap = g->vmm->shadow_capacity;
    return bound < cap ? bound : cap;
}

/* The shadow of g's current table, ready for the hardware. */
static struct vmm_shadow_slot *ready(struct vmm_guest *g)
{
    const struct psw *vp = &g->vcpu.psw;
    const uint32_t want = wanted_entries(g);
    struct vmm_guest_shadow *sh = &g->shadow;
    struct vmm_shadow_slot *s = sh->active >= 0 ? &sh->slot[sh->active] : NULL;
    /* The common case, every resume after a trap: nothing changed. */
    if (!s || !s->used || s->t.root != vp->base || s->t.stale || s->unverified ||
        (g->vmm->shadow_policy == VMM_SHADOW_TRACE ? s->t.entries < want : s->t.entries != want))
        s = prepare(g, vp->base, want);
    return s;
}

struct psw vmm_shadow_compose(struct vmm_guest *g, uint32_t timer)
{
    const struct psw *vp = &g->vcpu.psw;
    TRAPEZE_ASSERT(vp->flags & PSW_PG);
    const struct vmm_shadow_slot *s = ready(g);
    return (struct psw){PSW_IE | PSW_PG, vp->pc, s->t.hpa, wanted_entries(g), timer};
}

struct psw vmm_shadow_shown(const struct vmm_guest *g, uint32_t timer)
{
    const struct psw *vp = &g->vcpu.psw;
    const struct vmm_shadow_slot *s = &g->shadow.slot[slot_for(g, vp->base)];
    return (struct psw){PSW_IE | PSW_PG, vp->pc, s->t.hpa, wanted_entries(g), timer};
}

/* ---- Faults ---------------------------------------------------------------------------- */

static void sync_word(struct vmm_guest *g, uint32_t gpa, enum vmm_shadow_reason why);

/* A paged store into a traced table (trace): carried out here, as the
 * guest's hardware would, and every shadow of the word resynced -- the
 * cost of a PTE change under trace.  `st` is the only instruction that
 * stores; false (interpret it instead) for anything else. */
static bool emulate_traced_store(struct vmm_guest *g, const struct machine_trap *t, uint32_t va,
                                 uint32_t gpa)
{
    const struct machine *cpu = g->vmm->real; /* holds the registers while g runs there */
    const uint32_t pc = t->old_psw.pc;
    uint32_t at;
    unsigned detail;
    if (!machine_translate(g->interp, &g->vcpu.psw, pc, ACCESS_FETCH, &at, &detail)) return false;
    const uint32_t w = g->mem[at];
    if (isa_opcode_of(w) != ISA_ST) return false;
    if (machine_reg(cpu, isa_field_b(w)) + isa_simm16(w) != va) return false;
    *vmm_guest_span(g, gpa, 1) = machine_reg(cpu, isa_field_a(w));
    sync_word(g, gpa, VMM_SHADOW_BY_PTE_WRITE);
    /* One guest instruction retired, in software: a non-system one. */
    g->vcpu.psw.pc = pc + 1;
    vmm_vclock_tick(g);
    g->stats.emulated++;
    g->stats.interpreted++;
    g->steps++;
    return true;
}

bool vmm_shadow_fault(struct vmm_guest *g, const struct machine_trap *t,
                      enum machine_access access)
{
    struct vmm_guest_shadow *sh = &g->shadow;
    const uint32_t va = t->value, vpn = va >> ISA_PAGE_SHIFT;
    uint32_t gpa;
    unsigned detail;
    if (!machine_translate(g->interp, &g->vcpu.psw, va, access, &gpa, &detail)) {
        sh->stats.true_faults++;
        return false;
    }
    /* The guest's own walk succeeds: the fault is the shadow's. */
    sh->stats.hidden_faults++;
    TRAPEZE_ASSERT(sh->active >= 0);
    struct vmm_shadow_slot *s = &sh->slot[sh->active];
    if (vpn < s->t.entries) {
        uint32_t src;
        const uint32_t e = make_entry(g, s->t.root, vpn, &src);
        sh->stats.entries_made++;
        if (s->spte[vpn] != e) {
            if (s->spte[vpn] == 0 && g->vmm->shadow_policy == VMM_SHADOW_LAZY)
                s->filled[s->nfilled++] = vpn;
            set_entry(g, s, vpn, e, src, VMM_SHADOW_BY_HIDDEN_FAULT);
            sh->stats.fills++;
            return true; /* retried */
        }
    }
    /* Right as it is, and still no way through: past the capacity, a frame
     * partly outside memory, or a store into a traced table. */
    if (access == ACCESS_STORE && vpn < s->t.entries && (s->spte[vpn] & VMM_SPTE_TRACED)) {
        sh->stats.pte_writes++;
        if (emulate_traced_store(g, t, va, gpa)) return true;
        sh->sync_after = true;
        sh->sync_gpa = gpa;
    }
    sh->interpret_next = true;
    return true;
}

/* Every table whose guest words include gpa takes the guest's new word. */
static void sync_word(struct vmm_guest *g, uint32_t gpa, enum vmm_shadow_reason why)
{
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        struct vmm_shadow_slot *s = &g->shadow.slot[i];
        if (s->used && gpa - s->t.root < s->t.entries) sync_entry(g, s, gpa - s->t.root, why);
    }
}

void vmm_shadow_after_interpreted(struct vmm_guest *g)
{
    struct vmm_guest_shadow *sh = &g->shadow;
    sh->stats.interpreted++;
    sh->interpret_next = false;
    if (g->vmm->shadow_policy != VMM_SHADOW_TRACE) return;
    if (sh->sync_after) {
        sync_word(g, sh->sync_gpa, VMM_SHADOW_BY_PTE_WRITE);
        sh->sync_after = false;
        return;
    }
    /* Any other instruction may have stored where no trap showed it. */
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++)
        if (sh->slot[i].used) sh->slot[i].unverified = true;
}

/* ---- Flushes and writes the guest did not make --------------------------------------- */

void vmm_shadow_flush(struct vmm_guest *g)
{
    g->shadow.stats.flushes++;
    vmm_shadow_psw_changed(g);
}

void vmm_shadow_psw_changed(struct vmm_guest *g)
{
    struct vmm_guest_shadow *sh = &g->shadow;
    const struct psw *vp = &g->vcpu.psw;
    switch (g->vmm->shadow_policy) {
    case VMM_SHADOW_REBUILD:
        sh->slot[0].t.stale = true;
        break;
    case VMM_SHADOW_LAZY:
        if (sh->slot[0].nfilled) {
            clear_table(g, &sh->slot[0], VMM_SHADOW_BY_FLUSH);
            sh->stats.drops++;
        }
        break;
    case VMM_SHADOW_TRACE:
        /* Free, but for code that will run unpaged over a table's words. */
        if ((vp->flags & PSW_PG) || sh->tables_used == 0) break;
        for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
            struct vmm_shadow_slot *s = &sh->slot[i];
            uint32_t lo, hi;
            if (!s->used || s->unverified || !table_frames(g, s, &lo, &hi)) continue;
            const uint64_t from = vp->base, to = (uint64_t)vp->base + vp->bound;
            const uint64_t first = s->t.root, last = (uint64_t)s->t.root + s->t.entries;
            if (from < last && first < to) s->unverified = true;
        }
        break;
    case VMM_SHADOW_POLICY_COUNT: break;
    }
    if (!(vp->flags & PSW_PG)) {
        sh->active = -1;
        return;
    }
    /* A paged PSW that will run directly: its shadow is made now, at the
     * flush, so that what a view shows as the table the hardware walks is
     * the guest's as of this flush (the translations ISA.md promises). */
    if (vmm_place_of(g->vmm, g) == VMM_PLACE_DIRECT) ready(g);
}

void vmm_shadow_wrote(struct vmm_guest *g, uint32_t gpa, uint32_t n)
{
    if (g->vmm->shadow_policy != VMM_SHADOW_TRACE || g->shadow.tables_used == 0) return;
    /* sync_word for each word, table by table: each table's entries come
     * out the same, and a table the words miss costs one test. */
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        struct vmm_shadow_slot *s = &g->shadow.slot[i];
        if (!s->used) continue;
        for (uint32_t a = 0; a < n; a++)
            if (gpa + a - s->t.root < s->t.entries)
                sync_entry(g, s, gpa + a - s->t.root, VMM_SHADOW_BY_PTE_WRITE);
    }
}

void vmm_shadow_forget(struct vmm_guest *g)
{
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) release_table(g, &g->shadow.slot[i]);
    g->shadow.active = -1;
}

/* ---- The invariant ------------------------------------------------------------------- */

bool vmm_shadow_valid(const struct vmm_guest *g)
{
    const struct vmm *v = g->vmm;
    const struct vmm_guest_shadow *sh = &g->shadow;
    const uint32_t cap = v->shadow_capacity;
    const uint32_t first = g->fmap.ext[0].hpa >> ISA_PAGE_SHIFT;
    const uint32_t end = (uint32_t)((g->fmap.ext[0].hpa + g->memsize) >> ISA_PAGE_SHIFT);
    const uint32_t *real = machine_memory_const(v->real);
    /* hw-slt keeps no shadow tables: its shadow area holds the guest's
     * second-level table (dispatch.c), which the checks below would take
     * for stray entries. */
    if (v->mode == VMM_HW_SLT) return sh->tables_used == 0 && sh->stats.words_in_use == 0;
    uint64_t in_use = 0;
    unsigned used = 0;
    for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
        const struct vmm_shadow_slot *s = &sh->slot[i];
        used += s->used;
        if (s->t.hpa != v->shadow_hpa + (g->index * VMM_SHADOW_TABLES + i) * cap ||
            s->spte != real + s->t.hpa || s->t.entries > cap || (!s->used && s->t.entries))
            return false;
        for (uint32_t vpn = 0; vpn < cap; vpn++) {
            const uint32_t e = s->spte[vpn];
            if (vpn >= s->t.entries && e != 0) return false; /* nothing past its entries */
            if (!(e & PTE_V)) continue;
            in_use++;
            const uint32_t f = isa_pte_frame(e);
            if (f != VMM_SPTE_PAST && (f < first || f >= end)) return false; /* outside the region */
            if ((e & VMM_SPTE_TRACED) && (e & PTE_W)) return false;
        }
    }
    if (in_use != sh->stats.words_in_use || used != sh->tables_used) return false;
    if (v->shadow_policy != VMM_SHADOW_TRACE) return true;
    for (size_t f = 0; f < sh->nframes; f++) { /* each frame counted once per table in it */
        unsigned tables = 0;
        for (unsigned i = 0; i < VMM_SHADOW_TABLES; i++) {
            uint32_t lo, hi;
            if (sh->slot[i].used && table_frames(g, &sh->slot[i], &lo, &hi) && f >= lo && f <= hi)
                tables++;
        }
        if (sh->traced[f] != tables) return false;
    }
    return true;
}

/* ---- Accessors ------------------------------------------------------------------------ */

uint32_t vmm_shadow_capacity(const struct vmm *v) { return v->shadow_capacity; }

uint32_t vmm_guest_shadow_area(const struct vmm *v, unsigned g, size_t *words)
{
    *words = (size_t)VMM_SHADOW_TABLES * v->shadow_capacity;
    return v->shadow_hpa + (uint32_t)(g * *words);
}
enum vmm_shadow_policy vmm_shadow_policy(const struct vmm *v) { return v->shadow_policy; }

const struct vmm_shadow_stats *vmm_guest_shadow_stats(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return &v->guests[g].shadow.stats;
}

unsigned vmm_guest_shadow_tables(const struct vmm *v, unsigned gi, struct vmm_shadow_table *out,
                                 unsigned max)
{
    if (NEVER(gi >= v->nguests)) return 0;
    const struct vmm_guest *g = &v->guests[gi];
    const struct vmm_guest_shadow *sh = &g->shadow;
    const bool paged = (g->vcpu.psw.flags & PSW_PG) != 0;
    unsigned n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < VMM_SHADOW_TABLES && n < max; i++) {
            const struct vmm_shadow_slot *s = &sh->slot[i];
            const bool active = paged && (int)i == sh->active && s->t.root == g->vcpu.psw.base;
            if (!s->used || active != (pass == 0)) continue;
            out[n] = s->t;
            out[n].active = active;
            out[n].stale = s->t.stale || s->unverified;
            n++;
        }
    return n;
}
