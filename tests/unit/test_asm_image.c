/*
 * test_asm_image.c: images (write -> read round trip, malformed images, a
 * little fuzzing), the queries, placing, the listing, and the disassembler
 * round trips: for every instruction of isa.def with extreme operands,
 * disasm(asm(text)) == text, and whole images survive disasm -> asm.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../assembler/asm.h"
#include "../../isa/isa.h"

static void assemble_ok(const char *src, struct asm_image *img)
{
    char *errs;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    int n = asm_assemble_string(src, "t.s", img, f);
    fclose(f);
    cr_assert_eq(n, 0, "unexpected errors for:\n%s\n---\n%s", src, errs);
    free(errs);
}

/* A temporary file holding text; caller unlinks and frees. */
static char *temp_file(const char *text, size_t len)
{
    char *path = strdup("/tmp/trapeze-img-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static char *image_text(const struct asm_image *img)
{
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    cr_assert(asm_image_write(img, f));
    fclose(f);
    return text;
}

static char *disassembly(const struct asm_image *img)
{
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    cr_assert(asm_write_disassembly(img, f));
    fclose(f);
    return text;
}

/* Same words, entry and symbols. */
static void expect_same_program(const struct asm_image *a, const struct asm_image *b)
{
    cr_assert_eq(a->entry, b->entry, "entry 0x%x vs 0x%x", a->entry, b->entry);
    cr_assert_eq(a->nsegments, b->nsegments, "%zu vs %zu segments", a->nsegments, b->nsegments);
    for (size_t i = 0; i < a->nsegments; i++) {
        cr_assert_eq(a->segments[i].at, b->segments[i].at);
        cr_assert_eq(a->segments[i].count, b->segments[i].count);
        for (size_t k = 0; k < a->segments[i].count; k++)
            cr_assert_eq(a->segments[i].words[k], b->segments[i].words[k], "word at 0x%zx: %08x vs %08x",
                         a->segments[i].at + k, a->segments[i].words[k], b->segments[i].words[k]);
    }
    cr_assert_eq(a->nsymbols, b->nsymbols, "%zu vs %zu symbols", a->nsymbols, b->nsymbols);
    for (size_t i = 0; i < a->nsymbols; i++) {
        cr_assert_str_eq(a->symbols[i].name, b->symbols[i].name);
        cr_assert_eq(a->symbols[i].value, b->symbols[i].value);
        cr_assert_eq(a->symbols[i].is_label, b->symbols[i].is_label);
    }
}

static const char sample[] = ".equ NL, '\\n'\n"
                             ".equ MINUS, -2\n"
                             "_start: la r2, msg\n"
                             "loop:   ld r3, 0(r2)\n"
                             "        beqz r3, done\n"
                             "        out r3, 0\n"
                             "        addi r2, r2, 1\n"
                             "        b loop\n"
                             "done:   li r1, 7\n"
                             "        halt\n"
                             "msg:    .string \"hi\\n\"\n"
                             "        .space 20\n"
                             "end:\n"
                             ".org 0x400\n"
                             "table:  .word 0xdeadbeef, loop, MINUS\n"
                             ".org 0x300\n"
                             "far:    jmp _start\n"
                             ".org 0x9000\n"
                             "orphan:\n";

/* ---- Image text format ------------------------------------------------------------- */

Test(asm_image, write_read_round_trip)
{
    struct asm_image img, back;
    assemble_ok(sample, &img);
    char *text = image_text(&img);
    cr_assert(strncmp(text, "trapeze-image 1\n", 16) == 0, "%s", text);
    char *path = temp_file(text, strlen(text));
    cr_assert(asm_is_image_file(path));
    char err[256];
    cr_assert(asm_image_read(path, &back, err, sizeof err), "%s", err);
    expect_same_program(&img, &back);
    cr_assert_eq(back.nfiles, 1u);
    cr_assert_str_eq(back.files[0], "t.s");
    cr_assert_eq(back.nlines, img.nlines);
    for (size_t i = 0; i < img.nlines; i++) {
        cr_assert_eq(back.lines[i].address, img.lines[i].address);
        cr_assert_eq(back.lines[i].file, img.lines[i].file);
        cr_assert_eq(back.lines[i].line, img.lines[i].line);
    }
    /* writing what was read gives the same text */
    char *again = image_text(&back);
    cr_assert_str_eq(again, text);
    /* asm_load_program takes either form */
    struct asm_image loaded;
    cr_assert_eq(asm_load_program(path, &loaded, stderr), 0);
    expect_same_program(&img, &loaded);
    asm_image_free(&loaded);
    asm_image_free(&img);
    asm_image_free(&back);
    unlink(path);
    free(path);
    free(text);
    free(again);
}

Test(asm_image, file_names_with_odd_characters)
{
    struct asm_image img;
    char *errs;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_string("nop\n", "dir with space/\"q\"\\\t\x01.s", &img, f), 0);
    fclose(f);
    free(errs);
    char *text = image_text(&img);
    char *path = temp_file(text, strlen(text));
    struct asm_image back;
    char err[256];
    cr_assert(asm_image_read(path, &back, err, sizeof err), "%s", err);
    cr_assert_str_eq(back.files[0], img.files[0]);
    asm_image_free(&img);
    asm_image_free(&back);
    unlink(path);
    free(path);
    free(text);
}

Test(asm_image, is_image_file)
{
    char *a = temp_file("trapeze-image 1\n", 16), *b = temp_file("nop\n", 4),
         *c = temp_file("trapeze-imagex\n", 15), *d = temp_file("", 0);
    cr_assert(asm_is_image_file(a));
    cr_assert_not(asm_is_image_file(b));
    cr_assert_not(asm_is_image_file(c));
    cr_assert_not(asm_is_image_file(d));
    cr_assert_not(asm_is_image_file("/nonexistent/file"));
    for (char **p = (char *[]){a, b, c, d, NULL}; *p; p++) unlink(*p), free(*p);
}

struct bad_image {
    const char *text;
    const char *error; /* after "PATH:" */
};

#define HEAD "trapeze-image 1\nentry 0x10\n"
static const struct bad_image bad_images[] = {
    {"", "1:1: error: empty file: not a Trapeze image"},
    {"hello\n", "1:1: error: not a Trapeze image (the first line must be 'trapeze-image 1')"},
    {"trapeze-image\n", "1:14: error: expected 'trapeze-image 1'"},
    {"trapeze-image x\n", "1:15: error: expected 'trapeze-image 1'"},
    {"trapeze-image 2\nend\n", "1:15: error: image version 2 is not supported (this Trapeze reads version 1)"},
    {"trapeze-image 1\n", "2:1: error: truncated image: no 'end' line"},
    {"trapeze-image 1\nend\n", "3:1: error: no 'entry' line"},
    {HEAD "entry 0x10\nend\n", "3:1: error: a second 'entry'"},
    {"trapeze-image 1\nentry 16\nend\n", "2:7: error: bad address (expected 0x and 1 to 8 hex digits)"},
    {"trapeze-image 1\nentry 0x123456789\nend\n", "2:7: error: bad address"},
    {"trapeze-image 1\nentry\nend\n", "2:1: error: expected 'entry 0xADDRESS'"},
    {HEAD "bogus 1\nend\n", "3:1: error: unknown record 'bogus' (expected entry, file, symbol, segment, line or end)"},
    {HEAD "end\nnop\n", "4:1: error: text after 'end'"},
    {HEAD "end x\n", "3:5: error: extra text after 'end'"},
    {HEAD "segment 0x10 2\n00000001\nend\n", "5:1: error: the segment at 0x10 has 1 words, its header says 2"},
    {HEAD "segment 0x10 2\n00000001\n", "5:1: error: truncated image: the segment at 0x10 has 1 of 2 words"},
    {HEAD "segment 0x10 1\n1 2\nend\n", "4:3: error: more words than the segment's count (1)"},
    {HEAD "segment 0x10 1\n1g\nend\n", "4:1: error: bad word '1g' (expected 1 to 8 hex digits)"},
    {HEAD "segment 0x10 1\n123456789\nend\n", "4:1: error: bad word '123456789'"},
    {HEAD "segment 0x10 0\nend\n", "3:14: error: bad word count (expected 1..16777216)"},
    {HEAD "segment 0x10 16777217\nend\n", "3:14: error: bad word count"},
    {HEAD "segment 0xffffffff 2\n1 2\nend\n", "3:20: error: the segment runs past address 0xffffffff"},
    {HEAD "segment 0x10\nend\n", "3:1: error: expected 'segment 0xADDRESS COUNT'"},
    {HEAD "segment 0x10 3\n1 2 3\nsegment 0x12 1\n4\nend\n", "5:1: error: segments at 0x10 and 0x12 overlap"},
    {HEAD "segment 0x20 1\n1\nsegment 0x10 17\n0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\nend\n",
     "5:1: error: segments at 0x10 and 0x20 overlap"},
    {HEAD "symbol 0x10 label\nend\n", "3:1: error: expected 'symbol 0xVALUE label|equ NAME'"},
    {HEAD "symbol 0x10 thing x\nend\n", "3:13: error: expected 'label' or 'equ'"},
    {HEAD "symbol 10 label x\nend\n", "3:8: error: bad value"},
    {HEAD "symbol 0x10 label 9x\nend\n", "3:19: error: bad symbol name '9x'"},
    {HEAD "symbol 0x10 label r3\nend\n", "3:19: error: bad symbol name 'r3'"},
    {HEAD "symbol 0x10 label a:b\nend\n", "3:19: error: bad symbol name 'a:b'"},
    {HEAD "symbol 0x10 label x\nsymbol 0x11 equ x\nend\n", "4:1: error: symbol 'x' is defined twice"},
    {HEAD "file 1 \"a.s\"\nend\n", "3:6: error: expected file index 0"},
    {HEAD "file 0 a.s\nend\n", "3:8: error: bad file name (expected a quoted string)"},
    {HEAD "file 0 \"a.s\nend\n", "3:12: error: bad file name"},
    {HEAD "file 0 \"a\\x00\"\nend\n", "3:10: error: bad file name"},
    {HEAD "file 0 \"a\\q\"\nend\n", "3:10: error: bad file name"},
    {HEAD "file 0 \"a\" x\nend\n", "3:11: error: bad file name"},
    {HEAD "file 0\nend\n", "3:1: error: expected 'file INDEX \"PATH\"'"},
    {HEAD "line 0x10 0 1\nend\n", "3:11: error: bad file index (0 files declared above)"},
    {HEAD "file 0 \"a.s\"\nline 0x10 0 0\nend\n", "4:13: error: bad line number"},
    {HEAD "file 0 \"a.s\"\nline 0x10 0\nend\n", "4:1: error: expected 'line 0xADDRESS FILE LINE'"},
    {HEAD "file 0 \"a.s\"\nline 0x10 0 99999999999\nend\n", "4:13: error: bad line number"},
};

Test(asm_image, malformed_images)
{
    for (size_t i = 0; i < sizeof bad_images / sizeof bad_images[0]; i++) {
        const struct bad_image *b = &bad_images[i];
        char *path = temp_file(b->text, strlen(b->text));
        struct asm_image img;
        char err[512], want[600];
        memset(&img, 0xab, sizeof img);
        cr_assert_not(asm_image_read(path, &img, err, sizeof err), "accepted:\n%s", b->text);
        snprintf(want, sizeof want, "%s:%s", path, b->error);
        cr_assert(strncmp(err, want, strlen(want)) == 0, "image:\n%s\nerror:    %s\nexpected: %s", b->text, err, want);
        cr_assert_null(strchr(err, '\n'), "one line: %s", err);
        cr_assert_eq(img.nsegments, 0u);
        cr_assert_null(img.segments);
        unlink(path);
        free(path);
    }
}

Test(asm_image, nul_and_crlf)
{
    const char text[] = "trapeze-image 1\r\nentry 0x10\r\nseg\0ment\nend\n";
    char *path = temp_file(text, sizeof text - 1);
    struct asm_image img;
    char err[512];
    cr_assert_not(asm_image_read(path, &img, err, sizeof err));
    cr_assert_not_null(strstr(err, ":3:4: error: NUL character in the image"), "%s", err);
    unlink(path);
    free(path);
    const char crlf[] = "trapeze-image 1\r\nentry 0x10\r\n# comment\r\n\r\nsegment 0x10 1\r\n40000000\r\nend\r\n";
    path = temp_file(crlf, sizeof crlf - 1);
    cr_assert(asm_image_read(path, &img, err, sizeof err), "%s", err);
    cr_assert_eq(img.segments[0].words[0], 0x40000000u);
    asm_image_free(&img);
    unlink(path);
    free(path);
    cr_assert_not(asm_image_read("/nonexistent/x.img", &img, err, sizeof err));
    cr_assert_str_eq(err, "/nonexistent/x.img: error: cannot open the image: No such file or directory");
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Truncated and garbled images are rejected with PATH:LINE:COL, or read; never a crash. */
Test(asm_image, fuzz_truncated_and_garbled)
{
    struct asm_image img;
    assemble_ok(sample, &img);
    char *text = image_text(&img);
    asm_image_free(&img);
    size_t len = strlen(text);
    regex_t re;
    cr_assert_eq(regcomp(&re, "^/tmp/trapeze-img-[A-Za-z0-9]+:[0-9]+:[0-9]+: error: [^\n]*$", REG_EXTENDED), 0);
    uint64_t s = 42;
    char *buf = malloc(len + 1);
    for (int round = 0; round < 400; round++) {
        size_t n = len;
        memcpy(buf, text, len);
        if (round < 200) {
            n = (size_t)(rng(&s) % len); /* truncated */
        } else {
            for (int k = 0; k < 1 + round % 4; k++) buf[rng(&s) % len] = (char)rng(&s);
        }
        char *path = temp_file(buf, n);
        char err[512];
        if (asm_image_read(path, &img, err, sizeof err)) {
            cr_assert(round >= 200 || n == 0 || true);
            asm_image_free(&img);
        } else {
            cr_assert_eq(regexec(&re, err, 0, NULL, 0), 0, "bad message: %s", err);
        }
        unlink(path);
        free(path);
    }
    /* truncation at a line boundary is caught by the missing 'end' */
    for (char *p = strchr(text, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        char *path = temp_file(text, (size_t)(p + 1 - text));
        char err[512];
        cr_assert_not(asm_image_read(path, &img, err, sizeof err), "accepted a truncated image");
        unlink(path);
        free(path);
    }
    regfree(&re);
    free(buf);
    free(text);
}

/* ---- Queries and placing ------------------------------------------------------------ */

Test(asm_image, queries)
{
    struct asm_image img;
    assemble_ok(".equ K, 0x10\nb: a: nop\nnop\nc: .space 3\n.org 0x100\nd: .word 1\nlast:\n", &img);
    /* labels first, then .equ names */
    cr_assert(img.symbols[0].is_label);
    cr_assert_not(img.symbols[img.nsymbols - 1].is_label);
    cr_assert_str_eq(asm_symbol_at(&img, 16), "a"); /* the first by name */
    cr_assert_str_eq(asm_symbol_at(&img, 18), "c");
    cr_assert_null(asm_symbol_at(&img, 17));
    cr_assert_null(asm_symbol_at(&img, 0));
    uint32_t off = 99;
    cr_assert_str_eq(asm_symbol_near(&img, 17, &off), "a");
    cr_assert_eq(off, 1u);
    cr_assert_str_eq(asm_symbol_near(&img, 0x50, &off), "c");
    cr_assert_eq(off, 0x50u - 18);
    cr_assert_str_eq(asm_symbol_near(&img, 0x100, &off), "d");
    cr_assert_eq(off, 0u);
    cr_assert_str_eq(asm_symbol_near(&img, 0xffffffff, &off), "last");
    cr_assert_null(asm_symbol_near(&img, 15, &off));
    uint32_t v;
    cr_assert(asm_symbol_value(&img, "K", &v));
    cr_assert_eq(v, 0x10u);
    cr_assert(asm_symbol_value(&img, "last", &v));
    cr_assert_eq(v, 0x101u);
    cr_assert_not(asm_symbol_value(&img, "nope", &v));
    /* line map: one entry per statement, covering .space's words */
    cr_assert_eq(asm_line_at(&img, 16)->line, 2u);
    cr_assert_eq(asm_line_at(&img, 17)->line, 3u);
    cr_assert_eq(asm_line_at(&img, 20)->line, 4u);
    cr_assert_null(asm_line_at(&img, 21));
    cr_assert_eq(asm_line_at(&img, 0x100)->line, 6u);
    cr_assert_null(asm_line_at(&img, 0x101));
    asm_image_free(&img);
    /* an empty image answers too */
    struct asm_image empty = {0};
    cr_assert_null(asm_symbol_at(&empty, 16));
    cr_assert_null(asm_symbol_near(&empty, 16, &off));
    cr_assert_null(asm_line_at(&empty, 16));
    asm_image_free(&empty);
}

Test(asm_image, place)
{
    struct asm_image img;
    assemble_ok(".word 1, 2\n.org 0x20\n.word 3\n", &img);
    uint32_t mem[64] = {0};
    cr_assert(asm_image_place(&img, mem, 64, 0));
    cr_assert_eq(mem[16], 1u);
    cr_assert_eq(mem[17], 2u);
    cr_assert_eq(mem[0x20], 3u);
    uint32_t mem2[64] = {0};
    cr_assert(asm_image_place(&img, mem2, 64, 8));
    cr_assert_eq(mem2[24], 1u);
    cr_assert_eq(mem2[0x28], 3u);
    uint32_t small[0x21] = {0};
    cr_assert(asm_image_place(&img, small, 0x21, 0));
    uint32_t tiny[0x20] = {0};
    cr_assert_not(asm_image_place(&img, tiny, 0x20, 0));
    for (size_t i = 0; i < 0x20; i++) cr_assert_eq(tiny[i], 0u, "nothing written on failure");
    cr_assert_not(asm_image_place(&img, mem, 64, 0xffffffffu));
    asm_image_free(&img);
}

/* ---- Listing ---------------------------------------------------------------------------- */

Test(asm_image, listing)
{
    struct asm_image img;
    assemble_ok("start: li r1, 0x12345\n        .space 40\n        halt\n", &img);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    cr_assert(asm_write_listing(&img, f));
    fclose(f);
    cr_assert_not_null(strstr(text, "00000010  18100001  t.s:1  start: li r1, 0x12345\n"
                                    "00000011  12112345\n"
                                    "00000012  00000000  t.s:2          .space 40\n"), "%s", text);
    cr_assert_not_null(strstr(text, "(24 more words)\n0000003a  40000000  t.s:3          halt\n"), "%s", text);
    free(text);
    /* read back from an image: the text comes from the file on disk, or is left out */
    free(img.texts[0]);
    img.texts[0] = NULL;
    f = open_memstream(&text, &len);
    cr_assert(asm_write_listing(&img, f));
    fclose(f);
    cr_assert_not_null(strstr(text, "00000010  18100001  t.s:1\n"), "%s", text);
    free(text);
    asm_image_free(&img);
}

/* ---- Disassembly round trips -------------------------------------------------------------- */

/* Assembles one line at pc and returns its word. */
static uint32_t assemble_at(uint32_t pc, const char *line)
{
    char src[256];
    snprintf(src, sizeof src, ".org 0x%x\n%s\n", pc, line);
    struct asm_image img;
    assemble_ok(src, &img);
    cr_assert_eq(img.nsegments, 1u);
    cr_assert_eq(img.segments[0].count, 1u, "'%s' is one word", line);
    uint32_t w = img.segments[0].words[0];
    asm_image_free(&img);
    return w;
}

/* Whether isa_disassemble shows every bit of w outside the opcode: a word
 * whose disassembly ignores a bit cannot be rebuilt from its text. */
static bool every_bit_shown(uint32_t w, uint32_t pc)
{
    char a[96], b[96];
    isa_disassemble(w, pc, NULL, NULL, a, sizeof a);
    for (int bit = 0; bit < 24; bit++) {
        isa_disassemble(w ^ (1u << bit), pc, NULL, NULL, b, sizeof b);
        if (strcmp(a, b) == 0) return false;
    }
    return true;
}

Test(asm_disasm, every_instruction_with_extreme_operands)
{
    static const unsigned regs[][3] = {{0, 0, 0}, {1, 2, 3}, {15, 14, 13}, {7, 8, 15}};
    static const uint32_t imm16s[] = {0, 1, 0x7fff, 0x8000, 0xffff, 0x1234, 0xfffe};
    static const uint32_t imm24s[] = {0, 1, 0x7fffff, 0x800000, 0xffffff, 0x10};
    static const uint32_t pcs[] = {16, 0x8000, 0xfff000};
    int checked = 0, canonical = 0;
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        for (size_t r = 0; r < sizeof regs / sizeof regs[0]; r++)
            for (size_t p = 0; p < sizeof pcs / sizeof pcs[0]; p++) {
                size_t nimm = op->format == FMT_J ? sizeof imm24s / sizeof imm24s[0]
                                                  : sizeof imm16s / sizeof imm16s[0];
                for (size_t k = 0; k < nimm; k++) {
                    const unsigned *f = regs[r];
                    uint32_t w = op->format == FMT_R   ? isa_make_r(op->opcode, f[0], f[1], f[2])
                                 : op->format == FMT_I ? isa_make_i(op->opcode, f[0], f[1], imm16s[k])
                                                       : isa_make_j(op->opcode, imm24s[k]);
                    if (op->format == FMT_R && k > 0) break; /* R has no immediate */
                    char text[96], again[96];
                    isa_disassemble(w, pcs[p], NULL, NULL, text, sizeof text);
                    uint32_t w2 = assemble_at(pcs[p], text);
                    isa_disassemble(w2, pcs[p], NULL, NULL, again, sizeof again);
                    cr_assert_str_eq(again, text, "disasm(asm(\"%s\")) = \"%s\"", text, again);
                    /* a word whose text shows all its bits comes back exactly */
                    if (every_bit_shown(w, pcs[p])) {
                        cr_assert_eq(w2, w, "asm(\"%s\") = %08x, not %08x", text, w2, w);
                        canonical++;
                    }
                    checked++;
                }
            }
    }
    cr_assert_gt(canonical, (int)isa_op_count() * 3, "%d of %d words were canonical", canonical, checked);
}

/* A whole program with every instruction (words from the table, labels at
 * branch targets) survives asm -> disasm -> asm. */
Test(asm_disasm, image_round_trip)
{
    struct asm_image img, back;
    assemble_ok(sample, &img);
    char *text = disassembly(&img);
    char *errs;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_string(text, "disasm.s", &back, f), 0, "%s\n---\n%s", text, errs);
    fclose(f);
    free(errs);
    expect_same_program(&img, &back);
    cr_assert_not_null(strstr(text, ".entry _start\n"), "%s", text);
    cr_assert_not_null(strstr(text, "beq r3, r0, done"), "%s", text);
    cr_assert_not_null(strstr(text, ".org 0x9000\norphan:\n"), "%s", text);
    free(text);
    asm_image_free(&img);
    asm_image_free(&back);
}

Test(asm_disasm, random_words_round_trip)
{
    /* any words at all: undefined opcodes and stray bits come back as .word */
    uint64_t s = 7;
    size_t n = 2000, cap = n * 24 + 64, k = 0;
    char *src = malloc(cap);
    k += (size_t)snprintf(src + k, cap - k, ".entry 0x20\n");
    for (size_t i = 0; i < n; i++) {
        uint32_t w = (uint32_t)rng(&s);
        if (i % 3 == 0) {
            const struct isa_op *op = &isa_ops()[rng(&s) % isa_op_count()];
            w = (uint32_t)op->opcode << 24 | (w & 0xffffffu);
        }
        k += (size_t)snprintf(src + k, cap - k, ".word 0x%08x\n", w);
    }
    struct asm_image img, back;
    assemble_ok(src, &img);
    char *text = disassembly(&img);
    assemble_ok(text, &back);
    expect_same_program(&img, &back);
    free(text);
    free(src);
    asm_image_free(&img);
    asm_image_free(&back);
}

Test(asm_disasm, labels_everywhere)
{
    /* labels on branch targets, at the end of a segment, in gaps, at the
     * entry; .equ names kept */
    const char *src = ".equ SIZE, 3\n"
                      "        .entry main\n"
                      "top:    nop\n"
                      "main:   bne r1, r2, top\n"
                      "        beq r1, r2, 0x7ff0\n"
                      "        jmp tail\n"
                      "tail:\n"
                      ".org 0x40\n"
                      "x: y:   .word SIZE\n"
                      ".org 0x30\n"
                      "gap:\n";
    struct asm_image img, back;
    assemble_ok(src, &img);
    char *text = disassembly(&img);
    assemble_ok(text, &back);
    expect_same_program(&img, &back);
    cr_assert_not_null(strstr(text, ".equ SIZE, 0x3\n.entry main\n"), "%s", text);
    cr_assert_not_null(strstr(text, "bne r1, r2, top"), "%s", text);
    cr_assert_not_null(strstr(text, "beq r1, r2, 0x7ff0"), "%s", text);
    cr_assert_not_null(strstr(text, "jmp tail"), "%s", text);
    free(text);
    asm_image_free(&img);
    asm_image_free(&back);
}
