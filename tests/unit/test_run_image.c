/*
 * test_run_image.c: the asm VMM a run loads (run_config.asm_vmm_path), the
 * checks of its exported layout, and runs that cannot host their variant.
 *
 * Modified copies of programs/vmm/vmm.s are written to a temporary folder
 * with programs/lib/ beside them (vmm.s includes "../lib/machine.inc").
 * Every defect of the layout is a NULL run with a one-line message naming
 * the file, never a crash; an unmodified copy runs like the built-in one.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "test_run_support.h"

#define MEM TR_MEM

/* A temporary tree: dir/vmm/ for the copies, dir/lib/ = programs/lib/. */
struct tree {
    char dir[64];
    char vmm[128];
};

static struct tree make_tree(void)
{
    struct tree t;
    snprintf(t.dir, sizeof t.dir, "/tmp/trapeze_vmm_XXXXXX");
    cr_assert_not_null(mkdtemp(t.dir));
    char path[256];
    snprintf(t.vmm, sizeof t.vmm, "%s/vmm", t.dir);
    cr_assert_eq(mkdir(t.vmm, 0700), 0);
    snprintf(path, sizeof path, "%s/lib", t.dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    DIR *d = opendir("programs/lib");
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char from[512];
        snprintf(from, sizeof from, "programs/lib/%s", e->d_name);
        char *text = tr_read_file(from);
        tr_write_file(path, e->d_name, text);
        free(text);
    }
    closedir(d);
    return t;
}

static void remove_tree(const struct tree *t)
{
    const char *sub[] = {"vmm", "lib"};
    for (int i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", t->dir, sub[i]);
        DIR *d = opendir(path);
        if (!d) continue;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.') continue;
            char f[512];
            snprintf(f, sizeof f, "%s/%s", path, e->d_name);
            unlink(f);
        }
        closedir(d);
        rmdir(path);
    }
    rmdir(t->dir);
}

static bool ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* text with every whole-word `from` replaced by `to` (malloc'd); asserts
 * that there was at least one. */
static char *replace_word(const char *text, const char *from, const char *to)
{
    const size_t lf = strlen(from), lt = strlen(to);
    size_t count = 0;
    for (const char *p = strstr(text, from); p; p = strstr(p + lf, from)) count++;
    char *out = malloc(strlen(text) + count * (lt + 1) + 1);
    cr_assert_not_null(out);
    char *o = out;
    size_t done = 0;
    for (const char *p = text; *p;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(o, p);
            o += strlen(p);
            break;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        const bool whole = (q == text || !ident(q[-1])) && !ident(q[lf]);
        if (whole) {
            memcpy(o, to, lt);
            o += lt;
            done++;
        } else {
            memcpy(o, from, lf);
            o += lf;
        }
        p = q + lf;
    }
    *o = '\0';
    cr_assert_gt(done, 0, "'%s' is not in the text", from);
    return out;
}

/* Writes vmm.s with `from` replaced by `to` as dir/vmm/name; returns its path. */
static void write_variant(const struct tree *t, const char *name, const char *from, const char *to,
                          char *path, size_t size)
{
    char *orig = tr_read_file("programs/vmm/vmm.s");
    char *text = from ? replace_word(orig, from, to) : orig;
    tr_write_file(t->vmm, name, text);
    if (text != orig) free(text);
    free(orig);
    snprintf(path, size, "%s/%s", t->vmm, name);
}

/* A copy of vmm.s in which the exported word `label` is moved to address
 * (its label renamed, an .equ of the name at address after GUEST_BASE's). */
static void write_moved(const struct tree *t, const char *name, const char *label, const char *address,
                        char *path, size_t size)
{
    char *orig = tr_read_file("programs/vmm/vmm.s");
    char from[64], to[64], equ[160];
    snprintf(from, sizeof from, "%s:", label);
    snprintf(to, sizeof to, "%s_moved:", label);
    char *renamed = replace_word(orig, from, to);
    const char *base = ".equ GUEST_BASE, 0x2000";
    cr_assert_not_null(strstr(renamed, base));
    snprintf(equ, sizeof equ, "%s\n        .equ %s, %s", base, label, address);
    char *text = replace_word(renamed, base, equ);
    tr_write_file(t->vmm, name, text);
    snprintf(path, size, "%s/%s", t->vmm, name);
    free(text);
    free(renamed);
    free(orig);
}

/* run_create with the asm VMM at path: NULL, and the message. */
static void expect_refused(const char *path, const char *spec, const char *words)
{
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = tr_load_file("programs/hello.s");
    const struct asm_image *programs[1] = {&img};
    struct run_config cfg = {tr_spec(spec), &pg, MEM, 1, path, NULL};
    char err[RUN_ERROR_SIZE];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    struct run *r = run_create(&cfg, programs, err);
    cr_assert_null(r, "%s under %s: accepted", path, spec);
    cr_assert(strstr(err, words) != NULL, "%s: the message '%s' does not say '%s'", path, err, words);
    cr_assert(strstr(err, path) != NULL, "the message names the file: %s", err);
    cr_assert_null(strchr(err, '\n'), "one line: %s", err);
    asm_image_free(&img);
}

Test(run_image, an_unmodified_copy_runs_like_the_built_in_one)
{
    struct tree t = make_tree();
    char path[256];
    write_variant(&t, "vmm.s", NULL, NULL, path, sizeof path);
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image img = tr_load_file("programs/toyos/toyos.s");
    const struct asm_image *programs[1] = {&img};
    struct run_config cfg = {tr_spec("c,asm"), &pg, MEM, 1, path, NULL};
    char err[RUN_ERROR_SIZE] = "";
    struct run *a = run_create(&cfg, programs, err);
    cr_assert_not_null(a, "%s", err);
    cfg.asm_vmm_path = NULL;
    struct run *b = run_create(&cfg, programs, err);
    cr_assert_not_null(b, "%s", err);
    cr_assert_eq(run_go(a, TR_BIG_BUDGET), MACHINE_HALT);
    cr_assert_eq(run_go(b, TR_BIG_BUDGET), MACHINE_HALT);
    char why[256];
    cr_assert(tr_same_runs(a, b, 0, why, sizeof why), "%s", why);
    const struct asm_image *va = run_asm_image(a), *vb = run_asm_image(b);
    cr_assert_eq(va->nsegments, vb->nsegments);
    for (size_t i = 0; i < va->nsegments; i++) {
        cr_assert_eq(va->segments[i].count, vb->segments[i].count);
        cr_assert_eq(memcmp(va->segments[i].words, vb->segments[i].words,
                            va->segments[i].count * sizeof(uint32_t)), 0);
    }
    run_destroy(a);
    run_destroy(b);

    remove_tree(&t);
    asm_image_free(&img);
}

Test(run_image, a_missing_exported_name)
{
    struct tree t = make_tree();
    char path[256];
    const char *names[] = {"vstate", "gregs", "n_traps", "guest_entry", "VS_ERROR", "E_SMALL"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char renamed[64], file[64], want[96];
        snprintf(renamed, sizeof renamed, "%s_renamed", names[i]);
        snprintf(file, sizeof file, "no_%s.s", names[i]);
        write_variant(&t, file, names[i], renamed, path, sizeof path);
        snprintf(want, sizeof want, "the asm VMM defines no '%s'", names[i]);
        expect_refused(path, "asm", want);
        expect_refused(path, "c,asm,asm", want);
    }
    remove_tree(&t);
}

Test(run_image, guest_base_must_be_a_page_multiple)
{
    struct tree t = make_tree();
    char path[256];
    write_variant(&t, "base_2010.s", "0x2000", "0x2010", path, sizeof path);
    expect_refused(path, "asm", "GUEST_BASE (0x2010) must be a multiple of 256");
    write_variant(&t, "base_0.s", ".equ GUEST_BASE, 0x2000", ".equ GUEST_BASE, 0", path, sizeof path);
    expect_refused(path, "asm,asm", "GUEST_BASE (0x0) must be a multiple of 256");
    remove_tree(&t);
}

Test(run_image, exported_words_lie_below_guest_base)
{
    struct tree t = make_tree();
    char path[256];
    /* vm_error becomes a name for a word inside the guest's memory */
    write_moved(&t, "vm_error_above.s", "vm_error", "0x2004", path, sizeof path);
    expect_refused(path, "asm", "'vm_error' (0x2004, 1 words) is not below GUEST_BASE");

    /* an array whose end passes GUEST_BASE */
    write_moved(&t, "n_traps_across.s", "n_traps", "0x1ff8", path, sizeof path);
    expect_refused(path, "c,asm", "'n_traps' (0x1ff8, ");
    expect_refused(path, "c,asm", "words) is not below GUEST_BASE");

    /* the image itself reaching into the guest's memory */
    write_variant(&t, "image_above.s", "vmm_end:", "vmm_end:\n        .org 0x2000\n        .word 7\n", path,
                  sizeof path);
    expect_refused(path, "asm", "reaches beyond GUEST_BASE");
    remove_tree(&t);
}

Test(run_image, vs_values_are_distinct)
{
    struct tree t = make_tree();
    char path[256];
    write_variant(&t, "vs_dup.s", ".equ VS_CHECK, 4", ".equ VS_CHECK, 2", path, sizeof path);
    expect_refused(path, "asm", "VS_* values are not distinct");
    write_variant(&t, "vs_dup0.s", ".equ VS_ERROR, 5", ".equ VS_ERROR, 0", path, sizeof path);
    expect_refused(path, "c,asm", "VS_* values are not distinct");
    remove_tree(&t);
}

Test(run_image, a_source_that_does_not_assemble)
{
    struct tree t = make_tree();
    char path[256];
    write_variant(&t, "broken.s", "trap_entry:", "trap_entry: bogus r1\n", path, sizeof path);
    expect_refused(path, "asm", "the asm VMM does not assemble");
    expect_refused(path, "asm", "broken.s:");
    remove_tree(&t);
}

/* ---- Bounded whatever the variant ---------------------------------------------------------- */

/* With lpsw executing in user mode the asm VMM cannot host its guest (its
 * guest VMM's lpsw does not trap): the run still ends, stalled or stopped. */
Test(run_image, a_variant_the_asm_vmm_cannot_host_still_ends)
{
    struct asm_image progs[] = {tr_load_file("programs/hello.s"), tr_load_file("programs/toyos/toyos.s")};
    const char *specs[] = {"asm,asm", "c,asm,asm", "asm", "c,asm"};
    for (size_t p = 0; p < 2; p++)
        for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
            struct run *r = tr_run(specs[k], "tests/variants/pg_lpsw_exec.var", &progs[p], MEM);
            enum machine_stop st = run_go(r, UINT64_MAX);
            struct run_guest_state s;
            run_guest_state(r, 0, &s);
            cr_assert(run_stalled(r, 0) || st != MACHINE_BUDGET, "%s: it ended", specs[k]);
            cr_assert_eq(st, s.stop);
            if (run_stalled(r, 0)) {
                cr_assert_eq(st, MACHINE_BUDGET, "%s: a stalled run stops with the budget", specs[k]);
                cr_assert_geq(run_time(r), RUN_STALL_UNITS, "%s", specs[k]);
            }
            run_destroy(r);
        }
    /* a run that ends normally is not stalled */
    struct run *r = tr_run("asm,asm", "pg", &progs[0], MEM);
    cr_assert_eq(run_go(r, UINT64_MAX), MACHINE_HALT);
    cr_assert_not(run_stalled(r, 0));
    run_destroy(r);
    asm_image_free(&progs[0]);
    asm_image_free(&progs[1]);
}
