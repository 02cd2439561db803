/*
 * test_vmm_pv.c: the hypercall handlers of --vmm pv (vmm/pv.c), each
 * through vmm_run on a small paravirtual kernel: the answers, the bounds
 * of every guest-supplied address, the refusals, the virtual clock as the
 * instruction replaced, and the counters.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../assembler/asm.h"
#include "../../vmm/vmm.h"
#include "support.h"

/* A vmm of one guest (x86like, mem words) running `body` after _start,
 * with lib/pv.inc included, until it stops. */
static struct vmm *pv_run(const char *body, size_t mem, enum vmm_mode mode)
{
    char src[4096];
    snprintf(src, sizeof src, ".include \"lib/pv.inc\"\n_start:\n%s", body);
    struct asm_image img;
    cr_assert_eq(asm_assemble_string(src, "programs/pv_unit.s", &img, stderr), 0, "%s", src);
    struct isa_variant var = test_support_variant("x86like");
    struct vmm_config cfg = {mode, &var, mem, 1, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    cr_assert(asm_image_place(&img, vmm_guest_memory(v, 0), mem, 0));
    vmm_guest_reset(v, 0, img.entry);
    asm_image_free(&img);
    vmm_run(v, 100000);
    return v;
}

static uint32_t reg(const struct vmm *v, unsigned r) { return vmm_guest_vcpu(v, 0)->reg[r]; }

Test(vmm_pv, hello_answers_the_version_and_the_memory_size)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nhcall PV_HALT\n", 4096, VMM_PV);
    cr_assert_null(vmm_guest_refusal(v, 0), "%s", vmm_guest_refusal(v, 0));
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(reg(v, 1), PV_VERSION);
    cr_assert_eq(reg(v, 2), 4096);
    cr_assert_eq(vmm_guest_steps(v, 0), 2, "one step per hypercall");
    const uint64_t *calls = vmm_guest_pv_calls(v, 0);
    cr_assert_eq(calls[PV_HCALL_HELLO - PV_HCALL_FIRST], 1);
    cr_assert_eq(calls[PV_HCALL_HALT - PV_HCALL_FIRST], 1);
    cr_assert_eq(vmm_guest_stats(v, 0)->emulated, 2);
    cr_assert_str_eq(vmm_pv_call_name(PV_HCALL_PTE_BATCH - PV_HCALL_FIRST), "pte_batch");
    cr_assert_str_eq(vmm_pv_call_name(PV_HCALL_COUNT), "?");
    vmm_destroy(v);
}

Test(vmm_pv, a_guest_that_is_not_paravirtual_is_refused_before_its_first_step)
{
    struct vmm *v = pv_run("li r1, 3\nhalt\n", 4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_CHECK);
    cr_assert_eq(vmm_guest_steps(v, 0), 0);
    cr_assert_str_eq(vmm_guest_refusal(v, 0),
                     "guest 0 is not paravirtual: its first instruction is addi r1, r0, 3 (pc 0x10), "
                     "not hcall PV_HELLO");
    vmm_destroy(v);
    /* Another mode refuses nothing and counts no hypercalls: hcall 32 is
     * the guest's own trap (no handler here). */
    v = pv_run("hcall PV_HELLO\nhalt\n", 4096, VMM_TE);
    cr_assert_null(vmm_guest_refusal(v, 0));
    cr_assert_null(vmm_guest_pv_calls(v, 0));
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_UNHANDLED_TRAP);
    vmm_destroy(v);
}

Test(vmm_pv, a_critical_instruction_anywhere_in_memory_refuses_the_kernel_at_hello)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nhcall PV_HALT\n.space 100\nsrr r1, r2\n", 4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_CHECK);
    cr_assert_eq(vmm_guest_steps(v, 0), 0, "PV_HELLO itself did not retire");
    cr_assert_str_eq(vmm_guest_refusal(v, 0), "guest 0's paravirtual kernel holds the critical instruction "
                                              "srr r1, r2 at 0x76: a PV kernel asks by hcall instead");
    vmm_destroy(v);
}

Test(vmm_pv, a_privileged_instruction_of_the_kernel_stops_it_named)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nli r1, 65\nhcall PV_CONSOLE\nrtmr r3\nhcall PV_HALT\n", 4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_CHECK);
    cr_assert_str_eq(vmm_guest_refusal(v, 0), "guest 0's paravirtual kernel executed rtmr r3 at pc 0x13: "
                                              "a PV kernel asks by hcall instead");
    size_t len;
    const uint8_t *out = vmm_guest_output(v, 0, &len);
    cr_assert(len == 1 && out[0] == 'A', "PV_CONSOLE wrote before the fault");
    cr_assert_eq(vmm_guest_steps(v, 0), 3, "the rtmr is no step");
    vmm_destroy(v);
}

Test(vmm_pv, the_shared_area_must_lie_inside_memory)
{
    struct vmm *v = pv_run("hcall PV_HELLO\n"
                           "li r1, 4096-6\nhcall PV_SHARED\nmov r5, r1\n"  /* one word short: -1 */
                           "li r1, 4096-7\nhcall PV_SHARED\nmov r6, r1\n"  /* the last 7 words: 0 */
                           "hcall PV_HALT\n",
                           4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(reg(v, 5), UINT32_MAX);
    cr_assert_eq(reg(v, 6), 0);
    /* Registered in supervisor mode with interrupts off: the vmm masked. */
    cr_assert_eq(vmm_guest_memory_const(v, 0)[4096 - 7 + PV_SH_MASK], 1);
    vmm_destroy(v);
}

Test(vmm_pv, a_psw_load_without_a_shared_area_stops_the_guest)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nhcall PV_PSW\n", 4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_CHECK);
    cr_assert_str_eq(vmm_guest_refusal(v, 0), "guest 0 asked PV_PSW (pc 0x11) before PV_SHARED gave it a "
                                              "shared area");
    vmm_destroy(v);
}

Test(vmm_pv, a_psw_load_enters_user_mode_at_the_frame_and_sets_no_tick)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nla r1, sh\nhcall PV_SHARED\nli r7, 9\nhcall PV_PSW\n"
                           "user: addi r7, r7, 1\nb user\n"
                           "sh: .word 0, 0, 2, user, 0, 4096, 5\n", /* IE, user, timer 5 */
                           4096, VMM_PV);
    /* Five user instructions, then the timer: a TIMER trap with no handler. */
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_UNHANDLED_TRAP);
    cr_assert_eq(reg(v, 7), 9 + 3, "addi, b, addi, b, addi: the timer set by PV_PSW did not tick");
    vmm_destroy(v);
}

Test(vmm_pv, timer_set_and_read_charge_the_clock_as_stmr_and_rtmr)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nli r1, 10\nhcall PV_TIMER_SET\nhcall PV_TIMER_READ\nmov r5, r1\n"
                           "hcall PV_TIMER_READ\nmov r6, r1\nmov r1, r0\nhcall PV_HALT\n",
                           4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(reg(v, 5), 10, "set does not count");
    cr_assert_eq(reg(v, 6), 8, "the read counted, and the mov");
    cr_assert_eq(vmm_guest_vcpu(v, 0)->psw.timer, 4, "read, mov, mov, halt");
    vmm_destroy(v);
}

Test(vmm_pv, a_pte_batch_checks_every_address_and_stops_at_the_first_outside)
{
    struct vmm *v = pv_run("hcall PV_HELLO\n"
                           "la r1, good\nli r2, 2\nhcall PV_PTE_BATCH\nmov r5, r1\n"
                           "la r1, bad\nli r2, 3\nhcall PV_PTE_BATCH\nmov r6, r1\n"
                           "li r1, 4095\nli r2, 1\nhcall PV_PTE_BATCH\nmov r7, r1\n"  /* list past the end */
                           "la r1, good\nli r2, PV_PTE_BATCH_MAX+1\nhcall PV_PTE_BATCH\nmov r8, r1\n"
                           "li r1, -2\nli r2, 1\nhcall PV_PTE_BATCH\nmov r9, r1\n"    /* wraps: outside */
                           "ld r10, t(r0)\nld r11, t+1(r0)\nld r12, t+2(r0)\nld r13, t+3(r0)\n"
                           "hcall PV_HALT\n"
                           "t: .word 0, 0, 0, 0\n"
                           "good: .word t, 0x101, t+1, 0x203\n"
                           "bad: .word t+2, 7, 4096, 8, t+3, 9\n",
                           4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(reg(v, 5), 2);
    cr_assert_eq(reg(v, 6), 1, "the second pair (address 4096) is outside");
    cr_assert_eq(vmm_guest_pv_pte_pairs(v, 0), 2 + 1, "the pairs applied, not the pairs asked");
    cr_assert_eq(reg(v, 7), UINT32_MAX);
    cr_assert_eq(reg(v, 8), UINT32_MAX);
    cr_assert_eq(reg(v, 9), UINT32_MAX);
    cr_assert(reg(v, 10) == 0x101 && reg(v, 11) == 0x203 && reg(v, 12) == 7 && reg(v, 13) == 0,
              "the entries: %x %x %x %x", reg(v, 10), reg(v, 11), reg(v, 12), reg(v, 13));
    vmm_destroy(v);
}

Test(vmm_pv, a_hypercall_from_user_mode_is_the_guests_own_trap)
{
    struct vmm *v = pv_run("hcall PV_HELLO\nla r1, sh\nhcall PV_SHARED\n"
                           "li r1, 1\nst r1, 8(r0)\nla r1, kern\nst r1, 9(r0)\nli r1, 4096\nst r1, 11(r0)\n"
                           "hcall PV_PSW\n"
                           "user: hcall PV_HALT\n"
                           "kern: ld r5, 5(r0)\nhcall PV_HALT\n"
                           "sh: .word 0, 0, 0, user, 0, 4096, 0\n",
                           4096, VMM_PV);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(reg(v, 5), CAUSE_HCALL, "reflected to the kernel");
    cr_assert_eq(vmm_guest_pv_calls(v, 0)[PV_HCALL_HALT - PV_HCALL_FIRST], 1, "only the kernel's halt");
    vmm_destroy(v);
}

Test(vmm_pv, the_interpreted_reference_runs_the_same_guest_to_the_same_end)
{
    static const char *const body = "hcall PV_HELLO\nla r1, sh\nhcall PV_SHARED\nli r1, 30\n"
                                    "hcall PV_TIMER_SET\nloop: addi r3, r3, 1\nslti r4, r3, 50\nbnez r4, loop\n"
                                    "hcall PV_TIMER_READ\nhcall PV_HALT\nsh: .space PV_SHARED_WORDS\n";
    struct vmm *a = pv_run(body, 4096, VMM_PV);
    char src[1024];
    snprintf(src, sizeof src, ".include \"lib/pv.inc\"\n_start:\n%s", body);
    struct asm_image img;
    cr_assert_eq(asm_assemble_string(src, "programs/pv_unit.s", &img, stderr), 0);
    struct isa_variant var = test_support_variant("x86like");
    struct vmm_config cfg = {VMM_PV, &var, 4096, 1, 0, VMM_SHADOW_TRACE};
    struct vmm *b = vmm_create(&cfg);
    vmm_pv_interpret_all(b);
    cr_assert(asm_image_place(&img, vmm_guest_memory(b, 0), 4096, 0));
    vmm_guest_reset(b, 0, img.entry);
    asm_image_free(&img);
    vmm_run(b, 100000);
    cr_assert_eq(vmm_guest_place(b, 0), VMM_PLACE_INTERPRETED);
    cr_assert_eq(vmm_guest_stats(b, 0)->direct, 0);
    cr_assert_gt(vmm_guest_stats(a, 0)->direct, 100);
    cr_assert_eq(vmm_guest_steps(a, 0), vmm_guest_steps(b, 0));
    cr_assert_eq(reg(a, 1), reg(b, 1));
    cr_assert_eq(reg(a, 1), 0, "the timer ran out: read 0");
    cr_assert_eq(memcmp(vmm_guest_memory_const(a, 0), vmm_guest_memory_const(b, 0), 4096 * sizeof(uint32_t)), 0);
    vmm_destroy(a);
    vmm_destroy(b);
}

/* A random guest of support.c made paravirtual: its prelude asks
 * PV_HELLO, registers the shared area at 0x2e (so that the start PSW at
 * 0x30 is the frame) and loads it by PV_PSW; its handler returns by copying
 * the old PSW into the frame and PV_PSW; every critical word is scrubbed.
 * The random code still holds privileged instructions: in user mode they
 * trap to the handler, in supervisor mode pv refuses the kernel. */
static struct machine *pv_random_guest(uint64_t seed)
{
    struct machine *m = test_support_machine("x86like");
    test_support_random_program(m, seed);
    uint32_t *e = machine_memory(m);
    for (uint32_t a = 0; a < TS_MEM; a++) {
        const uint8_t op = isa_opcode_of(e[a]);
        if (op == ISA_PUSHF || op == ISA_POPF || op == ISA_SRR) e[a] = TS_I(ADDI, 1, 1, 1);
    }
    const uint32_t prelude[] = {TS_I(HCALL, 0, 0, PV_HCALL_HELLO), TS_I(ADDI, 1, 0, 0x2e),
                                TS_I(HCALL, 0, 0, PV_HCALL_SHARED), TS_I(HCALL, 0, 0, PV_HCALL_PSW)};
    test_support_poke(m, 0x80, prelude, 4);
    e[TS_HANDLER] = TS_I(ADDI, 11, 0, 0); /* no console input to drain: its interrupts stay off */
    for (uint32_t i = 0; i < PSW_WORDS; i++) {
        e[TS_HANDLER + 9 + 2 * i] = TS_I(LD, 12, 0, i);
        e[TS_HANDLER + 10 + 2 * i] = TS_I(ST, 12, 0, 0x30 + i);
    }
    e[TS_HANDLER + 9 + 2 * PSW_WORDS] = TS_I(HCALL, 0, 0, PV_HCALL_PSW);
    return m;
}

static struct vmm *pv_mirror(const struct machine *m, bool interpreted)
{
    struct isa_variant var = test_support_variant("x86like");
    struct vmm_config cfg = {VMM_PV, &var, TS_MEM, 1, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    if (interpreted) vmm_pv_interpret_all(v);
    memcpy(vmm_guest_memory(v, 0), machine_memory_const(m), TS_MEM * sizeof(uint32_t));
    struct psw p = machine_psw(m);
    vmm_guest_set_psw(v, 0, &p);
    for (unsigned r = 1; r < ISA_NREGS; r++) vmm_guest_set_reg(v, 0, r, machine_reg(m, r));
    vmm_set_step_limit(v, 20000);
    vmm_run(v, 20001);
    return v;
}

/* Random paravirtual guests: pv (direct, shadow tables for the paged
 * ones) ends exactly where its interpreted reference does: stop, steps,
 * registers, PSW, every memory word, output and the refusal. */
Test(vmm_pv, random_guests_match_the_interpreted_reference, .timeout = 120)
{
    unsigned deep = 0, refused = 0, reflected = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct machine *m = pv_random_guest(seed);
        struct vmm *a = pv_mirror(m, false), *b = pv_mirror(m, true);
        cr_assert_eq(vmm_guest_stop(a, 0), vmm_guest_stop(b, 0), "seed %llu: stop", (unsigned long long)seed);
        cr_assert_eq(vmm_guest_steps(a, 0), vmm_guest_steps(b, 0), "seed %llu: steps", (unsigned long long)seed);
        cr_assert_eq(memcmp(vmm_guest_vcpu(a, 0), vmm_guest_vcpu(b, 0), sizeof(struct vmm_vcpu)), 0,
                     "seed %llu: registers or PSW (pc 0x%x vs 0x%x)", (unsigned long long)seed,
                     vmm_guest_vcpu(a, 0)->psw.pc, vmm_guest_vcpu(b, 0)->psw.pc);
        cr_assert_eq(memcmp(vmm_guest_memory_const(a, 0), vmm_guest_memory_const(b, 0), TS_MEM * sizeof(uint32_t)),
                     0, "seed %llu: memory", (unsigned long long)seed);
        size_t la, lb;
        const uint8_t *oa = vmm_guest_output(a, 0, &la), *ob = vmm_guest_output(b, 0, &lb);
        cr_assert(la == lb && memcmp(oa, ob, la) == 0, "seed %llu: output", (unsigned long long)seed);
        const char *ra = vmm_guest_refusal(a, 0), *rb = vmm_guest_refusal(b, 0);
        cr_assert((!ra && !rb) || (ra && rb && strcmp(ra, rb) == 0), "seed %llu: %s / %s",
                  (unsigned long long)seed, ra ? ra : "-", rb ? rb : "-");
        deep += vmm_guest_steps(a, 0) >= 1000;
        refused += ra != NULL;
        reflected += vmm_guest_stats(a, 0)->reflected > 0;
        vmm_destroy(a);
        vmm_destroy(b);
        machine_destroy(m);
    }
    cr_assert_geq(deep, 30, "only %u of 300 guests ran 1000 steps", deep);
    cr_assert_geq(reflected, 100, "only %u guests took a trap", reflected);
    cr_assert_geq(refused, 30, "only %u kernels were refused", refused);
    cr_log_info("pv random: %u deep, %u took traps, %u refused", deep, reflected, refused);
}

/* A refused guest stays stopped when run again, and a reset looks at it
 * afresh: loaded with a paravirtual kernel, it runs. */
Test(vmm_pv, a_refused_guest_stays_stopped_until_it_is_reset)
{
    struct vmm *v = pv_run("halt\n", 4096, VMM_PV);
    cr_assert_not_null(vmm_guest_refusal(v, 0));
    vmm_guest_set_psw(v, 0, &(struct psw){PSW_M, 0x10, 0, 4096, 0});
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_DONE, "the refusal holds: no step, no loop");
    cr_assert_eq(vmm_guest_steps(v, 0), 0);
    uint32_t *mem = vmm_guest_memory(v, 0);
    mem[0x10] = (uint32_t)ISA_HCALL << 24 | PV_HCALL_HELLO;
    mem[0x11] = (uint32_t)ISA_HCALL << 24 | PV_HCALL_HALT;
    vmm_guest_reset(v, 0, 0x10);
    cr_assert_null(vmm_guest_refusal(v, 0));
    cr_assert_eq(vmm_run(v, 1000), VMM_RUN_DONE);
    cr_assert_eq(vmm_guest_stop(v, 0), MACHINE_HALT);
    cr_assert_eq(vmm_guest_steps(v, 0), 2);
    vmm_destroy(v);
}
