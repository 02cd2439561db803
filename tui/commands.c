/*
 * commands.c: the command table (commands.h) and its handlers.
 *
 * The table at the bottom is the only list of commands: lookup, arity
 * checks, help and completion all read it.  Handlers parse their own
 * operands (addresses, registers, numbers) with the helpers below and
 * leave every decision about running to the engine.
 */
#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../vmm/run/diagram.h"
#include "../vmm/vmm.h"
#include "cli.h"
#include "graphviz.h"
#include "../isa/suggest.h"

#define MAX_ARGS 8
#define LINE_MAX_LEN 512
#define REPORT_TRAPS 12 /* a motion lists at most this many of its traps */

static const char *const info_topics[] = {"regs",      "registers", "psw",    "levels", "traps",
                                          "breaks",    "breakpoints", "watchpoints", "fmap",
                                          "pagetable", "shadow",    "output", NULL};

/* The topic an info word names: gdb's names are the same topics. */
static const char *info_topic_of(const char *word)
{
    if (strcmp(word, "registers") == 0) return "regs";
    if (strcmp(word, "breakpoints") == 0 || strcmp(word, "watchpoints") == 0) return "breaks";
    return word;
}
static const char *const reg_names[ISA_NREGS] = {"r0", "r1", "r2",  "r3",  "r4",  "r5", "r6", "r7",
                                                 "r8", "r9", "r10", "r11", "r12", "r13", "sp", "lr"};
static const char *const break_words[] = {"trap", "mode", "level", NULL};

/* ---- Formatting ----------------------------------------------------------------------- */

void commands_level_name(const struct engine *e, unsigned L, char *buf, size_t size)
{
    engine_level_name(e, L, buf, size);
}

void commands_format_flags(uint32_t flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s %s %s", (flags & PSW_M) ? "M=S" : "M=U", (flags & PSW_IE) ? "IE" : "--",
             (flags & PSW_PG) ? "PG" : "--", (flags & PSW_TP) ? "TP" : "--");
}

void commands_format_place(const struct engine *e, unsigned L, uint32_t va, char *buf, size_t size)
{
    uint32_t pa, off;
    const char *label = NULL;
    if (engine_translate(e, L, va, &pa, NULL)) label = engine_label_near(e, L, pa, &off);
    if (label && off == 0) snprintf(buf, size, "0x%06" PRIx32 " <%s>", va, label);
    else if (label) snprintf(buf, size, "0x%06" PRIx32 " <%s+%" PRIu32 ">", va, label, off);
    else snprintf(buf, size, "0x%06" PRIx32, va);
}

void commands_format_trap(const struct engine *e, uint64_t seq, bool compact, char *buf, size_t size)
{
    engine_describe_trap(e, seq, compact, buf, size);
}

void commands_format_state(const struct engine *e, unsigned L, char *buf, size_t size)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    char who[64];
    commands_level_name(e, v.running, who, sizeof who);
    switch (v.state) {
    case RUN_LEVEL_RUNNING:
        snprintf(buf, size, "running%s",
                 v.place == VMM_PLACE_INTERPRETED   ? ", interpreted"
                 : v.place == VMM_PLACE_TRANSLATED ? ", translated"
                                                   : "");
        break;
    case RUN_LEVEL_WAITING:
        snprintf(buf, size, "waiting: %s runs", who);
        break;
    case RUN_LEVEL_SUSPENDED:
        if (v.interpreted)
            snprintf(buf, size, "interpreted by %s, at its step %" PRIu64,
                     who, v.as_of);
        else
            snprintf(buf, size, "suspended: %s is handling its trap; shown as at its step %" PRIu64, who,
                     v.as_of);
        break;
    case RUN_LEVEL_NOT_STARTED:
        snprintf(buf, size, "not started: %s is starting it", who);
        break;
    case RUN_LEVEL_STOPPED:
        snprintf(buf, size, "stopped: %s", machine_stop_name(v.stop));
        break;
    }
}

/* ---- The trap log's filter ---------------------------------------------------------------- */

bool commands_parse_trap_filter(const struct engine *e, const char *text, struct trap_filter *f, char *err,
                                size_t errsize)
{
    memset(f, 0, sizeof *f);
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *w = strtok(buf, " \t"); w; w = strtok(NULL, " \t")) {
        if (f->n == COMMANDS_FILTER_TERMS) {
            snprintf(err, errsize, "a filter has at most %d words", COMMANDS_FILTER_TERMS);
            return false;
        }
        struct trap_filter_term *t = &f->terms[f->n];
        t->exclude = *w == '-';
        if (t->exclude) w++;
        char up[16];
        size_t n = strlen(w);
        for (size_t i = 0; i < n && i + 1 < sizeof up; i++) up[i] = (char)toupper((unsigned char)w[i]);
        up[n < sizeof up ? n : sizeof up - 1] = '\0';
        const enum isa_cause cause = isa_cause_by_name(up);
        char lower[16];
        for (size_t i = 0; i <= n && i < sizeof lower; i++) lower[i] = (char)tolower((unsigned char)w[i]);
        lower[sizeof lower - 1] = '\0';
        if (cause != CAUSE_NONE) {
            t->kind = FILTER_CAUSE;
            t->value = cause;
        } else if ((w[0] == 'L' || w[0] == 'l') && isdigit((unsigned char)w[1])) {
            char *end;
            unsigned long L = strtoul(w + 1, &end, 10);
            if (*end || L >= engine_level_count(e)) {
                snprintf(err, errsize, "filter: '%s': the levels are L0 to L%u", w, engine_level_count(e) - 1);
                return false;
            }
            t->kind = FILTER_LEVEL;
            t->value = (unsigned)L;
        } else if (n < sizeof t->mnemonic && isa_op_by_mnemonic(lower)) {
            t->kind = FILTER_MNEMONIC;
            memcpy(t->mnemonic, lower, n + 1);
        } else {
            snprintf(err, errsize, "filter: '%.40s' is not a cause (PRIV MEM ILL DIV SVC HCALL TIMER IO), a level "
                     "(L1) or a mnemonic (out)", w);
            return false;
        }
        f->n++;
    }
    return true;
}

static bool term_matches(const struct trap_filter_term *t, const struct run_event *ev)
{
    switch (t->kind) {
    case FILTER_CAUSE: return ev->cause == (enum isa_cause)t->value;
    case FILTER_LEVEL: return ev->arose == t->value;
    case FILTER_MNEMONIC: {
        const struct isa_op *op = ev->has_insn ? isa_op_by_opcode(isa_opcode_of(ev->insn)) : NULL;
        return op && strcmp(op->mnemonic, t->mnemonic) == 0;
    }
    }
    return false;
}

bool commands_trap_kept(const struct trap_filter *f, const struct run_event *ev)
{
    bool asked[3] = {false}, met[3] = {false};
    for (unsigned i = 0; i < f->n; i++) {
        const struct trap_filter_term *t = &f->terms[i];
        const bool m = term_matches(t, ev);
        if (t->exclude && m) return false;
        if (!t->exclude) {
            asked[t->kind] = true;
            met[t->kind] = met[t->kind] || m;
        }
    }
    for (int k = 0; k < 3; k++)
        if (asked[k] && !met[k]) return false;
    return true;
}

/* ---- Operands --------------------------------------------------------------------------- */

static int error(struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int error(struct cmd_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof c->status - 8];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->status, sizeof c->status, "error: %s", msg);
    fprintf(c->out, "%s\n", c->status);
    return -1;
}

/* Says one line of a report: to the output, and as the status line. */
static void say(struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cmd_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->status, sizeof c->status, fmt, ap);
    va_end(ap);
    fprintf(c->out, "%s\n", c->status);
}

/* A number: decimal, 0x hex, or -decimal. */
static bool parse_number(const char *s, uint32_t *out)
{
    if (!s || !*s) return false;
    bool neg = *s == '-';
    if (neg) s++;
    if (!isdigit((unsigned char)*s)) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > UINT32_MAX) return false;
    *out = neg ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
    return true;
}

static bool parse_reg(const char *s, unsigned *r)
{
    if (strcmp(s, "sp") == 0) return *r = ISA_REG_SP, true;
    if (strcmp(s, "lr") == 0) return *r = ISA_REG_LR, true;
    if (strcmp(s, "pc") == 0) return *r = ENGINE_REG_PC, true;
    if (s[0] != 'r' || !isdigit((unsigned char)s[1])) return false;
    char *end;
    long n = strtol(s + 1, &end, 10);
    if (*end || n < 0 || n >= ISA_NREGS) return false;
    *r = (unsigned)n;
    return true;
}

/* A value: NUMBER, LABEL, LABEL+N or LABEL-N (the program's symbols). */
static bool parse_value(struct cmd_ctx *c, const char *s, uint32_t *out)
{
    if (parse_number(s, out)) return true;
    char name[128];
    const char *op = strpbrk(s, "+-");
    size_t n = op ? (size_t)(op - s) : strlen(s);
    if (n == 0 || n >= sizeof name) return false;
    memcpy(name, s, n);
    name[n] = '\0';
    uint32_t base, off = 0;
    if (!engine_symbol(c->e, name, &base)) return false;
    if (op && !parse_number(op + 1, &off)) return false;
    *out = op && *op == '-' ? base - off : base + off;
    return true;
}

/* An address of level L's physical memory: a value (parse_value), or `pc`
 * (the level's pc, translated). */
static bool parse_addr(struct cmd_ctx *c, unsigned L, const char *s, uint32_t *out)
{
    if (strcmp(s, "pc") == 0) {
        uint32_t pc;
        return engine_pc(c->e, L, &pc) && engine_translate(c->e, L, pc, out, NULL);
    }
    return parse_value(c, s, out);
}

static bool parse_level(struct cmd_ctx *c, const char *s, unsigned *L)
{
    const char *digits = (s[0] == 'L' || s[0] == 'l') ? s + 1 : s;
    uint32_t n;
    if (!parse_number(digits, &n) || n >= engine_level_count(c->e)) return false;
    *L = n;
    return true;
}

/* ---- Expressions: print, display, set, x, watch ------------------------------------------ */

struct eval_state {
    const struct cmd_ctx *c;
    unsigned level; /* the level whose registers and memory are named */
    const char *p;
    char *err;
    size_t errsize;
    bool failed;
};

static uint32_t eval_fail(struct eval_state *s, const char *fmt, const char *what)
{
    if (!s->failed) snprintf(s->err, s->errsize, fmt, what);
    s->failed = true;
    return 0;
}

static void eval_blank(struct eval_state *s)
{
    while (*s->p == ' ' || *s->p == '\t') s->p++;
}

/* A register or PSW field of the level's view, by name (no '$'). */
static bool eval_register(struct eval_state *s, const char *name, uint32_t *out)
{
    struct run_level_view v;
    engine_level(s->c->e, s->level, &v);
    unsigned r;
    if (strcmp(name, "pc") == 0) return engine_pc(s->c->e, s->level, out) || (*out = v.psw.pc, true);
    if (parse_reg(name, &r) && r != ENGINE_REG_PC) return *out = v.regs[r], true;
    static const struct { const char *name; uint32_t bit; } flags[] = {
        {"m", PSW_M}, {"ie", PSW_IE}, {"pg", PSW_PG}, {"tp", PSW_TP}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcasecmp(name, flags[i].name) == 0) return *out = (v.psw.flags & flags[i].bit) != 0, true;
    if (strcmp(name, "flags") == 0) return *out = v.psw.flags, true;
    if (strcmp(name, "base") == 0) return *out = v.psw.base, true;
    if (strcmp(name, "bound") == 0) return *out = v.psw.bound, true;
    if (strcmp(name, "timer") == 0) return *out = v.psw.timer, true;
    return false;
}

static uint32_t eval_expr(struct eval_state *s, int prec);

static uint32_t eval_memory(struct eval_state *s, uint32_t addr)
{
    uint32_t w;
    if (engine_read_phys(s->c->e, s->level, addr, &w)) return w;
    char at[16];
    snprintf(at, sizeof at, "0x%06" PRIx32, addr);
    return eval_fail(s, "no word at L-physical %s (past the level's memory)", at);
}

static uint32_t eval_primary(struct eval_state *s)
{
    eval_blank(s);
    const char ch = *s->p;
    if (ch == '(' || ch == '[') {
        s->p++;
        uint32_t v = eval_expr(s, 0);
        eval_blank(s);
        if (*s->p != (ch == '(' ? ')' : ']')) return eval_fail(s, "expected '%s'", ch == '(' ? ")" : "]");
        s->p++;
        return ch == '[' ? eval_memory(s, v) : v;
    }
    if (ch == '-' || ch == '~' || ch == '*' || ch == '!') {
        s->p++;
        uint32_t v = eval_primary(s);
        return ch == '-' ? (uint32_t)-v : ch == '~' ? ~v : ch == '!' ? !v : eval_memory(s, v);
    }
    if (isdigit((unsigned char)ch)) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s->p, &end, 0);
        if (errno || v > UINT32_MAX || isalnum((unsigned char)*end) || *end == '_') {
            char tok[24];
            snprintf(tok, sizeof tok, "%.*s", (int)strcspn(s->p, " +-*/%&|^<>()[]"), s->p);
            return eval_fail(s, "'%s' is not a 32-bit number", tok);
        }
        s->p = end;
        return (uint32_t)v;
    }
    const bool dollar = ch == '$';
    if (dollar) s->p++;
    char name[64];
    size_t n = 0;
    while ((isalnum((unsigned char)s->p[n]) || s->p[n] == '_' || s->p[n] == '.') && n + 1 < sizeof name) n++;
    memcpy(name, s->p, n);
    name[n] = '\0';
    s->p += n;
    if (n == 0) return eval_fail(s, "expected a number, a register or a symbol at '%.20s'", s->p);
    uint32_t v;
    if (!dollar && engine_symbol(s->c->e, name, &v)) return v;
    if (eval_register(s, name, &v)) return v;
    return eval_fail(s, dollar ? "no register or PSW field '$%s' (r0..r15, sp, lr, pc, m, ie, pg, tp, "
                                 "flags, base, bound, timer)"
                               : "no symbol or register '%s'", name);
}

/* Binary operators, as in C: precedence (higher binds tighter), longer
 * spellings first so that "<<" is not read as "<". */
enum binop { OP_NONE, OP_OR, OP_XOR, OP_AND, OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT, OP_SHL, OP_SHR,
             OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD };
static enum binop binary_op(const char *p, int *len, int *prec)
{
    static const struct { const char *text; enum binop op; int prec; } ops[] = {
        {"<<", OP_SHL, 6}, {">>", OP_SHR, 6}, {"<=", OP_LE, 5}, {">=", OP_GE, 5}, {"==", OP_EQ, 4},
        {"!=", OP_NE, 4},  {"<", OP_LT, 5},   {">", OP_GT, 5},  {"|", OP_OR, 1},  {"^", OP_XOR, 2},
        {"&", OP_AND, 3},  {"+", OP_ADD, 7},  {"-", OP_SUB, 7}, {"*", OP_MUL, 8}, {"/", OP_DIV, 8},
        {"%", OP_MOD, 8}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(p, ops[i].text, n) == 0) {
            *len = (int)n;
            *prec = ops[i].prec;
            return ops[i].op;
        }
    }
    return OP_NONE;
}

/* Precedence climbing: operators binding tighter than prec. */
static uint32_t eval_expr(struct eval_state *s, int prec)
{
    uint32_t lhs = eval_primary(s);
    for (;;) {
        eval_blank(s);
        int len, p;
        const enum binop op = binary_op(s->p, &len, &p);
        if (s->failed || op == OP_NONE || p <= prec) return lhs;
        s->p += len;
        uint32_t rhs = eval_expr(s, p);
        if (s->failed) return 0;
        switch (op) {
        case OP_ADD: lhs += rhs; break;
        case OP_SUB: lhs -= rhs; break;
        case OP_MUL: lhs *= rhs; break;
        case OP_DIV:
        case OP_MOD:
            if (rhs == 0) return eval_fail(s, "%s by zero", op == OP_DIV ? "division" : "remainder");
            lhs = op == OP_DIV ? lhs / rhs : lhs % rhs;
            break;
        case OP_AND: lhs &= rhs; break;
        case OP_OR: lhs |= rhs; break;
        case OP_XOR: lhs ^= rhs; break;
        case OP_SHL: lhs = rhs >= 32 ? 0 : lhs << rhs; break;
        case OP_SHR: lhs = rhs >= 32 ? 0 : lhs >> rhs; break;
        case OP_EQ: lhs = lhs == rhs; break;
        case OP_NE: lhs = lhs != rhs; break;
        case OP_LT: lhs = lhs < rhs; break; /* unsigned, as addresses and words */
        case OP_GT: lhs = lhs > rhs; break;
        case OP_LE: lhs = lhs <= rhs; break;
        case OP_GE: lhs = lhs >= rhs; break;
        case OP_NONE: break;
        }
    }
}

static bool eval_at(const struct cmd_ctx *c, unsigned L, const char *text, uint32_t *value, char *err,
                    size_t errsize)
{
    struct eval_state s = {c, L, text, err, errsize, false};
    uint32_t v = eval_expr(&s, 0);
    eval_blank(&s);
    if (!s.failed && *s.p) eval_fail(&s, "unexpected '%.20s' in the expression", s.p);
    if (s.failed) return false;
    *value = v;
    return true;
}

bool commands_eval(const struct cmd_ctx *c, const char *text, uint32_t *value, char *err, size_t errsize)
{
    return eval_at(c, engine_code_level(c->e, c->level), text, value, err, errsize);
}

/* The operands argv[0..argc) as one line, as typed (spaces between). */
static void join_args(int argc, char **argv, char *buf, size_t size)
{
    buf[0] = '\0';
    size_t len = 0;
    for (int i = 0; i < argc && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", argv[i]);
}

/* "0x0000000c (12)", with the signed value when it is negative. */
static void format_value(uint32_t v, char fmt, char *buf, size_t size)
{
    if (fmt == 'x') snprintf(buf, size, "0x%08" PRIx32, v);
    else if (fmt == 'd') snprintf(buf, size, "%" PRId32, (int32_t)v);
    else if (fmt == 'u') snprintf(buf, size, "%" PRIu32, v);
    else if ((int32_t)v < 0) snprintf(buf, size, "0x%08" PRIx32 " (%" PRIu32 ", %" PRId32 ")", v, v, (int32_t)v);
    else snprintf(buf, size, "0x%08" PRIx32 " (%" PRIu32 ")", v, v);
}

/* A format suffix: one of x, d, u, or none. */
static bool value_format(struct cmd_ctx *c, const char *sfx, char *fmt)
{
    *fmt = 0;
    if (!sfx) return true;
    if (strlen(sfx) == 1 && strchr("xdu", sfx[0])) return *fmt = sfx[0], true;
    error(c, "/%s: expected a format x (hex), d (signed) or u (unsigned)", sfx);
    return false;
}

static int cmd_print(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    char fmt, text[LINE_MAX_LEN], err[160], val[64];
    if (!value_format(c, sfx, &fmt)) return -1;
    join_args(argc, argv, text, sizeof text);
    uint32_t v;
    if (!commands_eval(c, text, &v, err, sizeof err)) return error(c, "%s", err);
    format_value(v, fmt, val, sizeof val);
    fprintf(c->out, "%s = %s\n", text, val);
    return 0;
}

/* Shows every display, after a stop. */
static void report_displays(struct cmd_ctx *c)
{
    for (unsigned i = 0; i < c->ndisplays; i++) {
        char err[160], val[200];
        uint32_t v;
        if (commands_eval(c, c->displays[i].text, &v, err, sizeof err)) format_value(v, 0, val, sizeof val);
        else snprintf(val, sizeof val, "<%s>", err);
        fprintf(c->out, "%u: %s = %s\n", c->displays[i].id, c->displays[i].text, val);
    }
}

static int cmd_display(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0) {
        if (c->ndisplays == 0) fprintf(c->out, "no displays\n");
        report_displays(c);
        return 0;
    }
    if (c->ndisplays == COMMANDS_MAX_DISPLAYS) return error(c, "too many displays (%d)", COMMANDS_MAX_DISPLAYS);
    char text[LINE_MAX_LEN], err[160];
    join_args(argc, argv, text, sizeof text);
    uint32_t v;
    if (!commands_eval(c, text, &v, err, sizeof err)) return error(c, "%s", err);
    if (strlen(text) >= sizeof c->displays[0].text) return error(c, "the expression is too long to display");
    unsigned i = c->ndisplays++;
    c->displays[i].id = ++c->next_display_id;
    memcpy(c->displays[i].text, text, strlen(text) + 1); /* fits: checked above */
    char val[64];
    format_value(v, 0, val, sizeof val);
    fprintf(c->out, "%u: %s = %s\n", c->displays[i].id, text, val);
    return 0;
}

static int cmd_undisplay(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0) {
        c->ndisplays = 0;
        fprintf(c->out, "deleted every display\n");
        return 0;
    }
    uint32_t id;
    if (!parse_number(argv[0], &id)) return error(c, "expected a display number, got '%s'", argv[0]);
    for (unsigned i = 0; i < c->ndisplays; i++)
        if (c->displays[i].id == id) {
            memmove(&c->displays[i], &c->displays[i + 1], (c->ndisplays - i - 1) * sizeof c->displays[0]);
            c->ndisplays--;
            fprintf(c->out, "deleted display %" PRIu32 "\n", id);
            return 0;
        }
    return error(c, "no display %" PRIu32, id);
}

/* ---- Reports ------------------------------------------------------------------------------ */

/* New console output since the last report (or a note that it shrank). */
static void report_console(struct cmd_ctx *c)
{
    if (!c->echo_console) return;
    size_t len;
    const uint8_t *out = engine_output(c->e, &len);
    if (len < c->console_shown) {
        fprintf(c->out, "[console output rewound to %zu bytes]\n", len);
        c->console_shown = len;
        return;
    }
    /* Whole lines only, so that the program's lines are not cut by ours;
     * the rest when the program has stopped. */
    size_t upto = len;
    if (!engine_exited(c->e, NULL, NULL))
        while (upto > c->console_shown && out[upto - 1] != '\n') upto--;
    if (upto > c->console_shown) {
        fwrite(out + c->console_shown, 1, upto - c->console_shown, c->out);
        if (out[upto - 1] != '\n') fputc('\n', c->out);
    }
    c->console_shown = upto;
}

/* "L2 0x000018 <_start+8>: st r2, 10(r0)    [traps.s:61]", with the
 * level's state when it does not run; a waiting monitor shows what runs. */
static void report_location(struct cmd_ctx *c, unsigned L)
{
    unsigned code = engine_code_level(c->e, L);
    struct run_level_view v;
    engine_level(c->e, code, &v);
    if (v.state == RUN_LEVEL_WAITING) code = v.running;
    uint32_t pc, pa;
    if (!engine_pc(c->e, code, &pc)) return;
    char place[96], text[96], where[64] = "", state[160] = "";
    commands_format_place(c->e, code, pc, place, sizeof place);
    engine_disassemble(c->e, code, pc, NULL, text, sizeof text);
    if (engine_translate(c->e, code, pc, &pa, NULL))
        engine_source_line(c->e, code, pa, where, sizeof where, NULL);
    engine_level(c->e, code, &v);
    if (v.state != RUN_LEVEL_RUNNING) commands_format_state(c->e, code, state, sizeof state);
    fprintf(c->out, "L%u %s: %s", code, place, text);
    if (*where) fprintf(c->out, "    [%s]", where);
    if (*state) fprintf(c->out, "    (%s)", state);
    fputc('\n', c->out);
}

static void report_traps(struct cmd_ctx *c, uint64_t first, uint64_t last)
{
    if (first > last) return;
    if (last - first + 1 > REPORT_TRAPS) {
        fprintf(c->out, "... %" PRIu64 " traps (info traps lists them)\n",
                last - first + 1 - REPORT_TRAPS);
        first = last - REPORT_TRAPS + 1;
    }
    char buf[320];
    for (uint64_t s = first; s <= last; s++) {
        if (!engine_trap_get(c->e, s)) continue;
        commands_format_trap(c->e, s, false, buf, sizeof buf);
        fprintf(c->out, "%s\n", buf);
    }
}

/* Why a motion stopped, in words ("" when it just did what it was asked). */
static void stop_text(struct cmd_ctx *c, const struct engine_result *r, char *buf, size_t size)
{
    enum machine_stop why;
    uint32_t status;
    buf[0] = '\0';
    switch (r->outcome) {
    case ENGINE_BREAK: {
        const struct engine_break *b = NULL;
        for (unsigned i = 0; i < engine_break_count(c->e); i++)
            if (engine_break_get(c->e, i)->id == r->breakpoint) b = engine_break_get(c->e, i);
        char what[128] = "";
        if (b && r->breakpoint == c->motion_break) break; /* until, finish: there, as asked */
        if (b && b->kind == ENGINE_BREAK_WATCH) {
            char old[64], now[64];
            format_value(b->was, 0, old, sizeof old);
            format_value(b->seen, 0, now, sizeof now);
            snprintf(buf, size, "watchpoint %u: L%u 0x%06" PRIx32 " changed from %s to %s", b->id, b->level,
                     b->addr, old, now);
            break;
        }
        if (b && b->kind == ENGINE_BREAK_TRAP && b->level != ENGINE_NO_LEVEL)
            snprintf(what, sizeof what, " (trap at L%u)", b->level);
        else if (b && b->kind == ENGINE_BREAK_TRAP) snprintf(what, sizeof what, " (trap)");
        else if (b && b->kind == ENGINE_BREAK_MODE) snprintf(what, sizeof what, " (mode of L%u changed)", b->level);
        else if (b && b->kind == ENGINE_BREAK_LEVEL) snprintf(what, sizeof what, " (L%u got control)", b->level);
        else if (b && b->kind == ENGINE_BREAK_ADDR) snprintf(what, sizeof what, " (L%u)", b->level);
        snprintf(buf, size, "%sbreakpoint %u%s", b && b->temporary ? "temporary " : "", r->breakpoint, what);
        break;
    }
    case ENGINE_EXITED:
        if (engine_exited(c->e, &why, &status)) {
            const char *refusal = run_vmm_refusal(engine_run(c->e), 0);
            if (why == MACHINE_HALT) snprintf(buf, size, "the program halted, status %" PRIu32, status);
            else if (refusal) snprintf(buf, size, "the program stopped: the C VMM refused it: %s", refusal);
            else snprintf(buf, size, "the program stopped: %s", machine_stop_name(why));
        }
        break;
    case ENGINE_BUDGET:
        snprintf(buf, size, "stopped: the budget of %" PRIu64 " steps of the program is spent (--max-steps)",
                 engine_max_steps(c->e));
        break;
    case ENGINE_STALLED:
        snprintf(buf, size, "stopped: the monitors ran %llu steps without a step of the program "
                 "(does the variant let a monitor's own system instructions run in user mode?)",
                 (unsigned long long)RUN_STALL_UNITS);
        break;
    case ENGINE_AT_START: snprintf(buf, size, "at the start of the history"); break;
    case ENGINE_FAILED: snprintf(buf, size, "error: cannot go there (out of memory?)"); break;
    case ENGINE_INTERRUPTED: snprintf(buf, size, "interrupted (Ctrl-C)"); break;
    case ENGINE_DONE:
    case ENGINE_RUNNING:
    case ENGINE_TRAPPED: break;
    }
}

/* A temporary breakpoint goes once it stopped a run; the one until or
 * finish made goes whenever the motion stops. */
static void forget_motion_breaks(struct cmd_ctx *c, const struct engine_result *r)
{
    if (r->outcome == ENGINE_BREAK) {
        for (unsigned i = 0; i < engine_break_count(c->e); i++) {
            const struct engine_break *b = engine_break_get(c->e, i);
            if (b->id == r->breakpoint && b->temporary) {
                engine_break_delete(c->e, b->id);
                break;
            }
        }
    }
    if (c->motion_break) engine_break_delete(c->e, c->motion_break);
    c->motion_break = 0;
}

static void report_stop(struct cmd_ctx *c, const struct engine_result *r)
{
    char text[sizeof c->status];
    stop_text(c, r, text, sizeof text);
    if (*text) say(c, "%s", text);
}

static void report(struct cmd_ctx *c, const struct engine_result *r, uint64_t first_trap)
{
    c->status[0] = '\0';
    /* The status line tells the trap until-trap waited for, else the last. */
    uint64_t last = engine_trap_total(c->e);
    uint64_t told = c->motion == ENGINE_UNTIL_TRAP ? first_trap : last;
    if (last >= first_trap && engine_trap_get(c->e, told))
        commands_format_trap(c->e, told, false, c->status, sizeof c->status);
    report_console(c);
    report_traps(c, first_trap, engine_trap_total(c->e));
    report_stop(c, r);
    forget_motion_breaks(c, r);
    report_location(c, c->level);
    report_displays(c);
}

/* ---- Motions -------------------------------------------------------------------------------- */

/* Runs the motion under way for one slice (all of it when c->slice is 0);
 * reports when it ends.  True while it is still running. */
static bool drive(struct cmd_ctx *c)
{
    for (;;) {
        struct engine_result r = engine_go(c->e, c->slice);
        if (r.outcome == ENGINE_RUNNING) {
            c->running = true;
            return true;
        }
        if (r.outcome == ENGINE_DONE && c->repeat_left > 0) {
            c->repeat_left--;
            engine_begin(c->e, c->motion, c->level);
            if (c->slice) {
                c->running = true;
                return true;
            }
            continue;
        }
        c->running = false;
        report(c, &r, c->first_trap);
        return false;
    }
}

bool commands_resume(struct cmd_ctx *c)
{
    if (!c->running) return false;
    return drive(c);
}

void commands_interrupt(struct cmd_ctx *c)
{
    if (!c->running) return;
    c->running = false;
    c->repeat_left = 0;
    struct engine_result r = {ENGINE_DONE, 0, c->first_trap, engine_trap_total(c->e), 0};
    report(c, &r, c->first_trap);
    say(c, "interrupted at step %" PRIu64, engine_guest_steps(c->e));
}

/* The optional repeat count of step, next, reverse-step. */
static bool count_arg(struct cmd_ctx *c, int argc, char **argv, uint32_t *n)
{
    *n = 1;
    if (argc == 0) return true;
    if (!parse_number(argv[0], n) || *n == 0 || *n > 1000000) {
        error(c, "expected a count from 1 to 1000000, got '%s'", argv[0]);
        return false;
    }
    return true;
}

static int motion(struct cmd_ctx *c, enum engine_motion m, int argc, char **argv)
{
    uint32_t n;
    if (!count_arg(c, argc, argv, &n)) return -1;
    c->motion = m;
    c->repeat_left = n - 1;
    c->first_trap = engine_trap_total(c->e) + 1;
    c->start_time = engine_guest_steps(c->e);
    struct run_level_view v;
    engine_level(c->e, c->level, &v);
    if (m == ENGINE_STEP && !v.host_code) {
        engine_begin_steps(c->e, c->level, n); /* one motion: one replay of the checks, not n */
        c->repeat_left = 0;
        drive(c);
        return 0;
    }
    engine_begin(c->e, m, c->level);
    drive(c);
    return 0;
}

static int cmd_step(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_STEP, argc, argv);
}

static int cmd_next(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_NEXT, argc, argv);
}

static int cmd_until_trap(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_UNTIL_TRAP, argc, argv);
}

static int cmd_continue(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_CONTINUE, argc, argv);
}

/* "back 2 steps, at step 5": steps of the program; within one of them
 * (a monitor's instructions), the machine's steps. */
static void report_back(struct cmd_ctx *c, uint64_t from_steps, uint64_t from_time,
                        const struct engine_result *r)
{
    report_console(c);
    char why[sizeof c->status];
    stop_text(c, r, why, sizeof why);
    const uint64_t now = engine_guest_steps(c->e), back = from_steps - now;
    if (back || from_time == engine_time(c->e))
        say(c, "back %" PRIu64 " step%s, at step %" PRIu64 "%s%s", back, back == 1 ? "" : "s", now,
            *why ? ": " : "", why);
    else
        say(c, "back %" PRIu64 " machine step%s, still at step %" PRIu64 " of the program%s%s",
            from_time - engine_time(c->e), from_time - engine_time(c->e) == 1 ? "" : "s", now,
            *why ? ": " : "", why);
    report_location(c, c->level);
    report_displays(c);
}

/* reverse-step and reverse-next: back N of the selected level's
 * instructions, as back() counts them. */
static int reverse_motion(struct cmd_ctx *c, int argc, char **argv,
                          struct engine_result (*back)(struct engine *, unsigned, uint64_t))
{
    uint32_t n;
    if (!count_arg(c, argc, argv, &n)) return -1;
    c->running = false;
    uint64_t from = engine_guest_steps(c->e), from_time = engine_time(c->e);
    struct engine_result r = back(c->e, c->level, n);
    report_back(c, from, from_time, &r);
    return r.outcome == ENGINE_FAILED ? -1 : 0;
}

static int cmd_reverse_step(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return reverse_motion(c, argc, argv, engine_reverse_steps);
}

static int cmd_reverse_next(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return reverse_motion(c, argc, argv, engine_reverse_next);
}

static int cmd_reverse_continue(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc, (void)argv;
    c->running = false;
    uint64_t from = engine_guest_steps(c->e), from_time = engine_time(c->e);
    struct engine_result r = engine_reverse_continue(c->e);
    report_back(c, from, from_time, &r);
    return r.outcome == ENGINE_FAILED ? -1 : 0;
}

/* ---- Breakpoints ------------------------------------------------------------------------------ */

static void describe_break(struct cmd_ctx *c, const struct engine_break *b)
{
    char place[96], where[64] = "";
    switch (b->kind) {
    case ENGINE_BREAK_ADDR: {
        const char *label;
        uint32_t off;
        label = engine_label_near(c->e, b->level, b->addr, &off);
        if (label && off) snprintf(place, sizeof place, "0x%06" PRIx32 " <%s+%" PRIu32 ">", b->addr, label, off);
        else if (label) snprintf(place, sizeof place, "0x%06" PRIx32 " <%s>", b->addr, label);
        else snprintf(place, sizeof place, "0x%06" PRIx32, b->addr);
        engine_source_line(c->e, b->level, b->addr, where, sizeof where, NULL);
        fprintf(c->out, "%sbreakpoint %u at L%u %s", b->temporary ? "temporary " : "", b->id, b->level, place);
        if (*where) fprintf(c->out, "    [%s]", where);
        break;
    }
    case ENGINE_BREAK_TRAP:
        fprintf(c->out, "breakpoint %u on trap %s", b->id,
                b->cause == CAUSE_NONE ? "(any cause)" : isa_cause_name(b->cause));
        if (b->level != ENGINE_NO_LEVEL) fprintf(c->out, " at L%u", b->level);
        break;
    case ENGINE_BREAK_WATCH: {
        const char *label = engine_label_at(c->e, b->level, b->addr);
        fprintf(c->out, "watchpoint %u on L%u 0x%06" PRIx32 "%s%s%s (now 0x%08" PRIx32 ")", b->id, b->level,
                b->addr, label ? " <" : "", label ? label : "", label ? ">" : "", b->seen);
        break;
    }
    case ENGINE_BREAK_MODE:
        fprintf(c->out, "breakpoint %u when L%u changes mode", b->id, b->level);
        break;
    case ENGINE_BREAK_LEVEL:
        fprintf(c->out, "breakpoint %u when L%u gets control", b->id, b->level);
        break;
    }
}

/* ---- Breakpoints that end motions: tbreak, until, finish, watch ------------------------- */

/* Adds b; returns its id, or 0 after an error.  quiet: no report. */
static unsigned add_break_id(struct cmd_ctx *c, const struct engine_break *b, bool quiet)
{
    unsigned existing;
    unsigned id = engine_break_add(c->e, b, &existing);
    if (!id && existing) {
        if (!quiet) error(c, "breakpoint %u is already there", existing);
        return 0;
    }
    if (!id) {
        error(c, "too many breakpoints (%d)", ENGINE_MAX_BREAKS);
        return 0;
    }
    if (!quiet) {
        for (unsigned i = 0; i < engine_break_count(c->e); i++)
            if (engine_break_get(c->e, i)->id == id) describe_break(c, engine_break_get(c->e, i));
        fputc('\n', c->out);
    }
    return id;
}

/* An address operand: an expression naming a word of level L's physical memory. */
static bool parse_addr_expr(struct cmd_ctx *c, unsigned L, int argc, char **argv, uint32_t *addr)
{
    char text[LINE_MAX_LEN], err[160];
    join_args(argc, argv, text, sizeof text);
    if (parse_addr(c, L, text, addr)) return true;
    if (eval_at(c, L, text, addr, err, sizeof err)) return true;
    error(c, "'%s' is not an address: %s", text, err);
    return false;
}

static int cmd_tbreak(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned code = engine_code_level(c->e, c->level);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = code, .temporary = true};
    if (!parse_addr_expr(c, code, argc, argv, &b.addr)) return -1;
    return add_break_id(c, &b, false) ? 0 : -1;
}

/* Continues to the word at L-physical addr of the selected level (or a
 * breakpoint, or the end), with a breakpoint the motion deletes when it stops. */
static int continue_to(struct cmd_ctx *c, uint32_t addr)
{
    unsigned code = engine_code_level(c->e, c->level);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = code, .temporary = true};
    b.addr = addr;
    /* A breakpoint already there stops the motion just as well. */
    c->motion_break = engine_break_find(c->e, code, addr) ? 0 : add_break_id(c, &b, true);
    if (!c->motion_break && !engine_break_find(c->e, code, addr)) return -1;
    return motion(c, ENGINE_CONTINUE, 0, NULL);
}

static int cmd_until(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0) return motion(c, ENGINE_NEXT, 0, NULL);
    uint32_t addr;
    if (!parse_addr_expr(c, engine_code_level(c->e, c->level), argc, argv, &addr)) return -1;
    return continue_to(c, addr);
}

static int cmd_finish(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc, (void)argv;
    unsigned code = engine_code_level(c->e, c->level);
    struct run_level_view v;
    engine_level(c->e, code, &v);
    uint32_t lr = v.regs[ISA_REG_LR], pa;
    if (!engine_translate(c->e, code, lr, &pa, NULL))
        return error(c, "finish: the return address lr = 0x%06" PRIx32 " does not translate at L%u", lr, code);
    char place[96];
    commands_format_place(c->e, code, lr, place, sizeof place);
    fprintf(c->out, "run till the return to %s (lr)\n", place);
    return continue_to(c, pa);
}

/* "at LEVEL" or "LN" at the end of the operands: takes them off. */
static bool level_suffix(struct cmd_ctx *c, int *argc, char **argv, unsigned *L, bool *given)
{
    *given = false;
    if (*argc >= 2 && strcmp(argv[*argc - 2], "at") == 0) {
        if (!parse_level(c, argv[*argc - 1], L)) {
            error(c, "at %s: expected a level from 0 to %u", argv[*argc - 1], engine_level_count(c->e) - 1);
            return false;
        }
        *argc -= 2;
        *given = true;
    }
    return true;
}

static int cmd_watch(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned L = engine_code_level(c->e, c->level);
    bool given;
    if (!level_suffix(c, &argc, argv, &L, &given)) return -1;
    if (argc == 0) return error(c, "watch ADDR [at LEVEL]: which word?");
    struct run_level_view v;
    engine_level(c->e, L, &v);
    if (v.host_code) return error(c, "L%u is host code: watch its guest's memory (at %u)", L, L + 1);
    /* gdb writes `watch *ADDR`: the word at ADDR. */
    if (argv[0][0] == '*' && argv[0][1]) argv[0]++;
    else if (argv[0][0] == '*') argc--, argv++;
    struct engine_break b = {.kind = ENGINE_BREAK_WATCH, .level = L};
    if (argc == 0 || !parse_addr_expr(c, L, argc, argv, &b.addr)) return argc ? -1 : error(c, "watch *ADDR: which word?");
    uint32_t w;
    if (!engine_read_phys(c->e, L, b.addr, &w))
        return error(c, "L%u has no word 0x%06" PRIx32 " (its memory is smaller)", L, b.addr);
    return add_break_id(c, &b, false) ? 0 : -1;
}

static int add_break(struct cmd_ctx *c, const struct engine_break *b)
{
    return add_break_id(c, b, false) ? 0 : -1;
}

static int cmd_break(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    struct engine_break b = {0};
    unsigned code = engine_code_level(c->e, c->level);
    if (strcmp(argv[0], "trap") == 0) {
        b.kind = ENGINE_BREAK_TRAP;
        b.level = ENGINE_NO_LEVEL;
        b.cause = CAUSE_NONE;
        bool given;
        if (!level_suffix(c, &argc, argv, &b.level, &given)) return -1;
        if (argc > 2) return error(c, "usage: break trap [CAUSE] [at LEVEL]");
        if (argc == 2) {
            uint32_t n;
            b.cause = isa_cause_by_name(argv[1]);
            if (b.cause == CAUSE_NONE && parse_number(argv[1], &n) && n >= 1 && n < CAUSE_COUNT)
                b.cause = (enum isa_cause)n;
            if (b.cause == CAUSE_NONE && strcmp(argv[1], "any") != 0)
                return error(c, "unknown trap cause '%s' (PRIV MEM ILL DIV SVC HCALL TIMER IO, or any)",
                             argv[1]);
        }
    } else if (argc > 2) {
        return error(c, "break takes at most two operands but for 'break trap CAUSE at LEVEL'");
    } else if (strcmp(argv[0], "mode") == 0) {
        if (argc != 1) return error(c, "break mode takes no more operands");
        b.kind = ENGINE_BREAK_MODE;
        b.level = code;
    } else if (strcmp(argv[0], "level") == 0) {
        if (argc != 2 || !parse_level(c, argv[1], &b.level))
            return error(c, "break level N: N is a level from 0 to %u", engine_level_count(c->e) - 1);
        b.kind = ENGINE_BREAK_LEVEL;
    } else {
        if (argc != 1) return error(c, "break ADDR takes one operand");
        b.kind = ENGINE_BREAK_ADDR;
        b.level = code;
        if (!parse_addr(c, code, argv[0], &b.addr))
            return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    }
    return add_break(c, &b);
}

static int cmd_toggle(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc;
    unsigned code = engine_code_level(c->e, c->level);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = code};
    if (!parse_addr(c, code, argv[0], &b.addr))
        return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    unsigned id = engine_break_find(c->e, code, b.addr);
    if (id) {
        engine_break_delete(c->e, id);
        fprintf(c->out, "deleted breakpoint %u\n", id);
        return 0;
    }
    return add_break(c, &b);
}

static int cmd_delete(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0 || strcmp(argv[0], "all") == 0) {
        engine_break_clear(c->e);
        fprintf(c->out, "deleted every breakpoint\n");
        return 0;
    }
    uint32_t id;
    if (!parse_number(argv[0], &id)) return error(c, "expected a breakpoint number, got '%s'", argv[0]);
    if (!engine_break_delete(c->e, id)) return error(c, "no breakpoint %" PRIu32, id);
    fprintf(c->out, "deleted breakpoint %" PRIu32 "\n", id);
    return 0;
}

/* ---- Looking ----------------------------------------------------------------------------------- */

/* "L2 guest: traps.s, step 40 (suspended: ...)": the level, its own step
 * count, and its state when it does not run. */
static void level_header(struct cmd_ctx *c, unsigned L, const struct run_level_view *v)
{
    char name[96], state[200];
    commands_level_name(c->e, L, name, sizeof name);
    fprintf(c->out, "%s", name);
    if (!v->host_code) fprintf(c->out, ", step %" PRIu64, v->steps);
    if (v->state != RUN_LEVEL_RUNNING) {
        commands_format_state(c->e, L, state, sizeof state);
        fprintf(c->out, " (%s)", state);
    }
}

static void host_code_counts(struct cmd_ctx *c, unsigned L)
{
    struct run_level_counts k;
    engine_level_counts(c->e, L, &k);
    fprintf(c->out,
            "  host code, no registers of the machine's; for its guest: %" PRIu64
            " instructions direct, %" PRIu64 " emulated (%" PRIu64 " interpreted), %" PRIu64
            " traps reflected, %" PRIu64 " entries\n",
            k.direct, k.emulated, k.interpreted, k.reflected, k.entries);
}

static void info_regs(struct cmd_ctx *c, unsigned L)
{
    struct run_level_view v;
    engine_level(c->e, L, &v);
    level_header(c, L, &v);
    if (v.state == RUN_LEVEL_WAITING && !v.host_code)
        fprintf(c->out, "\n  (the machine's registers, which hold L%u's while it runs)", v.running);
    fputc('\n', c->out);
    if (v.host_code) {
        host_code_counts(c, L);
        return;
    }
    for (unsigned r = 0; r < ISA_NREGS; r++)
        fprintf(c->out, "  %-3s 0x%08" PRIx32 "%s", reg_names[r], v.regs[r], r % 4 == 3 ? "\n" : "");
    char flags[32];
    commands_format_flags(v.psw.flags, flags, sizeof flags);
    fprintf(c->out, "  pc  0x%06" PRIx32 "    flags %s", v.psw.pc, flags);
    uint32_t at;
    if (v.state == RUN_LEVEL_STOPPED && v.stop == MACHINE_HALT && engine_pc(c->e, L, &at))
        fprintf(c->out, "    (halted at 0x%06" PRIx32 ")", at);
    fputc('\n', c->out);
}

static void info_psw(struct cmd_ctx *c, unsigned L)
{
    struct run_level_view v;
    engine_level(c->e, L, &v);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    if (v.host_code) {
        fprintf(c->out, "%s is host code: no PSW of its own (see its guest's, level %u)\n", name,
                engine_code_level(c->e, L));
        return;
    }
    char f1[32], f2[32];
    commands_format_flags(v.psw.flags, f1, sizeof f1);
    if (!v.has_real) {
        fprintf(c->out, "PSW of ");
        level_header(c, L, &v);
        fprintf(c->out, "\n  flags  %s\n  pc     0x%06" PRIx32 "\n  base   0x%06" PRIx32
                        "\n  bound  0x%06" PRIx32 "\n  timer  %" PRIu32 "\n",
                f1, v.psw.pc, v.psw.base, v.psw.bound, v.psw.timer);
        return;
    }
    commands_format_flags(v.real.flags, f2, sizeof f2);
    fprintf(c->out, "PSW of %s: virtual (what it sees) | real (what %s runs)\n", name,
            v.place == VMM_PLACE_INTERPRETED   ? "the C VMM's interpreter"
            : v.place == VMM_PLACE_TRANSLATED ? "the C VMM's translated code"
                                              : "the real machine");
    fprintf(c->out, "  flags  %-14s | %s\n", f1, f2);
    fprintf(c->out, "  pc     0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.pc, v.real.pc);
    fprintf(c->out, "  base   0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.base, v.real.base);
    fprintf(c->out, "  bound  0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.bound, v.real.bound);
    fprintf(c->out, "  timer  %-14" PRIu32 " | %" PRIu32 "\n", v.psw.timer, v.real.timer);
}

static void info_levels(struct cmd_ctx *c)
{
    unsigned running = engine_running_level(c->e);
    for (unsigned L = engine_level_count(c->e); L-- > 0;) {
        struct run_level_view v;
        engine_level(c->e, L, &v);
        char name[96], state[200];
        commands_level_name(c->e, L, name, sizeof name);
        commands_format_state(c->e, L, state, sizeof state);
        const bool runs = L == running && v.state == RUN_LEVEL_RUNNING;
        fprintf(c->out, "%c%c %-24s", L == c->level ? '*' : ' ', runs ? '>' : ' ', name);
        if (v.host_code) {
            struct run_level_counts k;
            engine_level_counts(c->e, L, &k);
            fprintf(c->out, " emulated %" PRIu64 ", reflected %" PRIu64 ", entries %" PRIu64, k.emulated,
                    k.reflected, k.entries);
        } else {
            uint32_t pc = v.psw.pc;
            engine_pc(c->e, L, &pc); /* a halted level: its halt */
            fprintf(c->out, " step %-9" PRIu64 " pc 0x%06" PRIx32 " %-10s", v.steps, pc,
                    (v.psw.flags & PSW_M) ? "supervisor" : "user");
        }
        fprintf(c->out, " %s\n", state);
    }
    fprintf(c->out, "(* selected, > runs now; each level's own steps; the real machine: step %" PRIu64
                    ")\n", engine_real_steps(c->e));
}

/* info traps [N] [FILTER]: the last N traps the filter keeps. */
static void info_traps(struct cmd_ctx *c, int argc, char **argv)
{
    uint32_t n = 20;
    int first_word = 1;
    if (argc > 1 && parse_number(argv[1], &n)) {
        if (n == 0) {
            error(c, "info traps [N] [FILTER]: N is a count");
            return;
        }
        first_word = 2;
    }
    char text[LINE_MAX_LEN], err[200];
    join_args(argc - first_word, argv + first_word, text, sizeof text);
    struct trap_filter f;
    if (!commands_parse_trap_filter(c->e, text, &f, err, sizeof err)) {
        error(c, "%s", err);
        return;
    }
    uint64_t total = engine_trap_total(c->e);
    if (total == 0) {
        fprintf(c->out, "no traps yet\n");
        return;
    }
    if (f.n == 0) {
        report_traps(c, total > n ? total - n + 1 : 1, total);
        return;
    }
    uint64_t from = total + 1;
    uint32_t kept = 0;
    for (uint64_t s = total; s >= 1 && kept < n; s--) {
        const struct run_event *ev = engine_trap_get(c->e, s);
        if (!ev) break;
        if (commands_trap_kept(&f, ev)) from = s, kept++;
    }
    char buf[320];
    for (uint64_t s = from; s <= total; s++) {
        const struct run_event *ev = engine_trap_get(c->e, s);
        if (!ev || !commands_trap_kept(&f, ev)) continue;
        commands_format_trap(c->e, s, false, buf, sizeof buf);
        fprintf(c->out, "%s\n", buf);
    }
    if (kept == 0) fprintf(c->out, "no trap the filter keeps\n");
}

static void info_breaks(struct cmd_ctx *c)
{
    unsigned n = engine_break_count(c->e);
    if (n == 0) fprintf(c->out, "no breakpoints\n");
    for (unsigned i = 0; i < n; i++) {
        const struct engine_break *b = engine_break_get(c->e, i);
        describe_break(c, b);
        fprintf(c->out, ", hit %" PRIu64 " time%s\n", b->hits, b->hits == 1 ? "" : "s");
    }
}

/* "L1-physical", or "real memory" for machine 0. */
static const char *space_name(unsigned j, char *buf, size_t size)
{
    if (j == 0) snprintf(buf, size, "real memory");
    else snprintf(buf, size, "L%u-physical", j);
    return buf;
}

static void info_fmap(struct cmd_ctx *c)
{
    unsigned L = engine_code_level(c->e, c->level);
    struct run_extent x[8];
    unsigned n = engine_fmap(c->e, L, false, x, 8);
    if (n == 0) {
        fprintf(c->out, "L%u runs on the real machine: its physical memory is real memory\n", L);
        return;
    }
    char onto[32];
    fprintf(c->out, "f-map of L%u, kept by L%u: L%u-physical -> %s\n", L, L - 1, L,
            space_name(L - 1, onto, sizeof onto));
    for (unsigned i = 0; i < n; i++)
        fprintf(c->out, "  [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> [0x%06" PRIx32 ", 0x%06" PRIx32
                        ")  %" PRIu32 " words\n",
                x[i].from, x[i].from + x[i].words, x[i].to, x[i].to + x[i].words, x[i].words);
    if (L - 1 == 0) return; /* it is already onto real memory */
    n = engine_fmap(c->e, L, true, x, 8);
    fprintf(c->out, "composed, L%u-physical -> real memory:\n", L);
    for (unsigned i = 0; i < n; i++)
        fprintf(c->out, "  [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> [0x%06" PRIx32 ", 0x%06" PRIx32 ")\n",
                x[i].from, x[i].from + x[i].words, x[i].to, x[i].to + x[i].words);
}

static void info_pagetable(struct cmd_ctx *c)
{
    unsigned L = engine_code_level(c->e, c->level);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    if (!(v.psw.flags & PSW_PG)) {
        fprintf(c->out, "L%u runs with paging off: va -> base 0x%06" PRIx32 " + va, bound 0x%06" PRIx32 "\n",
                L, v.psw.base, v.psw.bound);
        return;
    }
    fprintf(c->out, "L%u page table at L%u-physical 0x%06" PRIx32 ", %" PRIu32 " entries\n", L, L,
            v.psw.base, v.psw.bound);
    uint32_t vpn = v.psw.pc >> ISA_PAGE_SHIFT, pte, pa;
    if (engine_read_phys(c->e, L, v.psw.base + vpn, &pte) && vpn < v.psw.bound)
        fprintf(c->out, "  pc 0x%06" PRIx32 ": vpn 0x%" PRIx32 ", pte 0x%08" PRIx32 " %s%s -> ",
                v.psw.pc, vpn, pte, (pte & PTE_V) ? "V" : "-", (pte & PTE_W) ? "W" : "-");
    if (engine_translate(c->e, L, v.psw.pc, &pa, NULL))
        fprintf(c->out, "L%u-physical 0x%06" PRIx32 "\n", L, pa);
    else fprintf(c->out, "fault\n");
    unsigned shown = 0;
    for (uint32_t i = 0; i < v.psw.bound && shown < 32; i++) {
        if (!engine_read_phys(c->e, L, v.psw.base + i, &pte)) break;
        if (!(pte & PTE_V)) continue;
        fprintf(c->out, "  vpn 0x%04" PRIx32 " -> frame 0x%06" PRIx32 " %s\n", i, isa_pte_frame(pte),
                (pte & PTE_W) ? "rw" : "r-");
        shown++;
    }
    if (shown == 32) fprintf(c->out, "  ... (the first 32 valid entries)\n");
    fprintf(c->out, "(info shadow %u: this table beside the monitors' shadows and the real one; "
                    "translate ADDR: one address, level by level)\n", L);
}

/* ---- Page tables and the way of an address ----------------------------------------------- */

/* "L2 own", "L1 shadow": a table's column heading. */
static void table_heading(const struct run_page_table *t, char *buf, size_t size)
{
    snprintf(buf, size, "L%u %s", t->keeper, t->kind == RUN_TABLE_OWN ? "own" : "shadow");
}

/* "real 0x100100" or "L2-physical 0x00017a". */
static void machine_address(unsigned j, uint32_t a, char *buf, size_t size)
{
    if (j == 0) snprintf(buf, size, "real 0x%06" PRIx32, a);
    else snprintf(buf, size, "L%u-physical 0x%06" PRIx32, j, a);
}

void commands_format_pte(const struct engine *e, const struct run_page_table *t, uint32_t vpn,
                         bool brief, char *buf, size_t size, enum run_pte_mark *mark)
{
    uint32_t pte = 0;
    const bool present = engine_page_entry(e, t, vpn, &pte);
    struct run_pte_meaning m;
    engine_pte_decode(e, t, present, pte, &m);
    if (mark) *mark = m.mark;
    const char *tag = brief ? run_pte_mark_tag(m.mark) : run_pte_mark_text(m.mark);
    const char *sep = *tag ? " " : "";
    if (!present) snprintf(buf, size, "(%s)", tag);
    else if (!m.valid) snprintf(buf, size, "--%s%s", sep, tag);
    else if (m.mark == RUN_PTE_PAST_MEMORY) snprintf(buf, size, "V%c %s", m.writable ? 'W' : '-', tag);
    else snprintf(buf, size, "V%c %06" PRIx32 "%s%s", m.writable ? 'W' : '-', m.frame, sep, tag);
}

/* True when vpn is valid in some table, or is one's last change. */
static bool page_in_use(const struct engine *e, const struct run_page_table *t, unsigned n, uint32_t vpn)
{
    for (unsigned k = 0; k < n; k++) {
        uint32_t pte;
        if (engine_page_entry(e, &t[k], vpn, &pte) && (pte & PTE_V)) return true;
        if (t[k].change.known && t[k].change.vpn == vpn && vpn < t[k].entries) return true;
    }
    return false;
}

unsigned commands_pages_in_use(const struct engine *e, const struct run_page_table *t, unsigned n,
                               uint32_t *vpns, unsigned max, unsigned *total)
{
    uint32_t end = 0;
    for (unsigned k = 0; k < n; k++)
        if (t[k].entries > end) end = t[k].entries;
    if (end > RUN_MAX_VPN) end = RUN_MAX_VPN;
    unsigned got = 0, all = 0;
    for (uint32_t vpn = 0; vpn < end; vpn++) {
        if (!page_in_use(e, t, n, vpn)) continue;
        if (got < max) vpns[got++] = vpn;
        all++;
    }
    if (total) *total = all;
    return got;
}

/* The table a change marks in a row: the last-changed entries by vpn. */
static bool changed_here(const struct run_page_table *t, uint32_t vpn)
{
    return t->change.known && t->change.vpn == vpn;
}

void commands_format_change(const struct run_page_table *t, char *buf, size_t size)
{
    if (!t->change.known) {
        snprintf(buf, size, "no change seen");
        return;
    }
    if (t->change.count > 1)
        snprintf(buf, size, "vpn 0x%" PRIx32 ", %s (%u entries changed in one motion)", t->change.vpn,
                 vmm_shadow_reason_name(t->change.reason), t->change.count);
    else
        snprintf(buf, size, "vpn 0x%" PRIx32 ", %s", t->change.vpn, vmm_shadow_reason_name(t->change.reason));
}

#define SHADOW_ROWS 64 /* info shadow lists at most this many pages */

/* A line without the blanks a last padded column leaves. */
static void put_trimmed(struct cmd_ctx *c, char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ') line[--n] = '\0';
    fprintf(c->out, "%s\n", line);
}

static int info_shadow(struct cmd_ctx *c, int argc, char **argv)
{
    unsigned L = engine_program_level(c->e);
    if (argc > 1 && !parse_level(c, argv[1], &L))
        return error(c, "info shadow [LEVEL]: expected a level from 0 to %u, got '%s'",
                     engine_level_count(c->e) - 1, argv[1]);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    if (v.host_code) {
        fprintf(c->out, "%s is host code: no pages of its own (its guest is L%u)\n", name, L + 1);
        return 0;
    }
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = engine_page_tables(c->e, L, t, RUN_MAX_PAGE_TABLES);
    if (n == 0) {
        fprintf(c->out, "%s does not page: its PSW relocates, base 0x%06" PRIx32 ", bound 0x%06" PRIx32 "\n",
                name, v.psw.base, v.psw.bound);
        return 0;
    }
    if (t[0].kind == RUN_TABLE_OWN)
        fprintf(c->out, "%s pages; the tables of its virtual pages, its own first:\n", name);
    else
        fprintf(c->out, "%s waits; its machine pages for L%u through the shadow it keeps, then:\n", name,
                L + 1);
    unsigned walked = n;
    for (unsigned k = 0; k < n; k++) {
        char keeper[96], where[48];
        commands_level_name(c->e, t[k].keeper, keeper, sizeof keeper);
        machine_address(t[k].machine, t[k].base, where, sizeof where);
        fprintf(c->out, "  [%u] %s: %s; %s, %" PRIu32 " entries", k + 1, keeper, t[k].what, where,
                t[k].entries);
        if (t[k].stale) fprintf(c->out, "; stale: rebuilt or checked before its next use");
        if (t[k].walker == RUN_WALK_HARDWARE && t[k].stale)
            fprintf(c->out, "; the hardware walks it once refreshed, from L%u's next instruction", L);
        else if (t[k].walker == RUN_WALK_HARDWARE) fprintf(c->out, "; the hardware walks it now");
        if (t[k].walker == RUN_WALK_INTERPRETER) fprintf(c->out, "; the C VMM's interpreter walks it now");
        if (t[k].walker != RUN_WALK_NONE) walked = k;
        fputc('\n', c->out);
    }
    if (walked == n) {
        char state[200];
        commands_format_state(c->e, L, state, sizeof state);
        if (v.state != RUN_LEVEL_RUNNING)
            fprintf(c->out, "  nothing walks them now: L%u is %s\n", L, state);
        else if (v.has_real && (v.real.flags & PSW_PG))
            fprintf(c->out, "  the real PSW names real 0x%06" PRIx32 ", not yet a shadow of these: the C VMM "
                            "builds it before L%u's next instruction\n", v.real.base, L);
        else fprintf(c->out, "  the real PSW does not page\n");
    }

    uint32_t vpns[SHADOW_ROWS];
    unsigned total;
    const unsigned rows = commands_pages_in_use(c->e, t, n, vpns, SHADOW_ROWS, &total);
    char line[64 + RUN_MAX_PAGE_TABLES * 24];
    int len = snprintf(line, sizeof line, " %-6s %-8s", "vpn", "virtual");
    for (unsigned k = 0; k < n; k++) {
        char h[32], col[48];
        table_heading(&t[k], h, sizeof h);
        snprintf(col, sizeof col, "[%u] %s", k + 1, h);
        len += snprintf(line + len, sizeof line - (size_t)len, "  %-19.19s", col);
    }
    put_trimmed(c, line);
    bool marks[RUN_PTE_ABSENT + 1] = {false};
    for (unsigned i = 0; i < rows; i++) {
        char vpn[16];
        snprintf(vpn, sizeof vpn, "0x%" PRIx32, vpns[i]);
        len = snprintf(line, sizeof line, " %-6s 0x%06" PRIx32, vpn, vpns[i] << ISA_PAGE_SHIFT);
        for (unsigned k = 0; k < n; k++) {
            char cell[48];
            enum run_pte_mark m;
            commands_format_pte(c->e, &t[k], vpns[i], true, cell, sizeof cell, &m);
            marks[m] = true;
            len += snprintf(line + len, sizeof line - (size_t)len, " %c%-19.19s",
                            changed_here(&t[k], vpns[i]) ? '*' : ' ', cell);
        }
        put_trimmed(c, line);
    }
    if (rows == 0) fprintf(c->out, "  (no page is valid in any of them)\n");
    if (total > rows) fprintf(c->out, "  ... and %u more pages in use\n", total - rows);
    for (unsigned k = 0; k < n; k++) {
        if (!t[k].change.known) continue;
        char what[128];
        commands_format_change(&t[k], what, sizeof what);
        fprintf(c->out, "* [%u] changed last: %s\n", k + 1, what);
    }
    for (unsigned m = RUN_PTE_NOT_FILLED; m <= RUN_PTE_ABSENT; m++)
        if (marks[m])
            fprintf(c->out, "  %-9s %s\n", run_pte_mark_tag((enum run_pte_mark)m),
                    run_pte_mark_text((enum run_pte_mark)m));
    return 0;
}

/* One hop of a chain: "L2 virtual 0x000005 -> L2-physical 0x004005   paged: ...". */
static void report_hop(struct cmd_ctx *c, const struct run_hop *h, bool shortcut)
{
    char from[48], to[48], how[200] = "";
    if (h->kind == RUN_HOP_FMAP) machine_address(h->level, h->from, from, sizeof from);
    else if (shortcut) snprintf(from, sizeof from, "virtual 0x%06" PRIx32, h->from);
    else snprintf(from, sizeof from, "L%u virtual 0x%06" PRIx32, h->level, h->from);
    if (h->ok) machine_address(h->to_machine, h->to, to, sizeof to);
    else if (h->kind == RUN_HOP_FMAP) snprintf(to, sizeof to, "not mapped");
    else snprintf(to, sizeof to, "fault (%s)", isa_mem_fault_phrase(h->detail));
    switch (h->kind) {
    case RUN_HOP_RELOCATED:
        snprintf(how, sizeof how, "relocated: base 0x%06" PRIx32 " + va, bound 0x%06" PRIx32, h->base, h->bound);
        break;
    case RUN_HOP_PAGED:
        if (h->has_pte) {
            char at[48];
            machine_address(h->to_machine, h->pte_at, at, sizeof at);
            char what[32] = "invalid";
            if (h->pte & PTE_V)
                snprintf(what, sizeof what, "V%c, frame 0x%06" PRIx32, (h->pte & PTE_W) ? 'W' : '-',
                         isa_pte_frame(h->pte));
            snprintf(how, sizeof how, "paged: vpn 0x%" PRIx32 ", entry at %s = 0x%08" PRIx32 " (%s)", h->vpn,
                     at, h->pte, what);
        } else {
            snprintf(how, sizeof how, "paged: vpn 0x%" PRIx32 " has no entry (table at 0x%06" PRIx32 ", %" PRIu32 " entries)",
                     h->vpn, h->base, h->bound);
        }
        break;
    case RUN_HOP_FMAP: {
        char keeper[96];
        commands_level_name(c->e, h->level - 1, keeper, sizeof keeper);
        if (h->ok)
            snprintf(how, sizeof how, "f-map kept by %s: [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> 0x%06" PRIx32,
                     keeper, h->extent.from, h->extent.from + h->extent.words, h->extent.to);
        else snprintf(how, sizeof how, "f-map kept by %s", keeper);
        break;
    }
    }
    fprintf(c->out, "  %s -> %s   %s\n", from, to, how);
}

/* The real table's entry that made the shortcut fault is one the C VMM
 * fills or interprets at the fault (not filled, interpreted, past its
 * capacity): the fault is its own, never the level's. */
static bool hidden_fault(const struct engine *e, unsigned L, const struct run_hop *h)
{
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = engine_page_tables(e, L, t, RUN_MAX_PAGE_TABLES);
    for (unsigned k = 0; k < n; k++) {
        if (t[k].walker != RUN_WALK_HARDWARE || t[k].kind != RUN_TABLE_C_SHADOW) continue;
        uint32_t pte = 0;
        const bool present = engine_page_entry(e, &t[k], h->vpn, &pte);
        struct run_pte_meaning m;
        engine_pte_decode(e, &t[k], present, pte, &m);
        return m.mark == RUN_PTE_NOT_FILLED || m.mark == RUN_PTE_INTERPRETED || m.mark == RUN_PTE_ABSENT;
    }
    return false;
}

static int cmd_translate(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned L = engine_code_level(c->e, c->level);
    if (argc == 2 && !parse_level(c, argv[1], &L))
        return error(c, "translate ADDR [LEVEL]: expected a level from 0 to %u, got '%s'",
                     engine_level_count(c->e) - 1, argv[1]);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    if (v.host_code)
        return error(c, "%s is host code: it has no virtual addresses (its guest is L%u)", name, L + 1);
    uint32_t va;
    if (!parse_number(argv[0], &va) && !(strcmp(argv[0], "pc") == 0 && engine_pc(c->e, L, &va)))
        return error(c, "'%s' is not a virtual address (a number, or pc)", argv[0]);
    struct run_chain ch;
    if (!engine_translate_chain(c->e, L, va, &ch)) return error(c, "%s has no virtual addresses", name);
    fprintf(c->out, "%s, virtual 0x%06" PRIx32 ", level by level:\n", name, va);
    for (unsigned i = 0; i < ch.n; i++) report_hop(c, &ch.hop[i], false);
    if (ch.ok) fprintf(c->out, "  real 0x%06" PRIx32 " holds 0x%08" PRIx32 "\n", ch.real, ch.word);
    char state[200];
    commands_format_state(c->e, L, state, sizeof state);
    if (ch.by == RUN_WALK_INTERPRETER) {
        fprintf(c->out, "the hardware: no shortcut; the C VMM's interpreter runs L%u and walks its tables\n", L);
    } else if (!ch.has_shortcut) {
        fprintf(c->out, "the hardware: no shortcut now: L%u is %s\n", L, state);
    } else {
        fprintf(c->out, "the hardware, while L%u runs, in one hop with the real PSW:\n", L);
        report_hop(c, &ch.shortcut, true);
        const struct run_hop *s = &ch.shortcut;
        if (!ch.shortcut_ready)
            fprintf(c->out, "  not yet: the C VMM builds that table from L%u's before its next "
                            "instruction, so this entry is not yet L%u's\n", L, L);
        else if (s->ok && ch.ok && s->to == ch.real) fprintf(c->out, "  the same real word\n");
        else if (!s->ok && !ch.ok) fprintf(c->out, "  a fault as well\n");
        else if (!s->ok && hidden_fault(c->e, L, s))
            fprintf(c->out, "  a hidden fault: the C VMM fixes its entry (or interprets the access) and "
                            "retries; L%u never sees it\n", L);
        else
            fprintf(c->out, "  not the same as the chain: a table entry changed since the last flush "
                            "(tlbflush or PSW load), which the hardware need not see before it\n");
    }
    return 0;
}

static void info_output(struct cmd_ctx *c)
{
    size_t len;
    const uint8_t *out = engine_output(c->e, &len);
    fprintf(c->out, "console output so far, %zu bytes:\n", len);
    fwrite(out, 1, len, c->out);
    if (len && out[len - 1] != '\n') fputc('\n', c->out);
}

static int cmd_info(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    const char *t = argv[0];
    size_t n = strlen(t);
    const char *topic = NULL;
    for (size_t i = 0; info_topics[i]; i++)
        if (strncmp(info_topics[i], t, n) == 0) {
            const char *named = info_topic_of(info_topics[i]);
            if (topic && strcmp(topic, named) != 0) return error(c, "'info %s' is ambiguous", t);
            topic = named;
        }
    if (!topic) return error(c, "info what? regs, psw, levels, traps, breaks, fmap, pagetable, shadow, output");
    unsigned L = c->level;
    if (strcmp(topic, "regs") == 0) info_regs(c, L);
    else if (strcmp(topic, "psw") == 0) info_psw(c, L);
    else if (strcmp(topic, "levels") == 0) info_levels(c);
    else if (strcmp(topic, "traps") == 0) info_traps(c, argc, argv);
    else if (strcmp(topic, "breaks") == 0) info_breaks(c);
    else if (strcmp(topic, "fmap") == 0) info_fmap(c);
    else if (strcmp(topic, "pagetable") == 0) info_pagetable(c);
    else if (strcmp(topic, "shadow") == 0) return info_shadow(c, argc, argv);
    else info_output(c);
    return 0;
}

/* x/NF: N units of format F: x hex, d signed, u unsigned (words), i
 * instructions, s strings (one character a word, to a 0 word). */
static bool parse_x_suffix(struct cmd_ctx *c, const char *sfx, uint32_t *n, char *fmt)
{
    *fmt = 'x';
    *n = 0;
    if (!sfx) return *n = 8, true;
    char *end;
    unsigned long v = isdigit((unsigned char)*sfx) ? strtoul(sfx, &end, 10) : (end = (char *)sfx, 0);
    if (*end && (end[1] || !strchr("xduis", *end)))
        return error(c, "x/NF: N a count, F one of x d u i s; got '/%s'", sfx), false;
    if (*end) *fmt = *end;
    if (end == sfx) v = *fmt == 's' ? 1 : 8;
    if (v == 0 || v > 4096) return error(c, "x/N: N is a count from 1 to 4096, got '%s'", sfx), false;
    *n = (uint32_t)v;
    return true;
}

/* One string at a (virtual when virt): its characters, to a 0 word. */
static uint32_t x_string(struct cmd_ctx *c, unsigned L, uint32_t a, bool virt)
{
    fprintf(c->out, "0x%06" PRIx32 ": \"", a);
    uint32_t i = 0, w = 0;
    for (; i < 4096; i++) {
        uint32_t pa = a + i;
        if ((virt && !engine_translate(c->e, L, a + i, &pa, NULL)) || !engine_read_phys(c->e, L, pa, &w)) {
            fprintf(c->out, "\" <%s>\n", virt ? "fault" : "past memory");
            return i + 1;
        }
        if (w == 0) break;
        const unsigned ch = w & 0xff;
        if (ch == '\n') fprintf(c->out, "\\n");
        else if (ch == '"' || ch == '\\') fprintf(c->out, "\\%c", ch);
        else if (isprint((int)ch)) fputc((int)ch, c->out);
        else fprintf(c->out, "\\x%02x", ch);
    }
    fprintf(c->out, "\"\n");
    return i + 1;
}

static int cmd_x(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    uint32_t n;
    char fmt;
    if (!parse_x_suffix(c, sfx, &n, &fmt)) return -1;
    unsigned L = c->level;
    bool given, virt = false;
    if (!level_suffix(c, &argc, argv, &L, &given)) return -1;
    if (!given && argc >= 2 && parse_level(c, argv[argc - 1], &L) && (argv[argc - 1][0] == 'L' || argv[argc - 1][0] == 'l'))
        argc--;
    if (argc >= 2 && (strcmp(argv[argc - 1], "virtual") == 0 || strcmp(argv[argc - 1], "v") == 0)) virt = true, argc--;
    else if (argc >= 2 && (strcmp(argv[argc - 1], "physical") == 0 || strcmp(argv[argc - 1], "p") == 0)) argc--;
    if (argc == 0) return error(c, "x/NF ADDR [virtual|physical] [at LEVEL]: which address?");
    uint32_t addr;
    if (virt) {
        char text[LINE_MAX_LEN], err[160];
        join_args(argc, argv, text, sizeof text);
        if (!eval_at(c, L, text, &addr, err, sizeof err)) return error(c, "'%s' is not a virtual address: %s", text, err);
    } else if (!parse_addr_expr(c, L, argc, argv, &addr)) {
        return -1;
    }
    c->mem_addr = addr;
    c->mem_level = L;
    if (fmt == 's') {
        for (uint32_t k = 0, a = addr; k < n; k++) a += x_string(c, L, a, virt);
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = addr + i, pa = a, w;
        const bool ok = (!virt || engine_translate(c->e, L, a, &pa, NULL)) && engine_read_phys(c->e, L, pa, &w);
        const char *label = engine_label_at(c->e, L, pa);
        if (fmt == 'i') {
            char text[96];
            if (label) fprintf(c->out, "%s:\n", label);
            if (ok && virt) engine_disassemble(c->e, L, a, NULL, text, sizeof text);
            else if (ok) isa_disassemble(w, a, NULL, NULL, text, sizeof text);
            fprintf(c->out, "  0x%06" PRIx32 "  %s\n", a, ok ? text : virt ? "<fault>" : "<none>");
            continue;
        }
        if (i % 4 == 0)
            fprintf(c->out, "%s0x%06" PRIx32 "%s%s%s:", i ? "\n" : "", a, label ? " <" : "", label ? label : "",
                    label ? ">" : "");
        if (!ok) fprintf(c->out, " %10s", virt ? "<fault>" : "<none>");
        else if (fmt == 'd') fprintf(c->out, " %11" PRId32, (int32_t)w);
        else if (fmt == 'u') fprintf(c->out, " %10" PRIu32, w);
        else fprintf(c->out, " 0x%08" PRIx32, w);
    }
    if (fmt != 'i') fputc('\n', c->out);
    return 0;
}

static int cmd_disas(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned L = engine_code_level(c->e, c->level);
    uint32_t n = 10, pc = 0, start;
    bool around_pc = argc == 0;
    if (argc == 2 && (!parse_number(argv[1], &n) || n == 0 || n > 1000))
        return error(c, "disas [ADDR [N]]: N is a count from 1 to 1000");
    if (around_pc) {
        if (!engine_pc(c->e, L, &pc)) return error(c, "level %u has no pc", L);
        start = pc >= 3 ? pc - 3 : 0;
    } else if (!parse_addr(c, L, argv[0], &start)) {
        return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = start + i, pa = a, w = 0;
        char text[96], where[64] = "";
        bool ok;
        if (around_pc) {
            ok = engine_disassemble(c->e, L, a, &w, text, sizeof text);
            if (ok) engine_translate(c->e, L, a, &pa, NULL);
        } else {
            ok = engine_read_phys(c->e, L, a, &w);
            if (ok) isa_disassemble(w, a, NULL, NULL, text, sizeof text);
            else snprintf(text, sizeof text, "<beyond memory>");
        }
        const char *label = ok ? engine_label_at(c->e, L, pa) : NULL;
        if (label) fprintf(c->out, "%s:\n", label);
        if (ok) engine_source_line(c->e, L, pa, where, sizeof where, NULL);
        fprintf(c->out, "%s 0x%06" PRIx32 "  %08" PRIx32 "  %-28s%s%s%s\n",
                around_pc && a == pc ? "=>" : "  ", a, w, text, *where ? " [" : "", where,
                *where ? "]" : "");
    }
    return 0;
}

static int cmd_level(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0) {
        info_levels(c);
        return 0;
    }
    unsigned n = engine_level_count(c->e), L;
    if (strcmp(argv[0], "+") == 0 || strcmp(argv[0], "up") == 0) L = c->level + 1 < n ? c->level + 1 : c->level;
    else if (strcmp(argv[0], "-") == 0 || strcmp(argv[0], "down") == 0) L = c->level ? c->level - 1 : 0;
    else if (!parse_level(c, argv[0], &L))
        return error(c, "expected a level from 0 to %u, or + or -", n - 1);
    c->level = L;
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    fprintf(c->out, "level %s\n", name);
    report_location(c, L);
    return 0;
}

/* set $r1 = V (gdb), set var $r1 = V, set [reg] r1 V: V an expression. */
static int cmd_set(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc && (strcmp(argv[0], "reg") == 0 || strcmp(argv[0], "var") == 0 || strcmp(argv[0], "variable") == 0))
        argc--, argv++;
    char text[LINE_MAX_LEN], err[160];
    join_args(argc, argv, text, sizeof text);
    char *rhs = strchr(text, '=');
    if (rhs) *rhs++ = '\0';
    else if ((rhs = strchr(text, ' ')) != NULL) *rhs++ = '\0';
    char *name = text;
    while (*name == ' ') name++;
    size_t len = strlen(name);
    while (len && name[len - 1] == ' ') name[--len] = '\0';
    if (!rhs || !*name) return error(c, "usage: set $REG = VALUE (or set REG VALUE)");
    if (*name == '$') name++;
    unsigned r;
    if (!parse_reg(name, &r))
        return error(c, "'%s' is not a register that can be set (r1..r15, sp, lr, pc)", name);
    uint32_t v;
    if (!commands_eval(c, rhs, &v, err, sizeof err)) return error(c, "%s", err);
    if (!engine_set_reg(c->e, engine_code_level(c->e, c->level), r, v, err, sizeof err))
        return error(c, "%s", err);
    fprintf(c->out, "%s = 0x%08" PRIx32 "\n", name, v);
    return 0;
}

static const char *nearest_command(const char *name);

/* input [-n] TEXT: types TEXT (escapes \n \t \\ \xHH; spaces between words
 * as one) and a newline, unless -n, to the program's console. */
static int cmd_input(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    bool newline = true;
    if (argc && strcmp(argv[0], "-n") == 0) newline = false, argc--, argv++;
    char text[LINE_MAX_LEN], err[160];
    join_args(argc, argv, text, sizeof text);
    uint8_t bytes[LINE_MAX_LEN + 1];
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p != '\\') {
            bytes[n++] = (uint8_t)*p;
            continue;
        }
        p++;
        if (*p == 'n') bytes[n++] = '\n';
        else if (*p == 't') bytes[n++] = '\t';
        else if (*p == '\\') bytes[n++] = '\\';
        else if (*p == 'x' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            bytes[n++] = (uint8_t)strtoul(hex, NULL, 16);
            p += 2;
        } else return error(c, "input: unknown escape '\\%c' (\\n \\t \\\\ \\xHH)", *p ? *p : ' ');
    }
    if (newline) bytes[n++] = '\n';
    if (!engine_feed_input(c->e, bytes, n, err, sizeof err)) return error(c, "%s", err);
    fprintf(c->out, "typed %zu byte%s at step %" PRIu64 "\n", n, n == 1 ? "" : "s", engine_guest_steps(c->e));
    return 0;
}

static int cmd_help(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (!commands_help(c->out, argc ? argv[0] : NULL)) {
        const char *near = nearest_command(argv[0]);
        if (near) return error(c, "no command '%s'; did you mean '%s'?", argv[0], near);
        return error(c, "no command '%s'", argv[0]);
    }
    return 0;
}

/* ---- trace save: the steps so far as a diagram (vmm/run/diagram.h) ------------------------ */

/* The window a `trace save` draws: FROM [TO] as given; else, for a
 * sequence, the last DIAGRAM_MAX_DRAWN traps; for a tree, the cascade of
 * the program's latest trap.  False after an error. */
static bool save_window(struct cmd_ctx *c, enum diagram_kind kind, const uint64_t *step, int nsteps,
                        struct diagram_window *w)
{
    *w = (struct diagram_window){0, UINT64_MAX, false};
    const uint64_t total = engine_trap_total(c->e);
    if (kind == DIAGRAM_TREE) {
        w->cascade = true;
        if (nsteps == 1) {
            w->from = w->to = step[0];
            return true;
        }
        const unsigned program = engine_program_level(c->e);
        for (uint64_t seq = total; seq > 0; seq--) {
            const struct run_event *ev = engine_trap_get(c->e, seq);
            if (!ev) break; /* not kept any more */
            if (ev->arose == program && ev->cause != CAUSE_TIMER && ev->cause != CAUSE_IO) {
                w->from = w->to = ev->guest_step;
                return true;
            }
        }
        error(c, "the program has taken no trap so far (or none the log still keeps): give its STEP");
        return false;
    }
    if (nsteps >= 1) w->from = step[0];
    if (nsteps == 2) w->to = step[1];
    if (w->from > w->to) {
        error(c, "the window is empty: %" PRIu64 " is after %" PRIu64, w->from, w->to);
        return false;
    }
    if (nsteps == 0 && total > DIAGRAM_MAX_DRAWN) {
        const struct run_event *ev = engine_trap_get(c->e, total - DIAGRAM_MAX_DRAWN + 1);
        if (ev) w->from = ev->guest_step;
    }
    return true;
}

/* Draws kind into *text: the memory of now, or the window replayed from
 * the start on a copy of the session.  False after an error. */
static bool save_draw(struct cmd_ctx *c, enum diagram_kind kind, const struct diagram_window *w, char **text,
                      size_t *len, uint64_t *traps)
{
    char spec[96], title[300], err[200] = "";
    run_spec_format(run_spec_of(engine_run(c->e)), spec, sizeof spec);
    const uint64_t now = engine_guest_steps(c->e);
    FILE *out = open_memstream(text, len);
    if (!out) return error(c, "out of memory"), false;
    int rc = 0;
    if (kind == DIAGRAM_MEMORY) {
        snprintf(title, sizeof title, "the debug session on %s: memory after %" PRIu64 " steps", spec, now);
        diagram_memory(out, engine_run(c->e), 0, title);
    } else {
        struct diagram_recorder rec;
        diagram_recorder_init(&rec, engine_run(c->e), *w);
        /* The replay starts at time 0, where no level has run anything yet. */
        memset(rec.before, 0, sizeof rec.before);
        struct run *copy = engine_replay_copy(c->e, &(struct run_hooks){&rec, diagram_record, NULL});
        if (!copy) {
            rc = -1;
            snprintf(err, sizeof err, "out of memory");
        } else {
            diagram_recorder_finish(&rec, copy);
            *traps = rec.in_window;
            if (w->cascade && rec.n)
                snprintf(title, sizeof title, "the debug session on %s: the cascade of the trap at step %" PRIu64,
                         spec, rec.steps[0].e.guest_step);
            else
                snprintf(title, sizeof title, "the debug session on %s: steps %" PRIu64 "..%" PRIu64 " (now %" PRIu64 ")",
                         spec, w->from, w->to < now ? w->to : now, now);
            rc = kind == DIAGRAM_SEQUENCE ? diagram_sequence(out, copy, &rec, title, err, sizeof err)
                                          : diagram_tree(out, copy, &rec, title, err, sizeof err);
            run_destroy(copy);
        }
        diagram_recorder_free(&rec);
    }
    fclose(out);
    if (rc != 0) {
        free(*text);
        *text = NULL;
        return error(c, "%s", err), false;
    }
    return true;
}

static int cmd_trace_save(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (strcmp(argv[0], "save") != 0 || argc < 2)
        return error(c, "usage: trace save FILE [sequence|tree|memory] [FROM [TO]]");
    const char *path = argv[1];
    enum graphviz_format format;
    if (!graphviz_format_of_path(path, &format))
        return error(c, "'%s': the file's name says what to write: .dot (or .gv), .svg or .png", path);
    enum diagram_kind kind = DIAGRAM_SEQUENCE;
    int k = 2;
    if (k < argc && diagram_kind_by_name(argv[k], &kind)) k++;
    uint64_t step[2];
    int nsteps = 0;
    for (; k < argc; k++) {
        if (nsteps == 2 || !options_parse_u64(argv[k], &step[nsteps]))
            return error(c, "'%s': expected a step of the program (trace save FILE [KIND] [FROM [TO]])", argv[k]);
        nsteps++;
    }
    if (kind == DIAGRAM_MEMORY && nsteps) return error(c, "a memory map is drawn as of now: no steps");
    if (kind == DIAGRAM_TREE && nsteps > 1) return error(c, "a tree is of one step: trace save FILE tree [STEP]");
    struct diagram_window w;
    if (!save_window(c, kind, step, nsteps, &w)) return -1;
    char *text = NULL, why[600];
    size_t len = 0;
    uint64_t traps = 0;
    if (!save_draw(c, kind, &w, &text, &len, &traps)) return -1;
    bool ok = graphviz_write(text, len, diagram_layout(kind), format, path, why, sizeof why);
    free(text);
    if (!ok) return error(c, "%s", why);
    if (kind == DIAGRAM_MEMORY) fprintf(c->out, "wrote %s: the memory map\n", path);
    else fprintf(c->out, "wrote %s: the %s of %" PRIu64 " trap%s\n", path, diagram_kind_name(kind), traps,
                 traps == 1 ? "" : "s");
    return 0;
}

static int cmd_quit(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc, (void)argv;
    c->quit = true;
    return 0;
}

/* ---- The table ------------------------------------------------------------------------------ */

static const char *const trace_words[] = {"save", NULL};
static const char *const display_words[] = {"$pc", "$sp", "$lr", "$m", "$flags", NULL};

/* The commands, one row each: name, aliases, operands (min, max, for help),
 * one line of help, an example for `help CMD`, completions, handler.
 * A new command is a new row (and its handler above). */
static const struct cmd_spec table[] = {
    {"step", "s si stepi", 0, 1, "[N]", "one instruction of the selected level (N times)",
     "step 3: three instructions of the selected level; at the C VMM's level, its next action", NULL, cmd_step},
    {"next", "n ni nexti", 0, 1, "[N]", "the same, running a trap into the level's own handler through",
     "next: over an svc, to the instruction after it", NULL, cmd_next},
    {"until", "u", 0, MAX_ARGS, "[ADDR]", "run to ADDR of the selected level (none: like next)",
     "until done: to the label done, or a breakpoint first", NULL, cmd_until},
    {"finish", "fin", 0, 0, "", "run until the selected level returns to lr (the caller)",
     "finish: inside a routine called with jal, back to its caller", NULL, cmd_finish},
    {"until-trap", "t ut", 0, 0, "", "run to the next trap, at any level",
     "until-trap: to the next trap, once handled; the trap is named", NULL, cmd_until_trap},
    {"continue", "c cont", 0, 0, "", "run to a breakpoint or the end", "continue", NULL, cmd_continue},
    {"reverse-step", "rs rsi", 0, 1, "[N]", "go back one instruction of the selected level (N at once)",
     "reverse-step 1000: back 1000 instructions, in one replay", NULL, cmd_reverse_step},
    {"reverse-next", "rn rni", 0, 1, "[N]", "go back one instruction, over a trap's handler as next steps over it",
     "reverse-next: from just after an svc, back to the svc", NULL, cmd_reverse_next},
    {"reverse-continue", "rc", 0, 0, "", "go back to the last point a breakpoint would have stopped",
     "reverse-continue: back to the latest earlier stop of a breakpoint (its hit count grows)", NULL,
     cmd_reverse_continue},
    {"break", "b br", 1, 4, "ADDR|LABEL | trap [CAUSE] [at LEVEL] | mode | level N", "set a breakpoint",
     "break trap PRIV at 1: when a privileged instruction of L1 traps (CAUSE: PRIV MEM ILL DIV SVC HCALL "
     "TIMER IO, or any)", break_words, cmd_break},
    {"tbreak", "tb", 1, MAX_ARGS, "ADDR|LABEL", "a breakpoint deleted once it stops a run",
     "tbreak loop+2: stops once at loop+2", NULL, cmd_tbreak},
    {"watch", "wa", 1, MAX_ARGS, "ADDR [at LEVEL]", "stop when the word at ADDR of a level's memory changes",
     "watch counter at 1: when L1's word at the label counter changes (ADDR is L-physical)", NULL, cmd_watch},
    {"toggle", "tog", 1, 1, "ADDR|LABEL", "set or delete the breakpoint at an address",
     "toggle loop: a breakpoint at loop, or none if there was one", NULL, cmd_toggle},
    {"delete", "d del", 0, 1, "[N|all]", "delete breakpoint N (or all)", "delete 2", NULL, cmd_delete},
    {"print", "p", 1, MAX_ARGS, "[/x|/d|/u] EXPR", "the value of an expression",
     "print $r1 + 4*[sp]: registers ($r1, $pc, $m the mode bit M), PSW fields, labels, *ADDR or [ADDR] "
     "a word", display_words, cmd_print},
    {"display", "disp", 0, MAX_ARGS, "[EXPR]", "show EXPR after every stop (none: show them now)",
     "display $r1", display_words, cmd_display},
    {"undisplay", "undisp", 0, 1, "[N]", "stop showing display N (none: all)", "undisplay 1", NULL, cmd_undisplay},
    {"trace", "", 2, 5, "save FILE [sequence|tree|memory] [FROM [TO]]",
     "draw the steps so far with graphviz (FILE's .dot, .svg or .png says how)",
     "trace save t.svg: the last 60 traps as a sequence diagram; trace save t.png tree: the cascade of "
     "the program's latest trap; trace save m.svg memory: each machine's memory now", trace_words, cmd_trace_save},
    {"info", "i", 1, MAX_ARGS, "regs|psw|levels|traps [N] [FILTER]|breaks|fmap|pagetable|shadow [LEVEL]|output",
     "show state", "info traps 5 L1 -out: the last five traps of L1 but its out instructions (FILTER: causes, "
     "levels LN, mnemonics, -WORD to leave out)", info_topics, cmd_info},
    {"x", "", 1, MAX_ARGS, "/NF ADDR [virtual|physical] [at LEVEL]",
     "N words of memory in format F: x d u (words), i (instructions), s (strings)",
     "x/4x msg, x/3i pc virtual, x/s msg, x/8d 0x100 at 1 (physical unless virtual)", NULL, cmd_x},
    {"translate", "tr", 1, 2, "ADDR [LEVEL]", "a virtual address, level by level to the real word",
     "translate 0x5 2: L2's virtual 0x5, hop by hop", NULL, cmd_translate},
    {"disas", "disassemble", 0, 2, "[ADDR [N]]", "disassemble around pc, or N words at ADDR", "disas _start 4",
     NULL, cmd_disas},
    {"level", "", 0, 1, "[N|+|-]", "select a level (none: list them)", "level 1", NULL, cmd_level},
    {"set", "", 2, MAX_ARGS, "$REG = VALUE", "set a register (r1..r15, sp, lr, pc) of the selected level",
     "set $r1 = 5 (also: set r1 5, set reg r1 5, set var $pc = loop)", NULL, cmd_set},
    {"input", "type", 0, MAX_ARGS, "[-n] TEXT", "type TEXT and a newline (-n: none) to the program's console",
     "input hello: the program reads \"hello\\n\" from port 1; recorded, so going back replays it", NULL,
     cmd_input},
    {"help", "h ?", 0, 1, "[COMMAND]", "this list, or one command", "help break", NULL, cmd_help},
    {"quit", "q exit", 0, 0, "", "leave", "quit", NULL, cmd_quit},
};
#define NCOMMANDS (sizeof table / sizeof table[0])

const struct cmd_spec *commands_table(size_t *n)
{
    *n = NCOMMANDS;
    return table;
}

static bool has_alias(const struct cmd_spec *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *a = s->aliases; *a;) {
        size_t len = strcspn(a, " ");
        if (len == n && strncmp(a, name, n) == 0) return true;
        a += len;
        while (*a == ' ') a++;
    }
    return false;
}

/* By name, alias, or unique prefix of a name.  *ambiguous is set when a
 * prefix names several. */
static const struct cmd_spec *lookup(const char *name, bool *ambiguous)
{
    *ambiguous = false;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(table[i].name, name) == 0 || has_alias(&table[i], name)) return &table[i];
    const struct cmd_spec *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strncmp(table[i].name, name, n) == 0) {
            if (found) {
                *ambiguous = true;
                return NULL;
            }
            found = &table[i];
        }
    return found;
}

/* The command name or alias closest to a mistyped one, or NULL. */
static const char *nearest_command(const char *name)
{
    struct suggest sg;
    suggest_init(&sg, name);
    for (size_t i = 0; i < NCOMMANDS; i++) suggest_offer(&sg, table[i].name);
    return suggest_best(&sg);
}

static void help_line(FILE *out, const struct cmd_spec *s)
{
    char left[80];
    snprintf(left, sizeof left, "%s%s%s", s->name, s->args[0] == '/' ? "" : " ", s->args);
    if (strlen(left) > 26) fprintf(out, "  %s\n  %-26s %s", left, "", s->help);
    else fprintf(out, "  %-26s %s", left, s->help);
    if (s->aliases[0]) fprintf(out, " (also: %s)", s->aliases);
    fputc('\n', out);
}

bool commands_help(FILE *out, const char *name)
{
    if (name) {
        bool amb;
        const struct cmd_spec *s = lookup(name, &amb);
        if (!s) return false;
        fprintf(out, "%s%s%s: %s\n", s->name, s->args[0] == '/' || !s->args[0] ? "" : " ", s->args, s->help);
        if (s->aliases[0]) fprintf(out, "  also: %s\n", s->aliases);
        fprintf(out, "  example: %s\n", s->example);
        return true;
    }
    fprintf(out, "commands (a unique prefix will do):\n");
    for (size_t i = 0; i < NCOMMANDS; i++) help_line(out, &table[i]);
    fprintf(out, "ADDR is a number (0x hex), a label, label+N or pc: a word of the level's physical\n"
                 "memory, as in the listing (translate's is virtual: a number, or pc).  Levels\n"
                 "are numbered from the one on the real machine (L0) up to the program; LEVEL\n"
                 "is N or LN: info shadow's is the program's unless given, translate's the\n"
                 "selected one's.\n");
    return true;
}

int commands_execute(struct cmd_ctx *c, const char *line)
{
    char buf[LINE_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", line);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *tok = strtok(buf, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
        if (argc == 0 && tok[0] == '#') return 0;
        if (argc == MAX_ARGS + 1) return error(c, "too many operands");
        argv[argc++] = tok;
    }
    if (argc == 0) return 0;
    char *sfx = strchr(argv[0], '/');
    if (sfx) *sfx++ = '\0';
    bool ambiguous;
    const struct cmd_spec *s = lookup(argv[0], &ambiguous);
    if (!s && ambiguous) return error(c, "'%s' is ambiguous (help lists the commands)", argv[0]);
    if (!s) {
        const char *near = nearest_command(argv[0]);
        if (near) return error(c, "unknown command '%s'; did you mean '%s'? (help lists the commands)", argv[0], near);
        return error(c, "unknown command '%s' (help lists the commands)", argv[0]);
    }
    if (sfx && s->run != cmd_x && s->run != cmd_print) return error(c, "%s takes no /suffix", s->name);
    int n = argc - 1;
    if (n < s->min_args || n > s->max_args) {
        fprintf(c->out, "error: %s takes %s%d operand%s; usage: %s %s\n", s->name,
                s->min_args == s->max_args ? "" : n < s->min_args ? "at least " : "at most ",
                n < s->min_args ? s->min_args : s->max_args,
                (n < s->min_args ? s->min_args : s->max_args) == 1 ? "" : "s", s->name, s->args);
        return -1;
    }
    /* A command stops the motion under way, but typing to the program. */
    if (c->running && s->run != cmd_quit && s->run != cmd_input) commands_interrupt(c);
    return s->run(c, sfx, n, argv + 1);
}

void commands_complete(const struct cmd_ctx *c, int argi, const char *cmd, const char *prefix,
                       void (*add)(void *ctx, const char *word), void *ctx)
{
    size_t n = strlen(prefix);
    if (argi == 0) {
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strncmp(table[i].name, prefix, n) == 0) add(ctx, table[i].name);
        return;
    }
    bool amb;
    const struct cmd_spec *s = cmd ? lookup(cmd, &amb) : NULL;
    if (s && s->words && argi == 1)
        for (size_t i = 0; s->words[i]; i++)
            if (strncmp(s->words[i], prefix, n) == 0) add(ctx, s->words[i]);
    if (s && s->run == cmd_set) {
        static const char *const regs[] = {"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8",
                                           "r9", "r10", "r11", "r12", "r13", "sp", "lr", "pc", NULL};
        for (size_t i = 0; regs[i]; i++)
            if (strncmp(regs[i], prefix, n) == 0) add(ctx, regs[i]);
    }
    if (s && (s->run == cmd_info || s->run == cmd_help || s->run == cmd_level)) return;
    const char *name;
    for (size_t i = 0; (name = engine_symbol_name(c->e, i)) != NULL; i++)
        if (strncmp(name, prefix, n) == 0) add(ctx, name);
}

void commands_init(struct cmd_ctx *c, struct engine *e, FILE *out)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->out = out;
    c->level = engine_program_level(e);
    c->mem_level = c->level;
    uint32_t pc;
    if (engine_pc(e, c->level, &pc)) c->mem_addr = pc;
}

void commands_where(struct cmd_ctx *c) { report_location(c, c->level); }

/* ---- Sessions -------------------------------------------------------------------------------- */

int commands_parse_session(struct session_args *a, int argc, char **argv, bool allow_script,
                           bool program_optional, const char *summary)
{
    memset(a, 0, sizeof *a);
    const char *cmd = argv[0];
    /* Take -x FILE out; the rest go to the shared parser (options.h). */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fprintf(stderr, "trapeze %s: out of memory\n", cmd);
        return CLI_EXIT_USAGE;
    }
    int n = 0;
    bool only_operands = false;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--") == 0) only_operands = true;
        if (!only_operands && ((strcmp(argv[i], "--input") == 0 && i + 1 < argc && strcmp(argv[i + 1], "-") == 0) ||
                               strcmp(argv[i], "--input=-") == 0)) {
            fprintf(stderr, "trapeze %s: --input -: stdin is the session's own (its commands, its keys); "
                            "give a FILE\n", cmd);
            free(rest);
            return CLI_EXIT_USAGE;
        }
        if (only_operands || !allow_script || strcmp(argv[i], "-x") != 0) {
            rest[n++] = argv[i];
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "trapeze %s: -x needs a value (FILE)\n", cmd);
            free(rest);
            return CLI_EXIT_USAGE;
        }
        a->script = argv[++i];
    }
    int rc = run_options_parse(&a->run, n, rest, summary, program_optional ? "[PROGRAM]" : "PROGRAM",
                               OPTS_SESSION);
    free(rest);
    if (rc) return rc;
    if (a->run.nprograms > 1 || (!program_optional && a->run.nprograms == 0)) {
        fprintf(stderr, "trapeze %s: expected one PROGRAM, got %zu (see trapeze %s --help)\n", cmd,
                a->run.nprograms, cmd);
        return CLI_EXIT_USAGE;
    }
    a->program = a->run.nprograms ? a->run.programs[0] : NULL;
    run_options_disk_media(&a->run, a->disk_media);
    return 0;
}

void commands_session_free(struct session_args *a) { run_options_free(&a->run); }

struct engine_config commands_session_config(struct session_args *a, const char *program)
{
    struct engine_config cfg = {0};
    cfg.program = program;
    cfg.variant = &a->run.variant;
    cfg.mem = a->run.mem;
    cfg.max_steps = a->run.max_steps;
    cfg.input = a->run.input;
    cfg.input_len = a->run.input_len;
    cfg.spec = a->run.spec;
    cfg.asm_vmm_path = a->run.asm_vmm;
    cfg.include_dirs = a->run.include_dirs;
    cfg.ninclude_dirs = a->run.ninclude_dirs;
    cfg.disks = a->disk_media;
    cfg.ndisks = a->run.ndisks;
    if (a->run.ndisks) {
        cfg.disk_sink = disk_file_sink;
        cfg.disk_sink_ctx = a->run.disks;
    }
    return cfg;
}
