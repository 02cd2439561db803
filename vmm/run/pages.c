/*
 * pages.c: the page tables behind a level's virtual pages, and the way of
 * one address down to the real word (run.h, "Page tables" and "The way of
 * one address").
 *
 * A level's own table is where its PSW says.  Below it, each monitor that
 * runs it directly keeps a shadow, and the list follows them down while
 * each shadows the table just above:
 *
 *   level L's PSW  PG=1, base B_L          machine L:    B_L  (its own)
 *   asm VMM L-1    vflags PG, vbase = B_L   machine L-1:  SHADOW
 *   asm VMM L-2    vflags PG, vbase = SHADOW machine L-2: SHADOW
 *   C VMM (L0)     a table with root = SHADOW  real memory: its hpa
 *
 * The real machine walks the last one exactly while L runs directly and
 * the real PSW names it: that is checked against the real PSW itself, so
 * that a table is never shown as walked when it is not.
 *
 * Nothing here changes the run.  What a viewer saw before (run_pages_seen)
 * is the viewer's, so that a table which keeps no record of its changes
 * (the asm VMM rebuilds its whole shadow; a level writes its own table)
 * can still show the entry that changed since the viewer last looked.
 */
#include "run_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_asm(const struct run *r, unsigned i)
{
    return i < r->n && r->spec.kind[i] == RUN_MONITOR_ASM;
}

/* The column's own clock: what the C VMM stamps its changes with. */
static uint64_t column_time(const struct run *r, const struct column *c)
{
    if (r->bottom == BOTTOM_C) return vmm_guest_steps(r->cvmm, c->index);
    return machine_steps(r->real);
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* ---- The tables ------------------------------------------------------------------------- */

/* The table that monitor i keeps for the one of machine i + 1 at `above`,
 * if it keeps one: false when it does not shadow that table now. */
static bool shadow_of(const struct run *r, const struct column *c, unsigned i, uint32_t above,
                      struct run_page_table *out)
{
    if (is_asm(r, i)) {
        const struct asm_layout *at = &r->asm_vmm->at;
        const uint32_t *mem = c->mem[i];
        if (!(mem[at->vflags] & PSW_PG) || mem[at->vbase] != above) return false;
        *out = (struct run_page_table){
            .kind = RUN_TABLE_ASM_SHADOW, .keeper = i, .machine = i, .base = at->shadow,
            .entries = min_u32(mem[at->vbound], at->shadow_max), .frames_in = i,
        };
        snprintf(out->what, sizeof out->what, "shadow, rebuild (asm VMM)");
        return true;
    }
    /* The C VMM: only at the bottom, making machine 1. */
    TRAPEZE_ASSERT(i == 0 && r->bottom == BOTTOM_C);
    struct vmm_shadow_table st[VMM_SHADOW_TABLES];
    const unsigned k = vmm_guest_shadow_tables(r->cvmm, c->index, st, VMM_SHADOW_TABLES);
    for (unsigned s = 0; s < k; s++) {
        if (st[s].root != above) continue;
        *out = (struct run_page_table){
            .kind = RUN_TABLE_C_SHADOW, .keeper = 0, .machine = 0, .base = st[s].hpa,
            .entries = st[s].entries, .frames_in = 0, .stale = st[s].stale,
        };
        snprintf(out->what, sizeof out->what, "shadow, %s",
                 vmm_shadow_policy_name(vmm_shadow_policy(r->cvmm)));
        if (st[s].last_reason != VMM_SHADOW_UNCHANGED)
            out->change = (struct run_table_change){true, st[s].last_vpn, 1, st[s].last_reason,
                                                    st[s].last_step};
        return true;
    }
    return false;
}

/* Marks who walks one of the tables now.  The real PSW decides: the table
 * in real memory at its base, when L runs directly; the C VMM's
 * interpreter walks the table of machine 1 its PSW names. */
static void mark_walker(const struct run_level_view *v, struct run_page_table *t, unsigned n)
{
    if (v->state != RUN_LEVEL_RUNNING || !v->has_real || !(v->real.flags & PSW_PG)) return;
    /* Translated code (bt) walks the guest's table as the interpreter does. */
    const bool interpreted = v->place == VMM_PLACE_INTERPRETED || v->place == VMM_PLACE_TRANSLATED;
    const unsigned machine = interpreted ? 1 : 0;
    for (unsigned k = n; k-- > 0;)
        if (t[k].machine == machine && t[k].base == v->real.base) {
            t[k].walker = interpreted ? RUN_WALK_INTERPRETER : RUN_WALK_HARDWARE;
            return;
        }
}

unsigned run_page_tables(const struct run *r, unsigned g, unsigned level, struct run_page_table *out,
                         unsigned max)
{
    const struct column *c = column_of(r, g);
    level = level_in(r, level);
    struct run_level_view v;
    run_level_view(r, g, level, &v);
    if (v.host_code || !(v.psw.flags & PSW_PG) || max == 0) return 0;

    /* Its own, as its PSW says; but a waiting asm VMM's machine pages only
     * through the shadow it loaded for its guest. */
    struct run_page_table t = {
        .kind = RUN_TABLE_OWN, .keeper = level, .machine = level, .base = v.psw.base,
        .entries = v.psw.bound, .frames_in = level,
    };
    snprintf(t.what, sizeof t.what, "own");
    if (is_asm(r, level) && v.state == RUN_LEVEL_WAITING && v.psw.base == r->asm_vmm->at.shadow) {
        t.kind = RUN_TABLE_ASM_SHADOW;
        snprintf(t.what, sizeof t.what, "shadow, rebuild (asm VMM)");
    }
    unsigned n = 0;
    out[n++] = t;
    for (unsigned i = level; i-- > 0 && n < max;) {
        if (!shadow_of(r, c, i, out[n - 1].base, &out[n])) break;
        n++;
    }
    /* A waiting monitor's PSW is its machine's now, under the level that
     * runs: that level's real PSW is the one walking these tables. */
    if (v.state == RUN_LEVEL_WAITING) run_level_view(r, g, v.running, &v);
    mark_walker(&v, out, n);
    return n;
}

bool run_page_table_entry(const struct run *r, unsigned g, const struct run_page_table *t, uint32_t vpn,
                          uint32_t *pte)
{
    if (vpn >= t->entries || t->machine > r->n) return false;
    size_t words;
    const uint32_t *mem = run_machine_memory(r, g, t->machine, &words);
    const uint64_t at = (uint64_t)t->base + vpn;
    if (at >= words) return false;
    *pte = mem[at];
    return true;
}

/* ---- What an entry says ---------------------------------------------------------------------- */

void run_pte_decode(const struct run *r, const struct run_page_table *t, bool present, uint32_t pte,
                    struct run_pte_meaning *out)
{
    *out = (struct run_pte_meaning){0};
    if (!present) {
        out->mark = RUN_PTE_ABSENT;
        return;
    }
    out->valid = (pte & PTE_V) != 0;
    out->writable = (pte & PTE_W) != 0;
    out->frame = isa_pte_frame(pte);
    out->mark = RUN_PTE_PLAIN;
    switch (t->kind) {
    case RUN_TABLE_OWN: {
        const uint64_t first = (uint64_t)out->frame * ISA_PAGE_WORDS;
        if (out->valid && t->frames_in <= r->n && first >= r->memsize[t->frames_in])
            out->mark = RUN_PTE_PAST_MEMORY;
        break;
    }
    case RUN_TABLE_C_SHADOW:
        if (pte == 0) out->mark = RUN_PTE_NOT_FILLED;
        else if (!out->valid && (pte & VMM_SPTE_GUEST_INVALID)) out->mark = RUN_PTE_GUEST_INVALID;
        else if (!out->valid && (pte & VMM_SPTE_INTERPRET)) out->mark = RUN_PTE_INTERPRETED;
        else if (out->valid && out->frame == VMM_SPTE_PAST) out->mark = RUN_PTE_PAST_MEMORY;
        else if (out->valid && (pte & VMM_SPTE_TRACED)) out->mark = RUN_PTE_TRACED;
        break;
    case RUN_TABLE_ASM_SHADOW: {
        if (!r->asm_vmm) break; /* no asm VMM: no marks of its to read */
        const struct asm_layout *at = &r->asm_vmm->at;
        if (!out->valid) out->mark = (pte & at->pte_phys) ? RUN_PTE_PAST_MEMORY : RUN_PTE_GUEST_INVALID;
        else if (out->frame == isa_pte_frame(at->pte_frame_past)) out->mark = RUN_PTE_PAST_MEMORY;
        break;
    }
    }
}

const char *run_pte_mark_text(enum run_pte_mark m)
{
    switch (m) {
    case RUN_PTE_PLAIN: return "";
    case RUN_PTE_NOT_FILLED: return "not filled";
    case RUN_PTE_GUEST_INVALID: return "guest entry invalid";
    case RUN_PTE_INTERPRETED: return "interpreted";
    case RUN_PTE_TRACED: return "read-only: holds a page table";
    case RUN_PTE_PAST_MEMORY: return "past memory";
    case RUN_PTE_ABSENT: return "no entry";
    }
    return "?";
}

const char *run_pte_mark_tag(enum run_pte_mark m)
{
    switch (m) {
    case RUN_PTE_PLAIN: return "";
    case RUN_PTE_NOT_FILLED: return "unfilled";
    case RUN_PTE_GUEST_INVALID: return "g-invalid";
    case RUN_PTE_INTERPRETED: return "interp";
    case RUN_PTE_TRACED: return "pt r/o";
    case RUN_PTE_PAST_MEMORY: return "past mem";
    case RUN_PTE_ABSENT: return "none";
    }
    return "?";
}

/* ---- Changes since the last look --------------------------------------------------------------- */

static struct run_seen_table *seen_find(const struct run_pages_seen *seen, const struct run_page_table *t)
{
    for (unsigned k = 0; k < seen->n; k++) {
        const struct run_seen_table *s = &seen->t[k];
        if (s->kind == t->kind && s->machine == t->machine && s->base == t->base)
            return (struct run_seen_table *)s;
    }
    return NULL;
}

void run_pages_seen_free(struct run_pages_seen *seen)
{
    for (unsigned k = 0; k < seen->n; k++) free(seen->t[k].words);
    *seen = (struct run_pages_seen){0};
}

/* The entries of t now, min(entries, RUN_MAX_VPN) of them (absent: 0). */
static uint32_t *copy_entries(const struct run *r, unsigned g, const struct run_page_table *t,
                              uint32_t count)
{
    uint32_t *w = malloc((size_t)count * sizeof *w);
    if (!w) return NULL;
    for (uint32_t vpn = 0; vpn < count; vpn++)
        if (!run_page_table_entry(r, g, t, vpn, &w[vpn])) w[vpn] = 0;
    return w;
}

bool run_pages_look(const struct run *r, unsigned g, unsigned level, struct run_pages_seen *seen,
                    bool note_changes)
{
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = run_page_tables(r, g, level, t, RUN_MAX_PAGE_TABLES);
    if (n == 0) return true;
    const uint64_t now = column_time(r, column_of(r, g));
    struct run_pages_seen next = {0};
    for (unsigned k = 0; k < n; k++) {
        if (t[k].kind == RUN_TABLE_C_SHADOW) continue; /* it keeps its own record */
        const uint32_t count = min_u32(t[k].entries, RUN_MAX_VPN);
        uint32_t *words = count ? copy_entries(r, g, &t[k], count) : NULL;
        if (count && !words) {
            run_pages_seen_free(&next);
            run_pages_seen_free(seen);
            return false;
        }
        struct run_seen_table *was = seen_find(seen, &t[k]);
        struct run_seen_table *s = &next.t[next.n++];
        *s = (struct run_seen_table){t[k].kind, t[k].machine, t[k].base, count, words, {0}};
        if (!was || !note_changes) continue;
        s->change = was->change;
        /* Entries past the old length count as changed from empty. */
        unsigned changed = 0;
        uint32_t last = 0;
        for (uint32_t vpn = 0; vpn < count; vpn++) {
            const uint32_t before = vpn < was->entries && was->words ? was->words[vpn] : 0;
            if (before != words[vpn]) changed++, last = vpn;
        }
        if (changed)
            s->change = (struct run_table_change){
                true, last, changed,
                t[k].kind == RUN_TABLE_OWN ? VMM_SHADOW_BY_PTE_WRITE : VMM_SHADOW_BY_REBUILD, now};
    }
    run_pages_seen_free(seen);
    *seen = next;
    return true;
}

void run_pages_seen_apply(const struct run_pages_seen *seen, struct run_page_table *tables, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        if (tables[k].kind == RUN_TABLE_C_SHADOW) continue;
        const struct run_seen_table *s = seen_find(seen, &tables[k]);
        tables[k].change = s ? s->change : (struct run_table_change){0};
    }
}

/* ---- The way of one address ---------------------------------------------------------------- */

/* va under psw on machine m (memory mem of words): the hop, with the entry
 * the hardware reads when it pages. */
static struct run_hop psw_hop(const struct machine *m, const uint32_t *mem, size_t words,
                              const struct psw *psw, unsigned level, uint32_t va)
{
    struct run_hop h = {.level = level, .from = va, .to_machine = level, .base = psw->base,
                        .bound = psw->bound};
    unsigned d = MEMF_BOUND;
    h.ok = machine_translate(m, psw, va, ACCESS_LOAD, &h.to, &d);
    if (!h.ok) h.detail = d, h.to = 0;
    if (!(psw->flags & PSW_PG)) {
        h.kind = RUN_HOP_RELOCATED;
        return h;
    }
    h.kind = RUN_HOP_PAGED;
    h.vpn = va >> ISA_PAGE_SHIFT;
    const uint64_t at = (uint64_t)psw->base + h.vpn;
    if (h.vpn < psw->bound && at < words) {
        h.pte_at = (uint32_t)at;
        h.pte = mem[at];
        h.has_pte = true;
    }
    return h;
}

bool run_translate_chain(const struct run *r, unsigned g, unsigned level, uint32_t va,
                         struct run_chain *out)
{
    const struct column *c = column_of(r, g);
    level = level_in(r, level);
    *out = (struct run_chain){.level = level, .va = va};
    struct run_level_view v;
    run_level_view(r, g, level, &v);
    if (v.host_code) return false;

    struct run_hop h = psw_hop(c->views[level], c->mem[level], r->memsize[level], &v.psw, level, va);
    out->hop[out->n++] = h;
    uint32_t pa = h.to;
    bool ok = h.ok;
    for (unsigned j = level; ok && j > 0; j--) {
        struct run_extent x[VMM_FMAP_MAX];
        const unsigned k = run_fmap(r, g, j, false, x, VMM_FMAP_MAX);
        struct run_hop f = {.kind = RUN_HOP_FMAP, .level = j, .from = pa, .to_machine = j - 1};
        for (unsigned e = 0; e < k; e++)
            if (pa >= x[e].from && pa - x[e].from < x[e].words) {
                f.ok = true;
                f.extent = x[e];
                f.to = x[e].to + (pa - x[e].from);
            }
        out->hop[out->n++] = f;
        ok = f.ok;
        pa = f.to;
    }
    if (ok && pa < r->memsize[0]) {
        out->ok = true;
        out->real = pa;
        out->word = c->mem[0][pa];
    }

    /* The hardware's own way, while L runs: the real PSW, one hop. */
    if (v.state == RUN_LEVEL_RUNNING && v.has_real) {
        if (v.place == VMM_PLACE_INTERPRETED || v.place == VMM_PLACE_TRANSLATED) {
            out->by = RUN_WALK_INTERPRETER;
        } else {
            out->by = RUN_WALK_HARDWARE;
            out->has_shortcut = true;
            out->shortcut = psw_hop(r->real, c->mem[0], r->memsize[0], &v.real, 0, va);
            out->shortcut_ready = !(v.real.flags & PSW_PG);
            struct run_page_table t[RUN_MAX_PAGE_TABLES];
            const unsigned n = run_page_tables(r, g, level, t, RUN_MAX_PAGE_TABLES);
            for (unsigned k = 0; k < n; k++)
                if (t[k].walker == RUN_WALK_HARDWARE && !t[k].stale) out->shortcut_ready = true;
        }
    }
    return true;
}
