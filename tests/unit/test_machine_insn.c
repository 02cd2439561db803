/*
 * test_machine_insn.c: every instruction of isa.def, one table-driven step at
 * a time, in supervisor mode (user-mode behaviour of the system instructions
 * is in test_machine_system.c).
 *
 * Each case places one instruction at TS_CODE in a standard test machine with
 * r1..r15 set to a pattern, applies its inputs, takes one machine_step and
 * checks everything: the registers that must change and that no other did,
 * memory, pc, PSW, the console, the run status, or the trap delivered.  The
 * last test fails if an instruction of the table has no case.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "support.h"

#define PC TS_CODE
#define DATA 0x300u

struct rv {
    uint8_t r; /* 0 ends the list */
    uint32_t v;
};
struct mv {
    uint32_t addr; /* physical; 0 ends the list */
    uint32_t v;
};

struct insn_case {
    const char *what;
    uint32_t insn;
    struct rv in[3];        /* registers before (the others hold the pattern) */
    struct rv out[3];       /* registers expected to change                   */
    struct mv mem_in[6];    /* memory before                                  */
    struct mv mem_out[2];   /* memory words expected to change                */
    uint32_t flags;         /* PSW flags before, besides M                    */
    uint32_t timer;         /* PSW timer before                               */
    uint32_t pc;            /* expected pc after; 0: PC + 1                   */
    bool psw_changes;       /* check psw_out instead of the default PSW after */
    struct psw psw_out;
    enum machine_stop stop; /* what machine_step returns                      */
    enum isa_cause trap;    /* the trap the step must deliver, or none        */
    uint32_t value;         /* its value                                      */
    uint32_t saved_pc;      /* its saved pc; 0: PC                            */
    const char *input;      /* fed to the console before                      */
    const char *output;     /* console output expected after                  */
    size_t input_left;      /* unread input expected after                    */
};

/* A case: its name, its instruction word, then designated fields. */
#define C(what_, insn_, ...) {.what = (what_), .insn = (insn_), __VA_ARGS__}
#define R(id, a, b, c) TS_R(id, a, b, c)
#define I(id, a, b, imm) TS_I(id, a, b, imm)
#define J(id, imm) TS_J(id, imm)
#define IN(...) .in = {__VA_ARGS__}
#define OUT(...) .out = {__VA_ARGS__}
#define MEMIN(...) .mem_in = {__VA_ARGS__}
#define MEMOUT(...) .mem_out = {__VA_ARGS__}
#define IMIN 0x80000000u
#define IMAX 0x7fffffffu
#define NEG(x) ((uint32_t) - (int32_t)(x))

static const struct insn_case alu_cases[] = {
    /* R-format arithmetic */
    C("add", R(ADD, 1, 2, 3), IN({2, 40}, {3, 2}), OUT({1, 42})),
    C("add wraps", R(ADD, 1, 2, 3), IN({2, IMAX}, {3, 1}), OUT({1, IMIN})),
    C("add wraps to 0", R(ADD, 1, 2, 3), IN({2, 0xffffffff}, {3, 1}), OUT({1, 0})),
    C("add rd = rs", R(ADD, 2, 2, 2), IN({2, 21}), OUT({2, 42})),
    C("add r0 stays 0", R(ADD, 0, 2, 3), IN({2, 1}, {3, 2})),
    C("add reads r0 as 0", R(ADD, 1, 0, 0), OUT({1, 0})),
    C("sub", R(SUB, 1, 2, 3), IN({2, 5}, {3, 7}), OUT({1, NEG(2)})),
    C("sub wraps", R(SUB, 1, 2, 3), IN({2, IMIN}, {3, 1}), OUT({1, IMAX})),
    C("sub r0 stays 0", R(SUB, 0, 2, 3), IN({2, 9}, {3, 1})),
    C("mul", R(MUL, 1, 2, 3), IN({2, 6}, {3, 7}), OUT({1, 42})),
    C("mul signed", R(MUL, 1, 2, 3), IN({2, NEG(3)}, {3, 5}), OUT({1, NEG(15)})),
    C("mul low 32 bits", R(MUL, 1, 2, 3), IN({2, 0x10000}, {3, 0x10001}), OUT({1, 0x10000})),
    C("mul overflow", R(MUL, 1, 2, 3), IN({2, IMAX}, {3, 2}), OUT({1, 0xfffffffe})),
    C("div", R(DIV, 1, 2, 3), IN({2, 7}, {3, 2}), OUT({1, 3})),
    C("div truncates toward 0", R(DIV, 1, 2, 3), IN({2, NEG(7)}, {3, 2}), OUT({1, NEG(3)})),
    C("div by negative", R(DIV, 1, 2, 3), IN({2, 7}, {3, NEG(2)}), OUT({1, NEG(3)})),
    C("div is signed", R(DIV, 1, 2, 3), IN({2, IMIN}, {3, 2}), OUT({1, 0xc0000000})),
    C("div INT_MIN / -1", R(DIV, 1, 2, 3), IN({2, IMIN}, {3, 0xffffffff}), OUT({1, IMIN})),
    C("div r0 stays 0", R(DIV, 0, 2, 3), IN({2, 8}, {3, 2})),
    C("rem", R(REM, 1, 2, 3), IN({2, 7}, {3, 2}), OUT({1, 1})),
    C("rem sign of dividend", R(REM, 1, 2, 3), IN({2, NEG(7)}, {3, 2}), OUT({1, NEG(1)})),
    C("rem by negative", R(REM, 1, 2, 3), IN({2, 7}, {3, NEG(2)}), OUT({1, 1})),
    C("rem INT_MIN % -1", R(REM, 1, 2, 3), IN({2, IMIN}, {3, 0xffffffff}), OUT({1, 0})),
    C("and", R(AND, 1, 2, 3), IN({2, 0xff00ff00}, {3, 0x0ff00ff0}), OUT({1, 0x0f000f00})),
    C("or", R(OR, 1, 2, 3), IN({2, 0xff00ff00}, {3, 0x0ff00ff0}), OUT({1, 0xfff0fff0})),
    C("xor", R(XOR, 1, 2, 3), IN({2, 0xff00ff00}, {3, 0x0ff00ff0}), OUT({1, 0xf0f0f0f0})),
    C("shl", R(SHL, 1, 2, 3), IN({2, 1}, {3, 31}), OUT({1, IMIN})),
    C("shl by 32 uses low 5 bits", R(SHL, 1, 2, 3), IN({2, 5}, {3, 32}), OUT({1, 5})),
    C("shl by 33", R(SHL, 1, 2, 3), IN({2, 5}, {3, 33}), OUT({1, 10})),
    C("shl by -31", R(SHL, 1, 2, 3), IN({2, 5}, {3, NEG(31)}), OUT({1, 10})),
    C("shr is logical", R(SHR, 1, 2, 3), IN({2, 0xf0000000}, {3, 4}), OUT({1, 0x0f000000})),
    C("shr by 31", R(SHR, 1, 2, 3), IN({2, IMIN}, {3, 31}), OUT({1, 1})),
    C("shr by 36", R(SHR, 1, 2, 3), IN({2, 0xf0000000}, {3, 36}), OUT({1, 0x0f000000})),
    C("sra is arithmetic", R(SRA, 1, 2, 3), IN({2, 0xf0000000}, {3, 4}), OUT({1, 0xff000000})),
    C("sra positive", R(SRA, 1, 2, 3), IN({2, 0x70000000}, {3, 4}), OUT({1, 0x07000000})),
    C("sra by 63", R(SRA, 1, 2, 3), IN({2, IMIN}, {3, 63}), OUT({1, 0xffffffff})),
    C("slt true", R(SLT, 1, 2, 3), IN({2, NEG(1)}, {3, 1}), OUT({1, 1})),
    C("slt false", R(SLT, 1, 2, 3), IN({2, 1}, {3, NEG(1)}), OUT({1, 0})),
    C("slt equal", R(SLT, 1, 2, 3), IN({2, 5}, {3, 5}), OUT({1, 0})),
    C("slt INT_MIN", R(SLT, 1, 2, 3), IN({2, IMIN}, {3, IMAX}), OUT({1, 1})),
    C("sltu false where slt is true", R(SLTU, 1, 2, 3), IN({2, NEG(1)}, {3, 1}), OUT({1, 0})),
    C("sltu true", R(SLTU, 1, 2, 3), IN({2, 1}, {3, NEG(1)}), OUT({1, 1})),
    C("sltu equal", R(SLTU, 1, 2, 3), IN({2, 5}, {3, 5}), OUT({1, 0})),

    /* I-format arithmetic: imm16 sign-extended except andi, ori, xori (and lui) */
    C("addi", I(ADDI, 1, 2, 2), IN({2, 40}), OUT({1, 42})),
    C("addi sign-extends", I(ADDI, 1, 2, 0xffff), IN({2, 5}), OUT({1, 4})),
    C("addi -32768", I(ADDI, 1, 2, 0x8000), IN({2, 0}), OUT({1, 0xffff8000})),
    C("addi 32767", I(ADDI, 1, 2, 0x7fff), IN({2, 1}), OUT({1, 0x8000})),
    C("addi wraps", I(ADDI, 1, 2, 1), IN({2, IMAX}), OUT({1, IMIN})),
    C("addi r0 stays 0", I(ADDI, 0, 0, 5)),
    C("andi zero-extends", I(ANDI, 1, 2, 0xffff), IN({2, 0xffffffff}), OUT({1, 0xffff})),
    C("andi", I(ANDI, 1, 2, 0x8001), IN({2, 0x12348765}), OUT({1, 0x8001})),
    C("ori zero-extends", I(ORI, 1, 2, 0x8000), IN({2, 0}), OUT({1, 0x8000})),
    C("ori", I(ORI, 1, 2, 0x00f0), IN({2, 0x0f000000}), OUT({1, 0x0f0000f0})),
    C("xori zero-extends", I(XORI, 1, 2, 0xffff), IN({2, 0xffffffff}), OUT({1, 0xffff0000})),
    C("xori", I(XORI, 1, 2, 0x0ff0), IN({2, 0x00ff}), OUT({1, 0x0f0f})),
    C("shli", I(SHLI, 1, 2, 4), IN({2, 0x0f}), OUT({1, 0xf0})),
    C("shli by 33 uses low 5 bits", I(SHLI, 1, 2, 33), IN({2, 3}), OUT({1, 6})),
    C("shli by 0xffff is 31", I(SHLI, 1, 2, 0xffff), IN({2, 1}), OUT({1, IMIN})),
    C("shri is logical", I(SHRI, 1, 2, 4), IN({2, 0xf0000000}), OUT({1, 0x0f000000})),
    C("shri by 32", I(SHRI, 1, 2, 32), IN({2, 0xf0000000}), OUT({1, 0xf0000000})),
    C("srai is arithmetic", I(SRAI, 1, 2, 4), IN({2, 0xf0000000}), OUT({1, 0xff000000})),
    C("srai by 0xffff is 31", I(SRAI, 1, 2, 0xffff), IN({2, 0x40000000}), OUT({1, 0})),
    C("slti sign-extends", I(SLTI, 1, 2, 0xffff), IN({2, NEG(5)}), OUT({1, 1})),
    C("slti false", I(SLTI, 1, 2, 0xffff), IN({2, 0}), OUT({1, 0})),
    C("slti signed compare", I(SLTI, 1, 2, 5), IN({2, 0xffffffff}), OUT({1, 1})),
    C("slti equal", I(SLTI, 1, 2, 5), IN({2, 5}), OUT({1, 0})),
    C("lui", I(LUI, 1, 0, 0x1234), OUT({1, 0x12340000})),
    C("lui top bit", I(LUI, 1, 0, 0xffff), OUT({1, 0xffff0000})),
    C("lui ignores field b", I(LUI, 1, 2, 0x8001), IN({2, 7}), OUT({1, 0x80010000})),
    C("lui r0 stays 0", I(LUI, 0, 0, 0x1234)),

    /* loads and stores (PG=0, base 0: virtual = physical) */
    C("ld", I(LD, 1, 2, 5), IN({2, DATA}), OUT({1, 0xcafe}), MEMIN({DATA + 5, 0xcafe})),
    C("ld negative offset", I(LD, 1, 2, 0xfff0), IN({2, DATA + 16}), OUT({1, 77}), MEMIN({DATA, 77})),
    C("ld address wraps", I(LD, 1, 2, 0xffff), IN({2, 0}), MEMIN({DATA, 1}), .trap = CAUSE_MEM,
     .value = 0xffffffff),
    C("ld into r0", I(LD, 0, 2, 0), IN({2, DATA}), MEMIN({DATA, 99})),
    C("ld rd = rs", I(LD, 2, 2, 1), IN({2, DATA}), OUT({2, 5}), MEMIN({DATA + 1, 5})),
    C("st", I(ST, 1, 2, 3), IN({1, 0xbeef}, {2, DATA}), MEMOUT({DATA + 3, 0xbeef})),
    C("st negative offset", I(ST, 1, 2, 0xffff), IN({1, 9}, {2, DATA + 1}), MEMOUT({DATA, 9})),
    C("st r0 stores 0", I(ST, 0, 2, 0), IN({2, DATA}), MEMIN({DATA, 5}), MEMOUT({DATA, 0})),
    C("st into the trap area", I(ST, 1, 0, 5), IN({1, 0x77}), MEMOUT({5, 0x77})),

    /* branches: taken, not taken, backwards, extremes */
    C("beq taken", I(BEQ, 1, 2, 5), IN({1, 3}, {2, 3}), .pc = PC + 6),
    C("beq not taken", I(BEQ, 1, 2, 5), IN({1, 3}, {2, 4})),
    C("beq backwards", I(BEQ, 1, 2, 0xfffd), IN({1, 3}, {2, 3}), .pc = PC - 2),
    C("beq to itself", I(BEQ, 0, 0, 0xffff), .pc = PC),
    C("beq -32768", I(BEQ, 0, 0, 0x8000), .pc = PC + 1 - 32768),
    C("beq +32767", I(BEQ, 0, 0, 0x7fff), .pc = PC + 1 + 32767),
    C("bne taken", I(BNE, 1, 2, 5), IN({1, 3}, {2, 4}), .pc = PC + 6),
    C("bne not taken", I(BNE, 1, 2, 5), IN({1, 3}, {2, 3})),
    C("bne backwards", I(BNE, 1, 2, 0xfff0), IN({1, 3}, {2, 4}), .pc = PC + 1 - 16),
    C("blt taken signed", I(BLT, 1, 2, 5), IN({1, NEG(1)}, {2, 1}), .pc = PC + 6),
    C("blt not taken signed", I(BLT, 1, 2, 5), IN({1, 1}, {2, NEG(1)})),
    C("blt not taken equal", I(BLT, 1, 2, 5), IN({1, 1}, {2, 1})),
    C("blt backwards", I(BLT, 1, 2, 0xfffe), IN({1, IMIN}, {2, IMAX}), .pc = PC - 1),
    C("bge taken equal", I(BGE, 1, 2, 5), IN({1, 1}, {2, 1}), .pc = PC + 6),
    C("bge taken signed", I(BGE, 1, 2, 5), IN({1, 1}, {2, NEG(1)}), .pc = PC + 6),
    C("bge not taken", I(BGE, 1, 2, 5), IN({1, NEG(1)}, {2, 1})),
    C("bge backwards", I(BGE, 1, 2, 0xfff8), IN({1, 2}, {2, 1}), .pc = PC - 7),
    C("bltu taken", I(BLTU, 1, 2, 5), IN({1, 1}, {2, NEG(1)}), .pc = PC + 6),
    C("bltu not taken unsigned", I(BLTU, 1, 2, 5), IN({1, NEG(1)}, {2, 1})),
    C("bltu not taken equal", I(BLTU, 1, 2, 5), IN({1, 7}, {2, 7})),
    C("bltu backwards", I(BLTU, 1, 2, 0xffff), IN({1, 0}, {2, 1}), .pc = PC),
    C("bgeu taken unsigned", I(BGEU, 1, 2, 5), IN({1, NEG(1)}, {2, 1}), .pc = PC + 6),
    C("bgeu taken equal", I(BGEU, 1, 2, 5), IN({1, 7}, {2, 7}), .pc = PC + 6),
    C("bgeu not taken", I(BGEU, 1, 2, 5), IN({1, 1}, {2, NEG(1)})),
    C("bgeu backwards", I(BGEU, 1, 2, 0xff00), IN({1, 1}, {2, 0}), .pc = PC + 1 - 256),

    /* jumps and calls: r15 is the link */
    C("jmp", J(JMP, 0x1234), .pc = 0x1234),
    C("jmp 24 bits", J(JMP, 0xabcdef), .pc = 0xabcdef),
    C("jmp backwards", J(JMP, 16), .pc = 16),
    C("call", J(CALL, 0x2000), OUT({15, PC + 1}), .pc = 0x2000),
    C("call 24 bits", J(CALL, 0xffffff), OUT({15, PC + 1}), .pc = 0xffffff),
    C("jr", I(JR, 3, 0, 0), IN({3, 0x4321}), .pc = 0x4321),
    C("jr 32 bits", I(JR, 3, 0, 0), IN({3, 0x89abcdef}), .pc = 0x89abcdef),
    C("jr r15", I(JR, 15, 0, 0), IN({15, 0x222}), .pc = 0x222),
    C("callr", I(CALLR, 3, 0, 0), IN({3, 0x4321}), OUT({15, PC + 1}), .pc = 0x4321),
    C("callr r15 jumps to the old r15", I(CALLR, 15, 0, 0), IN({15, 0x999}), OUT({15, PC + 1}),
     .pc = 0x999),

    /* traps of ordinary instructions */
    C("div by 0", R(DIV, 1, 2, 3), IN({2, 7}, {3, 0}), .trap = CAUSE_DIV, .value = 0),
    C("rem by 0", R(REM, 1, 2, 3), IN({2, 7}, {3, 0}), .trap = CAUSE_DIV, .value = 0),
    C("div 0 by 0", R(DIV, 0, 0, 0), .trap = CAUSE_DIV, .value = 0),
    C("svc", I(SVC, 0, 0, 42), .trap = CAUSE_SVC, .value = 42, .saved_pc = PC + 1),
    C("svc ignores a and b", I(SVC, 5, 6, 7), .trap = CAUSE_SVC, .value = 7, .saved_pc = PC + 1),
    C("svc value sign-extended", I(SVC, 0, 0, 0xffff), .trap = CAUSE_SVC, .value = 0xffffffff,
     .saved_pc = PC + 1),
    C("hcall", I(HCALL, 0, 0, 0x1234), .trap = CAUSE_HCALL, .value = 0x1234, .saved_pc = PC + 1),
    C("hcall value sign-extended", I(HCALL, 0, 0, 0x8000), .trap = CAUSE_HCALL,
     .value = 0xffff8000, .saved_pc = PC + 1),
    C("opcode 0 is ILL", 0x00000000, .trap = CAUSE_ILL, .value = 0),
    C("opcode 0 with fields is ILL", 0x00123456, .trap = CAUSE_ILL, .value = 0x00123456),
    C("opcode 0xff is ILL", 0xff000001, .trap = CAUSE_ILL, .value = 0xff000001),
    C("opcode 0x0e is ILL", 0x0e123000, .trap = CAUSE_ILL, .value = 0x0e123000),

    /* the timer counts ordinary instructions, and not the trapping ones */
    C("add decrements the timer", R(ADD, 1, 2, 3), IN({2, 1}, {3, 1}), OUT({1, 2}), .timer = 10),
    C("add reaching 0 sets TP", R(ADD, 1, 2, 3), IN({2, 1}, {3, 1}), OUT({1, 2}), .timer = 1),
    C("st decrements the timer", I(ST, 1, 2, 0), IN({1, 3}, {2, DATA}), MEMOUT({DATA, 3}), .timer = 3),
    C("jmp decrements the timer", J(JMP, 0x500), .pc = 0x500, .timer = 2),
    C("svc does not", I(SVC, 0, 0, 1), .timer = 4, .trap = CAUSE_SVC, .value = 1, .saved_pc = PC + 1),
    C("div by 0 does not", R(DIV, 1, 2, 0), .timer = 4, .trap = CAUSE_DIV),
};

/* Supervisor mode: every system instruction simply executes. */
static const struct insn_case system_cases[] = {
    C("halt", J(HALT, 0), .stop = MACHINE_HALT),
    C("halt ignores imm24", J(HALT, 0x123456), .stop = MACHINE_HALT),
    C("halt decrements the timer", J(HALT, 0), .timer = 7, .stop = MACHINE_HALT),
    C("lpsw", I(LPSW, 0, 2, 4), IN({2, DATA}),
     MEMIN({DATA + 4, PSW_IE | PSW_PG}, {DATA + 5, 0x4444}, {DATA + 6, 0x2000}, {DATA + 7, 3},
           {DATA + 8, 9}),
     .psw_changes = true, .psw_out = {PSW_IE | PSW_PG, 0x4444, 0x2000, 3, 9}),
    C("lpsw to user mode, high bits dropped", I(LPSW, 0, 2, 0xffff), IN({2, DATA + 1}),
     MEMIN({DATA, 0xfffffff2}, {DATA + 1, 0x50}, {DATA + 2, 0x100}, {DATA + 3, 0x200},
           {DATA + 4, 0}),
     .psw_changes = true, .psw_out = {PSW_IE, 0x50, 0x100, 0x200, 0}),
    C("lpsw sets TP", I(LPSW, 0, 0, DATA), MEMIN({DATA, PSW_M | PSW_TP}, {DATA + 1, 0x60}, {DATA + 3, 5}),
     .psw_changes = true, .psw_out = {PSW_M | PSW_TP, 0x60, 0, 5, 0}),
    C("lpsw clears TP and does not decrement the timer", I(LPSW, 0, 0, DATA),
     MEMIN({DATA, PSW_M}, {DATA + 1, 0x60}, {DATA + 3, 5}, {DATA + 4, 2}), .flags = PSW_TP,
     .timer = 1, .psw_changes = true, .psw_out = {PSW_M, 0x60, 0, 5, 2}),
    C("lpsw beyond bound faults on the first word", I(LPSW, 0, 0, 0xffff), .trap = CAUSE_MEM,
     .value = 0xffffffff),
    C("pushf", I(PUSHF, 1, 0, 0), OUT({1, PSW_M})),
    C("pushf shows IE", I(PUSHF, 1, 0, 0), .flags = PSW_IE, OUT({1, PSW_M | PSW_IE})),
    C("pushf shows PG and TP", I(PUSHF, 1, 0, 0), .flags = PSW_PG | PSW_TP,
     OUT({1, PSW_M | PSW_PG | PSW_TP}),
     /* PG=1 with a page table mapping page 1 (where PC is) to frame 1 */
     MEMIN({0x1000 + (PC >> 8), (PC >> 8) << 8 | PTE_V})),
    C("pushf into r0", I(PUSHF, 0, 0, 0)),
    C("lpsw faults on its third word", I(LPSW, 0, 2, 0), IN({2, TS_MEM - 2}), .trap = CAUSE_MEM,
     .value = TS_MEM),
    C("popf sets IE", I(POPF, 1, 0, 0), IN({1, 0xfffffff2}), .psw_changes = true,
     .psw_out = {PSW_M | PSW_IE, PC + 1, 0, TS_MEM, 0}),
    C("popf clears IE", I(POPF, 1, 0, 0), IN({1, 0xfffffffd}), .flags = PSW_IE,
      .psw_changes = true, .psw_out = {PSW_M, PC + 1, 0, TS_MEM, 0}),
    C("popf keeps TP", I(POPF, 1, 0, 0), IN({1, PSW_IE}), .flags = PSW_TP, .psw_changes = true,
      .psw_out = {PSW_M | PSW_IE | PSW_TP, PC + 1, 0, TS_MEM, 0}),
    C("popf cannot clear TP", I(POPF, 1, 0, 0), IN({1, 0}), .flags = PSW_TP),
    C("popf keeps PG", I(POPF, 1, 0, 0), IN({1, 0}), .flags = PSW_PG,
      MEMIN({0x1000 + (PC >> 8), (PC >> 8) << 8 | PTE_V})),
    C("popf cannot clear M", I(POPF, 1, 0, 0), IN({1, PSW_IE}), .psw_changes = true,
     .psw_out = {PSW_M | PSW_IE, PC + 1, 0, TS_MEM, 0}),
    C("popf decrements the timer", I(POPF, 1, 0, 0), IN({1, 0}), .timer = 3),
    C("srr", R(SRR, 1, 2, 0), OUT({1, 0}, {2, TS_MEM})),
    C("srr rd = rs gets the bound", R(SRR, 3, 3, 0), OUT({3, TS_MEM})),
    C("srr rd = r0", R(SRR, 0, 2, 0), OUT({2, TS_MEM})),
    C("srr rs = r0", R(SRR, 1, 0, 0), OUT({1, 0})),
    C("stmr", I(STMR, 1, 0, 0), IN({1, 100}), .psw_changes = true,
     .psw_out = {PSW_M, PC + 1, 0, TS_MEM, 100}),
    C("stmr does not decrement", I(STMR, 1, 0, 0), IN({1, 1}), .timer = 1, .psw_changes = true,
     .psw_out = {PSW_M, PC + 1, 0, TS_MEM, 1}),
    C("stmr 0 turns it off, TP stays", I(STMR, 0, 0, 0), .timer = 5, .flags = PSW_TP,
     .psw_changes = true, .psw_out = {PSW_M | PSW_TP, PC + 1, 0, TS_MEM, 0}),
    C("rtmr", I(RTMR, 1, 0, 0), .timer = 77, OUT({1, 77})),
    C("rtmr reads before its own tick", I(RTMR, 1, 0, 0), .timer = 1, OUT({1, 1})),
    C("rtmr off", I(RTMR, 1, 0, 0), OUT({1, 0})),
    C("in console", I(IN, 1, 0, PORT_CONSOLE_IN), .input = "xy", OUT({1, 'x'}), .input_left = 1),
    C("in console empty gives -1", I(IN, 1, 0, PORT_CONSOLE_IN), OUT({1, 0xffffffff})),
    C("in byte 0xff is 255", I(IN, 1, 0, PORT_CONSOLE_IN), .input = "\xff", OUT({1, 255})),
    C("in port 0 reads 0", I(IN, 1, 0, PORT_CONSOLE_OUT), .input = "x", OUT({1, 0}), .input_left = 1),
    C("in port 2 reads 0", I(IN, 1, 0, PORT_CONSOLE_CTRL), .input = "x", OUT({1, 0}), .input_left = 1),
    C("in port 3 reads 0", I(IN, 1, 0, 3), OUT({1, 0})),
    C("in port 16 reads 0", I(IN, 1, 0, 16), OUT({1, 0})),
    C("in port -1 reads 0", I(IN, 1, 0, 0xffff), .input = "x", OUT({1, 0}), .input_left = 1),
    C("in into r0 consumes", I(IN, 0, 0, PORT_CONSOLE_IN), .input = "x"),
    C("out", I(OUT, 1, 0, PORT_CONSOLE_OUT), IN({1, 'A'}), .output = "A"),
    C("out low 8 bits", I(OUT, 1, 0, PORT_CONSOLE_OUT), IN({1, 0x12345642}), .output = "B"),
    C("out port 1 ignored", I(OUT, 1, 0, PORT_CONSOLE_IN), IN({1, 'A'}), .output = ""),
    C("out port 5 ignored", I(OUT, 1, 0, 5), IN({1, 'A'}), .output = ""),
    C("out port -1 ignored", I(OUT, 1, 0, 0xffff), IN({1, 'A'}), .output = ""),
    C("tlbflush", J(TLBFLUSH, 0)),
    C("tlbflush decrements the timer", J(TLBFLUSH, 0), .timer = 2),
    /* The extension's instruction; its semantics are test_machine_assist.c's. */
    C("vmenter without the feature is undefined", I(VMENTER, 1, 0, 0), .trap = CAUSE_ILL,
      .value = I(VMENTER, 1, 0, 0)),
};

static void run_case(const struct insn_case *c)
{
    struct machine *m = test_support_machine("pg");
    uint32_t *e = machine_memory(m);
    test_support_fill_regs(m);
    for (const struct rv *r = c->in; r < c->in + 3 && r->r; r++) machine_set_reg(m, r->r, r->v);
    for (const struct mv *w = c->mem_in; w < c->mem_in + 6 && w->addr; w++) e[w->addr] = w->v;
    e[PC] = c->insn;
    bool paged = c->flags & PSW_PG;
    struct psw before = {PSW_M | c->flags, PC, paged ? 0x1000u : 0u, paged ? 16u : TS_MEM, c->timer};
    machine_set_psw(m, &before);
    if (c->input) machine_feed_input(m, (const uint8_t *)c->input, strlen(c->input));
    uint32_t regs[ISA_NREGS];
    for (unsigned r = 0; r < ISA_NREGS; r++) regs[r] = machine_reg(m, r);
    uint32_t *mem_before = malloc(TS_MEM * sizeof *mem_before);
    memcpy(mem_before, e, TS_MEM * sizeof *e);

    enum machine_stop stop = machine_step(m);
    enum machine_stop want_stop = c->trap ? MACHINE_BUDGET : c->stop;
    cr_assert_eq(stop, want_stop, "%s: step returned %s", c->what, machine_stop_name(stop));

    /* registers: the listed ones changed, the others did not, r0 is 0 */
    for (const struct rv *r = c->out; r < c->out + 3 && r->r; r++) regs[r->r] = r->v;
    for (unsigned r = 0; r < ISA_NREGS; r++)
        cr_assert_eq(machine_reg(m, r), regs[r], "%s: r%u = 0x%x, want 0x%x", c->what, r,
                     machine_reg(m, r), regs[r]);

    const struct machine_stats *st = machine_stats(m);
    if (c->trap) {
        struct psw old = before;
        old.pc = c->saved_pc ? c->saved_pc : PC;
        cr_assert_eq(st->retired, 0, "%s: a trapping instruction does not retire", c->what);
        cr_assert_eq(st->traps[c->trap], 1, "%s", c->what);
        unsigned detail = c->trap == CAUSE_MEM ? MEMF_BOUND : 0;
        test_support_expect_trap(m, c->trap, detail, c->value, &old);
        memcpy(mem_before, e, 16 * sizeof *e); /* the trap area was checked above */
    } else {
        cr_assert_eq(st->retired, 1, "%s: retired %llu", c->what, (unsigned long long)st->retired);
        cr_assert_eq(machine_steps(m), 1, "%s", c->what);
        cr_assert_null(machine_last_trap(m), "%s: trapped (cause %d)", c->what,
                       machine_last_trap(m) ? (int)machine_last_trap(m)->cause : 0);
        struct psw want = before;
        if (c->psw_changes) {
            want = c->psw_out;
        } else {
            want.pc = c->pc ? c->pc : PC + 1;
            if (want.timer && --want.timer == 0) want.flags |= PSW_TP;
        }
        struct psw now = machine_psw(m);
        cr_assert(memcmp(&now, &want, sizeof now) == 0,
                  "%s: PSW {%x %x %x %x %x}, want {%x %x %x %x %x}", c->what, now.flags, now.pc,
                  now.base, now.bound, now.timer, want.flags, want.pc, want.base, want.bound,
                  want.timer);
    }

    for (const struct mv *w = c->mem_out; w < c->mem_out + 2 && w->addr; w++) mem_before[w->addr] = w->v;
    for (uint32_t a = 0; a < TS_MEM; a++)
        cr_assert_eq(e[a], mem_before[a], "%s: E[0x%x] = 0x%x, want 0x%x", c->what, a, e[a],
                     mem_before[a]);

    size_t len;
    const uint8_t *out = machine_output(m, &len);
    const char *want_out = c->output ? c->output : "";
    cr_assert(len == strlen(want_out) && memcmp(out, want_out, len) == 0,
              "%s: console output %.*s", c->what, (int)len, out);
    cr_assert_eq(machine_input_pending(m), c->input_left, "%s: unread input", c->what);
    free(mem_before);
    machine_destroy(m);
}

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

Test(machine_insn, alu_memory_branches_jumps_traps)
{
    for (size_t i = 0; i < NCASES(alu_cases); i++) run_case(&alu_cases[i]);
}

Test(machine_insn, system_instructions_in_supervisor_mode)
{
    for (size_t i = 0; i < NCASES(system_cases); i++) run_case(&system_cases[i]);
}

/* machine_step runs batches of one; here each case also runs inside a
 * longer batch (machine_run with a big budget, halting right after), so the
 * fast path's write-back of every result is checked too. */
Test(machine_insn, cases_agree_in_one_batch)
{
    for (size_t i = 0; i < NCASES(alu_cases); i++) {
        const struct insn_case *c = &alu_cases[i];
        if (c->trap || c->pc || c->timer) continue;
        struct machine *m = test_support_machine("pg");
        test_support_fill_regs(m);
        for (const struct rv *r = c->in; r < c->in + 3 && r->r; r++) machine_set_reg(m, r->r, r->v);
        for (const struct mv *w = c->mem_in; w < c->mem_in + 6 && w->addr; w++)
            machine_memory(m)[w->addr] = w->v;
        machine_memory(m)[PC] = c->insn;
        machine_memory(m)[PC + 1] = TS_J(HALT, 0);
        cr_assert_eq(machine_run(m, 1000), MACHINE_HALT, "%s", c->what);
        for (const struct rv *r = c->out; r < c->out + 3 && r->r; r++)
            cr_assert_eq(machine_reg(m, r->r), r->v, "%s: r%u", c->what, r->r);
        cr_assert_eq(machine_reg(m, 0), 0);
        cr_assert_eq(machine_stats(m)->retired, 2);
        machine_destroy(m);
    }
}

/* Every instruction of isa.def has at least one case above. */
Test(machine_insn, every_instruction_has_a_case)
{
    bool seen[ISA_OPCODE_SLOTS] = {false};
    for (size_t i = 0; i < NCASES(alu_cases); i++) seen[isa_opcode_of(alu_cases[i].insn)] = true;
    for (size_t i = 0; i < NCASES(system_cases); i++) seen[isa_opcode_of(system_cases[i].insn)] = true;
    for (size_t i = 0; i < isa_op_count(); i++) {
        const struct isa_op *op = &isa_ops()[i];
        cr_expect(seen[op->opcode], "no case for '%s'", op->mnemonic);
        if (op->flags & ISA_F_SYSTEM) {
            bool in_system = false;
            for (size_t k = 0; k < NCASES(system_cases); k++)
                in_system |= isa_opcode_of(system_cases[k].insn) == op->opcode;
            cr_expect(in_system, "system instruction '%s' has no supervisor case", op->mnemonic);
        }
    }
}
