/*
 * test_bounded.c: hostile input stays bounded (issue 17).
 *
 * Files read whole (isa/file.h) are regular and capped, and a FIFO, a
 * device or a directory is refused without being opened; the image reader
 * rejects what it cannot stand behind and the listing ends on any image;
 * the assembler's input in all is capped; a run's real work and an
 * interrupt flag stop run_go and equiv.  tests/e2e/test_bounded.sh drives
 * the same through the binary.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../assembler/asm.h"
#include "../../isa/file.h"
#include "../../vmm/equiv/equiv.h"
#include "test_run_support.h"

/* A fresh temporary directory (removed by the caller with rm_tree). */
static void make_dir(char dir[64])
{
    snprintf(dir, 64, "/tmp/trapeze-bounded-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void rm_tree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ---- isa_read_file -------------------------------------------------------------- */

Test(bounded, read_file_regular_within_and_past_the_limit)
{
    char dir[64], path[96], why[ISA_FILE_WHY_SIZE];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/f", dir);
    write_text(path, "0123456789");
    size_t len = 0;
    char *text = isa_read_file(path, 10, &len, NULL, why, NULL);
    cr_assert_not_null(text, "%s", why);
    cr_assert_eq(len, 10);
    cr_assert_str_eq(text, "0123456789");
    free(text);
    cr_assert_null(isa_read_file(path, 9, &len, NULL, why, NULL));
    cr_assert_str_eq(why, "larger than 9 bytes");
    rm_tree(dir);
}

Test(bounded, read_file_refuses_fifo_device_directory_without_blocking)
{
    char dir[64], fifo[96], why[ISA_FILE_WHY_SIZE];
    make_dir(dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    size_t len;
    bool missing = true;
    /* No writer: opening it for reading would wait for ever. */
    cr_assert_null(isa_read_file(fifo, 1u << 20, &len, NULL, why, &missing));
    cr_assert_str_eq(why, "not a regular file (a FIFO)");
    cr_assert_not(missing);
    cr_assert_null(isa_read_file("/dev/zero", 1u << 20, &len, NULL, why, NULL));
    cr_assert_str_eq(why, "not a regular file (a character device)");
    cr_assert_null(isa_read_file(dir, 1u << 20, &len, NULL, why, NULL));
    cr_assert_str_eq(why, "is a directory");
    char gone[96];
    snprintf(gone, sizeof gone, "%s/gone", dir);
    cr_assert_null(isa_read_file(gone, 1u << 20, &len, NULL, why, &missing));
    cr_assert(missing);
    rm_tree(dir);
}

/* ---- Images ------------------------------------------------------------------------ */

/* The message of reading text as an image ("" when it is accepted). */
static void image_error(const char *text, char *err, size_t size)
{
    char dir[64], path[96];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/x.img", dir);
    write_text(path, text);
    struct asm_image img;
    if (asm_image_read(path, &img, err, size)) {
        err[0] = '\0';
        asm_image_free(&img);
    } else {
        /* the path is the temporary one: keep what follows it */
        size_t n = strlen(path);
        cr_assert(strncmp(err, path, n) == 0, "%s", err);
        memmove(err, err + n, strlen(err + n) + 1);
    }
    rm_tree(dir);
}

#define IMAGE_HEAD "trapeze-image 1\nentry 0x10\nfile 0 \"a.s\"\n"

Test(bounded, image_reader_rejects_what_it_cannot_stand_behind)
{
    char err[512];
    image_error(IMAGE_HEAD "segment 0x10 2\n1 2\nline 0x10 0 1\nline 0x10 0 2\nend\n", err, sizeof err);
    cr_assert_str_eq(err, ":7:1: error: a second 'line' record for address 0x10");
    image_error(IMAGE_HEAD "segment 0x10 1\n1\nline 0x400 0 1\nend\n", err, sizeof err);
    cr_assert_str_eq(err, ":6:1: error: 'line' record for address 0x400, which no segment holds");
    image_error(IMAGE_HEAD "segment 0x10 4\n1 2 3 4\nsegment 0x12 1\n5\nend\n", err, sizeof err);
    cr_assert_str_eq(err, ":6:1: error: segments at 0x10 and 0x12 overlap");
    /* what the assembler writes: a label past every segment stays */
    image_error(IMAGE_HEAD "symbol 0x100 label y\nsegment 0x10 1\n1\nline 0x10 0 1\nend\n", err, sizeof err);
    cr_assert_str_eq(err, "");
}

Test(bounded, listing_ends_on_two_line_entries_at_one_address)
{
    uint32_t words[3] = {1, 2, 3};
    struct asm_segment seg = {0x10, words, 3};
    char *file = "a.s";
    struct asm_line lines[3] = {{0x10, 0, 1}, {0x10, 0, 2}, {0x11, 0, 3}};
    struct asm_image img = {.entry = 0x10, .segments = &seg, .nsegments = 1, .files = &file,
                            .nfiles = 1, .lines = lines, .nlines = 3};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cr_assert(asm_write_listing(&img, out));
    fclose(out);
    /* the header and each word once */
    size_t nl = 0;
    for (size_t i = 0; i < len; i++) nl += text[i] == '\n';
    cr_assert_eq(nl, 4, "%s", text);
    free(text);
}

/* ---- The assembler's input in all ------------------------------------------------------ */

Test(bounded, include_fan_out_stops_at_the_input_cap)
{
    char dir[64], path[128], text[256];
    make_dir(dir);
    for (int i = 0; i < 15; i++) {
        snprintf(path, sizeof path, "%s/f%d.inc", dir, i);
        snprintf(text, sizeof text, ".include \"f%d.inc\"\n.include \"f%d.inc\"\n.include \"f%d.inc\"\n"
                 ".include \"f%d.inc\"\n", i + 1, i + 1, i + 1, i + 1);
        write_text(path, text);
    }
    snprintf(path, sizeof path, "%s/f15.inc", dir);
    write_text(path, "; a leaf line\n; and another\n");
    snprintf(path, sizeof path, "%s/main.s", dir);
    write_text(path, ".include \"f0.inc\"\n_start: halt\n");
    char *msg = NULL;
    size_t len = 0;
    FILE *errors = open_memstream(&msg, &len);
    struct asm_image img;
    cr_assert_eq(asm_assemble_file(path, &img, errors), 1);
    fclose(errors);
    cr_assert(strstr(msg, "error: the program reads more than 1000000 lines or 64 MiB in all") != NULL,
              "%s", msg);
    free(msg);
    rm_tree(dir);
}

Test(bounded, a_file_included_many_times_is_listed_once)
{
    char dir[64], path[128];
    make_dir(dir);
    snprintf(path, sizeof path, "%s/one.inc", dir);
    write_text(path, "        nop\n");
    snprintf(path, sizeof path, "%s/main.s", dir);
    write_text(path, "_start: .include \"one.inc\"\n.include \"one.inc\"\n.include \"./one.inc\"\nhalt\n");
    struct asm_image img;
    cr_assert_eq(asm_assemble_file(path, &img, stderr), 0);
    cr_assert_eq(img.nfiles, 2);
    cr_assert_eq(img.segments[0].count, 4);
    asm_image_free(&img);
    rm_tree(dir);
}

/* ---- Runs: the real budget and the interrupt flag ------------------------------------------ */

#define PRIV_LOOP "_start: rtmr r2\n        b _start\n"

Test(bounded, real_budget_stops_a_stack_exactly_there)
{
    struct asm_image img = tr_load_text(PRIV_LOOP);
    struct run *r = tr_run("c,asm,asm", "pg", &img, 0x1000);
    run_set_bounds(r, 3000000, NULL);
    cr_assert_eq(run_go(r, UINT64_MAX), MACHINE_BUDGET);
    cr_assert_eq(run_cut_of(r), RUN_CUT_REAL_BUDGET);
    cr_assert_eq(run_time(r), 3000000);
    /* and on, under a bigger bound: it goes on from there */
    run_set_bounds(r, 4000000, NULL);
    run_go(r, UINT64_MAX);
    cr_assert_eq(run_time(r), 4000000);
    run_destroy(r);
    asm_image_free(&img);
}

Test(bounded, real_budget_on_bare_and_c_alone_is_the_programs)
{
    struct asm_image img = tr_load_text(PRIV_LOOP);
    for (int k = 0; k < 2; k++) {
        struct run *r = tr_run(k ? "c" : "bare", "pg", &img, 0x1000);
        run_set_bounds(r, 5000, NULL);
        cr_assert_eq(run_go(r, UINT64_MAX), MACHINE_BUDGET);
        cr_assert_eq(run_cut_of(r), RUN_CUT_REAL_BUDGET);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.steps, 5000);
        run_destroy(r);
    }
    asm_image_free(&img);
}

Test(bounded, interrupt_flag_stops_run_go)
{
    struct asm_image img = tr_load_text(PRIV_LOOP);
    volatile sig_atomic_t flag = 1;
    struct run *r = tr_run("c,asm", "pg", &img, 0x1000);
    run_set_bounds(r, 0, &flag);
    run_go(r, UINT64_MAX);
    cr_assert_eq(run_cut_of(r), RUN_CUT_INTERRUPT);
    cr_assert_eq(run_time(r), 0);
    flag = 0;
    run_go(r, 1000);
    cr_assert_eq(run_cut_of(r), RUN_CUT_NONE);
    run_destroy(r);
    asm_image_free(&img);
}

Test(bounded, equiv_honours_the_real_budget_and_the_flag)
{
    struct asm_image img = tr_load_text(PRIV_LOOP);
    struct isa_variant v;
    char err[RUN_ERROR_SIZE];
    cr_assert(isa_variant_load("pg", &v, err));
    struct equiv_config cfg = {tr_spec("c,asm"), &v, 0x1000, UINT64_MAX, NULL, 0, &img, NULL, NULL,
                               2000000, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    struct equiv_report rep;
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert_eq(rep.cut, RUN_CUT_REAL_BUDGET);
    cr_assert_not(rep.cut_in_bisection);
    cr_assert_leq(rep.real_steps, 2000000);
    volatile sig_atomic_t flag = 1;
    cfg.max_real_steps = 0;
    cfg.interrupt = &flag;
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert_eq(rep.cut, RUN_CUT_INTERRUPT);
    asm_image_free(&img);
}

/* A program that differs under te on x86like (popf in user mode), whose
 * bisection is cut by a budget just above what the first runs take. */
Test(bounded, equiv_bisection_cut_by_the_budget_says_what_it_knows)
{
    struct asm_image img = tr_load_file("programs/critical.s");
    struct isa_variant v;
    char err[RUN_ERROR_SIZE];
    cr_assert(isa_variant_load("x86like", &v, err));
    struct equiv_config cfg = {tr_spec("c"), &v, TR_MEM, TR_BIG_BUDGET, NULL, 0, &img, NULL, NULL, 0, NULL, NULL,
                               false, VMM_IO_DIRECT, true};
    struct equiv_report rep;
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert_eq(rep.cut, RUN_CUT_NONE);
    cr_assert_not(rep.equivalent);
    const uint64_t first = rep.first_step;
    cfg.max_real_steps = rep.bare.steps + rep.virt.steps + 1;
    cr_assert(equiv_check(&cfg, &rep, err), "%s", err);
    cr_assert_eq(rep.cut, RUN_CUT_REAL_BUDGET);
    cr_assert(rep.cut_in_bisection);
    cr_assert(rep.bisect_lo < first && first <= rep.first_step, "%llu < %llu <= %llu",
              (unsigned long long)rep.bisect_lo, (unsigned long long)first,
              (unsigned long long)rep.first_step);
    cr_assert_leq(rep.real_steps, cfg.max_real_steps);
    asm_image_free(&img);
}
