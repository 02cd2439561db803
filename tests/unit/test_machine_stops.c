/*
 * test_machine_stops.c: fetch stops (machine_set_fetch_stops), what the
 * debugger's address breakpoints run on.
 *
 * A run with stops set stops before every fetch of a marked word, once an
 * arrival (the next call passes the word it stopped at), with the pc there
 * and the instruction not yet executed; run on from each stop, it ends
 * where the plain run ends, step for step, and a clone carries no stops.
 * A monitor calls machine_run many times a run: a stop is met on a call's
 * first step as well.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"
#include "test_run_support.h"

/* A loop whose body runs 50 times, calling a routine each turn. */
static const char *const LOOP = "_start: li r2, 50\n"
                                "loop:   call work\n"
                                "        addi r2, r2, -1\n"
                                "        bnez r2, loop\n"
                                "        halt\n"
                                "work:   addi r3, r3, 7\n"
                                "        jr lr\n";

Test(machine_stops, stop_before_each_fetch_and_go_on)
{
    struct asm_image img = tr_load_text(LOOP);
    uint32_t work;
    cr_assert(asm_symbol_value(&img, "work", &work));
    struct machine *plain = tr_bare(&img, "pg", TR_MEM, NULL, 0);
    cr_assert_eq(machine_run(plain, 100000), MACHINE_HALT);

    struct machine *m = tr_bare(&img, "pg", TR_MEM, NULL, 0);
    cr_assert(machine_set_fetch_stops(m, &work, 1));
    unsigned stops = 0;
    enum machine_stop st;
    while ((st = machine_run(m, 100000)) == MACHINE_STOPPED) {
        cr_assert(machine_fetch_stopped(m));
        cr_assert_eq(machine_psw(m).pc, work, "stopped at 0x%x", machine_psw(m).pc);
        /* not executed yet: r3 counts the turns done */
        cr_assert_eq(machine_reg(m, 3), 7u * stops);
        struct machine *c = machine_clone(m);
        cr_assert_eq(machine_run(c, 100000), MACHINE_HALT, "a clone has no stops");
        machine_destroy(c);
        stops++;
    }
    cr_assert_eq(st, MACHINE_HALT);
    cr_assert_not(machine_fetch_stopped(m));
    cr_assert_eq(stops, 50);
    cr_assert_eq(machine_steps(m), machine_steps(plain));
    cr_assert(memcmp(machine_regs(m), machine_regs(plain), ISA_NREGS * sizeof(uint32_t)) == 0);
    /* cleared: one run to the end */
    struct machine *n = tr_bare(&img, "pg", TR_MEM, NULL, 0);
    cr_assert(machine_set_fetch_stops(n, &work, 1));
    cr_assert(machine_set_fetch_stops(n, NULL, 0));
    cr_assert_eq(machine_run(n, 100000), MACHINE_HALT);
    machine_destroy(n);
    machine_destroy(m);
    machine_destroy(plain);
    asm_image_free(&img);
}

Test(machine_stops, met_on_a_call_first_step_once)
{
    struct asm_image img = tr_load_text(LOOP);
    uint32_t work;
    cr_assert(asm_symbol_value(&img, "work", &work));
    struct machine *m = tr_bare(&img, "pg", TR_MEM, NULL, 0);
    cr_assert(machine_set_fetch_stops(m, &img.entry, 1));
    /* At the entry word already: met at once, no step taken ... */
    cr_assert_eq(machine_run(m, 100), MACHINE_STOPPED);
    cr_assert(machine_fetch_stopped(m));
    cr_assert_eq(machine_steps(m), 0);
    /* ... and passed by the next call. */
    cr_assert_eq(machine_run(m, 1), MACHINE_BUDGET);
    cr_assert_eq(machine_steps(m), 1);
    /* One-step calls meet each arrival at work once, and go on. */
    cr_assert(machine_set_fetch_stops(m, &work, 1));
    unsigned stops = 0;
    for (int i = 0; i < 1000 && machine_state(m) == MACHINE_BUDGET; i++)
        if (machine_run(m, 1) == MACHINE_STOPPED) {
            cr_assert_eq(machine_psw(m).pc, work);
            stops++;
        }
    cr_assert_eq(stops, 50);
    machine_destroy(m);
    asm_image_free(&img);
}
