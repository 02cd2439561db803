/*
 * test_vmm_support.h: helpers for the VMM's unit tests.
 *
 * The VMM is tested differentially: a bare machine (usually the standard
 * test machine of support.h) is set up, a vmm is made whose guests are
 * copies of it (memory, registers, PSW, console input), both run, and every
 * guest-visible part is compared: registers, PSW, all memory, console
 * output, stop reason and the step and instruction counts.
 */
#ifndef TRAPEZE_TEST_VMM_SUPPORT_H
#define TRAPEZE_TEST_VMM_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../machine/machine.h"
#include "../../vmm/vmm.h"

/* A vmm of n guests, each a copy of bare's state, console input `input`
 * (may be NULL).  Asserts that it can be made. */
struct vmm *tv_mirror(const struct machine *bare, enum vmm_mode mode, unsigned n,
                      const char *input);
/* The same with te's shadow page tables kept by policy (tv_mirror: trace). */
struct vmm *tv_mirror_policy(const struct machine *bare, enum vmm_mode mode,
                             enum vmm_shadow_policy policy, unsigned n, const char *input);

/* Compares guest g of v with the bare machine stopped with bstop; false
 * with the first difference in why. */
bool tv_same(const struct machine *bare, enum machine_stop bstop, const struct vmm *v, unsigned g,
             char *why, size_t size);

/* Runs a clone of bare for `steps` steps and a mirror of it under mode (n
 * guests, each limited to `steps`), and asserts every guest equivalent.
 * input is fed to both.  Returns the vmm (destroy it) for more checks. */
struct vmm *tv_check_equivalent(const struct machine *bare, enum vmm_mode mode, unsigned n,
                                uint64_t steps, const char *input, const char *what);
/* The same for one guest without input, shadow tables kept by policy. */
struct vmm *tv_check_equivalent_policy(const struct machine *bare, enum vmm_mode mode,
                                       enum vmm_shadow_policy policy, uint64_t steps,
                                       const char *what);
/* Both: n guests, input, shadow tables kept by policy. */
struct vmm *tv_check_equivalent_with(const struct machine *bare, enum vmm_mode mode,
                                     enum vmm_shadow_policy policy, unsigned n, uint64_t steps,
                                     const char *input, const char *what);

/* True when the real memory outside every guest region (the host page and
 * the padding after each region) still holds the vmm's canary. */
bool tv_canaries_intact(const struct vmm *v);

/* Resource control, checked before every real instruction: the guest runs
 * in real user mode, interrupts on, unpaged, inside its own region, with a
 * real timer of at most one slice.  Counts the instructions checked and
 * those that broke it. */
struct tv_real_watch {
    struct vmm *v;
    uint64_t checked, bad;
};
enum machine_verdict tv_watch_real(void *ctx, struct machine *m, uint32_t pc, uint32_t insn);
/* Sets w up and installs it as the observer of v's real machine. */
void tv_watch_start(struct tv_real_watch *w, struct vmm *v);

#endif
