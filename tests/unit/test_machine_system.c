/*
 * test_machine_system.c: what every system instruction does in user and in
 * supervisor mode, under the built-in variants (pg, hybrid, x86like, whose
 * expected behaviour is copied from ISA.md's table, not read from the
 * variant files) and under variants that make every system instruction
 * `exec` or `silent`.
 *
 * Each check runs one instruction in one step from a relocated PSW
 * (base 0x1000, bound 0x800, IE=1, timer 50) and classifies the outcome.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define UBASE 0x1000u
#define UBOUND 0x800u
#define UPC 0x10u
#define UTIMER 50u
#define PSWAT 0x40u /* virtual address of the PSW that lpsw loads */

enum outcome { O_TRAP = USER_TRAP, O_EXEC = USER_EXEC, O_SILENT = USER_SILENT };

/* The instruction used to exercise each system instruction. */
static uint32_t sample(uint8_t opcode)
{
    switch (opcode) {
    case ISA_HALT: return TS_J(HALT, 0);
    case ISA_LPSW: return TS_I(LPSW, 0, 2, 3); /* PSW at r2 + 3 = PSWAT */
    case ISA_PUSHF: return TS_I(PUSHF, 1, 0, 0);
    case ISA_POPF: return TS_I(POPF, 1, 0, 0);
    case ISA_SRR: return TS_R(SRR, 1, 2, 0);
    case ISA_STMR: return TS_I(STMR, 1, 0, 0);
    case ISA_RTMR: return TS_I(RTMR, 1, 0, 0);
    case ISA_IN: return TS_I(IN, 1, 0, PORT_CONSOLE_IN);
    case ISA_OUT: return TS_I(OUT, 1, 0, PORT_CONSOLE_OUT);
    case ISA_TLBFLUSH: return TS_J(TLBFLUSH, 0);
    }
    cr_assert_fail("no sample for system opcode 0x%x: add one", opcode);
    return 0;
}

static const uint32_t lpsw_words[PSW_WORDS] = {PSW_M | PSW_PG | PSW_TP, 0x20, 0x5000, 0x9999, 33};

/* Runs the sample of opcode once under the variant in user (or supervisor)
 * mode and asserts that it behaved as `want` says. */
static void check(struct machine *m, const char *vname, uint8_t opcode, bool supervisor,
                  enum outcome want)
{
    const char *mn = isa_op_by_opcode(opcode)->mnemonic;
    const char *mode = supervisor ? "supervisor" : "user";
    uint32_t *e = machine_memory(m);
    uint32_t w = sample(opcode);
    e[UBASE + UPC] = w;
    memcpy(e + UBASE + PSWAT, lpsw_words, sizeof lpsw_words);
    test_support_fill_regs(m);
    uint32_t r1 = opcode == ISA_POPF ? 0 : opcode == ISA_STMR ? 1234 : opcode == ISA_OUT ? 'Z' : 0x77;
    machine_set_reg(m, 1, r1);
    machine_set_reg(m, 2, PSWAT - 3);
    struct psw before = {(supervisor ? PSW_M : 0) | PSW_IE, UPC, UBASE, UBOUND, UTIMER};
    machine_set_psw(m, &before);
    machine_feed_input(m, (const uint8_t *)"k", 1);
    uint32_t regs[ISA_NREGS];
    for (unsigned r = 0; r < ISA_NREGS; r++) regs[r] = machine_reg(m, r);

    enum machine_stop stop = machine_step(m);
    struct psw now = machine_psw(m);
    size_t outlen;
    const uint8_t *out = machine_output(m, &outlen);

    if (want == O_TRAP) {
        cr_assert_eq(stop, MACHINE_BUDGET, "%s %s %s: %s", vname, mode, mn, machine_stop_name(stop));
        cr_assert_eq(machine_stats(m)->traps[CAUSE_PRIV], 1, "%s %s %s: no PRIV trap", vname, mode, mn);
        /* saved pc = the instruction, value = the instruction word */
        test_support_expect_trap(m, CAUSE_PRIV, 0, w, &before);
        for (unsigned r = 0; r < ISA_NREGS; r++)
            cr_assert_eq(machine_reg(m, r), regs[r], "%s %s %s: r%u changed", vname, mode, mn, r);
        cr_assert_eq(outlen, 0);
        cr_assert_eq(machine_input_pending(m), 1);
        return;
    }

    cr_assert_null(machine_last_trap(m), "%s %s %s: trapped", vname, mode, mn);
    cr_assert_eq(machine_stats(m)->retired, 1);
    bool silent = want == O_SILENT;
    struct psw want_psw = before;
    want_psw.pc = UPC + 1;
    /* every completed instruction counts, except an lpsw or stmr that sets the timer */
    if ((opcode != ISA_LPSW && opcode != ISA_STMR) || silent) want_psw.timer--;
    switch (opcode) {
    case ISA_HALT: break;
    case ISA_LPSW:
        if (!silent) {
            want_psw = isa_psw_from_words(lpsw_words);
            if (!supervisor) { /* M, PG, base, bound stay */
                want_psw.flags = PSW_TP;
                want_psw.base = UBASE;
                want_psw.bound = UBOUND;
            }
        }
        break;
    case ISA_PUSHF: regs[1] = before.flags; break; /* real flags, even when silent */
    case ISA_POPF:
        if (!silent) want_psw.flags &= ~PSW_IE;
        break;
    case ISA_SRR: regs[1] = UBASE, regs[2] = UBOUND; break; /* real relocation */
    case ISA_STMR:
        if (!silent) want_psw.timer = 1234;
        break;
    case ISA_RTMR: regs[1] = UTIMER; break;
    case ISA_IN: regs[1] = silent ? 0 : 'k'; break;
    case ISA_OUT: break;
    case ISA_TLBFLUSH: break;
    }
    cr_assert_eq(stop, opcode == ISA_HALT && !silent ? MACHINE_HALT : MACHINE_BUDGET,
                 "%s %s %s: step returned %s", vname, mode, mn, machine_stop_name(stop));
    cr_assert(memcmp(&now, &want_psw, sizeof now) == 0,
              "%s %s %s (%s): PSW {%x %x %x %x %x}, want {%x %x %x %x %x}", vname, mode, mn,
              isa_user_action_name((enum isa_user_action)want), now.flags, now.pc, now.base,
              now.bound, now.timer, want_psw.flags, want_psw.pc, want_psw.base, want_psw.bound,
              want_psw.timer);
    for (unsigned r = 0; r < ISA_NREGS; r++)
        cr_assert_eq(machine_reg(m, r), regs[r], "%s %s %s: r%u = 0x%x, want 0x%x", vname, mode,
                     mn, r, machine_reg(m, r), regs[r]);
    bool wrote = opcode == ISA_OUT && !silent;
    cr_assert_eq(outlen, wrote ? 1u : 0u, "%s %s %s: output", vname, mode, mn);
    if (wrote) cr_assert_eq(out[0], 'Z');
    bool read = opcode == ISA_IN && !silent;
    cr_assert_eq(machine_input_pending(m), read ? 0u : 1u, "%s %s %s: input", vname, mode, mn);
}

static struct machine *fresh(const struct isa_variant *v)
{
    struct machine *m = machine_create(TS_MEM, v);
    cr_assert_not_null(m);
    struct psw handler = {PSW_M, TS_HANDLER, 0, TS_MEM, 0};
    test_support_set_new_psw(m, &handler);
    return m;
}

/* ISA.md's variant table. */
static enum outcome documented(const char *variant, uint8_t opcode)
{
    if (strcmp(variant, "hybrid") == 0 && opcode == ISA_POPF) return O_SILENT;
    if (strcmp(variant, "x86like") == 0) {
        if (opcode == ISA_PUSHF || opcode == ISA_SRR) return O_EXEC;
        if (opcode == ISA_POPF) return O_SILENT;
    }
    return O_TRAP;
}

Test(machine_system, builtin_variants_follow_the_isa_table)
{
    static const char *const variants[] = {"pg", "hybrid", "x86like"};
    int checked = 0;
    for (size_t k = 0; k < 3; k++) {
        struct isa_variant v = test_support_variant(variants[k]);
        for (size_t i = 0; i < isa_op_count(); i++) {
            const struct isa_op *op = &isa_ops()[i];
            /* vmenter is the assist extension's, undefined here (test_machine_assist.c). */
            if (!(op->flags & ISA_F_SYSTEM) || op->opcode == ISA_VMENTER) continue;
            enum outcome want = documented(variants[k], op->opcode);
            cr_assert_eq(v.user_action[op->opcode], (uint8_t)want, "%s: %s is %s in the file",
                         variants[k], op->mnemonic,
                         isa_user_action_name((enum isa_user_action)v.user_action[op->opcode]));
            struct machine *m = fresh(&v);
            check(m, variants[k], op->opcode, false, want);
            machine_destroy(m);
            m = fresh(&v);
            check(m, variants[k], op->opcode, true, O_EXEC);
            machine_destroy(m);
            checked++;
        }
    }
    cr_assert_eq(checked, 30, "10 system instructions x 3 variants");
}

static void every_system_insn_as(const char *action, enum outcome want)
{
    char text[1024];
    int n = snprintf(text, sizeof text, "variant all-%s\n", action);
    for (size_t i = 0; i < isa_op_count(); i++)
        if (isa_ops()[i].flags & ISA_F_SYSTEM)
            n += snprintf(text + n, sizeof text - (size_t)n, "user %s %s\n", isa_ops()[i].mnemonic, action);
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    cr_assert(isa_variant_parse(text, "all.var", &v, err), "%s", err);
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        if (!(op->flags & ISA_F_SYSTEM) || op->opcode == ISA_VMENTER) continue; /* as above */
        struct machine *m = fresh(&v);
        check(m, v.name, op->opcode, false, want);
        machine_destroy(m);
        m = fresh(&v); /* supervisor mode ignores the variant */
        check(m, v.name, op->opcode, true, O_EXEC);
        machine_destroy(m);
    }
}

Test(machine_system, every_system_instruction_exec_in_user_mode) { every_system_insn_as("exec", O_EXEC); }
Test(machine_system, every_system_instruction_silent_in_user_mode) { every_system_insn_as("silent", O_SILENT); }
Test(machine_system, every_system_instruction_trap_in_user_mode) { every_system_insn_as("trap", O_TRAP); }

/* x86like pushf in user mode shows the real PG and TP too. */
Test(machine_system, x86like_pushf_reveals_pg_and_tp)
{
    struct machine *m = test_support_machine("x86like");
    uint32_t *e = machine_memory(m);
    e[0x2000] = 0x30u << 8 | PTE_V; /* page 0 -> frame 0x30 */
    e[0x3005] = TS_I(PUSHF, 4, 0, 0);
    test_support_set_psw(m, PSW_PG | PSW_TP, 5, 0x2000, 1, 0);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 4), PSW_PG | PSW_TP);
    machine_destroy(m);
}

/* hybrid and x86like popf in user mode can neither set nor clear IE. */
Test(machine_system, popf_silently_ignores_ie_in_user_mode)
{
    static const char *const variants[] = {"hybrid", "x86like"};
    for (int k = 0; k < 2; k++) {
        for (uint32_t ie = 0; ie <= PSW_IE; ie += PSW_IE) {
            struct machine *m = test_support_machine(variants[k]);
            machine_memory(m)[TS_CODE] = TS_I(POPF, 3, 0, 0);
            machine_set_reg(m, 3, ie ^ PSW_IE);
            test_support_set_psw(m, ie, TS_CODE, 0, TS_MEM, 0);
            cr_assert_eq(machine_step(m), MACHINE_BUDGET);
            cr_assert_null(machine_last_trap(m), "%s popf trapped", variants[k]);
            cr_assert_eq(machine_psw(m).flags, ie, "%s popf changed IE", variants[k]);
            cr_assert_eq(machine_psw(m).pc, TS_CODE + 1);
            machine_destroy(m);
        }
    }
}

/* An exec lpsw in user mode takes pc, IE, TP and timer from memory but never
 * M, PG, base or bound: neither setting nor clearing them. */
Test(machine_system, exec_lpsw_cannot_change_mode_or_relocation)
{
    struct machine *m = test_support_machine_text("variant v\nbase pg\nuser lpsw exec\n");
    uint32_t *e = machine_memory(m);
    /* user, paged: page 0 -> frame 0x30, page table at 0x2000 with 2 entries */
    e[0x2000] = 0x30u << 8 | PTE_V | PTE_W;
    e[0x2001] = 0x31u << 8 | PTE_V | PTE_W;
    e[0x3000] = TS_I(LPSW, 0, 0, 0x40);
    static const uint32_t words[] = {PSW_M | PSW_IE, 0x7, 0x9000, 0x1234, 0};
    test_support_poke(m, 0x3040, words, 5);
    e[0x3007] = TS_I(PUSHF, 1, 0, 0);
    test_support_set_psw(m, PSW_PG, 0, 0x2000, 2, 8);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    struct psw p = machine_psw(m);
    cr_assert_eq(p.flags, PSW_PG | PSW_IE, "flags 0x%x", p.flags);
    cr_assert_eq(p.pc, 7);
    cr_assert_eq(p.base, 0x2000);
    cr_assert_eq(p.bound, 2);
    cr_assert_eq(p.timer, 0);
    machine_destroy(m);
}

/* svc and hcall trap in user mode whatever the variant says; ordinary
 * instructions execute. */
Test(machine_system, svc_hcall_trap_in_user_mode_under_every_variant)
{
    static const char *const variants[] = {"pg", "hybrid", "x86like"};
    for (int k = 0; k < 3; k++) {
        for (int h = 0; h < 2; h++) {
            struct machine *m = test_support_machine(variants[k]);
            uint32_t w = h ? TS_I(HCALL, 0, 0, 9) : TS_I(SVC, 0, 0, 9);
            machine_memory(m)[UBASE + UPC] = w;
            struct psw before = {0, UPC, UBASE, UBOUND, 3};
            machine_set_psw(m, &before);
            cr_assert_eq(machine_step(m), MACHINE_BUDGET);
            before.pc = UPC + 1;
            test_support_expect_trap(m, h ? CAUSE_HCALL : CAUSE_SVC, 0, 9, &before);
            machine_destroy(m);
        }
    }
}

Test(machine_system, ordinary_instructions_run_in_user_mode)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {TS_I(ADDI, 1, 0, 5), TS_I(ST, 1, 0, 0), TS_I(LD, 2, 0, 0),
                                    TS_J(JMP, UPC + 4), TS_I(SVC, 0, 0, 1)};
    test_support_poke(m, UBASE + UPC, prog, 5);
    test_support_set_psw(m, 0, UPC, UBASE, UBOUND, 0);
    cr_assert_eq(machine_run(m, 4), MACHINE_BUDGET);
    cr_assert_null(machine_last_trap(m));
    cr_assert_eq(machine_reg(m, 2), 5);
    cr_assert_eq(machine_memory(m)[UBASE], 5);
    cr_assert_eq(machine_psw(m).pc, UPC + 4);
    machine_destroy(m);
}

/* A silent lpsw still reads its five words: a bad address is a MEM trap. */
Test(machine_system, silent_lpsw_still_reads)
{
    struct machine *m = test_support_machine_text("variant s\nuser lpsw silent\n");
    machine_memory(m)[UBASE + UPC] = TS_I(LPSW, 0, 0, UBOUND - 2);
    struct psw before = {PSW_IE, UPC, UBASE, UBOUND, 9};
    machine_set_psw(m, &before);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    test_support_expect_trap(m, CAUSE_MEM, MEMF_BOUND, UBOUND, &before);
    machine_destroy(m);
}
