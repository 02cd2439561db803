/*
 * test_vmm_attacks.c: resource control, attacked.
 *
 * Every program in tests/attacks/ (each documented in vmm/README.md) runs
 * as one guest of four, next to three ordinary programs from programs/.
 * An attack escapes if anything outside its own region changes:
 *   - a victim's final state (registers, PSW, all memory, output, stop,
 *     steps) differs from the victim's run alone on a bare machine;
 *   - a word of real memory outside every guest region loses its canary;
 *   - a real instruction runs in supervisor mode, with interrupts off, with
 *     paging on, outside the region of the guest it belongs to, or with a
 *     timer beyond the slice;
 *   - the run does not come back (the VMM lost the CPU).
 * The attacker itself must also behave exactly as it does on a bare
 * machine: the VMM hides, it does not change what the guest sees.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../assembler/asm.h"
#include "support.h"
#include "test_vmm_support.h"

#define MEM 65536u
#define STEPS 300000u
#define NGUESTS 4

static const char *const victims[] = {"programs/hello.s", "programs/fib.s", "programs/sort.s"};

/* A bare machine of MEM words with the program loaded and reset. */
static struct machine *load_bare(const char *path, const struct isa_variant *var)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program(path, &img, stderr), 0, "%s does not assemble", path);
    struct machine *m = machine_create(MEM, var);
    cr_assert(asm_image_place(&img, machine_memory(m), MEM, 0));
    machine_reset(m, img.entry);
    asm_image_free(&img);
    return m;
}

/* Runs the attack in slot `slot` among the victims; returns the escapes. */
static unsigned attack(const char *path, unsigned slot)
{
    struct isa_variant pg = test_support_variant("pg");
    struct machine *start[NGUESTS];
    for (unsigned g = 0, k = 0; g < NGUESTS; g++)
        start[g] = load_bare(g == slot ? path : victims[k++], &pg);

    struct vmm_config cfg = {VMM_TE, &pg, MEM, NGUESTS, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    for (unsigned g = 0; g < NGUESTS; g++) {
        memcpy(vmm_guest_memory(v, g), machine_memory(start[g]), MEM * sizeof(uint32_t));
        struct psw p = machine_psw(start[g]);
        vmm_guest_set_psw(v, g, &p);
    }
    struct tv_real_watch w;
    tv_watch_start(&w, v);
    vmm_set_step_limit(v, STEPS);
    enum vmm_run_status st = vmm_run(v, (uint64_t)NGUESTS * STEPS + 1);

    unsigned escapes = 0;
    if (st != VMM_RUN_DONE) {
        cr_log_error("%s: the run did not come back (%d)", path, st);
        escapes++;
    }
    if (w.bad) {
        cr_log_error("%s: %llu real instructions ran with a PSW outside the guest's box", path,
                     (unsigned long long)w.bad);
        escapes++;
    }
    if (!tv_canaries_intact(v)) {
        cr_log_error("%s: real memory outside every guest changed", path);
        escapes++;
    }
    for (unsigned g = 0; g < NGUESTS; g++) {
        enum machine_stop bs = machine_run(start[g], STEPS);
        char why[256];
        if (!tv_same(start[g], bs, v, g, why, sizeof why)) {
            cr_log_error("%s in slot %u: guest %u (%s) differs from its bare run: %s", path, slot,
                         g, g == slot ? "the attacker" : "a victim", why);
            escapes++;
        }
        if (g != slot && vmm_guest_stop(v, g) != MACHINE_HALT) {
            cr_log_error("%s: victim %u did not finish", path, g);
            escapes++;
        }
        machine_destroy(start[g]);
    }
    vmm_destroy(v);
    return escapes;
}

Test(vmm_attacks, no_attack_escapes, .timeout = 300)
{
    DIR *d = opendir("tests/attacks");
    cr_assert_not_null(d, "run the tests from the repository root");
    unsigned attacks = 0, escapes = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".s") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/attacks/%s", e->d_name);
        attacks++;
        escapes += attack(path, 0);
        escapes += attack(path, 2);
    }
    closedir(d);
    cr_assert_geq(attacks, 10, "only %u attack programs found", attacks);
    cr_assert_eq(escapes, 0, "%u escapes in %u attacks (see the log above)", escapes, attacks);
}
