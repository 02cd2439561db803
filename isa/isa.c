/* isa.c: the instruction table, the disassembler and the variant files. */
#include "isa.h"

#include "file.h"

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

/* ---- Causes, MEM details, the trap record -------------------------------- */

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

const char *isa_mem_fault_name(unsigned detail)
{
    switch (detail) {
#define X(id, n, name, phrase) case n: return name;
        ISA_MEM_FAULTS(X)
#undef X
    default: return NULL;
    }
}

const char *isa_mem_fault_phrase(unsigned detail)
{
    switch (detail) {
#define X(id, n, name, phrase) case n: return phrase;
        ISA_MEM_FAULTS(X)
#undef X
    default: return NULL;
    }
}

bool isa_trap_decode(const uint32_t *area, struct isa_trap_record *t)
{
    const uint32_t word = area[TRAP_CAUSE];
    const unsigned cause = word & 0xffu;
    if (!isa_cause_name(cause)) return false;
    *t = (struct isa_trap_record){(enum isa_cause)cause, (word >> 8) & 0xffu, area[TRAP_VALUE],
                                  isa_psw_from_words(&area[TRAP_OLD_PSW])};
    return true;
}

/* ---- Lists in messages ------------------------------------------------------ */

/* Appends the strings of list (NULL-terminated) to buf as "a, b and c"
 * (last_sep between the last two), always NUL-terminated. */
static char *join_words(const char *const *list, const char *last_sep, char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    for (size_t i = 0; list[i]; i++) {
        const char *sep = i == 0 ? "" : list[i + 1] ? ", " : last_sep;
        append(buf, size, &len, "%s%s", sep, list[i]);
    }
    return buf;
}

const struct isa_op *isa_op_with_flags(unsigned flags, size_t i)
{
    for (size_t k = 0; k < isa_op_count(); k++)
        if ((op_table[k].flags & flags) == flags && i-- == 0) return &op_table[k];
    return NULL;
}

char *isa_system_mnemonic_list(char *buf, size_t size)
{
    const char *list[ISA_OPCODE_SLOTS + 1];
    size_t n = 0;
    for (const struct isa_op *op; (op = isa_op_with_flags(ISA_F_SYSTEM, n)); n++) list[n] = op->mnemonic;
    list[n] = NULL;
    return join_words(list, " and ", buf, size);
}

/* ---- Variants ------------------------------------------------------------- */

/* Generated at build time from the files isa/variants/NAME.var (see the Makefile), so the
 * files stay the single definition of the built-in variants: the texts and
 * their names, both with the default variant first (isa/embed_variants.awk). */
struct isa_builtin_variant {
    const char *name;
    const char *text;
};
extern const struct isa_builtin_variant isa_builtin_variants[];
extern const char *const isa_builtin_variant_name_list[];

const char *const *isa_builtin_variant_names(void) { return isa_builtin_variant_name_list; }

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

/*
 * Variant files.  Loading one may load its `base`, which may load its own,
 * and so on: `chain` lists the files being loaded, innermost first, so that
 * a file that is (directly or not) its own base is reported as a cycle at
 * the `base` line that closes it.  A chain spelled differently each time
 * (a.var, ./a.var, ...) is still stopped by the depth limit.
 */
#define VARIANT_MAX_DEPTH 16

struct variant_chain {
    const char *file;
    const struct variant_chain *up;
    int depth;
};

/* Where a load was asked from: the `base` line, or nowhere (the command line). */
struct variant_site {
    const char *file;
    int line, col;
};

static void site_error(const struct variant_site *site, char err[ISA_ERROR_SIZE],
                       const char *fmt, ...)
{
    int k = site ? snprintf(err, ISA_ERROR_SIZE, "%.300s:%d:%d: error: ", site->file, site->line,
                            site->col)
                 : 0;
    if (k < 0 || k >= ISA_ERROR_SIZE) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, ISA_ERROR_SIZE - (size_t)k, fmt, ap);
    va_end(ap);
}

/* A variant file that cannot be read: named at the base line that asked for
 * it, or on its own when it was asked for by name (there is no line then). */
static void file_error(const struct variant_site *site, const char *path,
                       char err[ISA_ERROR_SIZE], const char *why)
{
    if (site) site_error(site, err, "cannot read variant file '%.300s': %s", path, why);
    else snprintf(err, ISA_ERROR_SIZE, "%.300s: error: cannot read variant file: %s", path, why);
}

static bool variant_load_chain(const char *name_or_path, const struct variant_site *site,
                               const struct variant_chain *chain, struct isa_variant *out,
                               char err[ISA_ERROR_SIZE]);

/* A variant file is a few dozen lines; the cap keeps a wrong path (a log,
 * /dev/zero) from being read into memory. */
#define VARIANT_MAX_FILE (64u << 10)

/* The whole file as a NUL-terminated string (caller frees), or NULL with a
 * message in err: a regular file of at most VARIANT_MAX_FILE bytes. */
static char *read_whole_file(const char *path, const struct variant_site *site,
                             char err[ISA_ERROR_SIZE])
{
    size_t len;
    char why[ISA_FILE_WHY_SIZE];
    char *text = isa_read_file(path, VARIANT_MAX_FILE, &len, NULL, why, NULL);
    if (!text) file_error(site, path, err, why);
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
        while (i < line_len && isspace((unsigned char)line[i])) i++;
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

/* The directory part of file joined with name, unless name is absolute or
 * file has no directory part: a relative base is found beside its file. */
static void path_beside(const char *file, const char *name, char *path, size_t size)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (name[0] != '/' && slash)
        snprintf(path, size, "%.*s/%s", (int)(slash - file), file, name);
    else
        snprintf(path, size, "%s", name);
}

static bool variant_parse_chain(const char *text, const char *file,
                                const struct variant_chain *up, struct isa_variant *out,
                                char err[ISA_ERROR_SIZE])
{
    int lineno = 0;
#define FAIL_AT(col, ...)                                                         \
    do {                                                                          \
        struct variant_site here_ = {file, lineno, (col)};                        \
        site_error(&here_, err, __VA_ARGS__);                                     \
        return false;                                                             \
    } while (0)
#define TEXT(t) (int)((t).len > 64 ? 64 : (t).len), (t).start

    const struct variant_chain chain = {file, up, up ? up->depth + 1 : 0};
    /* Before any line, and with no base: every system instruction traps. */
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ISA_OPCODE_SLOTS; i++) out->user_action[i] = USER_EXEC;
    for (size_t i = 0; i < isa_op_count(); i++)
        if (op_table[i].flags & ISA_F_SYSTEM) out->user_action[op_table[i].opcode] = USER_TRAP;

    bool named = false, seen_user = false, seen_base = false;
    bool set_by_file[ISA_OPCODE_SLOTS] = {false};
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        lineno++;
        struct token t[4];
        int n = tokenize(line, len, t, 4);
        line = eol ? eol + 1 : line + len;
        if (n == 0) continue;
        if (tok_is(&t[0], "variant")) {
            if (n < 2) FAIL_AT(t[0].col + (int)t[0].len, "expected a name after 'variant'");
            if (n > 2) FAIL_AT(t[2].col, "unexpected '%.*s' after 'variant NAME'", TEXT(t[2]));
            if (named) FAIL_AT(t[0].col, "the variant is already named '%s'", out->name);
            if (t[1].len >= sizeof out->name)
                FAIL_AT(t[1].col, "variant name longer than %zu characters", sizeof out->name - 1);
            tok_copy(&t[1], out->name, sizeof out->name);
            named = true;
        } else if (tok_is(&t[0], "base")) {
            if (n < 2) FAIL_AT(t[0].col + (int)t[0].len, "expected a variant name or path after 'base'");
            if (n > 2) FAIL_AT(t[2].col, "unexpected '%.*s' after 'base NAME'", TEXT(t[2]));
            if (seen_base) FAIL_AT(t[0].col, "'base' given twice");
            if (seen_user) FAIL_AT(t[0].col, "'base' must come before any 'user' line");
            char base_name[256];
            if (t[1].len >= sizeof base_name) FAIL_AT(t[1].col, "base name too long");
            tok_copy(&t[1], base_name, sizeof base_name);
            struct variant_site site = {file, lineno, t[1].col};
            /* The base's name: it is not saved by the base line, the file keeps its own. */
            char keep[sizeof out->name];
            memcpy(keep, out->name, sizeof keep);
            if (!variant_load_chain(base_name, &site, &chain, out, err)) return false;
            memcpy(out->name, keep, sizeof keep);
            seen_base = true;
        } else if (tok_is(&t[0], "user")) {
            if (n < 3) FAIL_AT(n == 1 ? t[0].col + (int)t[0].len : t[1].col + (int)t[1].len,
                               "expected 'user MNEMONIC trap|exec|silent'");
            if (n > 3) FAIL_AT(t[3].col, "unexpected '%.*s' after 'user MNEMONIC ACTION'", TEXT(t[3]));
            char mn[32];
            const struct isa_op *op = NULL;
            if (t[1].len < sizeof mn) {
                tok_copy(&t[1], mn, sizeof mn);
                op = isa_op_by_mnemonic(mn);
            }
            if (!op) FAIL_AT(t[1].col, "unknown instruction '%.*s'", TEXT(t[1]));
            if (!(op->flags & ISA_F_SYSTEM)) {
                char list[256];
                FAIL_AT(t[1].col, "'%s' is not a system instruction; only %s can be set", mn,
                        isa_system_mnemonic_list(list, sizeof list));
            }
            if (set_by_file[op->opcode]) FAIL_AT(t[1].col, "'%s' is set twice", mn);
            enum isa_user_action action;
            if (tok_is(&t[2], "trap")) action = USER_TRAP;
            else if (tok_is(&t[2], "exec")) action = USER_EXEC;
            else if (tok_is(&t[2], "silent")) action = USER_SILENT;
            else FAIL_AT(t[2].col, "unknown action '%.*s'; expected trap, exec or silent", TEXT(t[2]));
            out->user_action[op->opcode] = (uint8_t)action;
            set_by_file[op->opcode] = true;
            seen_user = true;
        } else if (tok_is(&t[0], "feature")) {
            if (n < 2) FAIL_AT(t[0].col + (int)t[0].len, "expected 'feature assist'");
            if (n > 2) FAIL_AT(t[2].col, "unexpected '%.*s' after 'feature NAME'", TEXT(t[2]));
            if (!tok_is(&t[1], "assist")) FAIL_AT(t[1].col, "unknown feature '%.*s'; expected assist", TEXT(t[1]));
            out->features |= ISA_FEATURE_ASSIST;
        } else {
            FAIL_AT(t[0].col, "unknown keyword '%.*s'; expected 'variant', 'base', 'user' or 'feature'", TEXT(t[0]));
        }
    }
    if (!named) {
        lineno = 1;
        FAIL_AT(1, "missing 'variant NAME' line");
    }
    return true;
#undef TEXT
#undef FAIL_AT
}

bool isa_variant_parse(const char *text, const char *file, struct isa_variant *out,
                       char err[ISA_ERROR_SIZE])
{
    return variant_parse_chain(text, file, NULL, out, err);
}

static bool variant_load_chain(const char *name_or_path, const struct variant_site *site,
                               const struct variant_chain *chain, struct isa_variant *out,
                               char err[ISA_ERROR_SIZE])
{
    const char *builtin = isa_builtin_variant_text(name_or_path);
    char path[4096];
    if (builtin) {
        snprintf(path, sizeof path, "%s", name_or_path);
    } else if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.')) {
        char names[128];
        join_words(isa_builtin_variant_names(), ", ", names, sizeof names);
        if (site)
            site_error(site, err, "no built-in variant '%.64s' (%s); write a path "
                       "with '/' or '.' for a file", name_or_path, names);
        else
            snprintf(err, ISA_ERROR_SIZE, "%.300s: error: no built-in variant of that name (%s), "
                     "and not a path (a path has '/' or '.')", name_or_path, names);
        return false;
    } else {
        path_beside(site ? site->file : NULL, name_or_path, path, sizeof path);
    }
    for (const struct variant_chain *c = chain; c; c = c->up) {
        if (strcmp(c->file, path) == 0) {
            site_error(site, err, "'%.300s' is based on itself (a base cycle)", path);
            return false;
        }
    }
    if (chain && chain->depth + 1 >= VARIANT_MAX_DEPTH) {
        site_error(site, err, "variants based on each other more than %d deep", VARIANT_MAX_DEPTH);
        return false;
    }
    if (builtin) return variant_parse_chain(builtin, path, chain, out, err);
    char *text = read_whole_file(path, site, err);
    if (!text) return false;
    bool ok = variant_parse_chain(text, path, chain, out, err);
    free(text);
    return ok;
}

bool isa_variant_load(const char *name_or_path, struct isa_variant *out,
                      char err[ISA_ERROR_SIZE])
{
    return variant_load_chain(name_or_path, NULL, NULL, out, err);
}

const char *isa_exit_reason_name(unsigned reason)
{
    switch (reason) {
#define X(id, n, name) case n: return name;
        ISA_EXIT_REASONS(X)
#undef X
    }
    return NULL;
}
