/* isa.c: the instruction table, the disassembler and the variant files. */
#include "isa.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct isa_op op_table[] = {
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) {mn, doc, opc, fmt, ops, flags},
#include "isa.def"
#undef ISA_OP
};

const struct isa_op *isa_ops(void) { return op_table; }
size_t isa_op_count(void) { return sizeof op_table / sizeof op_table[0]; }

/* Table position of each instruction, then its position by opcode (plus one,
 * so that 0 marks an undefined opcode); both made from isa.def at compile time. */
enum {
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) ISA_INDEX_##id,
#include "isa.def"
#undef ISA_OP
};
static const uint8_t index_by_opcode[ISA_OPCODE_SLOTS] = {
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) [opc] = ISA_INDEX_##id + 1,
#include "isa.def"
#undef ISA_OP
};

const struct isa_op *isa_op_by_opcode(uint8_t opcode)
{
    unsigned i = index_by_opcode[opcode];
    return i ? &op_table[i - 1] : NULL;
}

const struct isa_op *isa_op_by_mnemonic(const char *mnemonic)
{
    for (size_t i = 0; i < isa_op_count(); i++)
        if (strcmp(op_table[i].mnemonic, mnemonic) == 0) return &op_table[i];
    return NULL;
}

/* ---- Disassembler ---------------------------------------------------------- */

static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static void append_target(char *buf, size_t size, size_t *len, uint32_t target,
                          isa_label_fn label_of, void *ctx)
{
    const char *label = label_of ? label_of(ctx, target) : NULL;
    if (label) append(buf, size, len, "%s", label);
    else append(buf, size, len, "0x%x", target);
}

char *isa_disassemble(uint32_t w, uint32_t pc, isa_label_fn label_of, void *ctx,
                      char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    const struct isa_op *op = isa_op_by_opcode(isa_opcode_of(w));
    if (!op) {
        append(buf, size, &len, ".word 0x%08x", w);
        return buf;
    }
    unsigned a = isa_field_a(w), b = isa_field_b(w), c = isa_field_c(w);
    int32_t imm = (int32_t)isa_imm_value(op, w);
    append(buf, size, &len, "%s", op->mnemonic);
    switch ((enum isa_operands)op->operands) {
    case OPS_NONE: break;
    case OPS_RRR: append(buf, size, &len, " r%u, r%u, r%u", a, b, c); break;
    case OPS_RRI: append(buf, size, &len, " r%u, r%u, %d", a, b, imm); break;
    case OPS_RI: append(buf, size, &len, " r%u, %d", a, imm); break;
    case OPS_RR: append(buf, size, &len, " r%u, r%u", a, b); break;
    case OPS_R: append(buf, size, &len, " r%u", a); break;
    case OPS_MEM: append(buf, size, &len, " r%u, %d(r%u)", a, imm, b); break;
    case OPS_PSWADDR: append(buf, size, &len, " %d(r%u)", imm, b); break;
    case OPS_BRANCH:
        append(buf, size, &len, " r%u, r%u, ", a, b);
        append_target(buf, size, &len, pc + 1 + (uint32_t)imm, label_of, ctx);
        break;
    case OPS_ADDR:
        append(buf, size, &len, " ");
        append_target(buf, size, &len, isa_imm24(w), label_of, ctx);
        break;
    case OPS_IMM: append(buf, size, &len, " %d", imm); break;
    }
    return buf;
}

/* ---- PSW and causes -------------------------------------------------------- */

void isa_psw_to_words(const struct psw *p, uint32_t words[PSW_WORDS])
{
    words[0] = p->flags;
    words[1] = p->pc;
    words[2] = p->base;
    words[3] = p->bound;
    words[4] = p->timer;
}

struct psw isa_psw_from_words(const uint32_t words[PSW_WORDS])
{
    return (struct psw){words[0] & PSW_FLAGS_MASK, words[1], words[2], words[3], words[4]};
}

const char *isa_cause_name(unsigned cause)
{
    switch (cause) {
#define X(id, n, name) case n: return name;
        ISA_CAUSES(X)
#undef X
    default: return NULL;
    }
}

enum isa_cause isa_cause_by_name(const char *name)
{
#define X(id, n, str) if (strcasecmp(name, str) == 0) return CAUSE_##id;
    ISA_CAUSES(X)
#undef X
    return CAUSE_NONE;
}

/* ---- Variants ------------------------------------------------------------- */

/* Generated at build time from the files isa/variants/NAME.var (see the Makefile), so the
 * files stay the single definition of the built-in variants. */
struct isa_builtin_variant {
    const char *name;
    const char *text;
};
extern const struct isa_builtin_variant isa_builtin_variants[];

const char *const *isa_builtin_variant_names(void)
{
    static const char *const names[] = {"pg", "hybrid", "x86like", NULL};
    return names;
}

const char *isa_builtin_variant_text(const char *name)
{
    for (const struct isa_builtin_variant *v = isa_builtin_variants; v->name; v++)
        if (strcmp(v->name, name) == 0) return v->text;
    return NULL;
}

const char *isa_user_action_name(enum isa_user_action a)
{
    switch (a) {
    case USER_TRAP: return "trap";
    case USER_EXEC: return "exec";
    case USER_SILENT: return "silent";
    }
    return "?";
}

#define VARIANT_MAX_DEPTH 8

static bool variant_load_depth(const char *name_or_path, const char *relative_to,
                               struct isa_variant *out, char err[ISA_ERROR_SIZE], int depth);

static char *read_whole_file(const char *path, char err[ISA_ERROR_SIZE])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, ISA_ERROR_SIZE, "%.300s: error: cannot open variant file: %s", path,
                 strerror(errno));
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    for (;;) {
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (len < cap - 1) break;
        if (cap > (1u << 20)) {
            snprintf(err, ISA_ERROR_SIZE, "%.300s: error: variant file larger than 1 MiB", path);
            free(text);
            fclose(f);
            return NULL;
        }
        cap *= 2;
        text = realloc(text, cap);
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(err, ISA_ERROR_SIZE, "%.300s: error: cannot read variant file", path);
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

struct token {
    const char *start;
    size_t len;
    int col; /* 1-based */
};

/* Splits a line into at most max tokens, stopping at a comment; returns the
 * count, or max + 1 when there are more. */
static int tokenize(const char *line, size_t line_len, struct token *tok, int max)
{
    int n = 0;
    size_t i = 0;
    for (;;) {
        while (i < line_len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) i++;
        if (i >= line_len || line[i] == '#') return n;
        if (n == max) return max + 1;
        tok[n].start = line + i;
        tok[n].col = (int)i + 1;
        while (i < line_len && !isspace((unsigned char)line[i]) && line[i] != '#') i++;
        tok[n].len = (size_t)(line + i - tok[n].start);
        n++;
    }
}

static bool tok_is(const struct token *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->start, s, t->len) == 0;
}

static void tok_copy(const struct token *t, char *dst, size_t size)
{
    size_t n = t->len < size - 1 ? t->len : size - 1;
    memcpy(dst, t->start, n);
    dst[n] = '\0';
}

static bool variant_parse_depth(const char *text, const char *file, struct isa_variant *out,
                                char err[ISA_ERROR_SIZE], int depth)
{
#define FAIL_AT(col, ...)                                                              \
    do {                                                                               \
        int k = snprintf(err, ISA_ERROR_SIZE, "%s:%d:%d: error: ", file, lineno, col); \
        if (k > 0 && k < ISA_ERROR_SIZE) snprintf(err + k, ISA_ERROR_SIZE - (size_t)k, __VA_ARGS__); \
        return false;                                                                  \
    } while (0)

    /* No base: every system instruction traps in user mode. */
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ISA_OPCODE_SLOTS; i++) out->user_action[i] = USER_EXEC;
    for (size_t i = 0; i < isa_op_count(); i++)
        if (op_table[i].flags & ISA_F_SYSTEM) out->user_action[op_table[i].opcode] = USER_TRAP;

    bool named = false, seen_user = false, seen_base = false;
    bool set_by_file[ISA_OPCODE_SLOTS] = {false};
    int lineno = 0;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        lineno++;
        struct token t[4];
        int n = tokenize(line, len, t, 3);
        if (n > 0) {
            if (tok_is(&t[0], "variant")) {
                if (n != 2) FAIL_AT(t[0].col, "expected 'variant NAME'");
                if (named) FAIL_AT(t[0].col, "the variant is already named");
                if (t[1].len >= sizeof out->name) FAIL_AT(t[1].col, "variant name longer than %zu characters", sizeof out->name - 1);
                tok_copy(&t[1], out->name, sizeof out->name);
                named = true;
            } else if (tok_is(&t[0], "base")) {
                if (n != 2) FAIL_AT(t[0].col, "expected 'base NAME'");
                if (seen_user || seen_base) FAIL_AT(t[0].col, "'base' must come once, before any 'user' line");
                if (depth >= VARIANT_MAX_DEPTH) FAIL_AT(t[1].col, "variants are based on each other more than %d deep (a cycle?)", VARIANT_MAX_DEPTH);
                char base_name[256];
                tok_copy(&t[1], base_name, sizeof base_name);
                struct isa_variant base;
                char sub_err[ISA_ERROR_SIZE];
                if (!variant_load_depth(base_name, file, &base, sub_err, depth + 1)) {
                    /* The base's own message names its file and line. */
                    memcpy(err, sub_err, ISA_ERROR_SIZE);
                    return false;
                }
                memcpy(out->user_action, base.user_action, sizeof out->user_action);
                seen_base = true;
            } else if (tok_is(&t[0], "user")) {
                if (n != 3) FAIL_AT(t[0].col, "expected 'user MNEMONIC trap|exec|silent'");
                char mn[32];
                tok_copy(&t[1], mn, sizeof mn);
                const struct isa_op *op = isa_op_by_mnemonic(mn);
                if (!op) FAIL_AT(t[1].col, "unknown instruction '%s'", mn);
                if (!(op->flags & ISA_F_SYSTEM))
                    FAIL_AT(t[1].col, "'%s' is not a system instruction; only halt, lpsw, pushf, popf, srr, stmr, rtmr, in, out and tlbflush can be set", mn);
                if (set_by_file[op->opcode]) FAIL_AT(t[1].col, "'%s' is set twice", mn);
                enum isa_user_action action;
                if (tok_is(&t[2], "trap")) action = USER_TRAP;
                else if (tok_is(&t[2], "exec")) action = USER_EXEC;
                else if (tok_is(&t[2], "silent")) action = USER_SILENT;
                else FAIL_AT(t[2].col, "expected trap, exec or silent");
                out->user_action[op->opcode] = (uint8_t)action;
                set_by_file[op->opcode] = true;
                seen_user = true;
            } else {
                FAIL_AT(t[0].col, "expected 'variant', 'base' or 'user'");
            }
        }
        line = eol ? eol + 1 : line + len;
    }
    lineno = lineno ? lineno : 1;
    if (!named) FAIL_AT(1, "missing 'variant NAME' line");
    return true;
#undef FAIL_AT
}

bool isa_variant_parse(const char *text, const char *file, struct isa_variant *out,
                       char err[ISA_ERROR_SIZE])
{
    return variant_parse_depth(text, file, out, err, 0);
}

static bool variant_load_depth(const char *name_or_path, const char *relative_to,
                               struct isa_variant *out, char err[ISA_ERROR_SIZE], int depth)
{
    const char *builtin = isa_builtin_variant_text(name_or_path);
    if (builtin) return variant_parse_depth(builtin, name_or_path, out, err, depth);
    if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.')) {
        snprintf(err, ISA_ERROR_SIZE,
                 "%.300s: error: no built-in variant of that name (pg, hybrid, x86like) and not a path",
                 name_or_path);
        return false;
    }
    /* A relative base is looked up beside the file that names it. */
    char path[4096];
    const char *slash = relative_to ? strrchr(relative_to, '/') : NULL;
    if (name_or_path[0] != '/' && slash)
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - relative_to), relative_to, name_or_path);
    else
        snprintf(path, sizeof path, "%s", name_or_path);
    char *text = read_whole_file(path, err);
    if (!text) return false;
    bool ok = variant_parse_depth(text, path, out, err, depth);
    free(text);
    return ok;
}

bool isa_variant_load(const char *name_or_path, struct isa_variant *out,
                      char err[ISA_ERROR_SIZE])
{
    return variant_load_depth(name_or_path, NULL, out, err, 0);
}
