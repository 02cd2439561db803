/* diagram.c: a run drawn for graphviz (diagram.h). */
#include "diagram.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool is_interrupt(const struct run_event *e)
{
    return !e->has_insn && (e->cause == CAUSE_TIMER || e->cause == CAUSE_IO);
}

/* Room in *array (cap elements of size bytes, n used) for one more,
 * doubling; false without memory (the array unchanged). */
static bool room_for_one(void **array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return true;
    size_t more = *cap ? *cap * 2 : 64;
    void *bigger = realloc(*array, more * size);
    if (!bigger) return false;
    *array = bigger;
    *cap = more;
    return true;
}

/* ---- Recording ------------------------------------------------------------------------- */

static void counts_now(const struct run *r, unsigned levels, uint64_t out[RUN_MAX_LEVELS])
{
    for (unsigned L = 0; L < RUN_MAX_LEVELS; L++) {
        out[L] = 0;
        if (L >= levels) continue;
        struct run_level_counts k;
        run_level_counts(r, 0, L, &k);
        out[L] = k.instructions;
    }
}

void diagram_recorder_init(struct diagram_recorder *rec, const struct run *r, struct diagram_window w)
{
    *rec = (struct diagram_recorder){.window = w, .levels = run_level_count(r), .program = run_program_level(r)};
    counts_now(r, rec->levels, rec->before);
}

void diagram_recorder_free(struct diagram_recorder *rec)
{
    free(rec->steps);
    rec->steps = NULL;
    rec->n = rec->cap = 0;
}

enum machine_verdict diagram_record(void *ctx, struct run *r, const struct run_event *e)
{
    struct diagram_recorder *rec = ctx;
    rec->total++;
    if (e->guest != 0 || rec->ended) return rec->ended ? MACHINE_STOP_RUN : MACHINE_CONTINUE;
    if (e->guest_step < rec->window.from) {
        counts_now(r, rec->levels, rec->before); /* the window starts after this one */
        return MACHINE_CONTINUE;
    }
    /* A cascade: the program's first trap in the window and what the
     * monitors do for it, up to the program's next trap. */
    const bool program_trap = e->arose == rec->program && !is_interrupt(e);
    const bool cascade_over = rec->window.cascade && rec->root_seen && e->arose == rec->program;
    const bool handling_last = rec->window.cascade && rec->root_seen && !cascade_over;
    if ((e->guest_step > rec->window.to && !handling_last) || cascade_over) {
        counts_now(r, rec->levels, rec->after);
        rec->ended = true;
        return MACHINE_STOP_RUN;
    }
    if (rec->window.cascade && !rec->root_seen && !program_trap) return MACHINE_CONTINUE;
    rec->root_seen |= program_trap;
    rec->started = true;
    rec->in_window++;
    if (rec->n == DIAGRAM_MAX_KEPT) return MACHINE_CONTINUE;
    if (!room_for_one((void **)&rec->steps, &rec->cap, rec->n, sizeof *rec->steps)) {
        rec->out_of_memory = true;
        return MACHINE_STOP_RUN;
    }
    struct diagram_step *s = &rec->steps[rec->n++];
    s->e = *e;
    s->seq = rec->total;
    counts_now(r, rec->levels, s->instructions);
    return MACHINE_CONTINUE;
}

void diagram_recorder_finish(struct diagram_recorder *rec, const struct run *r)
{
    if (!rec->ended) counts_now(r, rec->levels, rec->after);
    rec->ended = true;
}

/* Stretch j of the window: 0 before its first event, k after event k - 1,
 * n after the last (up to the window's end).  Kept events only: past
 * DIAGRAM_MAX_KEPT the last stretch runs to the end. */
uint64_t diagram_spent(const struct diagram_recorder *rec, size_t j, unsigned level)
{
    if (level >= RUN_MAX_LEVELS || j > rec->n) return 0;
    const uint64_t start = j == 0 ? rec->before[level] : rec->steps[j - 1].instructions[level];
    const uint64_t end = j == rec->n ? rec->after[level] : rec->steps[j].instructions[level];
    return end - start;
}

/* ---- Text for graphviz ---------------------------------------------------------------- */

/* s inside a double-quoted graphviz string. */
static void put_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        if (*s == '\n') fputs("\\n", out);
        else fputc(*s, out);
    }
    fputc('"', out);
}

/* s inside an HTML-like label. */
static void put_html(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static void level_title(const struct run *r, unsigned level, char *buf, size_t size)
{
    run_describe_level(r, level, true, buf, size);
}

/* "PRIV rtmr r2" or "TIMER" */
static void event_what(const struct run_event *e, char *buf, size_t size)
{
    char cause[32], insn[64] = "";
    run_event_cause(e, cause, sizeof cause);
    if (e->has_insn) {
        uint32_t at = e->cause == CAUSE_SVC || e->cause == CAUSE_HCALL ? e->pc - 1 : e->pc;
        isa_disassemble(e->insn, at, NULL, NULL, insn, sizeof insn);
    }
    snprintf(buf, size, "%s%s%s", cause, *insn ? " " : "", insn);
}


/* The window's counts, as comments a test (or a student) compares with
 * `run --json`, and as the lines of the summary box. */
static void window_counts(FILE *out, const struct run *r, const struct diagram_recorder *rec)
{
    if (rec->window.to == UINT64_MAX)
        fprintf(out, "  // window: steps %" PRIu64 ".. of the program, to its end\n", rec->window.from);
    else
        fprintf(out, "  // window: steps %" PRIu64 "..%" PRIu64 " of the program\n", rec->window.from,
                rec->window.to);
    fprintf(out, "  // traps %" PRIu64 "\n", rec->in_window);
    for (unsigned L = 0; L < rec->levels; L++) {
        uint64_t sum = 0;
        for (size_t j = 0; j <= rec->n; j++) sum += diagram_spent(rec, j, L);
        char name[64];
        level_title(r, L, name, sizeof name);
        fprintf(out, "  // level %u instructions %" PRIu64 " (%s)\n", L, sum, name);
    }
}

/* ---- The sequence diagram ------------------------------------------------------------ */

enum row_kind { ROW_ARROW, ROW_NOTES };

struct row {
    enum row_kind kind;
    int from, to;        /* columns (ARROW) */
    const char *color;
    char label[320];
    char left[32];       /* the margin: "step 12", on an event's first row */
    size_t stretch;      /* NOTES: the stretch whose spending it shows */
};

struct rows {
    struct row *row;
    size_t n, cap;
    bool failed;
};

static struct row *add_row(struct rows *rs, enum row_kind kind)
{
    if (rs->failed || !room_for_one((void **)&rs->row, &rs->cap, rs->n, sizeof *rs->row)) {
        rs->failed = true;
        return NULL;
    }
    struct row *w = &rs->row[rs->n++];
    *w = (struct row){.kind = kind};
    return w;
}

static void add_arrow(struct rows *rs, int from, int to, const char *color, const char *label,
                      const char *left)
{
    struct row *w = add_row(rs, ROW_ARROW);
    if (!w) return;
    w->from = from;
    w->to = to;
    w->color = color;
    snprintf(w->label, sizeof w->label, "%s", label);
    snprintf(w->left, sizeof w->left, "%s", left ? left : "");
}

static bool stretch_has_work(const struct diagram_recorder *rec, size_t j)
{
    for (unsigned L = 0; L < rec->levels; L++)
        if (diagram_spent(rec, j, L)) return true;
    return false;
}

static void add_notes(struct rows *rs, const struct diagram_recorder *rec, size_t j)
{
    if (!stretch_has_work(rec, j)) return;
    struct row *w = add_row(rs, ROW_NOTES);
    if (w) w->stretch = j;
}

#define COLOR_TRAP "#c0392b"
#define COLOR_HARDWARE "#566573"
#define COLOR_UP "#d35400"
#define COLOR_DELIVER "#2471a3"
#define COLOR_RESUME "#1e8449"
#define COLOR_ABSORBED "#7f8c8d"

/* The level whose code runs once event k is handled as far as it is now.
 * The C VMM says (runs_next); an asm VMM at the bottom is told of a trap
 * as it goes in and hands it on with its own lpsw, which is no trap, so
 * there the next trap tells: it arose in the level that ran next. */
static unsigned resumed_level(const struct run *r, const struct diagram_recorder *rec, size_t k)
{
    const struct run_spec *spec = run_spec_of(r);
    if (spec->n > 0 && spec->kind[0] == RUN_MONITOR_C) return rec->steps[k].e.runs_next;
    if (k + 1 < rec->n) return rec->steps[k + 1].e.arose;
    return rec->steps[k].e.target;
}

/* The hops of one event, as arrows between columns (the real machine is
 * column `hw`, level L is column L). */
static void event_rows(struct rows *rs, const struct run *r, const struct diagram_recorder *rec, size_t k,
                       int hw)
{
    const struct diagram_step *s = &rec->steps[k];
    const struct run_event *e = &s->e;
    const unsigned target = resumed_level(r, rec, k);
    char what[96], label[320], left[32], place[96];
    event_what(e, what, sizeof what);
    snprintf(left, sizeof left, "step %" PRIu64, e->guest_step);
    run_describe_place(r, e->guest, e->arose, e->pc, e->has_pc_phys, e->pc_phys, place, sizeof place);
    const int arose = (int)e->arose, first = (int)e->first, handler = (int)e->handler;
    if (is_interrupt(e)) {
        snprintf(label, sizeof label, "#%" PRIu64 " %s (L%d %c was running, at %s)", s->seq, what,
                 arose, e->supervisor ? 'S' : 'U', place);
        add_arrow(rs, hw, first, COLOR_HARDWARE, label, left);
    } else if (e->place == VMM_PLACE_INTERPRETED || e->place == VMM_PLACE_TRANSLATED) {
        snprintf(label, sizeof label, "#%" PRIu64 " %s at %s (%s by L%d)", s->seq, what, place,
                 e->place == VMM_PLACE_INTERPRETED ? "interpreted" : "translated", first);
        add_arrow(rs, arose, first, COLOR_TRAP, label, left);
    } else {
        snprintf(label, sizeof label, "#%" PRIu64 " %s at %s, %s", s->seq, what, place,
                 e->supervisor ? "supervisor" : "user");
        add_arrow(rs, arose, hw, COLOR_TRAP, label, left);
        snprintf(label, sizeof label, e->how == RUN_HARDWARE ? "to L%d's handler" : "to L%d, the first monitor",
                 e->how == RUN_HARDWARE ? handler : first);
        add_arrow(rs, hw, e->how == RUN_HARDWARE ? handler : first, COLOR_HARDWARE, label, NULL);
    }
    /* Up the levels as far as now: a monitor between the first and the
     * handler passes the trap on with code of its own, later (its lpsw
     * into the level above is an event of its own). */
    const int reach = (int)target >= first && (int)target < handler ? (int)target : handler;
    if (e->how != RUN_HARDWARE)
        for (int L = first; L < reach; L++) {
            int w = snprintf(label, sizeof label, "%s up by L%d", e->how == RUN_DELIVERED ? "delivered" : "passed", L);
            if (L + 1 == reach && w > 0) {
                const char *tail = reach < handler ? (e->how == RUN_EMULATED ? ", for L%d to emulate"
                                                                             : ", for L%d's handler")
                                   : e->how == RUN_EMULATED ? ": L%d emulates it"
                                                            : " to L%d's handler";
                snprintf(label + w, sizeof label - (size_t)w, tail, handler);
            }
            add_arrow(rs, L, L + 1, e->how == RUN_DELIVERED ? COLOR_DELIVER : COLOR_UP, label, NULL);
        }
    switch (e->how) {
    case RUN_EMULATED:
        /* Emulated by a monitor's code: it runs now, and resumes its guest
         * later by a trap of its own (an lpsw the next events show). */
        if ((int)target <= handler) break;
        snprintf(label, sizeof label, "emulated by L%d; L%u resumes", handler, target);
        add_arrow(rs, handler, (int)target, COLOR_RESUME, label, NULL);
        break;
    case RUN_ABSORBED:
        snprintf(label, sizeof label, "absorbed by L%d (%s); L%u resumes", handler,
                 e->cause == CAUSE_MEM ? "a hidden fault" : "its own timer", target);
        add_arrow(rs, handler, (int)target, COLOR_ABSORBED, label, NULL);
        break;
    case RUN_REFLECTED:
    case RUN_DELIVERED:
        if (handler != first) break; /* the hops up went as far as they go now */
        snprintf(label, sizeof label, "%s to L%d's handler", run_handling_name(e->how), handler);
        add_arrow(rs, first, handler, COLOR_DELIVER, label, NULL);
        break;
    case RUN_HARDWARE:
        break;
    }
}

#define SEQ_DX 200
#define SEQ_X0 140
#define SEQ_ROW 22
#define SEQ_TOP 70

static int column_x(int column, int levels)
{
    /* The program on the left, the real machine on the right. */
    return SEQ_X0 + (levels - 1 - column) * SEQ_DX; /* column -1, the real machine: rightmost */
}

int diagram_sequence(FILE *out, const struct run *r, const struct diagram_recorder *rec,
                     const char *title, char *err, size_t err_size)
{
    if (rec->in_window == 0) {
        snprintf(err, err_size, "no trap in steps %" PRIu64 "..%" PRIu64 " of the program", rec->window.from,
                 rec->window.to);
        return -1;
    }
    const int levels = (int)rec->levels;
    const int hw = -1; /* the real machine's column: right of level 0 */
    struct rows rs = {0};
    const size_t drawn = rec->n < DIAGRAM_MAX_DRAWN ? rec->n : DIAGRAM_MAX_DRAWN;
    add_notes(&rs, rec, 0);
    for (size_t k = 0; k < drawn; k++) {
        event_rows(&rs, r, rec, k, hw);
        if (k + 1 < drawn || drawn == rec->n) add_notes(&rs, rec, k + 1);
    }
    if (rs.failed) {
        free(rs.row);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    const int bottom = SEQ_ROW;
    const int top = bottom + (int)(rs.n + 1) * SEQ_ROW + SEQ_TOP;
    fprintf(out, "// %s\n// render: neato -n2 -Tsvg (every position is given)\n", title);
    fprintf(out, "digraph sequence {\n");
    fprintf(out, "  graph [splines=false, outputorder=edgesfirst, fontname=\"Helvetica\", fontsize=12, "
                 "label=");
    put_quoted(out, title);
    fprintf(out, ", labelloc=t];\n");
    fprintf(out, "  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10, margin=0, width=0, height=0];\n");
    fprintf(out, "  edge [arrowsize=0.6, penwidth=1.2];\n");
    window_counts(out, r, rec);
    /* Lifelines: a header, a foot and a dashed line between. */
    for (int c = hw; c < levels; c++) {
        char name[64];
        if (c == hw) snprintf(name, sizeof name, "real machine");
        else level_title(r, (unsigned)c, name, sizeof name);
        const int x = c == hw ? column_x(-1, levels) : column_x(c, levels);
        fprintf(out, "  head%d [shape=box, style=\"rounded,filled\", fillcolor=\"#eaecee\", fontsize=11, "
                     "margin=\"0.08,0.04\", label=", c + 1);
        put_quoted(out, name);
        fprintf(out, ", pos=\"%d,%d\"];\n", x, top);
        fprintf(out, "  foot%d [shape=point, width=0.01, label=\"\", pos=\"%d,%d\"];\n", c + 1, x, bottom);
        fprintf(out, "  head%d -> foot%d [style=dashed, color=\"#aab7b8\", arrowhead=none];\n", c + 1, c + 1);
    }
    for (size_t i = 0; i < rs.n; i++) {
        const struct row *w = &rs.row[i];
        const int y = top - SEQ_TOP / 2 - (int)(i + 1) * SEQ_ROW;
        if (*w->left) {
            fprintf(out, "  m%zu [fontcolor=\"#566573\", label=", i);
            put_quoted(out, w->left);
            fprintf(out, ", pos=\"%d,%d\"];\n", 40, y);
        }
        if (w->kind == ROW_NOTES) {
            for (int L = 0; L < levels; L++) {
                uint64_t spent = diagram_spent(rec, w->stretch, (unsigned)L);
                if (!spent) continue;
                fprintf(out, "  n%zu_%d [shape=box, style=filled, fillcolor=\"#fef9e7\", color=\"#b7950b\", "
                             "fontsize=9, margin=\"0.04,0.01\", label=\"ran %" PRIu64 " instruction%s\", "
                             "pos=\"%d,%d\"];\n",
                        i, L, spent, spent == 1 ? "" : "s", column_x(L, levels), y);
            }
            continue;
        }
        const int x1 = column_x(w->from, levels), x2 = column_x(w->to, levels);
        fprintf(out, "  a%zu [shape=point, width=0.03, color=\"%s\", label=\"\", pos=\"%d,%d\"];\n", i,
                w->color, x1, y);
        fprintf(out, "  b%zu [shape=point, width=0.01, color=\"%s\", label=\"\", pos=\"%d,%d\"];\n", i,
                w->color, x2, y);
        fprintf(out, "  a%zu -> b%zu [color=\"%s\"];\n", i, i, w->color);
        fprintf(out, "  l%zu [fontsize=9, fontcolor=\"%s\", label=", i, w->color);
        put_quoted(out, w->label);
        fprintf(out, ", pos=\"%d,%d\"];\n", (x1 + x2) / 2, y + 8);
    }
    if (rec->in_window > drawn) {
        char more[160];
        snprintf(more, sizeof more, "... and %" PRIu64 " more trap%s in the window, not drawn (narrow it: --from, --to)",
                 rec->in_window - drawn, rec->in_window - drawn == 1 ? "" : "s");
        fprintf(out, "  more [fontcolor=\"#c0392b\", label=");
        put_quoted(out, more);
        fprintf(out, ", pos=\"%d,%d\"];\n", column_x(levels - 1, levels), bottom - SEQ_ROW / 2);
    }
    fprintf(out, "}\n");
    free(rs.row);
    return 0;
}

/* ---- The amplification tree -------------------------------------------------------- */

static void tree_node(FILE *out, const struct run *r, const struct diagram_recorder *rec, size_t k,
                      unsigned program, uint64_t totals[RUN_MAX_LEVELS])
{
    const struct diagram_step *s = &rec->steps[k];
    const struct run_event *e = &s->e;
    char what[96], arose[64], handler[64], line[512];
    event_what(e, what, sizeof what);
    level_title(r, e->arose, arose, sizeof arose);
    level_title(r, e->handler, handler, sizeof handler);
    int w = snprintf(line, sizeof line, "#%" PRIu64 " %s\n%s, %s\n%s by %s", s->seq, what, arose,
                     e->supervisor ? "supervisor" : "user", run_handling_name(e->how), handler);
    /* What each monitor did between this trap and the next. */
    for (unsigned L = 0; L < program && w > 0 && (size_t)w < sizeof line; L++) {
        uint64_t spent = diagram_spent(rec, k + 1, L);
        totals[L] += spent;
        if (spent)
            w += snprintf(line + w, sizeof line - (size_t)w, "\nL%u ran %" PRIu64 " instruction%s", L, spent,
                          spent == 1 ? "" : "s");
    }
    fprintf(out, "  t%zu [label=", k);
    put_quoted(out, line);
    fprintf(out, "%s];\n", e->arose == program ? ", fillcolor=\"#fdedec\", color=\"#c0392b\"" : "");
}

int diagram_tree(FILE *out, const struct run *r, const struct diagram_recorder *rec, const char *title,
                 char *err, size_t err_size)
{
    const unsigned program = run_program_level(r);
    size_t root = rec->n;
    for (size_t k = 0; k < rec->n; k++)
        if (rec->steps[k].e.arose == program && !is_interrupt(&rec->steps[k].e)) {
            root = k;
            break;
        }
    if (root == rec->n) {
        if (rec->window.from == rec->window.to)
            snprintf(err, err_size, "the program took no trap at step %" PRIu64 ": its instruction ran directly",
                     rec->window.from);
        else
            snprintf(err, err_size, "the program took no trap in steps %" PRIu64 "..%" PRIu64,
                     rec->window.from, rec->window.to);
        return -1;
    }
    /* The cascade: the traps after the root until the program traps again. */
    size_t end = root + 1;
    while (end < rec->n && rec->steps[end].e.arose != program) end++;
    uint64_t totals[RUN_MAX_LEVELS] = {0};
    fprintf(out, "// %s\n// render: dot -Tsvg\n", title);
    fprintf(out, "digraph amplification {\n");
    fprintf(out, "  graph [rankdir=TB, nodesep=0.3, ranksep=0.35, fontname=\"Helvetica\", fontsize=12, label=");
    put_quoted(out, title);
    fprintf(out, ", labelloc=t];\n");
    fprintf(out, "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f6f6\", color=\"#566573\", "
                 "fontname=\"Helvetica\", fontsize=10];\n");
    fprintf(out, "  edge [color=\"#566573\", arrowsize=0.6];\n");
    size_t stack[RUN_MAX_LEVELS + 1], depth = 0;
    for (size_t k = root; k < end; k++) {
        const struct run_event *e = &rec->steps[k].e;
        tree_node(out, r, rec, k, program, totals);
        /* A trap's parent is the latest one that arose higher up: the one
         * whose handling it is part of. */
        while (depth && rec->steps[stack[depth - 1]].e.arose <= e->arose) depth--;
        if (depth) fprintf(out, "  t%zu -> t%zu;\n", stack[depth - 1], k);
        if (depth < RUN_MAX_LEVELS + 1) stack[depth++] = k;
    }
    uint64_t all = 0;
    char sum[600];
    int w = snprintf(sum, sizeof sum, "the monitors' instructions for this one instruction");
    for (unsigned L = 0; L < program; L++) {
        char name[64];
        level_title(r, L, name, sizeof name);
        fprintf(out, "  // level %u instructions %" PRIu64 " (%s)\n", L, totals[L], name);
        all += totals[L];
        if (w > 0 && (size_t)w < sizeof sum)
            w += snprintf(sum + w, sizeof sum - (size_t)w, "\n%s: %" PRIu64, name, totals[L]);
    }
    if (w > 0 && (size_t)w < sizeof sum)
        snprintf(sum + w, sizeof sum - (size_t)w, "\nin all: %" PRIu64 " (its amplification)", all);
    fprintf(out, "  // traps %zu\n  // amplification %" PRIu64 "\n", end - root, all);
    fprintf(out, "  total [shape=note, fillcolor=\"#fef9e7\", color=\"#b7950b\", label=");
    put_quoted(out, sum);
    fprintf(out, "];\n  total -> t%zu [style=invis];\n}\n", root);
    return 0;
}

/* ---- The memory map ------------------------------------------------------------------- */

struct band {
    uint32_t from, to; /* [from, to) */
    char what[96];
    const char *fill;
    int holds;         /* the machine it holds (its region), or -1 */
};

#define MAX_BANDS 48

static void add_band(struct band *b, unsigned *n, uint32_t from, uint32_t to, const char *fill, int holds,
                     const char *what)
{
    if (*n == MAX_BANDS || from >= to) return;
    b[*n] = (struct band){from, to, "", fill, holds};
    snprintf(b[*n].what, sizeof b[*n].what, "%s", what);
    (*n)++;
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Bands may nest (a shadow table inside the shadow area): each word is
 * shown as the narrowest band holding it, or as `rest`; runs of words
 * shown alike become one band of out. */
static unsigned flatten(const struct band *b, unsigned n, uint32_t words, const char *rest,
                        const char *rest_fill, struct band *out)
{
    uint32_t cut[2 * MAX_BANDS + 2];
    unsigned k = 0;
    cut[k++] = 0;
    cut[k++] = words;
    for (unsigned i = 0; i < n; i++) {
        cut[k++] = b[i].from < words ? b[i].from : words;
        cut[k++] = b[i].to < words ? b[i].to : words;
    }
    qsort(cut, k, sizeof *cut, compare_u32);
    unsigned m = 0;
    int last = -2; /* the band shown before: -1 rest */
    for (unsigned i = 0; i + 1 < k; i++) {
        if (cut[i] == cut[i + 1]) continue;
        int best = -1;
        for (unsigned q = 0; q < n; q++)
            if (b[q].from <= cut[i] && cut[i + 1] <= b[q].to &&
                (best < 0 || b[q].to - b[q].from < b[best].to - b[best].from))
                best = (int)q;
        if (best == last && m) {
            out[m - 1].to = cut[i + 1];
            continue;
        }
        if (m == MAX_BANDS) break;
        if (best < 0) add_band(out, &m, cut[i], cut[i + 1], rest_fill, -1, rest);
        else add_band(out, &m, cut[i], cut[i + 1], b[best].fill, b[best].holds, b[best].what);
        last = best;
    }
    return m;
}

/* Machine j's bands, in order of address, every word in one. */
static unsigned machine_bands(const struct run *r, unsigned g, unsigned j, struct band *out)
{
    const unsigned program = run_program_level(r);
    const unsigned columns = j == 0 && run_guest_count(r) > 1 ? run_guest_count(r) : 1;
    const bool c_vmm = j == 0 && program > 0 && run_spec_of(r)->kind[0] == RUN_MONITOR_C;
    size_t words = 0;
    run_machine_memory(r, g, j, &words);
    struct band b[MAX_BANDS];
    unsigned n = 0;
    char what[96];
    if (c_vmm) add_band(b, &n, 0, TRAP_AREA_WORDS, "#ebedef", -1, "the real trap area (the C VMM gets the traps)");
    for (unsigned c = 0; j < program && c < columns; c++) {
        /* The region its monitor gave each machine above. */
        struct run_extent x[8];
        const unsigned gg = columns > 1 ? c : g;
        unsigned k = run_fmap(r, gg, j + 1, false, x, 8);
        for (unsigned i = 0; i < k; i++) {
            if (columns > 1) snprintf(what, sizeof what, "guest %u's memory from its 0x%06" PRIx32, c, x[i].from);
            else snprintf(what, sizeof what, "machine %u (L%u's memory) from its 0x%06" PRIx32, j + 1, j + 1,
                          x[i].from);
            add_band(b, &n, x[i].to, x[i].to + x[i].words, "#d6eaf8", gg == g ? (int)j + 1 : -1, what);
        }
        uint32_t area;
        size_t area_words;
        if (c_vmm && run_shadow_area(r, gg, &area, &area_words)) {
            snprintf(what, sizeof what, "%s shadow tables, reserved: %u tables of %zu entries",
                     columns > 1 ? "a guest's" : "the guest's", VMM_SHADOW_TABLES,
                     area_words / VMM_SHADOW_TABLES);
            if (columns > 1) snprintf(what, sizeof what, "guest %u's shadow tables, reserved", c);
            add_band(b, &n, area, (uint32_t)(area + area_words), "#fdf2e9", -1, what);
        }
    }
    /* Page tables whose entries are in this machine (own, and shadows). */
    for (unsigned L = 0; L <= program; L++) {
        struct run_page_table t[RUN_MAX_PAGE_TABLES];
        unsigned k = run_page_tables(r, g, L, t, RUN_MAX_PAGE_TABLES);
        for (unsigned i = 0; i < k; i++) {
            if (t[i].machine != j) continue;
            snprintf(what, sizeof what, "page table of L%u (%s, kept by L%u)", L, t[i].what, t[i].keeper);
            bool seen = false;
            for (unsigned q = 0; q < n; q++) seen |= b[q].from == t[i].base && strcmp(b[q].what, what) == 0;
            if (!seen) add_band(b, &n, t[i].base, t[i].base + t[i].entries, "#fdebd0", -1, what);
        }
    }
    /* What the rest is: the program's, the asm VMM's own words, or the C VMM's canaries. */
    const char *rest = j == program ? "the program's memory"
                     : c_vmm        ? "no guest's: canary words (0xdead5afe)"
                                    : "the asm VMM's own: code, data, its shadow tables";
    return flatten(b, n, (uint32_t)words, rest, j == program ? "#d5f5e3" : "#f2f3f4", out);
}

int diagram_memory(FILE *out, const struct run *r, unsigned g, const char *title)
{
    const unsigned program = run_program_level(r);
    fprintf(out, "// %s\n// render: dot -Tsvg\n", title);
    fprintf(out, "digraph memory {\n");
    fprintf(out, "  graph [rankdir=TB, ranksep=0.5, fontname=\"Helvetica\", fontsize=12, label=");
    put_quoted(out, title);
    fprintf(out, ", labelloc=t];\n");
    fprintf(out, "  node [shape=plaintext, fontname=\"Helvetica\", fontsize=10];\n");
    fprintf(out, "  edge [color=\"#2471a3\", arrowsize=0.7];\n");
    for (unsigned j = program + 1; j-- > 0;) {
        struct band b[MAX_BANDS];
        unsigned n = machine_bands(r, g, j, b);
        size_t words = 0;
        run_machine_memory(r, g, j, &words);
        char head[200], name[64];
        if (j == 0) snprintf(name, sizeof name, "the real machine");
        else snprintf(name, sizeof name, "machine %u", j);
        char runs[64];
        level_title(r, j, runs, sizeof runs);
        snprintf(head, sizeof head, "%s: %zu words, run by %s", name, words, runs);
        fprintf(out, "  // machine %u words %zu\n", j, words);
        fprintf(out, "  m%u [label=<<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\">"
                     "<TR><TD COLSPAN=\"2\" BGCOLOR=\"#d5d8dc\"><B>", j);
        put_html(out, head);
        fprintf(out, "</B></TD></TR>");
        for (unsigned i = 0; i < n; i++) {
            fprintf(out, "<TR><TD ALIGN=\"RIGHT\" BGCOLOR=\"%s\">0x%06" PRIx32 "..0x%06" PRIx32
                         "</TD><TD ALIGN=\"LEFT\" BGCOLOR=\"%s\" PORT=\"b%u\">",
                    b[i].fill, b[i].from, b[i].to - 1, b[i].fill, i);
            put_html(out, b[i].what);
            fprintf(out, " (%" PRIu32 " words)</TD></TR>", b[i].to - b[i].from);
        }
        fprintf(out, "</TABLE>>];\n");
        for (unsigned i = 0; i < n; i++)
            if (b[i].holds >= 0) fprintf(out, "  m%d -> m%u:b%u [label=\" lives here\", fontsize=9];\n", b[i].holds, j, i);
    }
    fprintf(out, "}\n");
    return 0;
}

/* ---- Kinds ---------------------------------------------------------------------------- */

static const char *const kind_names[] = {"sequence", "tree", "memory"};

const char *diagram_kind_name(enum diagram_kind k) { return kind_names[k]; }

bool diagram_kind_by_name(const char *name, enum diagram_kind *k)
{
    for (unsigned i = 0; i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *k = (enum diagram_kind)i;
            return true;
        }
    return false;
}

const char *diagram_layout(enum diagram_kind k) { return k == DIAGRAM_SEQUENCE ? "neato" : "dot"; }
