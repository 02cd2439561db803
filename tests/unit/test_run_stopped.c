/*
 * test_run_stopped.c: a program its monitor has stopped is shown with the
 * registers of the trap that stopped it, at every unit until the machines
 * below have stopped too (their handlers run meanwhile, with their own
 * registers in the machine's).
 */
#include <criterion/criterion.h>

#include "test_run_support.h"

/* Sets registers the VMMs' handlers use (r1..r4) and r15, then halts with
 * status 7. */
static const char *const halting =
    "_start: li r2, 0x2222\n"
    "        li r3, 0x3333\n"
    "        li r4, 0x4444\n"
    "        li r15, 0x1515\n"
    "        li r1, 7\n"
    "        halt\n";

Test(run_stopped, a_halted_program_keeps_its_registers_while_the_monitors_stop)
{
    struct asm_image img = tr_load_text(halting);
    struct machine *m = tr_bare(&img, "pg", TR_MEM, NULL, 0);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    const char *specs[] = {"asm", "asm,asm", "c,asm", "c,asm,asm"};
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, TR_MEM);
        const unsigned n = run_program_level(r);
        unsigned stopped_units = 0;
        for (unsigned u = 0; u < 100000; u++) {
            struct run_level_view v;
            run_level_view(r, 0, n, &v);
            if (v.state == RUN_LEVEL_STOPPED) {
                stopped_units++;
                for (unsigned reg = 0; reg < ISA_NREGS; reg++)
                    cr_assert_eq(v.regs[reg], machine_reg(m, reg),
                                 "%s: r%u of the stopped program at unit %u: 0x%x, bare 0x%x",
                                 specs[k], reg, u, v.regs[reg], machine_reg(m, reg));
            }
            uint64_t chunk;
            if (run_units(r, 1, &chunk) == 0) break;
        }
        cr_assert_gt(stopped_units, 0, "%s: the program stopped", specs[k]);
        struct run_guest_state gs;
        run_guest_state(r, 0, &gs);
        cr_assert_eq(gs.stop, MACHINE_HALT);
        cr_assert_eq(gs.regs[1], 7);
        run_destroy(r);
    }
    machine_destroy(m);
    asm_image_free(&img);
}
