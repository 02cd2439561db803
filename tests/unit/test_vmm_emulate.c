/*
 * test_vmm_emulate.c: the interpreter routines, one per system instruction.
 *
 * Every system instruction of isa.def is executed from many states (both
 * modes, IE on and off, paging on and off, timers about to fire, console
 * input present, operands that fault) under variants that make it trap,
 * execute and do nothing in user mode, once on a bare machine and once as
 * a guest whose instruction goes through the routine: the interp mode
 * always (every system instruction reaches a routine there), te whenever
 * trap-and-emulate is exact (virtual supervisor mode, or a trapping user
 * action).  Every guest-visible word must match.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

#define MEM 0x2000u
#define CODE 0x100u
#define PSW_BLOCK 0x200u /* a PSW lpsw may load            */
#define TARGET 0x300u    /* where that PSW's pc points     */
#define HANDLER 0x400u
#define PTABLE 0x1800u   /* identity page table, 16 pages */

/* Every system instruction, from isa.def's flags, has exactly one routine. */
Test(vmm_emulate, every_system_instruction_has_a_routine)
{
    for (unsigned op = 0; op < ISA_OPCODE_SLOTS; op++) {
        const struct isa_op *d = isa_op_by_opcode((uint8_t)op);
        bool system = d && (d->flags & ISA_F_SYSTEM);
        cr_assert_eq(vmm_routine_for((uint8_t)op) != NULL, system, "opcode 0x%02x (%s)", op,
                     d ? d->mnemonic : "undefined");
    }
}

/* A variant giving every system instruction the same user action. */
static struct isa_variant uniform_variant(enum isa_user_action action)
{
    char text[2048];
    size_t len = (size_t)snprintf(text, sizeof text, "variant uniform\n");
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        if (op->flags & ISA_F_SYSTEM)
            len += (size_t)snprintf(text + len, sizeof text - len, "user %s %s\n", op->mnemonic,
                                    isa_user_action_name(action));
    }
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_parse(text, "uniform.var", &v, err), "%s", err);
    return v;
}

struct state {
    uint32_t flags, timer, r2, imm;
};

static struct machine *setup(const struct isa_variant *var, const struct isa_op *op,
                             const struct state *s)
{
    struct machine *m = machine_create(MEM, var);
    cr_assert_not_null(m);
    uint32_t *e = machine_memory(m);
    struct psw handler = {PSW_M, HANDLER, 0, MEM, 0};
    isa_psw_to_words(&handler, e + TRAP_NEW_PSW);
    e[HANDLER] = TS_I(ADDI, 9, 9, 1);
    e[HANDLER + 1] = TS_J(HALT, 0);
    for (uint32_t i = 0; i < 16; i++) e[PTABLE + i] = i << 8 | PTE_V | PTE_W;
    struct psw next = {PSW_IE | (s->flags & PSW_M), TARGET, 0, 0x1000, 2};
    isa_psw_to_words(&next, e + PSW_BLOCK);
    e[PSW_BLOCK + 5] = 0xffffffffu; /* a second PSW with every flag bit set */
    e[PSW_BLOCK + 6] = TARGET;
    e[PSW_BLOCK + 7] = 0x40;
    e[PSW_BLOCK + 8] = 0x800;
    e[PSW_BLOCK + 9] = 5;
    for (uint32_t i = 0; i < 8; i++) e[TARGET + i] = TS_I(ADDI, 10, 10, 1);
    uint32_t w;
    if (op->format == FMT_R) w = isa_make_r(op->opcode, 1, 2, 3);
    else if (op->format == FMT_J) w = isa_make_j(op->opcode, s->imm);
    else w = isa_make_i(op->opcode, 1, 2, s->imm);
    e[CODE] = w;
    for (uint32_t i = 1; i < 8; i++) e[CODE + i] = TS_I(ADDI, 11, 11, 1);
    machine_reset(m, CODE);
    test_support_fill_regs(m);
    machine_set_reg(m, 1, 0x5a5a0000u | PSW_IE | PSW_TP);
    machine_set_reg(m, 2, s->r2);
    struct psw p = {s->flags, CODE, 0, (s->flags & PSW_PG) ? 16 : 0x1000, s->timer};
    if (s->flags & PSW_PG) p.base = PTABLE;
    machine_set_psw(m, &p);
    return m;
}

/* The operand variations worth trying for an instruction. */
static size_t operands_for(const struct isa_op *op, struct state *out)
{
    size_t n = 0;
    switch (op->opcode) {
    case ISA_LPSW: /* rs = r2 */
        out[n++] = (struct state){0, 0, PSW_BLOCK, 0};
        out[n++] = (struct state){0, 0, PSW_BLOCK, 5};
        out[n++] = (struct state){0, 0, 0x0ffe, 0};  /* crosses the bound */
        out[n++] = (struct state){0, 0, 0, 0x7fff}; /* past it          */
        break;
    case ISA_IN:
    case ISA_OUT: {
        static const uint32_t ports[] = {0, 1, 2, 3, 16, 0xffff};
        for (size_t i = 0; i < 6; i++) out[n++] = (struct state){0, 0, 7, ports[i]};
        break;
    }
    case ISA_STMR: /* rs = r1 here (field a) */
    case ISA_POPF:
    default: out[n++] = (struct state){0, 0, 0x77, 0}; break;
    }
    return n;
}

static void check_op(const struct isa_op *op, const struct isa_variant *var, const char *vname)
{
    static const uint32_t flag_sets[] = {PSW_M, PSW_M | PSW_IE, 0, PSW_IE,
                                         PSW_M | PSW_PG, PSW_IE | PSW_PG, PSW_M | PSW_IE | PSW_TP};
    static const uint32_t timers[] = {0, 1, 3};
    struct state operands[8];
    size_t nops = operands_for(op, operands);
    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        for (size_t t = 0; t < 3; t++) {
            for (size_t k = 0; k < nops; k++) {
                struct state s = operands[k];
                s.flags = flag_sets[f];
                s.timer = timers[t];
                struct machine *m = setup(var, op, &s);
                char what[160];
                snprintf(what, sizeof what, "%s under %s, flags %x, timer %u, variation %zu",
                         op->mnemonic, vname, s.flags, s.timer, k);
                const bool user = !(s.flags & PSW_M), paged = (s.flags & PSW_PG) != 0;
                const enum isa_user_action act = var->user_action[op->opcode];
                /* Where code runs directly, the variant acts on the real
                 * machine: exact only when it traps or changes nothing and
                 * reads nothing of the real state. */
                const bool harmless = act == USER_TRAP ||
                                      (act == USER_SILENT && op->opcode != ISA_PUSHF &&
                                       op->opcode != ISA_SRR && op->opcode != ISA_RTMR);
                vmm_destroy(tv_check_equivalent(m, VMM_INTERP, 1, 12, "in", what));
                if (paged || !user || harmless)
                    vmm_destroy(tv_check_equivalent(m, VMM_HVM, 1, 12, "in", what));
                /* te also runs the handler's halt directly. */
                const bool handler_traps = var->user_action[ISA_HALT] == USER_TRAP;
                /* te runs paged code directly too (shadow page tables). */
                if (handler_traps && (act == USER_TRAP || (user && harmless)))
                    vmm_destroy(tv_check_equivalent(m, VMM_TE, 1, 12, "in", what));
                machine_destroy(m);
            }
        }
    }
}

static void check_variants(uint8_t opcode)
{
    const struct isa_op *op = isa_op_by_opcode(opcode);
    cr_assert_not_null(op);
    static const char *const builtin[] = {"pg", "hybrid", "x86like"};
    for (size_t i = 0; i < 3; i++) {
        struct isa_variant v = test_support_variant(builtin[i]);
        check_op(op, &v, builtin[i]);
    }
    static const enum isa_user_action actions[] = {USER_TRAP, USER_EXEC, USER_SILENT};
    for (size_t i = 0; i < 3; i++) {
        struct isa_variant v = uniform_variant(actions[i]);
        check_op(op, &v, isa_user_action_name(actions[i]));
    }
}

/* One test per routine, so that a failure names it. */
Test(vmm_emulate, halt) { check_variants(ISA_HALT); }
Test(vmm_emulate, lpsw) { check_variants(ISA_LPSW); }
Test(vmm_emulate, pushf) { check_variants(ISA_PUSHF); }
Test(vmm_emulate, popf) { check_variants(ISA_POPF); }
Test(vmm_emulate, srr) { check_variants(ISA_SRR); }
Test(vmm_emulate, stmr) { check_variants(ISA_STMR); }
Test(vmm_emulate, rtmr) { check_variants(ISA_RTMR); }
Test(vmm_emulate, in) { check_variants(ISA_IN); }
Test(vmm_emulate, out) { check_variants(ISA_OUT); }
Test(vmm_emulate, tlbflush) { check_variants(ISA_TLBFLUSH); }

/* Direct checks of a few routines' effects on the virtual state. */
Test(vmm_emulate, lpsw_loads_the_virtual_psw_not_the_real_one)
{
    struct isa_variant pg = test_support_variant("pg");
    struct state s = {PSW_M, 0, PSW_BLOCK, 5};
    struct machine *m = setup(&pg, isa_op_by_opcode(ISA_LPSW), &s);
    struct vmm *v = tv_mirror(m, VMM_TE, 1, NULL);
    vmm_set_step_limit(v, 1);
    vmm_run(v, 10);
    const struct psw *p = &vmm_guest_vcpu(v, 0)->psw;
    cr_assert_eq(p->flags, PSW_FLAGS_MASK, "all four flags, masked");
    cr_assert_eq(p->pc, TARGET);
    cr_assert_eq(p->base, 0x40);
    cr_assert_eq(p->bound, 0x800);
    cr_assert_eq(p->timer, 5);
    struct psw real = machine_psw(vmm_real_machine(v));
    cr_assert_eq(real.flags & PSW_M, 0, "the real machine stays in user mode");
    vmm_destroy(v);
    machine_destroy(m);
}

Test(vmm_emulate, console_is_per_guest)
{
    struct isa_variant pg = test_support_variant("pg");
    struct vmm_config cfg = {VMM_TE, &pg, 256, 2, 0, VMM_SHADOW_TRACE};
    struct vmm *v = vmm_create(&cfg);
    static const uint32_t prog[] = {TS_I(IN, 1, 0, PORT_CONSOLE_IN), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT),
                                    TS_I(IN, 1, 0, PORT_CONSOLE_IN), TS_I(OUT, 1, 0, PORT_CONSOLE_OUT),
                                    TS_J(HALT, 0)};
    for (unsigned g = 0; g < 2; g++) memcpy(vmm_guest_memory(v, g) + 16, prog, sizeof prog);
    vmm_feed_input(v, 0, (const uint8_t *)"ab", 2);
    vmm_feed_input(v, 1, (const uint8_t *)"X", 1);
    cr_assert_eq(vmm_run(v, 100), VMM_RUN_DONE);
    size_t len;
    const uint8_t *out = vmm_guest_output(v, 0, &len);
    cr_assert(len == 2 && memcmp(out, "ab", 2) == 0);
    out = vmm_guest_output(v, 1, &len);
    cr_assert(len == 2 && out[0] == 'X' && out[1] == 0xff, "no input reads -1 (low byte 0xff)");
    vmm_destroy(v);
}
