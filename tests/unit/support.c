/* support.c: helpers shared by the machine, ISA and variant unit tests. */
#include "support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

struct isa_variant test_support_variant(const char *name)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    bool ok = isa_variant_load(name, &v, err);
    cr_assert(ok, "variant %s: %s", name, err);
    return v;
}

static struct machine *standard_machine(const struct isa_variant *v)
{
    struct machine *m = machine_create(TS_MEM, v);
    cr_assert_not_null(m);
    machine_reset(m, TS_CODE);
    struct psw handler = {PSW_M, TS_HANDLER, 0, TS_MEM, 0};
    test_support_set_new_psw(m, &handler);
    machine_memory(m)[TS_HANDLER] = TS_J(HALT, 0);
    return m;
}

struct machine *test_support_machine(const char *variant)
{
    struct isa_variant v = test_support_variant(variant);
    return standard_machine(&v);
}

struct machine *test_support_machine_text(const char *variant_text)
{
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    bool ok = isa_variant_parse(variant_text, "test.var", &v, err);
    cr_assert(ok, "variant text: %s", err);
    return standard_machine(&v);
}

void test_support_poke(struct machine *m, uint32_t addr, const uint32_t *words, size_t n)
{
    cr_assert(addr + n <= machine_memsize(m));
    memcpy(machine_memory(m) + addr, words, n * sizeof *words);
}

void test_support_set_new_psw(struct machine *m, const struct psw *p)
{
    isa_psw_to_words(p, machine_memory(m) + TRAP_NEW_PSW);
}

void test_support_set_psw(struct machine *m, uint32_t flags, uint32_t pc, uint32_t base,
                          uint32_t bound, uint32_t timer)
{
    struct psw p = {flags, pc, base, bound, timer};
    machine_set_psw(m, &p);
}

uint32_t test_support_reg_pattern(unsigned r) { return 0x5a000000u + r * 0x01010101u; }

void test_support_fill_regs(struct machine *m)
{
    for (unsigned r = 1; r < ISA_NREGS; r++) machine_set_reg(m, r, test_support_reg_pattern(r));
}

void test_support_expect_trap(const struct machine *m, enum isa_cause cause, unsigned detail,
                              uint32_t value, const struct psw *old)
{
    const uint32_t *e = machine_memory_const(m);
    uint32_t want[PSW_WORDS];
    isa_psw_to_words(old, want);
    static const char *const names[PSW_WORDS] = {"flags", "pc", "base", "bound", "timer"};
    for (int i = 0; i < PSW_WORDS; i++)
        cr_assert_eq(e[TRAP_OLD_PSW + i], want[i], "old PSW %s: E[%d] = 0x%x, want 0x%x",
                     names[i], i, e[TRAP_OLD_PSW + i], want[i]);
    cr_assert_eq(e[TRAP_CAUSE], (uint32_t)cause | detail << 8, "E[5] = 0x%x, want cause %d detail %u",
                 e[TRAP_CAUSE], cause, detail);
    cr_assert_eq(e[TRAP_VALUE], value, "E[6] = 0x%x, want 0x%x", e[TRAP_VALUE], value);
    cr_assert_eq(e[7], 0u, "E[7] is reserved");
    for (int i = 13; i < 16; i++) cr_assert_eq(e[i], 0u, "E[%d] is reserved", i);
    struct psw now = machine_psw(m);
    struct psw loaded = isa_psw_from_words(e + TRAP_NEW_PSW);
    cr_assert(memcmp(&now, &loaded, sizeof now) == 0,
              "PSW after the trap {%x %x %x %x %x} is not the new PSW {%x %x %x %x %x}",
              now.flags, now.pc, now.base, now.bound, now.timer, loaded.flags, loaded.pc,
              loaded.base, loaded.bound, loaded.timer);
    const struct machine_trap *t = machine_last_trap(m);
    cr_assert_not_null(t);
    cr_assert_eq(t->cause, cause);
    cr_assert_eq(t->detail, detail);
    cr_assert_eq(t->value, value);
    cr_assert(memcmp(&t->old_psw, old, sizeof *old) == 0, "last_trap old_psw differs");
}

#define DIFF(...)                              \
    do {                                       \
        snprintf(why, size, __VA_ARGS__);      \
        return false;                          \
    } while (0)

bool test_support_same_state(const struct machine *a, const struct machine *b, char *why,
                             size_t size)
{
    for (unsigned r = 0; r < ISA_NREGS; r++)
        if (machine_reg(a, r) != machine_reg(b, r))
            DIFF("r%u: 0x%x vs 0x%x", r, machine_reg(a, r), machine_reg(b, r));
    struct psw pa = machine_psw(a), pb = machine_psw(b);
    if (memcmp(&pa, &pb, sizeof pa) != 0)
        DIFF("PSW {%x %x %x %x %x} vs {%x %x %x %x %x}", pa.flags, pa.pc, pa.base, pa.bound,
             pa.timer, pb.flags, pb.pc, pb.base, pb.bound, pb.timer);
    if (machine_memsize(a) != machine_memsize(b)) DIFF("memory sizes differ");
    const uint32_t *ma = machine_memory_const(a), *mb = machine_memory_const(b);
    for (size_t i = 0; i < machine_memsize(a); i++)
        if (ma[i] != mb[i]) DIFF("E[0x%zx]: 0x%x vs 0x%x", i, ma[i], mb[i]);
    const struct machine_stats *sa = machine_stats(a), *sb = machine_stats(b);
    if (sa->retired != sb->retired)
        DIFF("retired %llu vs %llu", (unsigned long long)sa->retired,
             (unsigned long long)sb->retired);
    for (int c = 0; c < CAUSE_COUNT; c++)
        if (sa->traps[c] != sb->traps[c])
            DIFF("traps[%d] %llu vs %llu", c, (unsigned long long)sa->traps[c],
                 (unsigned long long)sb->traps[c]);
    if (sa->output_dropped != sb->output_dropped) DIFF("output_dropped differs");
    if (sa->tlb_flushes != sb->tlb_flushes)
        DIFF("tlb_flushes %llu vs %llu", (unsigned long long)sa->tlb_flushes,
             (unsigned long long)sb->tlb_flushes);
    if (sa->stale_pte_uses != sb->stale_pte_uses || sa->pte_writes_unchecked != sb->pte_writes_unchecked)
        DIFF("page-table rule counts %llu/%llu vs %llu/%llu", (unsigned long long)sa->stale_pte_uses,
             (unsigned long long)sa->pte_writes_unchecked, (unsigned long long)sb->stale_pte_uses,
             (unsigned long long)sb->pte_writes_unchecked);
    struct machine_pte_use ua, ub;
    const bool broken_a = machine_pte_rule_broken(a, &ua), broken_b = machine_pte_rule_broken(b, &ub);
    if (broken_a != broken_b) DIFF("one broke the page-table rule, the other not");
    if (broken_a && (ua.step != ub.step || ua.pc != ub.pc || ua.va != ub.va || ua.access != ub.access ||
                     ua.pte_pa != ub.pte_pa || ua.old_value != ub.old_value || ua.new_value != ub.new_value))
        DIFF("first use of a changed page-table entry differs: step %llu/%llu, PTE 0x%x/0x%x",
             (unsigned long long)ua.step, (unsigned long long)ub.step, ua.pte_pa, ub.pte_pa);
    if (machine_steps(a) != machine_steps(b)) DIFF("steps differ");
    size_t la, lb;
    const uint8_t *oa = machine_output(a, &la), *ob = machine_output(b, &lb);
    if (la != lb || memcmp(oa, ob, la) != 0) DIFF("console output differs (%zu vs %zu bytes)", la, lb);
    if (machine_input_pending(a) != machine_input_pending(b)) DIFF("unread input differs");
    if (machine_state(a) != machine_state(b))
        DIFF("state %s vs %s", machine_stop_name(machine_state(a)), machine_stop_name(machine_state(b)));
    const struct machine_trap *ta = machine_last_trap(a), *tb = machine_last_trap(b);
    if (!ta != !tb) DIFF("one has trapped, the other not");
    if (ta && (ta->cause != tb->cause || ta->detail != tb->detail || ta->value != tb->value ||
               ta->step != tb->step || memcmp(&ta->old_psw, &tb->old_psw, sizeof ta->old_psw)))
        DIFF("last trap differs: cause %d/%d value %x/%x step %llu/%llu", ta->cause, tb->cause,
             ta->value, tb->value, (unsigned long long)ta->step, (unsigned long long)tb->step);
    return true;
}

uint64_t test_support_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/*
 * The random program's memory:
 *
 *   0x20        timer value the handler gives the interrupted PSW next
 *   0x30..0x34  the program's start PSW
 *   0x80        prelude (supervisor): input interrupts on, lpsw 0x30
 *   0x800       handler: read a byte, old pc += 1, re-arm the timer, lpsw 0
 *   0x1000      PG=0: base of the program (bound 0x1000)
 *   0x1100      the program (virtual 0x100 both unpaged and paged)
 *   0x4000      page table: vpn i -> frame 0x10 + i; vpn 9 invalid,
 *               vpns 2 and 3 read-only
 */
#define RP_LEN 200u

static uint32_t random_insn(uint64_t *s)
{
    uint64_t x = test_support_rand(s);
    if (x % 40 == 0) return (uint32_t)test_support_rand(s);         /* anything */
    if (x % 40 == 1) return (uint32_t)(0x4a + x % 0xb0) << 24 | (uint32_t)(x >> 40); /* undefined */
    const struct isa_op *op = &isa_ops()[(x >> 8) % isa_op_count()];
    unsigned a = (x >> 16) % 12, b = (x >> 20) % 12, c = (x >> 24) % 12;
    uint32_t imm = (uint32_t)(x >> 32) & 0xffff;
    switch ((enum isa_operands)op->operands) {
    case OPS_BRANCH: imm = (uint32_t)((int)((x >> 32) % 17) - 8); break;
    case OPS_ADDR: return isa_make_j(op->opcode, TS_CODE + (uint32_t)((x >> 32) % (RP_LEN + 8)));
    case OPS_MEM:
    case OPS_PSWADDR: imm = (uint32_t)((x >> 32) % 0x300); break;
    case OPS_RI:
        if (op->opcode == ISA_IN || op->opcode == ISA_OUT) {
            static const uint32_t ports[] = {0, 1, 2, 3, 15, 16, 0xffff, 0, 1};
            imm = ports[(x >> 32) % 9];
        }
        break;
    case OPS_NONE:
        if (op->opcode == ISA_HALT && (x >> 32) % 8) return TS_I(ADDI, a, a, 1);
        break;
    default: break;
    }
    if (op->format == FMT_R) return isa_make_r(op->opcode, a, b, c);
    if (op->format == FMT_J) return isa_make_j(op->opcode, imm);
    return isa_make_i(op->opcode, a, b, imm);
}

void test_support_random_program(struct machine *m, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    uint32_t *e = machine_memory(m);
    cr_assert_geq(machine_memsize(m), 0x8000u);

    static const uint32_t prelude[] = {
        TS_I(ADDI, 13, 0, 1),
        TS_I(OUT, 13, 0, PORT_CONSOLE_CTRL),
        TS_I(LPSW, 0, 0, 0x30),
    };
    static const uint32_t handler[] = {
        TS_I(IN, 11, 0, PORT_CONSOLE_IN), /* drain the input, one byte a trap */
        TS_I(LD, 13, 0, 1),     TS_I(ADDI, 13, 13, 1), TS_I(ST, 13, 0, 1),
        TS_I(LD, 12, 0, 0x20),  TS_I(ADDI, 12, 12, 7), TS_I(ANDI, 12, 12, 63),
        TS_I(ST, 12, 0, 0x20),  TS_I(ST, 12, 0, 4),    TS_I(LPSW, 0, 0, 0),
    };
    test_support_poke(m, 0x80, prelude, sizeof prelude / sizeof prelude[0]);
    test_support_poke(m, TS_HANDLER, handler, sizeof handler / sizeof handler[0]);
    struct psw h = {PSW_M, TS_HANDLER, 0, (uint32_t)machine_memsize(m), 0};
    test_support_set_new_psw(m, &h);
    e[0x20] = (uint32_t)(test_support_rand(&s) % 64);

    for (uint32_t i = 0; i < 16; i++) {
        uint32_t pte = (0x10 + i) << 8 | PTE_V | PTE_W;
        if (i == 9) pte &= ~PTE_V;
        if (i == 2 || i == 3) pte &= ~PTE_W;
        e[0x4000 + i] = pte;
    }
    for (uint32_t i = 0; i < RP_LEN; i++) e[0x1100 + i] = random_insn(&s);
    e[0x1100 + RP_LEN] = TS_J(JMP, TS_CODE);
    for (uint32_t i = 0; i < 0x100; i++) e[0x1000 + i] = (uint32_t)test_support_rand(&s) % 0x400;

    uint64_t x = test_support_rand(&s);
    uint32_t flags = 0;
    if (x % 4 == 0) flags |= PSW_M;
    if ((x >> 8) % 2) flags |= PSW_IE;
    if ((x >> 16) % 10 < 3) flags |= PSW_PG;
    struct psw start = {flags, TS_CODE, flags & PSW_PG ? 0x4000u : 0x1000u,
                        flags & PSW_PG ? 16u : 0x1000u, (uint32_t)((x >> 24) % 41)};
    isa_psw_to_words(&start, e + 0x30);

    machine_reset(m, 0x80);
    for (unsigned r = 1; r < ISA_NREGS; r++) {
        uint64_t y = test_support_rand(&s);
        machine_set_reg(m, r, y % 2 ? (uint32_t)(y >> 8) % 0x300 : (uint32_t)(y >> 16));
    }
    static const char input[] = TEST_SUPPORT_RANDOM_INPUT;
    machine_feed_input(m, (const uint8_t *)input, sizeof input - 1);
}
