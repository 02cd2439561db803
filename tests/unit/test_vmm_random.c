/*
 * test_vmm_random.c: thousands of random guests, bare against virtualized.
 *
 * Each seed makes a guest: a small kernel whose one trap handler counts
 * traps, prints, drains console input, skips faulting instructions, and
 * returns into the interrupted code with its PSW changed from per-seed
 * tables (mode flipped, IE and TP toggled, paging on or off, relocations
 * that fit, overhang memory or start past it, timers from 0 to 60), and
 * random code of every instruction kind, system instructions and undefined
 * opcodes included, run in whatever mode the handler leaves it in, under a
 * page table with invalid, read-only and wild entries.  Every guest runs a
 * few thousand steps on a bare machine and under each VMM mode that is exact
 * for the variant, and every guest-visible word must match.
 *
 * The paging mode (random_paged_guest) works the page tables harder: ten
 * tables (more than the VMM_SHADOW_TABLES a guest's shadow keeps), one of
 * them partly past memory and one longer than a shadow holds, whose entries are
 * invalid, read-only, past memory, in the last frame (memory is not a page
 * multiple) or onto the tables themselves; the handler runs paged on an
 * identity table, rewrites a random entry of a random table at many traps
 * and tlbflushes, as ISA.md's rule requires, before it loads the next PSW
 * with a random table.  Those guests run under te with every shadow policy.
 *
 * A failure names its seed.  More seeds (a soak):
 *   TRAPEZE_VMM_SEEDS=100000 ./build/san/unit_tests --filter 'vmm_random/[*]'
 * One seed: TRAPEZE_VMM_SEED_FIRST=1234 TRAPEZE_VMM_SEEDS=1 ...
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_vmm_support.h"

#define MEM 0x4000u
#define HANDLER 0x100u
#define PRELUDE 0x180u
#define TABLES 0x200u /* 5 tables of 16 words: flags xor, base, bound, paged bound, timer */
#define T_FLAGS (TABLES + 0)
#define T_BASE (TABLES + 16)
#define T_BOUND (TABLES + 32)
#define T_PBOUND (TABLES + 48)
#define T_TIMER (TABLES + 64)
#define COUNT 0x2f0u  /* traps so far */
#define START 0x2f8u  /* the first PSW */
#define PTAB 0x3000u
#define USER 0x1000u  /* unpaged base; code at virtual 0x100 either way */
#define CODE_LEN 160u
#define LIMIT 400     /* traps before the handler halts */
#define STEPS 4000

/* The paging mode: its own memory size (frame 0x3f holds 0xc9 words), the
 * kernel's identity table, the user tables' roots, and per trap (by count
 * & 15) the root of the next PSW and the entry rewritten (0: none). */
#define PMEM 0x3fc9u
#define KTAB 0x3e00u
#define KFRAMES 0x40u
#define T_ROOT (TABLES + 80)
#define T_PADDR (TABLES + 96)
#define T_PVAL (TABLES + 112)
static const uint32_t proots[] = {0x3000, 0x3040, 0x3080, 0x30c0, 0x3100,
                                   0x3140, 0x3180, 0x31c0, 0x3200, PMEM - 4};
#define PTABS_END 0x3240u /* the words of the tables but the last */
#define NROOTS (sizeof proots / sizeof proots[0])
_Static_assert(sizeof proots / sizeof proots[0] > VMM_SHADOW_TABLES,
               "more tables than a guest's shadow keeps");

static uint64_t rnd(uint64_t *s) { return test_support_rand(s); }

static uint32_t random_insn(uint64_t *s)
{
    uint64_t x = rnd(s);
    if (x % 50 == 0) return (uint32_t)rnd(s);                                  /* anything  */
    if (x % 50 == 1) return (uint32_t)(0x4a + x % 0xb0) << 24 | (uint32_t)(x >> 40); /* undefined */
    const struct isa_op *op = &isa_ops()[(x >> 8) % isa_op_count()];
    unsigned a = (x >> 16) % 10, b = (x >> 20) % 10, c = (x >> 24) % 10;
    uint32_t imm = (uint32_t)(x >> 32) & 0xffff;
    switch ((enum isa_operands)op->operands) {
    case OPS_BRANCH: imm = (uint32_t)((int)((x >> 32) % 13) - 6); break;
    case OPS_ADDR: return isa_make_j(op->opcode, 0x100 + (uint32_t)((x >> 32) % (CODE_LEN + 4)));
    case OPS_MEM:
    case OPS_PSWADDR: imm = (uint32_t)((x >> 32) % 0x1100); break;
    case OPS_RI:
        if (op->opcode == ISA_IN || op->opcode == ISA_OUT) {
            static const uint32_t ports[] = {0, 1, 2, 0, 1, 7, 16, 0xffff};
            imm = ports[(x >> 32) % 8];
        }
        break;
    case OPS_NONE:
        if (op->opcode == ISA_HALT && (x >> 32) % 6) return isa_make_i(ISA_ADDI, a, a, 1);
        break;
    default: break;
    }
    if (op->format == FMT_R) return isa_make_r(op->opcode, a, b, c);
    if (op->format == FMT_J) return isa_make_j(op->opcode, imm);
    return isa_make_i(op->opcode, a, b, imm);
}

/* The trap handler (supervisor, IE=0, PG=0, base 0): see the file comment. */
static const uint32_t handler[] = {
    TS_I(LD, 13, 0, TRAP_CAUSE),  TS_I(ANDI, 13, 13, 255),   TS_I(LD, 12, 0, COUNT),
    TS_I(ADDI, 12, 12, 1),        TS_I(ST, 12, 0, COUNT),    TS_I(SLTI, 11, 12, LIMIT),
    TS_I(BNE, 11, 0, 1),          TS_J(HALT, 0),             TS_I(IN, 11, 0, PORT_CONSOLE_IN),
    TS_I(OUT, 12, 0, PORT_CONSOLE_OUT),
    /* PRIV, MEM, ILL, DIV saved the instruction itself: skip it */
    TS_I(SLTI, 11, 13, CAUSE_SVC), TS_I(BEQ, 11, 0, 3),      TS_I(LD, 10, 0, 1),
    TS_I(ADDI, 10, 10, 1),        TS_I(ST, 10, 0, 1),
    /* the interrupted PSW, changed by the tables */
    TS_I(ANDI, 11, 12, 15),       TS_I(LD, 10, 0, 0),        TS_I(LD, 13, 11, T_FLAGS),
    TS_R(XOR, 10, 10, 13),        TS_I(ST, 10, 0, 0),        TS_I(ANDI, 13, 10, PSW_PG),
    TS_I(LD, 10, 11, T_BASE),     TS_I(BEQ, 13, 0, 1),       TS_I(ADDI, 10, 0, PTAB),
    TS_I(ST, 10, 0, 2),           TS_I(LD, 10, 11, T_BOUND), TS_I(BEQ, 13, 0, 1),
    TS_I(LD, 10, 11, T_PBOUND),   TS_I(ST, 10, 0, 3),        TS_I(LD, 10, 11, T_TIMER),
    TS_I(ST, 10, 0, 4),           TS_I(LPSW, 0, 0, 0),
};

/* Console input interrupts on, then the first PSW. */
static const uint32_t prelude[] = {
    TS_I(ADDI, 13, 0, 1), TS_I(OUT, 13, 0, PORT_CONSOLE_CTRL), TS_I(LPSW, 0, 0, START),
};

/* The paging mode's handler: the same, run paged on the identity table
 * KTAB, with a page-table entry rewritten (then tlbflush) and the next
 * PSW's table taken from T_ROOT. */
static const uint32_t paged_handler[] = {
    TS_I(LD, 13, 0, TRAP_CAUSE),  TS_I(ANDI, 13, 13, 255),   TS_I(LD, 12, 0, COUNT),
    TS_I(ADDI, 12, 12, 1),        TS_I(ST, 12, 0, COUNT),    TS_I(SLTI, 11, 12, LIMIT),
    TS_I(BNE, 11, 0, 1),          TS_J(HALT, 0),             TS_I(IN, 11, 0, PORT_CONSOLE_IN),
    TS_I(OUT, 12, 0, PORT_CONSOLE_OUT),
    TS_I(SLTI, 11, 13, CAUSE_SVC), TS_I(BEQ, 11, 0, 3),      TS_I(LD, 10, 0, 1),
    TS_I(ADDI, 10, 10, 1),        TS_I(ST, 10, 0, 1),
    TS_I(ANDI, 11, 12, 15),
    /* a page-table entry rewritten, and the flush the rule asks for */
    TS_I(LD, 13, 11, T_PADDR),    TS_I(BEQ, 13, 0, 3),       TS_I(LD, 10, 11, T_PVAL),
    TS_I(ST, 10, 13, 0),          TS_J(TLBFLUSH, 0),
    TS_I(LD, 10, 0, 0),           TS_I(LD, 13, 11, T_FLAGS), TS_R(XOR, 10, 10, 13),
    TS_I(ST, 10, 0, 0),           TS_I(ANDI, 13, 10, PSW_PG),
    TS_I(LD, 10, 11, T_BASE),     TS_I(BEQ, 13, 0, 1),       TS_I(LD, 10, 11, T_ROOT),
    TS_I(ST, 10, 0, 2),           TS_I(LD, 10, 11, T_BOUND), TS_I(BEQ, 13, 0, 1),
    TS_I(LD, 10, 11, T_PBOUND),   TS_I(ST, 10, 0, 3),        TS_I(LD, 10, 11, T_TIMER),
    TS_I(ST, 10, 0, 4),           TS_I(LPSW, 0, 0, 0),
};

/* A random page-table entry for vpn i: mostly a user frame (0x10 + i % 16),
 * writable; else invalid with its other bits kept, read-only, a frame past
 * memory (the first, 0xfff or 0xffffff), frame 0, the last (partial) frame,
 * or the frame of the tables themselves: read-only, so that user code
 * never writes an entry (only the kernel does, and flushes). */
static uint32_t random_pte(uint64_t *s, uint32_t i, bool paging, bool tables_writable)
{
    uint64_t x = rnd(s);
    uint32_t pte = (0x10 + (i & 15)) << 8 | PTE_V | PTE_W;
    if (x % 11 == 0) pte &= ~PTE_V;
    if ((x >> 8) % 7 == 0) pte &= ~PTE_W;
    if ((x >> 16) % 29 == 0) pte = 0xfffu << 8 | PTE_V | PTE_W;
    if ((x >> 24) % 53 == 0) pte = 0u << 8 | PTE_V;
    if (!paging) return pte;
    switch ((x >> 32) % 24) {
    case 0: pte = 0x40u << 8 | PTE_V; break;                             /* past memory */
    case 1: pte = 0x40u << 8 | PTE_V | PTE_W; break;
    case 2: pte = 0x3fu << 8 | PTE_V; break;                              /* partial frame */
    case 3: pte = (0x30u + (uint32_t)(x >> 40) % 3) << 8 | PTE_V | (tables_writable ? PTE_W : 0);
        break; /* the tables */
    case 4: pte = 0xffffffu << 8 | PTE_V | (uint32_t)(x >> 44) % 2 * PTE_W; break;
    case 5: pte = (uint32_t)(x >> 40) & ~(uint32_t)PTE_V; break;         /* invalid, wild */
    default: break;
    }
    return pte;
}

static struct machine *random_guest_mode(const char *variant, uint64_t seed, bool paging,
                                         bool tables_writable)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x1234567;
    if (paging) s ^= 0x5bd1e995u;
    struct isa_variant var = test_support_variant(variant);
    const uint32_t mem = paging ? PMEM : MEM;
    struct machine *m = machine_create(mem, &var);
    cr_assert_not_null(m);
    uint32_t *e = machine_memory(m);
    struct psw h = {PSW_M, HANDLER, 0, mem, 0};
    if (paging) h = (struct psw){PSW_M | PSW_PG, HANDLER, KTAB, KFRAMES, 0};
    uint64_t kind = rnd(&s) % 40;
    if (kind == 0) h.bound = paging ? 1 : HANDLER; /* the first trap is a machine check */
    if (kind != 1) isa_psw_to_words(&h, e + TRAP_NEW_PSW); /* else: no handler */
    if (paging) memcpy(e + HANDLER, paged_handler, sizeof paged_handler);
    else memcpy(e + HANDLER, handler, sizeof handler);
    memcpy(e + PRELUDE, prelude, sizeof prelude);

    static const uint32_t bases[] = {USER, USER, USER, USER, USER - 0x40, MEM - 0x80, 0, MEM + 0x100};
    static const uint32_t bounds[] = {0x1000, 0x1000, 0x1000, 0x200, 0x3000, 0x100000, 0x180, 0};
    static const uint32_t pbounds[] = {16, 16, 16, 12, 32, 0x1000};
    /* paged: within one table, into the next ones, past a shadow's capacity */
    static const uint32_t ppbounds[] = {16, 16, 32, 64, 0x120, 0x1000};
    for (uint32_t i = 0; i < 16; i++) {
        uint64_t x = rnd(&s);
        uint32_t mask = 0;
        if (x % 5 == 0) mask |= PSW_M;
        if ((x >> 4) % 3 == 0) mask |= PSW_IE;
        if ((x >> 8) % 6 == 0) mask |= PSW_PG;
        if ((x >> 12) % 9 == 0) mask |= PSW_TP;
        e[T_FLAGS + i] = mask;
        e[T_BASE + i] = bases[(x >> 16) % 8];
        e[T_BOUND + i] = bounds[(x >> 20) % 8];
        e[T_PBOUND + i] = (paging ? ppbounds : pbounds)[(x >> 24) % 6];
        e[T_TIMER + i] = (x >> 28) % 3 ? (uint32_t)((x >> 32) % 61) : 0;
        if (!paging) continue;
        uint64_t y = rnd(&s);
        const uint32_t k = (uint32_t)(y % NROOTS);
        e[T_ROOT + i] = proots[k];
        /* half the traps rewrite an entry: of one of the tables (past the
         * capacity, for the first; only those inside memory, for the last) */
        const uint32_t vpn = (uint32_t)(y >> 8) % (k == 0 && (y >> 20) % 4 == 0 ? 0x120 : 0x40);
        const uint32_t at = k == NROOTS - 1 ? proots[k] + vpn % (PMEM - proots[k]) : proots[k] + vpn;
        e[T_PADDR + i] = (y >> 16) % 2 ? at : 0;
        e[T_PVAL + i] = random_pte(&s, vpn, true, tables_writable);
    }
    /* vpn i -> frame 0x10 + i, with holes, read-only pages, and frames past
     * memory or over the kernel.  Paging: every table's words from the first
     * root to PTABS_END, and the last table's words inside memory. */
    if (!paging) {
        for (uint32_t i = 0; i < 32; i++) e[PTAB + i] = random_pte(&s, i, false, false);
    } else {
        for (uint32_t a = proots[0]; a < PTABS_END; a++)
            e[a] = random_pte(&s, a & 0x3f, true, tables_writable);
        for (uint32_t a = proots[NROOTS - 1]; a < PMEM; a++)
            e[a] = random_pte(&s, a - proots[NROOTS - 1], true, tables_writable);
        for (uint32_t f = 0; f < KFRAMES; f++) e[KTAB + f] = f << 8 | PTE_V | PTE_W;
    }
    for (uint32_t i = 0; i < CODE_LEN; i++) e[USER + 0x100 + i] = random_insn(&s);
    if (tables_writable) {
        /* Every table maps the first tables' frame at vpn 15, writable, and
         * the code stores into entry 2 of the table at 0x3000 (through vpn
         * 15) and loads through vpn 2 at once: relying on the change when
         * that table is the one running. */
        for (uint32_t k = 0; k + 1 < NROOTS; k++) e[proots[k] + 15] = 0x30u << 8 | PTE_V | PTE_W;
        for (unsigned n = 0; n < 8; n++) {
            const uint32_t at = (uint32_t)(rnd(&s) % (CODE_LEN - 1));
            e[USER + 0x100 + at] = TS_I(ST, 5, 0, 0xf02);
            e[USER + 0x100 + at + 1] = TS_I(LD, 6, 0, 0x200);
        }
    }
    e[USER + 0x100 + CODE_LEN] = TS_J(JMP, 0x100);
    for (uint32_t i = 0; i < 0x100; i++) e[USER + i] = (uint32_t)rnd(&s) % 0x1200;

    uint64_t x = rnd(&s);
    uint32_t flags = (x % 4 == 0 ? PSW_M : 0) | ((x >> 4) % 2 ? PSW_IE : 0) |
                     ((x >> 8) % 4 == 0 ? PSW_PG : 0);
    struct psw start = {flags, 0x100, flags & PSW_PG ? (paging ? proots[0] : PTAB) : USER,
                        flags & PSW_PG ? 16u : 0x1000u, (uint32_t)((x >> 16) % 50)};
    isa_psw_to_words(&start, e + START);
    machine_reset(m, PRELUDE);
    for (unsigned r = 1; r < ISA_NREGS; r++) {
        uint64_t y = rnd(&s);
        machine_set_reg(m, r, y % 2 ? (uint32_t)(y >> 8) % 0x1100 : (uint32_t)(y >> 16));
    }
    return m;
}

static struct machine *random_guest(const char *variant, uint64_t seed)
{
    return random_guest_mode(variant, seed, false, false);
}

static struct machine *random_paged_guest(uint64_t seed)
{
    return random_guest_mode("pg", seed, true, false);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/* What the guests of one test did, summed: the generator must reach
 * every trap cause, both placements and several stop reasons. */
struct coverage {
    uint64_t traps[CAUSE_COUNT], direct, interpreted, emulated, stops[MACHINE_STOPPED + 1];
};

/*
 * The critical generator (for bt): the same guests with pushf, popf and srr
 * sprinkled over the code, which runs in supervisor and user mode, and
 * self-modifying code: pairs that load an instruction word (critical ones
 * half the time) from a data table and store it over a word of the code,
 * which has run already and runs again at the loop's jump back.
 */
#define SMC_WORDS 0xe0u /* virtual: the table of words the code stores */
static struct machine *random_critical_guest(const char *variant, uint64_t seed)
{
    struct machine *m = random_guest(variant, seed);
    uint32_t *e = machine_memory(m);
    uint64_t s = seed * 0x9e3779b97f4a7c15u + 0x5eed;
    static const uint8_t critical[] = {ISA_PUSHF, ISA_POPF, ISA_SRR};
    uint32_t words[16];
    for (unsigned k = 0; k < 16; k++) {
        uint64_t x = rnd(&s);
        const uint8_t op = critical[(x >> 8) % 3];
        const unsigned a = (x >> 16) % 10, b = (x >> 20) % 10;
        words[k] = op == ISA_SRR ? isa_make_r(op, a, b, 0) : isa_make_i(op, a, 0, 0);
    }
    for (unsigned n = 0; n < 24; n++)
        e[USER + 0x100 + rnd(&s) % CODE_LEN] = words[rnd(&s) % 16];
    for (unsigned k = 0; k < 16; k++) e[USER + SMC_WORDS + k] = k % 2 ? words[k] : random_insn(&s);
    for (unsigned n = 0; n < 8; n++) {
        const uint32_t at = (uint32_t)(rnd(&s) % (CODE_LEN - 1));
        e[USER + 0x100 + at] = TS_I(LD, 7, 0, SMC_WORDS + rnd(&s) % 16);
        e[USER + 0x100 + at + 1] = TS_I(ST, 7, 0, 0x100 + rnd(&s) % CODE_LEN);
    }
    return m;
}

static void run_seeds_of(struct machine *(*make)(const char *, uint64_t), const char *variant,
                         const enum vmm_mode *modes, size_t nmodes, uint64_t dflt,
                         struct coverage *cov)
{
    const uint64_t first = env_u64("TRAPEZE_VMM_SEED_FIRST", 1);
    const uint64_t count = env_u64("TRAPEZE_VMM_SEEDS", dflt);
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct machine *m = make(variant, seed);
        char what[64];
        snprintf(what, sizeof what, "%s seed %llu", variant, (unsigned long long)seed);
        for (size_t i = 0; i < nmodes; i++) {
            struct vmm *v = tv_check_equivalent(m, modes[i], 1, STEPS, "typed input", what);
            const struct vmm_stats *st = vmm_guest_stats(v, 0);
            for (unsigned c = 0; c < CAUSE_COUNT; c++) cov->traps[c] += st->traps[c];
            cov->direct += st->direct;
            cov->interpreted += st->interpreted;
            cov->emulated += st->emulated;
            cov->stops[vmm_guest_stop(v, 0)]++;
            vmm_destroy(v);
        }
        machine_destroy(m);
    }
}

static void run_seeds(const char *variant, const enum vmm_mode *modes, size_t nmodes, uint64_t dflt,
                      struct coverage *cov)
{
    run_seeds_of(random_guest, variant, modes, nmodes, dflt, cov);
}

/* pg is virtualizable: every mode is exact. */
Test(vmm_random, pg_te, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds("pg", (enum vmm_mode[]){VMM_TE}, 1, 1500, &cov);
    if (env_u64("TRAPEZE_VMM_SEEDS", 1500) < 1000) return;
    for (unsigned c = 1; c < CAUSE_COUNT; c++)
        cr_assert_gt(cov.traps[c], 10, "the random guests took %llu %s traps",
                     (unsigned long long)cov.traps[c], isa_cause_name(c));
    cr_assert_gt(cov.direct, cov.emulated, "most instructions ran directly");
    cr_assert_eq(cov.interpreted, 0, "te runs paging guests directly too");
    cr_assert_gt(cov.stops[MACHINE_HALT], 10);
    cr_assert_gt(cov.stops[MACHINE_BUDGET], 10);
    cr_assert_gt(cov.stops[MACHINE_CHECK] + cov.stops[MACHINE_UNHANDLED_TRAP], 0);
}
/* The same guests under te's other shadow policies (they run unpaged and
 * on one small table: the policies' common cases). */
Test(vmm_random, pg_te_rebuild_lazy, .timeout = 120)
{
    const uint64_t count = env_u64("TRAPEZE_VMM_SEEDS", 1000);
    const uint64_t first = env_u64("TRAPEZE_VMM_SEED_FIRST", 1);
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct machine *m = random_guest("pg", seed);
        char what[64];
        snprintf(what, sizeof what, "pg seed %llu", (unsigned long long)seed);
        vmm_destroy(tv_check_equivalent_with(m, VMM_TE, VMM_SHADOW_REBUILD, 1, STEPS,
                                             "typed input", what));
        vmm_destroy(tv_check_equivalent_with(m, VMM_TE, VMM_SHADOW_LAZY, 1, STEPS,
                                             "typed input", what));
        machine_destroy(m);
    }
}

/* The paging mode, under te with every shadow policy: every guest
 * equivalent each time, and each policy's mechanism exercised. */
Test(vmm_random, paging_every_policy, .timeout = 120)
{
    const uint64_t dflt = 1500;
    const uint64_t count = env_u64("TRAPEZE_VMM_SEEDS", dflt);
    const uint64_t first = env_u64("TRAPEZE_VMM_SEED_FIRST", 1);
    struct vmm_shadow_stats sum[VMM_SHADOW_POLICY_COUNT];
    uint64_t traps[CAUSE_COUNT] = {0}, direct = 0, emulated = 0, interpreted = 0, paged_mem = 0;
    memset(sum, 0, sizeof sum);
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct machine *m = random_paged_guest(seed);
        char what[64];
        snprintf(what, sizeof what, "paging seed %llu", (unsigned long long)seed);
        for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
            struct vmm *v = tv_check_equivalent_with(m, VMM_TE, (enum vmm_shadow_policy)p, 1,
                                                     STEPS, "typed input", what);
            const struct vmm_shadow_stats *sh = vmm_guest_shadow_stats(v, 0);
            struct vmm_shadow_stats *t = &sum[p];
            t->hidden_faults += sh->hidden_faults;
            t->true_faults += sh->true_faults;
            t->pte_writes += sh->pte_writes;
            t->rebuilds += sh->rebuilds;
            t->fills += sh->fills;
            t->drops += sh->drops;
            t->verifies += sh->verifies;
            t->interpreted += sh->interpreted;
            t->flushes += sh->flushes;
            if (p == VMM_SHADOW_TRACE) {
                const struct vmm_stats *st = vmm_guest_stats(v, 0);
                for (unsigned c = 0; c < CAUSE_COUNT; c++) traps[c] += st->traps[c];
                direct += st->direct;
                emulated += st->emulated;
                interpreted += st->interpreted;
                paged_mem += sh->true_faults;
            }
            vmm_destroy(v);
        }
        /* The rule every policy relies on: kept (the bare machine watches it). */
        struct machine *b = machine_clone(m);
        machine_feed_input(b, (const uint8_t *)"typed input", 11);
        machine_run(b, STEPS);
        cr_assert_eq(machine_stats(b)->stale_pte_uses, 0, "%s relied on a changed entry without a flush",
                     what);
        machine_destroy(b);
        machine_destroy(m);
    }
    if (count < dflt) return;
    for (unsigned c = 1; c < CAUSE_COUNT; c++)
        cr_assert_gt(traps[c], 10, "the paging guests took %llu %s traps",
                     (unsigned long long)traps[c], isa_cause_name(c));
    cr_assert_gt(direct, emulated, "most instructions ran directly, paged ones too");
    cr_assert_gt(interpreted, 0, "pages past the capacity and the partial frame: interpreted");
    cr_assert_gt(paged_mem, 1000, "true faults of paged code: %llu", (unsigned long long)paged_mem);
    for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++) {
        const char *name = vmm_shadow_policy_name((enum vmm_shadow_policy)p);
        cr_assert_gt(sum[p].hidden_faults, 100, "%s: hidden faults", name);
        cr_assert_gt(sum[p].interpreted, 100, "%s: instructions no entry expresses", name);
        cr_assert_gt(sum[p].flushes, 1000, "%s: flushes", name);
    }
    const struct vmm_shadow_stats *t = &sum[VMM_SHADOW_TRACE];
    cr_assert_gt(t->pte_writes, 100, "trace: the kernel's stores into its tables trapped: %llu",
                 (unsigned long long)t->pte_writes);
    cr_assert_gt(t->verifies, 100, "trace: tables verified after unpaged code");
    cr_assert_gt(t->rebuilds, count * NROOTS, "trace: more tables than it keeps: evictions");
    cr_assert_gt(sum[VMM_SHADOW_REBUILD].rebuilds, t->rebuilds, "rebuild: at every flush");
    cr_assert_gt(sum[VMM_SHADOW_LAZY].fills, 1000, "lazy: fills");
    cr_assert_gt(sum[VMM_SHADOW_LAZY].drops, 1000, "lazy: drops");
    cr_assert_eq(sum[VMM_SHADOW_LAZY].rebuilds + sum[VMM_SHADOW_REBUILD].pte_writes +
                 sum[VMM_SHADOW_LAZY].pte_writes, 0, "only trace traps PTE writes, lazy rebuilds nothing");
}

/* Guests that break ISA.md's rule: their user code may write its page
 * tables (the tables' frames mapped writable) and use the new entries
 * without a flush (pairs of a store into an entry and a load through it
 * are planted in the code).  trace syncs each such store as it happens, so it is
 * exact even then (the other policies need not be; test_vmm_shadow.c has
 * a guest on which they differ). */
Test(vmm_random, paging_rule_breakers_under_trace, .timeout = 120)
{
    const uint64_t dflt = 1000;
    const uint64_t count = env_u64("TRAPEZE_VMM_SEEDS", dflt);
    const uint64_t first = env_u64("TRAPEZE_VMM_SEED_FIRST", 1);
    uint64_t pte_writes = 0, broken = 0;
    for (uint64_t seed = first; seed < first + count; seed++) {
        struct machine *m = random_guest_mode("pg", seed, true, true);
        char what[64];
        snprintf(what, sizeof what, "rule-breaking paging seed %llu", (unsigned long long)seed);
        struct vmm *v = tv_check_equivalent_with(m, VMM_TE, VMM_SHADOW_TRACE, 1, STEPS,
                                                 "typed input", what);
        pte_writes += vmm_guest_shadow_stats(v, 0)->pte_writes;
        vmm_destroy(v);
        struct machine *b = machine_clone(m);
        machine_feed_input(b, (const uint8_t *)"typed input", 11);
        machine_run(b, STEPS);
        broken += machine_pte_rule_broken(b, NULL);
        machine_destroy(b);
        machine_destroy(m);
    }
    if (count < dflt) return;
    cr_assert_gt(pte_writes, 1000, "trace: stores into the tables trapped");
    cr_assert_gt(broken, 10, "%llu guests relied on a changed entry without a flush",
                 (unsigned long long)broken);
}

/* Four guests made by make(seed * 4 + g), each with its own memory of mem
 * words, run at once under policy with a slice short enough that they
 * interleave often: each must be equivalent to its own bare run, and the
 * real memory outside them untouched. */
static void four_at_once(struct machine *(*make)(uint64_t seed), size_t mem, uint64_t seed,
                         enum vmm_shadow_policy policy, const char *what)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm_config cfg = {VMM_TE, &pg, mem, 4, 97, policy};
    struct vmm *v = vmm_create(&cfg);
    cr_assert_not_null(v);
    struct machine *bare[4];
    for (unsigned g = 0; g < 4; g++) {
        struct machine *m = make(seed * 4 + g);
        memcpy(vmm_guest_memory(v, g), machine_memory(m), mem * sizeof(uint32_t));
        struct psw ps = machine_psw(m);
        vmm_guest_set_psw(v, g, &ps);
        for (unsigned r = 1; r < ISA_NREGS; r++) vmm_guest_set_reg(v, g, r, machine_reg(m, r));
        vmm_feed_input(v, g, (const uint8_t *)"typed input", 11);
        machine_feed_input(m, (const uint8_t *)"typed input", 11);
        bare[g] = m;
    }
    vmm_set_step_limit(v, STEPS);
    vmm_run(v, UINT64_MAX);
    for (unsigned g = 0; g < 4; g++) {
        enum machine_stop bs = machine_run(bare[g], STEPS);
        char why[256];
        cr_assert(tv_same(bare[g], bs, v, g, why, sizeof why), "%s seed %llu guest %u, %s: %s", what,
                  (unsigned long long)seed, g, vmm_shadow_policy_name(policy), why);
        machine_destroy(bare[g]);
    }
    cr_assert(tv_canaries_intact(v));
    vmm_destroy(v);
}

static struct machine *random_pg_guest(uint64_t seed) { return random_guest("pg", seed); }

/* Four paging guests at once under each policy: each guest's shadow tables
 * are its own. */
Test(vmm_random, paging_four_at_once, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 20; seed++)
        for (unsigned p = 0; p < VMM_SHADOW_POLICY_COUNT; p++)
            four_at_once(random_paged_guest, PMEM, seed, (enum vmm_shadow_policy)p, "paging");
}

Test(vmm_random, pg_hvm_interp, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds("pg", (enum vmm_mode[]){VMM_HVM, VMM_INTERP}, 2, 400, &cov);
}
/* hybrid: the hybrid VMM and the interpreter are exact. */
Test(vmm_random, hybrid_hvm_interp, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds("hybrid", (enum vmm_mode[]){VMM_HVM, VMM_INTERP}, 2, 400, &cov);
}
/* x86like: only the interpreter is, and hardware assist. */
Test(vmm_random, x86like_interp, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds("x86like", (enum vmm_mode[]){VMM_INTERP, VMM_HW, VMM_HW_SLT}, 3, 400, &cov);
}

/* bt is exact on every variant: hybrid, x86like, pg. */
Test(vmm_random, bt, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds("x86like", (enum vmm_mode[]){VMM_BT}, 1, 400, &cov);
    run_seeds("hybrid", (enum vmm_mode[]){VMM_BT}, 1, 400, &cov);
    run_seeds("pg", (enum vmm_mode[]){VMM_BT}, 1, 200, &cov);
    cr_assert_gt(cov.emulated, cov.direct, "under bt most instructions ran translated");
}

/* The critical generator: pushf, popf, srr in both modes and self-modifying
 * code, under bt (and the interpreter, which is exact by construction). */
Test(vmm_random, critical_and_self_modifying_bt, .timeout = 120)
{
    struct coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seeds_of(random_critical_guest, "x86like", (enum vmm_mode[]){VMM_BT, VMM_INTERP}, 2, 300,
                 &cov);
    run_seeds_of(random_critical_guest, "hybrid", (enum vmm_mode[]){VMM_BT, VMM_HVM}, 2, 300, &cov);
}

/* The machine tests' own random programs, as guests (a second generator). */
Test(vmm_random, support_programs, .timeout = 120)
{
    const uint64_t count = env_u64("TRAPEZE_VMM_SEEDS", 300);
    for (uint64_t seed = 1; seed <= count; seed++) {
        struct machine *m = test_support_machine("pg");
        test_support_random_program(m, seed);
        /* m already holds its input; the guest gets the same. */
        struct vmm *v = tv_mirror(m, VMM_TE, 1, TEST_SUPPORT_RANDOM_INPUT);
        enum machine_stop bs = machine_run(m, 3000);
        vmm_set_step_limit(v, 3000);
        vmm_run(v, UINT64_MAX);
        char why[256];
        cr_assert(tv_same(m, bs, v, 0, why, sizeof why), "support seed %llu: %s",
                  (unsigned long long)seed, why);
        vmm_destroy(v);
        machine_destroy(m);
    }
}

/* Four random guests at once. */
Test(vmm_random, four_at_once, .timeout = 120)
{
    for (uint64_t seed = 1; seed <= 60; seed++)
        four_at_once(random_pg_guest, MEM, seed, VMM_SHADOW_TRACE, "pg");
}
