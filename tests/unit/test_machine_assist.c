/*
 * test_machine_assist.c: the hardware-assist extension (isa/README.md, "The
 * hardware-assist extension"): vmenter, guest mode, each exit reason, the
 * bitmaps, the read shadow, second-level translation, and hostile control
 * blocks, each of which must be a trap or an exit, never a failure.
 *
 * The host runs in supervisor mode at HOST: `vmenter r1` (block at BLOCK),
 * then `halt`.  Its own traps go to a handler that halts with r1 = 0xbad.
 * The guest's code is at guest-virtual GPC under base GBASE.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define HOST 0x100u
#define HOST_TRAP 0x180u
#define BLOCK 0x4000u
#define GBASE 0x2000u
#define GBOUND 0x1000u
#define GPC 0x10u
#define GAREA 0x3000u /* the guest's trap area (SLT off) */
#define GHANDLER 0x80u /* guest-virtual */

static uint32_t all_exits(void) { return 0x3ffu; }

/* An x86vt machine with the host program and a control block whose guest
 * is supervisor, unpaged at GBASE, every instruction and trap exiting. */
static struct machine *host(const char *variant)
{
    struct machine *m = test_support_machine(variant);
    PUT(m, HOST, TS_I(VMENTER, 1, 0, 0), TS_J(HALT, 0));
    PUT(m, HOST_TRAP, TS_I(ADDI, 1, 0, 0xbad), TS_J(HALT, 0));
    test_support_set_new_psw(m, &(struct psw){PSW_M, HOST_TRAP, 0, TS_MEM, 0});
    test_support_set_psw(m, PSW_M, HOST, 0, TS_MEM, 0);
    machine_set_reg(m, 1, BLOCK);
    uint32_t *b = machine_memory(m) + BLOCK;
    const struct psw g = {PSW_M, GPC, GBASE, GBOUND, 0};
    isa_psw_to_words(&g, &b[VMCB_PSW]);
    b[VMCB_EXIT_INSNS] = all_exits();
    b[VMCB_EXIT_TRAPS] = ~0u;
    b[VMCB_PORTS] = ~0u;
    b[VMCB_TRAP_AREA] = GAREA;
    return m;
}

static uint32_t *block(struct machine *m) { return machine_memory(m) + BLOCK; }

/* Guest code at guest-virtual GPC. */
#define GUEST(m, ...) PUT((m), GBASE + GPC, __VA_ARGS__)

/* Runs until the host halts; asserts it halted after vmenter (not in its
 * trap handler). */
static void run_to_host_halt(struct machine *m)
{
    cr_assert_eq(machine_run(m, 10000), MACHINE_HALT);
    cr_assert_eq(machine_psw(m).pc, HOST + 2, "the host halted at 0x%x", machine_psw(m).pc);
    cr_assert(!machine_in_guest(m));
}

static void expect_exit(struct machine *m, enum isa_exit_reason reason, uint32_t pc)
{
    const uint32_t *b = block(m);
    cr_assert_eq(b[VMCB_EXIT_REASON], reason, "reason %u, expected %u", b[VMCB_EXIT_REASON], reason);
    cr_assert_eq(b[VMCB_EXIT_PC], pc, "exit pc 0x%x, expected 0x%x", b[VMCB_EXIT_PC], pc);
    cr_assert_eq(b[VMCB_PSW + 1], pc, "the guest PSW's pc is the exit pc");
}

Test(assist, vmenter_is_illegal_without_the_feature)
{
    struct machine *m = host("x86like");
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    const struct machine_trap *t = machine_last_trap(m);
    cr_assert(t && t->cause == CAUSE_ILL && t->value == TS_I(VMENTER, 1, 0, 0));
    cr_assert(!machine_in_guest(m));
    /* In user mode too: the instruction does not exist. */
    test_support_set_psw(m, 0, HOST, 0, TS_MEM, 0);
    machine_step(m);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_ILL);
    machine_destroy(m);
}

Test(assist, vmenter_is_privileged)
{
    struct machine *m = host("x86vt");
    test_support_set_psw(m, 0, HOST, 0, TS_MEM, 0);
    machine_step(m);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_PRIV);
    cr_assert(!machine_in_guest(m));
    machine_destroy(m);
}

Test(assist, entry_runs_the_guest_and_halt_exits_with_its_state)
{
    struct machine *m = host("x86vt");
    block(m)[VMCB_REGS + 3] = 40;
    GUEST(m, TS_I(ADDI, 2, 3, 2), TS_J(HALT, 0));
    cr_assert_eq(machine_step(m), MACHINE_BUDGET); /* vmenter: one step */
    cr_assert(machine_in_guest(m));
    cr_assert_eq(machine_psw(m).pc, GPC);
    cr_assert_eq(machine_reg(m, 3), 40);
    machine_set_reg(m, 1, 0); /* the host's r1 comes back at the exit */
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 1);
    cr_assert_eq(block(m)[VMCB_EXIT_INSN], TS_J(HALT, 0));
    cr_assert_eq(block(m)[VMCB_REGS + 2], 42);
    cr_assert_eq(machine_reg(m, 1), BLOCK, "the host's registers are back");
    cr_assert_eq(machine_reg(m, 2), 0);
    cr_assert_eq(machine_stats(m)->exits[EXIT_INSN], 1);
    /* vmenter, addi, the exit, halt: four steps. */
    cr_assert_eq(machine_steps(m), 4);
    machine_destroy(m);
}

Test(assist, a_cleared_bit_executes_on_the_guest_psw)
{
    struct machine *m = host("x86vt");
    block(m)[VMCB_EXIT_INSNS] = all_exits() & ~0x8u; /* popf runs */
    block(m)[VMCB_REGS + 2] = PSW_IE;
    GUEST(m, TS_I(POPF, 2, 0, 0), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 1);
    cr_assert_eq(block(m)[VMCB_PSW], PSW_M | PSW_IE, "the guest's IE is on");
    cr_assert_eq(machine_psw(m).flags & PSW_IE, 0, "the host's is not");
    machine_destroy(m);
}

Test(assist, the_read_shadow_answers_pushf_and_srr)
{
    struct machine *m = host("x86vt");
    uint32_t *b = block(m);
    b[VMCB_EXIT_INSNS] = all_exits() & ~(0x4u | 0x10u);
    b[VMCB_CTRL] = VMCB_CTRL_SHADOW;
    b[VMCB_SHADOW_FLAGS] = PSW_M | PSW_IE;
    b[VMCB_SHADOW_BASE] = 0;
    b[VMCB_SHADOW_BOUND] = 0x1234;
    b[VMCB_PSW] = 0; /* the guest really runs in user mode, IE off */
    GUEST(m, TS_I(PUSHF, 2, 0, 0), TS_R(SRR, 3, 4, 0), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 2);
    cr_assert_eq(b[VMCB_REGS + 2], PSW_M | PSW_IE);
    cr_assert_eq(b[VMCB_REGS + 3], 0);
    cr_assert_eq(b[VMCB_REGS + 4], 0x1234);
    machine_destroy(m);

    /* Without the shadow they read the real guest PSW. */
    m = host("x86vt");
    b = block(m);
    b[VMCB_EXIT_INSNS] = all_exits() & ~(0x4u | 0x10u);
    b[VMCB_PSW] = 0;
    GUEST(m, TS_I(PUSHF, 2, 0, 0), TS_R(SRR, 3, 4, 0), TS_J(HALT, 0));
    run_to_host_halt(m);
    cr_assert_eq(b[VMCB_REGS + 2], 0);
    cr_assert_eq(b[VMCB_REGS + 3], GBASE);
    cr_assert_eq(b[VMCB_REGS + 4], GBOUND);
    machine_destroy(m);
}

Test(assist, the_port_bitmap_lets_some_ports_through)
{
    struct machine *m = host("x86vt");
    uint32_t *b = block(m);
    b[VMCB_EXIT_INSNS] = all_exits() & ~0x100u; /* out: by the port bitmap */
    b[VMCB_PORTS] = ~(1u << PORT_CONSOLE_OUT);
    b[VMCB_REGS + 2] = 'h';
    GUEST(m, TS_I(OUT, 2, 0, PORT_CONSOLE_OUT), TS_I(OUT, 2, 0, PORT_CONSOLE_CTRL), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 1);
    cr_assert_eq(b[VMCB_EXIT_INSN], TS_I(OUT, 2, 0, PORT_CONSOLE_CTRL));
    size_t len;
    const uint8_t *out = machine_output(m, &len);
    cr_assert(len == 1 && out[0] == 'h');
    machine_destroy(m);

    /* Ports from 32 up always exit. */
    m = host("x86vt");
    block(m)[VMCB_EXIT_INSNS] = all_exits() & ~0x100u;
    block(m)[VMCB_PORTS] = 0;
    GUEST(m, TS_I(OUT, 2, 0, 40), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC);
    machine_destroy(m);
}

/* The guest's handler at GHANDLER: halt (which exits). */
static void guest_handler(struct machine *m)
{
    const struct psw h = {PSW_M, GHANDLER, GBASE, GBOUND, 0};
    isa_psw_to_words(&h, machine_memory(m) + GAREA + TRAP_NEW_PSW);
    PUT(m, GBASE + GHANDLER, TS_J(HALT, 0));
}

Test(assist, a_trap_without_its_bit_goes_to_the_guests_handler)
{
    struct machine *m = host("x86vt");
    block(m)[VMCB_EXIT_TRAPS] = ~(1u << CAUSE_SVC);
    guest_handler(m);
    GUEST(m, TS_I(SVC, 0, 0, 9));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GHANDLER);
    const uint32_t *area = machine_memory(m) + GAREA;
    cr_assert_eq(area[TRAP_CAUSE], CAUSE_SVC);
    cr_assert_eq(area[TRAP_VALUE], 9);
    cr_assert_eq(area[TRAP_OLD_PSW + 1], GPC + 1);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_SVC], 1, "a guest trap is a trap of the machine");
    cr_assert_eq(machine_memory(m)[TRAP_CAUSE], 0, "the host's trap area is untouched");
    machine_destroy(m);
}

Test(assist, a_trap_with_its_bit_exits)
{
    struct machine *m = host("x86vt");
    guest_handler(m);
    GUEST(m, TS_I(SVC, 0, 0, 9));
    run_to_host_halt(m);
    expect_exit(m, EXIT_TRAP, GPC + 1);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_SVC);
    cr_assert_eq(block(m)[VMCB_EXIT_VALUE], 9);
    cr_assert_eq(machine_memory(m)[GAREA + TRAP_CAUSE], 0);
    machine_destroy(m);
}

Test(assist, the_guests_timer_interrupts_the_guest)
{
    struct machine *m = host("x86vt");
    block(m)[VMCB_EXIT_TRAPS] = ~(1u << CAUSE_TIMER);
    block(m)[VMCB_PSW] = PSW_M | PSW_IE;
    block(m)[VMCB_PSW + 4] = 3;
    guest_handler(m);
    GUEST(m, TS_J(JMP, GPC));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GHANDLER);
    cr_assert_eq(machine_memory(m)[GAREA + TRAP_CAUSE], CAUSE_TIMER);
    machine_destroy(m);
}

Test(assist, the_hosts_timer_keeps_running_and_exits)
{
    struct machine *m = host("x86vt");
    test_support_set_psw(m, PSW_M, HOST, 0, TS_MEM, 10);
    GUEST(m, TS_J(JMP, GPC));
    run_to_host_halt(m);
    expect_exit(m, EXIT_HOST_TIMER, GPC);
    cr_assert(machine_psw(m).flags & PSW_TP, "the host's timer interrupt is pending");
    /* vmenter and 9 guest instructions ran it down. */
    cr_assert_eq(machine_stats(m)->exits[EXIT_HOST_TIMER], 1);
    machine_destroy(m);
}

Test(assist, a_device_interrupt_exits_when_the_host_takes_interrupts)
{
    struct machine *m = host("x86vt");
    test_support_set_psw(m, PSW_M | PSW_IE, HOST, 0, TS_MEM, 0);
    block(m)[VMCB_PSW] = PSW_M | PSW_IE; /* the guest's IE does not matter */
    machine_port_out(m, PORT_CONSOLE_CTRL, 1);
    GUEST(m, TS_J(JMP, GPC));
    machine_run(m, 3); /* vmenter, then the guest */
    cr_assert(machine_in_guest(m));
    machine_feed_input(m, (const uint8_t *)"x", 1);
    machine_run(m, 3);
    cr_assert(!machine_in_guest(m));
    cr_assert_eq(block(m)[VMCB_EXIT_REASON], EXIT_TRAP);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_IO);
    machine_destroy(m);
}

Test(assist, vmenter_in_guest_mode_exits)
{
    struct machine *m = host("x86vt");
    block(m)[VMCB_EXIT_INSNS] = 0;
    GUEST(m, TS_I(VMENTER, 1, 0, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC);
    machine_destroy(m);
}

/* Second-level translation: guest-physical page k at host frame 0x30 + k
 * for k < 4, page 1 invalid, page 2 read-only. */
#define SLT 0x5000u
static struct machine *slt_host(void)
{
    struct machine *m = host("x86vt");
    uint32_t *b = block(m);
    b[VMCB_CTRL] = VMCB_CTRL_SLT;
    b[VMCB_SLT_BASE] = SLT;
    b[VMCB_SLT_BOUND] = 4 * ISA_PAGE_WORDS;
    const struct psw g = {PSW_M, GPC, 0, 4 * ISA_PAGE_WORDS, 0};
    isa_psw_to_words(&g, &b[VMCB_PSW]);
    PUT(m, SLT, 0x30u << 8 | PTE_V | PTE_W, 0x31u << 8, 0x32u << 8 | PTE_V, 0x33u << 8 | PTE_V | PTE_W);
    return m;
}
#define SLT_GUEST(m, ...) PUT((m), 0x3000u + GPC, __VA_ARGS__)

Test(assist, slt_maps_guest_physical_to_host_frames)
{
    struct machine *m = slt_host();
    machine_memory(m)[0x3300 + 5] = 77;
    SLT_GUEST(m, TS_I(LD, 2, 0, 0x305), TS_I(ST, 2, 0, 0x20), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 2);
    cr_assert_eq(block(m)[VMCB_REGS + 2], 77);
    cr_assert_eq(machine_memory(m)[0x3000 + 0x20], 77);
    machine_destroy(m);
}

Test(assist, slt_faults_exit_with_the_guest_physical_address)
{
    struct machine *m = slt_host();
    SLT_GUEST(m, TS_I(LD, 2, 0, 0x105));
    run_to_host_halt(m);
    expect_exit(m, EXIT_SLT, GPC);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_MEM | MEMF_INVALID << 8);
    cr_assert_eq(block(m)[VMCB_EXIT_GPA], 0x105);
    cr_assert_eq(block(m)[VMCB_EXIT_VALUE], 0x105);
    cr_assert_eq(block(m)[VMCB_EXIT_INSN], TS_I(LD, 2, 0, 0x105));
    machine_destroy(m);

    m = slt_host();
    SLT_GUEST(m, TS_I(ST, 2, 0, 0x201));
    run_to_host_halt(m);
    expect_exit(m, EXIT_SLT, GPC);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_MEM | MEMF_WRITE << 8);
    machine_destroy(m);

    /* Past the SLT's bound: the guest's "physical" memory ends there. */
    m = slt_host();
    SLT_GUEST(m, TS_I(LD, 2, 0, 0x3ff), TS_I(LUI, 3, 0, 1), TS_I(LD, 2, 3, 0));
    block(m)[VMCB_PSW + 3] = 0x20000; /* the guest's own bound lets it try */
    run_to_host_halt(m);
    expect_exit(m, EXIT_SLT, GPC + 2);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_MEM | MEMF_BOUND << 8);
    cr_assert_eq(block(m)[VMCB_EXIT_GPA], 0x10000);
    machine_destroy(m);
}

Test(assist, slt_walks_the_guests_page_table_through_the_second_level)
{
    struct machine *m = slt_host();
    /* Guest page table at guest-physical 0x300 (host 0x3300): page 0 ->
     * guest frame 0, page 1 -> guest frame 3. */
    PUT(m, 0x3300, 0u << 8 | PTE_V | PTE_W, 3u << 8 | PTE_V | PTE_W);
    machine_memory(m)[0x3300 + 0x42] = 99;
    const struct psw g = {PSW_M | PSW_PG, GPC, 0x300, 2, 0};
    isa_psw_to_words(&g, &block(m)[VMCB_PSW]);
    SLT_GUEST(m, TS_I(LD, 2, 0, 0x142), TS_J(HALT, 0));
    run_to_host_halt(m);
    expect_exit(m, EXIT_INSN, GPC + 1);
    cr_assert_eq(block(m)[VMCB_REGS + 2], 99);
    machine_destroy(m);

    /* A guest table entry in an invalid second-level page: the walk of the
     * entry itself exits. */
    m = slt_host();
    const struct psw g2 = {PSW_M | PSW_PG, GPC, 0x100, 16, 0};
    isa_psw_to_words(&g2, &block(m)[VMCB_PSW]);
    run_to_host_halt(m);
    expect_exit(m, EXIT_SLT, GPC);
    cr_assert_eq(block(m)[VMCB_EXIT_GPA], 0x100);
    machine_destroy(m);
}

Test(assist, hostile_blocks_are_traps_or_exits)
{
    /* The block past memory: the host's own MEM trap. */
    struct machine *m = host("x86vt");
    machine_set_reg(m, 1, TS_MEM - 10);
    machine_run(m, 100);
    cr_assert_eq(machine_reg(m, 1), 0xbad);
    cr_assert(!machine_in_guest(m));
    machine_destroy(m);

    /* A wild guest base: the guest's own MEM fault, which exits. */
    m = host("x86vt");
    block(m)[VMCB_PSW + 2] = 0xfffffff0u;
    run_to_host_halt(m);
    expect_exit(m, EXIT_TRAP, GPC);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE] & 0xff, CAUSE_MEM);
    machine_destroy(m);

    /* The guest's trap area past memory: its traps exit whatever the bitmap. */
    m = host("x86vt");
    block(m)[VMCB_EXIT_TRAPS] = 0;
    block(m)[VMCB_TRAP_AREA] = TS_MEM - 4;
    GUEST(m, TS_I(SVC, 0, 0, 1));
    run_to_host_halt(m);
    expect_exit(m, EXIT_TRAP, GPC + 1);
    machine_destroy(m);

    /* The SLT past memory: an SLT exit (physical). */
    m = slt_host();
    block(m)[VMCB_SLT_BASE] = 0xffffff00u;
    run_to_host_halt(m);
    expect_exit(m, EXIT_SLT, GPC);
    cr_assert_eq(block(m)[VMCB_EXIT_CAUSE], CAUSE_MEM | MEMF_PHYSICAL << 8);
    machine_destroy(m);

    /* A guest handler whose pc does not translate: the guest's machine check. */
    m = host("x86vt");
    block(m)[VMCB_EXIT_TRAPS] = 0;
    const struct psw h = {PSW_M, 0xffffff, GBASE, GBOUND, 0};
    isa_psw_to_words(&h, machine_memory(m) + GAREA + TRAP_NEW_PSW);
    GUEST(m, TS_I(SVC, 0, 0, 1));
    run_to_host_halt(m);
    cr_assert_eq(block(m)[VMCB_EXIT_REASON], EXIT_CHECK);
    machine_destroy(m);
}

/* The C host's way in (the C VMM's): exits go to the handler, the machine
 * stays in guest mode. */
static enum machine_verdict count_exit(void *ctx, struct machine *m, const struct machine_exit *x)
{
    (void)m;
    unsigned *n = ctx;
    ++*n;
    cr_assert_eq(x->reason, EXIT_INSN);
    cr_assert_eq(isa_opcode_of(x->insn), ISA_HALT);
    return MACHINE_STOP_RUN;
}

Test(assist, a_c_host_gets_exits_through_its_handler)
{
    struct machine *m = host("x86vt");
    unsigned n = 0;
    machine_set_exit_handler(m, &(struct machine_exit_handler){&n, count_exit});
    GUEST(m, TS_J(HALT, 0));
    cr_assert(machine_vm_enter(m, block(m)));
    cr_assert(!machine_vm_enter(m, block(m)), "not twice");
    cr_assert_eq(machine_run(m, 100), MACHINE_STOPPED);
    cr_assert_eq(n, 1);
    cr_assert(machine_in_guest(m));
    cr_assert_eq(machine_psw(m).pc, GPC);
    machine_vm_leave(m);
    cr_assert_eq(machine_psw(m).pc, HOST);
    machine_destroy(m);

    m = host("x86like");
    cr_assert(!machine_vm_enter(m, block(m)), "no feature, no guest mode");
    machine_destroy(m);
}

Test(assist, the_variant_file_turns_the_feature_on)
{
    struct isa_variant v = test_support_variant("x86vt");
    cr_assert(v.features & ISA_FEATURE_ASSIST);
    struct isa_variant x = test_support_variant("x86like");
    cr_assert_eq(x.features, 0);
    cr_assert_arr_eq(v.user_action, x.user_action, sizeof v.user_action, "x86vt is x86like plus the feature");
    char err[ISA_ERROR_SIZE];
    cr_assert(!isa_variant_parse("variant a\nfeature vtx\n", "a.var", &v, err));
    cr_assert_str_eq(err, "a.var:2:9: error: unknown feature 'vtx'; expected assist");
}
