/*
 * asm_image.c: images.  The text format (write and read), placing an image in
 * memory, symbol and line queries, the listing and the disassembly.
 *
 * The format, one record per line (assembler/README.md has the details):
 *
 *   trapeze-image 1
 *   entry 0x00000010
 *   file 0 "prog.s"
 *   symbol 0x00000010 label _start
 *   symbol 0x0000000a equ NEWLINE
 *   segment 0x00000010 3
 *   10100005 18100000 12110000
 *   line 0x00000010 0 1
 *   end
 */
#include "asm_priv.h"

#include "../isa/file.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define IMAGE_MAGIC "trapeze-image"
#define IMAGE_VERSION 1
#define WORDS_PER_LINE 8

void asm_image_free(struct asm_image *img)
{
    if (!img) return;
    for (size_t i = 0; i < img->nsegments; i++) free(img->segments[i].words);
    free(img->segments);
    for (size_t i = 0; i < img->nsymbols; i++) free(img->symbols[i].name);
    free(img->symbols);
    for (size_t i = 0; i < img->nfiles; i++) {
        free(img->files[i]);
        if (img->texts) free(img->texts[i]);
    }
    free(img->files);
    free(img->texts);
    free(img->lines);
    memset(img, 0, sizeof *img);
}

static int cmp_symbol(const void *x, const void *y)
{
    const struct asm_symbol *a = x, *b = y;
    if (a->is_label != b->is_label) return a->is_label ? -1 : 1;
    if (a->value != b->value) return a->value < b->value ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int cmp_line(const void *x, const void *y)
{
    const struct asm_line *a = x, *b = y;
    return a->address < b->address ? -1 : a->address > b->address;
}

void asm_image_sort(struct asm_image *img)
{
    if (img->nsymbols) qsort(img->symbols, img->nsymbols, sizeof *img->symbols, cmp_symbol);
    if (img->nlines) qsort(img->lines, img->nlines, sizeof *img->lines, cmp_line);
}

bool asm_image_place(const struct asm_image *img, uint32_t *memory, size_t memsize,
                     uint32_t offset)
{
    for (size_t i = 0; i < img->nsegments; i++)
        if ((uint64_t)offset + img->segments[i].at + img->segments[i].count > memsize) return false;
    for (size_t i = 0; i < img->nsegments; i++)
        memcpy(memory + (size_t)offset + img->segments[i].at, img->segments[i].words,
               img->segments[i].count * sizeof(uint32_t));
    return true;
}

/* ---- Queries ---------------------------------------------------------------------- */

/* Labels come first in img->symbols: the number of them. */
static size_t label_count(const struct asm_image *img)
{
    size_t lo = 0, hi = img->nsymbols;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->symbols[mid].is_label) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The first label whose value is >= address (or > address when after). */
static size_t label_bound(const struct asm_image *img, size_t nlabels, uint32_t address, bool after)
{
    size_t lo = 0, hi = nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t v = img->symbols[mid].value;
        if (v < address || (after && v == address)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

const char *asm_symbol_at(const struct asm_image *img, uint32_t address)
{
    size_t n = label_count(img), i = label_bound(img, n, address, false);
    return i < n && img->symbols[i].value == address ? img->symbols[i].name : NULL;
}

const char *asm_symbol_near(const struct asm_image *img, uint32_t address, uint32_t *offset)
{
    size_t n = label_count(img), i = label_bound(img, n, address, true);
    if (i == 0) return NULL;
    uint32_t v = img->symbols[i - 1].value;
    if (offset) *offset = address - v;
    return img->symbols[label_bound(img, n, v, false)].name;
}

bool asm_symbol_value(const struct asm_image *img, const char *name, uint32_t *value)
{
    for (size_t i = 0; i < img->nsymbols; i++)
        if (strcmp(img->symbols[i].name, name) == 0) {
            if (value) *value = img->symbols[i].value;
            return true;
        }
    return false;
}

/* The segment holding address, or NULL. */
static const struct asm_segment *segment_at(const struct asm_image *img, uint32_t address)
{
    size_t lo = 0, hi = img->nsegments;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->segments[mid].at <= address) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return NULL;
    const struct asm_segment *s = &img->segments[lo - 1];
    return address - s->at < s->count ? s : NULL;
}

const struct asm_line *asm_line_at(const struct asm_image *img, uint32_t address)
{
    const struct asm_segment *s = segment_at(img, address);
    if (!s) return NULL;
    size_t lo = 0, hi = img->nlines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (img->lines[mid].address <= address) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0 || img->lines[lo - 1].address < s->at) return NULL;
    return &img->lines[lo - 1];
}

/* ---- Writing ------------------------------------------------------------------------ */

static void write_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch == '\n') fputs("\\n", out);
        else if (ch == '\t') fputs("\\t", out);
        else if (ch < 32 || ch == 127) fprintf(out, "\\x%02x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
}

bool asm_image_write(const struct asm_image *img, FILE *out)
{
    fprintf(out, "%s %d\n", IMAGE_MAGIC, IMAGE_VERSION);
    fprintf(out, "entry 0x%08x\n", img->entry);
    for (size_t i = 0; i < img->nfiles; i++) {
        fprintf(out, "file %zu ", i);
        write_quoted(out, img->files[i]);
        fputc('\n', out);
    }
    for (size_t i = 0; i < img->nsymbols; i++)
        fprintf(out, "symbol 0x%08x %s %s\n", img->symbols[i].value,
                img->symbols[i].is_label ? "label" : "equ", img->symbols[i].name);
    for (size_t i = 0; i < img->nsegments; i++) {
        const struct asm_segment *s = &img->segments[i];
        fprintf(out, "segment 0x%08x %zu\n", s->at, s->count);
        for (size_t k = 0; k < s->count; k++)
            fprintf(out, "%08x%c", s->words[k],
                    (k % WORDS_PER_LINE == WORDS_PER_LINE - 1 || k + 1 == s->count) ? '\n' : ' ');
    }
    for (size_t i = 0; i < img->nlines; i++)
        fprintf(out, "line 0x%08x %u %u\n", img->lines[i].address, img->lines[i].file,
                img->lines[i].line);
    fputs("end\n", out);
    return fflush(out) == 0 && !ferror(out);
}

/* ---- Reading ------------------------------------------------------------------------ */

struct reader {
    FILE *f;
    const char *path;
    char *line;
    size_t cap;
    uint32_t lineno;
    char *err;
    size_t err_size;
};

struct tok {
    const char *s;
    size_t n;
    size_t col;
};

static bool rfail(struct reader *r, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool rfail(struct reader *r, size_t col, const char *fmt, ...)
{
    int k = snprintf(r->err, r->err_size, "%s:%u:%zu: error: ", r->path, r->lineno ? r->lineno : 1, col);
    if (k >= 0 && (size_t)k < r->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err + k, r->err_size - (size_t)k, fmt, ap);
        va_end(ap);
    }
    /* A one-line message, safe to print: no control characters. */
    for (char *p = r->err; *p; p++)
        if ((unsigned char)*p < 32 || (unsigned char)*p >= 127) *p = '?';
    return false;
}

/* Reads the next line; false at the end of the file or after an error
 * (*bad set, message written). */
static bool next_line(struct reader *r, bool *bad)
{
    errno = 0;
    ssize_t n = getline(&r->line, &r->cap, r->f);
    if (n < 0) {
        if (ferror(r->f)) *bad = !rfail(r, 1, "cannot read the image: %s", strerror(errno));
        return false;
    }
    r->lineno++;
    size_t len = (size_t)n;
    if (len && r->line[len - 1] == '\n') r->line[--len] = '\0';
    if (len && r->line[len - 1] == '\r') r->line[--len] = '\0';
    if (strlen(r->line) != len) {
        *bad = !rfail(r, strlen(r->line) + 1, "NUL character in the image");
        return false;
    }
    return true;
}

/* Splits a line at blanks; returns the number of tokens (max + 1 when more). */
static size_t tokenize(const char *line, struct tok *t, size_t max)
{
    size_t n = 0;
    for (const char *p = line;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) return n;
        if (n == max) return max + 1;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t') p++;
        t[n++] = (struct tok){start, (size_t)(p - start), (size_t)(start - line) + 1};
    }
}

static bool tok_is(const struct tok *t, const char *s)
{
    return t->n == strlen(s) && memcmp(t->s, s, t->n) == 0;
}

static int hexval(int ch)
{
    if (isdigit(ch)) return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* 1..8 hex digits, with a 0x prefix when prefixed. */
static bool tok_hex(const struct tok *t, bool prefixed, uint32_t *out)
{
    const char *p = t->s;
    size_t n = t->n;
    if (prefixed) {
        if (n < 3 || p[0] != '0' || (p[1] != 'x' && p[1] != 'X')) return false;
        p += 2, n -= 2;
    }
    if (n == 0 || n > 8) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hexval((unsigned char)p[i]);
        if (d < 0) return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

static bool tok_dec(const struct tok *t, uint64_t max, uint64_t *out)
{
    if (t->n == 0 || t->n > 19) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!isdigit((unsigned char)t->s[i])) return false;
        v = v * 10 + (uint64_t)(t->s[i] - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

/* Parses the quoted string at s into a new string; NULL on a bad one. */
static char *parse_quoted(const char *s, size_t *bad_at)
{
    const char *p = s;
    if (*p != '"') return *bad_at = 0, NULL;
    p++;
    size_t cap = 0, n = 0;
    char *out = NULL;
    for (;;) {
        int ch = (unsigned char)*p;
        if (ch == '\0') return free(out), *bad_at = (size_t)(p - s), NULL;
        if (ch == '"') break;
        if (ch == '\\') {
            const char *esc = p;
            int e = (unsigned char)p[1];
            if (e == 'n') ch = '\n', p += 2;
            else if (e == 't') ch = '\t', p += 2;
            else if (e == '\\' || e == '"') ch = e, p += 2;
            else if (e == 'x' && hexval((unsigned char)p[2]) >= 0 && hexval((unsigned char)p[3]) >= 0)
                ch = hexval((unsigned char)p[2]) * 16 + hexval((unsigned char)p[3]), p += 4;
            else return free(out), *bad_at = (size_t)(p - s), NULL;
            if (ch == 0) return free(out), *bad_at = (size_t)(esc - s), NULL;
        } else {
            p++;
        }
        out = asm_grow(out, &cap, n + 2, 1);
        out[n++] = (char)ch;
    }
    if (p[1] != '\0') return free(out), *bad_at = (size_t)(p + 1 - s), NULL;
    out = asm_grow(out, &cap, n + 1, 1);
    out[n] = '\0';
    return out;
}

static bool is_record_keyword(const struct tok *t)
{
    static const char *const keywords[] = {"entry", "file", "symbol", "segment", "line", "end"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (tok_is(t, keywords[i])) return true;
    return false;
}

/* The record line of every segment, symbol and line entry, by index, for
 * the checks made once all are read. */
struct record_lines {
    uint32_t *seg, *sym, *line;
};

static bool read_records(struct reader *r, struct asm_image *img, struct record_lines *rl)
{
    struct tok t[5];
    bool bad = false;
    if (!next_line(r, &bad)) return bad ? false : rfail(r, 1, "empty file: not a Trapeze image");
    size_t n = tokenize(r->line, t, 4);
    if (n < 1 || !tok_is(&t[0], IMAGE_MAGIC))
        return rfail(r, 1, "not a Trapeze image (the first line must be '%s %d')", IMAGE_MAGIC, IMAGE_VERSION);
    uint64_t version;
    if (n != 2 || !tok_dec(&t[1], 1000000, &version))
        return rfail(r, n >= 2 ? t[1].col : t[0].n + 1, "expected '%s %d'", IMAGE_MAGIC, IMAGE_VERSION);
    if (version != IMAGE_VERSION)
        return rfail(r, t[1].col, "image version %llu is not supported (this Trapeze reads version %d)",
                     (unsigned long long)version, IMAGE_VERSION);

    bool have_entry = false, ended = false;
    size_t seg_cap = 0, sym_cap = 0, file_cap = 0, line_cap = 0, segl_cap = 0, syml_cap = 0,
           linel_cap = 0;
    size_t filled = 0, word_cap = 0; /* of the segment being read */
    uint64_t total = 0;
    struct asm_segment *cur = NULL;
    while (next_line(r, &bad)) {
        n = tokenize(r->line, t, 4);
        if (n == 0 || t[0].s[0] == '#') continue;
        if (ended) return rfail(r, t[0].col, "text after 'end'");
        if (cur && filled < cur->count) {
            for (const char *p = r->line;;) {
                while (*p == ' ' || *p == '\t') p++;
                if (!*p) break;
                struct tok w = {p, 0, (size_t)(p - r->line) + 1};
                while (p[w.n] && p[w.n] != ' ' && p[w.n] != '\t') w.n++;
                uint32_t v;
                if (!tok_hex(&w, false, &v)) {
                    if (w.col == 1 && is_record_keyword(&w))
                        return rfail(r, w.col, "the segment at 0x%x has %zu words, its header says %zu",
                                     cur->at, filled, cur->count);
                    return rfail(r, w.col, "bad word '%.*s' (expected 1 to 8 hex digits)",
                                 (int)(w.n > 20 ? 20 : w.n), w.s);
                }
                if (filled == cur->count)
                    return rfail(r, w.col, "more words than the segment's count (%zu)", cur->count);
                cur->words = asm_grow(cur->words, &word_cap, filled + 1, sizeof *cur->words);
                cur->words[filled++] = v;
                p += w.n;
            }
            continue;
        }
        if (tok_is(&t[0], "entry")) {
            if (n != 2) return rfail(r, t[0].col, "expected 'entry 0xADDRESS'");
            if (have_entry) return rfail(r, t[0].col, "a second 'entry'");
            if (!tok_hex(&t[1], true, &img->entry))
                return rfail(r, t[1].col, "bad address (expected 0x and 1 to 8 hex digits)");
            have_entry = true;
        } else if (tok_is(&t[0], "file")) {
            uint64_t index;
            if (n < 3) return rfail(r, t[0].col, "expected 'file INDEX \"PATH\"'");
            if (!tok_dec(&t[1], UINT32_MAX, &index) || index != img->nfiles)
                return rfail(r, t[1].col, "expected file index %zu", img->nfiles);
            size_t bad_at = 0;
            char *path = parse_quoted(t[2].s, &bad_at);
            if (!path) return rfail(r, t[2].col + bad_at, "bad file name (expected a quoted string)");
            img->files = asm_grow(img->files, &file_cap, img->nfiles + 1, sizeof *img->files);
            img->files[img->nfiles++] = path;
        } else if (tok_is(&t[0], "symbol")) {
            uint32_t v;
            if (n != 4) return rfail(r, t[0].col, "expected 'symbol 0xVALUE label|equ NAME'");
            if (!tok_hex(&t[1], true, &v))
                return rfail(r, t[1].col, "bad value (expected 0x and 1 to 8 hex digits)");
            bool label = tok_is(&t[2], "label");
            if (!label && !tok_is(&t[2], "equ")) return rfail(r, t[2].col, "expected 'label' or 'equ'");
            char *name = asm_xstrndup(t[3].s, t[3].n);
            if (!asm_valid_symbol_name(name)) {
                free(name);
                return rfail(r, t[3].col, "bad symbol name '%.*s'", (int)(t[3].n > 40 ? 40 : t[3].n), t[3].s);
            }
            img->symbols = asm_grow(img->symbols, &sym_cap, img->nsymbols + 1, sizeof *img->symbols);
            rl->sym = asm_grow(rl->sym, &syml_cap, img->nsymbols + 1, sizeof *rl->sym);
            rl->sym[img->nsymbols] = r->lineno;
            img->symbols[img->nsymbols++] = (struct asm_symbol){name, v, label};
        } else if (tok_is(&t[0], "segment")) {
            uint32_t at;
            uint64_t count;
            if (n != 3) return rfail(r, t[0].col, "expected 'segment 0xADDRESS COUNT'");
            if (!tok_hex(&t[1], true, &at))
                return rfail(r, t[1].col, "bad address (expected 0x and 1 to 8 hex digits)");
            if (!tok_dec(&t[2], ASM_MAX_WORDS, &count) || count == 0)
                return rfail(r, t[2].col, "bad word count (expected 1..%u)", ASM_MAX_WORDS);
            if (at + count > (uint64_t)UINT32_MAX + 1)
                return rfail(r, t[2].col, "the segment runs past address 0xffffffff");
            if ((total += count) > ASM_MAX_WORDS)
                return rfail(r, t[2].col, "the image has more than %u words", ASM_MAX_WORDS);
            img->segments = asm_grow(img->segments, &seg_cap, img->nsegments + 1, sizeof *img->segments);
            rl->seg = asm_grow(rl->seg, &segl_cap, img->nsegments + 1, sizeof *rl->seg);
            rl->seg[img->nsegments] = r->lineno;
            cur = &img->segments[img->nsegments++];
            *cur = (struct asm_segment){at, NULL, (size_t)count};
            filled = word_cap = 0;
        } else if (tok_is(&t[0], "line")) {
            uint32_t at;
            uint64_t file, line;
            if (n != 4) return rfail(r, t[0].col, "expected 'line 0xADDRESS FILE LINE'");
            if (!tok_hex(&t[1], true, &at))
                return rfail(r, t[1].col, "bad address (expected 0x and 1 to 8 hex digits)");
            if (!tok_dec(&t[2], UINT32_MAX, &file) || file >= img->nfiles)
                return rfail(r, t[2].col, "bad file index (%zu file%s declared above)", img->nfiles,
                             img->nfiles == 1 ? "" : "s");
            if (!tok_dec(&t[3], UINT32_MAX, &line) || line == 0)
                return rfail(r, t[3].col, "bad line number");
            img->lines = asm_grow(img->lines, &line_cap, img->nlines + 1, sizeof *img->lines);
            rl->line = asm_grow(rl->line, &linel_cap, img->nlines + 1, sizeof *rl->line);
            rl->line[img->nlines] = r->lineno;
            img->lines[img->nlines++] = (struct asm_line){at, (uint32_t)file, (uint32_t)line};
        } else if (tok_is(&t[0], "end")) {
            if (n != 1) return rfail(r, t[1].col, "extra text after 'end'");
            ended = true;
        } else {
            return rfail(r, t[0].col, "unknown record '%.*s' (expected entry, file, symbol, segment, line or end)",
                         (int)(t[0].n > 20 ? 20 : t[0].n), t[0].s);
        }
    }
    if (bad) return false;
    r->lineno++; /* errors below are at the end of the file */
    if (cur && filled < cur->count)
        return rfail(r, 1, "truncated image: the segment at 0x%x has %zu of %zu words", cur->at,
                     filled, cur->count);
    if (!ended) return rfail(r, 1, "truncated image: no 'end' line");
    if (!have_entry) return rfail(r, 1, "no 'entry' line");
    return true;
}

/* Bottom-up merge sort of indexes into img (qsort has no context argument). */
typedef int (*index_cmp)(uint32_t a, uint32_t b, const struct asm_image *img);
static void sort_indexes(uint32_t *v, size_t n, index_cmp cmp, const struct asm_image *img)
{
    uint32_t *tmp = asm_xmalloc(n * sizeof *tmp);
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = cmp(v[j], v[i], img) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    free(tmp);
}

static int cmp_segment_at(uint32_t a, uint32_t b, const struct asm_image *img)
{
    uint32_t x = img->segments[a].at, y = img->segments[b].at;
    return x < y ? -1 : x > y;
}

static int cmp_line_at(uint32_t a, uint32_t b, const struct asm_image *img)
{
    uint32_t x = img->lines[a].address, y = img->lines[b].address;
    return x < y ? -1 : x > y;
}

static int cmp_symbol_name(uint32_t a, uint32_t b, const struct asm_image *img)
{
    return strcmp(img->symbols[a].name, img->symbols[b].name);
}

static uint32_t *identity(size_t n)
{
    uint32_t *idx = asm_xmalloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    return idx;
}

/* Sorts the segments by address and checks that none overlap; messages
 * name the later of the two records. */
static bool check_segments(struct reader *r, struct asm_image *img, const uint32_t *seg_lines)
{
    size_t n = img->nsegments;
    uint32_t *idx = identity(n);
    sort_indexes(idx, n, cmp_segment_at, img);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++) {
        const struct asm_segment *a = &img->segments[idx[i - 1]], *b = &img->segments[idx[i]];
        if ((uint64_t)a->at + a->count > b->at) {
            uint32_t la = seg_lines[idx[i - 1]], lb = seg_lines[idx[i]];
            r->lineno = la > lb ? la : lb;
            ok = rfail(r, 1, "segments at 0x%x and 0x%x overlap", a->at, b->at);
        }
    }
    if (ok && n > 0) {
        struct asm_segment *sorted = asm_xmalloc(n * sizeof *sorted);
        for (size_t i = 0; i < n; i++) sorted[i] = img->segments[idx[i]];
        memcpy(img->segments, sorted, n * sizeof *sorted);
        free(sorted);
    }
    free(idx);
    return ok;
}

static bool check_symbols(struct reader *r, const struct asm_image *img, const uint32_t *sym_lines)
{
    size_t n = img->nsymbols;
    uint32_t *idx = identity(n);
    sort_indexes(idx, n, cmp_symbol_name, img);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++)
        if (strcmp(img->symbols[idx[i - 1]].name, img->symbols[idx[i]].name) == 0) {
            uint32_t a = sym_lines[idx[i - 1]], b = sym_lines[idx[i]];
            r->lineno = a > b ? a : b;
            ok = rfail(r, 1, "symbol '%s' is defined twice", img->symbols[idx[i]].name);
        }
    free(idx);
    return ok;
}

/* Each line entry names the statement at its address, so two at one
 * address contradict each other, and one outside every segment names words
 * that do not exist (the listing and the debugger would follow either).
 * The segments are sorted already; messages name the later record. */
static bool check_lines(struct reader *r, const struct asm_image *img, const uint32_t *line_lines)
{
    size_t n = img->nlines;
    uint32_t *idx = identity(n);
    sort_indexes(idx, n, cmp_line_at, img);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        const struct asm_line *l = &img->lines[idx[i]];
        if (i > 0 && img->lines[idx[i - 1]].address == l->address) {
            uint32_t a = line_lines[idx[i - 1]], b = line_lines[idx[i]];
            r->lineno = a > b ? a : b;
            ok = rfail(r, 1, "a second 'line' record for address 0x%x", l->address);
        } else if (!segment_at(img, l->address)) {
            r->lineno = line_lines[idx[i]];
            ok = rfail(r, 1, "'line' record for address 0x%x, which no segment holds", l->address);
        }
    }
    free(idx);
    return ok;
}

bool asm_image_read(const char *path, struct asm_image *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    struct reader r = {.path = path, .err = err, .err_size = err_size};
    if (err_size) err[0] = '\0';
    /* Read whole, bounded: getline on /dev/zero would never end. */
    size_t len;
    char why[ISA_FILE_WHY_SIZE];
    char *text = isa_read_file(path, ASM_MAX_IMAGE_FILE, &len, NULL, why, NULL);
    r.f = text ? fmemopen(text, len, "rb") : NULL;
    if (!r.f) {
        snprintf(err, err_size, "%s: error: cannot open the image: %s", path, text ? strerror(errno) : why);
        free(text);
        return false;
    }
    struct record_lines rl = {NULL, NULL, NULL};
    bool ok = read_records(&r, out, &rl) && check_segments(&r, out, rl.seg) &&
              check_symbols(&r, out, rl.sym) && check_lines(&r, out, rl.line);
    free(rl.seg);
    free(rl.sym);
    free(rl.line);
    free(r.line);
    fclose(r.f);
    free(text);
    if (!ok) {
        asm_image_free(out);
        return false;
    }
    asm_image_sort(out);
    return true;
}

bool asm_is_image_file(const char *path)
{
    /* Only a regular file is opened (a FIFO would block); the reader of
     * anything else says what it is. */
    FILE *f = isa_is_regular_file(path) ? fopen(path, "rb") : NULL;
    if (!f) return false;
    char head[sizeof IMAGE_MAGIC + 1];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    size_t m = sizeof IMAGE_MAGIC - 1;
    return n >= m && memcmp(head, IMAGE_MAGIC, m) == 0 &&
           (n == m || head[m] == ' ' || head[m] == '\t' || head[m] == '\n' || head[m] == '\r');
}

/* ---- Listing ------------------------------------------------------------------------ */

/* A source file split into lines for the listing. */
struct listing_file {
    char *text;       /* owned copy, or NULL when unknown */
    char **lines;
    size_t nlines;
};

static void listing_load(struct listing_file *lf, const struct asm_image *img, size_t i)
{
    const char *text = img->texts ? img->texts[i] : NULL;
    char *loaded = NULL;
    if (!text) {
        /* The image names it: any path, a FIFO or /dev/zero too. */
        size_t len;
        char why[ISA_FILE_WHY_SIZE];
        if (!(text = loaded = isa_read_file(img->files[i], ASM_MAX_FILE, &len, NULL, why, NULL))) return;
    }
    lf->text = loaded ? loaded : asm_xstrndup(text, strlen(text));
    size_t cap = 0;
    for (char *p = lf->text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[len - 1] = '\0';
        lf->lines = asm_grow(lf->lines, &cap, lf->nlines + 1, sizeof *lf->lines);
        lf->lines[lf->nlines++] = p;
        if (!nl) break;
        p = nl + 1;
    }
}

#define LISTING_RUN 16 /* words shown per source line before eliding the rest */

bool asm_write_listing(const struct asm_image *img, FILE *out)
{
    struct listing_file *lf = calloc(img->nfiles ? img->nfiles : 1, sizeof *lf);
    if (!lf) return false;
    for (size_t i = 0; i < img->nfiles; i++) listing_load(&lf[i], img, i);
    fprintf(out, "address   word      line\n");
    size_t li = 0;
    for (size_t s = 0; s < img->nsegments; s++) {
        const struct asm_segment *seg = &img->segments[s];
        uint64_t end = (uint64_t)seg->at + seg->count;
        for (uint64_t a = seg->at; a < end;) {
            while (li < img->nlines && img->lines[li].address < a) li++;
            /* this block: up to the next line entry or the end of the segment */
            const struct asm_line *l = li < img->nlines && img->lines[li].address == a ? &img->lines[li] : NULL;
            uint64_t stop = end;
            /* past every entry at a (the reader rejects two; an image built
             * in memory may still hold them), so that the block is not empty */
            size_t next = li;
            while (next < img->nlines && img->lines[next].address <= a) next++;
            if (next < img->nlines && img->lines[next].address < stop) stop = img->lines[next].address;
            for (uint64_t b = a; b < stop; b++) {
                uint32_t w = seg->words[b - seg->at];
                if (b - a == LISTING_RUN && stop - b > 1) {
                    fprintf(out, "          ...       (%llu more words)\n", (unsigned long long)(stop - b));
                    break;
                }
                fprintf(out, "%08x  %08x", (uint32_t)b, w);
                if (b == a && l) {
                    const struct listing_file *f = l->file < img->nfiles ? &lf[l->file] : NULL;
                    fprintf(out, "  %s:%u", img->files[l->file], l->line);
                    if (f && l->line <= f->nlines) fprintf(out, "  %s", f->lines[l->line - 1]);
                }
                fputc('\n', out);
            }
            a = stop;
        }
    }
    for (size_t i = 0; i < img->nfiles; i++) {
        free(lf[i].text);
        free(lf[i].lines);
    }
    free(lf);
    return fflush(out) == 0 && !ferror(out);
}

/* ---- Disassembly ---------------------------------------------------------------------- */

static const char *label_of(void *ctx, uint32_t address)
{
    return asm_symbol_at(ctx, address);
}

bool asm_write_disassembly(const struct asm_image *img, FILE *out)
{
    size_t nlabels = label_count(img);
    fprintf(out, "; Trapeze disassembly: %zu segment%s\n", img->nsegments, img->nsegments == 1 ? "" : "s");
    for (size_t i = nlabels; i < img->nsymbols; i++)
        fprintf(out, ".equ %s, 0x%x\n", img->symbols[i].name, img->symbols[i].value);
    const char *entry = asm_symbol_at(img, img->entry);
    if (entry) fprintf(out, ".entry %s\n", entry);
    else fprintf(out, ".entry 0x%x\n", img->entry);

    /* Labels are walked in address order alongside the words; a label outside
     * every segment is an "orphan", defined at the end by its own .org. */
    bool *printed = calloc(nlabels ? nlabels : 1, sizeof *printed);
    if (!printed) return false;
    size_t li = 0, longest = 0;
    for (size_t i = 0; i < nlabels; i++)
        if (strlen(img->symbols[i].name) > longest) longest = strlen(img->symbols[i].name);
    size_t text_size = longest + 96;
    char *text = asm_xmalloc(text_size);
    for (size_t s = 0; s < img->nsegments; s++) {
        const struct asm_segment *seg = &img->segments[s];
        while (li < nlabels && img->symbols[li].value < seg->at) li++;
        fprintf(out, "\n.org 0x%x\n", seg->at);
        for (size_t k = 0; k <= seg->count; k++) {
            uint32_t addr = seg->at + (uint32_t)k;
            if (k == seg->count && (uint64_t)seg->at + k > UINT32_MAX) break;
            for (; li < nlabels && img->symbols[li].value == addr; li++) {
                fprintf(out, "%s:\n", img->symbols[li].name);
                printed[li] = true;
            }
            if (k == seg->count) break;
            uint32_t w = seg->words[k];
            if (asm_word_is_canonical(w)) isa_disassemble(w, addr, label_of, (void *)img, text, text_size);
            else snprintf(text, text_size, ".word 0x%08x", w);
            fprintf(out, "        %-36s ; %08x: %08x\n", text, addr, w);
        }
    }
    bool orphans = false;
    for (size_t i = 0; i < nlabels; i++) {
        if (printed[i]) continue;
        if (!orphans) fprintf(out, "\n; labels outside the segments\n");
        orphans = true;
        fprintf(out, ".org 0x%x\n%s:\n", img->symbols[i].value, img->symbols[i].name);
    }
    free(printed);
    free(text);
    return fflush(out) == 0 && !ferror(out);
}
