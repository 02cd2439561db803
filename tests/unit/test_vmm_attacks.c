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
 *
 * Each attack runs in the first and the third slot, under each shadow page
 * table policy of te, with a memory of a whole number of pages and one that
 * is not (its last frame partial: tests/attacks/shadow_partial_frame.s and
 * the tables at the end of memory need it).  The shadow tables' counters,
 * summed over the attacks, must show that each policy's own mechanism was
 * exercised (PTE-write traps under trace, rebuilds, lazy fills and drops).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../assembler/asm.h"
#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

#define STEPS 300000u
#define NGUESTS 4

static const char *const victims[] = {"programs/hello.s", "programs/fib.s", "programs/sort.s"};

/* Memory sizes: whole pages, and not (65536 - 93: the last frame has 163 words). */
static const size_t mems[] = {65536, 65536 - 93};

/* A bare machine of mem words with the program loaded and reset. */
static struct machine *load_bare(const char *path, const struct isa_variant *var, size_t mem)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program(path, &img, stderr), 0, "%s does not assemble", path);
    struct machine *m = machine_create(mem, var);
    cr_assert(asm_image_place(&img, machine_memory(m), mem, 0));
    machine_reset(m, img.entry);
    asm_image_free(&img);
    return m;
}

/* The shadow tables' counters of every guest of every run, by policy. */
struct coverage {
    struct vmm_shadow_stats sum[VMM_SHADOW_POLICY_COUNT];
    uint64_t bt_blocks, bt_invalidations; /* under bt */
};

static void add_stats(struct vmm_shadow_stats *to, const struct vmm_shadow_stats *s)
{
    to->hidden_faults += s->hidden_faults;
    to->true_faults += s->true_faults;
    to->pte_writes += s->pte_writes;
    to->rebuilds += s->rebuilds;
    to->fills += s->fills;
    to->drops += s->drops;
    to->verifies += s->verifies;
    to->interpreted += s->interpreted;
    to->flushes += s->flushes;
}

/* Runs the attack in slot `slot` among the victims; returns the escapes. */
static unsigned attack_under(const char *path, unsigned slot, enum vmm_mode mode,
                             const char *variant, enum vmm_shadow_policy policy, size_t mem,
                             struct coverage *cov)
{
    struct isa_variant pg = test_support_variant(variant);
    struct machine *start[NGUESTS];
    for (unsigned g = 0, k = 0; g < NGUESTS; g++)
        start[g] = load_bare(g == slot ? path : victims[k++], &pg, mem);

    struct vmm_config cfg = {mode, &pg, mem, NGUESTS, 0, policy};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    for (unsigned g = 0; g < NGUESTS; g++) {
        memcpy(vmm_guest_memory(v, g), machine_memory(start[g]), mem * sizeof(uint32_t));
        struct psw p = machine_psw(start[g]);
        vmm_guest_set_psw(v, g, &p);
    }
    struct tv_real_watch w;
    tv_watch_start(&w, v);
    vmm_set_step_limit(v, STEPS);
    enum vmm_run_status st = vmm_run(v, (uint64_t)NGUESTS * STEPS + 1);

    char what[600];
    snprintf(what, sizeof what, "%s (%s on %s, slot %u, shadow %s, %zu words)", path,
             vmm_mode_name(mode), variant, slot, vmm_shadow_policy_name(policy), mem);
    unsigned escapes = 0;
    if (st != VMM_RUN_DONE) {
        cr_log_error("%s: the run did not come back (%d)", what, st);
        escapes++;
    }
    /* Under hw-slt the real PSW is the guest's own (guest-physical): the box
     * is the second-level table, which the canaries and the bare runs
     * check; the watch of the real PSW does not apply. */
    if (w.bad && mode != VMM_HW_SLT) {
        cr_log_error("%s: %llu real instructions ran with a PSW outside the guest's box", what,
                     (unsigned long long)w.bad);
        escapes++;
    }
    if (!tv_canaries_intact(v)) {
        cr_log_error("%s: real memory outside every guest changed", what);
        escapes++;
    }
    for (unsigned g = 0; g < NGUESTS; g++) {
        enum machine_stop bs = machine_run(start[g], STEPS);
        char why[256];
        if (!tv_same(start[g], bs, v, g, why, sizeof why)) {
            cr_log_error("%s: guest %u (%s) differs from its bare run: %s", what, g,
                         g == slot ? "the attacker" : "a victim", why);
            escapes++;
        }
        if (g == slot && machine_pte_rule_broken(start[g], NULL)) {
            cr_log_error("%s: the attacker relies on a changed page-table entry without a flush "
                         "(then a policy may differ: keep ISA.md's rule)", what);
            escapes++;
        }
        if (g != slot && vmm_guest_stop(v, g) != MACHINE_HALT) {
            cr_log_error("%s: victim %u did not finish", what, g);
            escapes++;
        }
        add_stats(&cov->sum[policy], vmm_guest_shadow_stats(v, g));
        const struct vmm_bt_stats *bt = vmm_guest_bt_stats(v, g);
        if (bt) cov->bt_blocks += bt->blocks, cov->bt_invalidations += bt->invalidations;
        machine_destroy(start[g]);
    }
    vmm_destroy(v);
    return escapes;
}

static unsigned attack(const char *path, unsigned slot, enum vmm_shadow_policy policy, size_t mem,
                       struct coverage *cov)
{
    return attack_under(path, slot, VMM_TE, "pg", policy, mem, cov);
}

Test(vmm_attacks, no_attack_escapes, .timeout = 300)
{
    DIR *d = opendir("tests/attacks");
    cr_assert_not_null(d, "run the tests from the repository root");
    unsigned attacks = 0, escapes = 0;
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".s") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/attacks/%s", e->d_name);
        attacks++;
        for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++)
            for (size_t m = 0; m < sizeof mems / sizeof mems[0]; m++) {
                escapes += attack(path, 0, (enum vmm_shadow_policy)p, mems[m], &cov);
                escapes += attack(path, 2, (enum vmm_shadow_policy)p, mems[m], &cov);
            }
    }
    closedir(d);
    cr_assert_geq(attacks, 20, "only %u attack programs found", attacks);
    cr_assert_eq(escapes, 0, "%u escapes in %u attacks (see the log above)", escapes, attacks);
    /* The attacks reached each policy's own mechanism, and the cases no
     * shadow entry expresses (interpreted), and faults of both kinds. */
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        const struct vmm_shadow_stats *s = &cov.sum[p];
        const char *name = vmm_shadow_policy_name((enum vmm_shadow_policy)p);
        cr_assert_gt(s->true_faults, 100, "%s: %llu true faults", name,
                     (unsigned long long)s->true_faults);
        cr_assert_gt(s->hidden_faults, 0, "%s: hidden faults", name);
        cr_assert_gt(s->interpreted, 0, "%s: instructions no shadow entry expresses", name);
        cr_assert_gt(s->rebuilds + s->fills, 0, "%s: tables built", name);
    }
    const struct vmm_shadow_stats *t = &cov.sum[VMM_SHADOW_TRACE];
    cr_assert_gt(t->pte_writes, 0, "trace: stores into guest tables trapped and synced");
    cr_assert_gt(t->verifies, 0, "trace: tables verified after unpaged code");
    cr_assert_gt(t->rebuilds, 20, "trace: more spaces than tables: evictions rebuild");
    cr_assert_eq(cov.sum[VMM_SHADOW_REBUILD].pte_writes + cov.sum[VMM_SHADOW_LAZY].pte_writes, 0,
                 "only trace write-protects guest tables");
    cr_assert_gt(cov.sum[VMM_SHADOW_REBUILD].rebuilds, 0, "rebuild: tables rebuilt at flushes");
    cr_assert_gt(cov.sum[VMM_SHADOW_LAZY].fills, 0, "lazy: entries filled at hidden faults");
    cr_assert_gt(cov.sum[VMM_SHADOW_LAZY].drops, 0, "lazy: tables dropped at flushes");
    cr_assert_eq(cov.sum[VMM_SHADOW_LAZY].rebuilds, 0, "lazy builds no whole table");
}

/* The split driver's back end (--io split) under attack: a front end that
 * hands it rings and requests outside itself, corrupted indices and a kick
 * flood, in slot 0 and slot 2 among the victims on one shared unit.  Every
 * hostile request is refused or fails (its output says which), real memory
 * outside the guests keeps its canaries, no real instruction runs outside
 * a guest's box, the victims end as bare, and of the whole real unit only
 * the attacker's own last sector changes. */
Test(vmm_attacks, split_driver_back_end_is_confined, .timeout = 120)
{
    enum { SECTORS = 8 };
    static uint32_t zeros[SECTORS * ISA_SECTOR_WORDS];
    struct isa_variant pg = test_support_variant("pg");
    for (unsigned slot = 0; slot <= 2; slot += 2) {
        struct machine *start[NGUESTS];
        for (unsigned g = 0, k = 0; g < NGUESTS; g++)
            start[g] = load_bare(g == slot ? "tests/attacks/split_ring_attack.s" : victims[k++], &pg, 65536);
        struct vmm_config cfg = {VMM_TE, &pg, 65536, NGUESTS, 0, VMM_SHADOW_TRACE};
        struct vmm *v = vmm_create(&cfg);
        cr_assert_not_null(v);
        vmm_set_io_model(v, VMM_IO_SPLIT, true);
        char err[200];
        cr_assert(vmm_attach_disk(v, 0, zeros, SECTORS, err, sizeof err), "%s", err);
        for (unsigned g = 0; g < NGUESTS; g++) {
            memcpy(vmm_guest_memory(v, g), machine_memory(start[g]), 65536 * sizeof(uint32_t));
            struct psw p = machine_psw(start[g]);
            vmm_guest_set_psw(v, g, &p);
        }
        struct tv_real_watch w;
        tv_watch_start(&w, v);
        vmm_set_step_limit(v, STEPS);
        cr_assert_eq(vmm_run(v, (uint64_t)NGUESTS * STEPS + 1), VMM_RUN_DONE);
        cr_assert_eq(w.bad, 0, "slot %u: real instructions outside a guest's box", slot);
        cr_assert(tv_canaries_intact(v), "slot %u: real memory outside every guest changed", slot);
        size_t len;
        const uint8_t *out = vmm_guest_output(v, slot, &len);
        cr_assert(len == 17 && memcmp(out, "RRREEEEEED1RRFRR\n", 17) == 0, "slot %u: the attacker saw %.*s",
                  slot, (int)len, (const char *)out);
        cr_assert_geq(vmm_guest_disk_stats(v, slot)->kicks, 3000, "the kick flood was served");
        const uint32_t *real = machine_disk(vmm_real_machine(v), 0, NULL);
        for (unsigned s = 0; s < SECTORS; s++) {
            const bool own_last = s == slot * (SECTORS / NGUESTS) + SECTORS / NGUESTS - 1;
            bool zero = true;
            for (unsigned i = 0; i < ISA_SECTOR_WORDS; i++) zero &= real[s * ISA_SECTOR_WORDS + i] == 0;
            cr_assert_eq(zero, !own_last, "slot %u: real sector %u %s", slot, s,
                         own_last ? "was not written" : "changed");
        }
        for (unsigned g = 0; g < NGUESTS; g++) {
            if (g != slot) {
                char why[256];
                enum machine_stop bs = machine_run(start[g], STEPS);
                cr_assert(tv_same(start[g], bs, v, g, why, sizeof why), "slot %u: victim %u: %s", slot, g, why);
            }
            machine_destroy(start[g]);
        }
        vmm_destroy(v);
    }
}

/* Every attack of tests/attacks under mode on each variant, policy trace,
 * both memory sizes, the attacker in slots 0 and 2: the escapes; the
 * attacks found go to *attacks. */
static unsigned suite_under(enum vmm_mode mode, const char *const *variants, unsigned nvariants,
                            struct coverage *cov, unsigned *attacks)
{
    DIR *d = opendir("tests/attacks");
    cr_assert_not_null(d, "run the tests from the repository root");
    unsigned escapes = 0;
    *attacks = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".s") != 0) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/attacks/%s", e->d_name);
        (*attacks)++;
        for (unsigned k = 0; k < nvariants; k++)
            for (size_t m = 0; m < sizeof mems / sizeof mems[0]; m++) {
                escapes += attack_under(path, 0, mode, variants[k], VMM_SHADOW_TRACE, mems[m], cov);
                escapes += attack_under(path, 2, mode, variants[k], VMM_SHADOW_TRACE, mems[m], cov);
            }
    }
    closedir(d);
    cr_assert_geq(*attacks, 20, "only %u attack programs found", *attacks);
    return escapes;
}

/* The same attacks under binary translation, on the variants it is for:
 * the attacker's supervisor code runs translated (and on x86like its user
 * code too), so its stores, faults and callouts are the block executor's. */
Test(vmm_attacks, no_attack_escapes_under_bt, .timeout = 300)
{
    static const char *const variants[] = {"x86like", "hybrid"};
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    unsigned attacks, escapes = suite_under(VMM_BT, variants, 2, &cov, &attacks);
    cr_assert_eq(escapes, 0, "%u escapes in %u attacks under bt (see the log above)", escapes, attacks);
    cr_assert_gt(cov.bt_blocks, 100, "the attacks ran translated");
}

/* The same attacks under hardware assist (hw): the guests run in guest mode
 * on the same composed PSW and shadow tables; the guest-mode machine must
 * box them as well.  One policy (trace), to keep the test short. */
Test(vmm_attacks, no_attack_escapes_under_hw, .timeout = 300)
{
    static const char *const variants[] = {"pg"};
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    unsigned attacks, escapes = suite_under(VMM_HW, variants, 1, &cov, &attacks);
    cr_assert_eq(escapes, 0, "%u escapes in %u attacks under hw (see the log above)", escapes, attacks);
    cr_assert_gt(cov.sum[VMM_SHADOW_TRACE].true_faults, 100, "the attacks fault under hw too");
}

/* And under hw-slt: the guests run on their own PSW, boxed by the
 * second-level table alone. */
Test(vmm_attacks, no_attack_escapes_under_hw_slt, .timeout = 300)
{
    static const char *const variants[] = {"pg"};
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    unsigned attacks, escapes = suite_under(VMM_HW_SLT, variants, 1, &cov, &attacks);
    cr_assert_eq(escapes, 0, "%u escapes in %u attacks under hw-slt (see the log above)", escapes, attacks);
}

/* A guest's output must be the text of the file `path`. */
static bool output_is_file(const struct vmm *v, unsigned g, const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static char want[1 << 16];
    const size_t n = fread(want, 1, sizeof want, f);
    fclose(f);
    size_t len;
    const uint8_t *out = vmm_guest_output(v, g, &len);
    return len == n && memcmp(out, want, n) == 0;
}

/* Under pv: tests/attacks/pv_hostile.s, a paravirtual kernel giving the
 * hypercalls wild addresses, hogging the CPU with its interrupts masked
 * and loading a forged PSW, among paravirtual victims (the toyos builds),
 * in slots 0 and 2, both memory sizes: every
 * answer an error, the victims' output their expected one, no real
 * instruction outside a box, the canaries intact.  The other attacks are
 * not paravirtual: pv refuses each before its first step. */
Test(vmm_attacks, no_attack_escapes_under_pv, .timeout = 300)
{
    static const char *const pv_victims[] = {"programs/toyos/toyos_pv.s", "programs/toyos/toyos_pv_paged.s",
                                             "programs/toyos/toyos_pv.s"};
    static const char *const expected[] = {"programs/toyos/toyos_pv.expected",
                                           "programs/toyos/toyos_pv_paged.expected",
                                           "programs/toyos/toyos_pv.expected"};
    struct isa_variant x86 = test_support_variant("x86like");
    unsigned escapes = 0;
    for (unsigned slot = 0; slot <= 2; slot += 2)
        for (size_t m = 0; m < sizeof mems / sizeof mems[0]; m++) {
            struct vmm_config cfg = {VMM_PV, &x86, mems[m], NGUESTS, 0, VMM_SHADOW_TRACE};
            struct vmm *v = vmm_create(&cfg);
            cr_assert_not_null(v);
            unsigned who[NGUESTS];
            for (unsigned g = 0, k = 0; g < NGUESTS; g++) {
                who[g] = g == slot ? 99 : k++;
                struct machine *b = load_bare(g == slot ? "tests/attacks/pv_hostile.s" : pv_victims[who[g]], &x86,
                                              mems[m]);
                memcpy(vmm_guest_memory(v, g), machine_memory(b), mems[m] * sizeof(uint32_t));
                struct psw p = machine_psw(b);
                vmm_guest_set_psw(v, g, &p);
                machine_destroy(b);
            }
            struct tv_real_watch w;
            tv_watch_start(&w, v);
            vmm_set_step_limit(v, STEPS);
            if (vmm_run(v, (uint64_t)NGUESTS * STEPS + 1) != VMM_RUN_DONE) escapes++;
            if (w.bad || !tv_canaries_intact(v)) {
                cr_log_error("slot %u, %zu words: %llu real instructions outside a box, canaries %s", slot,
                             mems[m], (unsigned long long)w.bad, tv_canaries_intact(v) ? "intact" : "changed");
                escapes++;
            }
            for (unsigned g = 0; g < NGUESTS; g++) {
                if (g == slot) {
                    size_t len;
                    const uint8_t *out = vmm_guest_output(v, g, &len);
                    if (vmm_guest_stop(v, g) != MACHINE_UNHANDLED_TRAP || len != 8 ||
                        memcmp(out, "EEEEEEE\n", 8) != 0) {
                        cr_log_error("slot %u: the attacker saw %.*s (stop %s)", slot, (int)len, (const char *)out,
                                     machine_stop_name(vmm_guest_stop(v, g)));
                        escapes++;
                    }
                } else if (vmm_guest_stop(v, g) != MACHINE_HALT || !output_is_file(v, g, expected[who[g]])) {
                    cr_log_error("slot %u, %zu words: victim %s did not finish as it does alone", slot, mems[m],
                                 pv_victims[who[g]]);
                    escapes++;
                }
            }
            vmm_destroy(v);
        }
    cr_assert_eq(escapes, 0, "%u escapes under pv (see the log above)", escapes);

    DIR *d = opendir("tests/attacks");
    cr_assert_not_null(d);
    unsigned refused = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".s") != 0 || strcmp(e->d_name, "pv_hostile.s") == 0) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/attacks/%s", e->d_name);
        struct machine *b = load_bare(path, &x86, 65536);
        struct vmm_config cfg = {VMM_PV, &x86, 65536, 1, 0, VMM_SHADOW_TRACE};
        struct vmm *v = vmm_create(&cfg);
        memcpy(vmm_guest_memory(v, 0), machine_memory(b), 65536 * sizeof(uint32_t));
        struct psw p = machine_psw(b);
        vmm_guest_set_psw(v, 0, &p);
        machine_destroy(b);
        cr_assert_eq(vmm_run(v, STEPS), VMM_RUN_DONE, "%s", path);
        cr_assert_not_null(vmm_guest_refusal(v, 0), "%s: not refused", path);
        cr_assert_eq(vmm_guest_steps(v, 0), 0, "%s ran under pv", path);
        cr_assert(tv_canaries_intact(v), "%s", path);
        vmm_destroy(v);
        refused++;
    }
    closedir(d);
    cr_assert_geq(refused, 20, "only %u attacks", refused);
}
