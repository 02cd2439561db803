/*
 * test_machine_batch.c: differential tests of the interpreter.
 *
 * 1. Against a reference model: a deliberately naive, one-instruction-at-a-
 *    time transcription of ISA.md below (no batches, no fast path), run side
 *    by side with the machine on random programs, compared after every step.
 * 2. Against itself: the same random program run with one machine_run of a
 *    big budget, with machine_step repeated, in random chunks, and with an
 *    observer set, must end in identical states (registers, PSW, memory,
 *    stats, console, last trap).  This catches any batching bug of the
 *    interpreter's SYNC logic (timer, budget, pc write-back).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

/* ---- The reference model ------------------------------------------------------ */

struct model {
    uint32_t r[ISA_NREGS];
    struct psw psw;
    uint32_t *mem;
    size_t memsize;
    const struct isa_variant *v;
    const uint8_t *in;
    size_t in_len, in_pos;
    uint8_t out[1 << 16];
    size_t out_len;
    uint32_t ctrl;
    enum machine_stop state; /* MACHINE_BUDGET while it can run */
    uint64_t retired, traps[CAUSE_COUNT];
};

static void model_set(struct model *md, unsigned r, uint32_t v)
{
    if (r != 0) md->r[r] = v; /* writes to r0 are dropped */
}

/* ISA.md "Address translation". */
static bool model_xlate(const struct model *md, const struct psw *p, uint32_t va, bool store,
                        uint32_t *pa, unsigned *detail)
{
    uint64_t phys;
    if (!(p->flags & PSW_PG)) {
        if (!(va < p->bound)) return *detail = 0, false;
        phys = (uint64_t)p->base + va;
    } else {
        uint32_t vpn = va / 256, off = va % 256;
        if (!(vpn < p->bound)) return *detail = 0, false;
        uint64_t pte_at = (uint64_t)p->base + vpn;
        if (pte_at >= md->memsize) return *detail = 3, false;
        uint32_t pte = md->mem[pte_at];
        if (!(pte & 1)) return *detail = 1, false;
        if (store && !(pte & 2)) return *detail = 2, false;
        phys = (uint64_t)(pte >> 8) * 256 + off;
    }
    if (phys >= md->memsize) return *detail = 3, false;
    *pa = (uint32_t)phys;
    return true;
}

/* ISA.md "Traps and interrupts". */
static void model_trap(struct model *md, unsigned cause, unsigned detail, uint32_t value,
                       uint32_t saved_pc)
{
    md->psw.pc = saved_pc;
    if (cause == CAUSE_TIMER) md->psw.flags &= ~(uint32_t)PSW_TP;
    uint32_t *e = md->mem;
    e[0] = md->psw.flags, e[1] = md->psw.pc, e[2] = md->psw.base, e[3] = md->psw.bound,
    e[4] = md->psw.timer;
    e[5] = cause | detail << 8;
    e[6] = value;
    bool zero = !(e[8] | e[9] | e[10] | e[11] | e[12]);
    md->psw = (struct psw){e[8] & 15, e[9], e[10], e[11], e[12]};
    md->traps[cause]++;
    uint32_t pa;
    unsigned d;
    if (zero) md->state = MACHINE_UNHANDLED_TRAP;
    else if (!model_xlate(md, &md->psw, md->psw.pc, false, &pa, &d)) md->state = MACHINE_CHECK;
}

static uint32_t model_in(struct model *md, uint32_t port)
{
    if (port == 1) return md->in_pos < md->in_len ? md->in[md->in_pos++] : 0xffffffffu;
    return 0;
}

static void model_out(struct model *md, uint32_t port, uint32_t v)
{
    if (port == 0 && md->out_len < sizeof md->out) md->out[md->out_len++] = (uint8_t)v;
    if (port == 2) md->ctrl = v & 1;
}

static void model_step(struct model *md)
{
    if (md->state != MACHINE_BUDGET) return;
    struct psw *p = &md->psw;
    uint32_t *R = md->r;
    if ((p->flags & PSW_IE) && (p->flags & PSW_TP)) return model_trap(md, CAUSE_TIMER, 0, 0, p->pc);
    if ((p->flags & PSW_IE) && (md->ctrl & 1) && md->in_pos < md->in_len)
        return model_trap(md, CAUSE_IO, 0, 1, p->pc);
    uint32_t pa, pc = p->pc;
    unsigned d;
    if (!model_xlate(md, p, pc, false, &pa, &d)) return model_trap(md, CAUSE_MEM, d, pc, pc);
    uint32_t w = md->mem[pa];
    unsigned op = w >> 24, a = (w >> 20) & 15, b = (w >> 16) & 15, c = (w >> 12) & 15;
    uint32_t zimm = w & 0xffff, simm = (uint32_t)(int32_t)(int16_t)zimm, imm24 = w & 0xffffff;
    const struct isa_op *o = isa_op_by_opcode((uint8_t)op);
    if (!o) return model_trap(md, CAUSE_ILL, 0, w, pc);
    /* The assist extension's instruction does not exist without the feature
     * (the model runs no guest mode: no variant it runs has the feature). */
    if (op == ISA_VMENTER && !(md->v->features & ISA_FEATURE_ASSIST))
        return model_trap(md, CAUSE_ILL, 0, w, pc);
    bool user = !(p->flags & PSW_M), silent = false;
    if (user && (o->flags & ISA_F_SYSTEM)) {
        if (md->v->user_action[op] == USER_TRAP) return model_trap(md, CAUSE_PRIV, 0, w, pc);
        silent = md->v->user_action[op] == USER_SILENT;
    }
    int32_t sb = (int32_t)R[b], sc = (int32_t)R[c], sa = (int32_t)R[a];
    uint32_t next = pc + 1;
    bool counts = true;
    switch (op) {
    case ISA_ADD: model_set(md, a, R[b] + R[c]); break;
    case ISA_SUB: model_set(md, a, R[b] - R[c]); break;
    case ISA_MUL: model_set(md, a, (uint32_t)((uint64_t)R[b] * R[c])); break;
    case ISA_DIV:
    case ISA_REM:
        if (R[c] == 0) return model_trap(md, CAUSE_DIV, 0, 0, pc);
        if (sb == INT32_MIN && sc == -1) model_set(md, a, op == ISA_DIV ? R[b] : 0);
        else model_set(md, a, (uint32_t)(op == ISA_DIV ? sb / sc : sb % sc));
        break;
    case ISA_AND: model_set(md, a, R[b] & R[c]); break;
    case ISA_OR: model_set(md, a, R[b] | R[c]); break;
    case ISA_XOR: model_set(md, a, R[b] ^ R[c]); break;
    case ISA_SHL: model_set(md, a, R[b] << (R[c] % 32)); break;
    case ISA_SHR: model_set(md, a, R[b] >> (R[c] % 32)); break;
    case ISA_SRA: model_set(md, a, (uint32_t)(sb >> (R[c] % 32))); break;
    case ISA_SLT: model_set(md, a, sb < sc); break;
    case ISA_SLTU: model_set(md, a, R[b] < R[c]); break;
    case ISA_ADDI: model_set(md, a, R[b] + simm); break;
    case ISA_ANDI: model_set(md, a, R[b] & zimm); break;
    case ISA_ORI: model_set(md, a, R[b] | zimm); break;
    case ISA_XORI: model_set(md, a, R[b] ^ zimm); break;
    case ISA_SHLI: model_set(md, a, R[b] << (simm % 32)); break;
    case ISA_SHRI: model_set(md, a, R[b] >> (simm % 32)); break;
    case ISA_SRAI: model_set(md, a, (uint32_t)(sb >> (simm % 32))); break;
    case ISA_SLTI: model_set(md, a, sb < (int32_t)simm); break;
    case ISA_LUI: model_set(md, a, zimm << 16); break;
    case ISA_LD:
    case ISA_ST: {
        uint32_t va = R[b] + simm;
        if (!model_xlate(md, p, va, op == ISA_ST, &pa, &d)) return model_trap(md, CAUSE_MEM, d, va, pc);
        if (op == ISA_LD) model_set(md, a, md->mem[pa]);
        else md->mem[pa] = R[a];
        break;
    }
    case ISA_BEQ: if (R[a] == R[b]) next = pc + 1 + simm; break;
    case ISA_BNE: if (R[a] != R[b]) next = pc + 1 + simm; break;
    case ISA_BLT: if (sa < sb) next = pc + 1 + simm; break;
    case ISA_BGE: if (sa >= sb) next = pc + 1 + simm; break;
    case ISA_BLTU: if (R[a] < R[b]) next = pc + 1 + simm; break;
    case ISA_BGEU: if (R[a] >= R[b]) next = pc + 1 + simm; break;
    case ISA_JMP: next = imm24; break;
    case ISA_CALL: model_set(md, 15, pc + 1); next = imm24; break;
    case ISA_JR: next = R[a]; break;
    case ISA_CALLR: next = R[a]; model_set(md, 15, pc + 1); break;
    case ISA_SVC: return model_trap(md, CAUSE_SVC, 0, simm, pc + 1);
    case ISA_HCALL: return model_trap(md, CAUSE_HCALL, 0, simm, pc + 1);
    case ISA_HALT:
        if (!silent) md->state = MACHINE_HALT;
        break;
    case ISA_LPSW: {
        uint32_t words[5];
        for (uint32_t i = 0; i < 5; i++) {
            uint32_t va = R[b] + simm + i;
            if (!model_xlate(md, p, va, false, &pa, &d)) return model_trap(md, CAUSE_MEM, d, va, pc);
            words[i] = md->mem[pa];
        }
        if (!silent) {
            counts = false; /* lpsw sets the timer; a silent one sets nothing and counts */
            struct psw n = {words[0] & 15, words[1], words[2], words[3], words[4]};
            if (user) {
                n.flags = (n.flags & ~(uint32_t)(PSW_M | PSW_PG)) | (p->flags & (PSW_M | PSW_PG));
                n.base = p->base, n.bound = p->bound;
            }
            *p = n;
            next = n.pc;
        }
        break;
    }
    case ISA_PUSHF: model_set(md, a, p->flags); break;
    case ISA_POPF:
        if (!silent) p->flags = (p->flags & ~(uint32_t)PSW_IE) | (R[a] & PSW_IE);
        break;
    case ISA_SRR: {
        uint32_t base = p->base, bound = p->bound;
        model_set(md, a, base);
        model_set(md, b, bound);
        break;
    }
    case ISA_STMR:
        if (!silent) p->timer = R[a], counts = false;
        break;
    case ISA_RTMR: model_set(md, a, p->timer); break;
    case ISA_IN: model_set(md, a, silent ? 0 : model_in(md, simm)); break;
    case ISA_OUT:
        if (!silent) model_out(md, simm, R[a]);
        break;
    case ISA_TLBFLUSH: break;
    default: cr_assert_fail("model: opcode 0x%x of the table is not modelled", op);
    }
    p->pc = next;
    md->retired++;
    if (counts && p->timer > 0 && --p->timer == 0) p->flags |= PSW_TP;
}

static void model_init(struct model *md, const struct machine *m)
{
    memset(md, 0, sizeof *md);
    md->memsize = machine_memsize(m);
    md->mem = malloc(md->memsize * sizeof *md->mem);
    memcpy(md->mem, machine_memory_const(m), md->memsize * sizeof *md->mem);
    for (unsigned r = 0; r < ISA_NREGS; r++) md->r[r] = machine_reg(m, r);
    md->psw = machine_psw(m);
    md->v = machine_variant(m);
    md->in = (const uint8_t *)TEST_SUPPORT_RANDOM_INPUT;
    md->in_len = strlen(TEST_SUPPORT_RANDOM_INPUT);
    md->state = MACHINE_BUDGET;
}

static void model_compare(const struct model *md, const struct machine *m, bool with_memory,
                          const char *ctx, uint64_t step)
{
    for (unsigned r = 0; r < ISA_NREGS; r++)
        cr_assert_eq(machine_reg(m, r), md->r[r], "%s step %llu: r%u machine 0x%x model 0x%x", ctx,
                     (unsigned long long)step, r, machine_reg(m, r), md->r[r]);
    struct psw p = machine_psw(m);
    cr_assert(memcmp(&p, &md->psw, sizeof p) == 0,
              "%s step %llu: PSW machine {%x %x %x %x %x} model {%x %x %x %x %x}", ctx,
              (unsigned long long)step, p.flags, p.pc, p.base, p.bound, p.timer, md->psw.flags,
              md->psw.pc, md->psw.base, md->psw.bound, md->psw.timer);
    cr_assert_eq(machine_state(m), md->state, "%s step %llu: state %s vs %s", ctx,
                 (unsigned long long)step, machine_stop_name(machine_state(m)),
                 machine_stop_name(md->state));
    cr_assert_eq(machine_stats(m)->retired, md->retired, "%s step %llu: retired", ctx,
                 (unsigned long long)step);
    for (int c = 0; c < CAUSE_COUNT; c++)
        cr_assert_eq(machine_stats(m)->traps[c], md->traps[c], "%s step %llu: traps of cause %d",
                     ctx, (unsigned long long)step, c);
    cr_assert_eq(machine_input_pending(m), md->in_len - md->in_pos);
    if (!with_memory) return;
    const uint32_t *e = machine_memory_const(m);
    for (size_t i = 0; i < md->memsize; i++)
        cr_assert_eq(e[i], md->mem[i], "%s step %llu: E[0x%zx] machine 0x%x model 0x%x", ctx,
                     (unsigned long long)step, i, e[i], md->mem[i]);
    size_t len;
    const uint8_t *out = machine_output(m, &len);
    cr_assert(len == md->out_len && memcmp(out, md->out, len) == 0, "%s: console output", ctx);
}

/* The variants the random programs run under. */
static const char *const variant_texts[] = {
    "variant p\nbase pg\n",
    "variant h\nbase hybrid\n",
    "variant x\nbase x86like\n",
    "variant e\nuser halt exec\nuser lpsw exec\nuser pushf exec\nuser popf exec\nuser srr exec\n"
    "user stmr exec\nuser rtmr exec\nuser in exec\nuser out exec\nuser tlbflush exec\n",
    "variant s\nuser halt silent\nuser lpsw silent\nuser pushf silent\nuser popf silent\n"
    "user srr silent\nuser stmr silent\nuser rtmr silent\nuser in silent\nuser out silent\n"
    "user tlbflush silent\n",
};
#define NVARIANTS (sizeof variant_texts / sizeof variant_texts[0])

static struct machine *random_machine(uint64_t seed, size_t variant)
{
    struct machine *m = test_support_machine_text(variant_texts[variant]);
    test_support_random_program(m, seed);
    return m;
}

Test(machine_batch, machine_follows_the_reference_model, .timeout = 120)
{
    static struct model md; /* large: keep it off the stack */
    uint64_t traps_seen[CAUSE_COUNT] = {0}, halts = 0, checks = 0, user_steps = 0;
    for (uint64_t seed = 1; seed <= 48; seed++) {
        for (size_t v = 0; v < NVARIANTS; v++) {
            struct machine *m = random_machine(seed, v);
            model_init(&md, m);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "seed %llu variant %zu", (unsigned long long)seed, v);
            for (uint64_t step = 1; step <= 3000; step++) {
                user_steps += !(machine_psw(m).flags & PSW_M);
                enum machine_stop s = machine_step(m);
                model_step(&md);
                model_compare(&md, m, step % 512 == 0, ctx, step);
                if (s != MACHINE_BUDGET) {
                    halts += s == MACHINE_HALT;
                    checks += s == MACHINE_CHECK;
                    break;
                }
            }
            model_compare(&md, m, true, ctx, 0);
            for (int c = 0; c < CAUSE_COUNT; c++) traps_seen[c] += md.traps[c];
            free(md.mem);
            machine_destroy(m);
        }
    }
    /* the random programs must exercise every cause, else this test proves little */
    for (int c = 1; c < CAUSE_COUNT; c++)
        cr_assert_gt(traps_seen[c], 0, "no random program raised cause %d", c);
    cr_assert_gt(halts, 0);
    cr_assert_gt(user_steps, 10000);
}

/* ---- Batches against single steps --------------------------------------------- */

struct count_obs {
    uint64_t n;
};

static enum machine_verdict count_before(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    (void)m, (void)pc, (void)insn;
    ((struct count_obs *)ctx)->n++;
    return MACHINE_CONTINUE;
}

static void assert_same(const struct machine *a, const struct machine *b, const char *what,
                        uint64_t seed, size_t v)
{
    char why[256];
    cr_assert(test_support_same_state(a, b, why, sizeof why), "seed %llu variant %zu, %s: %s",
              (unsigned long long)seed, v, what, why);
}

#define STEPS 6000u

Test(machine_batch, one_run_equals_single_steps_equals_observed, .timeout = 120)
{
    for (uint64_t seed = 100; seed < 140; seed++) {
        for (size_t v = 0; v < NVARIANTS; v++) {
            struct machine *big = random_machine(seed, v);
            struct machine *steps = random_machine(seed, v);
            struct machine *observed = random_machine(seed, v);
            struct machine *chunks = random_machine(seed, v);
            struct count_obs co = {0};
            struct machine_observer ob = {&co, count_before, NULL};
            machine_set_observer(observed, &ob);

            enum machine_stop sb = machine_run(big, STEPS);
            enum machine_stop ss = MACHINE_BUDGET;
            for (uint32_t i = 0; i < STEPS; i++) ss = machine_step(steps);
            enum machine_stop so = machine_run(observed, STEPS);
            uint64_t x = seed, done = 0;
            enum machine_stop sc = MACHINE_BUDGET;
            while (done < STEPS) {
                uint64_t k = test_support_rand(&x) % 97 + 1;
                if (k > STEPS - done) k = STEPS - done;
                sc = machine_run(chunks, k);
                done += k;
            }
            cr_assert_eq(sb, ss, "seed %llu: run %s, steps %s", (unsigned long long)seed,
                         machine_stop_name(sb), machine_stop_name(ss));
            cr_assert_eq(sb, so);
            cr_assert_eq(sb, sc);
            assert_same(big, steps, "one run vs single steps", seed, v);
            assert_same(big, observed, "unobserved vs observed", seed, v);
            assert_same(big, chunks, "one run vs chunks", seed, v);
            /* the observer saw every fetched instruction: the retired ones
             * and those that trapped after their fetch */
            cr_assert_geq(co.n, machine_stats(big)->retired);
            cr_assert_leq(co.n, machine_steps(big));
            machine_destroy(big);
            machine_destroy(steps);
            machine_destroy(observed);
            machine_destroy(chunks);
        }
    }
}

/* Chunks compared at every boundary with a machine that single-steps. */
Test(machine_batch, chunk_boundaries, .timeout = 120)
{
    for (uint64_t seed = 200; seed < 230; seed++) {
        size_t v = seed % NVARIANTS;
        struct machine *a = random_machine(seed, v), *b = random_machine(seed, v);
        uint64_t x = seed * 7;
        for (int i = 0; i < 150; i++) {
            uint64_t k = test_support_rand(&x) % 40;
            enum machine_stop sa = machine_run(a, k), sb = MACHINE_BUDGET;
            for (uint64_t j = 0; j < k; j++) sb = machine_step(b);
            if (k) cr_assert_eq(sa, sb);
            assert_same(a, b, "chunk boundary", seed, v);
            if (sa != MACHINE_BUDGET) break;
        }
        machine_destroy(a);
        machine_destroy(b);
    }
}

/* Timer-heavy: a loop in user mode with a timer handler that re-arms the
 * timer with varying values, run in big batches vs single steps. */
Test(machine_batch, timer_interrupts_in_batches)
{
    static const uint32_t loop[] = {TS_I(ADDI, 1, 1, 1), TS_I(ADD, 2, 2, 1), TS_J(JMP, 0x10)};
    static const uint32_t handler[] = {
        TS_I(ADDI, 5, 5, 1),   TS_I(ANDI, 6, 5, 15), TS_I(ADDI, 6, 6, 1),
        TS_I(ST, 6, 0, 4),     TS_I(LPSW, 0, 0, 0),
    };
    struct machine *ms[2];
    for (int k = 0; k < 2; k++) {
        ms[k] = test_support_machine("pg");
        test_support_poke(ms[k], 0x5000 + 0x10, loop, 3);
        test_support_poke(ms[k], TS_HANDLER, handler, 5);
        test_support_set_psw(ms[k], PSW_IE, 0x10, 0x5000, 0x100, 1);
    }
    cr_assert_eq(machine_run(ms[0], 100000), MACHINE_BUDGET);
    for (int i = 0; i < 100000; i++) machine_step(ms[1]);
    assert_same(ms[0], ms[1], "timer loop", 0, 0);
    /* r5 counts the interrupts; every timer value 1..16 was used */
    cr_assert_gt(machine_reg(ms[0], 5), 1000);
    cr_assert_eq(machine_stats(ms[0])->traps[CAUSE_TIMER], machine_reg(ms[0], 5));
    machine_destroy(ms[0]);
    machine_destroy(ms[1]);
}
