/*
 * test_isa.c: the instruction table against ISA.md, the field helpers, the
 * PSW words, the trap area, the MEM details and the disassembler.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

/* Every instruction ISA.md lists, with its format. */
static const struct {
    const char *mn;
    enum isa_format fmt;
} documented[] = {
    {"add", FMT_R},  {"sub", FMT_R},   {"mul", FMT_R},    {"div", FMT_R},   {"rem", FMT_R},
    {"and", FMT_R},  {"or", FMT_R},    {"xor", FMT_R},    {"shl", FMT_R},   {"shr", FMT_R},
    {"sra", FMT_R},  {"slt", FMT_R},   {"sltu", FMT_R},   {"addi", FMT_I},  {"andi", FMT_I},
    {"ori", FMT_I},  {"xori", FMT_I},  {"shli", FMT_I},   {"shri", FMT_I},  {"srai", FMT_I},
    {"slti", FMT_I}, {"lui", FMT_I},   {"ld", FMT_I},     {"st", FMT_I},    {"beq", FMT_I},
    {"bne", FMT_I},  {"blt", FMT_I},   {"bge", FMT_I},    {"bltu", FMT_I},  {"bgeu", FMT_I},
    {"jmp", FMT_J},  {"call", FMT_J},  {"jr", FMT_I},     {"callr", FMT_I}, {"svc", FMT_I},
    {"hcall", FMT_I}, {"halt", FMT_J}, {"lpsw", FMT_I},   {"pushf", FMT_I}, {"popf", FMT_I},
    {"srr", FMT_R},  {"stmr", FMT_I},  {"rtmr", FMT_I},   {"in", FMT_I},    {"out", FMT_I},
    {"tlbflush", FMT_J},
    /* Not in ISA.md: the hardware-assist extension (isa/README.md). */
    {"vmenter", FMT_I},
};
#define NDOC (sizeof documented / sizeof documented[0])

static bool in_list(const char *mn, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(*list, mn) == 0) return true;
    return false;
}

Test(isa, table_matches_isa_md)
{
    cr_assert_eq(isa_op_count(), NDOC, "isa.def has %zu instructions, ISA.md %zu", isa_op_count(), NDOC);
    for (size_t i = 0; i < NDOC; i++) {
        const struct isa_op *op = isa_op_by_mnemonic(documented[i].mn);
        cr_assert_not_null(op, "'%s' missing from isa.def", documented[i].mn);
        cr_assert_eq(op->format, documented[i].fmt, "'%s' format", op->mnemonic);
    }
    static const char *const system[] = {"halt", "lpsw", "pushf", "popf", "srr", "stmr",
                                         "rtmr", "in", "out", "tlbflush", "vmenter", NULL};
    static const char *const zext[] = {"andi", "ori", "xori", "lui", NULL};
    static const char *const traps[] = {"svc", "hcall", NULL};
    static const char *const loads[] = {"ld", "lpsw", NULL};
    static const char *const stores[] = {"st", NULL};
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        cr_assert_eq(!!(op->flags & ISA_F_SYSTEM), in_list(op->mnemonic, system), "%s SYSTEM", op->mnemonic);
        cr_assert_eq(!!(op->flags & ISA_F_ZEXT), in_list(op->mnemonic, zext), "%s ZEXT", op->mnemonic);
        cr_assert_eq(!!(op->flags & ISA_F_TRAPS), in_list(op->mnemonic, traps), "%s TRAPS", op->mnemonic);
        cr_assert_eq(!!(op->flags & ISA_F_LOAD), in_list(op->mnemonic, loads), "%s LOAD", op->mnemonic);
        cr_assert_eq(!!(op->flags & ISA_F_STORE), in_list(op->mnemonic, stores), "%s STORE", op->mnemonic);
        cr_assert(op->effect && op->effect[0], "%s has no effect text", op->mnemonic);
    }
}

Test(isa, opcodes_unique_and_lookups)
{
    bool used[ISA_OPCODE_SLOTS] = {false};
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        cr_assert_neq(op->opcode, 0, "opcode 0 is never defined");
        cr_assert_not(used[op->opcode], "opcode 0x%x twice", op->opcode);
        used[op->opcode] = true;
        cr_assert_eq(isa_op_by_opcode(op->opcode), op);
        cr_assert_eq(isa_op_by_mnemonic(op->mnemonic), op);
        for (size_t k = 0; k < i; k++) cr_assert_str_neq(isa_ops()[k].mnemonic, op->mnemonic);
    }
    for (unsigned o = 0; o < ISA_OPCODE_SLOTS; o++)
        if (!used[o]) cr_assert_null(isa_op_by_opcode((uint8_t)o));
    cr_assert_null(isa_op_by_mnemonic("ADD"));
    cr_assert_null(isa_op_by_mnemonic(""));
    cr_assert_null(isa_op_by_mnemonic("nop"), "pseudo-instructions are not in the table");
}

/* The operand kind agrees with the format, and the flags with the operand kind. */
Test(isa, operands_agree_with_format)
{
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        enum isa_format want;
        switch ((enum isa_operands)op->operands) {
        case OPS_RRR:
        case OPS_RR: want = FMT_R; break;
        case OPS_NONE:
        case OPS_ADDR: want = FMT_J; break;
        default: want = FMT_I; break;
        }
        cr_assert_eq(op->format, want, "%s", op->mnemonic);
        if (op->operands == OPS_BRANCH || op->operands == OPS_ADDR)
            cr_assert(op->flags & ISA_F_BRANCH, "%s", op->mnemonic);
        if (op->operands == OPS_RRR || op->operands == OPS_RRI)
            cr_assert(op->flags & ISA_F_WRITES_A, "%s", op->mnemonic);
    }
}

Test(isa, fields_and_encoders)
{
    uint64_t s = 12345;
    for (int i = 0; i < 2000; i++) {
        uint64_t x = test_support_rand(&s);
        uint8_t op = (uint8_t)x;
        unsigned a = (x >> 8) & 15, b = (x >> 12) & 15, c = (x >> 16) & 15;
        uint32_t imm16 = (uint32_t)(x >> 20) & 0xffff, imm24 = (uint32_t)(x >> 36) & 0xffffff;
        uint32_t r = isa_make_r(op, a, b, c), iw = isa_make_i(op, a, b, imm16), j = isa_make_j(op, imm24);
        cr_assert_eq(isa_opcode_of(r), op);
        cr_assert_eq(isa_field_a(r), a);
        cr_assert_eq(isa_field_b(r), b);
        cr_assert_eq(isa_field_c(r), c);
        cr_assert_eq(r & 0xfff, 0, "R format: bits 11..0 are zero");
        cr_assert_eq(isa_field_a(iw), a);
        cr_assert_eq(isa_field_b(iw), b);
        cr_assert_eq(isa_imm16(iw), imm16);
        cr_assert_eq(isa_simm16(iw), (uint32_t)(int32_t)(int16_t)imm16);
        cr_assert_eq(isa_opcode_of(j), op);
        cr_assert_eq(isa_imm24(j), imm24);
        /* oversized arguments are cut to their fields */
        cr_assert_eq(isa_make_i(op, a + 16, b + 32, imm16 | 0xabc0000u), iw);
        cr_assert_eq(isa_make_j(op, imm24 | 0x7f000000u), j);
    }
    /* the tests' constant encoders are the same thing */
    for (size_t i = 0; i < isa_op_count(); i++) {
        uint8_t op = isa_ops()[i].opcode;
        cr_assert_eq(isa_make_r(op, 1, 2, 3),
                     (uint32_t)op << 24 | (TS_R(ADD, 1, 2, 3) & 0xffffffu));
        cr_assert_eq(isa_make_i(op, 4, 5, 0xfff0),
                     (uint32_t)op << 24 | (TS_I(ADD, 4, 5, -16) & 0xffffffu));
        cr_assert_eq(isa_make_j(op, 0xabcdef), (uint32_t)op << 24 | (TS_J(ADD, 0xabcdef) & 0xffffffu));
    }
    cr_assert_eq(TS_R(SRR, 1, 2, 0), isa_make_r(ISA_SRR, 1, 2, 0));
    cr_assert_eq(TS_I(ADDI, 15, 14, -1), isa_make_i(ISA_ADDI, 15, 14, 0xffff));
    cr_assert_eq(TS_J(JMP, 0x1000000), isa_make_j(ISA_JMP, 0));
    /* immediates as the executor sees them */
    cr_assert_eq(isa_imm_value(isa_op_by_opcode(ISA_ADDI), TS_I(ADDI, 0, 0, 0x8000)), 0xffff8000u);
    cr_assert_eq(isa_imm_value(isa_op_by_opcode(ISA_ORI), TS_I(ORI, 0, 0, 0x8000)), 0x8000u);
    cr_assert_eq(isa_imm_value(isa_op_by_opcode(ISA_LUI), TS_I(LUI, 0, 0, 0xffff)), 0xffffu);
}

Test(isa, psw_words)
{
    struct psw p = {PSW_M | PSW_TP, 0x1234, 0x5000, 0x600, 77};
    uint32_t w[PSW_WORDS];
    isa_psw_to_words(&p, w);
    cr_assert_eq(w[0], PSW_M | PSW_TP);
    cr_assert_eq(w[1], 0x1234);
    cr_assert_eq(w[2], 0x5000);
    cr_assert_eq(w[3], 0x600);
    cr_assert_eq(w[4], 77);
    w[0] = 0xffffffff;
    struct psw q = isa_psw_from_words(w);
    cr_assert_eq(q.flags, PSW_M | PSW_IE | PSW_PG | PSW_TP, "bits outside M IE PG TP dropped");
    cr_assert_eq(q.pc, 0x1234);
    cr_assert_eq(q.timer, 77);
    cr_assert_eq(PSW_M, 1);
    cr_assert_eq(PSW_IE, 2);
    cr_assert_eq(PSW_PG, 4);
    cr_assert_eq(PSW_TP, 8);
    cr_assert_eq(TRAP_OLD_PSW, 0);
    cr_assert_eq(TRAP_CAUSE, 5);
    cr_assert_eq(TRAP_VALUE, 6);
    cr_assert_eq(TRAP_NEW_PSW, 8);
    cr_assert_eq(TRAP_AREA_WORDS, 16);
    cr_assert_eq(ISA_PAGE_WORDS, 256);
    cr_assert_eq(PTE_V, 1);
    cr_assert_eq(PTE_W, 2);
    cr_assert_eq(ISA_DEFAULT_MEMSIZE, 1048576u);
    cr_assert_eq(ISA_DEFAULT_ENTRY, 16u);
}

/* ---- The trap area ---------------------------------------------------------------- */

/* A trap area full of a marker, so that a word written by mistake shows. */
static void fill_area(uint32_t *area, uint32_t marker)
{
    for (unsigned i = 0; i < TRAP_AREA_WORDS; i++) area[i] = marker + i;
}

Test(isa, trap_deliver_writes_words_0_to_6_only)
{
    uint32_t area[TRAP_AREA_WORDS + 2];
    fill_area(area, 0xa0a0a000u);
    area[TRAP_AREA_WORDS] = area[TRAP_AREA_WORDS + 1] = 0x5a5a5a5au;
    const struct isa_trap_record t = {CAUSE_MEM, MEMF_WRITE, 0xdeadbeef,
                                      {PSW_M | PSW_PG, 0x1234, 0x5000, 0x600, 77}};
    isa_trap_deliver(area, &t);
    const uint32_t want[7] = {PSW_M | PSW_PG, 0x1234, 0x5000, 0x600, 77, 2 | 2 << 8, 0xdeadbeef};
    for (unsigned i = 0; i < 7; i++)
        cr_assert_eq(area[i], want[i], "word %u = 0x%x, want 0x%x", i, area[i], want[i]);
    for (unsigned i = 7; i < TRAP_AREA_WORDS; i++)
        cr_assert_eq(area[i], 0xa0a0a000u + i, "word %u was written", i);
    cr_assert_eq(area[TRAP_AREA_WORDS], 0x5a5a5a5au, "written past the trap area");
    cr_assert_eq(area[TRAP_AREA_WORDS + 1], 0x5a5a5a5au, "written past the trap area");
}

Test(isa, trap_cause_word_keeps_eight_bits_each)
{
    cr_assert_eq(isa_trap_cause_word(CAUSE_SVC, 0), 5);
    cr_assert_eq(isa_trap_cause_word(CAUSE_MEM, MEMF_PHYSICAL), 0x302);
    cr_assert_eq(isa_trap_cause_word(CAUSE_MEM, 0x1ff), 0xff02, "detail is 8 bits");
    uint32_t area[TRAP_AREA_WORDS] = {0};
    isa_trap_deliver(area, &(struct isa_trap_record){CAUSE_MEM, 0x1203, 7, {0}});
    cr_assert_eq(area[TRAP_CAUSE], 0x0302, "bits 31..16 of word 5 stay 0");
}

Test(isa, trap_decode_reads_back_what_deliver_wrote)
{
    uint32_t area[TRAP_AREA_WORDS];
    for (unsigned c = 1; c < CAUSE_COUNT; c++) {
        fill_area(area, 0x11110000u * c);
        const struct isa_trap_record t = {(enum isa_cause)c, c == CAUSE_MEM ? MEMF_INVALID : 0,
                                          0x100u + c, {PSW_IE | PSW_TP, 40u + c, 3, 4, c}};
        isa_trap_deliver(area, &t);
        struct isa_trap_record back;
        cr_assert(isa_trap_decode(area, &back), "cause %u", c);
        cr_assert_eq(back.cause, t.cause);
        cr_assert_eq(back.detail, t.detail);
        cr_assert_eq(back.value, t.value);
        cr_assert(memcmp(&back.old_psw, &t.old_psw, sizeof t.old_psw) == 0, "cause %u", c);
    }
    /* The old PSW's flags come back masked, as any PSW loaded from words. */
    area[TRAP_OLD_PSW] = 0xfffffff0u | PSW_M;
    area[TRAP_CAUSE] = 0xabcd0000u | isa_trap_cause_word(CAUSE_DIV, 0);
    struct isa_trap_record back;
    cr_assert(isa_trap_decode(area, &back), "bits 31..16 of word 5 are ignored");
    cr_assert_eq(back.cause, CAUSE_DIV);
    cr_assert_eq(back.old_psw.flags, PSW_M);
}

Test(isa, trap_decode_refuses_a_word_5_without_a_cause)
{
    const uint32_t not_causes[] = {0, CAUSE_COUNT, 0xff, 0x100 /* detail 1, cause 0 */, 0x1234500};
    for (size_t i = 0; i < sizeof not_causes / sizeof not_causes[0]; i++) {
        uint32_t area[TRAP_AREA_WORDS] = {0};
        area[TRAP_CAUSE] = not_causes[i];
        struct isa_trap_record back = {CAUSE_IO, 9, 9, {9, 9, 9, 9, 9}};
        cr_assert_not(isa_trap_decode(area, &back), "word 5 = 0x%x", not_causes[i]);
        cr_assert_eq(back.cause, CAUSE_IO, "the record is left untouched");
        cr_assert_eq(back.value, 9);
    }
}

Test(isa, trap_new_psw_and_the_unhandled_rule)
{
    uint32_t area[TRAP_AREA_WORDS] = {0};
    for (unsigned i = 0; i < TRAP_NEW_PSW; i++) area[i] = 0xffffffffu;
    for (unsigned i = TRAP_NEW_PSW + PSW_WORDS; i < TRAP_AREA_WORDS; i++) area[i] = 0xffffffffu;
    cr_assert(isa_trap_unhandled(area), "only words 8..12 count");
    for (unsigned i = 0; i < PSW_WORDS; i++) {
        area[TRAP_NEW_PSW + i] = 1u << 31;
        cr_assert_not(isa_trap_unhandled(area), "new PSW word %u set", i);
        area[TRAP_NEW_PSW + i] = 0;
    }
    /* A new PSW whose only bits are flags the hardware drops still counts
     * as installed: the rule reads the words, not the loaded PSW. */
    area[TRAP_NEW_PSW] = 0x80;
    cr_assert_not(isa_trap_unhandled(area));
    const uint32_t words[PSW_WORDS] = {0xff, 0x800, 0x10, 0x20, 5};
    memcpy(&area[TRAP_NEW_PSW], words, sizeof words);
    struct psw p = isa_trap_new_psw(area);
    cr_assert_eq(p.flags, PSW_FLAGS_MASK);
    cr_assert_eq(p.pc, 0x800);
    cr_assert_eq(p.base, 0x10);
    cr_assert_eq(p.bound, 0x20);
    cr_assert_eq(p.timer, 5);
}

/* ---- MEM details ------------------------------------------------------------------- */

Test(isa, mem_fault_names_and_phrases)
{
    cr_assert_eq(MEMF_BOUND, 0);
    cr_assert_eq(MEMF_INVALID, 1);
    cr_assert_eq(MEMF_WRITE, 2);
    cr_assert_eq(MEMF_PHYSICAL, 3);
    cr_assert_eq(MEMF_COUNT, 4);
    const char *names[] = {"bound", "invalid", "write", "physical"};
    for (unsigned d = 0; d < MEMF_COUNT; d++) {
        cr_assert_str_eq(isa_mem_fault_name(d), names[d]);
        const char *phrase = isa_mem_fault_phrase(d);
        cr_assert_not_null(phrase);
        cr_assert_gt(strlen(phrase), strlen("page"), "detail %u: '%s'", d, phrase);
        for (unsigned e = 0; e < d; e++)
            cr_assert_str_neq(phrase, isa_mem_fault_phrase(e), "two details, one phrase");
    }
    cr_assert_str_eq(isa_mem_fault_phrase(MEMF_INVALID), "invalid page");
    cr_assert_null(isa_mem_fault_name(MEMF_COUNT));
    cr_assert_null(isa_mem_fault_phrase(MEMF_COUNT));
    cr_assert_null(isa_mem_fault_name(0xff));
    cr_assert_null(isa_mem_fault_phrase(UINT32_MAX));
}

static const char *label_of(void *ctx, uint32_t address)
{
    (void)ctx;
    return address == 0x200 ? "loop" : NULL;
}

Test(isa, disassembler)
{
    static const struct {
        uint32_t w;
        const char *text;
    } cases[] = {
        {TS_R(ADD, 1, 2, 3), "add r1, r2, r3"},
        {TS_R(SLTU, 15, 14, 0), "sltu r15, r14, r0"},
        {TS_I(ADDI, 1, 2, -1), "addi r1, r2, -1"},
        {TS_I(ANDI, 1, 2, 0xffff), "andi r1, r2, 65535"},
        {TS_I(LUI, 3, 0, 0x1234), "lui r3, 4660"},
        {TS_I(LD, 1, 2, -16), "ld r1, -16(r2)"},
        {TS_I(ST, 4, 14, 3), "st r4, 3(r14)"},
        {TS_I(BEQ, 1, 2, 4), "beq r1, r2, 0x105"},
        {TS_I(BNE, 1, 2, -2), "bne r1, r2, 0xff"},
        {TS_J(JMP, 0x1234), "jmp 0x1234"},
        {TS_J(CALL, 0x200), "call loop"},
        {TS_I(BLT, 0, 0, 0xff), "blt r0, r0, loop"},
        {TS_I(JR, 15, 0, 0), "jr r15"},
        {TS_I(CALLR, 3, 0, 0), "callr r3"},
        {TS_I(SVC, 0, 0, 42), "svc 42"},
        {TS_I(HCALL, 0, 0, -3), "hcall -3"},
        {TS_J(HALT, 0), "halt"},
        {TS_I(LPSW, 0, 2, 4), "lpsw 4(r2)"},
        {TS_I(PUSHF, 3, 0, 0), "pushf r3"},
        {TS_R(SRR, 1, 2, 0), "srr r1, r2"},
        {TS_I(IN, 1, 0, 1), "in r1, 1"},
        {TS_I(OUT, 1, 0, 0), "out r1, 0"},
        {TS_J(TLBFLUSH, 0), "tlbflush"},
        {0x00000000, ".word 0x00000000"},
        {0xff123456, ".word 0xff123456"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        isa_disassemble(cases[i].w, 0x100, label_of, NULL, buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].text);
    }
    /* without a label function, addresses are numbers */
    cr_assert_str_eq(isa_disassemble(TS_J(CALL, 0x200), 0, NULL, NULL, buf, sizeof buf), "call 0x200");
    /* a short buffer is cut and stays terminated */
    char small[6];
    memset(small, 'x', sizeof small);
    isa_disassemble(TS_R(ADD, 1, 2, 3), 0, NULL, NULL, small, sizeof small);
    cr_assert_str_eq(small, "add r");
    char one[1] = {'x'};
    isa_disassemble(TS_R(ADD, 1, 2, 3), 0, NULL, NULL, one, 1);
    cr_assert_eq(one[0], '\0');
    isa_disassemble(TS_R(ADD, 1, 2, 3), 0, NULL, NULL, one, 0); /* size 0: untouched */
}

/* Every defined instruction disassembles to its mnemonic first. */
Test(isa, disassembler_every_instruction)
{
    char buf[64];
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        isa_disassemble((uint32_t)op->opcode << 24, 0, NULL, NULL, buf, sizeof buf);
        size_t n = strlen(op->mnemonic);
        cr_assert(strncmp(buf, op->mnemonic, n) == 0 && (buf[n] == '\0' || buf[n] == ' '), "%s: %s",
                  op->mnemonic, buf);
    }
}
