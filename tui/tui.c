/*
 * tui.c: `trapeze tui`, the full-screen front end (ncurses).
 *
 * A view over the engine: it draws panes from engine queries and turns
 * keys into command lines of the one command table (commands.h), so that
 * every key does what a debugger command does.  While a motion runs it goes
 * in slices of TUI_SLICE units, polling the keyboard between them and
 * redrawing every REDRAW_NS of wall time (a redraw costs more than a
 * slice: drawing after each one ran the program at a tenth of its speed);
 * any key stops it.
 *
 *   +- level stack -------------------------------------------------------+
 *   | registers & PSW (virtual | real)  | code around pc (labels, source) |
 *   |------------------------------------+---------------------------------|
 *   | trap log                           | f-map / page table              |
 *   |                                    | memory                          |
 *   |                                    |   (p: page tables, info shadow) |
 *   | console (the program's output)                                       |
 *   | status line                                                          |
 *   | help bar                                                             |
 *   +----------------------------------------------------------------------+
 *
 * It works at 80x24 and gives the extra room of a bigger terminal to the
 * code, the trap log and the console.  Emphasis is A_BOLD/A_REVERSE, so it
 * reads without colour; colour only tints the trap log.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "../vmm/run/run.h"
#include "../vmm/vmm.h"

#define TUI_SLICE 20000u
#define REDRAW_NS 40000000ll /* 25 frames a second while a motion runs */
#define MIN_ROWS 24
#define MIN_COLS 80
#define CMD_MAX 200

/* The keys: each is a command line, or an action of the view itself
 * (moving the code cursor, prompting). */
enum key_action { ACT_CMD, ACT_TOGGLE, ACT_GOTO, ACT_PROMPT, ACT_HELP, ACT_PAGES, ACT_FILTER, ACT_TYPE };
struct key_binding {
    int key;
    enum key_action action;
    const char *command; /* ACT_CMD */
    const char *bar;     /* its name on the help bar, or NULL */
    const char *help;
};

static const struct key_binding keys[] = {
    {'s', ACT_CMD, "step", "step", "one instruction of the selected level"},
    {'n', ACT_CMD, "next", "next", "step, running a trap into its handler through"},
    {'t', ACT_CMD, "until-trap", "trap", "run to the next trap"},
    {'c', ACT_CMD, "continue", "cont", "run to a breakpoint or the end (any key stops)"},
    {'r', ACT_CMD, "reverse-step", "back", "go back one instruction"},
    {'R', ACT_CMD, "reverse-continue", NULL, "go back to the last breakpoint"},
    {'b', ACT_TOGGLE, NULL, "break", "toggle a breakpoint at the code cursor"},
    {'<', ACT_CMD, "level -", "<>level", "select the level below"},
    {'>', ACT_CMD, "level +", NULL, "select the level above"},
    {'g', ACT_GOTO, NULL, "goto", "show memory at an address (memory pane)"},
    {':', ACT_PROMPT, NULL, ":cmd", "type a debugger command"},
    {'?', ACT_HELP, NULL, "help", "this help"},
    {'q', ACT_CMD, "quit", "quit", "leave"},
    /* Last: the help bar drops what does not fit (at 80 columns, these two). */
    {'p', ACT_PAGES, NULL, "pages", "page tables (info shadow) in place of the f-map and memory, or back"},
    {'N', ACT_CMD, "reverse-next", "rnext", "back one step, over a trap into its own handler (next backwards)"},
    {'i', ACT_TYPE, NULL, NULL, "typing mode: keys go to the program's console (input), Esc: back to keys"},
    {'f', ACT_FILTER, NULL, NULL, "filter the trap log: causes, levels, mnemonics; -WORD leaves out (-out)"},
    {'D', ACT_CMD, "trace save trapeze-trace.svg", NULL,
     "draw the last 60 traps to trapeze-trace.svg (graphviz; :trace save FILE KIND for others)"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

struct rect {
    int y, x, h, w;
};

struct layout {
    struct rect bar, regs, code, log, fmap, mem, legend, console, status, help;
};

struct tui {
    struct cmd_ctx c;
    char *outbuf; /* what the last command wrote (open_memstream) */
    size_t outlen;
    FILE *out;
    bool cursor_set;  /* the code cursor was moved off the pc */
    uint32_t cursor;  /* L-virtual address of the code cursor */
    unsigned cursor_level;
    bool colour;
    bool pages;       /* the page-table pane replaces the f-map and memory */
    const char *title;
    volatile sig_atomic_t *interrupted; /* Ctrl-C: main's flag */
    bool typing;                        /* keys go to the program's console (`input`) */
    struct trap_filter filter;          /* the trap log shows only what it keeps */
    char filter_text[64];
};

/* ---- Drawing helpers ---------------------------------------------------------------- */

/* Writes text at row r of rect, clipped to its width and padded with
 * spaces when pad is set. */
static void put(const struct rect *rc, int r, int col, attr_t attr, bool pad, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void put(const struct rect *rc, int r, int col, attr_t attr, bool pad, const char *fmt, ...)
{
    if (r < 0 || r >= rc->h || col >= rc->w) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int room = rc->w - col;
    attron(attr);
    mvaddnstr(rc->y + r, rc->x + col, buf, room);
    int n = (int)strlen(buf);
    if (pad)
        for (int i = n; i < room; i++) mvaddch(rc->y + r, rc->x + col + i, ' ');
    attroff(attr);
}

static void title(const struct rect *rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void title(const struct rect *rc, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put(rc, 0, 0, A_REVERSE, true, " %s", buf);
}

static void compute_layout(struct layout *l, int rows, int cols)
{
    if (rows < MIN_ROWS) rows = MIN_ROWS;
    if (cols < MIN_COLS) cols = MIN_COLS;
    int avail = rows - 3; /* between the level bar and the status and help lines */
    int extra = avail - 21;
    int top = 12 + extra * 2 / 5, console = 2 + extra / 5;
    int bottom = avail - top - console - 1; /* the legend's row */
    int left_top = 40 + (cols - MIN_COLS) * 2 / 5;
    int left_bottom = 46 + (cols - MIN_COLS) / 2;
    l->bar = (struct rect){0, 0, 1, cols};
    l->regs = (struct rect){1, 0, top, left_top};
    l->code = (struct rect){1, left_top, top, cols - left_top};
    l->log = (struct rect){1 + top, 0, bottom, left_bottom};
    int fh = bottom / 2;
    l->fmap = (struct rect){1 + top, left_bottom, fh, cols - left_bottom};
    l->mem = (struct rect){1 + top + fh, left_bottom, bottom - fh, cols - left_bottom};
    l->legend = (struct rect){1 + top + bottom, 0, 1, cols};
    l->console = (struct rect){2 + top + bottom, 0, console, cols};
    l->status = (struct rect){rows - 2, 0, 1, cols};
    l->help = (struct rect){rows - 1, 0, 1, cols};
}

/* ---- Panes ------------------------------------------------------------------------------ */

/* The level stack, from the real machine's level on the left to the
 * program: the level shown in reverse video, the one that runs marked '>',
 * and a legend; short names when the long ones do not fit. */
static void draw_bar(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    const unsigned running = engine_running_level(e), n = engine_level_count(e);
    char right[96];
    snprintf(right, sizeof right, " step %" PRIu64 "  >runs  [shown] ", engine_guest_steps(e));
    char names[ENGINE_MAX_LEVELS][96];
    for (int pass = 0; pass < 2; pass++) {
        int width = 1 + (int)strlen(right);
        for (unsigned L = 0; L < n; L++) {
            struct run_level_view v;
            engine_level(e, L, &v);
            if (pass == 0) commands_level_name(e, L, names[L], sizeof names[L]);
            else if (L == engine_program_level(e)) commands_level_name(e, L, names[L], sizeof names[L]);
            else snprintf(names[L], sizeof names[L], "L%u %s", L, v.kind);
            width += (int)strlen(names[L]) + 4;
        }
        if (width <= rc->w) break;
    }
    put(rc, 0, 0, A_BOLD, true, " ");
    int col = 1;
    for (unsigned L = 0; L < n; L++) {
        struct run_level_view v;
        engine_level(e, L, &v);
        const bool runs = L == running && v.state == RUN_LEVEL_RUNNING;
        const bool shown = L == t->c.level;
        attr_t a = shown ? A_REVERSE | A_BOLD : A_BOLD;
        put(rc, 0, col, a, false, "%s%s%s%s", runs ? ">" : " ", shown ? "[" : "", names[L], shown ? "]" : "");
        col += (int)strlen(names[L]) + 1 + (shown ? 2 : 0);
        if (L + 1 < n) {
            put(rc, 0, col, A_NORMAL, false, " | ");
            col += 3;
        }
    }
    int rcol = rc->w - (int)strlen(right);
    if (rcol > col) put(rc, 0, rcol, A_BOLD, false, "%s", right);
}

static void draw_regs(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    unsigned L = t->c.level;
    struct run_level_view v;
    engine_level(e, L, &v);
    char name[96], state[200];
    commands_level_name(e, L, name, sizeof name);
    commands_format_state(e, L, state, sizeof state);
    title(rc, "Registers & PSW  %s", name);
    if (v.state == RUN_LEVEL_WAITING && !v.host_code) /* whose registers these are */
        title(rc, "Registers & PSW  %s (L%u's regs)", name, v.running);
    int r = 1;
    if (v.host_code) {
        struct run_level_counts k;
        engine_level_counts(e, L, &k);
        put(rc, r++, 1, A_BOLD, false, "host code: no registers of its own");
        put(rc, r++, 1, A_NORMAL, false, "%s; its guest is L%u", state, L + 1);
        put(rc, r++, 1, A_NORMAL, false, "direct      %" PRIu64, k.direct);
        put(rc, r++, 1, A_NORMAL, false, "emulated    %" PRIu64 " (interp. %" PRIu64 ")", k.emulated,
            k.interpreted);
        put(rc, r++, 1, A_NORMAL, false, "reflected   %" PRIu64, k.reflected);
        put(rc, r++, 1, A_NORMAL, false, "entries     %" PRIu64, k.entries);
        put(rc, r++, 1, A_NORMAL, false, "efficiency  %.1f%%", 100.0 * k.efficiency);
        put(rc, r + 1, 1, A_NORMAL, false, "< > selects the levels it");
        put(rc, r + 2, 1, A_NORMAL, false, "runs on and runs");
        return;
    }
    /* What kind of truth this is, before the numbers. */
    char line[64];
    switch (v.state) {
    case RUN_LEVEL_RUNNING:
        snprintf(line, sizeof line, "running%s, step %" PRIu64,
                 v.place == VMM_PLACE_INTERPRETED   ? " (interpreted)"
                 : v.place == VMM_PLACE_TRANSLATED ? " (translated)"
                                                   : "",
                 v.steps);
        break;
    case RUN_LEVEL_WAITING: snprintf(line, sizeof line, "waiting: L%u runs; step %" PRIu64, v.running, v.steps); break;
    case RUN_LEVEL_SUSPENDED:
        if (v.interpreted) snprintf(line, sizeof line, "interpreted by L%u, step %" PRIu64, v.running, v.as_of);
        else snprintf(line, sizeof line, "suspended: L%u at work; as at step %" PRIu64, v.running, v.as_of);
        break;
    case RUN_LEVEL_NOT_STARTED: snprintf(line, sizeof line, "not started: L%u starts it", v.running); break;
    case RUN_LEVEL_STOPPED: snprintf(line, sizeof line, "stopped: %s, step %" PRIu64, machine_stop_name(v.stop), v.steps); break;
    }
    put(rc, r++, 1, v.state == RUN_LEVEL_RUNNING ? A_NORMAL : A_BOLD, false, "%s", line);
    char f1[32], f2[32];
    commands_format_flags(v.psw.flags, f1, sizeof f1);
    if (v.has_real) {
        commands_format_flags(v.real.flags, f2, sizeof f2);
        put(rc, r++, 1, A_BOLD, false, "%-6s %-14s %s", "", "virtual",
            v.place == VMM_PLACE_INTERPRETED   ? "interp."
            : v.place == VMM_PLACE_TRANSLATED ? "transl."
                                              : "real");
        put(rc, r++, 1, A_NORMAL, false, "%-6s %-14s %s", "flags", f1, f2);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %06" PRIx32 "         %06" PRIx32, "pc", v.psw.pc, v.real.pc);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %06" PRIx32 "/%06" PRIx32 "  %06" PRIx32 "/%06" PRIx32, "base/b",
            v.psw.base, v.psw.bound, v.real.base, v.real.bound);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %-14" PRIu32 " %" PRIu32, "timer", v.psw.timer, v.real.timer);
    } else {
        put(rc, r++, 1, A_BOLD, false, "%-6s %s", "", v.state == RUN_LEVEL_WAITING ? "PSW it loaded" : "PSW");
        put(rc, r++, 1, A_NORMAL, false, "%-6s %s", "flags", f1);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %06" PRIx32, "pc", v.psw.pc);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %06" PRIx32 "/%06" PRIx32, "base/b", v.psw.base, v.psw.bound);
        put(rc, r++, 1, A_NORMAL, false, "%-6s %" PRIu32, "timer", v.psw.timer);
    }
    static const char *const names[ISA_NREGS] = {"r0", "r1", "r2",  "r3",  "r4",  "r5", "r6", "r7",
                                                "r8", "r9", "r10", "r11", "r12", "r13", "sp", "lr"};
    int per = (rc->w - 1) / 13;
    if (per < 1) per = 1;
    for (unsigned i = 1; i < ISA_NREGS; i++) {
        int row = r + (int)(i - 1) / per, col = 1 + (int)((i - 1) % per) * 13;
        put(rc, row, col, A_NORMAL, false, "%-3s %08" PRIx32, names[i], v.regs[i]);
    }
}

/* The code pane's marker at a level's pc: where it runs, will resume, will
 * start, or stopped. */
static const char *pc_marker(enum run_level_state s)
{
    switch (s) {
    case RUN_LEVEL_RUNNING: return "=>";
    case RUN_LEVEL_SUSPENDED: return "->";
    case RUN_LEVEL_NOT_STARTED: return "..";
    case RUN_LEVEL_STOPPED: return "##";
    case RUN_LEVEL_WAITING: break;
    }
    return "=>";
}

static void draw_code(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    unsigned L = engine_code_level(e, t->c.level);
    struct run_level_view v;
    engine_level(e, L, &v);
    /* A waiting monitor's machine runs the level above: show that code. */
    if (v.state == RUN_LEVEL_WAITING) {
        L = v.running;
        engine_level(e, L, &v);
    }
    uint32_t pc = 0, pa;
    bool has_pc = engine_pc(e, L, &pc);
    if (!t->cursor_set || t->cursor_level != L) {
        t->cursor = pc;
        t->cursor_level = L;
    }
    char where[64] = "";
    const char *text = NULL;
    if (has_pc && engine_translate(e, L, pc, &pa, NULL))
        engine_source_line(e, L, pa, where, sizeof where, &text);
    const char *mark = pc_marker(v.state);
    static const char *const legend[] = {
        [RUN_LEVEL_RUNNING] = "=> runs next", [RUN_LEVEL_WAITING] = "=> runs next",
        [RUN_LEVEL_SUSPENDED] = "-> resumes here", [RUN_LEVEL_NOT_STARTED] = ".. starts here",
        [RUN_LEVEL_STOPPED] = "## stopped here"};
    title(rc, "Code L%u  %s  %s", L, legend[v.state], where);
    int lines = rc->h - 1;
    /* Source text of the pc's line under the code when there is room. */
    bool show_src = text && rc->w >= 50;
    if (show_src) lines--;
    uint32_t focus = t->cursor_set ? t->cursor : pc;
    uint32_t start = focus >= (uint32_t)(lines / 3) ? focus - (uint32_t)(lines / 3) : 0;
    int label_w = rc->w >= 60 ? 16 : 9;
    for (int i = 0; i < lines; i++) {
        uint32_t va = start + (uint32_t)i;
        char insn[96];
        bool ok = engine_disassemble(e, L, va, NULL, insn, sizeof insn);
        const char *label = NULL;
        bool bp = false;
        if (ok && engine_translate(e, L, va, &pa, NULL)) {
            label = engine_label_at(e, L, pa);
            bp = engine_break_find(e, L, pa) != 0;
        }
        attr_t a = A_NORMAL;
        if (has_pc && va == pc) a |= A_BOLD;
        if (t->cursor_set && va == t->cursor) a |= A_REVERSE;
        char src[64] = "";
        if (ok && rc->w >= 90) {
            const char *tx = NULL;
            engine_source_line(e, L, pa, src, sizeof src, &tx);
        }
        put(rc, 1 + i, 0, a, true, "%c%s%06" PRIx32 " %-*.*s %-24s %s", bp ? 'B' : ' ',
            has_pc && va == pc ? mark : "  ", va, label_w, label_w, label ? label : "", insn, src);
    }
    if (show_src) put(rc, rc->h - 1, 0, A_BOLD, true, " %s: %s", where, text);
}

static void draw_log(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    uint64_t total = engine_trap_total(e);
    if (t->filter.n) title(rc, "Trap log (%" PRIu64 ")  f: %s", total, t->filter_text);
    else title(rc, "Trap log (%" PRIu64 ")   arose at -> handled by, how", total);
    const int lines = rc->h - 1;
    /* The newest `lines` traps the filter keeps, oldest first. */
    uint64_t shown[64];
    int n = 0;
    for (uint64_t s = total; s >= 1 && n < lines && n < 64; s--) {
        const struct run_event *tr = engine_trap_get(e, s);
        if (!tr) break; /* older ones are not kept */
        if (commands_trap_kept(&t->filter, tr)) shown[n++] = s;
    }
    bool compact = rc->w < 100;
    for (int i = 0; i < n; i++) {
        const uint64_t s = shown[n - 1 - i];
        const struct run_event *tr = engine_trap_get(e, s);
        char buf[320];
        commands_format_trap(e, s, compact, buf, sizeof buf);
        attr_t a = s == total ? A_BOLD : A_NORMAL;
        if (tr->how == RUN_ABSORBED) a = A_DIM;
        if (t->colour)
            a |= COLOR_PAIR(tr->how == RUN_EMULATED ? 1 : tr->how == RUN_HARDWARE ? 3 : 2);
        put(rc, 1 + i, 0, a, true, "%s", buf);
    }
    if (total == 0) put(rc, 1, 1, A_NORMAL, false, "no traps yet: t runs to the next one");
    else if (n == 0) put(rc, 1, 1, A_NORMAL, false, "none the filter keeps: f changes it");
}

static void draw_fmap(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    unsigned L = engine_code_level(e, t->c.level);
    struct run_extent x[4];
    unsigned n = engine_fmap(e, L, false, x, 4);
    struct run_level_view v;
    engine_level(e, L, &v);
    bool paging = (v.psw.flags & PSW_PG) != 0;
    title(rc, "F-map L%u%s", L, paging ? " / paging" : "");
    if (n) put(rc, 0, 9 + (paging ? 9 : 0), A_REVERSE, false, " (kept by L%u)  p: pages", L - 1);
    int r = 1;
    if (n == 0 && rc->w > 40) put(rc, r++, 1, A_NORMAL, false, "L%u runs on the real machine: no f-map", L);
    else if (n == 0) put(rc, r++, 1, A_NORMAL, false, "on the real machine: no f-map");
    for (unsigned i = 0; i < n; i++) {
        if (L - 1 == 0)
            put(rc, r++, 1, A_NORMAL, false, "%06" PRIx32 "+%" PRIx32 " -> real %06" PRIx32, x[i].from,
                x[i].words, x[i].to);
        else
            put(rc, r++, 1, A_NORMAL, false, "%06" PRIx32 "+%" PRIx32 " -> L%u %06" PRIx32, x[i].from,
                x[i].words, L - 1, x[i].to);
    }
    if (n && L - 1 != 0) { /* onto real memory: the map is already the composed one */
        n = engine_fmap(e, L, true, x, 4);
        for (unsigned i = 0; i < n && r < rc->h; i++)
            put(rc, r++, 1, A_NORMAL, false, "composed: -> real %06" PRIx32, x[i].to);
    }
    if (v.host_code || r >= rc->h) return;
    uint32_t pa;
    if (paging) {
        uint32_t vpn = v.psw.pc >> ISA_PAGE_SHIFT, pte = 0;
        engine_read_phys(e, L, v.psw.base + vpn, &pte);
        char line[96];
        snprintf(line, sizeof line, "PT @%06" PRIx32 " n=%" PRIu32 " vpn %" PRIx32 " pte %08" PRIx32, v.psw.base,
                 v.psw.bound, vpn, pte);
        if ((int)strlen(line) >= rc->w) /* narrow: the same numbers, unpadded */
            snprintf(line, sizeof line, "PT %" PRIx32 "/%" PRIx32 " vpn %" PRIx32 " pte %" PRIx32, v.psw.base,
                     v.psw.bound, vpn, pte);
        put(rc, r++, 1, A_NORMAL, false, "%s", line);
    }
    if (r < rc->h && engine_translate(e, L, v.psw.pc, &pa, NULL)) {
        uint32_t real = pa;
        engine_to_real(e, L, pa, &real);
        char line[96];
        snprintf(line, sizeof line, "pc %06" PRIx32 " -> L%u %06" PRIx32 " -> real %06" PRIx32, v.psw.pc, L, pa,
                 real);
        if ((int)strlen(line) >= rc->w) /* narrow: never a cut number */
            snprintf(line, sizeof line, "pc %" PRIx32 " -> L%u %" PRIx32 " -> real %" PRIx32, v.psw.pc, L, pa, real);
        put(rc, r++, 1, A_NORMAL, false, "%s", line);
    }
}

/* The level whose pages the pane shows: the selected one when it pages,
 * else the program's (as info shadow). */
static unsigned pages_level(const struct tui *t)
{
    struct engine *e = t->c.e;
    const unsigned L = engine_code_level(e, t->c.level);
    struct run_page_table one;
    return engine_page_tables(e, L, &one, 1) ? L : engine_program_level(e);
}

/* One entry in a column of w characters: the cell info shadow shows, or,
 * when that does not fit, the frame in as few digits as it takes (never
 * a cut number). */
static void pte_cell(const struct engine *e, const struct run_page_table *t, uint32_t vpn, int w,
                     char *buf, size_t size)
{
    commands_format_pte(e, t, vpn, true, buf, size, NULL);
    if ((int)strlen(buf) <= w) return;
    uint32_t pte = 0;
    const bool present = engine_page_entry(e, t, vpn, &pte);
    struct run_pte_meaning m;
    engine_pte_decode(e, t, present, pte, &m);
    if (!present) snprintf(buf, size, "none");
    else if (!m.valid || m.mark == RUN_PTE_PAST_MEMORY) snprintf(buf, size, "%s", m.valid ? "past" : "--");
    else snprintf(buf, size, "V%c%" PRIx32, m.writable ? 'W' : '-', m.frame);
    if ((int)strlen(buf) > w) snprintf(buf, size, "%s", m.valid ? "V" : "-");
}

/* The tables of a paging level side by side, one row per page in use:
 * the last-changed entry in reverse video, the column the hardware walks
 * marked '>', and the newest change and its reason on the last line. */
static void draw_pages(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    const unsigned L = pages_level(t);
    struct run_page_table tb[RUN_MAX_PAGE_TABLES];
    const unsigned n = engine_page_tables(e, L, tb, RUN_MAX_PAGE_TABLES);
    title(rc, "Pages L%u: own..real  p: f-map", L);
    if (n == 0) {
        struct run_level_view v;
        engine_level(e, L, &v);
        put(rc, 1, 1, A_NORMAL, false, "L%u does not page:", L);
        put(rc, 2, 1, A_NORMAL, false, "base %06" PRIx32 " bound %06" PRIx32, v.psw.base, v.psw.bound);
        return;
    }
    const int vpn_w = 4, col = (rc->w - vpn_w) / (int)n;
    if (col < 2) {
        put(rc, 1, 1, A_NORMAL, false, "%u tables: too many for this width", n);
        return;
    }
    put(rc, 1, 0, A_BOLD, true, "vpn");
    int newest = -1;
    for (unsigned k = 0; k < n; k++) {
        char h[24];
        const char *walk = tb[k].walker != RUN_WALK_NONE ? ">" : "";
        snprintf(h, sizeof h, "%sL%u %s", walk, tb[k].keeper, tb[k].kind == RUN_TABLE_OWN ? "own" : "shadow");
        if ((int)strlen(h) > col - 1)
            snprintf(h, sizeof h, "%sL%u %s", walk, tb[k].keeper, tb[k].kind == RUN_TABLE_OWN ? "own" : "shd");
        put(rc, 1, vpn_w + (int)k * col, A_BOLD, false, "%.*s", col - 1, h);
        if (tb[k].change.known && (newest < 0 || tb[k].change.time >= tb[newest].change.time))
            newest = (int)k;
    }
    const int rows = rc->h - 3; /* title, heading, the change */
    uint32_t vpns[64];
    unsigned total;
    const unsigned got = commands_pages_in_use(e, tb, n, vpns, rows > 0 && rows < 64 ? (unsigned)rows : 64, &total);
    for (unsigned i = 0; i < got; i++) {
        const int r = 2 + (int)i;
        put(rc, r, 0, A_NORMAL, true, "%3" PRIx32, vpns[i]);
        for (unsigned k = 0; k < n; k++) {
            char cell[48];
            pte_cell(e, &tb[k], vpns[i], col - 1, cell, sizeof cell);
            const bool changed = tb[k].change.known && tb[k].change.vpn == vpns[i];
            if (changed) put(rc, r, vpn_w + (int)k * col - 1, A_BOLD, false, "*");
            put(rc, r, vpn_w + (int)k * col, changed ? A_REVERSE : A_NORMAL, false, "%s", cell);
        }
    }
    if (got == 0) put(rc, 2, 1, A_NORMAL, false, "no page valid in any table");
    char why[160] = "no change seen yet";
    if (newest >= 0) {
        char ch[128];
        commands_format_change(&tb[newest], ch, sizeof ch);
        snprintf(why, sizeof why, "L%u %s: %s", tb[newest].keeper,
                 tb[newest].kind == RUN_TABLE_OWN ? "own" : "shadow", ch);
    }
    if (total > got) put(rc, rc->h - 1, 0, A_NORMAL, true, "+%u pages; *%s", total - got, why);
    else put(rc, rc->h - 1, 0, newest >= 0 ? A_BOLD : A_NORMAL, true, "%s%s", newest >= 0 ? "*" : "", why);
}

static void draw_mem(struct tui *t, const struct rect *rc)
{
    struct engine *e = t->c.e;
    unsigned L = t->c.mem_level < engine_level_count(e) ? t->c.mem_level : t->c.level;
    uint32_t a = t->c.mem_addr;
    const char *label = engine_label_at(e, L, a);
    title(rc, "Memory L%u @%06" PRIx32 "%s%s%s", L, a, label ? " <" : "", label ? label : "",
          label ? ">" : "");
    int per = (rc->w - 8) / 9;
    if (per < 1) per = 1;
    for (int r = 1; r < rc->h; r++) {
        char line[256];
        int n = snprintf(line, sizeof line, "%06" PRIx32 ":", a);
        for (int i = 0; i < per && n < (int)sizeof line - 10; i++, a++) {
            uint32_t w;
            if (engine_read_phys(e, L, a, &w)) n += snprintf(line + n, sizeof line - (size_t)n, " %08" PRIx32, w);
            else n += snprintf(line + n, sizeof line - (size_t)n, " --------");
        }
        put(rc, r, 1, A_NORMAL, false, "%s", line);
    }
}

static void draw_console(struct tui *t, const struct rect *rc)
{
    size_t len;
    const uint8_t *out = engine_output(t->c.e, &len);
    title(rc, "Console: the program's output (%zu bytes)", len);
    int lines = rc->h - 1;
    /* Find the start of the last `lines` lines (a partial last line counts). */
    size_t pos = len;
    int seen = 0;
    if (pos && out[pos - 1] == '\n') pos--;
    while (pos > 0) {
        if (out[pos - 1] == '\n' && ++seen == lines) break;
        pos--;
    }
    int r = 1;
    while (pos < len && r <= lines) {
        size_t end = pos;
        while (end < len && out[end] != '\n') end++;
        char line[512];
        size_t n = end - pos < sizeof line - 1 ? end - pos : sizeof line - 1;
        for (size_t i = 0; i < n; i++) line[i] = (out[pos + i] >= 32 && out[pos + i] < 127) ? (char)out[pos + i] : '.';
        line[n] = '\0';
        put(rc, r++, 1, A_NORMAL, false, "%s", line);
        pos = end + 1;
    }
}

/* What the trap log's words and the levels' modes mean (ISA.md calls the
 * mode bit M): the long form where it fits. */
static const char *const legend_texts[] = {
    "LnS/LnU: Ln in M=1 (S) or M=0 (U); emulated: by the monitor; reflected, delivered: to Ln's handler",
    "LnS/U: M=1/M=0 | emulated: by the monitor | reflected, delivered: to its handler",
};

static void draw_legend(const struct rect *rc)
{
    size_t n = sizeof legend_texts / sizeof legend_texts[0], i = 0;
    while (i + 1 < n && (int)strlen(legend_texts[i]) > rc->w) i++;
    put(rc, 0, 0, A_DIM, true, "%s", legend_texts[i]);
}

/* The status line, wrapped at spaces onto the rows above it (taken from
 * the console, whose title stays) when it is longer than the screen. */
static void draw_status(struct layout *l, attr_t attr, const char *text)
{
    const int w = l->status.w, room = l->console.h; /* the console keeps its title row */
    int rows = 1;
    for (int len = (int)strlen(text); len > rows * w && rows < room;) rows++;
    if (rows > 1) {
        l->console.h -= rows - 1;
        l->status.y -= rows - 1;
    }
    const char *p = text;
    for (int r = 0; r < rows; r++) {
        int n = (int)strlen(p);
        if (n > w && r + 1 < rows) {
            n = w;
            while (n > w / 2 && p[n] != ' ') n--; /* a word is not cut where a space will do */
            if (p[n] != ' ') n = w;
        }
        put(&(struct rect){l->status.y + r, 0, 1, w}, 0, 0, attr, true, "%.*s", n, p);
        p += n;
        while (*p == ' ') p++;
    }
}

static void draw_help_bar(const struct rect *rc)
{
    int col = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if (!keys[i].bar) continue;
        char k[4] = {(char)keys[i].key, 0};
        if (keys[i].key == '<') snprintf(k, sizeof k, "<>");
        const char *name = keys[i].key == '<' ? "level" : keys[i].bar;
        if (col + (int)(strlen(k) + strlen(name)) + 1 > rc->w) continue; /* the help page has it */
        put(rc, 0, col, A_REVERSE, false, "%s", k);
        col += (int)strlen(k);
        put(rc, 0, col, A_NORMAL, false, " %s ", name);
        col += (int)strlen(name) + 2;
    }
}

static void draw(struct tui *t)
{
    struct layout l;
    erase();
    if (LINES < MIN_ROWS || COLS < MIN_COLS) {
        mvprintw(0, 0, "trapeze tui needs %dx%d;", MIN_COLS, MIN_ROWS);
        mvprintw(1, 0, "this terminal is %dx%d.", COLS, LINES);
        mvprintw(2, 0, "Make it bigger, or q quits.");
        refresh();
        return;
    }
    compute_layout(&l, LINES, COLS);
    draw_bar(t, &l.bar);
    draw_regs(t, &l.regs);
    draw_code(t, &l.code);
    draw_log(t, &l.log);
    if (t->pages) {
        struct rect both = {l.fmap.y, l.fmap.x, l.fmap.h + l.mem.h, l.fmap.w};
        draw_pages(t, &both);
    } else {
        draw_fmap(t, &l.fmap);
        draw_mem(t, &l.mem);
    }
    const char *st = t->c.status;
    if (t->typing)
        draw_status(&l, A_BOLD, t->c.running ? "typing to the program while it runs; Esc: keys again, Ctrl-C stops"
                                             : "typing to the program (each key is `input`); Esc: keys again");
    else if (t->c.running) draw_status(&l, A_BOLD, "running... (any key or Ctrl-C stops)");
    else if (*st) draw_status(&l, A_BOLD, st);
    else draw_status(&l, A_NORMAL, t->title);
    draw_legend(&l.legend);
    draw_console(t, &l.console);
    draw_help_bar(&l.help);
    refresh();
}

/* ---- Commands --------------------------------------------------------------------------- */

/* Runs a command line with its output captured (shown by show_output). */
static void run_command(struct tui *t, const char *line)
{
    if (t->out) fclose(t->out);
    free(t->outbuf);
    t->outbuf = NULL;
    t->outlen = 0;
    t->out = open_memstream(&t->outbuf, &t->outlen);
    t->c.out = t->out ? t->out : stderr;
    t->c.status[0] = '\0';
    *t->interrupted = 0; /* a Ctrl-C before this command is not for it */
    commands_execute(&t->c, line);
    if (t->out) fflush(t->out);
    /* Nothing to say in particular: the last line the command wrote. */
    if (!t->c.status[0] && t->outbuf && t->outlen) {
        size_t end = t->outlen;
        while (end > 0 && t->outbuf[end - 1] == '\n') end--;
        size_t start = end;
        while (start > 0 && t->outbuf[start - 1] != '\n') start--;
        snprintf(t->c.status, sizeof t->c.status, "%.*s", (int)(end - start), t->outbuf + start);
    }
}

/* A full-screen page of text: arrows, space and PgUp/PgDn scroll; Esc, q
 * or ? closes it.  Any other key closes it too and is returned, so that it
 * does what it says rather than being swallowed (0 when none is to act). */
static int show_page(const char *heading, const char *text)
{
    size_t nlines = 0;
    for (const char *p = text; *p; p++) nlines += *p == '\n';
    int top = 0;
    for (;;) {
        erase();
        struct rect full = {0, 0, LINES, COLS};
        title(&full, "%s   (arrows/space scroll; Esc or q closes; other keys act)", heading);
        const char *p = text;
        for (int skip = 0; skip < top && *p; p++)
            if (*p == '\n') skip++;
        for (int r = 1; r < LINES && *p; r++) {
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            mvaddnstr(r, 0, p, n < COLS ? n : COLS);
            p = nl ? nl + 1 : p + n;
        }
        refresh();
        int ch = getch();
        if (ch == KEY_DOWN || ch == 'j') {
            if (top + LINES - 1 < (int)nlines) top++;
        } else if (ch == KEY_UP || ch == 'k') {
            if (top > 0) top--;
        } else if (ch == KEY_NPAGE || ch == ' ') {
            top += LINES - 2;
            if (top > (int)nlines - 1) top = nlines ? (int)nlines - 1 : 0;
        } else if (ch == KEY_PPAGE) {
            top = top > LINES - 2 ? top - (LINES - 2) : 0;
        } else if (ch == 27 || ch == 'q' || ch == '?' || ch == ERR) {
            return 0;
        } else if (ch != KEY_RESIZE) {
            return ch;
        }
    }
}

/* The help page; returns the key that closed it when that key should act. */
static int show_help(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return 0;
    fprintf(f, "keys (each is a command of the table below):\n");
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(f, "  %c   %-18s %s\n", keys[i].key, keys[i].command ? keys[i].command : "", keys[i].help);
    fprintf(f, "  up/down  move the code cursor (b toggles a breakpoint there); Esc: back to pc\n\n");
    commands_help(f, NULL);
    fclose(f);
    int key = show_page("trapeze tui: help", buf);
    free(buf);
    return key;
}

/* Reads a line at the status row; false when cancelled (Esc). */
static bool prompt(const char *label, char *buf, size_t size)
{
    struct layout l;
    size_t n = 0;
    buf[0] = '\0';
    curs_set(1);
    for (;;) {
        compute_layout(&l, LINES, COLS);
        put(&l.status, 0, 0, A_BOLD, true, "%s%s", label, buf);
        move(l.status.y, (int)(strlen(label) + n) < COLS ? (int)(strlen(label) + n) : COLS - 1);
        refresh();
        int ch = getch();
        if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) break;
        if (ch == 27) {
            curs_set(0);
            return false;
        }
        if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0) buf[--n] = '\0';
        else if (ch >= 32 && ch < 127 && n + 1 < size) {
            buf[n++] = (char)ch;
            buf[n] = '\0';
        }
    }
    curs_set(0);
    return true;
}

/* In typing mode: a key as the program's input (an `input` command line);
 * false for a key that is not typed (Esc leaves the mode). */
static bool type_key(struct tui *t, int ch)
{
    if (ch == 27) {
        t->typing = false;
        return true;
    }
    if (ch == KEY_ENTER || ch == '\r') ch = '\n';
    if (!(ch == '\n' || ch == '\t' || (ch >= 32 && ch < 127))) return false;
    char line[32];
    snprintf(line, sizeof line, "input -n \\x%02x", (unsigned)ch);
    bool running = t->c.running;
    run_command(t, line);
    t->c.running = running;
    return true;
}

/* Runs a motion to its end in slices, redrawing between them; a key stops
 * it, but in typing mode, where keys go to the program as it runs. */
static long long monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void run_live(struct tui *t)
{
    nodelay(stdscr, TRUE);
    long long drawn = 0; /* never: the first slice is drawn */
    while (t->c.running) {
        const long long now = monotonic_ns();
        if (now - drawn >= REDRAW_NS) {
            draw(t);
            drawn = now;
        }
        int ch = getch();
        if (t->typing && ch != ERR && !*t->interrupted && type_key(t, ch)) continue;
        if ((ch != ERR && ch != KEY_RESIZE) || *t->interrupted) {
            commands_interrupt(&t->c);
            break;
        }
        commands_resume(&t->c);
    }
    nodelay(stdscr, FALSE);
}

static void key_command(struct tui *t, const char *line)
{
    run_command(t, line);
    run_live(t);
    t->cursor_set = false;
}

static void handle_key(struct tui *t, int ch)
{
    if (t->typing && type_key(t, ch)) return;
    if (ch == KEY_UP || ch == KEY_DOWN) {
        if (!t->cursor_set) {
            uint32_t pc = 0;
            engine_pc(t->c.e, engine_code_level(t->c.e, t->c.level), &pc);
            t->cursor = pc;
            t->cursor_set = true;
        }
        if (ch == KEY_UP && t->cursor > 0) t->cursor--;
        if (ch == KEY_DOWN) t->cursor++;
        return;
    }
    if (ch == 27) {
        t->cursor_set = false;
        return;
    }
    const struct key_binding *k = NULL;
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].key == ch) k = &keys[i];
    if (!k) return;
    char line[CMD_MAX];
    switch (k->action) {
    case ACT_CMD: key_command(t, k->command); break;
    case ACT_TOGGLE: {
        unsigned L = engine_code_level(t->c.e, t->c.level);
        uint32_t va = t->cursor, pa;
        if (!t->cursor_set) engine_pc(t->c.e, L, &va);
        if (!engine_translate(t->c.e, L, va, &pa, NULL)) {
            snprintf(t->c.status, sizeof t->c.status, "error: 0x%06" PRIx32 " does not translate", va);
            return;
        }
        snprintf(line, sizeof line, "toggle 0x%" PRIx32, pa);
        bool keep = t->cursor_set;
        run_command(t, line);
        t->cursor_set = keep;
        break;
    }
    case ACT_GOTO: {
        char addr[64];
        if (prompt("memory at (address, label, pc): ", addr, sizeof addr) && *addr) {
            snprintf(line, sizeof line, "x/1 %s", addr);
            run_command(t, line);
        }
        break;
    }
    case ACT_PROMPT:
        if (prompt(":", line, sizeof line) && *line) {
            run_command(t, line);
            run_live(t);
            t->cursor_set = false;
            /* One line of output goes to the status line; more get a page. */
            const char *nl = t->outbuf ? strchr(t->outbuf, '\n') : NULL;
            if (nl && nl[1] && !t->c.quit) {
                int key = show_page(line, t->outbuf);
                if (key) handle_key(t, key);
            }
        }
        break;
    case ACT_HELP: {
        int key = show_help();
        if (key) handle_key(t, key);
        break;
    }
    case ACT_PAGES: t->pages = !t->pages; break;
    case ACT_TYPE: t->typing = true; break;
    case ACT_FILTER: {
        char text[sizeof t->filter_text], err[160];
        struct trap_filter f;
        if (!prompt("trap log filter (PRIV, L1, out, -out; empty: all): ", text, sizeof text)) break;
        if (!commands_parse_trap_filter(t->c.e, text, &f, err, sizeof err)) {
            snprintf(t->c.status, sizeof t->c.status, "error: %s", err);
            break;
        }
        t->filter = f;
        memcpy(t->filter_text, text, sizeof text);
        snprintf(t->c.status, sizeof t->c.status, "%s", f.n ? "the trap log is filtered (f: another filter)"
                                                              : "the trap log shows every trap");
        break;
    }
    }
}

/* ---- The demo and the command ------------------------------------------------------------ */

/* The built-in demo: toyos (built into trapeze) under the C VMM and the asm VMM. */
#define DEMO_PROGRAM "programs/toyos/toyos.s"

int cmd_tui(int argc, char **argv, cli_interrupt_flag *interrupted)
{
    struct session_args a;
    int rc = commands_parse_session(
        &a, argc, argv, false, true,
        "Shows a run full-screen: the level stack, registers and PSW (virtual and real),\n"
        "the code, the trap log, the f-maps and memory.  Keys: s step, n next, t to the\n"
        "next trap, c continue, r back, b breakpoint, < > level, g memory, p page\n"
        "tables, : command, ? help, q quit.  With no PROGRAM: the demo, toyos under the C VMM and the\n"
        "asm VMM (--stack c,asm).");
    if (rc) {
        commands_session_free(&a);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    const char *program = a.program;
    char err[RUN_ERROR_SIZE];
    if (!program && !a.run.stack_given && !a.run.vmm_given) {
        program = DEMO_PROGRAM;
        run_spec_parse("c,asm", &a.run.spec, err);
    } else if (!program) {
        program = DEMO_PROGRAM; /* the demo program under the monitors given */
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "trapeze tui: needs a terminal (trapeze debug reads commands from a pipe)\n");
        commands_session_free(&a);
        return CLI_EXIT_USAGE;
    }
    struct engine_config cfg = commands_session_config(&a, program);
    cfg.embedded = !a.program;
    struct engine *e = engine_open(&cfg, stderr);
    if (!e) {
        commands_session_free(&a);
        return CLI_EXIT_USAGE;
    }
    engine_set_interrupt(e, interrupted);
    struct tui t = {0};
    t.interrupted = interrupted;
    commands_init(&t.c, e, stderr);
    t.c.slice = TUI_SLICE;
    char titlebuf[1400];
    const char *slash = strrchr(program, '/');
    char how[96] = "";
    if (a.run.spec.n > 0) {
        char under[80];
        run_options_describe(&a.run, under, sizeof under);
        snprintf(how, sizeof how, " under %s", under);
    }
    snprintf(titlebuf, sizeof titlebuf, "%s%s%s: t follows the traps, ? explains the keys",
             a.program ? "" : "demo: ", slash ? slash + 1 : program, how);
    t.title = titlebuf;

    initscr();
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    t.colour = has_colors() && getenv("NO_COLOR") == NULL;
    if (t.colour) {
        start_color();
        use_default_colors();
        init_pair(1, COLOR_GREEN, -1);
        init_pair(2, COLOR_YELLOW, -1);
        init_pair(3, COLOR_CYAN, -1);
    }
    while (!t.c.quit) {
        draw(&t);
        int ch = getch();
        if (ch == ERR && !*t.interrupted) break; /* the terminal went away */
        *t.interrupted = 0;                       /* Ctrl-C with nothing running */
        if (ch == KEY_RESIZE) continue;
        handle_key(&t, ch);
    }
    endwin();
    if (t.out) fclose(t.out);
    free(t.outbuf);
    engine_close(e);
    commands_session_free(&a);
    return CLI_EXIT_OK;
}
