/*
 * asm.c: the two-pass assembler.
 *
 * Pass 1 reads every line in order, following .include and expanding macros
 * as it goes, parses it completely and records one statement per instruction
 * or data directive, with its address.  Every size is known in pass 1 (li
 * picks its size from what is known at its line), so pass 1 also defines
 * every label.  Pass 2 evaluates the recorded expressions and encodes; it
 * never reads source text again.
 *
 *   lines --pass 1--> locs, statements (+ expressions), symbols, regions
 *         --pass 2--> segments of words, line map --> struct asm_image
 *
 * Errors are collected with the sequence number of their line and printed
 * sorted, so they come out in source order although the two passes find
 * them at different times.
 */
#include "asm_priv.h"
#include "../isa/suggest.h"

#include "../isa/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define NO_INDEX UINT32_MAX
#define VEC(T)            \
    struct {              \
        T *v;             \
        size_t n, cap;    \
    }
#define PUSH(vec) \
    ((vec).v = asm_grow((vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v), &(vec).v[(vec).n++])

/* ---- Memory ------------------------------------------------------------------ */

static void out_of_memory(void)
{
    fputs("trapeze: out of memory\n", stderr);
    abort();
}

void *asm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *asm_grow(void *v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return v;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) out_of_memory();
        c *= 2;
    }
    void *p = realloc(v, c * elem);
    if (!p) out_of_memory();
    *cap = c;
    return p;
}

char *asm_xstrndup(const char *s, size_t n)
{
    char *p = asm_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A growing string. */
struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int k = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (k < 0) return;
    b->s = asm_grow(b->s, &b->cap, b->n + (size_t)k + 1, 1);
    vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
    b->n += (size_t)k;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(b, fmt, ap);
    va_end(ap);
}

static void sb_putc(struct sbuf *b, char ch)
{
    b->s = asm_grow(b->s, &b->cap, b->n + 2, 1);
    b->s[b->n++] = ch;
    b->s[b->n] = '\0';
}

/* ---- Names ---------------------------------------------------------------------- */

bool asm_is_ident_start(int ch) { return isalpha(ch) || ch == '_' || ch == '.'; }
bool asm_is_ident_char(int ch) { return isalnum(ch) || ch == '_' || ch == '.'; }

static size_t ident_len(const char *p)
{
    size_t n = 0;
    if (!asm_is_ident_start((unsigned char)p[0])) return 0;
    while (asm_is_ident_char((unsigned char)p[n])) n++;
    return n;
}

int asm_register_number(const char *s, size_t len)
{
    if (len == 2 && strncasecmp(s, "sp", 2) == 0) return ISA_REG_SP;
    if (len == 2 && strncasecmp(s, "lr", 2) == 0) return ISA_REG_LR;
    if (len < 2 || len > 3 || (s[0] != 'r' && s[0] != 'R')) return -1;
    if (len == 3 && s[1] == '0') return -1; /* r01 is not a register */
    int n = 0;
    for (size_t i = 1; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        n = n * 10 + (s[i] - '0');
    }
    return n < ISA_NREGS ? n : -1;
}

bool asm_valid_symbol_name(const char *s)
{
    size_t n = ident_len(s);
    return n > 0 && s[n] == '\0' && !(n == 1 && s[0] == '.') && asm_register_number(s, n) < 0;
}

/* ---- Hash table of names ------------------------------------------------------ */

/* Open addressing; a slot holds an index + 1 into the owner's array, 0 = empty. */
struct htab {
    uint32_t *slot;
    size_t cap, n;
};
typedef const char *(*htab_key_fn)(const void *owner, uint32_t index);

static uint64_t hash_name(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint32_t *htab_slot(const struct htab *h, const char *name, size_t len, htab_key_fn key,
                           const void *owner)
{
    size_t mask = h->cap - 1;
    for (size_t i = hash_name(name, len) & mask;; i = (i + 1) & mask) {
        uint32_t s = h->slot[i];
        if (!s) return &h->slot[i];
        const char *k = key(owner, s - 1);
        if (strncmp(k, name, len) == 0 && k[len] == '\0') return &h->slot[i];
    }
}

/* The index stored for name, or NO_INDEX. */
static uint32_t htab_find(const struct htab *h, const char *name, size_t len, htab_key_fn key,
                          const void *owner)
{
    if (h->cap == 0) return NO_INDEX;
    uint32_t s = *htab_slot(h, name, len, key, owner);
    return s ? s - 1 : NO_INDEX;
}

/* Adds index, whose name must not be in the table yet. */
static void htab_insert(struct htab *h, uint32_t index, htab_key_fn key, const void *owner)
{
    if ((h->n + 1) * 2 > h->cap) {
        struct htab bigger = {NULL, h->cap ? h->cap * 2 : 64, h->n};
        bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
        if (!bigger.slot) out_of_memory();
        for (size_t i = 0; i < h->cap; i++)
            if (h->slot[i]) {
                const char *k = key(owner, h->slot[i] - 1);
                *htab_slot(&bigger, k, strlen(k), key, owner) = h->slot[i];
            }
        free(h->slot);
        *h = bigger;
    }
    const char *k = key(owner, index);
    *htab_slot(h, k, strlen(k), key, owner) = index + 1;
    h->n++;
}

/* ---- The assembler's state ------------------------------------------------------ */

struct span {
    uint32_t off, len;
};

struct srcfile {
    char *path;             /* as resolved; names the file in messages and the image */
    char *orig;             /* the text as read; handed to the image */
    char *buf;              /* the same with every line NUL-terminated */
    struct span *lines;
    size_t nlines;
    bool has_id;            /* dev/ino identify it (for include cycles) */
    bool tree;              /* path is an embedded tree path, which identifies it */
    dev_t dev;
    ino_t ino;
};

/* A line being assembled. */
struct loc {
    const char *text;            /* NUL-terminated                          */
    uint32_t file, line;         /* where the text is written               */
    uint32_t map_file, map_line; /* the line its words are credited to      */
    uint32_t seq;                /* order of processing, for sorting errors */
    uint32_t parent;             /* the macro invocation's loc, or NO_INDEX */
    const char *macro;           /* the macro whose body this text is, or NULL */
};

enum term_kind { T_NUM, T_SYM, T_DOT };
struct term {
    uint8_t kind;
    bool neg;
    uint32_t col;
    uint32_t sym;
    int64_t num;
};
/* number/symbol/. terms joined by + and - */
struct expr {
    uint32_t first, count; /* in terms */
    uint32_t loc, col;
    uint32_t dot;          /* the value of '.': the statement's address */
};

enum sym_kind { SYM_UNDEF, SYM_LABEL, SYM_EQU };
enum equ_state { EQU_DONE, EQU_PENDING, EQU_BUSY, EQU_FAILED };
struct sym {
    char *name;
    uint8_t kind;  /* enum sym_kind */
    uint8_t state; /* enum equ_state, for SYM_EQU */
    int64_t value;
    uint32_t loc;  /* definition */
    uint32_t expr; /* SYM_EQU: its expression */
};

struct body_line {
    char *text;
    uint32_t file, line;
};
struct macro {
    char *name;
    char **params;
    size_t nparams;
    VEC(struct body_line) body;
    uint32_t loc;
    bool active; /* being expanded */
};

enum stmt_kind { S_INSN, S_WORDS, S_STRING, S_SPACE };
/* How an instruction's expression becomes its immediate field. */
enum imm_mode {
    IMM_FIELD, /* as the op's operand kind says: imm16, branch offset, imm24 */
    IMM_HI,    /* bits 31..16 of a 32-bit value (li, la) */
    IMM_LO,    /* bits 15..0 */
};
struct stmt {
    uint8_t kind; /* enum stmt_kind */
    uint8_t mode; /* enum imm_mode */
    uint8_t a, b, c;
    const struct isa_op *op;
    const char *name; /* the mnemonic as the user wrote it (li for its lui) */
    uint32_t addr, size;
    uint32_t loc;
    uint32_t expr;    /* S_INSN: expression or NO_INDEX (then imm); S_WORDS: first of size;
                         S_STRING: first byte in as->bytes */
    int32_t imm;
};

/* Words placed contiguously from one .org (or the start). */
struct region {
    uint32_t start;
    uint64_t end;
    uint32_t loc;
};

struct diag {
    uint32_t seq, col, order;
    char *text;
};

struct as {
    FILE *errors;
    struct asm_options opts;
    VEC(struct srcfile) files;
    VEC(struct loc) locs;
    VEC(struct term) terms;
    VEC(struct expr) exprs;
    VEC(struct sym) syms;
    struct htab symtab;
    VEC(struct macro) macros;
    struct htab mactab;
    VEC(struct stmt) stmts;
    VEC(struct region) regions;
    VEC(uint32_t) bytes;
    VEC(char *) arena; /* expanded macro lines */
    VEC(struct diag) diags;

    uint32_t include_stack[ASM_MAX_INCLUDE_DEPTH + 1];
    int include_depth;
    int macro_depth;
    uint32_t expansions;     /* \@ counter */
    uint32_t expanded_lines;
    /* Lines and bytes read in all: each file's every time it is included,
     * each expansion's (ASM_MAX_INPUT_LINES, ASM_MAX_INPUT_BYTES). */
    uint64_t input_lines, input_bytes;

    bool collecting;         /* inside .macro ... .endm */
    bool collect_discard;    /* the .macro line was bad: drop the body */
    int collect_depth;       /* include depth of the .macro line */
    uint32_t collect_col;    /* its column */
    struct macro coll;

    uint64_t pc;
    bool region_open;
    uint32_t org_loc;        /* the .org that starts the next region, or NO_INDEX */
    uint64_t total_words;
    uint32_t entry_expr;     /* NO_INDEX without .entry */
    uint32_t entry_loc;

    uint32_t seq;
    int nerrors;
    bool stopped;            /* stop assembling: too many errors, or a fatal one */
    bool too_many;           /* stopped because of ASM_MAX_ERRORS */
};

static const char *sym_key(const void *owner, uint32_t i)
{
    return ((const struct as *)owner)->syms.v[i].name;
}
static const char *macro_key(const void *owner, uint32_t i)
{
    return ((const struct as *)owner)->macros.v[i].name;
}

/* ---- Errors ------------------------------------------------------------------------ */

/* Writes text for a terminal: control characters and non-ASCII bytes as '?'. */
static void sb_clean(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        sb_putc(b, (ch == '\t' || (ch >= 32 && ch < 127)) ? (char)ch : '?');
    }
}

/* The source line, then a caret under column col; long lines are cut to a
 * window around the column. */
static void sb_echo(struct sbuf *b, const char *text, uint32_t col)
{
    size_t len = strlen(text), at = col ? col - 1 : 0, from = 0, to = len;
    if (at > len) at = len;
    if (len > 160) {
        from = at > 80 ? at - 80 : 0;
        to = from + 160 < len ? from + 160 : len;
    }
    if (from) sb_printf(b, "...");
    sb_clean(b, text + from, to - from);
    if (to < len) sb_printf(b, "...");
    sb_putc(b, '\n');
    if (from) sb_printf(b, "   ");
    for (size_t i = from; i < at; i++) sb_putc(b, text[i] == '\t' ? '\t' : ' ');
    sb_printf(b, "^\n");
}

static const char *loc_path(const struct as *as, uint32_t loc)
{
    return as->files.v[as->locs.v[loc].file].path;
}

static void verror(struct as *as, uint32_t loc, uint32_t col, const char *fmt, va_list ap)
{
    if (as->stopped) return;
    struct sbuf msg = {0}, b = {0};
    sb_vprintf(&msg, fmt, ap);
    uint32_t seq = 0;
    if (loc == NO_INDEX) {
        sb_printf(&b, "%s: error: ", as->files.n ? as->files.v[0].path : "?");
        sb_clean(&b, msg.s, msg.n);
        sb_putc(&b, '\n');
    } else {
        const struct loc *l = &as->locs.v[loc];
        seq = l->seq;
        sb_printf(&b, "%s:%u:%u: error: ", as->files.v[l->file].path, l->line, col);
        sb_clean(&b, msg.s, msg.n);
        sb_putc(&b, '\n');
        sb_echo(&b, l->text, col);
        for (int depth = 0; l->parent != NO_INDEX && depth < 8; depth++) {
            const struct loc *p = &as->locs.v[l->parent];
            sb_printf(&b, "%s:%u: note: in expansion of macro '%s' here\n",
                      as->files.v[p->file].path, p->line, l->macro);
            l = p;
        }
    }
    free(msg.s);
    /* A pseudo-instruction's words share its line and expression (li's lui
     * and ori): the same message twice in a row is said once. */
    const struct diag *prev = as->diags.n ? &as->diags.v[as->diags.n - 1] : NULL;
    if (prev && prev->seq == seq && prev->col == col && strcmp(prev->text, b.s) == 0) {
        free(b.s);
        return;
    }
    *PUSH(as->diags) = (struct diag){seq, col, (uint32_t)as->diags.n, b.s};
    if (++as->nerrors >= ASM_MAX_ERRORS) as->stopped = as->too_many = true;
}

static void error_at(struct as *as, uint32_t loc, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void error_at(struct as *as, uint32_t loc, uint32_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(as, loc, col, fmt, ap);
    va_end(ap);
}

/* ---- Cursor over a line ---------------------------------------------------------- */

struct cur {
    const char *line, *p;
    uint32_t loc;
    uint32_t word_col; /* column of the statement's first word (directive, mnemonic) */
};

static uint32_t col_of(const struct cur *c) { return (uint32_t)(c->p - c->line) + 1; }

static void skip_ws(struct cur *c)
{
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\f' || *c->p == '\v') c->p++;
}

static bool at_end(struct cur *c)
{
    skip_ws(c);
    return *c->p == '\0' || *c->p == ';' || *c->p == '#';
}

/* The length of the word at p for a message: up to a space, a separator or a
 * comment, at least one character and at most 40. */
static int word_len(const char *p)
{
    int n = 0;
    while (p[n] && n < 40 && !isspace((unsigned char)p[n]) && !strchr(",();#", p[n])) n++;
    return (n == 0 && *p) ? 1 : n;
}

static void error_cur(struct as *as, const struct cur *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error_cur(struct as *as, const struct cur *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(as, c->loc, col_of(c), fmt, ap);
    va_end(ap);
}

/* ---- Symbols ------------------------------------------------------------------------ */

static uint32_t intern(struct as *as, const char *name, size_t len)
{
    uint32_t i = htab_find(&as->symtab, name, len, sym_key, as);
    if (i != NO_INDEX) return i;
    i = (uint32_t)as->syms.n;
    *PUSH(as->syms) = (struct sym){asm_xstrndup(name, len), SYM_UNDEF, EQU_DONE, 0, NO_INDEX, NO_INDEX};
    htab_insert(&as->symtab, i, sym_key, as);
    return i;
}

/* Checks that a new symbol may take this name; reports and returns false if not. */
static bool check_new_symbol(struct as *as, uint32_t loc, uint32_t col, const char *name,
                             size_t len, const char *what)
{
    if (len == 1 && name[0] == '.') {
        error_at(as, loc, col, "'.' is the current address and cannot be a %s", what);
        return false;
    }
    if (asm_register_number(name, len) >= 0) {
        error_at(as, loc, col, "'%.*s' is a register and cannot be a %s", (int)len, name, what);
        return false;
    }
    uint32_t i = htab_find(&as->symtab, name, len, sym_key, as);
    if (i != NO_INDEX && as->syms.v[i].kind != SYM_UNDEF) {
        const struct sym *s = &as->syms.v[i];
        const struct loc *d = &as->locs.v[s->loc];
        error_at(as, loc, col, "duplicate %s '%s' (first defined at %s:%u)",
                 s->kind == SYM_LABEL && !strcmp(what, "label") ? "label" : "symbol", s->name,
                 as->files.v[d->file].path, d->line);
        return false;
    }
    return true;
}

static void define_label(struct as *as, uint32_t loc, uint32_t col, const char *name, size_t len)
{
    if (!check_new_symbol(as, loc, col, name, len, "label")) return;
    uint32_t si = intern(as, name, len);
    struct sym *s = &as->syms.v[si];
    s->kind = SYM_LABEL;
    s->value = (int64_t)(as->pc & 0xffffffffu);
    s->loc = loc;
}

/* ---- Expressions ------------------------------------------------------------------- */

#define EXPR_LIMIT ((int64_t)1 << 40)

static bool parse_number(struct as *as, struct cur *c, int64_t *out)
{
    const char *p = c->p;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) base = 2, p += 2;
    uint64_t v = 0;
    int digits = 0;
    bool big = false;
    for (;; p++) {
        int ch = (unsigned char)*p;
        unsigned d = isdigit(ch) ? (unsigned)(ch - '0')
                   : isxdigit(ch) ? (unsigned)(tolower(ch) - 'a' + 10) : 99;
        if (d >= base) break;
        v = v * base + d;
        if (v > 0xffffffffu) big = true, v = 0xffffffffu;
        digits++;
    }
    if (digits == 0 || asm_is_ident_char((unsigned char)*p)) {
        size_t n = 0;
        while (asm_is_ident_char((unsigned char)c->p[n]) && n < 40) n++;
        error_cur(as, c, "bad number '%.*s'", (int)n, c->p);
        return false;
    }
    if (big) {
        error_cur(as, c, "number '%.*s' does not fit in 32 bits", (int)(p - c->p > 40 ? 40 : p - c->p), c->p);
        return false;
    }
    c->p = p;
    *out = (int64_t)v;
    return true;
}

/* One character of a string or character constant; -1 after an error. */
static int read_char(struct as *as, struct cur *c)
{
    unsigned char ch = (unsigned char)*c->p;
    if (ch != '\\') {
        c->p++;
        return ch;
    }
    int v;
    switch (c->p[1]) {
    case 'n': v = '\n'; break;
    case 't': v = '\t'; break;
    case 'r': v = '\r'; break;
    case '0': v = 0; break;
    case '\\': v = '\\'; break;
    case '"': v = '"'; break;
    case '\'': v = '\''; break;
    case '\0': error_cur(as, c, "unterminated escape at the end of the line"); return -1;
    default:
        error_cur(as, c, "unknown escape '\\%c' (use \\n \\t \\r \\0 \\\\ \\\" or \\')", c->p[1]);
        return -1;
    }
    c->p += 2;
    return v;
}

static bool parse_char_constant(struct as *as, struct cur *c, int64_t *out)
{
    struct cur open = *c;
    c->p++;
    if (*c->p == '\'') {
        error_cur(as, &open, "empty character constant");
        return false;
    }
    if (*c->p == '\0') {
        error_cur(as, &open, "unterminated character constant");
        return false;
    }
    int ch = read_char(as, c);
    if (ch < 0) return false;
    if (*c->p != '\'') {
        error_cur(as, &open, "unterminated character constant (one character between quotes)");
        return false;
    }
    c->p++;
    *out = ch;
    return true;
}

/* Parses "text" into *out (bytes, without the terminator). */
static bool parse_string(struct as *as, struct cur *c, struct sbuf *out)
{
    skip_ws(c);
    if (*c->p != '"') {
        if (at_end(c)) error_cur(as, c, "missing operand: expected a string in double quotes");
        else error_cur(as, c, "expected a string in double quotes, found '%.*s'", word_len(c->p), c->p);
        return false;
    }
    struct cur open = *c;
    c->p++;
    for (;;) {
        if (*c->p == '\0') {
            error_cur(as, &open, "unterminated string");
            return false;
        }
        if (*c->p == '"') {
            c->p++;
            return true;
        }
        int ch = read_char(as, c);
        if (ch < 0) return false;
        sb_putc(out, (char)ch);
    }
}

static bool parse_term(struct as *as, struct cur *c, bool neg)
{
    struct term t = {.neg = neg, .col = col_of(c), .sym = NO_INDEX};
    const char *p = c->p;
    if (isdigit((unsigned char)*p)) {
        if (!parse_number(as, c, &t.num)) return false;
        t.kind = T_NUM;
    } else if (*p == '\'') {
        if (!parse_char_constant(as, c, &t.num)) return false;
        t.kind = T_NUM;
    } else if (asm_is_ident_start((unsigned char)*p)) {
        size_t n = ident_len(p);
        if (n == 1 && *p == '.') {
            t.kind = T_DOT;
        } else if (asm_register_number(p, n) >= 0) {
            error_cur(as, c, "register '%.*s' where a value is expected", (int)n, p);
            return false;
        } else {
            t.kind = T_SYM;
            t.sym = intern(as, p, n);
        }
        c->p += n;
    } else if (*p == '\0' || *p == ';' || *p == '#') {
        error_cur(as, c, "expected a value (number, character or symbol)");
        return false;
    } else {
        error_cur(as, c, "expected a value (number, character or symbol), found '%.*s'",
                  word_len(p), p);
        return false;
    }
    *PUSH(as->terms) = t;
    return true;
}

/* Parses [+|-] term {(+|-) term} into a new expression; false after an error. */
static bool parse_expr(struct as *as, struct cur *c, uint32_t *out)
{
    skip_ws(c);
    struct expr e = {(uint32_t)as->terms.n, 0, c->loc, col_of(c), (uint32_t)as->pc};
    bool neg = false;
    if (*c->p == '+' || *c->p == '-') {
        neg = *c->p == '-';
        c->p++;
        skip_ws(c);
    }
    for (;;) {
        if (!parse_term(as, c, neg)) return false;
        skip_ws(c);
        if (*c->p != '+' && *c->p != '-') break;
        neg = *c->p == '-';
        c->p++;
        skip_ws(c);
    }
    e.count = (uint32_t)as->terms.n - e.first;
    *out = (uint32_t)as->exprs.n;
    *PUSH(as->exprs) = e;
    return true;
}

enum ev { EV_OK, EV_UNKNOWN, EV_ERROR };

/* ---- Did you mean ---------------------------------------------------------------------------- */

/* The defined label or .equ closest to an undefined name, or NULL. */
static const char *nearest_label(const struct as *as, const char *name)
{
    struct suggest sg;
    suggest_init(&sg, name);
    for (size_t i = 0; i < as->syms.n; i++)
        if (as->syms.v[i].kind == SYM_LABEL || as->syms.v[i].kind == SYM_EQU) suggest_offer(&sg, as->syms.v[i].name);
    return suggest_best(&sg);
}



static enum ev eval(struct as *as, uint32_t ei, bool final, int depth, int64_t *out,
                    uint32_t *unknown);

/* Gives a pending .equ its value (pass 2); reports at (loc, col), the use. */
static enum ev resolve_equ(struct as *as, uint32_t si, int depth, uint32_t loc, uint32_t col)
{
    struct sym *s = &as->syms.v[si];
    switch ((enum equ_state)s->state) {
    case EQU_DONE: return EV_OK;
    case EQU_FAILED: return EV_ERROR;
    case EQU_BUSY:
        error_at(as, loc, col, "circular definition: '%s' depends on itself", s->name);
        return EV_ERROR;
    case EQU_PENDING: break;
    }
    if (depth > ASM_MAX_EQU_DEPTH) {
        error_at(as, loc, col, "'.equ' names defined through more than %d others", ASM_MAX_EQU_DEPTH);
        s->state = EQU_FAILED;
        return EV_ERROR;
    }
    s->state = EQU_BUSY;
    int64_t v = 0;
    uint32_t ei = s->expr;
    enum ev r = eval(as, ei, true, depth, &v, NULL);
    if (r == EV_OK && (v < INT32_MIN || v > (int64_t)UINT32_MAX)) {
        error_at(as, as->exprs.v[ei].loc, as->exprs.v[ei].col,
                 "value %lld does not fit in 32 bits", (long long)v);
        r = EV_ERROR;
    }
    s = &as->syms.v[si];
    s->state = r == EV_OK ? EQU_DONE : EQU_FAILED;
    s->value = v;
    return r;
}

/* Evaluates an expression.  final (pass 2): every symbol must be defined and
 * errors are reported.  Otherwise (pass 1) returns EV_UNKNOWN, silently, when
 * a symbol is not known yet, and names it in *unknown. */
static enum ev eval(struct as *as, uint32_t ei, bool final, int depth, int64_t *out,
                    uint32_t *unknown)
{
    const struct expr e = as->exprs.v[ei];
    int64_t acc = 0;
    for (uint32_t i = 0; i < e.count; i++) {
        const struct term t = as->terms.v[e.first + i];
        int64_t v = 0;
        switch ((enum term_kind)t.kind) {
        case T_NUM: v = t.num; break;
        case T_DOT: v = e.dot; break;
        case T_SYM: {
            const struct sym *s = &as->syms.v[t.sym];
            if (s->kind == SYM_LABEL || (s->kind == SYM_EQU && s->state == EQU_DONE)) {
                v = s->value;
            } else if (!final) {
                if (unknown) *unknown = t.sym;
                return EV_UNKNOWN;
            } else if (s->kind == SYM_EQU) {
                if (resolve_equ(as, t.sym, depth + 1, e.loc, t.col) != EV_OK) return EV_ERROR;
                v = as->syms.v[t.sym].value;
            } else {
                const char *near = nearest_label(as, s->name);
                if (near) error_at(as, e.loc, t.col, "undefined symbol '%s'; did you mean '%s'?", s->name, near);
                else error_at(as, e.loc, t.col, "undefined symbol '%s'", s->name);
                return EV_ERROR;
            }
            break;
        }
        }
        acc += t.neg ? -v : v;
        if (acc > EXPR_LIMIT || acc < -EXPR_LIMIT) {
            if (!final) return EV_UNKNOWN;
            error_at(as, e.loc, e.col, "expression value out of range");
            return EV_ERROR;
        }
    }
    *out = acc;
    return EV_OK;
}

/* Evaluates in pass 1 an expression that must be known there (.org, .space);
 * false after reporting. */
static bool eval_now(struct as *as, uint32_t ei, const char *what, int64_t *out)
{
    uint32_t unknown = NO_INDEX;
    if (eval(as, ei, false, 0, out, &unknown) == EV_OK) return true;
    const struct expr *e = &as->exprs.v[ei];
    if (unknown != NO_INDEX)
        error_at(as, e->loc, e->col,
                 "%s needs a value known at this line, but '%s' is not defined above it", what,
                 as->syms.v[unknown].name);
    else
        error_at(as, e->loc, e->col, "expression value out of range");
    return false;
}

/* ---- Statements -------------------------------------------------------------------- */

/* Records a statement of size words at the current address. */
static struct stmt *emit(struct as *as, uint32_t loc, enum stmt_kind kind, uint32_t size)
{
    if (as->pc + size > (uint64_t)UINT32_MAX + 1) {
        error_at(as, loc, 1, "the program runs past address 0xffffffff");
        return NULL;
    }
    if (as->total_words + size > ASM_MAX_WORDS) {
        error_at(as, loc, 1, "the program is larger than %u words", ASM_MAX_WORDS);
        as->stopped = true;
        return NULL;
    }
    if (!as->region_open) {
        *PUSH(as->regions) = (struct region){(uint32_t)as->pc, as->pc,
                                             as->org_loc != NO_INDEX ? as->org_loc : loc};
        as->region_open = true;
        as->org_loc = NO_INDEX;
    }
    struct stmt *s = PUSH(as->stmts);
    *s = (struct stmt){.kind = kind, .addr = (uint32_t)as->pc, .size = size, .loc = loc,
                       .expr = NO_INDEX};
    as->pc += size;
    as->total_words += size;
    as->regions.v[as->regions.n - 1].end = as->pc;
    return s;
}

static void emit_insn(struct as *as, uint32_t loc, const char *name, uint8_t opcode, unsigned a,
                      unsigned b, unsigned c, uint32_t expr, int32_t imm, enum imm_mode mode)
{
    struct stmt *s = emit(as, loc, S_INSN, 1);
    if (!s) return;
    s->op = isa_op_by_opcode(opcode);
    s->name = name;
    s->a = (uint8_t)a, s->b = (uint8_t)b, s->c = (uint8_t)c;
    s->expr = expr;
    s->imm = imm;
    s->mode = (uint8_t)mode;
}

/* ---- Operands ----------------------------------------------------------------------- */

/* What each operand kind looks like: r register, e expression, m imm(rs). */
static const struct shape {
    const char *pattern;
    const char *syntax;
} shapes[] = {
    [OPS_NONE] = {"", ""},
    [OPS_RRR] = {"rrr", "rd, rs, rt"},
    [OPS_RRI] = {"rre", "rd, rs, imm"},
    [OPS_RI] = {"re", "reg, imm"},
    [OPS_RR] = {"rr", "rd, rs"},
    [OPS_R] = {"r", "reg"},
    [OPS_MEM] = {"rm", "rd, imm(rs)"},
    [OPS_PSWADDR] = {"m", "imm(rs)"},
    [OPS_BRANCH] = {"rre", "ra, rb, label"},
    [OPS_ADDR] = {"e", "label"},
    [OPS_IMM] = {"e", "imm"},
};

struct operands {
    int reg[3];
    int nreg;
    uint32_t expr; /* NO_INDEX when none (an omitted offset in imm(rs)) */
    int base;      /* m: the base register */
};

static bool parse_reg(struct as *as, struct cur *c, int *out)
{
    skip_ws(c);
    size_t n = ident_len(c->p);
    int r = n ? asm_register_number(c->p, n) : -1;
    if (r < 0) {
        error_cur(as, c, "bad register '%.*s' (expected r0..r15, sp or lr)", word_len(c->p), c->p);
        return false;
    }
    c->p += n;
    *out = r;
    return true;
}

static void missing_operand(struct as *as, struct cur *c, const char *mn, const char *syntax)
{
    error_cur(as, c, "missing operand: '%s' expects %s", mn, syntax);
}

/* Parses the operands described by pattern, up to the end of the line. */
static bool parse_operands(struct as *as, struct cur *c, const char *pattern, const char *mn,
                           const char *syntax, struct operands *o)
{
    *o = (struct operands){{0, 0, 0}, 0, NO_INDEX, 0};
    for (const char *k = pattern; *k; k++) {
        if (k != pattern) {
            if (at_end(c)) return missing_operand(as, c, mn, syntax), false;
            if (*c->p != ',') {
                error_cur(as, c, "expected ',' before '%.*s' ('%s' expects %s)", word_len(c->p),
                          c->p, mn, syntax);
                return false;
            }
            c->p++;
        }
        if (at_end(c)) return missing_operand(as, c, mn, syntax), false;
        switch (*k) {
        case 'r':
            if (!parse_reg(as, c, &o->reg[o->nreg++])) return false;
            break;
        case 'e':
            if (!parse_expr(as, c, &o->expr)) return false;
            break;
        case 'm':
            if (*c->p != '(' && !parse_expr(as, c, &o->expr)) return false;
            skip_ws(c);
            if (*c->p != '(') {
                if (o->expr == NO_INDEX) return missing_operand(as, c, mn, syntax), false;
                o->base = 0; /* a bare address: imm(r0) */
                break;
            }
            c->p++;
            if (at_end(c)) {
                error_cur(as, c, "expected a base register after '('");
                return false;
            }
            if (!parse_reg(as, c, &o->base)) return false;
            skip_ws(c);
            if (*c->p != ')') {
                error_cur(as, c, "expected ')' after the base register");
                return false;
            }
            c->p++;
            break;
        }
    }
    if (!at_end(c)) {
        if (*c->p == ',' && *pattern) {
            c->p++;
            skip_ws(c);
        }
        if (!*pattern) error_cur(as, c, "extra operand '%.*s': '%s' takes no operands", word_len(c->p), c->p, mn);
        else error_cur(as, c, "extra operand '%.*s': '%s' expects %s", word_len(c->p), c->p, mn, syntax);
        return false;
    }
    return true;
}

static void assemble_insn(struct as *as, uint32_t loc, struct cur *c, const struct isa_op *op)
{
    const struct shape *sh = &shapes[op->operands];
    struct operands o;
    if (!parse_operands(as, c, sh->pattern, op->mnemonic, sh->syntax, &o)) return;
    unsigned a = 0, b = 0, cc = 0;
    switch ((enum isa_operands)op->operands) {
    case OPS_NONE: break;
    case OPS_RRR: a = (unsigned)o.reg[0], b = (unsigned)o.reg[1], cc = (unsigned)o.reg[2]; break;
    case OPS_RRI:
    case OPS_RR:
    case OPS_BRANCH: a = (unsigned)o.reg[0], b = (unsigned)o.reg[1]; break;
    case OPS_RI:
    case OPS_R: a = (unsigned)o.reg[0]; break;
    case OPS_MEM: a = (unsigned)o.reg[0], b = (unsigned)o.base; break;
    case OPS_PSWADDR: b = (unsigned)o.base; break;
    case OPS_ADDR:
    case OPS_IMM: break;
    }
    emit_insn(as, loc, op->mnemonic, op->opcode, a, b, cc, o.expr, 0, IMM_FIELD);
}

/* ---- Pseudo-instructions ------------------------------------------------------------- */

enum pseudo_id { P_LI, P_LA, P_MOV, P_NOP, P_PUSH, P_POP, P_RET, P_B, P_BEQZ, P_BNEZ };
static const struct pseudo {
    const char *name;
    enum pseudo_id id;
    const char *pattern, *syntax;
} pseudos[] = {
    {"li", P_LI, "re", "rd, imm32"},     {"la", P_LA, "re", "rd, label"},
    {"mov", P_MOV, "rr", "rd, rs"},      {"nop", P_NOP, "", ""},
    {"push", P_PUSH, "r", "rs"},         {"pop", P_POP, "r", "rd"},
    {"ret", P_RET, "", ""},              {"b", P_B, "e", "label"},
    {"beqz", P_BEQZ, "re", "rs, label"}, {"bnez", P_BNEZ, "re", "rs, label"},
};
#define NPSEUDOS (sizeof pseudos / sizeof pseudos[0])

static const struct pseudo *pseudo_by_name(const char *name)
{
    for (size_t i = 0; i < NPSEUDOS; i++)
        if (strcmp(pseudos[i].name, name) == 0) return &pseudos[i];
    return NULL;
}

/* The mnemonic, pseudo-instruction or macro closest to word[0..n), or NULL. */
static const char *nearest_mnemonic(const struct as *as, const char *word, size_t n)
{
    struct suggest sg;
    suggest_init_len(&sg, word, n);
    for (size_t i = 0; i < isa_op_count(); i++) suggest_offer(&sg, isa_ops()[i].mnemonic);
    for (size_t i = 0; i < NPSEUDOS; i++) suggest_offer(&sg, pseudos[i].name);
    for (size_t i = 0; i < as->macros.n; i++) suggest_offer(&sg, as->macros.v[i].name);
    return suggest_best(&sg);
}

/* Expansions (sp grows down, a push pre-decrements):
 *   li rd, v     addi rd, r0, v            when v is known here and fits imm16
 *                lui rd, v>>16 ; ori rd, rd, v&0xffff   otherwise
 *   la rd, v     lui + ori, always
 *   mov rd, rs   add rd, rs, r0            nop   add r0, r0, r0
 *   push rs      addi sp, sp, -1 ; st rs, 0(sp)
 *   pop rd       ld rd, 0(sp) ; addi sp, sp, 1
 *   ret          jr lr                     b L   beq r0, r0, L
 *   beqz rs, L   beq rs, r0, L             bnez rs, L   bne rs, r0, L */
static void assemble_pseudo(struct as *as, uint32_t loc, struct cur *c, const struct pseudo *ps)
{
    struct operands o;
    if (!parse_operands(as, c, ps->pattern, ps->name, ps->syntax, &o)) return;
    unsigned r0 = (unsigned)o.reg[0], r1 = (unsigned)o.reg[1];
    const char *n = ps->name;
    switch (ps->id) {
    case P_LI: {
        int64_t v;
        if (eval(as, o.expr, false, 0, &v, NULL) == EV_OK && v >= INT16_MIN && v <= INT16_MAX) {
            emit_insn(as, loc, n, ISA_ADDI, r0, 0, 0, o.expr, 0, IMM_FIELD);
            break;
        }
    } /* fall through */
    case P_LA:
        emit_insn(as, loc, n, ISA_LUI, r0, 0, 0, o.expr, 0, IMM_HI);
        emit_insn(as, loc, n, ISA_ORI, r0, r0, 0, o.expr, 0, IMM_LO);
        break;
    case P_MOV: emit_insn(as, loc, n, ISA_ADD, r0, r1, 0, NO_INDEX, 0, IMM_FIELD); break;
    case P_NOP: emit_insn(as, loc, n, ISA_ADD, 0, 0, 0, NO_INDEX, 0, IMM_FIELD); break;
    case P_PUSH:
        emit_insn(as, loc, n, ISA_ADDI, ISA_REG_SP, ISA_REG_SP, 0, NO_INDEX, -1, IMM_FIELD);
        emit_insn(as, loc, n, ISA_ST, r0, ISA_REG_SP, 0, NO_INDEX, 0, IMM_FIELD);
        break;
    case P_POP:
        emit_insn(as, loc, n, ISA_LD, r0, ISA_REG_SP, 0, NO_INDEX, 0, IMM_FIELD);
        emit_insn(as, loc, n, ISA_ADDI, ISA_REG_SP, ISA_REG_SP, 0, NO_INDEX, 1, IMM_FIELD);
        break;
    case P_RET: emit_insn(as, loc, n, ISA_JR, ISA_REG_LR, 0, 0, NO_INDEX, 0, IMM_FIELD); break;
    case P_B: emit_insn(as, loc, n, ISA_BEQ, 0, 0, 0, o.expr, 0, IMM_FIELD); break;
    case P_BEQZ: emit_insn(as, loc, n, ISA_BEQ, r0, 0, 0, o.expr, 0, IMM_FIELD); break;
    case P_BNEZ: emit_insn(as, loc, n, ISA_BNE, r0, 0, 0, o.expr, 0, IMM_FIELD); break;
    }
}

/* ---- Source files ---------------------------------------------------------------------- */

/* Adds a file with its text (both owned from now on); returns its index.
 * st identifies a file on disk; tree says that path names an embedded one. */
static uint32_t add_file(struct as *as, char *path, char *text, size_t len, const struct stat *st,
                         bool tree)
{
    struct srcfile f = {.path = path, .orig = text, .buf = asm_xstrndup(text, len), .tree = tree};
    if (st) f.has_id = true, f.dev = st->st_dev, f.ino = st->st_ino;
    size_t cap = 0;
    for (size_t start = 0; start < len;) {
        char *nl = memchr(f.buf + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - f.buf) : len;
        f.buf[end] = '\0';
        size_t l = end - start;
        if (l && f.buf[end - 1] == '\r') f.buf[end - 1] = '\0', l--;
        f.lines = asm_grow(f.lines, &cap, f.nlines + 1, sizeof *f.lines);
        f.lines[f.nlines++] = (struct span){(uint32_t)start, (uint32_t)l};
        start = end + 1;
    }
    *PUSH(as->files) = f;
    return (uint32_t)as->files.n - 1;
}

static void process_line(struct as *as, uint32_t loc);

static uint32_t new_loc(struct as *as, const char *text, uint32_t file, uint32_t line,
                        uint32_t parent)
{
    struct loc l = {text, file, line, file, line, ++as->seq, parent, NULL};
    if (parent != NO_INDEX) {
        l.map_file = as->locs.v[parent].map_file;
        l.map_line = as->locs.v[parent].map_line;
    }
    *PUSH(as->locs) = l;
    return (uint32_t)as->locs.n - 1;
}

/* The first word of a line, for spotting .endm and .macro while collecting. */
static bool first_word_is(const char *text, const char *word)
{
    while (*text == ' ' || *text == '\t') text++;
    size_t n = ident_len(text);
    return n == strlen(word) && strncasecmp(text, word, n) == 0;
}

static void free_macro(struct macro *m)
{
    free(m->name);
    for (size_t i = 0; i < m->nparams; i++) free(m->params[i]);
    free(m->params);
    for (size_t i = 0; i < m->body.n; i++) free(m->body.v[i].text);
    free(m->body.v);
}

static void end_macro(struct as *as)
{
    as->collecting = false;
    if (as->collect_discard) {
        free_macro(&as->coll);
        return;
    }
    uint32_t i = (uint32_t)as->macros.n;
    *PUSH(as->macros) = as->coll;
    htab_insert(&as->mactab, i, macro_key, as);
}

/* Counts a line of bytes bytes read at (file, line), or expanded at
 * parent; false after stopping the assembly with an error when the input
 * in all is past its caps: includes of includes fan out, and each is read
 * again every time (the caps bound time and the per-line records). */
static bool count_input(struct as *as, const char *text, uint32_t file, uint32_t line,
                        uint32_t parent, size_t bytes)
{
    as->input_bytes += bytes + 1;
    if (++as->input_lines <= ASM_MAX_INPUT_LINES && as->input_bytes <= ASM_MAX_INPUT_BYTES) return true;
    char size_text[32];
    snprintf(size_text, sizeof size_text, "%u MiB", ASM_MAX_INPUT_BYTES >> 20);
    error_at(as, new_loc(as, text, file, line, parent), 1,
             "the program reads more than %u lines or %s in all (its files, counted each time "
             "they are included, and its macro expansions)", ASM_MAX_INPUT_LINES, size_text);
    as->stopped = true;
    return false;
}

static void process_file(struct as *as, uint32_t fi)
{
    for (size_t i = 0; i < as->files.v[fi].nlines && !as->stopped; i++) {
        const struct srcfile *f = &as->files.v[fi];
        struct span sp = f->lines[i];
        const char *text = f->buf + sp.off;
        uint32_t line = (uint32_t)i + 1;
        if (!count_input(as, text, fi, line, NO_INDEX, sp.len)) break;
        if (strlen(text) != sp.len) {
            uint32_t loc = new_loc(as, text, fi, line, NO_INDEX);
            error_at(as, loc, (uint32_t)strlen(text) + 1, "NUL character in the source");
            continue;
        }
        const char *p = text;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') p++;
        if (*p == '\0' || *p == ';' || *p == '#') continue;
        if (as->collecting) {
            if (first_word_is(text, ".endm")) {
                end_macro(as);
            } else if (first_word_is(text, ".macro")) {
                uint32_t loc = new_loc(as, text, fi, line, NO_INDEX);
                error_at(as, loc, (uint32_t)(p - text) + 1,
                         "'.macro' inside the definition of '%s' (missing .endm?)", as->coll.name);
            } else {
                *PUSH(as->coll.body) = (struct body_line){asm_xstrndup(text, sp.len), fi, line};
            }
            continue;
        }
        process_line(as, new_loc(as, text, fi, line, NO_INDEX));
    }
    if (as->collecting && as->collect_depth == as->include_depth) {
        error_at(as, as->coll.loc, as->collect_col, "missing '.endm' for macro '%s'", as->coll.name);
        as->collect_discard = true;
        end_macro(as);
    }
}

/* ---- Directives ------------------------------------------------------------------------ */

static bool expect_end(struct as *as, struct cur *c, const char *what)
{
    if (at_end(c)) return true;
    error_cur(as, c, "extra operand '%.*s' after %s", word_len(c->p), c->p, what);
    return false;
}

/* Parses the one expression operand of a directive. */
static bool directive_expr(struct as *as, struct cur *c, const char *name, const char *what,
                           uint32_t *out)
{
    if (at_end(c)) {
        error_cur(as, c, "missing operand: '%s' expects %s", name, what);
        return false;
    }
    return parse_expr(as, c, out) && expect_end(as, c, "the operand");
}

static void dir_org(struct as *as, uint32_t loc, struct cur *c)
{
    uint32_t e;
    int64_t v;
    if (!directive_expr(as, c, ".org", "an address", &e) || !eval_now(as, e, "'.org'", &v)) return;
    if (v < 0 || v > (int64_t)UINT32_MAX) {
        error_at(as, loc, as->exprs.v[e].col, "address %lld out of range (0..0xffffffff)", (long long)v);
        return;
    }
    as->pc = (uint64_t)v;
    as->region_open = false;
    as->org_loc = loc;
}

static void dir_word(struct as *as, uint32_t loc, struct cur *c)
{
    if (at_end(c)) {
        error_cur(as, c, "missing operand: '.word' expects one or more values");
        return;
    }
    uint32_t first = NO_INDEX, count = 0, e;
    for (;;) {
        if (!parse_expr(as, c, &e)) return;
        if (first == NO_INDEX) first = e;
        count++;
        if (at_end(c)) break;
        if (*c->p != ',') {
            error_cur(as, c, "expected ',' between values, found '%.*s'", word_len(c->p), c->p);
            return;
        }
        c->p++;
        if (at_end(c)) {
            error_cur(as, c, "missing value after ','");
            return;
        }
    }
    struct stmt *s = emit(as, loc, S_WORDS, count);
    if (s) s->expr = first;
}

static void dir_string(struct as *as, uint32_t loc, struct cur *c)
{
    struct sbuf text = {0};
    if (parse_string(as, c, &text) && expect_end(as, c, "the string")) {
        uint32_t first = (uint32_t)as->bytes.n;
        for (size_t i = 0; i < text.n; i++) *PUSH(as->bytes) = (unsigned char)text.s[i];
        *PUSH(as->bytes) = 0;
        struct stmt *s = emit(as, loc, S_STRING, (uint32_t)text.n + 1);
        if (s) s->expr = first;
    }
    free(text.s);
}

static void dir_space(struct as *as, uint32_t loc, struct cur *c)
{
    uint32_t e;
    int64_t v;
    if (!directive_expr(as, c, ".space", "a number of words", &e) || !eval_now(as, e, "'.space'", &v))
        return;
    if (v < 0 || v > ASM_MAX_WORDS) {
        error_at(as, loc, as->exprs.v[e].col, "'.space' count %lld out of range (0..%u)",
                 (long long)v, ASM_MAX_WORDS);
        return;
    }
    if (v > 0) emit(as, loc, S_SPACE, (uint32_t)v);
}

static void dir_equ(struct as *as, uint32_t loc, struct cur *c)
{
    skip_ws(c);
    size_t n = ident_len(c->p);
    if (n == 0) {
        if (at_end(c)) error_cur(as, c, "missing operand: '.equ' expects NAME, VALUE");
        else error_cur(as, c, "expected a name after '.equ', found '%.*s'", word_len(c->p), c->p);
        return;
    }
    const char *name = c->p;
    uint32_t col = col_of(c);
    c->p += n;
    if (at_end(c)) {
        error_cur(as, c, "missing operand: '.equ' expects NAME, VALUE");
        return;
    }
    if (*c->p != ',') {
        error_cur(as, c, "expected ',' after the name, found '%.*s'", word_len(c->p), c->p);
        return;
    }
    c->p++;
    uint32_t e;
    if (!directive_expr(as, c, ".equ", "NAME, VALUE", &e)) return;
    if (!check_new_symbol(as, loc, col, name, n, ".equ name")) return;
    uint32_t si = intern(as, name, n);
    int64_t v = 0;
    enum ev r = eval(as, e, false, 0, &v, NULL);
    struct sym *s = &as->syms.v[si];
    s->kind = SYM_EQU;
    s->loc = loc;
    s->expr = e;
    s->state = EQU_PENDING;
    if (r == EV_OK) {
        if (v < INT32_MIN || v > (int64_t)UINT32_MAX) {
            error_at(as, loc, as->exprs.v[e].col, "value %lld does not fit in 32 bits", (long long)v);
            s->state = EQU_FAILED;
        } else {
            s->state = EQU_DONE;
            s->value = v;
        }
    }
}

/* ---- Finding included files ---------------------------------------------------------- */

/* dir + "/" + name, without doubling a slash at the end of dir. */
static char *join_path(const char *dir, size_t dir_len, const char *name)
{
    while (dir_len > 1 && dir[dir_len - 1] == '/') dir_len--;
    bool slash = dir_len > 0 && dir[dir_len - 1] != '/';
    char *p = asm_xmalloc(dir_len + slash + strlen(name) + 1);
    memcpy(p, dir, dir_len);
    if (slash) p[dir_len] = '/';
    strcpy(p + dir_len + slash, name);
    return p;
}

/* The path of an included file on disk: relative paths are relative to the
 * directory of the including file. */
static char *include_path(const char *including, const char *name)
{
    const char *slash = strrchr(including, '/');
    if (name[0] == '/' || !slash) return asm_xstrndup(name, strlen(name));
    return join_path(including, (size_t)(slash - including), name);
}

/* The tree path of name, relative to the directory of the tree path
 * including (NULL: to the root), with "", "." and ".." segments resolved;
 * NULL when name is absolute or climbs above the root.  Caller frees. */
static char *tree_path(const char *including, const char *name)
{
    if (name[0] == '/') return NULL;
    const char *slash = including ? strrchr(including, '/') : NULL;
    char *joined = slash ? join_path(including, (size_t)(slash - including), name)
                         : asm_xstrndup(name, strlen(name));
    char *out = asm_xmalloc(strlen(joined) + 1);
    size_t n = 0;
    for (const char *p = joined; *p;) {
        size_t seg = strcspn(p, "/");
        if (seg == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0) {
                free(joined);
                free(out);
                return NULL;
            }
            while (n > 0 && out[n - 1] != '/') n--;
            if (n > 0) n--; /* the slash before the dropped segment */
        } else if (seg > 0 && !(seg == 1 && p[0] == '.')) {
            if (n > 0) out[n++] = '/';
            memcpy(out + n, p, seg);
            n += seg;
        }
        p += seg;
        if (*p == '/') p++;
    }
    out[n] = '\0';
    free(joined);
    if (n == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static const struct asm_embedded_file *embedded_file(const char *normalized)
{
    for (const struct asm_embedded_file *f = asm_embedded_files; f->path; f++)
        if (strcmp(f->path, normalized) == 0) return f;
    return NULL;
}

const char *asm_embedded_source(const char *path)
{
    char *norm = path ? tree_path(NULL, path) : NULL;
    const struct asm_embedded_file *f = norm ? embedded_file(norm) : NULL;
    free(norm);
    return f ? f->text : NULL;
}

const char *asm_embedded_path(size_t i)
{
    for (size_t k = 0; asm_embedded_files[k].path; k++)
        if (k == i) return asm_embedded_files[k].path;
    return NULL;
}

#define NOT_EMBEDDED "not among the sources built into trapeze"

/* True when f is the file read as (st, tree, path). */
static bool same_file(const struct srcfile *f, const struct stat *st, bool tree, const char *path)
{
    if (tree) return f->tree && strcmp(f->path, path) == 0;
    return st && f->has_id && f->dev == st->st_dev && f->ino == st->st_ino;
}

/* The index of the file already read as (st, tree, path), or NO_INDEX. */
static uint32_t known_file(const struct as *as, const struct stat *st, bool tree, const char *path)
{
    for (size_t i = 0; i < as->files.n; i++)
        if (same_file(&as->files.v[i], st, tree, path)) return (uint32_t)i;
    return NO_INDEX;
}

/* The file an .include names (see struct asm_options for where it is
 * looked for).  Returns true with *path (owned) and *st when *has_st, and
 * either *known, the index of a file read before (each file is read once,
 * however often it is included), or its text in *text (owned) and *len;
 * or false after reporting at loc:col the error and every place it looked. */
static bool find_include(struct as *as, uint32_t loc, uint32_t col, const char *name, char **path,
                         char **text, size_t *len, struct stat *st, bool *has_st, uint32_t *known)
{
    const char *including = loc_path(as, loc);
    *has_st = false;
    *text = NULL;
    if (as->opts.embedded) {
        *path = tree_path(including, name);
        const struct asm_embedded_file *f = *path ? embedded_file(*path) : NULL;
        if (!f) {
            if (*path)
                error_at(as, loc, col, "cannot open include file '%s': " NOT_EMBEDDED, *path);
            else
                error_at(as, loc, col,
                         "cannot open include file '%s': an embedded program includes only "
                         "embedded files, by a path inside the tree", name);
            free(*path);
            return false;
        }
        *known = known_file(as, NULL, true, *path);
        if (*known == NO_INDEX) *text = asm_xstrndup(f->text, *len = strlen(f->text));
        return true;
    }
    size_t ndirs = name[0] == '/' ? 0 : as->opts.ninclude_dirs;
    struct sbuf tried = {0};
    for (size_t k = 0; k <= ndirs; k++) {
        const char *dir = k ? as->opts.include_dirs[k - 1] : NULL;
        char *p = k ? join_path(dir, strlen(dir), name) : include_path(including, name);
        char why[ISA_FILE_WHY_SIZE];
        bool missing;
        if (stat(p, st) == 0 && S_ISREG(st->st_mode) &&
            (*known = known_file(as, st, false, p)) != NO_INDEX) {
            *text = NULL;
        } else {
            *known = NO_INDEX;
            *text = isa_read_file(p, ASM_MAX_FILE, len, st, why, &missing);
        }
        if (*text || *known != NO_INDEX) {
            free(tried.s);
            *path = p;
            *has_st = true;
            return true;
        }
        if (!missing || ndirs == 0) {
            error_at(as, loc, col, "cannot open include file '%s': %s", p, why);
            free(p);
            free(tried.s);
            return false;
        }
        sb_printf(&tried, "%s'%s'", k ? ", " : "", p);
        free(p);
    }
    error_at(as, loc, col, "cannot find include file '%s': looked for %s (beside the including "
                           "file, then in each -I directory)", name, tried.s);
    free(tried.s);
    return false;
}

static void dir_include(struct as *as, uint32_t loc, struct cur *c)
{
    struct sbuf name = {0};
    uint32_t col = (skip_ws(c), col_of(c));
    if (!parse_string(as, c, &name) || !expect_end(as, c, "the file name")) goto out;
    if (name.n == 0 || memchr(name.s, '\0', name.n)) {
        error_at(as, loc, col, "bad file name");
        goto out;
    }
    if (as->include_depth >= ASM_MAX_INCLUDE_DEPTH) {
        error_at(as, loc, col, "includes nested more than %d deep", ASM_MAX_INCLUDE_DEPTH);
        goto out;
    }
    char *path = NULL, *text = NULL;
    struct stat st;
    bool has_st;
    size_t len = 0;
    uint32_t fi = NO_INDEX;
    if (!find_include(as, loc, col, name.s, &path, &text, &len, &st, &has_st, &fi)) goto out;
    const struct stat *id = has_st ? &st : NULL;
    bool tree = as->opts.embedded;
    for (int d = 0; d <= as->include_depth; d++) {
        if (same_file(&as->files.v[as->include_stack[d]], id, tree, path)) {
            error_at(as, loc, col, "include cycle: '%s' is already being assembled", path);
            free(path);
            free(text);
            goto out;
        }
    }
    if (fi == NO_INDEX) fi = add_file(as, path, text, len, id, tree);
    else free(path);
    as->include_stack[++as->include_depth] = fi;
    process_file(as, fi);
    as->include_depth--;
out:
    free(name.s);
}

static bool is_instruction_name(const char *name, size_t n)
{
    char lower[16];
    if (n >= sizeof lower) return false;
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)name[i]);
    lower[n] = '\0';
    return pseudo_by_name(lower) || isa_op_by_mnemonic(lower);
}

static void dir_macro(struct as *as, uint32_t loc, struct cur *c)
{
    if (as->locs.v[loc].macro) {
        error_at(as, loc, c->word_col, "a macro cannot be defined inside a macro expansion");
        return;
    }
    /* From here on the body is collected even when the header is bad, so that
     * it is not assembled as ordinary lines. */
    as->collecting = true;
    as->collect_discard = true;
    as->collect_depth = as->include_depth;
    as->collect_col = c->word_col;
    as->coll = (struct macro){.loc = loc};
    skip_ws(c);
    size_t n = ident_len(c->p);
    if (n == 0) {
        if (at_end(c)) error_cur(as, c, "missing operand: '.macro' expects NAME [PARAM, ...]");
        else error_cur(as, c, "bad macro name '%.*s'", word_len(c->p), c->p);
        as->coll.name = asm_xstrndup("?", 1);
        return;
    }
    const char *name = c->p;
    as->coll.name = asm_xstrndup(name, n);
    if (name[0] == '.') {
        error_cur(as, c, "macro name '%.*s' must not start with '.'", (int)n, name);
        return;
    }
    if (is_instruction_name(name, n) || asm_register_number(name, n) >= 0) {
        error_cur(as, c, "'%.*s' is an instruction or register and cannot be a macro name", (int)n, name);
        return;
    }
    uint32_t prev = htab_find(&as->mactab, name, n, macro_key, as);
    if (prev != NO_INDEX) {
        const struct loc *d = &as->locs.v[as->macros.v[prev].loc];
        error_cur(as, c, "duplicate macro '%.*s' (first defined at %s:%u)", (int)n, name,
                  as->files.v[d->file].path, d->line);
        return;
    }
    c->p += n;
    size_t cap = 0;
    while (!at_end(c)) {
        if (*c->p == ',' && as->coll.nparams > 0) c->p++, skip_ws(c);
        size_t k = ident_len(c->p);
        if (k == 0 || c->p[0] == '.') {
            error_cur(as, c, "bad macro parameter '%.*s'", word_len(c->p), c->p);
            return;
        }
        for (size_t i = 0; i < as->coll.nparams; i++)
            if (strlen(as->coll.params[i]) == k && strncmp(as->coll.params[i], c->p, k) == 0) {
                error_cur(as, c, "duplicate macro parameter '%.*s'", (int)k, c->p);
                return;
            }
        as->coll.params = asm_grow(as->coll.params, &cap, as->coll.nparams + 1, sizeof *as->coll.params);
        as->coll.params[as->coll.nparams++] = asm_xstrndup(c->p, k);
        c->p += k;
    }
    as->collect_discard = false;
}

static void dir_endm(struct as *as, uint32_t loc, struct cur *c)
{
    error_at(as, loc, c->word_col, "'.endm' without '.macro'");
}

static void dir_entry(struct as *as, uint32_t loc, struct cur *c)
{
    uint32_t e;
    if (!directive_expr(as, c, ".entry", "a label or address", &e)) return;
    if (as->entry_expr != NO_INDEX) {
        const struct loc *d = &as->locs.v[as->entry_loc];
        error_at(as, loc, as->exprs.v[e].col, "duplicate '.entry' (first at %s:%u)",
                 as->files.v[d->file].path, d->line);
        return;
    }
    as->entry_expr = e;
    as->entry_loc = loc;
}

static const struct directive {
    const char *name;
    void (*run)(struct as *as, uint32_t loc, struct cur *c);
} directives[] = {
    {".org", dir_org},         {".word", dir_word},   {".string", dir_string},
    {".space", dir_space},     {".equ", dir_equ},     {".include", dir_include},
    {".macro", dir_macro},     {".endm", dir_endm},   {".entry", dir_entry},
};

/* ---- Macros ------------------------------------------------------------------------------ */

struct arg {
    const char *s;
    size_t n;
};

/* Splits the rest of the line at top-level commas (not inside quotes or
 * parentheses), up to a comment. */
static size_t split_args(struct cur *c, struct arg *args, size_t max, bool *too_many)
{
    size_t n = 0;
    *too_many = false;
    if (at_end(c)) return 0;
    for (;;) {
        skip_ws(c);
        const char *start = c->p;
        int depth = 0;
        while (*c->p && !(depth == 0 && *c->p == ',') && *c->p != ';' && *c->p != '#') {
            char q = *c->p;
            if (q == '"' || q == '\'') {
                c->p++;
                while (*c->p && *c->p != q) c->p += (c->p[0] == '\\' && c->p[1]) ? 2 : 1;
                if (*c->p) c->p++;
                continue;
            }
            if (q == '(') depth++;
            if (q == ')' && depth > 0) depth--;
            c->p++;
        }
        const char *end = c->p;
        while (end > start && isspace((unsigned char)end[-1])) end--;
        if (n < max) args[n] = (struct arg){start, (size_t)(end - start)};
        else *too_many = true;
        n++;
        if (*c->p != ',') return n;
        c->p++;
    }
}

/* The body line with \param, \@ and \() replaced; NULL if it grows too long. */
static char *substitute(const struct macro *m, const char *text, const struct arg *args,
                        uint32_t number)
{
    struct sbuf b = {0};
    sb_printf(&b, "%s", "");
    for (const char *p = text; *p;) {
        if (p[0] == '\\' && p[1] == '@') {
            sb_printf(&b, "%u", number);
            p += 2;
        } else if (p[0] == '\\' && p[1] == '(' && p[2] == ')') {
            p += 3;
        } else if (p[0] == '\\' && asm_is_ident_start((unsigned char)p[1])) {
            size_t k = ident_len(p + 1);
            size_t i = 0;
            while (i < m->nparams && !(strlen(m->params[i]) == k && strncmp(m->params[i], p + 1, k) == 0)) i++;
            if (i < m->nparams) {
                b.s = asm_grow(b.s, &b.cap, b.n + args[i].n + 1, 1);
                memcpy(b.s + b.n, args[i].s, args[i].n);
                b.n += args[i].n;
                b.s[b.n] = '\0';
            } else {
                sb_putc(&b, '\\');
                b.s = asm_grow(b.s, &b.cap, b.n + k + 1, 1);
                memcpy(b.s + b.n, p + 1, k);
                b.n += k;
                b.s[b.n] = '\0';
            }
            p += 1 + k;
        } else {
            sb_putc(&b, *p++);
        }
        if (b.n > ASM_MAX_LINE) {
            free(b.s);
            return NULL;
        }
    }
    return b.s;
}

#define MAX_MACRO_ARGS 64

static void expand_macro(struct as *as, uint32_t loc, struct cur *c, uint32_t mi)
{
    struct arg args[MAX_MACRO_ARGS];
    bool too_many;
    uint32_t col = col_of(c);
    size_t nargs = split_args(c, args, MAX_MACRO_ARGS, &too_many);
    struct macro *m = &as->macros.v[mi];
    if (nargs != m->nparams || too_many) {
        struct sbuf names = {0};
        for (size_t i = 0; i < m->nparams; i++) sb_printf(&names, "%s%s", i ? ", " : "", m->params[i]);
        error_at(as, loc, c->word_col, "macro '%s' expects %zu argument%s%s%s%s, got %zu", m->name,
                 m->nparams, m->nparams == 1 ? "" : "s", m->nparams ? " (" : "",
                 m->nparams ? names.s : "", m->nparams ? ")" : "", nargs);
        free(names.s);
        return;
    }
    if (m->active) {
        error_at(as, loc, c->word_col, "macro '%s' invokes itself (recursion never ends: there are no conditionals)", m->name);
        return;
    }
    if (as->macro_depth >= ASM_MAX_MACRO_DEPTH) {
        error_at(as, loc, c->word_col, "macro expansions nested more than %d deep", ASM_MAX_MACRO_DEPTH);
        return;
    }
    uint32_t number = as->expansions++;
    m->active = true;
    as->macro_depth++;
    for (size_t i = 0; i < as->macros.v[mi].body.n && !as->stopped; i++) {
        m = &as->macros.v[mi];
        if (as->expanded_lines++ >= ASM_MAX_EXPANDED_LINES) {
            error_at(as, loc, 1, "macro expansions produced more than %u lines", ASM_MAX_EXPANDED_LINES);
            as->stopped = true;
            break;
        }
        const struct body_line *bl = &m->body.v[i];
        char *text = substitute(m, bl->text, args, number);
        if (!text) {
            error_at(as, loc, col, "expanding macro '%s' makes a line longer than %u bytes", m->name,
                     ASM_MAX_LINE);
            break;
        }
        *PUSH(as->arena) = text;
        if (!count_input(as, text, bl->file, bl->line, loc, strlen(text))) break;
        uint32_t l = new_loc(as, text, bl->file, bl->line, loc);
        as->locs.v[l].macro = m->name;
        process_line(as, l);
    }
    as->macros.v[mi].active = false;
    as->macro_depth--;
}

/* ---- One line ------------------------------------------------------------------------------ */

static void process_line(struct as *as, uint32_t loc)
{
    struct cur c = {as->locs.v[loc].text, as->locs.v[loc].text, loc, 1};
    skip_ws(&c);
    /* labels */
    for (;;) {
        size_t n = ident_len(c.p);
        if (n == 0 || c.p[n] != ':') break;
        define_label(as, loc, col_of(&c), c.p, n);
        c.p += n + 1;
        skip_ws(&c);
    }
    if (at_end(&c)) return;
    size_t n = ident_len(c.p);
    if (n == 0) {
        error_cur(as, &c, "expected an instruction, directive or label, found '%.*s'", word_len(c.p), c.p);
        return;
    }
    const char *word = c.p;
    struct cur start = c;
    c.word_col = col_of(&c);
    c.p += n;
    if (word[0] == '.') {
        for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++)
            if (strlen(directives[i].name) == n && strncasecmp(directives[i].name, word, n) == 0) {
                directives[i].run(as, loc, &c);
                return;
            }
        error_cur(as, &start, "unknown directive '%.*s'", (int)(n > 40 ? 40 : n), word);
        return;
    }
    uint32_t mi = htab_find(&as->mactab, word, n, macro_key, as);
    if (mi != NO_INDEX) {
        expand_macro(as, loc, &c, mi);
        return;
    }
    char lower[16];
    if (n < sizeof lower) {
        for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)word[i]);
        lower[n] = '\0';
        const struct pseudo *ps = pseudo_by_name(lower);
        if (ps) {
            assemble_pseudo(as, loc, &c, ps);
            return;
        }
        const struct isa_op *op = isa_op_by_mnemonic(lower);
        if (op) {
            assemble_insn(as, loc, &c, op);
            return;
        }
    }
    const char *near = nearest_mnemonic(as, word, n);
    if (near)
        error_cur(as, &start, "unknown instruction '%.*s'; did you mean '%s'?", (int)(n > 40 ? 40 : n), word,
                  near);
    else error_cur(as, &start, "unknown instruction '%.*s'", (int)(n > 40 ? 40 : n), word);
}

/* ---- Pass 2 ------------------------------------------------------------------------------ */

uint32_t asm_encode(const struct isa_op *op, unsigned a, unsigned b, unsigned c, uint32_t imm)
{
    switch ((enum isa_operands)op->operands) {
    case OPS_NONE: a = b = c = 0, imm = 0; break;
    case OPS_RRR: imm = 0; break;
    case OPS_RRI:
    case OPS_MEM:
    case OPS_BRANCH: c = 0; break;
    case OPS_RI: b = c = 0; break;
    case OPS_RR: c = 0, imm = 0; break;
    case OPS_R: b = c = 0, imm = 0; break;
    case OPS_PSWADDR: a = c = 0; break;
    case OPS_ADDR: a = b = c = 0; break;
    case OPS_IMM: a = b = c = 0; break;
    }
    switch ((enum isa_format)op->format) {
    case FMT_R: return isa_make_r(op->opcode, a, b, c);
    case FMT_I: return isa_make_i(op->opcode, a, b, imm);
    case FMT_J: return isa_make_j(op->opcode, imm);
    }
    return 0;
}

bool asm_word_is_canonical(uint32_t w)
{
    const struct isa_op *op = isa_op_by_opcode(isa_opcode_of(w));
    if (!op) return false;
    uint32_t imm = op->format == FMT_J ? isa_imm24(w) : isa_imm16(w);
    return asm_encode(op, isa_field_a(w), isa_field_b(w), isa_field_c(w), imm) == w;
}

static bool encode_insn(struct as *as, const struct stmt *s, uint32_t *word)
{
    const struct isa_op *op = s->op;
    int64_t v = s->imm;
    uint32_t col = 1;
    if (s->expr != NO_INDEX) {
        if (eval(as, s->expr, true, 0, &v, NULL) != EV_OK) return false;
        col = as->exprs.v[s->expr].col;
    }
    uint32_t imm = 0;
    switch ((enum imm_mode)s->mode) {
    case IMM_HI:
        if (v < INT32_MIN || v > (int64_t)UINT32_MAX) {
            error_at(as, s->loc, col, "value %lld out of range for %s (-2147483648..4294967295)",
                     (long long)v, s->name);
            return false;
        }
        imm = ((uint32_t)v >> 16) & 0xffffu;
        break;
    case IMM_LO: imm = (uint32_t)v & 0xffffu; break;
    case IMM_FIELD:
        switch ((enum isa_operands)op->operands) {
        case OPS_NONE:
        case OPS_RRR:
        case OPS_RR:
        case OPS_R: break;
        case OPS_BRANCH: {
            if (v < INT32_MIN || v > (int64_t)UINT32_MAX) {
                error_at(as, s->loc, col, "branch target %lld out of range", (long long)v);
                return false;
            }
            int64_t off = (int32_t)((uint32_t)v - (s->addr + 1u));
            if (off < INT16_MIN || off > INT16_MAX) {
                error_at(as, s->loc, col,
                         "branch target 0x%x out of reach of %s at 0x%x (offset %lld, must be -32768..32767)",
                         (uint32_t)v, s->name, s->addr, (long long)off);
                return false;
            }
            imm = (uint32_t)off & 0xffffu;
            break;
        }
        case OPS_ADDR:
            if (v < 0 || v > 0xffffff) {
                error_at(as, s->loc, col, "address %lld out of range for %s (0..0xffffff)",
                         (long long)v, s->name);
                return false;
            }
            imm = (uint32_t)v;
            break;
        case OPS_RRI:
        case OPS_RI:
        case OPS_MEM:
        case OPS_PSWADDR:
        case OPS_IMM: {
            bool zext = op->flags & ISA_F_ZEXT;
            int64_t lo = zext ? 0 : INT16_MIN, hi = zext ? UINT16_MAX : INT16_MAX;
            if (v < lo || v > hi) {
                /* A value too wide for an immediate is what li is for. */
                const bool li_fits = op->operands == OPS_RI || op->operands == OPS_RRI;
                error_at(as, s->loc, col, "immediate %lld out of range for %s (%lld..%lld)%s",
                         (long long)v, s->name, (long long)lo, (long long)hi,
                         li_fits ? "; 'li rd, VALUE' loads any 32-bit value" : "");
                return false;
            }
            imm = (uint32_t)v & 0xffffu;
            break;
        }
        }
        break;
    }
    *word = asm_encode(op, s->a, s->b, s->c, imm);
    return true;
}

static int cmp_region(const void *x, const void *y)
{
    const struct region *a = x, *b = y;
    if (a->start != b->start) return a->start < b->start ? -1 : 1;
    if (a->end != b->end) return a->end < b->end ? -1 : 1;
    return 0;
}

/* Sorts the regions, reports overlaps and makes img's segments. */
static bool build_segments(struct as *as, struct asm_image *img)
{
    struct region *r = as->regions.v;
    size_t n = 0;
    for (size_t i = 0; i < as->regions.n; i++)
        if (r[i].end > r[i].start) r[n++] = r[i];
    if (n > 1) qsort(r, n, sizeof *r, cmp_region);
    bool ok = true;
    size_t widest = 0; /* the region reaching furthest so far */
    for (size_t i = 1; i < n; i++) {
        if (r[i].start < r[widest].end) {
            const struct region *a = &r[widest], *b = &r[i];
            if (as->locs.v[a->loc].seq > as->locs.v[b->loc].seq) a = &r[i], b = &r[widest];
            const struct loc *d = &as->locs.v[a->loc];
            error_at(as, b->loc, 1, "words at 0x%x..0x%llx overlap those at 0x%x..0x%llx placed from %s:%u",
                     b->start, (unsigned long long)(b->end - 1), a->start,
                     (unsigned long long)(a->end - 1), as->files.v[d->file].path, d->line);
            ok = false;
        }
        if (r[i].end > r[widest].end) widest = i;
    }
    if (!ok) return false;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (img->nsegments && img->segments[img->nsegments - 1].at +
                                  (uint64_t)img->segments[img->nsegments - 1].count == r[i].start) {
            img->segments[img->nsegments - 1].count += (size_t)(r[i].end - r[i].start);
            continue;
        }
        img->segments = asm_grow(img->segments, &cap, img->nsegments + 1, sizeof *img->segments);
        img->segments[img->nsegments++] = (struct asm_segment){r[i].start, NULL, (size_t)(r[i].end - r[i].start)};
    }
    for (size_t i = 0; i < img->nsegments; i++) {
        img->segments[i].words = calloc(img->segments[i].count, sizeof(uint32_t));
        if (!img->segments[i].words) out_of_memory();
    }
    return true;
}

/* The words of the segment holding address (which must be in one). */
static uint32_t *word_slot(struct asm_image *img, uint32_t address)
{
    size_t lo = 0, hi = img->nsegments;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (img->segments[mid].at <= address) lo = mid;
        else hi = mid;
    }
    return &img->segments[lo].words[address - img->segments[lo].at];
}

static void pass2(struct as *as, struct asm_image *img)
{
    bool place = build_segments(as, img);
    size_t lcap = 0;
    for (size_t i = 0; i < as->stmts.n && !as->stopped; i++) {
        const struct stmt *s = &as->stmts.v[i];
        uint32_t *w = place ? word_slot(img, s->addr) : NULL;
        switch ((enum stmt_kind)s->kind) {
        case S_INSN: {
            uint32_t word;
            if (encode_insn(as, s, &word) && w) *w = word;
            break;
        }
        case S_WORDS:
            for (uint32_t k = 0; k < s->size; k++) {
                int64_t v;
                if (eval(as, s->expr + k, true, 0, &v, NULL) != EV_OK) continue;
                if (v < INT32_MIN || v > (int64_t)UINT32_MAX) {
                    error_at(as, s->loc, as->exprs.v[s->expr + k].col,
                             "value %lld does not fit in a 32-bit word", (long long)v);
                    continue;
                }
                if (w) w[k] = (uint32_t)v;
            }
            break;
        case S_STRING:
            if (w) memcpy(w, as->bytes.v + s->expr, s->size * sizeof *w);
            break;
        case S_SPACE: break;
        }
        /* The line map: one entry per statement, merged with the previous
         * one when it continues it (a macro expansion's instructions). */
        const struct loc *l = &as->locs.v[s->loc];
        if (img->nlines) {
            const struct asm_line *last = &img->lines[img->nlines - 1];
            if (last->file == l->map_file && last->line == l->map_line && i > 0 &&
                as->stmts.v[i - 1].addr + as->stmts.v[i - 1].size == s->addr)
                continue;
        }
        img->lines = asm_grow(img->lines, &lcap, img->nlines + 1, sizeof *img->lines);
        img->lines[img->nlines++] = (struct asm_line){s->addr, l->map_file, l->map_line};
    }
    /* entry */
    img->entry = ISA_DEFAULT_ENTRY;
    if (as->entry_expr != NO_INDEX) {
        int64_t v;
        if (eval(as, as->entry_expr, true, 0, &v, NULL) == EV_OK) {
            if (v < 0 || v > (int64_t)UINT32_MAX)
                error_at(as, as->entry_loc, as->exprs.v[as->entry_expr].col,
                         "entry address %lld out of range", (long long)v);
            else img->entry = (uint32_t)v;
        }
    } else {
        uint32_t si = htab_find(&as->symtab, "_start", 6, sym_key, as);
        if (si != NO_INDEX && as->syms.v[si].kind == SYM_LABEL) img->entry = (uint32_t)as->syms.v[si].value;
    }
}

/* ---- Driver --------------------------------------------------------------------------------- */

static int cmp_diag(const void *x, const void *y)
{
    const struct diag *a = x, *b = y;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    if (a->col != b->col) return a->col < b->col ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

static void fill_image(struct as *as, struct asm_image *img)
{
    size_t cap = 0;
    for (size_t i = 0; i < as->syms.n; i++) {
        struct sym *s = &as->syms.v[i];
        if (s->kind == SYM_UNDEF || (s->kind == SYM_EQU && s->state != EQU_DONE)) continue;
        img->symbols = asm_grow(img->symbols, &cap, img->nsymbols + 1, sizeof *img->symbols);
        img->symbols[img->nsymbols++] = (struct asm_symbol){s->name, (uint32_t)s->value, s->kind == SYM_LABEL};
        s->name = NULL;
    }
    img->nfiles = as->files.n;
    img->files = asm_xmalloc(as->files.n * sizeof *img->files);
    img->texts = asm_xmalloc(as->files.n * sizeof *img->texts);
    for (size_t i = 0; i < as->files.n; i++) {
        img->files[i] = as->files.v[i].path;
        img->texts[i] = as->files.v[i].orig;
        as->files.v[i].path = as->files.v[i].orig = NULL;
    }
    asm_image_sort(img);
}

static void free_as(struct as *as)
{
    for (size_t i = 0; i < as->files.n; i++) {
        free(as->files.v[i].path);
        free(as->files.v[i].orig);
        free(as->files.v[i].buf);
        free(as->files.v[i].lines);
    }
    free(as->files.v);
    free(as->locs.v);
    free(as->terms.v);
    free(as->exprs.v);
    for (size_t i = 0; i < as->syms.n; i++) free(as->syms.v[i].name);
    free(as->syms.v);
    free(as->symtab.slot);
    for (size_t i = 0; i < as->macros.n; i++) free_macro(&as->macros.v[i]);
    free(as->macros.v);
    free(as->mactab.slot);
    if (as->collecting) free_macro(&as->coll);
    free(as->stmts.v);
    free(as->regions.v);
    free(as->bytes.v);
    for (size_t i = 0; i < as->arena.n; i++) free(as->arena.v[i]);
    free(as->arena.v);
    for (size_t i = 0; i < as->diags.n; i++) free(as->diags.v[i].text);
    free(as->diags.v);
}

/* Assembles text (owned from now on; NULL = read path). */
static int assemble(const char *path, char *text, size_t len, const struct asm_options *opts,
                    struct asm_image *out, FILE *errors)
{
    memset(out, 0, sizeof *out);
    struct as as = {.errors = errors, .org_loc = NO_INDEX, .entry_expr = NO_INDEX,
                    .pc = ISA_DEFAULT_ENTRY};
    if (opts) as.opts = *opts;
    struct stat st;
    bool have_id = false;
    char *name = NULL;
    if (as.opts.embedded) {
        name = tree_path(NULL, path);
        const struct asm_embedded_file *f = text || !name ? NULL : embedded_file(name);
        if (!name || (!text && !f)) {
            if (errors)
                fprintf(errors, "%s: error: cannot read the source file: %s\n", path,
                        name ? NOT_EMBEDDED : "not a path inside the tree");
            free(name);
            free(text);
            return 1;
        }
        if (!text) text = asm_xstrndup(f->text, len = strlen(f->text));
    } else if (!text) {
        char why[ISA_FILE_WHY_SIZE];
        bool missing = false;
        text = isa_read_file(path, ASM_MAX_FILE, &len, &st, why, &missing);
        if (!text) {
            /* A missing image is not a source file it could not read. */
            const size_t pn = strlen(path);
            const bool source_name = pn > 2 && strcmp(path + pn - 2, ".s") == 0;
            if (errors && missing && !source_name)
                fprintf(errors, "%s: error: no such file (a program is a .s source or an image)\n", path);
            else if (errors) fprintf(errors, "%s: error: cannot read the source file: %s\n", path, why);
            return 1;
        }
        have_id = true;
    }
    if (!name) name = asm_xstrndup(path, strlen(path));
    uint32_t fi = add_file(&as, name, text, len, have_id ? &st : NULL, as.opts.embedded);
    as.include_stack[0] = fi;
    process_file(&as, fi);
    if (as.collecting) free_macro(&as.coll), as.collecting = false;
    /* .equ names that waited for later symbols, in order of definition */
    for (size_t i = 0; i < as.syms.n && !as.stopped; i++)
        if (as.syms.v[i].kind == SYM_EQU && as.syms.v[i].state == EQU_PENDING)
            resolve_equ(&as, (uint32_t)i, 0, as.syms.v[i].loc, as.exprs.v[as.syms.v[i].expr].col);
    if (!as.stopped) pass2(&as, out);
    if (as.nerrors == 0) {
        fill_image(&as, out);
    } else {
        asm_image_free(out);
        qsort(as.diags.v, as.diags.n, sizeof *as.diags.v, cmp_diag);
        if (errors) {
            for (size_t i = 0; i < as.diags.n; i++) fputs(as.diags.v[i].text, errors);
            if (as.too_many)
                fprintf(errors, "%s: error: too many errors; stopped after %d\n", as.files.v[0].path,
                        as.nerrors);
        }
    }
    int n = as.nerrors;
    free_as(&as);
    return n;
}

int asm_assemble_file(const char *path, struct asm_image *out, FILE *errors)
{
    return assemble(path, NULL, 0, NULL, out, errors);
}

int asm_assemble_file_opts(const char *path, const struct asm_options *opts,
                           struct asm_image *out, FILE *errors)
{
    return assemble(path, NULL, 0, opts, out, errors);
}

int asm_assemble_string(const char *source, const char *name, struct asm_image *out, FILE *errors)
{
    return asm_assemble_string_opts(source, name, NULL, out, errors);
}

int asm_assemble_string_opts(const char *source, const char *name,
                             const struct asm_options *opts, struct asm_image *out,
                             FILE *errors)
{
    size_t len = strlen(source);
    return assemble(name ? name : "<string>", asm_xstrndup(source, len), len, opts, out, errors);
}

int asm_assemble_embedded(const char *tree_path, struct asm_image *out, FILE *errors)
{
    const struct asm_options opts = {.embedded = true};
    return assemble(tree_path, NULL, 0, &opts, out, errors);
}

int asm_load_program(const char *path, struct asm_image *out, FILE *errors)
{
    return asm_load_program_opts(path, NULL, out, errors);
}

int asm_load_program_opts(const char *path, const struct asm_options *opts,
                          struct asm_image *out, FILE *errors)
{
    if ((opts && opts->embedded) || !asm_is_image_file(path))
        return asm_assemble_file_opts(path, opts, out, errors);
    char err[512];
    if (asm_image_read(path, out, err, sizeof err)) return 0;
    if (errors) fprintf(errors, "%s\n", err);
    return 1;
}
