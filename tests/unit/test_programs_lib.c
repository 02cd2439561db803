/* programs/lib/machine.inc restates isa.h's constants for assembly programs;
 * these tests fail the moment the two disagree. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../assembler/asm.h"
#include "../../isa/isa.h"
#include "../../vmm/vmm.h"

#define MACHINE_INC "programs/lib/machine.inc"

static struct asm_image assemble(const char *source)
{
    struct asm_image img;
    cr_assert_eq(asm_assemble_string(source, "programs/uses_machine_inc.s", &img, stderr), 0);
    return img;
}

static void expect_symbol(const struct asm_image *img, const char *name, uint32_t value)
{
    uint32_t got;
    cr_assert(asm_symbol_value(img, name, &got), MACHINE_INC " does not define %s", name);
    cr_assert_eq(got, value, MACHINE_INC ": %s is %u, isa.h says %u", name, got, value);
}

/* A name an include restates, and the value the C side gives it. */
struct restated {
    const char *name;
    uint32_t value;
};

/* Every row of table is a symbol, of that value, of a program that
 * includes `include`. */
static void expect_restated(const char *include, const struct restated *table, size_t n)
{
    char source[96];
    snprintf(source, sizeof source, ".include \"%s\"\nhalt\n", include);
    struct asm_image img = assemble(source);
    for (size_t i = 0; i < n; i++) expect_symbol(&img, table[i].name, table[i].value);
    asm_image_free(&img);
}
#define EXPECT_RESTATED(include, table) expect_restated(include, table, sizeof table / sizeof table[0])

Test(programs_lib, constants_are_those_of_isa_h)
{
    struct asm_image img = assemble(".include \"lib/machine.inc\"\nhalt\n");
    expect_symbol(&img, "M", PSW_M);
    expect_symbol(&img, "IE", PSW_IE);
    expect_symbol(&img, "PG", PSW_PG);
    expect_symbol(&img, "TP", PSW_TP);
    expect_symbol(&img, "OLD_PSW", TRAP_OLD_PSW);
    expect_symbol(&img, "CAUSE", TRAP_CAUSE);
    expect_symbol(&img, "VALUE", TRAP_VALUE);
    expect_symbol(&img, "NEW_PSW", TRAP_NEW_PSW);
#define X(id, n, str) expect_symbol(&img, "C_" #id, CAUSE_##id);
    ISA_CAUSES(X)
#undef X
    expect_symbol(&img, "D_BOUND", MEMF_BOUND);
    expect_symbol(&img, "D_INVALID", MEMF_INVALID);
    expect_symbol(&img, "D_WRITE", MEMF_WRITE);
    expect_symbol(&img, "D_PHYSICAL", MEMF_PHYSICAL);
    /* The instruction fields, as isa.h decodes them: a field's lowest bit
     * and mask read back as 1 and the mask, its neighbours' as 0. */
    uint32_t sym[7];
    const char *const fields[] = {"OPCODE_SHIFT", "FIELD_A", "FIELD_B", "FIELD_C", "REG_MASK", "IMM16_BITS",
                                  "IMM24_BITS"};
    for (int i = 0; i < 7; i++) cr_assert(asm_symbol_value(&img, fields[i], &sym[i]), "no %s", fields[i]);
    cr_assert_eq(isa_opcode_of(1u << sym[0]), 1);
    cr_assert_eq(isa_opcode_of(~0u), (~0u) >> sym[0]);
    cr_assert_eq(isa_field_a((uint32_t)sym[4] << sym[1]), sym[4]);
    cr_assert_eq(isa_field_b((uint32_t)sym[4] << sym[2]), sym[4]);
    cr_assert_eq(isa_field_c((uint32_t)sym[4] << sym[3]), sym[4]);
    cr_assert_eq(isa_field_a(~((uint32_t)sym[4] << sym[1])), 0);
    cr_assert_eq(isa_field_b(~((uint32_t)sym[4] << sym[2])), 0);
    cr_assert_eq(isa_field_c(~((uint32_t)sym[4] << sym[3])), 0);
    cr_assert_eq(isa_imm16(~0u), (1u << sym[5]) - 1);
    cr_assert_eq(isa_imm24(~0u), (1u << sym[6]) - 1);
    cr_assert_eq(sym[6], sym[0]);
    expect_symbol(&img, "PTE_V", PTE_V);
    expect_symbol(&img, "PTE_W", PTE_W);
    expect_symbol(&img, "PAGE_SHIFT", ISA_PAGE_SHIFT);
    expect_symbol(&img, "PAGE_WORDS", ISA_PAGE_WORDS);
    expect_symbol(&img, "DISK0", isa_disk_port(0, DISK_SECTOR));
    expect_symbol(&img, "DISK_PORTS", isa_disk_port(1, DISK_SECTOR) - isa_disk_port(0, DISK_SECTOR));
    expect_symbol(&img, "SECTOR_WORDS", ISA_SECTOR_WORDS);
    expect_symbol(&img, "DK_SECTOR", DISK_SECTOR);
    expect_symbol(&img, "DK_ADDR", DISK_ADDR);
    expect_symbol(&img, "DK_CMD", DISK_CMD);
    expect_symbol(&img, "DK_STATUS", DISK_STATUS);
    expect_symbol(&img, "DK_CTRL", DISK_CTRL);
    expect_symbol(&img, "DK_SIZE", DISK_SIZE);
    expect_symbol(&img, "DK_DMA_BASE", DISK_DMA_BASE);
    expect_symbol(&img, "DK_DMA_BOUND", DISK_DMA_BOUND);
    expect_symbol(&img, "CMD_READ", DISK_CMD_READ);
    expect_symbol(&img, "CMD_WRITE", DISK_CMD_WRITE);
    expect_symbol(&img, "S_DONE", DISK_STATUS_DONE);
    expect_symbol(&img, "S_ERROR", DISK_STATUS_ERROR);
    asm_image_free(&img);
}

Test(programs_lib, control_block_constants_are_those_of_isa_h)
{
    struct asm_image img = assemble(".include \"lib/machine.inc\"\nhalt\n");
    static const struct restated vmcb[] = {
        {"VMCB_PSW", VMCB_PSW},
        {"VMCB_REGS", VMCB_REGS},
        {"VMCB_EXIT_INSNS", VMCB_EXIT_INSNS},
        {"VMCB_EXIT_TRAPS", VMCB_EXIT_TRAPS},
        {"VMCB_PORTS", VMCB_PORTS},
        {"VMCB_CTRL", VMCB_CTRL},
        {"VMCB_SHADOW_FLAGS", VMCB_SHADOW_FLAGS},
        {"VMCB_SHADOW_BASE", VMCB_SHADOW_BASE},
        {"VMCB_SHADOW_BOUND", VMCB_SHADOW_BOUND},
        {"VMCB_TRAP_AREA", VMCB_TRAP_AREA},
        {"VMCB_SLT_BASE", VMCB_SLT_BASE},
        {"VMCB_SLT_BOUND", VMCB_SLT_BOUND},
        {"VMCB_EXIT_REASON", VMCB_EXIT_REASON},
        {"VMCB_EXIT_CAUSE", VMCB_EXIT_CAUSE},
        {"VMCB_EXIT_VALUE", VMCB_EXIT_VALUE},
        {"VMCB_EXIT_INSN", VMCB_EXIT_INSN},
        {"VMCB_EXIT_PC", VMCB_EXIT_PC},
        {"VMCB_EXIT_GPA", VMCB_EXIT_GPA},
        {"VMCB_WORDS", VMCB_WORDS},
        {"VMCB_CTRL_SHADOW", VMCB_CTRL_SHADOW},
        {"VMCB_CTRL_SLT", VMCB_CTRL_SLT},
    };
    for (size_t i = 0; i < sizeof vmcb / sizeof vmcb[0]; i++) expect_symbol(&img, vmcb[i].name, vmcb[i].value);
#define X(id, n, str) expect_symbol(&img, "EXIT_" #id, EXIT_##id);
    ISA_EXIT_REASONS(X)
#undef X
    const char *const bits[] = {"X_HALT", "X_LPSW", "X_PUSHF", "X_POPF", "X_SRR",
                                "X_STMR", "X_RTMR", "X_IN", "X_OUT", "X_TLBFLUSH"};
    const uint8_t opcodes[] = {ISA_HALT, ISA_LPSW, ISA_PUSHF, ISA_POPF, ISA_SRR,
                               ISA_STMR, ISA_RTMR, ISA_IN, ISA_OUT, ISA_TLBFLUSH};
    for (unsigned i = 0; i < sizeof opcodes; i++)
        expect_symbol(&img, bits[i], 1u << (opcodes[i] - ISA_VMCB_FIRST_OPCODE));
    asm_image_free(&img);
}

/* The CAUSE word: the cause in its low 8 bits (ISA.md; isa.h names no mask,
 * machine.c writes cause | detail << 8), a MEM trap's detail above them. */
Test(programs_lib, cause_words_are_cause_and_detail)
{
    struct asm_image img = assemble(".include \"lib/machine.inc\"\nhalt\n");
    expect_symbol(&img, "CAUSE_MASK", 0xffu);
    cr_assert_lt(CAUSE_COUNT - 1, 0x100, "every cause fits under CAUSE_MASK");
    expect_symbol(&img, "C_MEM_BOUND", CAUSE_MEM | MEMF_BOUND << 8);
    expect_symbol(&img, "C_MEM_INVALID", CAUSE_MEM | MEMF_INVALID << 8);
    expect_symbol(&img, "C_MEM_WRITE", CAUSE_MEM | MEMF_WRITE << 8);
    expect_symbol(&img, "C_MEM_PHYSICAL", CAUSE_MEM | MEMF_PHYSICAL << 8);
    asm_image_free(&img);
}

Test(programs_lib, it_places_no_words)
{
    struct asm_image img = assemble(".include \"lib/machine.inc\"\nhalt\n");
    cr_assert_eq(img.nsegments, 1);
    cr_assert_eq(img.segments[0].count, 1, "only the halt: the include is names and macros");
    asm_image_free(&img);
}

Test(programs_lib, save_and_restore_registers_1_to_15)
{
    struct asm_image img =
        assemble(".include \"lib/machine.inc\"\nsave_regs 100\nrestore_regs area\narea: .space 16\n");
    const uint32_t *w = img.segments[0].words;
    uint32_t area = 16 + 30;
    for (unsigned r = 1; r < ISA_NREGS; r++) {
        cr_assert_eq(w[r - 1], isa_make_i(ISA_ST, r, 0, 100 + r), "save_regs, r%u", r);
        cr_assert_eq(w[15 + r - 1], isa_make_i(ISA_LD, r, 0, area + r), "restore_regs, r%u", r);
    }
    asm_image_free(&img);
}

Test(programs_lib, install_handler_writes_the_new_psw)
{
    struct asm_image img = assemble(".include \"lib/machine.inc\"\ninstall_handler there\nthere: halt\n");
    const uint32_t *w = img.segments[0].words;
    uint32_t there = 16 + 9; /* li of a known small value is one word; la is two */
    const uint32_t expected[] = {
        isa_make_i(ISA_ADDI, 1, 0, PSW_M),
        isa_make_i(ISA_ST, 1, 0, TRAP_NEW_PSW + 0),
        isa_make_i(ISA_LUI, 1, 0, there >> 16),
        isa_make_i(ISA_ORI, 1, 1, there & 0xffff),
        isa_make_i(ISA_ST, 1, 0, TRAP_NEW_PSW + 1),
        isa_make_r(ISA_SRR, 2, 3, 0),
        isa_make_i(ISA_ST, 2, 0, TRAP_NEW_PSW + 2),
        isa_make_i(ISA_ST, 3, 0, TRAP_NEW_PSW + 3),
        isa_make_i(ISA_ST, 0, 0, TRAP_NEW_PSW + 4),
    };
    cr_assert_eq(img.segments[0].count, 10);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_assert_eq(w[i], expected[i], "word %zu: 0x%08x, expected 0x%08x", i, w[i], expected[i]);
    asm_image_free(&img);
}

/* programs/lib/split.inc restates the split driver's interface (vmm.h). */
Test(programs_lib, split_inc_is_the_split_drivers_interface)
{
    static const struct restated names[] = {
        {"SPLIT_RING", SPLIT_HCALL_RING},
        {"SPLIT_KICK", SPLIT_HCALL_KICK},
        {"REQ_PROD", SPLIT_REQ_PROD},
        {"REQ_EVENT", SPLIT_REQ_EVENT},
        {"RSP_PROD", SPLIT_RSP_PROD},
        {"RSP_EVENT", SPLIT_RSP_EVENT},
        {"SPLIT_SLOTS_AT", SPLIT_SLOTS_AT},
        {"SPLIT_SLOTS", SPLIT_SLOTS},
        {"SPLIT_SLOT_WORDS", SPLIT_SLOT_WORDS},
        {"SL_OP", SPLIT_OP},
        {"SL_SECTOR", SPLIT_SECTOR},
        {"SL_ADDR", SPLIT_ADDR},
        {"SL_STATUS", SPLIT_STATUS},
        {"SPLIT_RING_WORDS", SPLIT_RING_WORDS},
    };
    EXPECT_RESTATED("lib/split.inc", names);
}

/* programs/lib/pv.inc restates pv's hypercall interface (vmm.h). */
Test(programs_lib, pv_inc_is_the_paravirtual_interface)
{
    static const struct restated names[] = {
        {"PV_HELLO", PV_HCALL_HELLO},
        {"PV_SHARED", PV_HCALL_SHARED},
        {"PV_PSW", PV_HCALL_PSW},
        {"PV_TIMER_SET", PV_HCALL_TIMER_SET},
        {"PV_TIMER_READ", PV_HCALL_TIMER_READ},
        {"PV_CONSOLE", PV_HCALL_CONSOLE},
        {"PV_HALT", PV_HCALL_HALT},
        {"PV_PTE_BATCH", PV_HCALL_PTE_BATCH},
        {"PV_VERSION", PV_VERSION},
        {"PV_SH_MASK", PV_SH_MASK},
        {"PV_SH_PENDING", PV_SH_PENDING},
        {"PV_SH_PSW", PV_SH_PSW},
        {"PV_SHARED_WORDS", PV_SHARED_WORDS},
        {"PV_PTE_BATCH_MAX", PV_PTE_BATCH_MAX},
    };
    EXPECT_RESTATED("lib/pv.inc", names);
    cr_assert_eq(PV_HCALL_FIRST + PV_HCALL_COUNT - 1, PV_HCALL_PTE_BATCH, "PV_HCALL_COUNT covers every call");
}
