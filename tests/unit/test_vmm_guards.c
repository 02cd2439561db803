/*
 * test_vmm_guards.c: every vmm_* function taking a guest index checks it
 * (vmm.h): g < vmm_guest_count(v) works up to the last guest, and one past
 * it aborts the test build (a release build returns a neutral value and
 * touches nothing; ASan would catch it reading out of bounds otherwise).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <signal.h>

#include "../../vmm/vmm.h"
#include "support.h"

#define NGUESTS 3u

static struct vmm *three_guests(void)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm *v = vmm_create(&(struct vmm_config){VMM_TE, &pg, 1024, NGUESTS, 0, VMM_SHADOW_TRACE});
    cr_assert_not_null(v);
    return v;
}

static void sink(void *ctx, uint8_t byte) { (void)ctx, (void)byte; }

/* Every accessor, once, on guest g. */
static void touch_every_accessor(struct vmm *v, unsigned g)
{
    struct psw p = {PSW_M, 0x20, 0, 1024, 0};
    uint32_t gpa;
    unsigned detail;
    size_t len;
    (void)vmm_guest_memory(v, g);
    (void)vmm_guest_memory_const(v, g);
    vmm_guest_reset(v, g, 0x20);
    (void)vmm_guest_vcpu(v, g);
    (void)vmm_guest_reg(v, g, 1);
    vmm_guest_set_reg(v, g, 1, 7);
    vmm_guest_set_psw(v, g, &p);
    (void)vmm_guest_runnable(v, g);
    (void)vmm_guest_stop(v, g);
    (void)vmm_guest_steps(v, g);
    (void)vmm_guest_retired(v, g);
    (void)vmm_guest_stats(v, g);
    (void)vmm_guest_last_trap(v, g);
    (void)vmm_guest_fmap(v, g);
    (void)vmm_guest_place(v, g);
    (void)vmm_guest_real_psw(v, g);
    (void)vmm_guest_translate(v, g, 0, ACCESS_LOAD, &gpa, &detail);
    vmm_feed_input(v, g, (const uint8_t *)"x", 1);
    (void)vmm_guest_output(v, g, &len);
    vmm_set_output_sink(v, g, sink, NULL);
    (void)vmm_guest_refusal(v, g);
    (void)vmm_guest_pv_calls(v, g);
    (void)vmm_guest_pv_pte_pairs(v, g);
}

Test(vmm_guards, every_guest_up_to_the_last_is_served)
{
    struct vmm *v = three_guests();
    for (unsigned g = 0; g < NGUESTS; g++) touch_every_accessor(v, g);
    cr_assert_eq(vmm_guest_reg(v, NGUESTS - 1, 1), 7);
    cr_assert_eq(vmm_guest_vcpu(v, NGUESTS - 1)->psw.pc, 0x20);
    vmm_destroy(v);
}

static void quiet(void) { cr_redirect_stderr(); }

/* One test per function: each must abort on its own. */
#define GUARD(name, ...)                                                        \
    Test(vmm_guards, name##_checks_the_index, .signal = SIGABRT, .init = quiet) \
    {                                                                           \
        struct vmm *v = three_guests();                                         \
        const unsigned g = NGUESTS;                                             \
        struct psw p = {0};                                                     \
        uint32_t gpa;                                                           \
        unsigned detail;                                                        \
        size_t len;                                                             \
        (void)g, (void)p, (void)gpa, (void)detail, (void)len;                   \
        __VA_ARGS__;                                                            \
        vmm_destroy(v);                                                         \
    }

GUARD(memory, (void)vmm_guest_memory(v, g))
GUARD(memory_const, (void)vmm_guest_memory_const(v, g))
GUARD(reset, vmm_guest_reset(v, g, 0x20))
GUARD(vcpu, (void)vmm_guest_vcpu(v, g))
GUARD(reg, (void)vmm_guest_reg(v, g, 1))
GUARD(set_reg, vmm_guest_set_reg(v, g, 1, 7))
GUARD(set_psw, vmm_guest_set_psw(v, g, &p))
GUARD(runnable, (void)vmm_guest_runnable(v, g))
GUARD(stop, (void)vmm_guest_stop(v, g))
GUARD(steps, (void)vmm_guest_steps(v, g))
GUARD(retired, (void)vmm_guest_retired(v, g))
GUARD(stats, (void)vmm_guest_stats(v, g))
GUARD(last_trap, (void)vmm_guest_last_trap(v, g))
GUARD(fmap, (void)vmm_guest_fmap(v, g))
GUARD(place, (void)vmm_guest_place(v, g))
GUARD(real_psw, (void)vmm_guest_real_psw(v, g))
GUARD(translate, (void)vmm_guest_translate(v, g, 0, ACCESS_LOAD, &gpa, &detail))
GUARD(feed_input, vmm_feed_input(v, g, (const uint8_t *)"x", 1))
GUARD(output, (void)vmm_guest_output(v, g, &len))
GUARD(output_sink, vmm_set_output_sink(v, g, sink, NULL))
GUARD(refusal, (void)vmm_guest_refusal(v, g))
GUARD(pv_calls, (void)vmm_guest_pv_calls(v, g))
GUARD(pv_pte_pairs, (void)vmm_guest_pv_pte_pairs(v, g))
GUARD(far_index, (void)vmm_guest_steps(v, UINT32_MAX))
