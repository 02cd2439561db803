/*
 * engine.c: the debugging session beneath the debugger and the TUI.
 *
 * Running.  Every forward motion is a sequence of *units* (engine.h) run by
 * run_units(), which journals them and, on the bare machine, takes
 * snapshots.  Stops are decided in two places only:
 *
 *   between units   check_between(): address, mode and level breakpoints,
 *                   and the end condition of `next`.  On the bare machine
 *                   it runs as the observer's before_insn (so the machine
 *                   runs observed only while such a check is needed);
 *                   under the C VMM after each single-unit vmm_run.
 *   after a trap    note_trap(): the trap log, trap breakpoints and
 *                   until-trap.  Fed by the machine's after_trap hook
 *                   (bare), the VMM's observer events, or a stack's trap
 *                   hook (which cannot stop a run: a stack runs one unit
 *                   at a time while a trap should stop it).
 *
 * Going back.  goto_time() restores the latest snapshot at or before the
 * target and replays the journal to it; search_back() replays unit by unit
 * from snapshot to snapshot, newest first, to find the latest earlier unit
 * matching a predicate (a breakpoint, a level's instruction).
 *
 *   journal:  RUN 120 | SET L2 r3=7 | RUN 5 | RUN(chunk 2000) 8000 | ...
 *   snapshots:  t=0 pos(0,0)   t=16384 pos(3,1200) ...
 */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/vmm.h"
#include "options.h"

#define MAX_SNAPS 16
#define FIRST_SNAP_EVERY 16384u
#define SNAP_BYTES_BUDGET (128u << 20) /* all snapshots together, roughly */
#define LOG_KEEP ENGINE_LOG_KEEP

/* ---- The journal ------------------------------------------------------------------- */

enum jkind { J_RUN, J_SET };

struct jitem {
    enum jkind kind;
    uint64_t units;  /* J_RUN: units run ... */
    uint64_t chunk;  /*   ... as runs of `chunk` units (0: any; the VMM replays exactly) */
    unsigned level;  /* J_SET */
    unsigned reg;
    uint32_t value;
};

/* A place in the journal: item index and units done inside a J_RUN item. */
struct jpos {
    size_t item;
    uint64_t off;
};

struct snapshot {
    uint64_t time;
    struct jpos pos;
    uint64_t log_n;
    struct machine *m; /* bare sessions */
    struct vmm *v;     /* C VMM sessions */
    struct stack *st;  /* stacks */
};

struct srcfile {
    bool tried;
    char *text;
    char **lines; /* pointers into text */
    size_t nlines;
};

/* The source files of one image, read when first shown. */
struct srccache {
    const struct asm_image *img;
    struct srcfile *files; /* img->nfiles of them */
};

/* What the unit just run (or the run under way) ran into. */
struct unit_flags {
    unsigned trap_break;                     /* a trap breakpoint matched (id) */
    bool trapped;                            /* a trap was logged */
    bool handled[ENGINE_MAX_LEVELS];         /* a monitor level handled a trap */
};

enum session_kind { SESSION_BARE, SESSION_CVMM, SESSION_STACK };

struct engine {
    /* The configuration, owned copies. */
    enum session_kind kind;
    struct isa_variant variant;
    size_t mem;
    uint64_t max_steps;
    uint8_t *input;
    size_t input_len;
    enum vmm_mode vmode;
    struct asm_image img;
    char progname[40];

    /* The run: bare -> m; C VMM -> v, with gview a machine over the guest's
     * memory used only to translate guest addresses; a stack -> st, with
     * views[j] such a machine over its machine j (views[0] is the real one). */
    struct machine *m;
    struct vmm *v;
    struct machine *gview;
    struct stack_spec spec;
    struct stack *st;
    struct machine *views[STACK_MAX_MONITORS + 1];
    unsigned nlevels;
    unsigned prog_level;

    /* History. */
    struct jitem *journal;
    size_t jn, jcap;
    struct snapshot snaps[MAX_SNAPS];
    unsigned nsnaps, max_snaps; /* max_snaps <= MAX_SNAPS, by SNAP_BYTES_BUDGET */
    uint64_t snap_every;

    /* The trap log: a ring of the last LOG_KEEP of log_n entries. */
    struct engine_trap *log;
    uint64_t log_n, log_first;

    struct engine_break breaks[ENGINE_MAX_BREAKS];
    unsigned nbreaks, next_break_id;

    /* The motion under way. */
    struct {
        bool active;
        enum engine_motion kind;
        unsigned level;
        int phase;           /* next: 0 stepping, 1 running the handler through */
        struct psw ctx;      /* next: the context to come back to */
        uint32_t ret_pc;
        uint64_t first_log;  /* log_n when it began */
        uint64_t start_time;
    } mo;

    /* Run state shared with the hooks. */
    bool live;            /* stops are honoured (false while replaying) */
    bool until_trap;      /* a logged trap stops the run */
    uint64_t check_from;  /* bare: no between-units check at this time (the start) */
    unsigned state_break; /* set by check_between: the breakpoint that matched */
    bool motion_done;     /* set by check_between: next came back */
    unsigned search_id;   /* set by search predicates: the breakpoint that matched */
    struct unit_flags uf;
    uint32_t prev_mode[ENGINE_MAX_LEVELS];
    unsigned prev_running;

    struct srccache src, vsrc; /* the program's sources, the asm VMM's */
};

/* ---- Small helpers ------------------------------------------------------------------ */

static bool level_executing(const struct engine *e, unsigned L);

const char *engine_how_name(enum engine_how how)
{
    switch (how) {
    case ENGINE_HW: return "hardware";
    case ENGINE_EMULATED: return "emulated";
    case ENGINE_REFLECTED: return "reflected";
    case ENGINE_DELIVERED: return "delivered";
    }
    return "?";
}

/* The C VMM under a stack, or NULL. */
static struct vmm *stack_cvmm(const struct engine *e)
{
    return e->spec.kind[0] == STACK_C ? stack_c_vmm(e->st) : NULL;
}

uint64_t engine_time(const struct engine *e)
{
    switch (e->kind) {
    case SESSION_BARE: return machine_steps(e->m);
    case SESSION_CVMM: return vmm_guest_steps(e->v, 0);
    case SESSION_STACK: break;
    }
    struct vmm *c = stack_cvmm(e);
    return c ? vmm_guest_steps(c, 0) : machine_steps(stack_real_machine_const(e->st));
}

uint64_t engine_max_steps(const struct engine *e) { return e->max_steps; }

bool engine_exited(const struct engine *e, enum machine_stop *why, uint32_t *status)
{
    enum machine_stop s;
    uint32_t r1;
    if (e->kind == SESSION_BARE) {
        s = machine_state(e->m);
        r1 = machine_reg(e->m, 1);
    } else if (e->kind == SESSION_STACK) {
        s = stack_guest_stop(e->st);
        r1 = stack_guest_reg(e->st, 1);
    } else {
        s = vmm_guest_runnable(e->v, 0) ? MACHINE_BUDGET : vmm_guest_stop(e->v, 0);
        r1 = vmm_guest_vcpu(e->v, 0)->reg[1];
    }
    if (s == MACHINE_BUDGET || s == MACHINE_STOPPED) return false;
    if (why) *why = s;
    if (status) *status = r1;
    return true;
}

const uint8_t *engine_output(const struct engine *e, size_t *len)
{
    if (e->kind == SESSION_STACK) return stack_guest_output(e->st, len);
    return e->kind == SESSION_BARE ? machine_output(e->m, len) : vmm_guest_output(e->v, 0, len);
}

unsigned engine_level_count(const struct engine *e) { return e->nlevels; }
const struct asm_image *engine_image(const struct engine *e) { return &e->img; }

unsigned engine_running_level(const struct engine *e)
{
    if (e->kind != SESSION_STACK) return e->prog_level;
    return stack_current_level(e->st) + 1;
}

static enum engine_level_kind level_kind(const struct engine *e, unsigned L)
{
    if (L == 0) return ENGINE_LEVEL_MACHINE;
    if (L == e->prog_level) return ENGINE_LEVEL_GUEST;
    if (e->kind == SESSION_STACK && e->spec.kind[L - 1] == STACK_ASM) return ENGINE_LEVEL_ASMVMM;
    return ENGINE_LEVEL_CVMM;
}

unsigned engine_program_level(const struct engine *e) { return e->prog_level; }

unsigned engine_code_level(const struct engine *e, unsigned L)
{
    if (L < e->nlevels && level_kind(e, L) == ENGINE_LEVEL_CVMM) return L + 1;
    return L < e->nlevels ? L : e->prog_level;
}

/* The real PSW under the C VMM: the one the VMM runs its guest with
 * (vmm_guest_real_psw); while the guest is interpreted the machine is idle
 * and its own last PSW is shown. */
static struct psw real_psw(const struct engine *e)
{
    if (vmm_guest_place(e->v, 0) == VMM_PLACE_INTERPRETED || !vmm_guest_runnable(e->v, 0))
        return machine_psw(vmm_real_machine_const(e->v));
    return vmm_guest_real_psw(e->v, 0);
}

/* Level L's own PSW: the machine's, or the guest's virtual one. */
static bool level_psw(const struct engine *e, unsigned L, struct psw *p)
{
    if (e->kind == SESSION_STACK) {
        if (L >= e->nlevels || level_kind(e, L) == ENGINE_LEVEL_CVMM) return false;
        struct vmm *c = stack_cvmm(e);
        if (L == 0 && c && vmm_guest_place(c, 0) != VMM_PLACE_INTERPRETED && vmm_guest_runnable(c, 0))
            *p = vmm_guest_real_psw(c, 0);
        else *p = stack_machine_psw(e->st, L ? L - 1 : 0);
        return true;
    }
    if (e->kind == SESSION_BARE) {
        if (L != 0) return false;
        *p = machine_psw(e->m);
        return true;
    }
    if (L == 0) *p = real_psw(e);
    else if (L == 2) *p = vmm_guest_vcpu(e->v, 0)->psw;
    else return false;
    return true;
}

bool engine_pc(const struct engine *e, unsigned L, uint32_t *pc)
{
    struct psw p;
    if (!level_psw(e, L, &p)) return false;
    *pc = p.pc;
    return true;
}

/* The machine whose memory is level L's physical memory, to translate with. */
static const struct machine *level_machine(const struct engine *e, unsigned L)
{
    if (e->kind == SESSION_BARE) return e->m;
    if (e->kind == SESSION_STACK) return e->views[L ? L - 1 : 0];
    return L == 2 ? e->gview : vmm_real_machine_const(e->v);
}

/* engine_level for a stack: level L >= 1 is the stack's level L - 1 and
 * runs on its machine L - 1; the real PSW is that of the machine below. */
static void stack_level(const struct engine *e, unsigned L, struct engine_level *out)
{
    const struct machine *real = stack_real_machine_const(e->st);
    unsigned j = L ? L - 1 : 0;
    size_t words = 0;
    stack_machine_memory_const(e->st, j, &words);
    out->memsize = words;
    if (out->kind == ENGINE_LEVEL_CVMM) {
        snprintf(out->name, sizeof out->name, "C VMM (%s)", vmm_mode_name(vmm_mode(stack_cvmm(e))));
        out->steps = vmm_guest_stats(stack_cvmm(e), 0)->entries;
        return;
    }
    out->has_regs = out->has_psw = out->runs_code = true;
    level_psw(e, L, &out->psw);
    for (unsigned r = 1; r < ISA_NREGS; r++)
        out->regs[r] = L == 0 ? machine_reg(real, r) : stack_machine_reg(e->st, j, r);
    if (L == 0) {
        snprintf(out->name, sizeof out->name, "machine");
        out->steps = machine_steps(real);
        return;
    }
    if (out->kind == ENGINE_LEVEL_ASMVMM) snprintf(out->name, sizeof out->name, "asm VMM");
    else snprintf(out->name, sizeof out->name, "guest: %s", e->progname);
    out->has_steps = false; /* vmm/stack.h counts a level's steps only with accounting */
    if (j == 0) return; /* the bottom asm VMM runs on the real machine itself */
    struct vmm *c = stack_cvmm(e);
    out->has_real = true;
    if (j == 1 && c) {
        out->real = vmm_guest_real_psw(c, 0); /* the interpreter's, when interpreted */
        out->interpreted = vmm_guest_place(c, 0) == VMM_PLACE_INTERPRETED;
        out->real_level = 0;
    } else {
        out->real = stack_machine_psw(e->st, j - 1);
        out->real_level = j; /* machine j - 1 is level j's */
    }
}

void engine_level(const struct engine *e, unsigned L, struct engine_level *out)
{
    memset(out, 0, sizeof *out);
    out->kind = level_kind(e, L);
    out->has_steps = true;
    out->active = level_executing(e, L) || L == 0;
    if (e->kind == SESSION_STACK) {
        stack_level(e, L, out);
        return;
    }
    if (e->kind == SESSION_BARE) {
        snprintf(out->name, sizeof out->name, "machine: %s", e->progname);
        out->has_regs = out->has_psw = out->runs_code = true;
        for (unsigned r = 0; r < ISA_NREGS; r++) out->regs[r] = machine_reg(e->m, r);
        out->psw = machine_psw(e->m);
        out->steps = machine_steps(e->m);
        out->memsize = machine_memsize(e->m);
        return;
    }
    const struct machine *real = vmm_real_machine_const(e->v);
    switch (L) {
    case 0:
        snprintf(out->name, sizeof out->name, "machine");
        out->has_regs = out->has_psw = out->runs_code = true;
        for (unsigned r = 0; r < ISA_NREGS; r++) out->regs[r] = machine_reg(real, r);
        out->psw = real_psw(e);
        out->steps = machine_steps(real);
        out->memsize = machine_memsize(real);
        break;
    case 1:
        snprintf(out->name, sizeof out->name, "C VMM (%s)", vmm_mode_name(e->vmode));
        out->memsize = machine_memsize(real);
        out->steps = vmm_guest_stats(e->v, 0)->entries;
        break;
    default: {
        const struct vmm_vcpu *c = vmm_guest_vcpu(e->v, 0);
        snprintf(out->name, sizeof out->name, "guest: %s", e->progname);
        out->has_regs = out->has_psw = out->has_real = out->runs_code = true;
        for (unsigned r = 0; r < ISA_NREGS; r++) out->regs[r] = vmm_guest_reg(e->v, 0, r);
        out->psw = c->psw;
        out->real = vmm_guest_real_psw(e->v, 0); /* the interpreter's, when interpreted */
        out->interpreted = vmm_guest_place(e->v, 0) == VMM_PLACE_INTERPRETED;
        out->steps = vmm_guest_steps(e->v, 0);
        out->memsize = vmm_guest_memsize(e->v);
        break;
    }
    }
}

bool engine_vmm_counts(const struct engine *e, unsigned L, struct engine_vmm_counts *out)
{
    if (L >= e->nlevels) return false;
    enum engine_level_kind k = level_kind(e, L);
    if (k == ENGINE_LEVEL_ASMVMM) {
        struct stack_level_stats st;
        stack_level_stats(e->st, L - 1, &st);
        *out = (struct engine_vmm_counts){"asm", 0, st.emulated, 0, st.reflected, st.traps, 0.0};
        return true;
    }
    if (k != ENGINE_LEVEL_CVMM) return false;
    const struct vmm *v = e->kind == SESSION_STACK ? stack_cvmm(e) : e->v;
    const struct vmm_stats *s = vmm_guest_stats(v, 0);
    *out = (struct engine_vmm_counts){vmm_mode_name(vmm_mode(v)), s->direct, s->emulated,
                                      s->interpreted, s->reflected, s->entries,
                                      vmm_efficiency(s)};
    return true;
}

/* ---- Memory ------------------------------------------------------------------------- */

bool engine_read_phys(const struct engine *e, unsigned L, uint32_t addr, uint32_t *value)
{
    if (L >= e->nlevels) return false;
    const struct machine *m = level_machine(e, L);
    if (addr >= machine_memsize(m)) return false;
    *value = machine_memory_const(m)[addr];
    return true;
}

bool engine_translate(const struct engine *e, unsigned L, uint32_t va, uint32_t *pa,
                      unsigned *detail)
{
    struct psw p;
    unsigned d = MEMF_BOUND;
    if (!level_psw(e, L, &p)) {
        if (detail) *detail = d;
        return false;
    }
    bool ok = machine_translate(level_machine(e, L), &p, va, ACCESS_LOAD, pa, &d);
    if (!ok && detail) *detail = d;
    return ok;
}

bool engine_to_real(const struct engine *e, unsigned L, uint32_t pa, uint32_t *real)
{
    if (e->kind == SESSION_STACK) {
        unsigned j = L ? L - 1 : 0;
        size_t words;
        stack_machine_memory_const(e->st, j, &words);
        if (pa >= words) return false;
        *real = (uint32_t)(stack_machine_offset(e->st, j) + pa);
        return true;
    }
    if (e->kind == SESSION_CVMM && L == 2) {
        uint32_t run;
        return vmm_fmap_lookup(vmm_guest_fmap(e->v, 0), pa, real, &run);
    }
    if (pa >= machine_memsize(level_machine(e, L))) return false;
    *real = pa;
    return true;
}

unsigned engine_fmap(const struct engine *e, unsigned L, bool composed, struct engine_extent *out,
                     unsigned max, unsigned *monitor, unsigned *onto)
{
    if (e->kind == SESSION_STACK) {
        /* Level L runs on machine j = L - 1, a region of machine j - 1,
         * which is the space of level j (or the real machine's). */
        if (L < 2 || L >= e->nlevels) return 0;
        unsigned j = L - 1;
        struct vmm_fmap f;
        if (!stack_fmap(e->st, j - 1, &f)) return 0;
        uint64_t base = composed ? stack_machine_offset(e->st, j - 1) : 0;
        unsigned n = 0;
        for (unsigned i = 0; i < f.n && n < max; i++)
            out[n++] = (struct engine_extent){f.ext[i].gpa, (uint32_t)(base + f.ext[i].hpa),
                                              f.ext[i].words};
        if (monitor) *monitor = j;
        if (onto) *onto = composed || (j == 1 && stack_cvmm(e)) ? 0 : j;
        return n;
    }
    if (e->kind != SESSION_CVMM || L != 2) return 0;
    if (onto) *onto = 0;
    const struct vmm_fmap *f = vmm_guest_fmap(e->v, 0);
    unsigned n = 0;
    for (unsigned i = 0; i < f->n && n < max; i++)
        out[n++] = (struct engine_extent){f->ext[i].gpa, f->ext[i].hpa, f->ext[i].words};
    if (monitor) *monitor = 1;
    return n;
}

/* Level-L physical pa as an address of the program's image (its level's
 * physical space): the inverse f-map for the levels below the program. */
static bool image_addr(const struct engine *e, unsigned L, uint32_t pa, uint32_t *ia)
{
    if (e->kind == SESSION_BARE || L == e->prog_level) {
        *ia = pa;
        return true;
    }
    const struct vmm_fmap *f = vmm_guest_fmap(e->v, 0);
    for (unsigned i = 0; i < f->n; i++)
        if (pa - f->ext[i].hpa < f->ext[i].words) {
            *ia = f->ext[i].gpa + (pa - f->ext[i].hpa);
            return true;
        }
    return false;
}

/* The image whose code is at level-L physical pa, and the address there.
 * In a stack: the innermost machine holding the word decides (a monitor's
 * machine holds its own image below its guest's memory). */
static const struct asm_image *image_at(const struct engine *e, unsigned L, uint32_t pa,
                                        uint32_t *ia)
{
    if (e->kind != SESSION_STACK) return image_addr(e, L, pa, ia) ? &e->img : NULL;
    uint32_t real;
    if (!engine_to_real(e, L, pa, &real)) return NULL;
    for (unsigned j = e->nlevels - 2;; j--) {
        size_t words;
        stack_machine_memory_const(e->st, j, &words);
        uint64_t off = stack_machine_offset(e->st, j);
        if (real >= off && real - off < words) {
            *ia = (uint32_t)(real - off);
            if (j == e->prog_level - 1) return &e->img;
            return e->spec.kind[j] == STACK_ASM ? stack_vmm_image(e->st) : NULL;
        }
        if (j == 0) return NULL;
    }
}

const char *engine_label_at(const struct engine *e, unsigned L, uint32_t pa)
{
    uint32_t ia;
    const struct asm_image *img = image_at(e, L, pa, &ia);
    return img ? asm_symbol_at(img, ia) : NULL;
}

const char *engine_label_near(const struct engine *e, unsigned L, uint32_t pa, uint32_t *offset)
{
    uint32_t ia;
    const struct asm_image *img = image_at(e, L, pa, &ia);
    /* Only inside the image's words: code a program copied elsewhere (a
     * kernel loading its processes) is not near the label before it. */
    if (!img || !asm_line_at(img, ia)) return NULL;
    return asm_symbol_near(img, ia, offset);
}

bool engine_symbol(const struct engine *e, const char *name, uint32_t *value)
{
    return asm_symbol_value(&e->img, name, value);
}

const char *engine_symbol_name(const struct engine *e, size_t i)
{
    return i < e->img.nsymbols ? e->img.symbols[i].name : NULL;
}

/* Splits a source text into lines (in place). */
static bool split_lines(struct srcfile *s)
{
    size_t n = 1;
    for (const char *p = s->text; *p; p++) n += *p == '\n';
    s->lines = calloc(n, sizeof *s->lines);
    if (!s->lines) return false;
    char *p = s->text;
    s->nlines = 0;
    while (*p || s->nlines == 0) {
        s->lines[s->nlines++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
        if (!*p) break;
    }
    return true;
}

static void srccache_free(struct srccache *c)
{
    if (c->files)
        for (size_t i = 0; i < c->img->nfiles; i++) {
            free(c->files[i].text);
            free(c->files[i].lines);
        }
    free(c->files);
    c->files = NULL;
    c->img = NULL;
}

static const struct srcfile *source_file(struct engine *e, const struct asm_image *img,
                                         uint32_t index)
{
    struct srccache *c = img == &e->img ? &e->src : &e->vsrc;
    if (c->img != img) {
        srccache_free(c);
        c->files = calloc(img->nfiles ? img->nfiles : 1, sizeof *c->files);
        if (!c->files) return NULL;
        c->img = img;
    }
    if (index >= img->nfiles) return NULL;
    struct srcfile *s = &c->files[index];
    if (!s->tried) {
        s->tried = true;
        const char *known = img->texts ? img->texts[index] : NULL;
        s->text = known ? strdup(known) : cli_read_file(img->files[index], &(size_t){0});
        if (s->text && !split_lines(s)) {
            free(s->text);
            s->text = NULL;
        }
    }
    return s->text ? s : NULL;
}

bool engine_source_line(struct engine *e, unsigned L, uint32_t pa, char *where, size_t wsize,
                        const char **text)
{
    uint32_t ia;
    if (text) *text = NULL;
    const struct asm_image *img = image_at(e, L, pa, &ia);
    if (!img) return false;
    const struct asm_line *ln = asm_line_at(img, ia);
    if (!ln) return false;
    if (where) {
        const char *name = ln->file < img->nfiles ? img->files[ln->file] : "?";
        const char *slash = strrchr(name, '/');
        snprintf(where, wsize, "%s:%" PRIu32, slash ? slash + 1 : name, ln->line);
    }
    const struct srcfile *s = source_file(e, img, ln->file);
    if (text && s && ln->line >= 1 && ln->line <= s->nlines) {
        const char *t = s->lines[ln->line - 1];
        while (*t == ' ' || *t == '\t') t++;
        *text = t;
    }
    return true;
}

struct label_ctx {
    const struct engine *e;
    unsigned level;
};

static const char *label_of_va(void *ctx, uint32_t va)
{
    struct label_ctx *c = ctx;
    uint32_t pa;
    if (!engine_translate(c->e, c->level, va, &pa, NULL)) return NULL;
    return engine_label_at(c->e, c->level, pa);
}

bool engine_disassemble(const struct engine *e, unsigned L, uint32_t va, uint32_t *word, char *buf,
                        size_t size)
{
    uint32_t pa, w;
    unsigned detail;
    if (!engine_translate(e, L, va, &pa, &detail)) {
        snprintf(buf, size, "<MEM fault: %s>",
                 detail == MEMF_INVALID   ? "invalid page"
                 : detail == MEMF_WRITE   ? "write-protect"
                 : detail == MEMF_PHYSICAL ? "physical"
                                           : "bound");
        return false;
    }
    if (!engine_read_phys(e, L, pa, &w)) {
        snprintf(buf, size, "<beyond memory>");
        return false;
    }
    if (word) *word = w;
    struct label_ctx c = {e, L};
    isa_disassemble(w, va, label_of_va, &c, buf, size);
    return true;
}

/* ---- The trap log ------------------------------------------------------------------- */

uint64_t engine_trap_total(const struct engine *e) { return e->log_n; }

const struct engine_trap *engine_trap_get(const struct engine *e, uint64_t seq)
{
    if (seq == 0 || seq > e->log_n || seq - 1 < e->log_first) return NULL;
    return &e->log[(seq - 1) % LOG_KEEP];
}

static void log_truncate(struct engine *e, uint64_t n)
{
    if (n >= e->log_n) return;
    e->log_n = n;
    if (e->log_first > n) e->log_first = n;
}

static const struct engine_break *trap_break_match(struct engine *e, const struct engine_trap *t)
{
    for (unsigned i = 0; i < e->nbreaks; i++) {
        const struct engine_break *b = &e->breaks[i];
        if (b->kind == ENGINE_BREAK_TRAP && (b->cause == CAUSE_NONE || b->cause == t->cause) &&
            (b->level == ENGINE_NO_LEVEL || b->level == t->level))
            return b;
    }
    return NULL;
}

/* Logs a trap and says whether it stops the run. */
static enum machine_verdict note_trap(struct engine *e, struct engine_trap *t)
{
    t->seq = ++e->log_n;
    if (e->log_n - e->log_first > LOG_KEEP) e->log_first = e->log_n - LOG_KEEP;
    e->log[(t->seq - 1) % LOG_KEEP] = *t;
    e->uf.trapped = true;
    if (t->handler < ENGINE_MAX_LEVELS && t->handler != t->level) e->uf.handled[t->handler] = true;
    const struct engine_break *b = trap_break_match(e, t);
    if (b && !e->uf.trap_break) e->uf.trap_break = b->id;
    if (!e->live) return MACHINE_CONTINUE;
    return b || e->until_trap ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

/* The instruction at va under psw in m's memory, if it can be fetched. */
static bool fetch_under(const struct machine *m, const struct psw *p, uint32_t va, uint32_t *w)
{
    uint32_t pa;
    unsigned d;
    if (!machine_translate(m, p, va, ACCESS_FETCH, &pa, &d)) return false;
    *w = machine_memory_const(m)[pa];
    return true;
}

/* The instruction that raised the trap: at the saved pc, or just before it
 * for svc and hcall; none for interrupts. */
static void fill_insn(struct engine_trap *t, const struct machine *m, const struct psw *old)
{
    unsigned d;
    t->has_pc_phys = machine_translate(m, old, t->pc, ACCESS_FETCH, &t->pc_phys, &d);
    if (t->cause == CAUSE_TIMER || t->cause == CAUSE_IO) return;
    uint32_t at = (t->cause == CAUSE_SVC || t->cause == CAUSE_HCALL) ? old->pc - 1 : old->pc;
    t->has_insn = fetch_under(m, old, at, &t->insn);
}

static enum machine_verdict bare_after_trap(void *ctx, struct machine *m,
                                            const struct machine_trap *trap)
{
    struct engine *e = ctx;
    struct engine_trap t = {0};
    t.time = machine_steps(m);
    t.cause = trap->cause;
    t.detail = trap->detail;
    t.value = trap->value;
    t.pc = trap->old_psw.pc;
    t.level = t.handler = t.target = 0;
    t.via = ENGINE_NO_LEVEL;
    t.supervisor = (trap->old_psw.flags & PSW_M) != 0;
    t.how = ENGINE_HW;
    fill_insn(&t, m, &trap->old_psw);
    return note_trap(e, &t);
}

static enum machine_verdict vmm_event(void *ctx, struct vmm *v, const struct vmm_event *ev)
{
    struct engine *e = ctx;
    enum engine_how how;
    switch (ev->how) {
    case VMM_EMULATED: how = ENGINE_EMULATED; break;
    case VMM_REFLECTED: how = ENGINE_REFLECTED; break;
    case VMM_DELIVERED: how = ENGINE_DELIVERED; break;
    default: return MACHINE_CONTINUE; /* absorbed, scheduled, stopped: the host's own business */
    }
    struct engine_trap t = {0};
    t.time = vmm_guest_steps(v, ev->guest);
    t.cause = ev->cause;
    t.detail = ev->detail;
    t.value = ev->value;
    t.pc = ev->pc;
    t.level = t.target = 2;
    t.handler = 1;
    t.via = ENGINE_NO_LEVEL;
    t.supervisor = ev->supervisor;
    t.interpreted = ev->place == VMM_PLACE_INTERPRETED;
    t.how = how;
    /* A reflected trap's old PSW is in the guest's trap area now; an
     * emulated instruction ran in the context the guest is still in. */
    struct psw old = vmm_guest_vcpu(v, ev->guest)->psw;
    if (how != ENGINE_EMULATED)
        old = isa_psw_from_words(&vmm_guest_memory_const(v, ev->guest)[TRAP_OLD_PSW]);
    fill_insn(&t, e->gview, &old);
    if (ev->insn) {
        t.insn = ev->insn;
        t.has_insn = true;
    }
    return note_trap(e, &t);
}

/* A trap in a stack (stack.h numbers levels from the bottom monitor). */
static void stack_trap(void *ctx, const struct stack_trap_event *ev)
{
    struct engine *e = ctx;
    struct engine_trap t = {0};
    t.time = engine_time(e);
    t.cause = ev->cause;
    t.detail = ev->detail;
    t.value = ev->value;
    t.pc = ev->pc;
    t.level = ev->arose + 1;
    t.target = ev->arose + 1;
    t.via = ENGINE_NO_LEVEL;
    t.supervisor = ev->arose + 1 < e->prog_level ||
                   (stack_machine_psw(e->st, ev->arose).flags & PSW_M) != 0;
    if (ev->how == STACK_EMULATED) {
        t.how = ENGINE_EMULATED;
        t.handler = ev->handled + 1;
    } else {
        /* To the arising level's own handler, by the monitor beneath it,
         * or by the hardware when it is the bottom one. */
        t.how = ev->how == STACK_DELIVERED ? ENGINE_DELIVERED : ENGINE_REFLECTED;
        t.handler = ev->arose;
        if (ev->arose == 0) t.how = ENGINE_HW, t.handler = 1;
    }
    /* Every trap reaches the bottom monitor (L1) first. */
    if (t.handler > 1) t.via = 1;
    if (t.cause == CAUSE_PRIV || t.cause == CAUSE_ILL) t.insn = t.value, t.has_insn = true;
    /* A monitor's code runs unrelocated on its machine; the guest's saved
     * PSW is what its machine shows while a monitor handles the trap. */
    const struct machine *view = e->views[ev->arose];
    size_t words;
    stack_machine_memory_const(e->st, ev->arose, &words);
    struct psw p = {PSW_M, t.pc, 0, (uint32_t)words, 0};
    if (t.level == e->prog_level) p = stack_machine_psw(e->st, ev->arose);
    unsigned d;
    t.has_pc_phys = machine_translate(view, &p, t.pc, ACCESS_FETCH, &t.pc_phys, &d);
    if (!t.has_insn && t.has_pc_phys && t.cause != CAUSE_TIMER && t.cause != CAUSE_IO) {
        uint32_t at = t.cause == CAUSE_SVC || t.cause == CAUSE_HCALL ? t.pc - 1 : t.pc;
        t.has_insn = fetch_under(view, &p, at, &t.insn);
    }
    note_trap(e, &t);
}

/* ---- Breakpoints ------------------------------------------------------------------------ */

static bool same_break(const struct engine_break *a, const struct engine_break *b)
{
    if (a->kind != b->kind || a->level != b->level) return false;
    if (a->kind == ENGINE_BREAK_ADDR) return a->addr == b->addr;
    if (a->kind == ENGINE_BREAK_TRAP) return a->cause == b->cause;
    return true;
}

unsigned engine_break_add(struct engine *e, const struct engine_break *b, unsigned *existing)
{
    if (existing) *existing = 0;
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (same_break(&e->breaks[i], b)) {
            if (existing) *existing = e->breaks[i].id;
            return 0;
        }
    if (e->nbreaks == ENGINE_MAX_BREAKS) return 0;
    struct engine_break *n = &e->breaks[e->nbreaks++];
    *n = *b;
    n->id = ++e->next_break_id;
    n->hits = 0;
    return n->id;
}

bool engine_break_delete(struct engine *e, unsigned id)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].id == id) {
            memmove(&e->breaks[i], &e->breaks[i + 1], (e->nbreaks - i - 1) * sizeof e->breaks[0]);
            e->nbreaks--;
            return true;
        }
    return false;
}

void engine_break_clear(struct engine *e) { e->nbreaks = 0; }
unsigned engine_break_count(const struct engine *e) { return e->nbreaks; }

const struct engine_break *engine_break_get(const struct engine *e, unsigned i)
{
    return i < e->nbreaks ? &e->breaks[i] : NULL;
}

unsigned engine_break_find(const struct engine *e, unsigned L, uint32_t pa)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].kind == ENGINE_BREAK_ADDR && e->breaks[i].level == L &&
            e->breaks[i].addr == pa)
            return e->breaks[i].id;
    return 0;
}

static struct engine_break *break_by_id(struct engine *e, unsigned id)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].id == id) return &e->breaks[i];
    return NULL;
}

static bool have_trap_breaks(const struct engine *e)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].kind == ENGINE_BREAK_TRAP) return true;
    return false;
}

/* Breakpoints that need a look between units (all but trap ones). */
static bool have_state_breaks(const struct engine *e)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].kind != ENGINE_BREAK_TRAP) return true;
    return false;
}

/* True while level L's instructions are the ones executing. */
static bool level_executing(const struct engine *e, unsigned L)
{
    if (e->kind == SESSION_BARE) return L == 0;
    if (e->kind == SESSION_STACK) return L == engine_running_level(e);
    if (L == 2) return true;
    if (L == 0) return vmm_guest_place(e->v, 0) != VMM_PLACE_INTERPRETED;
    return false;
}

static uint32_t level_mode(const struct engine *e, unsigned L)
{
    struct psw p;
    return level_psw(e, L, &p) ? (p.flags & PSW_M) : 0;
}

/* Starts watching for mode and level changes from the present state. */
static void watch_reset(struct engine *e)
{
    for (unsigned L = 0; L < e->nlevels; L++) e->prev_mode[L] = level_mode(e, L);
    e->prev_running = engine_running_level(e);
}

/* The breakpoint (id) that the state between two units matches, or 0.
 * Mode and level watches move on to the present state. */
static unsigned state_break(struct engine *e)
{
    unsigned hit = 0;
    unsigned running = engine_running_level(e);
    for (unsigned i = 0; i < e->nbreaks && !hit; i++) {
        const struct engine_break *b = &e->breaks[i];
        uint32_t pc, pa;
        switch (b->kind) {
        case ENGINE_BREAK_ADDR:
            if (level_executing(e, b->level) && engine_pc(e, b->level, &pc) &&
                engine_translate(e, b->level, pc, &pa, NULL) && pa == b->addr)
                hit = b->id;
            break;
        case ENGINE_BREAK_MODE:
            if (b->level < e->nlevels && level_mode(e, b->level) != e->prev_mode[b->level])
                hit = b->id;
            break;
        case ENGINE_BREAK_LEVEL:
            if ((running == b->level && e->prev_running != b->level) ||
                (b->level < ENGINE_MAX_LEVELS && e->uf.handled[b->level]))
                hit = b->id;
            break;
        case ENGINE_BREAK_TRAP: break;
        }
    }
    for (unsigned L = 0; L < e->nlevels; L++) e->prev_mode[L] = level_mode(e, L);
    e->prev_running = running;
    return hit;
}

/* `next`: has level L come back to the context its trap interrupted? */
static bool came_back(const struct engine *e)
{
    struct psw p;
    if (!level_psw(e, e->mo.level, &p)) return true;
    if (!level_executing(e, e->mo.level)) return false; /* a monitor below is at work */
    const struct psw *c = &e->mo.ctx;
    return (p.flags & (PSW_M | PSW_PG)) == (c->flags & (PSW_M | PSW_PG)) && p.base == c->base &&
           p.bound == c->bound && (p.pc == e->mo.ret_pc || p.pc == e->mo.ret_pc + 1);
}

/* The between-units check of a live run: true stops it. */
static bool check_between(struct engine *e)
{
    unsigned hit = state_break(e);
    memset(e->uf.handled, 0, sizeof e->uf.handled);
    if (hit) {
        e->state_break = hit;
        return true;
    }
    if (e->mo.active && e->mo.kind == ENGINE_NEXT && e->mo.phase == 1 && came_back(e)) {
        e->motion_done = true;
        return true;
    }
    return false;
}

static enum machine_verdict bare_before_insn(void *ctx, struct machine *m, uint32_t pc,
                                             uint32_t insn)
{
    (void)pc, (void)insn;
    struct engine *e = ctx;
    if (machine_steps(m) == e->check_from) return MACHINE_CONTINUE;
    return check_between(e) ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

/* ---- The session: making it, running it ------------------------------------------------ */

static void set_bare_observer(struct engine *e, bool checks)
{
    struct machine_observer obs = {e, checks ? bare_before_insn : NULL, bare_after_trap};
    machine_set_observer(e->m, &obs);
}

/* Hooks the engine to e->v (made or restored): its observer, and gview, a
 * machine over the guest's memory used only to translate guest addresses. */
static bool cvmm_attach(struct engine *e)
{
    machine_destroy(e->gview);
    vmm_set_observer(e->v, &(struct vmm_observer){e, vmm_event});
    e->gview = machine_create_on(vmm_guest_memory(e->v, 0), vmm_guest_memsize(e->v), &e->variant);
    return e->gview != NULL;
}

/* Makes the C VMM at time 0, the program loaded in its guest. */
static bool cvmm_start(struct engine *e)
{
    struct vmm_config cfg = {e->vmode, &e->variant, e->mem, 1, 0};
    e->v = vmm_create(&cfg);
    if (!e->v) return false;
    if (!asm_image_place(&e->img, vmm_guest_memory(e->v, 0), vmm_guest_memsize(e->v), 0))
        return false;
    vmm_guest_reset(e->v, 0, e->img.entry);
    if (e->input_len) vmm_feed_input(e->v, 0, e->input, e->input_len);
    return cvmm_attach(e);
}

/* Hooks the engine to e->st (made or restored): the trap hook, and a
 * translating view over each machine's memory. */
static bool stack_attach(struct engine *e)
{
    stack_set_trap_hook(e->st, stack_trap, e);
    for (unsigned j = 0; j <= STACK_MAX_MONITORS; j++) {
        if (j > 0) machine_destroy(e->views[j]);
        e->views[j] = NULL;
    }
    e->views[0] = stack_real_machine(e->st);
    for (unsigned j = 1; j + 1 < e->nlevels; j++) {
        size_t words;
        uint32_t *mem = stack_machine_memory(e->st, j, &words);
        e->views[j] = machine_create_on(mem, words, &e->variant);
        if (!e->views[j]) return false;
    }
    return true;
}

/* Makes the stack at time 0, the program loaded as its guest. */
static bool stack_start(struct engine *e, char err[STACK_ERROR_SIZE])
{
    struct stack_config cfg = {e->spec, &e->variant, e->mem, NULL, false};
    e->st = stack_create(&cfg, &e->img, err);
    if (!e->st) return false;
    if (e->input_len) stack_feed_input(e->st, e->input, e->input_len);
    if (!stack_attach(e)) {
        snprintf(err, STACK_ERROR_SIZE, "out of memory");
        return false;
    }
    return true;
}

/* Runs the bottom of a stack for k of its steps (the units).  stack_run
 * without accounting does the same, but counts differently with and
 * without a C VMM; this keeps one meaning.  The stack's hooks are on the
 * machine and the C VMM, so they see everything either way. */
static void stack_bottom_run(struct engine *e, uint64_t k)
{
    struct vmm *c = stack_cvmm(e);
    if (c) vmm_run(c, k);
    else machine_run(stack_real_machine(e->st), k);
}

/* Runs k units the plain way (no between-units checks), as a journal item
 * with this chunk would replay.  Returns the units done. */
static uint64_t run_plain(struct engine *e, uint64_t k, uint64_t chunk)
{
    uint64_t t0 = engine_time(e);
    if (e->kind == SESSION_BARE) {
        set_bare_observer(e, false);
        machine_run(e->m, k);
        return engine_time(e) - t0;
    }
    uint64_t c = chunk ? chunk : k;
    while (engine_time(e) - t0 < k) {
        uint64_t left = k - (engine_time(e) - t0), before = engine_time(e);
        if (e->kind == SESSION_STACK) stack_bottom_run(e, left < c ? left : c);
        else vmm_run(e->v, left < c ? left : c);
        if (engine_time(e) == before) break; /* the guest stopped */
        if (e->live && (e->uf.trap_break || (e->until_trap && e->uf.trapped))) break;
    }
    return engine_time(e) - t0;
}

static bool journal_push(struct engine *e, struct jitem it)
{
    if (it.kind == J_RUN && e->jn > 0) {
        struct jitem *last = &e->journal[e->jn - 1];
        if (last->kind == J_RUN && last->chunk == it.chunk &&
            (it.chunk == 0 || last->units % it.chunk == 0)) {
            last->units += it.units;
            return true;
        }
    }
    if (e->jn == e->jcap) {
        size_t cap = e->jcap ? e->jcap * 2 : 64;
        struct jitem *j = realloc(e->journal, cap * sizeof *j);
        if (!j) return false;
        e->journal = j;
        e->jcap = cap;
    }
    e->journal[e->jn++] = it;
    return true;
}

static void journal_run(struct engine *e, uint64_t units, uint64_t chunk)
{
    if (units) journal_push(e, (struct jitem){.kind = J_RUN, .units = units, .chunk = chunk});
}

static void snap_free(struct snapshot *s)
{
    machine_destroy(s->m);
    vmm_destroy(s->v);
    stack_destroy(s->st);
    s->m = NULL;
    s->v = NULL;
    s->st = NULL;
}

/* A copy of the session's state for a snapshot (false: out of memory). */
static bool snap_take(const struct engine *e, struct snapshot *s)
{
    s->m = NULL;
    s->v = NULL;
    s->st = NULL;
    if (e->kind == SESSION_BARE) s->m = machine_clone(e->m);
    else if (e->kind == SESSION_CVMM) s->v = vmm_clone(e->v);
    else s->st = stack_clone(e->st);
    return s->m || s->v || s->st;
}

/* A snapshot at the journal's end every snap_every units. */
static void maybe_snapshot(struct engine *e)
{
    uint64_t now = engine_time(e);
    if (now < e->snaps[e->nsnaps - 1].time + e->snap_every) return;
    if (e->nsnaps == e->max_snaps) {
        if (e->max_snaps == 1) return; /* memory too big: replay from the start */
        /* Keep the first and every other one after it; space them wider. */
        unsigned n = 1;
        for (unsigned i = 1; i < e->nsnaps; i++) {
            if (i % 2 == 0) e->snaps[n++] = e->snaps[i];
            else snap_free(&e->snaps[i]);
        }
        e->nsnaps = n;
        e->snap_every *= 2;
    }
    struct snapshot snap;
    if (!snap_take(e, &snap)) {
        e->snap_every = UINT64_MAX / 2; /* no clone (a stack on the C VMM): replay from the start */
        return;
    }
    /* Inside the last item, which later units may still grow. */
    snap.pos = (struct jpos){e->jn, 0};
    if (e->jn && e->journal[e->jn - 1].kind == J_RUN)
        snap.pos = (struct jpos){e->jn - 1, e->journal[e->jn - 1].units};
    snap.time = now;
    snap.log_n = e->log_n;
    e->snaps[e->nsnaps++] = snap;
}

/* Runs up to n units live: journalled, stopped by breakpoints and by the
 * motion's checks (between_checks) or a trap (until_trap).  Returns the
 * units done. */
static uint64_t run_units(struct engine *e, uint64_t n, bool between_checks)
{
    uint64_t done = 0;
    e->live = true;
    e->state_break = 0;
    e->motion_done = false;
    memset(&e->uf, 0, sizeof e->uf);
    watch_reset(e);
    if (e->kind == SESSION_BARE) {
        e->check_from = engine_time(e);
        set_bare_observer(e, between_checks);
        while (done < n) {
            uint64_t now = engine_time(e);
            uint64_t next_snap = e->snaps[e->nsnaps - 1].time + e->snap_every;
            uint64_t piece = n - done;
            if (next_snap > now && next_snap - now < piece) piece = next_snap - now;
            enum machine_stop st = machine_run(e->m, piece);
            uint64_t got = engine_time(e) - now;
            journal_run(e, got, 0);
            done += got;
            maybe_snapshot(e);
            if (st != MACHINE_BUDGET) break;
        }
        set_bare_observer(e, false);
    } else if (between_checks || (e->kind == SESSION_STACK && (e->until_trap || have_trap_breaks(e)))) {
        /* One unit at a time; a stack's trap hook cannot stop a run, so
         * traps that should are looked for here too. */
        while (done < n) {
            uint64_t now = engine_time(e);
            if (e->kind == SESSION_STACK) stack_bottom_run(e, 1);
            else vmm_run(e->v, 1);
            uint64_t got = engine_time(e) - now;
            journal_run(e, got, 1);
            done += got;
            maybe_snapshot(e);
            if (got == 0 || e->uf.trap_break || (e->until_trap && e->uf.trapped)) break;
            if (between_checks && check_between(e)) break;
        }
    } else {
        /* In pieces that end where snapshots are due; each piece is one
         * vmm_run, journalled as such so that replay repeats it. */
        while (done < n) {
            uint64_t now = engine_time(e);
            uint64_t next_snap = e->snaps[e->nsnaps - 1].time + e->snap_every;
            uint64_t piece = n - done;
            if (next_snap > now && next_snap - now < piece) piece = next_snap - now;
            if (e->kind == SESSION_STACK) stack_bottom_run(e, piece);
            else vmm_run(e->v, piece);
            uint64_t got = engine_time(e) - now;
            journal_run(e, got, got);
            done += got;
            maybe_snapshot(e);
            if (got < piece || engine_exited(e, NULL, NULL)) break;
        }
    }
    e->live = false;
    return done;
}

/* ---- Going back --------------------------------------------------------------------------- */

static int jpos_cmp(struct jpos a, struct jpos b)
{
    if (a.item != b.item) return a.item < b.item ? -1 : 1;
    return a.off < b.off ? -1 : a.off > b.off;
}

static void apply_set(struct engine *e, const struct jitem *it)
{
    if (e->kind == SESSION_STACK) {
        stack_machine_set_reg(e->st, stack_monitor_count(e->st), it->reg, it->value);
        return;
    }
    if (e->kind == SESSION_BARE || it->level == 0) {
        struct machine *m = e->kind == SESSION_BARE ? e->m : vmm_real_machine(e->v);
        if (it->reg == ENGINE_REG_PC) {
            struct psw p = machine_psw(m);
            p.pc = it->value;
            machine_set_psw(m, &p);
        } else {
            machine_set_reg(m, it->reg, it->value);
        }
    } else if (it->reg == ENGINE_REG_PC) {
        struct psw p = vmm_guest_vcpu(e->v, 0)->psw;
        p.pc = it->value;
        vmm_guest_set_psw(e->v, 0, &p);
    } else {
        vmm_guest_set_reg(e->v, 0, it->reg, it->value);
    }
}

/* Replays the journal from p (the state being that of p) until the time is
 * target, applying the edits made at target.  Returns the position reached. */
static struct jpos replay_to(struct engine *e, struct jpos p, uint64_t target)
{
    e->live = false;
    while (p.item < e->jn) {
        const struct jitem *it = &e->journal[p.item];
        if (it->kind == J_SET) {
            apply_set(e, it);
            p.item++;
            continue;
        }
        uint64_t now = engine_time(e);
        if (now >= target) break;
        uint64_t k = it->units - p.off;
        if (k > target - now) k = target - now;
        uint64_t got = run_plain(e, k, it->chunk);
        p.off += got;
        if (p.off >= it->units) {
            p.item++;
            p.off = 0;
        } else if (got < k) {
            break; /* cannot happen in a deterministic world; do not loop */
        }
    }
    return p;
}

/* Puts the session back in the state of snapshot i (journal position and
 * log length included).  False when the VMM cannot be made again. */
static bool restore_snapshot(struct engine *e, unsigned i)
{
    const struct snapshot *s = &e->snaps[i];
    log_truncate(e, s->log_n);
    memset(&e->uf, 0, sizeof e->uf);
    if (e->kind == SESSION_BARE) return machine_restore(e->m, s->m);
    if (e->kind == SESSION_STACK) {
        char err[STACK_ERROR_SIZE];
        struct stack *st = s->st ? stack_clone(s->st) : NULL;
        if (s->st && !st) return false;
        stack_destroy(e->st);
        e->st = st;
        if (!st) return stack_start(e, err); /* the start, made anew */
        return stack_attach(e);
    }
    struct vmm *v = vmm_clone(s->v);
    if (!v) return false;
    vmm_destroy(e->v);
    e->v = v;
    return cvmm_attach(e);
}

static unsigned snapshot_before(const struct engine *e, uint64_t t, bool strictly)
{
    unsigned k = 0;
    for (unsigned i = 0; i < e->nsnaps; i++)
        if (strictly ? e->snaps[i].time < t : e->snaps[i].time <= t) k = i;
    return k;
}

/* Moves the session to time t <= now (restore and replay) and cuts the
 * journal there: the future is forgotten. */
static bool goto_time(struct engine *e, uint64_t t)
{
    unsigned k = snapshot_before(e, t, false);
    if (!restore_snapshot(e, k)) return false;
    struct jpos p = replay_to(e, e->snaps[k].pos, t);
    if (p.item < e->jn && p.off > 0) {
        e->journal[p.item].units = p.off;
        e->jn = p.item + 1;
    } else {
        e->jn = p.item;
    }
    while (e->nsnaps > 1 && (e->snaps[e->nsnaps - 1].time > t ||
                             jpos_cmp(e->snaps[e->nsnaps - 1].pos, p) > 0))
        snap_free(&e->snaps[--e->nsnaps]);
    return true;
}

/* What search_back looks for.  Called with before = true between units
 * (a match stops before the unit that starts now) and with before = false
 * just after a unit (a match names either the unit's start or its end).
 * Sets e->search_id to the breakpoint that matched, if any. */
enum search_match { NO_MATCH, MATCH_START, MATCH_END };
typedef enum search_match (*search_pred)(struct engine *e, unsigned level, bool before);

/* Reverse-step: the unit starting now is one of level L's, or the unit just
 * run had L handle a trap. */
static enum search_match pred_level_ran(struct engine *e, unsigned L, bool before)
{
    if (before) return level_executing(e, L) && engine_running_level(e) == L ? MATCH_START : NO_MATCH;
    return L < ENGINE_MAX_LEVELS && e->uf.handled[L] ? MATCH_START : NO_MATCH;
}

/* Reverse-continue: a forward run would stop here. */
static enum search_match pred_breakpoint(struct engine *e, unsigned L, bool before)
{
    (void)L;
    unsigned id = before ? state_break(e) : e->uf.trap_break;
    if (!id) return NO_MATCH;
    e->search_id = id;
    return before ? MATCH_START : MATCH_END;
}

/* Finds the latest time t < now at which pred matches and goes there.
 * Replays each snapshot's stretch unit by unit, newest stretch first.
 * False when there is none: the session is then left at the start. */
static bool search_back(struct engine *e, search_pred pred, unsigned L, unsigned *id)
{
    uint64_t hi = engine_time(e);
    if (hi == 0) return false;
    unsigned k = snapshot_before(e, hi, true);
    for (;;) {
        if (!restore_snapshot(e, k)) return false;
        struct jpos p = replay_to(e, e->snaps[k].pos, e->snaps[k].time);
        watch_reset(e);
        bool have = false;
        uint64_t best = 0;
        unsigned best_id = 0;
        while (engine_time(e) < hi) {
            uint64_t t = engine_time(e);
            e->search_id = 0;
            if (pred(e, L, true) == MATCH_START) have = true, best = t, best_id = e->search_id;
            memset(&e->uf, 0, sizeof e->uf);
            p = replay_to(e, p, t + 1);
            if (engine_time(e) == t) break; /* the journal ended early: cannot happen */
            e->search_id = 0;
            enum search_match m = pred(e, L, false);
            if (m == MATCH_START) have = true, best = t, best_id = e->search_id;
            else if (m == MATCH_END && engine_time(e) < hi)
                have = true, best = engine_time(e), best_id = e->search_id;
        }
        if (have) {
            if (id) *id = best_id;
            return goto_time(e, best);
        }
        if (k == 0) break;
        hi = e->snaps[k].time;
        k = snapshot_before(e, hi, true);
    }
    goto_time(e, 0);
    return false;
}

/* True when reverse-step of level L is simply one unit back. */
static bool unit_is_level_step(const struct engine *e, unsigned L)
{
    if (e->kind == SESSION_STACK) return L == 0;
    return L == e->prog_level || L == 0;
}

struct engine_result engine_reverse_step(struct engine *e, unsigned L)
{
    struct engine_result r = {ENGINE_DONE, 0, 1, 0, 0};
    e->mo.active = false;
    uint64_t now = engine_time(e);
    if (now == 0) r.outcome = ENGINE_AT_START;
    else if (unit_is_level_step(e, L)) {
        if (!goto_time(e, now - 1)) r.outcome = ENGINE_FAILED;
    } else if (!search_back(e, pred_level_ran, L, NULL)) {
        r.outcome = ENGINE_AT_START;
    }
    r.units = now - engine_time(e);
    return r;
}

struct engine_result engine_reverse_continue(struct engine *e)
{
    struct engine_result r = {ENGINE_DONE, 0, 1, 0, 0};
    e->mo.active = false;
    uint64_t now = engine_time(e);
    if (now == 0) {
        r.outcome = ENGINE_AT_START;
    } else if (e->nbreaks == 0) {
        r.outcome = goto_time(e, 0) ? ENGINE_AT_START : ENGINE_FAILED;
    } else if (search_back(e, pred_breakpoint, 0, &r.breakpoint)) {
        r.outcome = ENGINE_BREAK;
    } else {
        r.outcome = ENGINE_AT_START;
    }
    r.units = now - engine_time(e);
    return r;
}

/* ---- Forward motions ------------------------------------------------------------------------ */

void engine_begin(struct engine *e, enum engine_motion motion, unsigned L)
{
    e->mo.active = true;
    e->mo.kind = motion;
    e->mo.level = L < e->nlevels ? L : e->prog_level;
    e->mo.phase = 0;
    e->mo.first_log = e->log_n;
    e->mo.start_time = engine_time(e);
}

/* The units the motion may still run in this call. */
static uint64_t allowance(const struct engine *e, uint64_t slice)
{
    uint64_t now = engine_time(e);
    uint64_t left = e->max_steps && e->max_steps > now ? e->max_steps - now : 0;
    if (!e->max_steps) left = UINT64_MAX;
    if (slice && slice < left) left = slice;
    return left;
}

/* Steps level L by one of its instructions, within `room` units.  Returns
 * the units done; *done says whether the level did execute. */
static uint64_t step_level(struct engine *e, unsigned L, uint64_t room, bool *done)
{
    *done = false;
    if (unit_is_level_step(e, L)) {
        uint64_t got = run_units(e, 1, false);
        *done = got == 1 || e->uf.trapped;
        return got;
    }
    /* A monitor written in C "executes" when it handles a trap; any other
     * level when a unit of its code runs. */
    bool c_level = level_kind(e, L) == ENGINE_LEVEL_CVMM;
    uint64_t total = 0;
    while (total < room && !engine_exited(e, NULL, NULL)) {
        bool ran = !c_level && level_executing(e, L);
        uint64_t got = run_units(e, 1, false);
        total += got;
        if (ran || (c_level && L < ENGINE_MAX_LEVELS && e->uf.handled[L])) {
            *done = true;
            break;
        }
        if (got == 0) break;
    }
    return total;
}

/* The trap that handed level L to its own handler during this motion. */
static const struct engine_trap *trap_into(const struct engine *e, unsigned L)
{
    for (uint64_t s = e->mo.first_log + 1; s <= e->log_n; s++) {
        const struct engine_trap *t = engine_trap_get(e, s);
        if (t && t->target == L && t->how != ENGINE_EMULATED) return t;
    }
    return NULL;
}

struct engine_result engine_go(struct engine *e, uint64_t slice)
{
    struct engine_result r = {ENGINE_DONE, 0, e->mo.first_log + 1, 0, 0};
    uint64_t t0 = engine_time(e);
    if (!e->mo.active) {
        r.outcome = ENGINE_FAILED;
        return r;
    }
    if (engine_exited(e, NULL, NULL)) {
        r.outcome = ENGINE_EXITED;
        e->mo.active = false;
        r.last_trap = e->log_n;
        return r;
    }
    uint64_t room = allowance(e, slice);
    bool budget_limited = !slice || room < slice;
    if (room == 0) {
        r.outcome = budget_limited ? ENGINE_BUDGET : ENGINE_RUNNING;
        if (budget_limited) e->mo.active = false;
        return r;
    }
    e->until_trap = e->mo.kind == ENGINE_UNTIL_TRAP;
    bool finished = false;
    switch (e->mo.kind) {
    case ENGINE_STEP:
    case ENGINE_NEXT:
        if (e->mo.phase == 0) {
            bool did;
            struct psw ctx;
            bool has_ctx = level_psw(e, e->mo.level, &ctx);
            step_level(e, e->mo.level, room, &did);
            if (!did) break;
            const struct engine_trap *t =
                e->mo.kind == ENGINE_NEXT && has_ctx ? trap_into(e, e->mo.level) : NULL;
            if (!t) {
                finished = true;
                break;
            }
            e->mo.phase = 1;
            e->mo.ctx = ctx;
            e->mo.ret_pc = t->pc;
            if (came_back(e)) {
                finished = true;
                break;
            }
            uint64_t used = engine_time(e) - t0;
            if (slice && used >= slice) break;
            room = allowance(e, slice ? slice - used : 0);
            if (room == 0) break;
        }
        /* next, phase 1: run the handler through, breakpoints honoured. */
        run_units(e, room, true);
        finished = e->motion_done;
        break;
    case ENGINE_UNTIL_TRAP:
    case ENGINE_CONTINUE:
        run_units(e, room, have_state_breaks(e));
        break;
    }
    e->until_trap = false;

    r.units = engine_time(e) - t0;
    r.last_trap = e->log_n;
    unsigned hit = e->uf.trap_break ? e->uf.trap_break : e->state_break;
    struct engine_break *b = hit ? break_by_id(e, hit) : NULL;
    if (b && e->mo.kind != ENGINE_STEP && !(e->mo.kind == ENGINE_NEXT && e->mo.phase == 0)) {
        b->hits++;
        r.outcome = ENGINE_BREAK;
        r.breakpoint = hit;
    } else if (finished) {
        r.outcome = ENGINE_DONE;
    } else if (e->mo.kind == ENGINE_UNTIL_TRAP && e->uf.trapped) {
        r.outcome = ENGINE_TRAPPED;
    } else if (engine_exited(e, NULL, NULL)) {
        r.outcome = ENGINE_EXITED;
    } else if (e->mo.kind == ENGINE_STEP && e->mo.phase == 0 && r.units > 0 &&
               unit_is_level_step(e, e->mo.level)) {
        r.outcome = ENGINE_DONE;
    } else if (e->max_steps && engine_time(e) >= e->max_steps) {
        r.outcome = ENGINE_BUDGET;
    } else {
        r.outcome = ENGINE_RUNNING;
    }
    if (r.outcome != ENGINE_RUNNING) e->mo.active = false;
    return r;
}

/* ---- Edits -------------------------------------------------------------------------------------- */

bool engine_set_reg(struct engine *e, unsigned L, unsigned r, uint32_t value, char *err,
                    size_t errsize)
{
    if (e->kind == SESSION_STACK && r == ENGINE_REG_PC) {
        snprintf(err, errsize, "the pc cannot be set in a stack of monitors: every level below "
                               "keeps its own copy of it");
        return false;
    }
    if (L >= e->nlevels || !(L == e->prog_level || e->kind == SESSION_BARE)) {
        snprintf(err, errsize,
                 "level %u has no registers of its own to set: the program's are at level %u",
                 L, e->prog_level);
        return false;
    }
    if (r == 0 || r > ENGINE_REG_PC) {
        snprintf(err, errsize, "r0 is always 0");
        return false;
    }
    struct jitem it = {.kind = J_SET, .level = L, .reg = r, .value = value};
    if (!journal_push(e, it)) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    apply_set(e, &it);
    return true;
}

/* ---- Opening and closing ----------------------------------------------------------------------- */

struct engine *engine_open(const struct engine_config *cfg, FILE *errors)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        fprintf(errors, "trapeze: out of memory\n");
        return NULL;
    }
    e->kind = cfg->monitor == ENGINE_MON_C       ? SESSION_CVMM
              : cfg->monitor == ENGINE_MON_STACK ? SESSION_STACK
                                                 : SESSION_BARE;
    e->spec = cfg->stack;
    e->variant = *cfg->variant;
    e->mem = cfg->mem;
    e->max_steps = cfg->max_steps;
    e->vmode = (enum vmm_mode)cfg->vmm_mode;
    e->snap_every = FIRST_SNAP_EVERY;
    const char *slash = strrchr(cfg->program, '/');
    snprintf(e->progname, sizeof e->progname, "%s", slash ? slash + 1 : cfg->program);
    e->log = calloc(LOG_KEEP, sizeof *e->log);
    if (cfg->input_len) {
        e->input = malloc(cfg->input_len);
        if (e->input) memcpy(e->input, cfg->input, cfg->input_len);
        e->input_len = cfg->input_len;
    }
    if (!e->log || (cfg->input_len && !e->input)) {
        fprintf(errors, "trapeze: out of memory\n");
        engine_close(e);
        return NULL;
    }
    if (asm_load_program(cfg->program, &e->img, errors) != 0) {
        engine_close(e);
        return NULL;
    }
    if (e->kind == SESSION_STACK && e->spec.n == 0) e->kind = SESSION_BARE; /* --stack bare */
    if (e->kind == SESSION_STACK && e->spec.n == 1 && e->spec.kind[0] == STACK_C) {
        e->kind = SESSION_CVMM; /* --stack c: the C VMM alone, in te */
        e->vmode = VMM_TE;
    }
    if (e->kind == SESSION_STACK) {
        char err[STACK_ERROR_SIZE];
        e->nlevels = e->spec.n + 2;
        e->prog_level = e->spec.n + 1;
        if (!stack_start(e, err)) {
            fprintf(errors, "%s: error: %s\n", cfg->program, err);
            engine_close(e);
            return NULL;
        }
    } else if (e->kind == SESSION_BARE) {
        e->nlevels = 1;
        e->prog_level = 0;
        e->m = machine_create(cfg->mem, &e->variant);
        if (!e->m) {
            fprintf(errors, "trapeze: cannot allocate %zu words of memory\n", cfg->mem);
            engine_close(e);
            return NULL;
        }
        if (!asm_image_place(&e->img, machine_memory(e->m), machine_memsize(e->m), 0)) {
            fprintf(errors, "%s: error: the program does not fit in %zu words of memory (--mem)\n",
                    cfg->program, cfg->mem);
            engine_close(e);
            return NULL;
        }
        machine_reset(e->m, e->img.entry);
        if (e->input_len) machine_feed_input(e->m, e->input, e->input_len);
        set_bare_observer(e, false);
    } else {
        e->nlevels = 3;
        e->prog_level = 2;
        if (!cvmm_start(e)) {
            fprintf(errors, "%s: error: cannot set up the C VMM with a guest of %zu words "
                            "(does the program fit in --mem?)\n",
                    cfg->program, cfg->mem);
            engine_close(e);
            return NULL;
        }
    }
    /* The start of the history, and room for the snapshots to come. */
    size_t per = cfg->mem * sizeof(uint32_t);
    e->max_snaps = per ? (unsigned)(SNAP_BYTES_BUDGET / per) : MAX_SNAPS;
    if (e->max_snaps > MAX_SNAPS) e->max_snaps = MAX_SNAPS;
    if (e->max_snaps < 1) e->max_snaps = 1;
    if (!snap_take(e, &e->snaps[0])) {
        fprintf(errors, "trapeze: out of memory\n");
        engine_close(e);
        return NULL;
    }
    e->nsnaps = 1;
    return e;
}

void engine_close(struct engine *e)
{
    if (!e) return;
    for (unsigned i = 0; i < e->nsnaps; i++) snap_free(&e->snaps[i]);
    srccache_free(&e->src);
    srccache_free(&e->vsrc);
    for (unsigned j = 1; j <= STACK_MAX_MONITORS; j++) machine_destroy(e->views[j]);
    stack_destroy(e->st);
    machine_destroy(e->m);
    machine_destroy(e->gview);
    vmm_destroy(e->v);
    asm_image_free(&e->img);
    free(e->journal);
    free(e->log);
    free(e->input);
    free(e);
}
