/*
 * test_variant.c: variant files: the built-in ones, parsing, `base` chains
 * (relative paths are found beside the file that names them), and every
 * error with its exact "file:line:col: error: ..." text.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static char dir[64];

/* A fresh directory per test (each test runs in its own process). */
static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/trapeze_variant_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Writes text to dir/name; returns the path (static buffer per call site: copy it). */
static const char *write_file(const char *name, const char *text)
{
    static char path[8][256];
    static int next;
    char *p = path[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, name);
    char *slash = strrchr(p, '/');
    if (slash > p + strlen(dir)) {
        char sub[256];
        snprintf(sub, sizeof sub, "mkdir -p '%.*s'", (int)(slash - p), p);
        cr_assert_eq(system(sub), 0);
    }
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void expect_parse_error(const char *text, const char *want)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE] = "";
    cr_assert_not(isa_variant_parse(text, "t.var", &v, err), "accepted:\n%s", text);
    cr_assert_str_eq(err, want, "for:\n%s", text);
}

static void expect_load_error(const char *path, const char *want)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE] = "";
    cr_assert_not(isa_variant_load(path, &v, err), "loaded %s", path);
    cr_assert_str_eq(err, want);
}

static struct isa_variant load_ok(const char *path)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE] = "";
    cr_assert(isa_variant_load(path, &v, err), "%s: %s", path, err);
    return v;
}

static enum isa_user_action act(const struct isa_variant *v, const char *mn)
{
    return (enum isa_user_action)v->user_action[isa_op_by_mnemonic(mn)->opcode];
}

/* ---- Built-in variants --------------------------------------------------- */

Test(variant, builtins)
{
    const char *const *names = isa_builtin_variant_names();
    cr_assert_str_eq(names[0], "pg");
    cr_assert_str_eq(names[1], "hybrid");
    cr_assert_str_eq(names[2], "x86like");
    cr_assert_str_eq(names[3], "x86vt");
    cr_assert_null(names[4]);
    for (int i = 0; names[i]; i++) {
        struct isa_variant v = load_ok(names[i]);
        cr_assert_str_eq(v.name, names[i]);
        cr_assert_not_null(isa_builtin_variant_text(names[i]));
    }
    cr_assert_null(isa_builtin_variant_text("nope"));
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The built-in names are the files of isa/variants/, generated, not
 * written down: pg first, the others by file name. */
Test(variant, builtin_names_are_the_files_present)
{
    DIR *d = opendir("isa/variants");
    cr_assert_not_null(d, "isa/variants (run the tests from the repository's top directory)");
    char files[16][64];
    const char *sorted[16];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".var") != 0) continue;
        cr_assert_lt(n, 16);
        snprintf(files[n], sizeof files[n], "%.*s", (int)(len - 4), e->d_name);
        sorted[n] = files[n];
        n++;
    }
    closedir(d);
    qsort(sorted, n, sizeof sorted[0], compare_names);
    const char *const *names = isa_builtin_variant_names();
    cr_assert_str_eq(names[0], "pg", "the default comes first");
    size_t k = 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(sorted[i], "pg") == 0) continue;
        cr_assert_not_null(names[k], "%s.var is not built in", sorted[i]);
        cr_assert_str_eq(names[k], sorted[i], "built-in %zu", k);
        k++;
    }
    cr_assert_eq(k, n, "one name per file");
    cr_assert_null(names[k], "a built-in name without its file: %s", names[k]);
}

/* The list of system instructions in messages is the flagged entries of isa.def. */
Test(variant, system_mnemonics_are_the_flagged_instructions)
{
    size_t n = 0;
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        if (!(op->flags & ISA_F_SYSTEM)) continue;
        cr_assert_eq(isa_op_with_flags(ISA_F_SYSTEM, n), op, "system instruction %zu", n);
        n++;
    }
    cr_assert_eq(n, 11, "ISA.md lists ten system instructions, the assist extension one more");
    cr_assert_null(isa_op_with_flags(ISA_F_SYSTEM, n));
    cr_assert_eq(isa_op_with_flags(0, 0), &isa_ops()[0], "no flags: every instruction");
    cr_assert_null(isa_op_with_flags(0, isa_op_count()));
    cr_assert_eq(isa_op_with_flags(ISA_F_SYSTEM | ISA_F_LOAD, 0), isa_op_by_mnemonic("lpsw"));
    cr_assert_null(isa_op_with_flags(ISA_F_SYSTEM | ISA_F_LOAD, 1));

    char buf[256];
    cr_assert_str_eq(isa_system_mnemonic_list(buf, sizeof buf),
                     "halt, lpsw, pushf, popf, srr, stmr, rtmr, in, out, tlbflush and vmenter");
    char small[8];
    cr_assert_str_eq(isa_system_mnemonic_list(small, sizeof small), "halt, l", "cut to size");
}

/* The embedded text is the file in isa/variants/ (tests run from the top). */
Test(variant, builtins_are_the_files)
{
    const char *const *names = isa_builtin_variant_names();
    for (int i = 0; names[i]; i++) {
        char path[128];
        snprintf(path, sizeof path, "isa/variants/%s.var", names[i]);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s (run the tests from the repository's top directory)", path);
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        cr_assert_str_eq(isa_builtin_variant_text(names[i]), buf, "%s is stale", names[i]);
    }
}

Test(variant, action_names)
{
    cr_assert_str_eq(isa_user_action_name(USER_TRAP), "trap");
    cr_assert_str_eq(isa_user_action_name(USER_EXEC), "exec");
    cr_assert_str_eq(isa_user_action_name(USER_SILENT), "silent");
}

/* ---- Parsing -------------------------------------------------------------- */

Test(variant, parse_layout)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    const char *text = "# a comment\n"
                       "\n"
                       "   variant\tmine   # its name\r\n"
                       "user popf silent#no space before the comment\n"
                       "\t user  srr   exec\n"
                       "user halt trap"; /* no final newline */
    cr_assert(isa_variant_parse(text, "t.var", &v, err), "%s", err);
    cr_assert_str_eq(v.name, "mine");
    cr_assert_eq(act(&v, "popf"), USER_SILENT);
    cr_assert_eq(act(&v, "srr"), USER_EXEC);
    cr_assert_eq(act(&v, "halt"), USER_TRAP);
    /* without a base, every system instruction traps */
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        if (!(op->flags & ISA_F_SYSTEM) || op->opcode == ISA_POPF || op->opcode == ISA_SRR) continue;
        cr_assert_eq(v.user_action[op->opcode], USER_TRAP, "%s", op->mnemonic);
    }
    /* the variant line may come anywhere */
    cr_assert(isa_variant_parse("base pg\nuser popf exec\nvariant late\n", "t.var", &v, err), "%s", err);
    cr_assert_str_eq(v.name, "late");
    cr_assert_eq(act(&v, "popf"), USER_EXEC);
}

Test(variant, base_overrides)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_parse("variant v\nbase x86like\nuser pushf trap\nuser halt exec\n", "t.var",
                                &v, err), "%s", err);
    cr_assert_str_eq(v.name, "v", "the file keeps its own name");
    cr_assert_eq(act(&v, "pushf"), USER_TRAP);
    cr_assert_eq(act(&v, "popf"), USER_SILENT);
    cr_assert_eq(act(&v, "srr"), USER_EXEC);
    cr_assert_eq(act(&v, "halt"), USER_EXEC);
    cr_assert_eq(act(&v, "lpsw"), USER_TRAP);
}

Test(variant, base_chain_with_relative_paths)
{
    make_dir();
    write_file("c.var", "variant c\nbase hybrid\nuser rtmr exec\n");
    write_file("sub/b.var", "variant b\nbase ../c.var\nuser srr exec\n");
    const char *a = write_file("a.var", "variant a\nbase sub/b.var\nuser pushf exec\nuser rtmr trap\n");
    struct isa_variant v = load_ok(a);
    cr_assert_str_eq(v.name, "a");
    cr_assert_eq(act(&v, "popf"), USER_SILENT); /* from hybrid */
    cr_assert_eq(act(&v, "srr"), USER_EXEC);    /* from b */
    cr_assert_eq(act(&v, "pushf"), USER_EXEC);  /* a's own */
    cr_assert_eq(act(&v, "rtmr"), USER_TRAP);   /* c's, overridden */
    cr_assert_eq(act(&v, "halt"), USER_TRAP);
    /* an absolute base */
    char text[512];
    snprintf(text, sizeof text, "variant abs\nbase %s/c.var\n", dir);
    const char *d = write_file("elsewhere/d.var", text);
    v = load_ok(d);
    cr_assert_eq(act(&v, "rtmr"), USER_EXEC);
    /* isa_variant_parse finds relative bases beside the file it is told */
    char file[256];
    snprintf(file, sizeof file, "%s/sub/x.var", dir);
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_parse("variant x\nbase ../c.var\n", file, &v, err), "%s", err);
    cr_assert_eq(act(&v, "rtmr"), USER_EXEC);
    remove_dir();
}

/* ---- Errors --------------------------------------------------------------- */

Test(variant, errors_in_lines)
{
    expect_parse_error("variant t\n  usr popf trap\n",
                       "t.var:2:3: error: unknown keyword 'usr'; expected 'variant', 'base', 'user' or 'feature'");
    expect_parse_error("Variant t\n",
                       "t.var:1:1: error: unknown keyword 'Variant'; expected 'variant', 'base', 'user' or 'feature'");
    expect_parse_error("variant t\nuser pop trap\n", "t.var:2:6: error: unknown instruction 'pop'");
    expect_parse_error("variant t\nuser POPF trap\n", "t.var:2:6: error: unknown instruction 'POPF'");
    expect_parse_error("variant t\nuser add trap\n",
                       "t.var:2:6: error: 'add' is not a system instruction; only halt, lpsw, pushf, "
                       "popf, srr, stmr, rtmr, in, out, tlbflush and vmenter can be set");
    expect_parse_error("variant t\nuser svc exec\n",
                       "t.var:2:6: error: 'svc' is not a system instruction; only halt, lpsw, pushf, "
                       "popf, srr, stmr, rtmr, in, out, tlbflush and vmenter can be set");
    expect_parse_error("variant t\nuser popf  silently\n",
                       "t.var:2:12: error: unknown action 'silently'; expected trap, exec or silent");
    expect_parse_error("variant t\nuser popf Trap\n",
                       "t.var:2:11: error: unknown action 'Trap'; expected trap, exec or silent");
    expect_parse_error("variant t\nuser popf trap\n# x\nuser popf exec\n",
                       "t.var:4:6: error: 'popf' is set twice");
    expect_parse_error("variant t\nuser popf\n",
                       "t.var:2:10: error: expected 'user MNEMONIC trap|exec|silent'");
    expect_parse_error("variant t\nuser\n", "t.var:2:5: error: expected 'user MNEMONIC trap|exec|silent'");
    expect_parse_error("variant t\nuser popf trap now\n",
                       "t.var:2:16: error: unexpected 'now' after 'user MNEMONIC ACTION'");
    expect_parse_error("variant\n", "t.var:1:8: error: expected a name after 'variant'");
    expect_parse_error("variant a b\n", "t.var:1:11: error: unexpected 'b' after 'variant NAME'");
    expect_parse_error("variant a\nvariant b\n", "t.var:2:1: error: the variant is already named 'a'");
    expect_parse_error("variant abcdefghijklmnopqrstuvwxyz0123456789\n",
                       "t.var:1:9: error: variant name longer than 31 characters");
    expect_parse_error("variant t\nbase\n", "t.var:2:5: error: expected a variant name or path after 'base'");
    expect_parse_error("variant t\nbase pg hybrid\n", "t.var:2:9: error: unexpected 'hybrid' after 'base NAME'");
    expect_parse_error("variant t\nuser popf trap\nbase pg\n",
                       "t.var:3:1: error: 'base' must come before any 'user' line");
    expect_parse_error("variant t\nbase pg\nbase hybrid\n", "t.var:3:1: error: 'base' given twice");
    expect_parse_error("variant t\nbase foo\n",
                       "t.var:2:6: error: no built-in variant 'foo' (pg, hybrid, x86like, x86vt); write a "
                       "path with '/' or '.' for a file");
}

Test(variant, missing_variant_line)
{
    expect_parse_error("", "t.var:1:1: error: missing 'variant NAME' line");
    expect_parse_error("# only a comment\n\n", "t.var:1:1: error: missing 'variant NAME' line");
    expect_parse_error("base pg\nuser popf exec\n", "t.var:1:1: error: missing 'variant NAME' line");
}

Test(variant, errors_across_files)
{
    make_dir();
    char want[ISA_ERROR_SIZE];
    /* a base that does not exist */
    const char *a = write_file("a.var", "variant a\nbase none.var\n");
    snprintf(want, sizeof want,
             "%s/a.var:2:6: error: cannot read variant file '%s/none.var': No such file or directory",
             dir, dir);
    expect_load_error(a, want);
    /* an error inside a base is reported in the base */
    write_file("b.var", "variant b\n\nuser bogus trap\n");
    a = write_file("a.var", "variant a\nbase b.var\n");
    snprintf(want, sizeof want, "%s/b.var:3:6: error: unknown instruction 'bogus'", dir);
    expect_load_error(a, want);
    /* a cycle of two, reported at the base line that closes it */
    write_file("b.var", "variant b\nbase a.var\n");
    a = write_file("a.var", "variant a\n  base   b.var\n");
    snprintf(want, sizeof want, "%s/b.var:2:6: error: '%s/a.var' is based on itself (a base cycle)",
             dir, dir);
    expect_load_error(a, want);
    /* a file based on itself */
    a = write_file("a.var", "variant a\nbase a.var\n");
    snprintf(want, sizeof want, "%s/a.var:2:6: error: '%s/a.var' is based on itself (a base cycle)",
             dir, dir);
    expect_load_error(a, want);
    /* a missing file asked for by name has no line to name */
    snprintf(want, sizeof want, "%s/none.var: error: cannot read variant file: No such file or directory", dir);
    char none[128];
    snprintf(none, sizeof none, "%s/none.var", dir);
    expect_load_error(none, want);
    /* a directory */
    snprintf(want, sizeof want, "%s: error: cannot read variant file: is a directory", dir);
    expect_load_error(dir, want);
    remove_dir();
    expect_load_error("bogus", "bogus: error: no built-in variant of that name (pg, hybrid, x86like, x86vt), "
                               "and not a path (a path has '/' or '.')");
}

/* A chain too deep (spelled differently each time, so no cycle is seen). */
Test(variant, depth_limit)
{
    make_dir();
    char text[128];
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(text, sizeof text, "variant v%d\nbase ./v%d.var\n", i, i + 1);
        snprintf(name, sizeof name, "v%d.var", i);
        write_file(name, text);
    }
    write_file("v20.var", "variant v20\n");
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    char path[128];
    snprintf(path, sizeof path, "%s/v0.var", dir);
    cr_assert_not(isa_variant_load(path, &v, err));
    cr_assert(strstr(err, ": error: variants based on each other more than 16 deep"), "%s", err);
    cr_assert(strncmp(err, dir, strlen(dir)) == 0, "%s", err);
    /* a chain of 10 is fine */
    snprintf(path, sizeof path, "%s/v10.var", dir);
    v = load_ok(path);
    cr_assert_str_eq(v.name, "v10");
    remove_dir();
}

/* A loaded variant drives the machine: a file-defined variant in use. */
Test(variant, file_variant_drives_the_machine)
{
    make_dir();
    const char *p = write_file("open.var", "variant open\nbase pg\nuser out exec\n");
    struct isa_variant v = load_ok(p);
    struct machine *m = machine_create(TS_MEM, &v);
    machine_memory(m)[0x20] = TS_I(ADDI, 1, 0, 'k');
    machine_memory(m)[0x21] = TS_I(OUT, 1, 0, 0);
    test_support_set_psw(m, 0, 0x20, 0, 0x100, 0);
    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    size_t len;
    const uint8_t *out = machine_output(m, &len);
    cr_assert(len == 1 && out[0] == 'k');
    machine_destroy(m);
    remove_dir();
}
