/*
 * test_asm_include.c: the .include search path (struct asm_options'
 * include_dirs, trapeze's -I DIR): the including file's directory first,
 * then each directory in order; what a file found there includes; and the
 * errors, which name file:line:col and every place that was looked in.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../assembler/asm.h"

/* A fresh directory with these files ("NAME=TEXT", NAME may hold one level
 * of folders, which are made); caller removes it with remove_tree. */
static char *make_tree(const char *const *files)
{
    static const char pattern[] = "/tmp/trapeze-inc-XXXXXX";
    char *dir = malloc(sizeof pattern);
    cr_assert_not_null(dir);
    memcpy(dir, pattern, sizeof pattern);
    cr_assert_not_null(mkdtemp(dir));
    for (const char *const *f = files; *f; f++) {
        const char *eq = strchr(*f, '=');
        cr_assert_not_null(eq);
        char path[600];
        snprintf(path, sizeof path, "%s/%.*s", dir, (int)(eq - *f), *f);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        mkdir(path, 0700); /* may exist */
        *slash = '/';
        FILE *out = fopen(path, "w");
        cr_assert_not_null(out, "cannot write %s", path);
        fputs(eq + 1, out);
        fclose(out);
    }
    return dir;
}

static void remove_tree(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

/* dir/rel in a static buffer of the caller's (one per slot). */
static const char *in(const char *dir, const char *rel, char buf[600])
{
    snprintf(buf, 600, "%s/%s", dir, rel);
    return buf;
}

/* Assembles the file with these include directories; messages into *errs
 * (caller frees). */
static int assemble(const char *path, const char *const *dirs, size_t ndirs,
                    struct asm_image *img, char **errs)
{
    size_t len;
    FILE *f = open_memstream(errs, &len);
    cr_assert_not_null(f);
    const struct asm_options opts = {.include_dirs = dirs, .ninclude_dirs = ndirs};
    int n = asm_assemble_file_opts(path, &opts, img, f);
    fclose(f);
    return n;
}

static uint32_t word_at(const struct asm_image *img, uint32_t address)
{
    for (size_t i = 0; i < img->nsegments; i++) {
        const struct asm_segment *s = &img->segments[i];
        if (address >= s->at && address - s->at < s->count) return s->words[address - s->at];
    }
    cr_assert_fail("no word at %#x", address);
    return 0;
}

static const char *const tree[] = {
    "src/main.s=.include \"defs.inc\"\n.word X\n",
    "src/beside.s=.include \"both.inc\"\n.word B\n",
    "src/both.inc=.equ B, 1\n",
    "src/deep.s=.include \"lib.inc\"\n.word L, H\n",
    "one/defs.inc=.equ X, 11\n",
    "one/both.inc=.equ B, 2\n",
    "two/defs.inc=.equ X, 22\n",
    "two/lib.inc=.include \"helper.inc\"\n.equ L, H + 1\n",
    "two/helper.inc=.equ H, 7\n",
    "one/helper.inc=.equ H, 99\n",
    "cyc/a.inc=.include \"b.inc\"\n",
    "cyc/b.inc=.include \"a.inc\"\n",
    "src/cycle.s=.include \"a.inc\"\n",
    NULL,
};

Test(asm_include, directories_are_searched_in_order_after_the_including_file)
{
    char *dir = make_tree(tree);
    char one[600], two[600], p[600];
    const char *dirs[] = {in(dir, "one", one), in(dir, "two", two)};
    struct asm_image img;
    char *errs;

    /* found only through the directories: the first one that has it wins */
    cr_assert_eq(assemble(in(dir, "src/main.s", p), dirs, 2, &img, &errs), 0, "%s", errs);
    cr_assert_eq(word_at(&img, 16), 11u);
    cr_assert_eq(img.nfiles, 2u);
    char want[700];
    snprintf(want, sizeof want, "%s/one/defs.inc", dir);
    cr_assert_str_eq(img.files[1], want);
    cr_assert_str_eq(img.texts[1], ".equ X, 11\n");
    asm_image_free(&img);
    free(errs);
    const char *reversed[] = {dirs[1], dirs[0]};
    cr_assert_eq(assemble(in(dir, "src/main.s", p), reversed, 2, &img, &errs), 0, "%s", errs);
    cr_assert_eq(word_at(&img, 16), 22u);
    asm_image_free(&img);
    free(errs);

    /* the file beside the including one comes before every directory */
    cr_assert_eq(assemble(in(dir, "src/beside.s", p), dirs, 2, &img, &errs), 0, "%s", errs);
    cr_assert_eq(word_at(&img, 16), 1u);
    asm_image_free(&img);
    free(errs);

    /* a file found in a directory includes beside itself first (two/helper.inc,
     * not one/helper.inc, although one/ is searched first) */
    cr_assert_eq(assemble(in(dir, "src/deep.s", p), dirs, 2, &img, &errs), 0, "%s", errs);
    cr_assert_eq(word_at(&img, 16), 8u);
    cr_assert_eq(word_at(&img, 17), 7u);
    asm_image_free(&img);
    free(errs);
    remove_tree(dir);
}

Test(asm_include, a_trailing_slash_and_a_string_source)
{
    char *dir = make_tree(tree);
    char one[600], p[600];
    snprintf(one, sizeof one, "%s/one//", dir);
    const char *dirs[] = {one};
    const struct asm_options opts = {.include_dirs = dirs, .ninclude_dirs = 1};
    struct asm_image img;
    cr_assert_eq(asm_assemble_string_opts(".include \"defs.inc\"\n.word X\n", in(dir, "src/m.s", p),
                                          &opts, &img, stderr), 0);
    cr_assert_eq(word_at(&img, 16), 11u);
    char want[700];
    snprintf(want, sizeof want, "%s/one/defs.inc", dir);
    cr_assert_str_eq(img.files[1], want);
    asm_image_free(&img);

    /* asm_load_program_opts passes the directories on; NULL options are the defaults */
    cr_assert_eq(asm_load_program_opts(in(dir, "src/main.s", p), &opts, &img, stderr), 0);
    cr_assert_eq(word_at(&img, 16), 11u);
    asm_image_free(&img);
    cr_assert_eq(asm_load_program_opts(in(dir, "src/beside.s", p), NULL, &img, stderr), 0);
    cr_assert_eq(word_at(&img, 16), 1u);
    asm_image_free(&img);
    cr_assert_eq(asm_assemble_file_opts(in(dir, "src/beside.s", p), NULL, &img, stderr), 0);
    asm_image_free(&img);
    cr_assert_eq(asm_assemble_string_opts(".word 3\n", NULL, NULL, &img, stderr), 0);
    cr_assert_str_eq(img.files[0], "<string>");
    asm_image_free(&img);
    remove_tree(dir);
}

Test(asm_include, an_absolute_name_is_not_searched)
{
    char *dir = make_tree(tree);
    char one[600], p[600];
    const char *dirs[] = {in(dir, "one", one)};
    struct asm_image img;
    char *errs;
    FILE *f;
    size_t len;
    const struct asm_options opts = {.include_dirs = dirs, .ninclude_dirs = 1};
    f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_string_opts(".include \"/no/such/defs.inc\"\n", in(dir, "src/m.s", p),
                                          &opts, &img, f), 1);
    fclose(f);
    cr_assert_not_null(strstr(errs, "m.s:1:10: error: cannot open include file '/no/such/defs.inc': "
                                    "No such file or directory\n"), "%s", errs);
    free(errs);
    remove_tree(dir);
}

Test(asm_include, a_missing_file_names_every_place_looked_in)
{
    char *dir = make_tree(tree);
    char one[600], two[600], p[600];
    const char *dirs[] = {in(dir, "one", one), in(dir, "two", two)};
    struct asm_image img;
    char *errs;
    const char *const src[] = {"src/nope.s=nop\n  .include \"nothing.inc\"\n", NULL};
    char *d2 = make_tree(src);
    cr_assert_eq(assemble(in(d2, "src/nope.s", p), dirs, 2, &img, &errs), 1);
    char want[2000];
    snprintf(want, sizeof want,
             "%s/src/nope.s:2:12: error: cannot find include file 'nothing.inc': looked for "
             "'%s/src/nothing.inc', '%s/one/nothing.inc', '%s/two/nothing.inc' (beside the "
             "including file, then in each -I directory)\n"
             "  .include \"nothing.inc\"\n"
             "           ^\n",
             d2, d2, dir, dir);
    cr_assert_str_eq(errs, want);
    cr_assert_eq(img.nsegments, 0u);
    free(errs);

    /* without directories the message stays the one of a single place */
    cr_assert_eq(assemble(in(d2, "src/nope.s", p), NULL, 0, &img, &errs), 1);
    snprintf(want, sizeof want,
             "%s/src/nope.s:2:12: error: cannot open include file '%s/src/nothing.inc': No such "
             "file or directory\n", d2, d2);
    cr_assert_eq(strncmp(errs, want, strlen(want)), 0, "%s", errs);
    free(errs);
    remove_tree(d2);
    remove_tree(dir);
}

Test(asm_include, a_file_that_cannot_be_read_stops_the_search)
{
    /* beside the including file, "defs.inc" is a directory: that is reported,
     * not skipped for one/defs.inc */
    const char *const src[] = {"src/main.s=.include \"defs.inc\"\n", "src/defs.inc/x=\n", NULL};
    char *d2 = make_tree(src);
    char *dir = make_tree(tree);
    char one[600], p[600];
    const char *dirs[] = {in(dir, "one", one)};
    struct asm_image img;
    char *errs;
    cr_assert_eq(assemble(in(d2, "src/main.s", p), dirs, 1, &img, &errs), 1);
    char want[1200];
    snprintf(want, sizeof want,
             "%s/src/main.s:1:10: error: cannot open include file '%s/src/defs.inc': is a directory\n",
             d2, d2);
    cr_assert_eq(strncmp(errs, want, strlen(want)), 0, "%s", errs);
    free(errs);
    remove_tree(dir);
    remove_tree(d2);
}

Test(asm_include, a_cycle_through_a_directory_is_found)
{
    char *dir = make_tree(tree);
    char cyc[600], p[600];
    const char *dirs[] = {in(dir, "cyc", cyc)};
    struct asm_image img;
    char *errs;
    cr_assert_eq(assemble(in(dir, "src/cycle.s", p), dirs, 1, &img, &errs), 1);
    char want[1200];
    snprintf(want, sizeof want,
             "%s/cyc/b.inc:1:10: error: include cycle: '%s/cyc/a.inc' is already being assembled\n",
             dir, dir);
    cr_assert_eq(strncmp(errs, want, strlen(want)), 0, "%s", errs);
    free(errs);
    remove_tree(dir);
}
