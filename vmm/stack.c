/*
 * stack.c: building, running and looking into a stack of monitors.
 *
 * Memory, for spec "c,asm,asm" and a guest of G words (B = GUEST_BASE):
 *
 *   real memory (the C VMM's allocator)
 *   +------+--------------------------------------------------------+
 *   | host | machine 1: G + 2B words (the C VMM's guest region)      |
 *   +------+--------------------------------------------------------+
 *          | asm VMM 1 | machine 2: G + B words                      |
 *          |  B words  +------------------------------------------- -+
 *          |           | asm VMM 2 | machine 3 = the guest: G words  |
 *
 * With an asm VMM at the bottom, the real machine is machine 0 itself.
 *
 * Accounting keeps `cur`, the level whose code has run since `mark` (a
 * count of retired instructions: the real machine's, or the C VMM's
 * guest's), and charges the difference whenever the level can change:
 *
 *   bare bottom: a trap always enters the bottom VMM (level 0); its lpsw
 *                leaves it for the level the loaded PSW and the VMMs'
 *                vflags name.  The observer watches instructions only
 *                between the two, so upper levels run unobserved.
 *   C bottom:    every change of level is a C VMM event (its guest's traps
 *                and its guest's lpsw); the level is read off the vcpu.
 *
 * An asm level's own emulations are not retired instructions of the
 * machine below (they trapped), so a level's instruction count is what was
 * charged to it plus what its monitor emulated.
 */
#include "stack.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The asm VMM's vstate values (programs/vmm/vmm.s). */
enum { VS_NOT_STARTED, VS_RUNNING, VS_HALTED, VS_UNHANDLED, VS_CHECK, VS_ERROR };

/* The asm VMM's image, shared by a stack and its clones. */
struct shared_image {
    struct asm_image img;
    unsigned refs;
};

/* Addresses of the asm VMM's exported words, from its symbol table. */
struct vmm_syms {
    uint32_t guest_base, guest_entry, vflags, vbase, vbound, vstate, vm_error, vpsw;
    uint32_t n_emulated, n_traps, gregs;
};

struct stack {
    struct stack_spec spec;
    unsigned n;                                 /* monitors */
    struct isa_variant variant;
    size_t memsize[STACK_MAX_MONITORS + 1];     /* machine j's words */

    struct shared_image *vmm;                   /* the asm VMM, when used */
    struct vmm_syms sym;

    struct machine *real; /* owned unless the C VMM made it */
    struct vmm *cvmm;     /* level 0 when spec.kind[0] == STACK_C */
    uint32_t *cmem;       /* machine 1's memory under the C VMM */

    /* Accounting. */
    bool accounting;
    unsigned cur;                               /* level running since mark */
    uint64_t mark;
    uint64_t charged[STACK_MAX_MONITORS + 1];   /* retired, by level */
    bool watching;                              /* before_insn set (bare bottom) */
    bool stop_at_guest;                         /* stop where the guest resumes */
    bool lpsw_pass;                             /* ...after this lpsw */
    bool stopped_for_guest;
    struct machine_observer user;
    void (*trap_hook)(void *ctx, const struct stack_trap_event *e);
    void *trap_ctx;

    enum machine_stop last_stop;
};

/* ---- Specs ------------------------------------------------------------------------ */

const char *stack_kind_name(enum stack_kind k) { return k == STACK_C ? "c" : "asm"; }

bool stack_spec_parse(const char *text, struct stack_spec *out, char err[STACK_ERROR_SIZE])
{
    *out = (struct stack_spec){0};
    if (*text == '\0' || strcasecmp(text, "bare") == 0) return true;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        enum stack_kind k;
        if (len == 1 && strncasecmp(p, "c", 1) == 0) k = STACK_C;
        else if (len == 3 && strncasecmp(p, "asm", 3) == 0) k = STACK_ASM;
        else {
            snprintf(err, STACK_ERROR_SIZE,
                     "bad stack '%.100s': expected a list of 'c' and 'asm' like c,asm,asm, "
                     "found '%.*s'", text, (int)(len > 40 ? 40 : len), p);
            return false;
        }
        if (k == STACK_C && out->n > 0) {
            snprintf(err, STACK_ERROR_SIZE,
                     "bad stack '%.100s': 'c' (the C VMM) can only be the bottom level", text);
            return false;
        }
        if (out->n == STACK_MAX_MONITORS) {
            snprintf(err, STACK_ERROR_SIZE, "bad stack '%.100s': at most %d monitors", text,
                     STACK_MAX_MONITORS);
            return false;
        }
        out->kind[out->n++] = k;
        if (p[len] == '\0') return true;
        p += len + 1;
    }
}

bool stack_spec_depth(unsigned depth, struct stack_spec *out, char err[STACK_ERROR_SIZE])
{
    *out = (struct stack_spec){0};
    if (depth > STACK_MAX_MONITORS) {
        snprintf(err, STACK_ERROR_SIZE, "bad depth %u: at most %d", depth, STACK_MAX_MONITORS);
        return false;
    }
    out->n = depth;
    for (unsigned i = 0; i < depth; i++) out->kind[i] = i == 0 ? STACK_C : STACK_ASM;
    return true;
}

void stack_spec_format(const struct stack_spec *spec, char *buf, size_t size)
{
    if (size == 0) return;
    buf[0] = '\0';
    if (spec->n == 0) {
        snprintf(buf, size, "bare");
        return;
    }
    size_t used = 0;
    for (unsigned i = 0; i < spec->n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", stack_kind_name(spec->kind[i]));
        if (w < 0) return;
        used += (size_t)w;
    }
}

/* ---- Finding and loading the asm VMM -------------------------------------------------- */

static bool file_exists(const char *path) { return access(path, R_OK) == 0; }

bool stack_vmm_source(char *buf, size_t size)
{
    const char *env = getenv("TRAPEZE_VMM");
    if (env && *env) {
        snprintf(buf, size, "%s", env);
        return file_exists(buf);
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        for (int up = 0; up < 4; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash) break;
            *slash = '\0';
            snprintf(buf, size, "%s/programs/vmm/vmm.s", exe);
            if (file_exists(buf)) return true;
        }
    }
    snprintf(buf, size, "programs/vmm/vmm.s");
    return file_exists(buf);
}

static bool symbol(const struct asm_image *img, const char *name, uint32_t *value, const char *path,
                   char err[STACK_ERROR_SIZE])
{
    if (asm_symbol_value(img, name, value)) return true;
    snprintf(err, STACK_ERROR_SIZE, "%.300s: error: the asm VMM defines no '%s'", path, name);
    return false;
}

static bool load_vmm(struct stack *s, const char *source, char err[STACK_ERROR_SIZE])
{
    char path[PATH_MAX];
    if (source) snprintf(path, sizeof path, "%s", source);
    else if (!stack_vmm_source(path, sizeof path)) {
        snprintf(err, STACK_ERROR_SIZE,
                 "cannot find the asm VMM (%.300s); set TRAPEZE_VMM to programs/vmm/vmm.s", path);
        return false;
    }
    s->vmm = calloc(1, sizeof *s->vmm);
    if (!s->vmm) {
        snprintf(err, STACK_ERROR_SIZE, "out of memory");
        return false;
    }
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *errors = open_memstream(&msg, &msg_len);
    int nerr = errors ? asm_load_program(path, &s->vmm->img, errors) : -1;
    if (errors) fclose(errors);
    if (nerr != 0) {
        const char *first = msg && *msg ? msg : "cannot load it\n";
        snprintf(err, STACK_ERROR_SIZE, "the asm VMM does not assemble: %.*s",
                 (int)strcspn(first, "\n"), first);
        free(msg);
        free(s->vmm);
        s->vmm = NULL;
        return false;
    }
    free(msg);
    s->vmm->refs = 1;
    const struct asm_image *img = &s->vmm->img;
    struct vmm_syms *y = &s->sym;
    if (!symbol(img, "GUEST_BASE", &y->guest_base, path, err) ||
        !symbol(img, "guest_entry", &y->guest_entry, path, err) ||
        !symbol(img, "vflags", &y->vflags, path, err) ||
        !symbol(img, "vbase", &y->vbase, path, err) ||
        !symbol(img, "vbound", &y->vbound, path, err) ||
        !symbol(img, "vstate", &y->vstate, path, err) ||
        !symbol(img, "vm_error", &y->vm_error, path, err) ||
        !symbol(img, "vpsw", &y->vpsw, path, err) ||
        !symbol(img, "n_emulated", &y->n_emulated, path, err) ||
        !symbol(img, "n_traps", &y->n_traps, path, err) ||
        !symbol(img, "gregs", &y->gregs, path, err))
        return false;
    if (y->guest_base % ISA_PAGE_WORDS || y->guest_base < TRAP_AREA_WORDS) {
        snprintf(err, STACK_ERROR_SIZE, "%.300s: error: GUEST_BASE must be a multiple of %u", path,
                 ISA_PAGE_WORDS);
        return false;
    }
    for (size_t i = 0; i < img->nsegments; i++) {
        const struct asm_segment *g = &img->segments[i];
        if ((uint64_t)g->at + g->count > y->guest_base) {
            snprintf(err, STACK_ERROR_SIZE, "%.300s: error: the VMM reaches beyond GUEST_BASE", path);
            return false;
        }
    }
    return true;
}

/* ---- Machines ----------------------------------------------------------------------- */

static uint32_t *mem_of(const struct stack *s, unsigned j)
{
    if (j == 0) return machine_memory(s->real);
    if (s->spec.kind[0] == STACK_C) return s->cmem + (size_t)(j - 1) * s->sym.guest_base;
    return machine_memory(s->real) + (size_t)j * s->sym.guest_base;
}

uint32_t *stack_machine_memory(struct stack *s, unsigned j, size_t *words)
{
    if (j > s->n) j = s->n;
    if (words) *words = s->memsize[j];
    return mem_of(s, j);
}

const uint32_t *stack_machine_memory_const(const struct stack *s, unsigned j, size_t *words)
{
    if (j > s->n) j = s->n;
    if (words) *words = s->memsize[j];
    return mem_of(s, j);
}

uint64_t stack_machine_offset(const struct stack *s, unsigned j)
{
    if (j > s->n) j = s->n;
    return (uint64_t)(mem_of(s, j) - machine_memory(s->real));
}

bool stack_fmap(const struct stack *s, unsigned i, struct vmm_fmap *out)
{
    if (i >= s->n) return false;
    if (s->spec.kind[i] == STACK_C) {
        *out = *vmm_guest_fmap(s->cvmm, 0);
        return true;
    }
    *out = (struct vmm_fmap){{{0, s->sym.guest_base, (uint32_t)s->memsize[i + 1]}}, 1};
    return true;
}

/* A word of asm monitor i's memory (machine i), by symbol address. */
static uint32_t vmm_word(const struct stack *s, unsigned i, uint32_t address)
{
    return mem_of(s, i)[address];
}

static const struct psw *cvcpu_psw(const struct stack *s) { return &vmm_guest_vcpu(s->cvmm, 0)->psw; }

struct psw stack_machine_psw(const struct stack *s, unsigned j)
{
    if (j > s->n) j = s->n;
    if (j == 0) return machine_psw(s->real);
    const unsigned i = j - 1; /* the monitor that makes machine j */
    if (s->spec.kind[i] == STACK_C) return *cvcpu_psw(s);
    const uint32_t *mem = mem_of(s, i);
    const uint32_t state = mem[s->sym.vstate];
    if (state >= VS_HALTED) return isa_psw_from_words(&mem[s->sym.vpsw]);
    if (state == VS_NOT_STARTED)
        return (struct psw){PSW_M, mem[s->sym.guest_entry], 0, (uint32_t)s->memsize[j], 0};
    /* Running: the real PSW holds IE, TP, pc and timer; while the monitor
     * is in its handler, the trap saved that PSW in its trap area. */
    struct psw below = stack_machine_psw(s, i);
    struct psw real = below;
    if (below.flags & PSW_M) real = isa_psw_from_words(&mem[TRAP_OLD_PSW]);
    return (struct psw){(real.flags & (PSW_IE | PSW_TP)) | (mem[s->sym.vflags] & (PSW_M | PSW_PG)),
                        real.pc, mem[s->sym.vbase], mem[s->sym.vbound], real.timer};
}

uint32_t stack_machine_reg(const struct stack *s, unsigned j, unsigned r)
{
    if (j > s->n) j = s->n;
    if (r == 0 || r >= ISA_NREGS) return 0;
    if (j == 0) return machine_reg(s->real, r);
    const unsigned i = j - 1;
    if (s->spec.kind[i] == STACK_C) return vmm_guest_reg(s->cvmm, 0, r);
    if (r <= 4 && vmm_word(s, i, s->sym.vstate) == VS_RUNNING &&
        (stack_machine_psw(s, i).flags & PSW_M))
        return vmm_word(s, i, s->sym.gregs + r);
    return stack_machine_reg(s, i, r);
}

bool stack_machine_set_reg(struct stack *s, unsigned j, unsigned r, uint32_t value)
{
    if (j > s->n || r == 0 || r >= ISA_NREGS) return false;
    if (j == 0) {
        machine_set_reg(s->real, r, value);
        return true;
    }
    const unsigned i = j - 1;
    if (s->spec.kind[i] == STACK_C) {
        vmm_guest_set_reg(s->cvmm, 0, r, value);
        return true;
    }
    /* Mirrors stack_machine_reg: inside its handler, the asm VMM keeps
     * r1..r4 of the machine it provides in its save slots. */
    if (r <= 4 && vmm_word(s, i, s->sym.vstate) == VS_RUNNING &&
        (stack_machine_psw(s, i).flags & PSW_M)) {
        size_t words;
        uint32_t *mem = stack_machine_memory(s, i, &words);
        if ((uint64_t)s->sym.gregs + r >= words) return false;
        mem[s->sym.gregs + r] = value;
        return true;
    }
    return stack_machine_set_reg(s, i, r, value);
}

/* The level whose code runs when machine j is in mode m (true: supervisor):
 * the first machine in supervisor mode from j up runs its monitor. */
static unsigned walk(const struct stack *s, unsigned j, bool m)
{
    for (;;) {
        if (j >= s->n) return s->n;
        if (m) return j;
        m = (vmm_word(s, j, s->sym.vflags) & PSW_M) != 0;
        j++;
    }
}

unsigned stack_current_level(const struct stack *s)
{
    if (s->n == 0) return 0;
    if (s->spec.kind[0] == STACK_C) return walk(s, 1, (cvcpu_psw(s)->flags & PSW_M) != 0);
    return walk(s, 0, (machine_psw(s->real).flags & PSW_M) != 0);
}

/* ---- Accounting ------------------------------------------------------------------------ */

static uint64_t retired_now(const struct stack *s)
{
    if (s->cvmm) return vmm_guest_retired(s->cvmm, 0);
    return machine_stats(s->real)->retired;
}

static void charge(struct stack *s)
{
    uint64_t now = retired_now(s);
    s->charged[s->cur] += now - s->mark;
    s->mark = now;
}

static enum machine_verdict c_event(void *ctx, struct vmm *v, const struct vmm_event *e);
static void watch(struct stack *s, bool on);

/* Tells the trap hook about a trap that arose in level `arose`; guest_kernel
 * says whether the guest was in (virtual) supervisor mode. */
static void report_trap(struct stack *s, unsigned arose, bool guest_kernel, enum isa_cause cause,
                        unsigned detail, uint32_t value, uint32_t pc)
{
    struct stack_trap_event e = {arose, arose, STACK_REFLECTED, cause, detail, value, pc,
                                 machine_steps(s->real)};
    bool kernel = arose < s->n || guest_kernel;
    if (cause == CAUSE_PRIV && arose > 0 && kernel) {
        e.handled = arose - 1;
        e.how = STACK_EMULATED;
    } else if (cause == CAUSE_TIMER || cause == CAUSE_IO) {
        e.how = STACK_DELIVERED;
    }
    s->trap_hook(s->trap_ctx, &e);
}

static enum machine_verdict bare_before_insn(void *ctx, struct machine *m, uint32_t pc,
                                             uint32_t insn);
static enum machine_verdict bare_after_trap(void *ctx, struct machine *m,
                                            const struct machine_trap *t);

/* Installs the observer: before_insn only while the bottom VMM's handler
 * runs (or the user's observer wants every instruction). */
static void watch(struct stack *s, bool on)
{
    s->watching = on;
    bool before = (on && s->accounting) || s->user.before_insn;
    bool any = s->accounting || s->user.before_insn || s->user.after_trap || s->trap_hook;
    if (!any) {
        machine_set_observer(s->real, NULL);
        return;
    }
    struct machine_observer obs = {s, before ? bare_before_insn : NULL, bare_after_trap};
    machine_set_observer(s->real, &obs);
}

/* An lpsw of the bottom VMM (real supervisor mode): its handler ends here
 * and the loaded PSW's level begins with the next instruction. */
static enum machine_verdict bare_before_insn(void *ctx, struct machine *m, uint32_t pc,
                                             uint32_t insn)
{
    struct stack *s = ctx;
    if (s->user.before_insn && s->user.before_insn(s->user.ctx, m, pc, insn) == MACHINE_STOP_RUN)
        return MACHINE_STOP_RUN;
    if (!s->accounting || !s->watching) return MACHINE_CONTINUE;
    struct psw p = machine_psw(m);
    if (isa_opcode_of(insn) != ISA_LPSW || !(p.flags & PSW_M)) return MACHINE_CONTINUE;
    uint32_t va = machine_reg(m, isa_field_b(insn)) + isa_simm16(insn), pa;
    unsigned detail;
    if (!machine_translate(m, &p, va, ACCESS_LOAD, &pa, &detail))
        return MACHINE_CONTINUE; /* it faults: the trap will say where we are */
    unsigned next = walk(s, 0, (machine_memory(m)[pa] & PSW_M) != 0);
    if (s->stop_at_guest && next == s->n && !s->lpsw_pass) {
        s->lpsw_pass = true; /* stop before it; stack_run executes it alone */
        s->stopped_for_guest = true;
        return MACHINE_STOP_RUN;
    }
    s->lpsw_pass = false;
    charge(s);
    s->charged[s->cur]++; /* the lpsw itself, which retires */
    s->mark++;
    s->cur = next;
    if (next != 0) watch(s, false);
    return MACHINE_CONTINUE;
}

static enum machine_verdict bare_after_trap(void *ctx, struct machine *m,
                                            const struct machine_trap *t)
{
    struct stack *s = ctx;
    if (s->trap_hook) {
        /* before the trap, the code of level cur ran; without accounting,
         * the saved PSW says which */
        unsigned arose = s->accounting || s->n == 0 ? s->cur
                                                     : walk(s, 0, (t->old_psw.flags & PSW_M) != 0);
        bool kernel = (stack_machine_psw(s, s->n).flags & PSW_M) != 0;
        report_trap(s, arose, kernel, t->cause, t->detail, t->value, t->old_psw.pc);
    }
    if (s->accounting && s->n > 0) {
        charge(s);
        s->cur = 0; /* every trap lands in the bottom VMM */
        if (!s->watching) watch(s, true);
    }
    if (s->user.after_trap) return s->user.after_trap(s->user.ctx, m, t);
    return MACHINE_CONTINUE;
}

/* The C VMM's events: every change of level is one. */
static enum machine_verdict c_event(void *ctx, struct vmm *v, const struct vmm_event *e)
{
    struct stack *s = ctx;
    (void)v;
    if (s->trap_hook && e->how <= VMM_DELIVERED) {
        unsigned arose = s->accounting ? s->cur : walk(s, 1, e->supervisor);
        bool kernel = s->n == 1 ? e->supervisor : (stack_machine_psw(s, s->n).flags & PSW_M) != 0;
        report_trap(s, arose, kernel, e->cause, e->detail, e->value, e->pc);
    }
    charge(s);
    s->cur = walk(s, 1, (cvcpu_psw(s)->flags & PSW_M) != 0);
    if (s->stop_at_guest && s->cur == s->n && e->how != VMM_STOPPED) {
        s->stopped_for_guest = true;
        return MACHINE_STOP_RUN;
    }
    return MACHINE_CONTINUE;
}

/* ---- Life cycle ------------------------------------------------------------------------- */

static void fail(char err[STACK_ERROR_SIZE], const char *what)
{
    snprintf(err, STACK_ERROR_SIZE, "%s", what);
}

void stack_destroy(struct stack *s)
{
    if (!s) return;
    if (s->cvmm) vmm_destroy(s->cvmm);
    else machine_destroy(s->real);
    if (s->vmm && --s->vmm->refs == 0) {
        asm_image_free(&s->vmm->img);
        free(s->vmm);
    }
    free(s);
}

struct stack *stack_create(const struct stack_config *cfg, const struct asm_image *guest,
                           char err[STACK_ERROR_SIZE])
{
    if (!cfg || !cfg->variant || cfg->spec.n > STACK_MAX_MONITORS ||
        cfg->guest_memsize < TRAP_AREA_WORDS || cfg->guest_memsize > UINT32_MAX) {
        fail(err, "bad stack configuration");
        return NULL;
    }
    for (unsigned i = 1; i < cfg->spec.n; i++)
        if (cfg->spec.kind[i] != STACK_ASM) {
            fail(err, "bad stack: 'c' (the C VMM) can only be the bottom level");
            return NULL;
        }
    struct stack *s = calloc(1, sizeof *s);
    if (!s) {
        fail(err, "out of memory");
        return NULL;
    }
    s->spec = cfg->spec;
    s->n = cfg->spec.n;
    s->variant = *cfg->variant;
    s->accounting = cfg->accounting;
    s->last_stop = MACHINE_BUDGET;
    const bool c_bottom = s->n > 0 && s->spec.kind[0] == STACK_C;
    const unsigned first_asm = c_bottom ? 1 : 0;
    if (s->n > first_asm && !load_vmm(s, cfg->vmm_source, err)) goto failed;

    /* Sizes from the top down: each asm level adds GUEST_BASE words. */
    s->memsize[s->n] = cfg->guest_memsize;
    for (unsigned j = s->n; j-- > first_asm;) {
        s->memsize[j] = s->memsize[j + 1] + s->sym.guest_base;
        if (s->memsize[j] > UINT32_MAX) {
            fail(err, "the stack's memory does not fit in 2^32 words");
            goto failed;
        }
    }
    if (c_bottom) {
        struct vmm_config vc = {VMM_TE, &s->variant, s->memsize[1], 1, 0};
        s->cvmm = vmm_create(&vc);
        if (!s->cvmm) {
            fail(err, "cannot create the C VMM (memory)");
            goto failed;
        }
        s->real = vmm_real_machine(s->cvmm);
        s->cmem = vmm_guest_memory(s->cvmm, 0);
        s->memsize[0] = machine_memsize(s->real);
    } else {
        s->real = machine_create(s->memsize[0], &s->variant);
        if (!s->real) {
            fail(err, "cannot allocate the real machine's memory");
            goto failed;
        }
    }

    /* Load: the VMM into every asm level, the guest on top. */
    for (unsigned i = first_asm; i < s->n; i++) {
        uint32_t *mem = mem_of(s, i);
        if (!asm_image_place(&s->vmm->img, mem, s->memsize[i], 0)) {
            fail(err, "the asm VMM does not fit in its machine");
            goto failed;
        }
        mem[s->sym.guest_entry] = i + 1 < s->n ? s->vmm->img.entry : guest->entry;
    }
    if (!asm_image_place(guest, mem_of(s, s->n), s->memsize[s->n], 0)) {
        snprintf(err, STACK_ERROR_SIZE,
                 "the program does not fit in %zu words of memory (--mem)", s->memsize[s->n]);
        goto failed;
    }
    const uint32_t bottom_entry = s->n > first_asm ? s->vmm->img.entry : guest->entry;
    if (c_bottom) {
        vmm_guest_reset(s->cvmm, 0, bottom_entry);
        if (s->accounting) vmm_set_observer(s->cvmm, &(struct vmm_observer){s, c_event});
        s->cur = walk(s, 1, true);
    } else {
        machine_reset(s->real, bottom_entry);
        s->cur = 0;
        watch(s, s->n > 0);
    }
    return s;

failed:
    stack_destroy(s);
    return NULL;
}

struct stack *stack_clone(const struct stack *s)
{
    struct stack *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *s;
    if (s->cvmm) {
        c->cvmm = vmm_clone(s->cvmm);
        if (!c->cvmm) {
            free(c);
            return NULL;
        }
        c->real = vmm_real_machine(c->cvmm);
        c->cmem = vmm_guest_memory(c->cvmm, 0);
        bool events = c->accounting || c->trap_hook;
        vmm_set_observer(c->cvmm, events ? &(struct vmm_observer){c, c_event} : NULL);
        machine_set_observer(c->real, c->user.before_insn || c->user.after_trap ? &c->user : NULL);
    } else {
        c->real = machine_clone(s->real);
        if (!c->real) {
            free(c);
            return NULL;
        }
        machine_set_output_sink(c->real, NULL, NULL);
        watch(c, c->watching); /* the observer's ctx is the copy */
    }
    if (c->vmm) c->vmm->refs++;
    return c;
}

void stack_feed_input(struct stack *s, const uint8_t *bytes, size_t n)
{
    if (s->cvmm) vmm_feed_input(s->cvmm, 0, bytes, n);
    else machine_feed_input(s->real, bytes, n);
}

void stack_set_output_sink(struct stack *s, void (*sink)(void *ctx, uint8_t byte), void *ctx)
{
    if (s->cvmm) vmm_set_output_sink(s->cvmm, 0, sink, ctx);
    else machine_set_output_sink(s->real, sink, ctx);
}

void stack_set_observer(struct stack *s, const struct machine_observer *obs)
{
    s->user = obs ? *obs : (struct machine_observer){0};
    if (s->cvmm) machine_set_observer(s->real, obs);
    else watch(s, s->watching);
}

void stack_set_trap_hook(struct stack *s,
                         void (*hook)(void *ctx, const struct stack_trap_event *e), void *ctx)
{
    s->trap_hook = hook;
    s->trap_ctx = ctx;
    if (s->cvmm) {
        bool on = s->accounting || hook;
        vmm_set_observer(s->cvmm, on ? &(struct vmm_observer){s, c_event} : NULL);
    } else {
        watch(s, s->watching);
    }
}

unsigned stack_monitor_count(const struct stack *s) { return s->n; }
const struct stack_spec *stack_spec_of(const struct stack *s) { return &s->spec; }
struct machine *stack_real_machine(struct stack *s) { return s->real; }
const struct machine *stack_real_machine_const(const struct stack *s) { return s->real; }
struct vmm *stack_c_vmm(struct stack *s) { return s->cvmm; }
const struct asm_image *stack_vmm_image(const struct stack *s) { return s->vmm ? &s->vmm->img : NULL; }

/* ---- Running --------------------------------------------------------------------------- */

static bool top_is_asm(const struct stack *s) { return s->n > 0 && s->spec.kind[s->n - 1] == STACK_ASM; }

/* True when the guest can run no more. */
static bool finished(const struct stack *s)
{
    if (s->cvmm) return !vmm_guest_runnable(s->cvmm, 0);
    return machine_state(s->real) != MACHINE_BUDGET;
}

/* Runs the bottom for at most budget of its steps. */
static enum machine_stop run_bottom(struct stack *s, uint64_t budget)
{
    if (!s->cvmm) return machine_run(s->real, budget);
    switch (vmm_run(s->cvmm, budget)) {
    case VMM_RUN_DONE: return vmm_guest_stop(s->cvmm, 0);
    case VMM_RUN_BUDGET: return MACHINE_BUDGET;
    case VMM_RUN_STOPPED: break;
    }
    return MACHINE_STOPPED;
}

enum machine_stop stack_run(struct stack *s, uint64_t max_steps)
{
    if (s->n == 0 || !top_is_asm(s) || !s->accounting) {
        /* Bare, or the C VMM alone: the bottom counts the guest's steps
         * itself.  Without accounting: the bottom's own steps. */
        uint64_t done = 0;
        if (s->n == 0) done = machine_steps(s->real);
        else if (!top_is_asm(s)) done = vmm_guest_steps(s->cvmm, 0);
        enum machine_stop st = MACHINE_BUDGET;
        if (done < max_steps && !finished(s)) st = run_bottom(s, max_steps - done);
        if (s->n > 0 && s->accounting) charge(s);
        s->last_stop = st;
        return s->last_stop = finished(s) ? stack_guest_stop(s) : st;
    }
    for (;;) {
        if (finished(s)) break;
        uint64_t g = stack_guest_steps(s);
        uint64_t budget = max_steps > g ? max_steps - g : 0;
        if (budget == 0) {
            if (s->cur == s->n) {
                s->last_stop = MACHINE_BUDGET;
                return MACHINE_BUDGET;
            }
            /* A trap of the guest is still being handled: finish it and
             * stop where the guest's next instruction would run. */
            s->stop_at_guest = true;
            budget = UINT64_MAX;
        }
        s->stopped_for_guest = false;
        enum machine_stop st = run_bottom(s, budget);
        s->stop_at_guest = false;
        if (st == MACHINE_STOPPED && s->stopped_for_guest) {
            if (!s->cvmm) machine_run(s->real, 1); /* the lpsw into the guest, and no more */
            s->lpsw_pass = false;
            continue;
        }
        if (st == MACHINE_STOPPED) {
            charge(s);
            return s->last_stop = MACHINE_STOPPED;
        }
    }
    charge(s);
    return s->last_stop = stack_guest_stop(s);
}

/* ---- The guest ------------------------------------------------------------------------ */

enum machine_stop stack_guest_stop(const struct stack *s)
{
    if (s->n == 0) {
        enum machine_stop st = machine_state(s->real);
        return st == MACHINE_BUDGET ? s->last_stop : st;
    }
    if (top_is_asm(s)) {
        switch (vmm_word(s, s->n - 1, s->sym.vstate)) {
        case VS_HALTED: return MACHINE_HALT;
        case VS_UNHANDLED: return MACHINE_UNHANDLED_TRAP;
        case VS_CHECK: return MACHINE_CHECK;
        case VS_ERROR: return MACHINE_UNHANDLED_TRAP;
        default: break;
        }
    }
    if (s->cvmm) {
        enum machine_stop st = vmm_guest_stop(s->cvmm, 0);
        if (vmm_guest_runnable(s->cvmm, 0)) return s->last_stop;
        return st;
    }
    enum machine_stop st = machine_state(s->real);
    return st == MACHINE_BUDGET ? s->last_stop : st;
}

uint32_t stack_guest_reg(const struct stack *s, unsigned r) { return stack_machine_reg(s, s->n, r); }
struct psw stack_guest_psw(const struct stack *s) { return stack_machine_psw(s, s->n); }
const uint32_t *stack_guest_memory(const struct stack *s) { return mem_of(s, s->n); }
size_t stack_guest_memsize(const struct stack *s) { return s->memsize[s->n]; }

const uint8_t *stack_guest_output(const struct stack *s, size_t *len)
{
    if (s->cvmm) return vmm_guest_output(s->cvmm, 0, len);
    return machine_output(s->real, len);
}

/* Traps reflected by asm monitor i into machine i + 1, by cause. */
static uint64_t asm_reflected(const struct stack *s, unsigned i, uint64_t by_cause[CAUSE_COUNT])
{
    uint64_t total = 0;
    for (unsigned c = 0; c < CAUSE_COUNT; c++) {
        uint32_t k = vmm_word(s, i, s->sym.n_traps + c);
        if (by_cause) by_cause[c] = k;
        total += k;
    }
    return total;
}

/* Instructions charged to level i, the running interval included. */
static uint64_t charged(const struct stack *s, unsigned i)
{
    uint64_t k = s->charged[i];
    if (s->cur == i) k += retired_now(s) - s->mark;
    return k;
}

/* Instructions of level i completed: charged to it, plus those its asm
 * monitor emulated (they trapped, so nothing below retired them). */
static uint64_t level_instructions(const struct stack *s, unsigned i)
{
    if (s->n == 0) return machine_stats(s->real)->retired;
    if (i < s->n && s->spec.kind[i] == STACK_C) return 0;
    uint64_t k = charged(s, i);
    if (i > 0 && s->spec.kind[i - 1] == STACK_ASM) k += vmm_word(s, i - 1, s->sym.n_emulated);
    return k;
}

uint64_t stack_guest_instructions(const struct stack *s)
{
    if (s->n == 0) return machine_stats(s->real)->retired;
    if (!top_is_asm(s)) return vmm_guest_retired(s->cvmm, 0);
    return s->accounting ? level_instructions(s, s->n) : 0;
}

void stack_guest_traps(const struct stack *s, uint64_t traps[CAUSE_COUNT])
{
    if (s->n == 0) {
        memcpy(traps, machine_stats(s->real)->traps, sizeof(uint64_t) * CAUSE_COUNT);
        return;
    }
    if (top_is_asm(s)) {
        asm_reflected(s, s->n - 1, traps);
        return;
    }
    memcpy(traps, vmm_guest_stats(s->cvmm, 0)->traps, sizeof(uint64_t) * CAUSE_COUNT);
}

uint64_t stack_guest_steps(const struct stack *s)
{
    if (s->n == 0) return machine_steps(s->real);
    if (!top_is_asm(s)) return vmm_guest_steps(s->cvmm, 0);
    if (!s->accounting) return 0;
    return level_instructions(s, s->n) + asm_reflected(s, s->n - 1, NULL);
}

bool stack_guest_last_trap(const struct stack *s, struct machine_trap *t)
{
    const struct machine_trap *last = NULL;
    if (s->n == 0) last = machine_last_trap(s->real);
    else if (!top_is_asm(s)) last = vmm_guest_last_trap(s->cvmm, 0);
    if (!top_is_asm(s)) {
        if (last) *t = *last;
        return last != NULL;
    }
    /* The top asm VMM delivered it through the guest's trap area. */
    uint64_t traps[CAUSE_COUNT], total = 0;
    stack_guest_traps(s, traps);
    for (unsigned c = 0; c < CAUSE_COUNT; c++) total += traps[c];
    if (total == 0) return false;
    const uint32_t *e = mem_of(s, s->n);
    /* An asm VMM that gave up before delivering left no record there. */
    if (!isa_cause_name(e[TRAP_CAUSE] & 0xffu)) return false;
    *t = (struct machine_trap){.cause = e[TRAP_CAUSE] & 0xffu,
                               .detail = (e[TRAP_CAUSE] >> 8) & 0xffu,
                               .value = e[TRAP_VALUE],
                               .old_psw = isa_psw_from_words(&e[TRAP_OLD_PSW]),
                               .step = stack_guest_steps(s)};
    return true;
}

bool stack_vmm_error(const struct stack *s, unsigned *level, const char **message)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (s->spec.kind[i] != STACK_ASM || vmm_word(s, i, s->sym.vstate) != VS_ERROR) continue;
        *level = i;
        switch (vmm_word(s, i, s->sym.vm_error)) {
        case 1: *message = "the guest's page table is longer than the shadow table"; break;
        case 2: *message = "the machine has no room for a guest"; break;
        default: *message = "unknown error"; break;
        }
        return true;
    }
    return false;
}

uint64_t stack_guest_privileged(const struct stack *s)
{
    if (s->n == 0) return 0;
    if (top_is_asm(s)) return vmm_word(s, s->n - 1, s->sym.n_emulated);
    const struct vmm_stats *st = vmm_guest_stats(s->cvmm, 0);
    return st->emulated - st->interpreted;
}

/* The machine instructions monitor i spent (the C VMM: its emulations). */
static uint64_t monitor_cost(const struct stack *s, unsigned i)
{
    if (s->spec.kind[i] == STACK_C) return vmm_guest_stats(s->cvmm, 0)->emulated;
    return level_instructions(s, i);
}

void stack_level_stats(const struct stack *s, unsigned level, struct stack_level_stats *out)
{
    *out = (struct stack_level_stats){0};
    if (level > s->n) level = s->n;
    const uint64_t priv = stack_guest_privileged(s);
    if (s->n == 0) {
        out->name = "bare";
        out->instructions = machine_stats(s->real)->retired;
        for (unsigned c = 0; c < CAUSE_COUNT; c++) out->traps += machine_stats(s->real)->traps[c];
        return;
    }
    if (level == s->n) {
        out->name = "guest";
        out->instructions = stack_guest_instructions(s);
        uint64_t traps[CAUSE_COUNT];
        stack_guest_traps(s, traps);
        for (unsigned c = 0; c < CAUSE_COUNT; c++) out->traps += traps[c];
        if (priv) {
            uint64_t cost = 0;
            for (unsigned i = 0; i < s->n; i++) cost += monitor_cost(s, i);
            out->amplification = (double)cost / (double)priv;
        }
        return;
    }
    out->name = stack_kind_name(s->spec.kind[level]);
    if (s->spec.kind[level] == STACK_C) {
        const struct vmm_stats *st = vmm_guest_stats(s->cvmm, 0);
        out->traps = st->entries;
        out->emulated = st->emulated;
        out->interpreted = st->interpreted;
        out->reflected = st->reflected;
    } else {
        out->instructions = level_instructions(s, level);
        out->emulated = vmm_word(s, level, s->sym.n_emulated);
        out->reflected = asm_reflected(s, level, NULL);
        out->traps = out->emulated + out->reflected;
    }
    if (priv) out->amplification = (double)monitor_cost(s, level) / (double)priv;
}
