/*
 * engine.c: the debugging session beneath the debugger and the TUI.
 *
 * Running.  Every forward motion runs the run's units through run_live(),
 * which journals them and takes snapshots.  Stops are decided in one
 * place, at_boundary(), called by the run before a unit while checking is
 * on: address, mode and level breakpoints, the end of `step` and `next`, a
 * handled trap (until-trap, trap breakpoints) and the budget.  A trap is
 * only noted when it happens (on_event): it stops the run once the level it
 * arose in runs again, at once when that is already so.
 *
 * Going back.  goto_time() restores the latest snapshot at or before the
 * target and replays the journal to it; search_back() replays unit by unit
 * from snapshot to snapshot, newest first, to find the latest earlier unit
 * matching a predicate (a breakpoint, a level's boundary).
 *
 *   journal:  RUN 120 | SET L2 r3=7 | RUN 5 | RUN(chunk 2000) 8000 | ...
 *   snapshots:  t=0 pos(0,0)   t=16384 pos(3,1200) ...
 */
#include "engine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_SNAPS 16
#define FIRST_SNAP_EVERY 16384u
#define SNAP_BYTES_BUDGET (128u << 20) /* all snapshots together, roughly */

/* ---- The journal ------------------------------------------------------------------- */

enum jkind { J_RUN, J_SET, J_INPUT };

struct jitem {
    enum jkind kind;
    uint64_t units;  /* J_RUN: units run ... */
    uint64_t chunk;  /*   ... as pieces of `chunk` units, as run_units did (run_repeat) */
    unsigned level;  /* J_SET */
    unsigned reg;
    uint32_t value;
    size_t at, len;  /* J_INPUT: bytes typed[at .. at+len) fed to the console */
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
    struct run_log_counts *counts;
    struct run *run;
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

/* Why a live run stopped. */
enum stop_kind { STOP_NONE, STOP_MOTION, STOP_BREAK, STOP_TRAP, STOP_BUDGET, STOP_STALLED, STOP_INTERRUPTED };

/* Units between two looks at the interrupt flag, going forwards (a piece
 * of run_units) and backwards (units replayed one by one). */
#define INTERRUPT_PIECE (1u << 20)
#define INTERRUPT_POLL 4096u

#define INTERP_NONE UINT64_MAX

struct engine {
    /* The configuration, owned copies. */
    struct isa_variant variant;
    size_t mem;
    uint64_t max_steps;
    uint8_t *input;
    size_t input_len;
    struct run_spec spec;
    struct asm_image img;
    bool img_borrowed; /* engine_config.image: the caller's, not freed here */
    char progname[40];

    struct run *run;
    unsigned nlevels, prog_level;
    void (*disk_sink)(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words);
    void *disk_sink_ctx;

    /* History. */
    struct jitem *journal;
    size_t jn, jcap;
    uint8_t *typed;       /* console input typed during the session (J_INPUT) */
    size_t typed_len, typed_cap;
    struct snapshot snaps[MAX_SNAPS];
    unsigned nsnaps, max_snaps; /* max_snaps <= MAX_SNAPS, by SNAP_BYTES_BUDGET */
    uint64_t snap_every;
    struct run_log *log;

    struct engine_break breaks[ENGINE_MAX_BREAKS];
    unsigned nbreaks, next_break_id;
    const volatile sig_atomic_t *interrupt; /* Ctrl-C (main's flag), or NULL */
    bool fetch_stops; /* run_live: the run's fetch stops stand for the address breakpoints */

    /* The motion under way. */
    struct {
        bool active;
        enum engine_motion kind;
        unsigned level;
        int phase;           /* next: 0 stepping, 1 running the handler through */
        struct psw ctx;      /* next: the context to come back to */
        bool has_ctx;
        uint32_t ret_pc;
        uint64_t ref_steps;  /* step: the level's steps it must get past */
        uint64_t first_log;  /* the log's length when it began */
    } mo;

    /* Run state shared with the hooks. */
    bool live;            /* stops are honoured (false while replaying) */
    bool until_trap;      /* a handled trap stops the run */
    uint64_t check_from;  /* no boundary stop at this time (where the run began) */
    enum stop_kind stop;  /* why the live run stopped */
    unsigned stop_break;  /* STOP_BREAK: the breakpoint */
    bool trapped;         /* a trap (not absorbed) was logged by this run */
    unsigned pending;     /* a handled trap stops where this level or one above runs;
                             ENGINE_NO_LEVEL: none */
    unsigned pending_break; /* ... the trap breakpoint that asked (0: until-trap) */
    bool handled[ENGINE_MAX_LEVELS]; /* host-code levels that handled a trap since the last boundary */
    uint32_t prev_mode[ENGINE_MAX_LEVELS];
    unsigned prev_running;
    /* A level its asm monitor interprets (run_level_view's `interpreted`)
     * is met between two of its instructions once per step, but twice
     * where the interpreter goes out through the gate and back before an
     * instruction (vmm_hybrid.s, hy_fresh): its steps when last met, so
     * that the second is not taken for another step (INTERP_NONE: not). */
    uint64_t interp_seen[ENGINE_MAX_LEVELS];
    uint64_t progress_steps, progress_time; /* the program's last step, for stalls */

    struct srccache src, vsrc; /* the program's sources, the asm VMM's */
    /* Each level's page tables at the last stop, to find what changed. */
    struct run_pages_seen seen[ENGINE_MAX_LEVELS];
};

/* ---- Small helpers ------------------------------------------------------------------ */

void engine_set_interrupt(struct engine *e, const volatile sig_atomic_t *flag) { e->interrupt = flag; }

static bool interrupted(const struct engine *e) { return e->interrupt && *e->interrupt; }

/* Takes note of every level's page tables: what changed since the last
 * look (note_changes), or only what they are (after going back). */
static void look_at_pages(struct engine *e, bool note_changes)
{
    for (unsigned L = 0; L < e->nlevels; L++) run_pages_look(e->run, 0, L, &e->seen[L], note_changes);
}

uint64_t engine_time(const struct engine *e) { return run_time(e->run); }
uint64_t engine_max_steps(const struct engine *e) { return e->max_steps; }
const struct run *engine_run(const struct engine *e) { return e->run; }
unsigned engine_level_count(const struct engine *e) { return e->nlevels; }
unsigned engine_program_level(const struct engine *e) { return e->prog_level; }
const struct asm_image *engine_image(const struct engine *e) { return &e->img; }
unsigned engine_running_level(const struct engine *e) { return run_running_level(e->run, 0); }
uint64_t engine_real_steps(const struct engine *e) { return machine_steps(run_real_machine(e->run)); }

uint64_t engine_guest_steps(const struct engine *e)
{
    struct run_level_view v;
    run_level_view(e->run, 0, e->prog_level, &v);
    return v.steps;
}

bool engine_exited(const struct engine *e, enum machine_stop *why, uint32_t *status)
{
    struct run_level_view v;
    run_level_view(e->run, 0, e->prog_level, &v);
    if (v.state != RUN_LEVEL_STOPPED) return false;
    if (why) *why = v.stop;
    if (status) *status = v.regs[1];
    return true;
}

const uint8_t *engine_output(const struct engine *e, size_t *len) { return run_output(e->run, 0, len); }

void engine_level(const struct engine *e, unsigned L, struct run_level_view *out)
{
    run_level_view(e->run, 0, L < e->nlevels ? L : e->prog_level, out);
}

void engine_level_name(const struct engine *e, unsigned L, char *buf, size_t size)
{
    char name[32];
    run_level_name(e->run, L, name, sizeof name);
    if (L == e->prog_level) snprintf(buf, size, "L%u %s: %s", L, name, e->progname);
    else snprintf(buf, size, "L%u %s", L, name);
}

unsigned engine_code_level(const struct engine *e, unsigned L)
{
    if (L >= e->nlevels) return e->prog_level;
    struct run_level_view v;
    engine_level(e, L, &v);
    return v.host_code ? L + 1 : L;
}

void engine_level_counts(const struct engine *e, unsigned L, struct run_level_counts *out)
{
    run_level_counts(e->run, 0, L, out);
}

/* ---- Memory ------------------------------------------------------------------------- */

bool engine_read_phys(const struct engine *e, unsigned L, uint32_t addr, uint32_t *value)
{
    if (L >= e->nlevels) return false;
    size_t words;
    const uint32_t *mem = run_machine_memory(e->run, 0, L, &words);
    if (addr >= words) return false;
    *value = mem[addr];
    return true;
}

bool engine_translate(const struct engine *e, unsigned L, uint32_t va, uint32_t *pa,
                      unsigned *detail)
{
    if (L >= e->nlevels) {
        if (detail) *detail = MEMF_BOUND;
        return false;
    }
    return run_translate(e->run, 0, L, va, pa, detail);
}

bool engine_to_real(const struct engine *e, unsigned L, uint32_t pa, uint32_t *real)
{
    return L < e->nlevels && run_to_real(e->run, 0, L, pa, real);
}

unsigned engine_fmap(const struct engine *e, unsigned L, bool composed, struct run_extent *out,
                     unsigned max)
{
    return run_fmap(e->run, 0, L, composed, out, max);
}

unsigned engine_page_tables(const struct engine *e, unsigned L, struct run_page_table *out,
                            unsigned max)
{
    if (L >= e->nlevels) return 0;
    unsigned n = run_page_tables(e->run, 0, L, out, max);
    run_pages_seen_apply(&e->seen[L], out, n);
    return n;
}

bool engine_page_entry(const struct engine *e, const struct run_page_table *t, uint32_t vpn,
                       uint32_t *pte)
{
    return run_page_table_entry(e->run, 0, t, vpn, pte);
}

void engine_pte_decode(const struct engine *e, const struct run_page_table *t, bool present,
                       uint32_t pte, struct run_pte_meaning *out)
{
    run_pte_decode(e->run, t, present, pte, out);
}

bool engine_translate_chain(const struct engine *e, unsigned L, uint32_t va, struct run_chain *out)
{
    if (L >= e->nlevels) return false;
    return run_translate_chain(e->run, 0, L, va, out);
}

const char *engine_label_at(const struct engine *e, unsigned L, uint32_t pa)
{
    uint32_t ia;
    const struct asm_image *img = L < e->nlevels ? run_image_at(e->run, 0, L, pa, &ia) : NULL;
    return img ? asm_symbol_at(img, ia) : NULL;
}

const char *engine_label_near(const struct engine *e, unsigned L, uint32_t pa, uint32_t *offset)
{
    uint32_t ia;
    const struct asm_image *img = L < e->nlevels ? run_image_at(e->run, 0, L, pa, &ia) : NULL;
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

bool engine_pc(const struct engine *e, unsigned L, uint32_t *pc)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    if (v.host_code) return false;
    *pc = v.psw.pc;
    /* halt completes, so the pc is past it: show where the level stopped */
    if (v.state == RUN_LEVEL_STOPPED && v.stop == MACHINE_HALT) *pc = v.psw.pc - 1;
    return true;
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
    const struct asm_image *img = L < e->nlevels ? run_image_at(e->run, 0, L, pa, &ia) : NULL;
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
        const char *why = isa_mem_fault_phrase(detail);
        snprintf(buf, size, "<MEM fault: %s>", why ? why : "?");
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

uint64_t engine_trap_total(const struct engine *e) { return run_log_total(e->log); }

const struct run_event *engine_trap_get(const struct engine *e, uint64_t seq)
{
    return run_log_get(e->log, seq);
}

void engine_describe_trap(const struct engine *e, uint64_t seq, bool compact, char *buf, size_t size)
{
    const struct run_event *t = engine_trap_get(e, seq);
    if (!t) {
        snprintf(buf, size, "trap %" PRIu64 ": no longer kept", seq);
        return;
    }
    run_event_describe(e->run, t, seq, compact ? RUN_EVENT_COMPACT : RUN_EVENT_FULL, buf, size);
}

const struct run_log_counts *engine_trap_counts(const struct engine *e) { return run_log_counts(e->log); }

/* ---- Breakpoints ------------------------------------------------------------------------ */

static bool same_break(const struct engine_break *a, const struct engine_break *b)
{
    if (a->kind != b->kind || a->level != b->level) return false;
    if (a->kind == ENGINE_BREAK_ADDR || a->kind == ENGINE_BREAK_WATCH) return a->addr == b->addr;
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
    n->seen = n->was = 0;
    if (n->kind == ENGINE_BREAK_WATCH) engine_read_phys(e, n->level, n->addr, &n->seen);
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

/* Breakpoints that need a look at every boundary: all but trap ones, and
 * but address ones while the run's fetch stops stand for them. */
static bool have_state_breaks(const struct engine *e)
{
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].kind != ENGINE_BREAK_TRAP && !(e->fetch_stops && e->breaks[i].kind == ENGINE_BREAK_ADDR))
            return true;
    return false;
}

/* Sets the run's fetch stops at the real words of the address breakpoints
 * when they are the only state breakpoints (true: the run stops before any
 * unit that may meet one, and only there the boundary is looked at). */
static bool set_fetch_stops(struct engine *e)
{
    uint32_t real[2 * ENGINE_MAX_BREAKS];
    unsigned n = 0;
    for (unsigned i = 0; i < e->nbreaks; i++) {
        const struct engine_break *b = &e->breaks[i];
        if (b->kind == ENGINE_BREAK_TRAP) continue;
        if (b->kind != ENGINE_BREAK_ADDR || !engine_to_real(e, b->level, b->addr, &real[n])) return false;
        n++;
        /* Its monitor may interpret the level (a hybrid build): the word is
         * then read, never fetched, so stop where the interpreter stands
         * between two of its instructions, and look there. */
        uint32_t between;
        if (run_interp_next(e->run, b->level, &between)) {
            if (!engine_to_real(e, b->level - 1, between, &real[n])) return false;
            n++;
        }
    }
    return n > 0 && run_set_fetch_stops(e->run, real, n);
}

static const struct engine_break *trap_break_match(const struct engine *e, const struct run_event *t)
{
    for (unsigned i = 0; i < e->nbreaks; i++) {
        const struct engine_break *b = &e->breaks[i];
        if (b->kind == ENGINE_BREAK_TRAP && (b->cause == CAUSE_NONE || b->cause == t->cause) &&
            (b->level == ENGINE_NO_LEVEL || b->level == t->arose))
            return b;
    }
    return NULL;
}

/* ---- Boundaries: where stops are decided ---------------------------------------------------- */

static bool is_running(const struct run_level_view *v) { return v->state == RUN_LEVEL_RUNNING; }
/* Between two of its instructions: it runs, or its monitor interprets it
 * and stands there (run_level_view's `interpreted`). */
static bool between_instructions(const struct run_level_view *v) { return is_running(v) || v->interpreted; }

/* Level L's mode, from its view (live where it runs). */
static uint32_t level_mode(const struct engine *e, unsigned L)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    return v.host_code ? 0 : (v.psw.flags & PSW_M);
}

/* Starts watching for mode and level changes from the present state. */
static void watch_reset(struct engine *e)
{
    for (unsigned L = 0; L < e->nlevels; L++) e->prev_mode[L] = level_mode(e, L);
    e->prev_running = engine_running_level(e);
    for (unsigned i = 0; i < e->nbreaks; i++)
        if (e->breaks[i].kind == ENGINE_BREAK_WATCH)
            engine_read_phys(e, e->breaks[i].level, e->breaks[i].addr, &e->breaks[i].seen);
    memset(e->handled, 0, sizeof e->handled);
    for (unsigned L = 0; L < e->nlevels && L < ENGINE_MAX_LEVELS; L++) {
        struct run_level_view v;
        uint32_t between;
        e->interp_seen[L] = INTERP_NONE;
        if (L > 0 && run_interp_next(e->run, L, &between)) {
            engine_level(e, L, &v);
            if (between_instructions(&v)) e->interp_seen[L] = v.steps;
        }
    }
}

/* Level L (its monitor a hybrid build: run_interp_next) is between two of
 * its instructions in view v, and arrives there at a step not met yet:
 * running in virtual user mode, at the gate (where an interrupt may be
 * taken, else the interpreter meets the same step next), or interpreted. */
static bool step_arrival(struct engine *e, unsigned L, const struct run_level_view *v)
{
    if (!between_instructions(v) || L >= ENGINE_MAX_LEVELS || e->interp_seen[L] == v->steps) return false;
    e->interp_seen[L] = v->steps;
    return true;
}

/* What a boundary looks like: the running level and its view, the
 * physical address of its pc once asked for. */
struct boundary {
    unsigned running;
    struct run_level_view view;
    bool have_pa, pc_translates;
    uint32_t pc_pa;
};

static void boundary_at(const struct engine *e, struct boundary *b)
{
    b->running = engine_running_level(e);
    engine_level(e, b->running, &b->view);
    b->have_pa = false;
}

/* The same, with only what breakpoints and watch_move read of the view
 * (its PSW, host_code): a backward search makes one every unit. */
static void boundary_for_breaks(const struct engine *e, struct boundary *b)
{
    b->running = engine_running_level(e);
    b->view = (struct run_level_view){.level = b->running, .running = b->running};
    b->view.host_code = b->running < e->spec.n && e->spec.kind[b->running] == RUN_MONITOR_C;
    b->view.psw = run_running_psw(e->run, 0);
    b->have_pa = false;
}

static bool boundary_pc_pa(const struct engine *e, struct boundary *b, uint32_t *pa)
{
    if (!b->have_pa) {
        b->have_pa = true;
        b->pc_translates = engine_translate(e, b->running, b->view.psw.pc, &b->pc_pa, NULL);
    }
    *pa = b->pc_pa;
    return b->pc_translates;
}

/* Level L is under a hybrid build (run_interp_next). */
static bool under_hybrid(const struct engine *e, unsigned L)
{
    uint32_t between;
    return L > 0 && L < e->nlevels && run_interp_next(e->run, L, &between);
}

/* Level L's pc, physical, when it is under a hybrid build and has just
 * arrived between two of its instructions (step_arrival). */
static bool arrival_pc_pa(struct engine *e, unsigned L, uint32_t *pa)
{
    if (!under_hybrid(e, L)) return false;
    struct run_level_view v;
    engine_level(e, L, &v);
    return step_arrival(e, L, &v) && engine_translate(e, L, v.psw.pc, pa, NULL);
}

/* The state breakpoint (id) matched at this boundary, or 0.  A level's
 * mode is compared only where it runs, so a mode is never seen half-made
 * by the monitor below. */
static unsigned state_break(struct engine *e, struct boundary *at)
{
    unsigned hit = 0;
    /* Under a hybrid build the running level, or the one above it that is
     * interpreted, is looked at once a boundary: [0] running, [1] above. */
    bool looked[2] = {false, false}, met[2] = {false, false};
    uint32_t arrival_pa[2] = {0, 0};
    const bool hybrid_running = under_hybrid(e, at->running);
    const uint32_t mode = at->view.psw.flags & PSW_M;
    for (unsigned i = 0; i < e->nbreaks && !hit; i++) {
        const struct engine_break *b = &e->breaks[i];
        uint32_t pa;
        switch (b->kind) {
        case ENGINE_BREAK_ADDR:
            if (b->level == at->running && !hybrid_running) {
                if (boundary_pc_pa(e, at, &pa) && pa == b->addr) hit = b->id;
            } else if (b->level == at->running || b->level == at->running + 1) {
                const unsigned k = b->level - at->running;
                if (!looked[k]) looked[k] = true, met[k] = arrival_pc_pa(e, b->level, &arrival_pa[k]);
                if (met[k] && arrival_pa[k] == b->addr) hit = b->id;
            }
            break;
        case ENGINE_BREAK_MODE:
            if (b->level == at->running && mode != e->prev_mode[b->level]) hit = b->id;
            break;
        case ENGINE_BREAK_LEVEL:
            if ((at->running == b->level && e->prev_running != b->level) ||
                (b->level < ENGINE_MAX_LEVELS && e->handled[b->level]))
                hit = b->id;
            break;
        case ENGINE_BREAK_WATCH: {
            struct engine_break *w = &e->breaks[i];
            uint32_t now;
            if (engine_read_phys(e, w->level, w->addr, &now) && now != w->seen) {
                w->was = w->seen;
                w->seen = now;
                hit = w->id;
            }
            break;
        }
        case ENGINE_BREAK_TRAP: break;
        }
    }
    return hit;
}

/* Moves the mode and level watches on to this boundary. */
static void watch_move(struct engine *e, const struct boundary *at)
{
    if (at->running < e->nlevels && !at->view.host_code)
        e->prev_mode[at->running] = at->view.psw.flags & PSW_M;
    e->prev_running = at->running;
    memset(e->handled, 0, sizeof e->handled);
}

/* `next`: has the level come back to the context its trap interrupted? */
static bool came_back(const struct engine *e)
{
    struct run_level_view v;
    engine_level(e, e->mo.level, &v);
    if (!between_instructions(&v)) return false;
    const struct psw *c = &e->mo.ctx;
    return (v.psw.flags & (PSW_M | PSW_PG)) == (c->flags & (PSW_M | PSW_PG)) && v.psw.base == c->base &&
           v.psw.bound == c->bound && (v.psw.pc == e->mo.ret_pc || v.psw.pc == e->mo.ret_pc + 1);
}

/* The motion's own end: level L's next boundary after one more step of
 * its own (host code: a trap it handled), or, for next in phase 1, the
 * return to its context. */
static bool motion_ends_here(const struct engine *e, const struct boundary *at)
{
    if (!e->mo.active || (e->mo.kind != ENGINE_STEP && e->mo.kind != ENGINE_NEXT)) return false;
    if (e->mo.phase == 1) return came_back(e);
    if (at->running != e->mo.level) {
        struct run_level_view v;
        engine_level(e, e->mo.level, &v);
        if (v.interpreted) return v.steps > e->mo.ref_steps;
        return v.host_code && e->handled[e->mo.level];
    }
    return at->view.steps > e->mo.ref_steps;
}

/* Decides at a boundary whether the live run stops here; records why. */
static bool boundary_stop(struct engine *e)
{
    struct boundary at;
    boundary_at(e, &at);
    const unsigned running = at.running;
    enum stop_kind kind = STOP_NONE;
    unsigned id = 0;
    if (motion_ends_here(e, &at)) {
        kind = STOP_MOTION;
    } else if (e->pending != ENGINE_NO_LEVEL && running >= e->pending) {
        kind = e->pending_break ? STOP_BREAK : STOP_TRAP;
        id = e->pending_break;
    } else if (e->max_steps && running == e->prog_level && at.view.steps >= e->max_steps) {
        kind = STOP_BUDGET;
    } else if ((id = state_break(e, &at)) != 0) {
        kind = STOP_BREAK;
    }
    watch_move(e, &at);
    if (kind == STOP_NONE) return false;
    e->stop = kind;
    e->stop_break = id;
    e->pending = ENGINE_NO_LEVEL;
    return true;
}

static enum machine_verdict at_boundary(void *ctx, struct run *r)
{
    (void)r;
    struct engine *e = ctx;
    if (!e->live) return MACHINE_CONTINUE;
    if (engine_time(e) == e->check_from) {
        struct boundary at;
        boundary_at(e, &at);
        watch_move(e, &at);
        return MACHINE_CONTINUE;
    }
    return boundary_stop(e) ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
}

/* A trap is handled once the processor is at this level or above: an
 * emulated instruction once its emulator has resumed the level above it,
 * anything else once the level's own handler begins. */
static unsigned handled_where(const struct run_event *ev)
{
    return ev->how == RUN_EMULATED ? ev->handler + 1 : ev->handler;
}

static enum machine_verdict on_event(void *ctx, struct run *r, const struct run_event *ev)
{
    struct engine *e = ctx;
    run_log_add(e->log, ev);
    if (ev->first < ENGINE_MAX_LEVELS) e->handled[ev->first] = true;
    if (ev->handler < ENGINE_MAX_LEVELS) e->handled[ev->handler] = true;
    if (ev->how == RUN_ABSORBED) return MACHINE_CONTINUE; /* the C VMM's own business */
    e->trapped = true;
    const struct engine_break *b = trap_break_match(e, ev);
    if (e->pending == ENGINE_NO_LEVEL && (b || e->until_trap)) {
        e->pending = handled_where(ev);
        e->pending_break = b ? b->id : 0;
    }
    if (!e->live || e->pending == ENGINE_NO_LEVEL) return MACHINE_CONTINUE;
    /* Handled already (by the hardware or the C VMM): stop now; else where
     * its handling is done. */
    if (run_running_level(r, 0) >= e->pending) {
        e->stop = e->pending_break ? STOP_BREAK : STOP_TRAP;
        e->stop_break = e->pending_break;
        e->pending = ENGINE_NO_LEVEL;
        return MACHINE_STOP_RUN;
    }
    run_set_checking(r, true);
    return MACHINE_CONTINUE;
}

/* ---- The session: making it, running it ------------------------------------------------ */

static void attach(struct engine *e)
{
    run_set_hooks(e->run, &(struct run_hooks){e, on_event, at_boundary});
    run_set_disk_sink(e->run, e->disk_sink, e->disk_sink_ctx);
}

static bool journal_push(struct engine *e, struct jitem it)
{
    if (it.kind == J_RUN && e->jn > 0) {
        struct jitem *last = &e->journal[e->jn - 1];
        if (last->kind == J_RUN && last->chunk == it.chunk &&
            (it.chunk == 0 || (last->units % it.chunk == 0 && it.units % it.chunk == 0))) {
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
    run_destroy(s->run);
    free(s->counts);
    s->run = NULL;
    s->counts = NULL;
}

/* A copy of the session's state for a snapshot (false: out of memory). */
static bool snap_take(const struct engine *e, struct snapshot *s)
{
    s->run = run_clone(e->run);
    s->counts = malloc(sizeof *s->counts);
    if (!s->run || !s->counts) {
        snap_free(s);
        return false;
    }
    *s->counts = *run_log_counts(e->log);
    s->log_n = run_log_total(e->log);
    s->time = engine_time(e);
    return true;
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
        e->snap_every = UINT64_MAX / 2; /* no memory: replay from the start */
        return;
    }
    /* Inside the last item, which later units may still grow. */
    snap.pos = (struct jpos){e->jn, 0};
    if (e->jn && e->journal[e->jn - 1].kind == J_RUN)
        snap.pos = (struct jpos){e->jn - 1, e->journal[e->jn - 1].units};
    e->snaps[e->nsnaps++] = snap;
}

/* Whether the run needs a look at every boundary from the start. */
static bool needs_checking(const struct engine *e)
{
    return have_state_breaks(e) || e->pending != ENGINE_NO_LEVEL ||
           (e->mo.active && (e->mo.kind == ENGINE_STEP || e->mo.kind == ENGINE_NEXT));
}

/* Below this many units a free run is not worth a piece of its own: the
 * checked path runs them (a level suspended in its monitor's handler for
 * thousands of units would otherwise cost a piece per step it is short). */
#define FREE_RUN_MIN 64u

/* How many units `step N` may run without looking at boundaries: a unit
 * is at most one step of any level (one instruction of one level retires
 * or traps, or a monitor's store counts one step of the level above), so
 * while level L is k steps short of its target, k units cannot pass the
 * boundary where the motion ends.  0 when anything else needs a look
 * (state breakpoints, a pending trap stop), for host code (whose motion
 * ends at a trap it handles) and when the target is near. */
static uint64_t unchecked_steps(const struct engine *e)
{
    if (!e->mo.active || e->mo.kind != ENGINE_STEP || !e->mo.has_ctx || have_state_breaks(e) ||
        e->pending != ENGINE_NO_LEVEL)
        return 0;
    struct run_level_view v;
    engine_level(e, e->mo.level, &v);
    if (v.host_code || v.state == RUN_LEVEL_STOPPED || v.steps >= e->mo.ref_steps) return 0;
    const uint64_t k = e->mo.ref_steps - v.steps;
    return k >= FREE_RUN_MIN ? k : 0;
}

/* Runs up to n units live: journalled, stopped at boundaries as decided
 * above.  Returns the units done; e->stop says why it stopped early. */
static uint64_t run_live(struct engine *e, uint64_t n)
{
    uint64_t done = 0;
    e->live = true;
    e->stop = STOP_NONE;
    e->stop_break = 0;
    e->trapped = false;
    e->check_from = engine_time(e);
    watch_reset(e);
    e->fetch_stops = set_fetch_stops(e);
    run_set_checking(e->run, needs_checking(e));
    e->progress_steps = engine_guest_steps(e);
    e->progress_time = engine_time(e);
    while (done < n && e->stop == STOP_NONE && !engine_exited(e, NULL, NULL)) {
        uint64_t now = engine_time(e), piece = n - done;
        uint64_t next_snap = e->snaps[e->nsnaps - 1].time + e->snap_every;
        if (next_snap > now && next_snap - now < piece) piece = next_snap - now;
        if (piece > RUN_STALL_UNITS) piece = RUN_STALL_UNITS;
        if (e->interrupt && piece > INTERRUPT_PIECE) piece = INTERRUPT_PIECE;
        if (interrupted(e)) {
            e->stop = STOP_INTERRUPTED;
            break;
        }
        bool budget_reached = false;
        if (e->max_steps) {
            /* A unit is at most one step of the program: it cannot overshoot. */
            uint64_t g = engine_guest_steps(e);
            if (g >= e->max_steps) {
                if (engine_running_level(e) == e->prog_level) {
                    e->stop = STOP_BUDGET;
                    break;
                }
                budget_reached = true; /* stop where the program runs: check */
            } else if (e->max_steps - g < piece) {
                piece = e->max_steps - g;
            }
        }
        const uint64_t free_run = budget_reached ? 0 : unchecked_steps(e);
        if (free_run && free_run < piece) piece = free_run;
        run_set_checking(e->run, budget_reached || (!free_run && needs_checking(e)));
        uint64_t chunk;
        /* A free run is cut as the checked one would be: the same units. */
        uint64_t got = free_run ? run_units_fine(e->run, piece, &chunk)
                                : run_units(e->run, piece, &chunk);
        journal_run(e, got, chunk);
        if (run_fetch_stopped(e->run) && e->stop == STOP_NONE && done + got < n) {
            /* Before a word an address breakpoint names: look at this
             * boundary (another level's word, or a level that does not run
             * there: go on past it). */
            run_set_checking(e->run, true);
            uint64_t one = run_units(e->run, 1, &chunk);
            journal_run(e, one, chunk);
            got += one;
        }
        done += got;
        maybe_snapshot(e);
        if (engine_guest_steps(e) != e->progress_steps) {
            e->progress_steps = engine_guest_steps(e);
            e->progress_time = engine_time(e);
        } else if (engine_time(e) - e->progress_time >= RUN_STALL_UNITS && e->stop == STOP_NONE) {
            e->stop = STOP_STALLED;
        }
        if (got == 0 && e->stop == STOP_NONE) break;
    }
    run_set_checking(e->run, false);
    if (e->fetch_stops) run_set_fetch_stops(e->run, NULL, 0); /* replays run past them */
    e->fetch_stops = false;
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
    char err[160];
    run_set_reg(e->run, 0, it->level, it->reg, it->value, err, sizeof err);
}

/* Replays the journal from p (the state being that of p) until the time is
 * target, applying the edits made at target.  Returns the position reached. */
static struct jpos replay_to(struct engine *e, struct jpos p, uint64_t target)
{
    e->live = false;
    while (p.item < e->jn) {
        const struct jitem *it = &e->journal[p.item];
        if (it->kind == J_SET || it->kind == J_INPUT) {
            if (it->kind == J_SET) apply_set(e, it);
            else run_feed_input(e->run, 0, e->typed + it->at, it->len);
            p.item++;
            continue;
        }
        uint64_t now = engine_time(e);
        if (now >= target) break;
        uint64_t k = it->units - p.off;
        if (k > target - now) k = target - now;
        uint64_t got = run_repeat(e->run, k, it->chunk);
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

struct run *engine_replay_copy(struct engine *e, const struct run_hooks *hooks)
{
    struct run *copy = run_clone(e->snaps[0].run);
    if (!copy) return NULL;
    run_set_hooks(copy, hooks);
    /* replay_to works on e->run: lend it the copy, then take the session back. */
    struct run *session = e->run;
    const bool live = e->live;
    const uint64_t now = engine_time(e);
    e->run = copy;
    replay_to(e, e->snaps[0].pos, now);
    e->run = session;
    e->live = live;
    run_set_hooks(copy, NULL);
    return copy;
}

/* Puts the session back in the state of snapshot i (journal position and
 * log included).  False when the copy cannot be made. */
static bool restore_snapshot(struct engine *e, unsigned i)
{
    const struct snapshot *s = &e->snaps[i];
    struct run *r = run_clone(s->run);
    if (!r) return false;
    run_log_rewind(e->log, s->log_n, s->counts);
    run_destroy(e->run);
    e->run = r;
    attach(e);
    e->pending = ENGINE_NO_LEVEL;
    return true;
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

/* What search_back looks for at a unit's start (before = true) or just
 * after a unit (before = false: a match names that unit's start).  Sets
 * *id to the breakpoint that matched, if any. */
typedef bool (*search_pred)(struct engine *e, unsigned level, bool before, unsigned *id);

/* Reverse-step: level L is at a boundary (runs now), or host code L handled
 * a trap in the unit just run. */
static bool pred_level_ran(struct engine *e, unsigned L, bool before, unsigned *id)
{
    (void)id;
    /* Asked twice a unit: a whole view only where one is needed (views
     * were four tenths of a reverse-step). */
    if (!(L < e->spec.n && e->spec.kind[L] == RUN_MONITOR_C)) {
        if (!before) return false;
        if (!under_hybrid(e, L)) return run_level_state(e->run, 0, L) == RUN_LEVEL_RUNNING;
        /* Under a hybrid build its steps are met where it runs or the
         * interpreter stands between them, each once (step_arrival). */
        struct run_level_view v;
        engine_level(e, L, &v);
        return step_arrival(e, L, &v);
    }
    if (before) return false;
    bool hit = L < ENGINE_MAX_LEVELS && e->handled[L];
    memset(e->handled, 0, sizeof e->handled);
    return hit;
}

/* Reverse-continue: a forward run would stop at this boundary. */
static bool pred_breakpoint(struct engine *e, unsigned L, bool before, unsigned *id)
{
    (void)L;
    if (!before) return false;
    struct boundary at;
    boundary_for_breaks(e, &at);
    unsigned hit = 0;
    if (e->pending != ENGINE_NO_LEVEL && at.running >= e->pending) {
        hit = e->pending_break;
        e->pending = ENGINE_NO_LEVEL;
    }
    if (!hit) hit = state_break(e, &at);
    watch_move(e, &at);
    if (hit) *id = hit;
    return hit != 0;
}

/* Why search_back ended. */
enum search_end { SEARCH_FOUND, SEARCH_NONE, SEARCH_INTERRUPTED, SEARCH_FAILED };

/* Finds the n-th latest time t < now at which pred matches (n >= 1) and
 * goes there.  Replays each snapshot's stretch once, unit by unit, newest
 * stretch first, keeping the times of its last n matches in a ring: the
 * n-th latest is in the newest stretches that hold n matches together.
 * SEARCH_NONE: fewer exist; the session is then left at the start.
 * SEARCH_INTERRUPTED: the interrupt flag was set; the session is left
 * where it was. */
static enum search_end search_back(struct engine *e, search_pred pred, unsigned L, uint64_t n,
                                   unsigned *id)
{
    const uint64_t from = engine_time(e);
    uint64_t hi = from;
    if (hi == 0) return SEARCH_NONE;
    struct hit {
        uint64_t t;
        unsigned id;
    };
    struct hit one, *ring = n == 1 ? &one : malloc(n * sizeof *ring);
    if (!ring) return SEARCH_FAILED;
    enum search_end end = SEARCH_NONE;
    uint64_t needed = n;
    unsigned k = snapshot_before(e, hi, true);
    for (;;) {
        if (!restore_snapshot(e, k)) {
            end = SEARCH_FAILED;
            break;
        }
        struct jpos p = replay_to(e, e->snaps[k].pos, e->snaps[k].time);
        watch_reset(e);
        /* The window's first boundary is looked at as any other: an
         * interpreted level's arrival there is one (the window before
         * ends just short of it). */
        for (unsigned lv = 0; lv < ENGINE_MAX_LEVELS; lv++) e->interp_seen[lv] = INTERP_NONE;
        uint64_t matches = 0, polled = 0;
        bool stopped = false;
        while (engine_time(e) < hi) {
            if (++polled % INTERRUPT_POLL == 0 && interrupted(e)) {
                stopped = true;
                break;
            }
            uint64_t t = engine_time(e);
            unsigned hit = 0;
            bool found = pred(e, L, true, &hit);
            p = replay_to(e, p, t + 1);
            if (engine_time(e) == t) break; /* the journal ended early: cannot happen */
            unsigned after_hit = 0;
            if (pred(e, L, false, &after_hit) && !found) found = true, hit = after_hit;
            if (found) ring[matches++ % needed] = (struct hit){t, hit};
        }
        if (stopped) {
            end = SEARCH_INTERRUPTED;
            break;
        }
        if (matches >= needed) {
            const struct hit *h = &ring[(matches - needed) % needed];
            if (id) *id = h->id;
            end = goto_time(e, h->t) ? SEARCH_FOUND : SEARCH_FAILED;
            break;
        }
        needed -= matches;
        if (k == 0) break;
        hi = e->snaps[k].time;
        k = snapshot_before(e, hi, true);
    }
    if (ring != &one) free(ring);
    if (end == SEARCH_NONE) goto_time(e, 0);
    if (end == SEARCH_INTERRUPTED || end == SEARCH_FAILED) goto_time(e, from);
    return end;
}

static enum engine_outcome search_outcome(enum search_end end, enum engine_outcome found)
{
    switch (end) {
    case SEARCH_FOUND: return found;
    case SEARCH_NONE: return ENGINE_AT_START;
    case SEARCH_INTERRUPTED: return ENGINE_INTERRUPTED;
    case SEARCH_FAILED: break;
    }
    return ENGINE_FAILED;
}

struct engine_result engine_reverse_steps(struct engine *e, unsigned L, uint64_t n)
{
    struct engine_result r = {ENGINE_DONE, 0, 1, 0, 0};
    e->mo.active = false;
    uint64_t now = engine_time(e);
    if (now == 0 || n == 0) r.outcome = now == 0 ? ENGINE_AT_START : ENGINE_DONE;
    else r.outcome = search_outcome(search_back(e, pred_level_ran, L < e->nlevels ? L : e->prog_level, n, NULL),
                                    ENGINE_DONE);
    watch_reset(e); /* watchpoints compare with the word as it is now */
    look_at_pages(e, false);
    r.units = now - engine_time(e);
    return r;
}

struct engine_result engine_reverse_step(struct engine *e, unsigned L) { return engine_reverse_steps(e, L, 1); }

/* The latest trap into level L's own handler that returns L to where it
 * is now (its saved pc, or the one after it: a handler that skips), among
 * the latest REVERSE_NEXT_SCAN traps the log keeps (a handler's own
 * console output is hundreds of traps at depth 2); NULL when none. */
#define REVERSE_NEXT_SCAN (1u << 20)
static const struct run_event *trap_returned_here(const struct engine *e, unsigned L)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    if (v.host_code || !between_instructions(&v)) return NULL;
    const uint64_t now = engine_time(e), total = run_log_total(e->log);
    for (uint64_t s = total; s >= 1 && total - s < REVERSE_NEXT_SCAN; s--) {
        const struct run_event *t = engine_trap_get(e, s);
        if (!t) break; /* older ones are forgotten */
        if (t->time >= now || t->arose != L || t->handler != L || t->how == RUN_ABSORBED) continue;
        if (t->supervisor == ((v.psw.flags & PSW_M) != 0) && (v.psw.pc == t->pc || v.psw.pc == t->pc + 1))
            return t;
    }
    return NULL;
}

struct engine_result engine_reverse_next(struct engine *e, unsigned L, uint64_t n)
{
    struct engine_result r = {ENGINE_DONE, 0, 1, 0, 0};
    e->mo.active = false;
    const uint64_t from = engine_time(e);
    if (L >= e->nlevels) L = e->prog_level;
    for (uint64_t k = 0; k < n && r.outcome == ENGINE_DONE; k++) {
        if (engine_time(e) == 0) {
            r.outcome = ENGINE_AT_START;
            break;
        }
        if (interrupted(e)) {
            r.outcome = ENGINE_INTERRUPTED;
            break;
        }
        const struct run_event *found = trap_returned_here(e, L);
        const struct run_event t = found ? *found : (struct run_event){0};
        r.outcome = search_outcome(search_back(e, pred_level_ran, L, 1, NULL), ENGINE_DONE);
        if (!found || r.outcome != ENGINE_DONE) continue;
        /* One instruction back is still at the trap's return point: the
         * handler returned earlier, and that was a plain step. */
        struct run_level_view v;
        engine_level(e, L, &v);
        if (between_instructions(&v) && (v.psw.pc == t.pc || v.psw.pc == t.pc + 1)) continue;
        /* Over the handler: to the trapping instruction, or, for an
         * interrupt (taken before the instruction it returns to), to the
         * one before it. */
        if (!goto_time(e, t.time)) r.outcome = ENGINE_FAILED;
        else if (t.how == RUN_DELIVERED && engine_time(e) > 0)
            r.outcome = search_outcome(search_back(e, pred_level_ran, L, 1, NULL), ENGINE_DONE);
    }
    watch_reset(e);
    look_at_pages(e, false);
    r.units = from - engine_time(e);
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
    } else {
        r.outcome = search_outcome(search_back(e, pred_breakpoint, 0, 1, &r.breakpoint), ENGINE_BREAK);
        struct engine_break *b = r.outcome == ENGINE_BREAK ? break_by_id(e, r.breakpoint) : NULL;
        if (b) b->hits++; /* a stop going back is a hit as much as one going forwards */
    }
    watch_reset(e); /* watchpoints compare with the word as it is now */
    look_at_pages(e, false);
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
    e->mo.first_log = run_log_total(e->log);
    struct run_level_view v;
    engine_level(e, e->mo.level, &v);
    e->mo.has_ctx = !v.host_code;
    e->mo.ctx = v.psw;
    /* A suspended level's instruction is under way: its end is the step.
     * A level not started yet gets there and then takes its first step. */
    e->mo.ref_steps = v.state == RUN_LEVEL_SUSPENDED ? v.as_of : v.steps;
    e->pending = ENGINE_NO_LEVEL;
}

void engine_begin_steps(struct engine *e, unsigned L, uint64_t n)
{
    engine_begin(e, ENGINE_STEP, L);
    if (e->mo.has_ctx && n > 1) e->mo.ref_steps += n - 1;
}

/* The trap that handed level L to its own handler during this motion. */
static const struct run_event *trap_into(const struct engine *e, unsigned L)
{
    for (uint64_t s = e->mo.first_log + 1; s <= run_log_total(e->log); s++) {
        const struct run_event *t = engine_trap_get(e, s);
        if (t && t->arose == L && t->handler == L && t->how != RUN_ABSORBED) return t;
    }
    return NULL;
}

struct engine_result engine_go(struct engine *e, uint64_t slice)
{
    struct engine_result r = {ENGINE_DONE, 0, e->mo.first_log + 1, 0, 0};
    const uint64_t t0 = engine_time(e);
    if (!e->mo.active) {
        r.outcome = ENGINE_FAILED;
        return r;
    }
    if (engine_exited(e, NULL, NULL)) {
        r.outcome = ENGINE_EXITED;
        e->mo.active = false;
        r.last_trap = run_log_total(e->log);
        return r;
    }
    const uint64_t room = slice ? slice : UINT64_MAX;
    e->until_trap = e->mo.kind == ENGINE_UNTIL_TRAP;
    bool finished = false;
    run_live(e, room);
    if ((e->mo.kind == ENGINE_STEP || e->mo.kind == ENGINE_NEXT) && e->stop == STOP_MOTION) {
        finished = true;
        const struct run_event *t =
            e->mo.kind == ENGINE_NEXT && e->mo.phase == 0 && e->mo.has_ctx ? trap_into(e, e->mo.level) : NULL;
        if (t) {
            /* next, phase 1: run the handler through, breakpoints honoured. */
            e->mo.phase = 1;
            e->mo.ret_pc = t->pc;
            finished = came_back(e);
            uint64_t used = engine_time(e) - t0;
            if (!finished && e->stop == STOP_INTERRUPTED) {
                /* Ctrl-C in the handler: stop there (reported below). */
            } else if (!finished && (!slice || used < slice)) {
                run_live(e, slice ? slice - used : UINT64_MAX);
                finished = e->stop == STOP_MOTION;
            } else if (!finished) {
                e->stop = STOP_NONE; /* the slice is spent: go on later */
            }
        }
    }
    e->until_trap = false;
    look_at_pages(e, true);

    r.units = engine_time(e) - t0;
    r.last_trap = run_log_total(e->log);
    struct engine_break *b = e->stop == STOP_BREAK ? break_by_id(e, e->stop_break) : NULL;
    if (finished) {
        r.outcome = ENGINE_DONE;
    } else if (b) {
        b->hits++;
        r.outcome = ENGINE_BREAK;
        r.breakpoint = b->id;
    } else if (e->stop == STOP_TRAP) {
        r.outcome = ENGINE_TRAPPED;
    } else if (engine_exited(e, NULL, NULL)) {
        r.outcome = ENGINE_EXITED;
    } else if (e->stop == STOP_BUDGET) {
        r.outcome = ENGINE_BUDGET;
    } else if (e->stop == STOP_STALLED) {
        r.outcome = ENGINE_STALLED;
    } else if (e->stop == STOP_INTERRUPTED) {
        r.outcome = ENGINE_INTERRUPTED;
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
    if (L >= e->nlevels) {
        snprintf(err, errsize, "there is no level %u", L);
        return false;
    }
    if (!run_set_reg(e->run, 0, L, r, value, err, errsize)) return false;
    struct jitem it = {.kind = J_SET, .level = L, .reg = r, .value = value};
    if (!journal_push(e, it)) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    return true;
}

bool engine_feed_input(struct engine *e, const uint8_t *bytes, size_t n, char *err, size_t errsize)
{
    if (n == 0) return true;
    /* What the cut journal forgot is not needed any more. */
    size_t keep = 0;
    for (size_t i = 0; i < e->jn; i++)
        if (e->journal[i].kind == J_INPUT) keep = e->journal[i].at + e->journal[i].len;
    e->typed_len = keep;
    if (e->typed_len + n > ENGINE_TYPED_MAX) {
        snprintf(err, errsize, "the session's typed input is limited to %u bytes", ENGINE_TYPED_MAX);
        return false;
    }
    if (e->typed_len + n > e->typed_cap) {
        size_t cap = e->typed_cap ? e->typed_cap : 256;
        while (cap < e->typed_len + n) cap *= 2;
        uint8_t *t = realloc(e->typed, cap);
        if (!t) {
            snprintf(err, errsize, "out of memory");
            return false;
        }
        e->typed = t;
        e->typed_cap = cap;
    }
    memcpy(e->typed + e->typed_len, bytes, n);
    struct jitem it = {.kind = J_INPUT, .at = e->typed_len, .len = n};
    if (!journal_push(e, it)) {
        snprintf(err, errsize, "out of memory");
        return false;
    }
    e->typed_len += n;
    run_feed_input(e->run, 0, bytes, n);
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
    e->spec = cfg->spec;
    e->variant = *cfg->variant;
    e->mem = cfg->mem;
    e->max_steps = cfg->max_steps;
    e->snap_every = FIRST_SNAP_EVERY;
    e->pending = ENGINE_NO_LEVEL;
    const char *slash = strrchr(cfg->program, '/');
    snprintf(e->progname, sizeof e->progname, "%s", slash ? slash + 1 : cfg->program);
    e->log = run_log_create(ENGINE_LOG_KEEP);
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
    struct asm_options ao = {cfg->include_dirs, cfg->ninclude_dirs, false};
    int nerr = 0;
    if (cfg->image) {
        e->img = *cfg->image; /* read only, as the session reads its own */
        e->img_borrowed = true;
    } else {
        nerr = cfg->embedded ? asm_assemble_embedded(cfg->program, &e->img, errors)
                             : asm_load_program_opts(cfg->program, &ao, &e->img, errors);
    }
    if (nerr != 0) {
        engine_close(e);
        return NULL;
    }
    char err[RUN_ERROR_SIZE];
    const struct asm_image *programs[1] = {&e->img};
    struct run_config rc = {e->spec, &e->variant, e->mem, 1, cfg->asm_vmm_path, cfg->asm_vmm};
    e->run = run_create(&rc, programs, err);
    if (!e->run) {
        fprintf(errors, "%s: error: %s\n", cfg->program, err);
        engine_close(e);
        return NULL;
    }
    for (unsigned k = 0; k < cfg->ndisks; k++)
        if (!run_attach_disk(e->run, k, cfg->disks[k].words, cfg->disks[k].sectors, err)) {
            fprintf(errors, "trapeze: disk unit %u: %s\n", k, err);
            engine_close(e);
            return NULL;
        }
    e->disk_sink = cfg->disk_sink;
    e->disk_sink_ctx = cfg->disk_sink_ctx;
    if (e->input_len) run_feed_input(e->run, 0, e->input, e->input_len);
    e->nlevels = run_level_count(e->run);
    e->prog_level = run_program_level(e->run);
    attach(e);
    /* The start of the history, and room for the snapshots to come. */
    size_t per = machine_memsize(run_real_machine(e->run)) * sizeof(uint32_t);
    e->max_snaps = per ? (unsigned)(SNAP_BYTES_BUDGET / per) : MAX_SNAPS;
    if (e->max_snaps > MAX_SNAPS) e->max_snaps = MAX_SNAPS;
    if (e->max_snaps < 1) e->max_snaps = 1;
    if (!snap_take(e, &e->snaps[0])) {
        fprintf(errors, "trapeze: out of memory\n");
        engine_close(e);
        return NULL;
    }
    e->snaps[0].pos = (struct jpos){0, 0};
    e->nsnaps = 1;
    look_at_pages(e, false);
    return e;
}

void engine_close(struct engine *e)
{
    if (!e) return;
    for (unsigned i = 0; i < e->nsnaps; i++) snap_free(&e->snaps[i]);
    for (unsigned L = 0; L < ENGINE_MAX_LEVELS; L++) run_pages_seen_free(&e->seen[L]);
    srccache_free(&e->src);
    srccache_free(&e->vsrc);
    run_destroy(e->run);
    if (!e->img_borrowed) asm_image_free(&e->img);
    run_log_destroy(e->log);
    free(e->journal);
    free(e->typed);
    free(e->input);
    free(e);
}
