/*
 * test_cow_pages.c: the copy-on-write record of written pages stays exact.
 *
 * Snapshots (machine_clone, machine_restore) and equiv copy or compare only
 * the pages a machine marked as written, so a writer that forgets to mark
 * would make a snapshot lose its write silently.  Random guests run under
 * bare, the C VMM in each mode, the split driver and nested asm stacks; then
 * every nonzero word of real memory must lie in a page marked written, and a
 * clone must equal the original word for word.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_run_support.h"

/* A random program as an image: the words test_support_random_program puts
 * in a scratch machine's low memory (its code, handler and trap area). */
static struct asm_image random_image(uint64_t seed, uint32_t words[TS_MEM])
{
    struct machine *m = test_support_machine("pg");
    test_support_random_program(m, seed);
    memcpy(words, machine_memory_const(m), TS_MEM * sizeof *words);
    struct asm_image img = {0};
    static struct asm_segment seg; /* per test process, read only after */
    seg = (struct asm_segment){0, words, TS_MEM};
    img.entry = machine_psw(m).pc;
    img.segments = &seg;
    img.nsegments = 1;
    machine_destroy(m);
    return img;
}

static void check_marked(const struct machine *real, const char *what)
{
    const uint32_t *mem = machine_memory_const(real);
    const size_t n = machine_memsize(real);
    cr_assert(machine_tracks_pages(real), "%s: the record gave up (a whole-memory writer)", what);
    for (size_t w = 0; w < n; w++)
        if (mem[w]) cr_assert_eq(machine_next_written(real, w), w, "%s: word 0x%zx written, page unmarked", what, w);
    struct machine *c = machine_clone(real);
    cr_assert_not_null(c);
    cr_assert(memcmp(machine_memory_const(c), mem, n * sizeof *mem) == 0, "%s: the clone differs", what);
    machine_destroy(c);
}

static void run_random(const char *spec, enum vmm_mode mode, bool split, const char *variant)
{
    uint32_t *words = calloc(TS_MEM, sizeof *words);
    for (uint64_t seed = 1; seed <= 6; seed++) {
        struct asm_image img = random_image(seed, words);
        struct run_spec s = tr_spec(spec);
        s.mode = mode;
        struct run *r = tr_run_spec(&s, variant, &img, TR_MEM);
        char err[RUN_ERROR_SIZE];
        if (split) cr_assert(run_set_io_model(r, VMM_IO_SPLIT, true, err), "%s", err);
        run_go(r, 20000);
        char what[96];
        snprintf(what, sizeof what, "%s (%s), seed %llu", spec, vmm_mode_name(mode), (unsigned long long)seed);
        check_marked(run_real_machine(r), what);
        run_destroy(r);
    }
    free(words);
}

Test(cow_pages, bare_and_the_c_vmm, .timeout = 120)
{
    run_random("bare", VMM_TE, false, "pg");
    run_random("c", VMM_TE, false, "pg");
    run_random("c", VMM_BT, false, "pg");
    run_random("c", VMM_TE, true, "pg");
}

Test(cow_pages, hardware_assist, .timeout = 120)
{
    run_random("c", VMM_HW, false, "x86like");
    run_random("c", VMM_HW_SLT, false, "x86like");
}

Test(cow_pages, nested_stacks, .timeout = 120)
{
    run_random("asm,asm", VMM_TE, false, "pg");
    run_random("c,asm", VMM_TE, false, "pg");
    run_random("c,asm", VMM_BT, false, "pg");
}

/* The pages machine_next_written counts as written. */
static size_t pages_marked(const struct machine *m)
{
    size_t n = 0;
    for (size_t pa = machine_next_written(m, 0); pa < machine_memsize(m);
         pa = machine_next_written(m, (pa | (ISA_PAGE_WORDS - 1)) + 1))
        n++;
    return n;
}

/* A clone under the C VMM restores each guest's view over the copy of the
 * real memory: the copy must be marked as the original is, not with every
 * page of the guest's memory (which made every later snapshot of a debug
 * session copy all of it). */
Test(cow_pages, a_clone_keeps_the_record)
{
    struct asm_image img = tr_load_file("tests/bench/alu.s");
    struct run *r = tr_run("c", "pg", &img, TR_MEM);
    run_go(r, 20000);
    struct run *c = run_clone(r);
    cr_assert_not_null(c);
    const struct machine *real = run_real_machine(r);
    const size_t marked = pages_marked(real), guest_pages = TR_MEM / ISA_PAGE_WORDS;
    cr_assert_lt(marked, guest_pages / 2, "%zu pages of %zu written: not a test of the copy", marked, guest_pages);
    cr_assert_eq(pages_marked(run_real_machine(c)), marked, "the clone marks %zu pages, the original %zu",
                 pages_marked(run_real_machine(c)), marked);
    check_marked(run_real_machine(c), "the clone");
    run_destroy(c);
    run_destroy(r);
    asm_image_free(&img);
}
