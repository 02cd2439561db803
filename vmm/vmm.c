/*
 * vmm.c: the vmm's life cycle, its accessors and the table of modes.
 *
 * A mode is one routine picking the place where a guest's next
 * instructions run (direct, interpreted: dispatch.c's table of places),
 * given its virtual PSW; the dispatcher, the routines and the scheduler are
 * the same for all.  A mode is added by adding a line to `modes`.
 */
#include "vmm_priv.h"
#include "bt.h"

#include <stdlib.h>
#include <string.h>

/* ---- Modes ----------------------------------------------------------------------- */

/* te: everything runs directly, paging guests through shadow page tables
 * (shadow.c). */
static enum vmm_place place_te(const struct psw *p)
{
    (void)p;
    return VMM_PLACE_DIRECT;
}

/* hvm: virtual-supervisor code is interpreted, virtual-user code runs
 * directly (Theorem 3's hybrid VMM). */
static enum vmm_place place_hvm(const struct psw *p)
{
    return (p->flags & (PSW_M | PSW_PG)) ? VMM_PLACE_INTERPRETED : VMM_PLACE_DIRECT;
}

static enum vmm_place place_interp(const struct psw *p)
{
    (void)p;
    return VMM_PLACE_INTERPRETED;
}

/* bt: virtual-supervisor and paged code runs translated (bt.c), user code
 * directly unless the variant lets it see the real state (vmm_place_of). */
static enum vmm_place place_bt(const struct psw *p)
{
    return (p->flags & (PSW_M | PSW_PG)) ? VMM_PLACE_TRANSLATED : VMM_PLACE_DIRECT;
}

/* hw: everything runs on the real machine in guest mode; paging guests on
 * te's shadow tables, and what no shadow entry expresses is interpreted
 * (vmm_place_of). */
static enum vmm_place place_hw(const struct psw *p)
{
    (void)p;
    return VMM_PLACE_ASSISTED;
}

static enum vmm_place place_hw_slt(const struct psw *p)
{
    (void)p;
    return VMM_PLACE_ASSISTED_SLT;
}

/* pv: the paravirtual kernel runs deprivileged exactly as under te; what
 * it would get wrong it asks by hcall (pv.c). */
static enum vmm_place place_pv(const struct psw *p)
{
    (void)p;
    return VMM_PLACE_DIRECT;
}

static const struct {
    const char *name;
    enum vmm_place (*place)(const struct psw *p);
} modes[VMM_MODE_COUNT] = {
    [VMM_TE] = {"te", place_te},
    [VMM_HVM] = {"hvm", place_hvm},
    [VMM_INTERP] = {"interp", place_interp},
    [VMM_BT] = {"bt", place_bt},
    [VMM_HW] = {"hw", place_hw},
    [VMM_HW_SLT] = {"hw-slt", place_hw_slt},
    [VMM_PV] = {"pv", place_pv},
};

const char *vmm_mode_name(enum vmm_mode mode)
{
    return (unsigned)mode < VMM_MODE_COUNT ? modes[mode].name : "?";
}

bool vmm_mode_by_name(const char *name, enum vmm_mode *mode)
{
    for (unsigned i = 0; i < VMM_MODE_COUNT; i++)
        if (strcmp(modes[i].name, name) == 0) return *mode = (enum vmm_mode)i, true;
    return false;
}

enum vmm_place vmm_place_of(const struct vmm *v, const struct vmm_guest *g)
{
    /* An instruction no shadow entry can express: on the interpreter, once. */
    if (g->shadow.interpret_next || v->pv_interpreted) return VMM_PLACE_INTERPRETED;
    const enum vmm_place p = modes[v->mode].place(&g->vcpu.psw);
    /* x86like's user pushf and srr would show the real flags and relocation. */
    if (p == VMM_PLACE_DIRECT && v->bt_user_translated) return VMM_PLACE_TRANSLATED;
    return p;
}

const char *vmm_place_name(enum vmm_place place)
{
    return (unsigned)place < VMM_PLACE_COUNT ? vmm_places[place].name : "?";
}

const char *vmm_handling_name(enum vmm_handling h)
{
    switch (h) {
    case VMM_EMULATED: return "emulated";
    case VMM_REFLECTED: return "reflected";
    case VMM_DELIVERED: return "delivered";
    case VMM_ABSORBED: return "absorbed";
    case VMM_SCHEDULED: return "scheduled";
    case VMM_STOPPED: return "stopped";
    }
    return "?";
}

double vmm_efficiency(const struct vmm_stats *s)
{
    uint64_t total = s->direct + s->emulated;
    return total ? (double)s->direct / (double)total : 1.0;
}

/* ---- Life cycle ------------------------------------------------------------------ */

/* Hands the real console's bytes to the guest on the real machine: only a
 * variant that executes `out` in user mode writes there. */
static void real_console_sink(void *ctx, uint8_t byte)
{
    struct vmm *v = ctx;
    vmm_console_write(&v->guests[v->current], PORT_CONSOLE_OUT, byte);
}

struct vmm *vmm_create(const struct vmm_config *cfg)
{
    if (!cfg || !cfg->variant || (unsigned)cfg->mode >= VMM_MODE_COUNT ||
        (unsigned)cfg->shadow >= VMM_SHADOW_POLICY_COUNT || cfg->nguests == 0 ||
        cfg->nguests > VMM_MAX_GUESTS || cfg->guest_memsize < TRAP_AREA_WORDS ||
        cfg->guest_memsize > UINT32_MAX)
        return NULL;
    size_t real_words = vmm_alloc_real_size(cfg->nguests, cfg->guest_memsize);
    if (real_words == 0) return NULL;

    struct vmm *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->mode = cfg->mode;
    v->shadow_policy = cfg->shadow;
    /* The guests see the variant as it is: one with the extension would
     * want nested guests, which hw does not offer. */
    const bool hw = cfg->mode == VMM_HW || cfg->mode == VMM_HW_SLT;
    if (hw && (cfg->variant->features & ISA_FEATURE_ASSIST)) {
        free(v);
        return NULL;
    }
    v->variant = *cfg->variant;
    v->interp_variant = *cfg->variant;
    for (unsigned op = 0; op < ISA_OPCODE_SLOTS; op++) v->interp_variant.user_action[op] = USER_TRAP;
    v->slice = cfg->slice ? cfg->slice : VMM_DEFAULT_SLICE;
    v->guest_memsize = cfg->guest_memsize;
    v->nguests = cfg->nguests;
    v->current = cfg->nguests - 1; /* so that guest 0 is picked first */
    vmm_alloc_shadow_area(v);
    v->bt_user_translated = cfg->mode == VMM_BT && bt_user_mode_sensitive(cfg->variant);

    /* hw: the real machine is the guests' variant plus the extension. */
    struct isa_variant real_variant = v->variant;
    if (hw) real_variant.features |= ISA_FEATURE_ASSIST;
    v->real = machine_create(real_words, &real_variant);
    v->guests = calloc(cfg->nguests, sizeof *v->guests);
    if (!v->real || !v->guests) {
        vmm_destroy(v);
        return NULL;
    }
    machine_set_monitor(v->real, &(struct machine_monitor){v, vmm_on_real_trap});
    machine_set_exit_handler(v->real, &(struct machine_exit_handler){v, vmm_on_real_exit});
    machine_set_output_sink(v->real, real_console_sink, v);
    for (unsigned i = 0; i < cfg->nguests; i++) {
        struct vmm_guest *g = &v->guests[i];
        g->vmm = v;
        g->index = i;
        vmm_alloc_guest(v, g);
        g->interp = machine_create_view(v->real, g->fmap.ext[0].hpa, g->memsize, &v->interp_variant);
        if (!g->interp || !vmm_shadow_init(g) || (cfg->mode == VMM_BT && !vmm_bt_init(g))) {
            vmm_destroy(v);
            return NULL;
        }
        machine_set_monitor(g->interp, &(struct machine_monitor){g, vmm_on_interp_trap});
        g->step_limit = UINT64_MAX;
        vmm_guest_reset(v, i, ISA_DEFAULT_ENTRY);
    }
    TRAPEZE_ASSERT(vmm_fmaps_valid(v));
    return v;
}

void vmm_destroy(struct vmm *v)
{
    if (!v) return;
    if (v->guests) {
        for (unsigned i = 0; i < v->nguests; i++) {
            machine_destroy(v->guests[i].interp);
            console_free(&v->guests[i].con);
            vmm_shadow_free(&v->guests[i]);
            vmm_bt_free(&v->guests[i]);
        }
        free(v->guests);
    }
    machine_destroy(v->real);
    free(v);
}

struct vmm *vmm_clone(const struct vmm *v)
{
    TRAPEZE_ASSERT(v->running == NULL); /* outside vmm_run */
    TRAPEZE_ASSERT(vmm_fmaps_valid(v));
    for (unsigned i = 0; TRAPEZE_TESTING && i < v->nguests; i++)
        TRAPEZE_ASSERT(vmm_shadow_valid(&v->guests[i]));
    struct vmm *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *v;
    c->running = NULL;
    c->fetch_stops_set = c->fetch_stopped = false; /* its machines have none */
    c->guests = calloc(v->nguests, sizeof *c->guests);
    c->real = machine_clone(v->real);
    if (!c->guests || !c->real) {
        free(c->guests);
        machine_destroy(c->real);
        free(c);
        return NULL;
    }
    machine_set_monitor(c->real, &(struct machine_monitor){c, vmm_on_real_trap});
    machine_set_exit_handler(c->real, &(struct machine_exit_handler){c, vmm_on_real_exit});
    machine_set_output_sink(c->real, real_console_sink, c);
    bool ok = true;
    for (unsigned i = 0; i < v->nguests; i++) {
        const struct vmm_guest *from = &v->guests[i];
        struct vmm_guest *g = &c->guests[i];
        *g = *from;
        g->vmm = c;
        g->mem = machine_memory_const(c->real) + g->fmap.ext[0].hpa;
        /* Its own console buffers, and no sink (the copy prints nothing). */
        g->con = (struct console){0};
        ok &= console_copy(&g->con, &from->con);
        g->shadow.words = NULL;
        g->shadow.traced = NULL;
        ok &= vmm_shadow_copy(g, from);
        /* A cache is only a cache: the copy starts its own, empty. */
        g->bt = NULL;
        if (from->bt) {
            ok &= vmm_bt_init(g);
            if (g->bt) g->bt->stats = from->bt->stats, g->bt->stats.blocks_live = 0;
        }
        g->interp = machine_create_view(c->real, g->fmap.ext[0].hpa, g->memsize, &c->interp_variant);
        if (!g->interp || !machine_restore(g->interp, from->interp)) {
            ok = false;
            continue;
        }
        machine_set_monitor(g->interp, &(struct machine_monitor){g, vmm_on_interp_trap});
    }
    if (!ok) {
        vmm_destroy(c);
        return NULL;
    }
    TRAPEZE_ASSERT(vmm_fmaps_valid(c));
    return c;
}

void vmm_set_observer(struct vmm *v, const struct vmm_observer *obs)
{
    v->obs = obs ? *obs : (struct vmm_observer){0};
}

void vmm_set_step_limit(struct vmm *v, uint64_t steps)
{
    for (unsigned i = 0; i < v->nguests; i++) {
        struct vmm_guest *g = &v->guests[i];
        g->step_limit = steps;
        /* A guest its budget alone stopped goes on under a bigger one. */
        if (g->stopped && g->stop == MACHINE_BUDGET && g->steps < steps) {
            g->stopped = false;
            g->stop = MACHINE_BUDGET;
        }
    }
}

/* ---- Guests ---------------------------------------------------------------------- */

unsigned vmm_guest_count(const struct vmm *v) { return v->nguests; }
size_t vmm_guest_memsize(const struct vmm *v) { return v->guest_memsize; }
enum vmm_mode vmm_mode(const struct vmm *v) { return v->mode; }
/* Every function taking a guest index checks it first: NEVER() aborts the
 * test build, and a release build returns a neutral value (vmm.h). */

uint32_t *vmm_guest_memory(struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    /* The caller may write anywhere, page tables included. */
    vmm_shadow_forget(&v->guests[g]);
    vmm_bt_forget(&v->guests[g]);
    return vmm_guest_span(&v->guests[g], 0, v->guests[g].memsize);
}

const uint32_t *vmm_guest_memory_const(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return v->guests[g].mem;
}

void vmm_guest_reset(struct vmm *v, unsigned gi, uint32_t entry)
{
    if (NEVER(gi >= v->nguests)) return;
    struct vmm_guest *g = &v->guests[gi];
    memset(g->vcpu.reg, 0, sizeof g->vcpu.reg);
    g->vcpu.psw = (struct psw){PSW_M, entry, 0, (uint32_t)g->memsize, 0};
    vmm_shadow_psw_changed(g);
    g->stopped = false;
    g->stop = MACHINE_BUDGET;
    /* pv: a fresh start is looked at afresh (the hypercall counts are statistics: kept). */
    g->pv.admitted = g->pv.shared_set = false;
    g->pv.refusal[0] = '\0';
}

const struct vmm_vcpu *vmm_guest_vcpu(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return &v->guests[g].vcpu;
}

uint32_t vmm_guest_reg(const struct vmm *v, unsigned gi, unsigned r)
{
    if (NEVER(gi >= v->nguests) || r >= ISA_NREGS) return 0;
    const struct vmm_guest *g = &v->guests[gi];
    if (!g->loaded) return g->vcpu.reg[r];
    return machine_reg(vmm_places[g->place].machine(g), r);
}

void vmm_guest_regs(const struct vmm *v, unsigned gi, uint32_t out[ISA_NREGS])
{
    if (NEVER(gi >= v->nguests)) {
        memset(out, 0, ISA_NREGS * sizeof *out);
        return;
    }
    const struct vmm_guest *g = &v->guests[gi];
    if (!g->loaded) memcpy(out, g->vcpu.reg, ISA_NREGS * sizeof *out);
    else memcpy(out, machine_regs(vmm_places[g->place].machine(g)), ISA_NREGS * sizeof *out);
}

void vmm_guest_set_reg(struct vmm *v, unsigned g, unsigned r, uint32_t value)
{
    if (NEVER(g >= v->nguests)) return;
    TRAPEZE_ASSERT(!v->guests[g].loaded); /* not while vmm_run runs it */
    if (r > 0 && r < ISA_NREGS) v->guests[g].vcpu.reg[r] = value;
}

void vmm_guest_set_psw(struct vmm *v, unsigned g, const struct psw *p)
{
    if (NEVER(g >= v->nguests)) return;
    TRAPEZE_ASSERT(!v->guests[g].loaded); /* not while vmm_run runs it */
    v->guests[g].vcpu.psw = *p;
    v->guests[g].vcpu.psw.flags &= PSW_FLAGS_MASK;
    vmm_shadow_psw_changed(&v->guests[g]);
}

bool vmm_guest_runnable(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return false;
    return !v->guests[g].stopped;
}

enum machine_stop vmm_guest_stop(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return MACHINE_BUDGET;
    return v->guests[g].stopped ? v->guests[g].stop : MACHINE_BUDGET;
}

uint64_t vmm_guest_steps(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return 0;
    return v->guests[g].steps;
}

uint64_t vmm_guest_retired(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return 0;
    return v->guests[g].stats.direct + v->guests[g].stats.emulated;
}

const struct vmm_stats *vmm_guest_stats(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return &v->guests[g].stats;
}

const struct machine_trap *vmm_guest_last_trap(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return v->guests[g].has_trapped ? &v->guests[g].last_trap : NULL;
}

const struct vmm_fmap *vmm_guest_fmap(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return &v->guests[g].fmap;
}

enum vmm_place vmm_guest_place(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return VMM_PLACE_DIRECT;
    return vmm_place_of(v, &v->guests[g]);
}

bool vmm_guest_translate(const struct vmm *v, unsigned g, uint32_t va, enum machine_access access,
                         uint32_t *gpa, unsigned *detail)
{
    if (NEVER(g >= v->nguests)) return false;
    const struct vmm_guest *guest = &v->guests[g];
    return machine_translate(guest->interp, &guest->vcpu.psw, va, access, gpa, detail);
}

struct machine *vmm_real_machine(struct vmm *v) { return v->real; }
const struct machine *vmm_real_machine_const(const struct vmm *v) { return v->real; }
unsigned vmm_current_guest(const struct vmm *v) { return v->current; }
