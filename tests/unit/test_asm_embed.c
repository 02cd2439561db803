/*
 * test_asm_embed.c: the sources built into trapeze (EMBEDDED_PROGRAMS in the
 * Makefile, build/gen/programs_embedded.c).  Each embedded text is its file,
 * byte for byte; each embedded program assembles from the embedded tree
 * alone into the image that the files on disk give, word for word and symbol
 * for symbol; includes resolve by tree path; the errors name tree paths.
 * The tests run from the root of the tree (make unit), where programs/ is.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../assembler/asm.h"

/* The whole file, NUL-terminated; caller frees. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run from the root of the tree)", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int ch;
    while ((ch = getc(f)) != EOF) putc(ch, m);
    fclose(m);
    fclose(f);
    return buf;
}

static bool is_embedded(const char *path)
{
    for (size_t i = 0; asm_embedded_path(i); i++)
        if (strcmp(asm_embedded_path(i), path) == 0) return true;
    return false;
}

static size_t count_embedded(void)
{
    size_t n = 0;
    while (asm_embedded_path(n)) n++;
    return n;
}

Test(asm_embed, every_text_is_its_file_byte_for_byte)
{
    size_t n = count_embedded();
    cr_assert_geq(n, 1u);
    for (size_t i = 0; i < n; i++) {
        const char *path = asm_embedded_path(i);
        char *disk = slurp(path);
        const char *text = asm_embedded_source(path);
        cr_assert_not_null(text, "%s", path);
        cr_assert_str_eq(text, disk, "the embedded %s differs from the file (it must end with a "
                         "newline); rebuild", path);
        free(disk);
    }
    cr_assert_null(asm_embedded_path(n));
    cr_assert_null(asm_embedded_path((size_t)-1));
}

Test(asm_embed, the_vmm_the_demo_and_the_whole_library_are_embedded)
{
    static const char *const needed[] = {
        "programs/vmm/vmm.s", "programs/toyos/toyos.s", "programs/toyos/kernel.inc",
        "programs/toyos/user.inc", "programs/lib/console.inc", "programs/lib/machine.inc",
    };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        cr_assert(is_embedded(needed[i]), "%s is not embedded", needed[i]);
    glob_t g;
    cr_assert_eq(glob("programs/lib/*.inc", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++)
        cr_assert(is_embedded(g.gl_pathv[i]), "%s is not embedded", g.gl_pathv[i]);
    globfree(&g);
}

Test(asm_embed, lookup_resolves_dot_segments_and_refuses_what_is_outside)
{
    const char *vmm = asm_embedded_source("programs/vmm/vmm.s");
    cr_assert_not_null(vmm);
    cr_assert_eq(asm_embedded_source("./programs/vmm/../vmm//vmm.s"), vmm);
    cr_assert_null(asm_embedded_source("programs/no-such.s"));
    cr_assert_null(asm_embedded_source("/programs/vmm/vmm.s"));
    cr_assert_null(asm_embedded_source("../programs/vmm/vmm.s"));
    cr_assert_null(asm_embedded_source("programs/.."));
    cr_assert_null(asm_embedded_source(""));
    cr_assert_null(asm_embedded_source(NULL));
}

/* Asserts that two images are the same program: entry, every segment word
 * for word, every symbol, the line map, and the text of every file. */
static void expect_same_image(const struct asm_image *a, const struct asm_image *b, const char *what)
{
    cr_assert_eq(a->entry, b->entry, "%s: entry", what);
    cr_assert_eq(a->nsegments, b->nsegments, "%s: segments", what);
    for (size_t i = 0; i < a->nsegments; i++) {
        cr_assert_eq(a->segments[i].at, b->segments[i].at, "%s: segment %zu", what, i);
        cr_assert_eq(a->segments[i].count, b->segments[i].count, "%s: segment %zu", what, i);
        for (size_t k = 0; k < a->segments[i].count; k++)
            cr_assert_eq(a->segments[i].words[k], b->segments[i].words[k], "%s: word at %#zx",
                         what, (size_t)a->segments[i].at + k);
    }
    cr_assert_eq(a->nsymbols, b->nsymbols, "%s: symbols", what);
    for (size_t i = 0; i < a->nsymbols; i++) {
        cr_assert_str_eq(a->symbols[i].name, b->symbols[i].name, "%s: symbol %zu", what, i);
        cr_assert_eq(a->symbols[i].value, b->symbols[i].value, "%s: %s", what, a->symbols[i].name);
        cr_assert_eq(a->symbols[i].is_label, b->symbols[i].is_label, "%s: %s", what,
                     a->symbols[i].name);
    }
    cr_assert_eq(a->nlines, b->nlines, "%s: lines", what);
    for (size_t i = 0; i < a->nlines; i++) {
        cr_assert_eq(a->lines[i].address, b->lines[i].address, "%s: line entry %zu", what, i);
        cr_assert_eq(a->lines[i].file, b->lines[i].file, "%s: line entry %zu", what, i);
        cr_assert_eq(a->lines[i].line, b->lines[i].line, "%s: line entry %zu", what, i);
    }
    cr_assert_eq(a->nfiles, b->nfiles, "%s: files", what);
    for (size_t i = 0; i < a->nfiles; i++) {
        cr_assert_not_null(a->texts[i]);
        cr_assert_not_null(b->texts[i]);
        cr_assert_str_eq(a->texts[i], b->texts[i], "%s: text of %s", what, a->files[i]);
    }
}

Test(asm_embed, every_embedded_program_assembles_as_its_files_do)
{
    size_t programs = 0;
    for (size_t i = 0; asm_embedded_path(i); i++) {
        const char *path = asm_embedded_path(i);
        size_t len = strlen(path);
        if (len < 2 || strcmp(path + len - 2, ".s") != 0) continue;
        struct asm_image disk, emb;
        cr_assert_eq(asm_assemble_file(path, &disk, stderr), 0, "%s from disk", path);
        cr_assert_eq(asm_assemble_embedded(path, &emb, stderr), 0, "%s embedded", path);
        expect_same_image(&disk, &emb, path);
        /* files[] are tree paths, each of them embedded with that very text */
        cr_assert_str_eq(emb.files[0], path);
        for (size_t k = 0; k < emb.nfiles; k++)
            cr_assert_str_eq(asm_embedded_source(emb.files[k]), emb.texts[k], "%s", emb.files[k]);
        asm_image_free(&disk);
        asm_image_free(&emb);
        programs++;
    }
    cr_assert_geq(programs, 2u); /* vmm.s and toyos.s at least */
}

Test(asm_embed, includes_resolve_by_tree_path)
{
    struct asm_image img;
    cr_assert_eq(asm_assemble_embedded("programs/toyos/toyos.s", &img, stderr), 0);
    bool lib = false, kernel = false;
    for (size_t i = 0; i < img.nfiles; i++) {
        cr_assert_null(strstr(img.files[i], ".."), "%s is not normalized", img.files[i]);
        lib = lib || strcmp(img.files[i], "programs/lib/console.inc") == 0;
        kernel = kernel || strcmp(img.files[i], "programs/toyos/kernel.inc") == 0;
    }
    cr_assert(lib && kernel);
    asm_image_free(&img);

    /* a string assembled as if it were in the tree, through the options */
    const struct asm_options opts = {.embedded = true};
    cr_assert_eq(asm_assemble_string_opts(".include \"../lib/machine.inc\"\nhalt\n",
                                          "./programs/toyos/mine.s", &opts, &img, stderr), 0);
    cr_assert_eq(img.nfiles, 2u);
    cr_assert_str_eq(img.files[0], "programs/toyos/mine.s");
    cr_assert_str_eq(img.files[1], "programs/lib/machine.inc");
    cr_assert_str_eq(img.texts[1], asm_embedded_source("programs/lib/machine.inc"));
    asm_image_free(&img);

    /* asm_load_program_opts with .embedded is the same as asm_assemble_embedded */
    struct asm_image a, b;
    cr_assert_eq(asm_load_program_opts("programs/vmm/vmm.s", &opts, &a, stderr), 0);
    cr_assert_eq(asm_assemble_embedded("programs/vmm/vmm.s", &b, stderr), 0);
    expect_same_image(&a, &b, "vmm.s loaded and assembled");
    asm_image_free(&a);
    asm_image_free(&b);
}

Test(asm_embed, the_listing_needs_no_files)
{
    struct asm_image img;
    cr_assert_eq(asm_assemble_embedded("programs/toyos/toyos.s", &img, stderr), 0);
    char *dir = strdup("/tmp/trapeze-embed-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chdir(dir), 0); /* no programs/ here: the texts must do */
    char *listing;
    size_t len;
    FILE *f = open_memstream(&listing, &len);
    cr_assert(asm_write_listing(&img, f));
    fclose(f);
    cr_assert_eq(rmdir(dir), 0);
    free(dir);
    /* the first word's line, with its text */
    const struct asm_line *l = asm_line_at(&img, img.lines[0].address);
    cr_assert_not_null(l);
    char want[200];
    snprintf(want, sizeof want, "  %s:%u  ", img.files[l->file], l->line);
    cr_assert_not_null(strstr(listing, want), "%s", want);
    cr_assert_not_null(strstr(listing, "programs/lib/console_routines.inc:"), "%.400s", listing);
    free(listing);
    asm_image_free(&img);
}

/* The messages of assembling src as the embedded file name. */
static char *embedded_errors(const char *src, const char *name, const struct asm_options *opts,
                             int want_errors)
{
    char *errs;
    size_t len;
    struct asm_image img;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_string_opts(src, name, opts, &img, f), want_errors, "%s", src);
    fclose(f);
    cr_assert_eq(img.nsegments, 0u);
    return errs;
}

#define EXPECT_PREFIX(errs, want)                                                   \
    do {                                                                            \
        char *e_ = (errs);                                                          \
        cr_assert_eq(strncmp(e_, want, strlen(want)), 0, "got:\n%s\nwant:\n%s", e_, want); \
        free(e_);                                                                   \
    } while (0)

Test(asm_embed, errors_name_tree_paths)
{
    const struct asm_options emb = {.embedded = true};
    EXPECT_PREFIX(embedded_errors("nop\n  bogus r1\n", "programs/vmm/../vmm/mine.s", &emb, 1),
                  "programs/vmm/mine.s:2:3: error: ");
    EXPECT_PREFIX(embedded_errors(".include \"nope.inc\"\n", "programs/mine.s", &emb, 1),
                  "programs/mine.s:1:10: error: cannot open include file 'programs/nope.inc': "
                  "not among the sources built into trapeze\n");
    EXPECT_PREFIX(embedded_errors(".include \"../../x.inc\"\n", "programs/mine.s", &emb, 1),
                  "programs/mine.s:1:10: error: cannot open include file '../../x.inc': an embedded "
                  "program includes only embedded files, by a path inside the tree\n");
    EXPECT_PREFIX(embedded_errors(".include \"/etc/passwd\"\n", "programs/mine.s", &emb, 1),
                  "programs/mine.s:1:10: error: cannot open include file '/etc/passwd': an embedded "
                  "program includes only embedded files");
    /* a string named like an embedded file that includes that file: a cycle */
    EXPECT_PREFIX(embedded_errors(".include \"console.inc\"\n", "programs/lib/console.inc", &emb, 1),
                  "programs/lib/console.inc:1:10: error: include cycle: 'programs/lib/console.inc' "
                  "is already being assembled\n");
}

Test(asm_embed, an_embedded_program_reads_no_file)
{
    /* include directories are for programs on disk: the embedded tree ignores them */
    const char *dirs[] = {"programs/lib"};
    const struct asm_options opts = {.include_dirs = dirs, .ninclude_dirs = 1, .embedded = true};
    EXPECT_PREFIX(embedded_errors(".include \"console.inc\"\n", "elsewhere/mine.s", &opts, 1),
                  "elsewhere/mine.s:1:10: error: cannot open include file 'elsewhere/console.inc': "
                  "not among the sources built into trapeze\n");
    /* and a program that exists only on disk is not found */
    char *errs;
    size_t len;
    struct asm_image img;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_file_opts("programs/hello.s", &opts, &img, f), 1);
    cr_assert_eq(asm_assemble_embedded("/programs/vmm/vmm.s", &img, f), 1);
    cr_assert_eq(asm_load_program_opts("programs/hello.img", &opts, &img, f), 1);
    fclose(f);
    cr_assert_str_eq(errs,
                     "programs/hello.s: error: cannot read the source file: not among the sources "
                     "built into trapeze\n"
                     "/programs/vmm/vmm.s: error: cannot read the source file: not a path inside "
                     "the tree\n"
                     "programs/hello.img: error: cannot read the source file: not among the "
                     "sources built into trapeze\n");
    free(errs);
}
