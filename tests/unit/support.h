/*
 * support.h: helpers shared by the machine, ISA and variant unit tests.
 *
 * Test programs are built by encoding words with the isa_make_* helpers and
 * the opcodes of isa.def (TS_R/TS_I/TS_J below), so these tests do not depend
 * on the assembler.  Every helper asserts with Criterion: a failure inside one
 * fails the calling test.
 *
 * The standard test machine (test_support_machine):
 *
 *   physical  0..15     trap area; new PSW = supervisor, pc TS_HANDLER,
 *                       base 0, bound TS_MEM, timer 0
 *             TS_CODE   where tests put their program; the reset pc
 *             TS_HANDLER  halt (so a run stops right after handling a trap)
 *             TS_MEM    words in all
 */
#ifndef TRAPEZE_TEST_SUPPORT_H
#define TRAPEZE_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../isa/isa.h"
#include "../../machine/machine.h"

/* In a comparison `bool f(..., char *why, size_t size)`: says why the two
 * differ, in why, and returns false. */
#define TS_DIFFER(...)                          \
    do {                                        \
        snprintf(why, size, __VA_ARGS__);       \
        return false;                           \
    } while (0)

#define TS_MEM 65536u
#define TS_CODE 0x100u
#define TS_HANDLER 0x800u

/* Encode by instruction ID (ADD, ADDI, JMP, ...).  These are isa_make_r/i/j
 * written as constant expressions, so that tests can keep programs in static
 * tables; test_isa.c checks that they agree with isa_make_*. */
#define TS_R(id, a, b, c)                                                       \
    ((uint32_t)ISA_##id << 24 | ((uint32_t)(a)&15u) << 20 | ((uint32_t)(b)&15u) << 16 | \
     ((uint32_t)(c)&15u) << 12)
#define TS_I(id, a, b, imm)                                                     \
    ((uint32_t)ISA_##id << 24 | ((uint32_t)(a)&15u) << 20 | ((uint32_t)(b)&15u) << 16 | \
     ((uint32_t)(imm)&0xffffu))
#define TS_J(id, imm) ((uint32_t)ISA_##id << 24 | ((uint32_t)(imm)&0xffffffu))

/* A built-in variant by name; asserts that it loads. */
struct isa_variant test_support_variant(const char *name);

/* The standard test machine under a built-in variant (see above). */
struct machine *test_support_machine(const char *variant);
/* The same under a variant given by its text. */
struct machine *test_support_machine_text(const char *variant_text);

/* Writes n words at physical address addr. */
void test_support_poke(struct machine *m, uint32_t addr, const uint32_t *words, size_t n);
/* Writes the new PSW of the trap area (E[8..12]). */
void test_support_set_new_psw(struct machine *m, const struct psw *p);
/* Sets the PSW (flags are masked as machine_set_psw does). */
void test_support_set_psw(struct machine *m, uint32_t flags, uint32_t pc, uint32_t base,
                          uint32_t bound, uint32_t timer);
/* A distinct value for each register; fill_regs puts it in r1..r15. */
uint32_t test_support_reg_pattern(unsigned r);
void test_support_fill_regs(struct machine *m);

/* Asserts that the last step delivered exactly this trap through the trap
 * area: E[0..4] = *old, E[5] = cause | detail << 8, E[6] = value, E[7] and
 * E[13..15] untouched (0), the PSW now equals E[8..12], and the machine's
 * last_trap agrees. */
void test_support_expect_trap(const struct machine *m, enum isa_cause cause, unsigned detail,
                              uint32_t value, const struct psw *old);

/* Compares every observable part of two machines: registers, PSW, memory,
 * stats, steps, console input and output, last trap, run state, the first
 * use of a changed page-table entry.  Returns
 * true when equal, else false with the first difference described in why. */
bool test_support_same_state(const struct machine *a, const struct machine *b, char *why,
                             size_t size);

/* A deterministic pseudo-random generator (xorshift64*). */
uint64_t test_support_rand(uint64_t *state);

/* Fills m (a standard test machine) with a random program seeded by seed: random
 * instructions of every kind (undefined opcodes too) at TS_CODE, a trap handler
 * that skips the trapping instruction and re-arms the timer, a random start
 * PSW (user or supervisor, relocated, interrupts and timer on or off) and
 * console input with input interrupts on.  The program never runs off its
 * region for long, but it may halt, loop or machine-check. */
void test_support_random_program(struct machine *m, uint64_t seed);
/* The console input test_support_random_program feeds. */
#define TEST_SUPPORT_RANDOM_INPUT "typed input"

#endif
