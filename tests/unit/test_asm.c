/*
 * test_asm.c: the assembly language: every directive, pseudo-instruction,
 * expression form, macros and includes, the line map, and every error message
 * with its file:line:col.  Expected words are built with isa_make_* and the
 * opcodes of isa.def, never with the assembler's own encoder.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../assembler/asm.h"
#include "../../isa/isa.h"

#define R(id, a, b, c) isa_make_r(ISA_##id, (a), (b), (c))
#define I(id, a, b, imm) isa_make_i(ISA_##id, (a), (b), (uint32_t)(imm))
#define J(id, imm) isa_make_j(ISA_##id, (uint32_t)(imm))
#define SP ISA_REG_SP
#define LR ISA_REG_LR

/* Assembles src as "t.s"; the messages go to *errs (caller frees). */
static int assemble(const char *src, struct asm_image *img, char **errs)
{
    size_t len;
    FILE *f = open_memstream(errs, &len);
    cr_assert_not_null(f);
    int n = asm_assemble_string(src, "t.s", img, f);
    fclose(f);
    return n;
}

static void ok(const char *src, struct asm_image *img)
{
    char *errs;
    int n = assemble(src, img, &errs);
    cr_assert_eq(n, 0, "unexpected errors for:\n%s\n---\n%s", src, errs);
    free(errs);
}

static bool find_word(const struct asm_image *img, uint32_t address, uint32_t *w)
{
    for (size_t i = 0; i < img->nsegments; i++)
        if (address - img->segments[i].at < img->segments[i].count) {
            *w = img->segments[i].words[address - img->segments[i].at];
            return true;
        }
    return false;
}

static uint32_t word_at(const struct asm_image *img, uint32_t address)
{
    uint32_t w = 0;
    cr_assert(find_word(img, address, &w), "no word at 0x%x", address);
    return w;
}

static size_t total_words(const struct asm_image *img)
{
    size_t n = 0;
    for (size_t i = 0; i < img->nsegments; i++) n += img->segments[i].count;
    return n;
}

/* src assembles to exactly these words from address 16 on. */
static void expect_words_n(const char *src, const uint32_t *want, size_t n)
{
    struct asm_image img;
    ok(src, &img);
    cr_assert_eq(total_words(&img), n, "%s: %zu words, expected %zu", src, total_words(&img), n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(word_at(&img, 16 + (uint32_t)i), want[i], "%s: word %zu is 0x%08x, expected 0x%08x",
                     src, i, word_at(&img, 16 + (uint32_t)i), want[i]);
    asm_image_free(&img);
}
#define EXPECT_WORDS(src, ...)                                                  \
    do {                                                                        \
        const uint32_t want_[] = {__VA_ARGS__};                                 \
        expect_words_n(src, want_, sizeof want_ / sizeof want_[0]);             \
    } while (0)

/* src fails; its messages contain want (typically "t.s:L:C: error: text"). */
static char *expect_error(const char *src, const char *want)
{
    struct asm_image img;
    char *errs;
    int n = assemble(src, &img, &errs);
    cr_assert_gt(n, 0, "expected an error for:\n%s", src);
    cr_assert_not_null(strstr(errs, want), "for:\n%s\nexpected '%s' in:\n%s", src, want, errs);
    cr_assert_eq(img.nsegments, 0u, "a failed assembly leaves the image empty");
    cr_assert_null(img.segments);
    return errs;
}
#define EXPECT_ERROR(src, want) free(expect_error(src, want))

static uint32_t symbol(const struct asm_image *img, const char *name)
{
    uint32_t v = 0;
    cr_assert(asm_symbol_value(img, name, &v), "no symbol %s", name);
    return v;
}

/* ---- Instructions and pseudo-instructions -------------------------------------- */

Test(asm, every_operand_shape)
{
    EXPECT_WORDS("add r1, r2, r3\n", R(ADD, 1, 2, 3));
    EXPECT_WORDS("addi r1, r2, -5\n", I(ADDI, 1, 2, -5));
    EXPECT_WORDS("lui r7, 0xffff\n", I(LUI, 7, 0, 0xffff));
    EXPECT_WORDS("in r3, 1\nout r3, 0\n", I(IN, 3, 0, 1), I(OUT, 3, 0, 0));
    EXPECT_WORDS("srr r4, r5\n", R(SRR, 4, 5, 0));
    EXPECT_WORDS("jr r9\npushf r2\n", I(JR, 9, 0, 0), I(PUSHF, 2, 0, 0));
    EXPECT_WORDS("ld r1, 3(r2)\nst r1, -3(r2)\n", I(LD, 1, 2, 3), I(ST, 1, 2, -3));
    EXPECT_WORDS("lpsw 8(r1)\n", I(LPSW, 0, 1, 8));
    EXPECT_WORDS("x: beq r1, r2, x\n", I(BEQ, 1, 2, -1));
    EXPECT_WORDS("jmp 0x123456\ncall 20\n", J(JMP, 0x123456), J(CALL, 20));
    EXPECT_WORDS("svc 3\nhcall -1\n", I(SVC, 0, 0, 3), I(HCALL, 0, 0, -1));
    EXPECT_WORDS("halt\ntlbflush\n", J(HALT, 0), J(TLBFLUSH, 0));
}

Test(asm, memory_operand_forms)
{
    EXPECT_WORDS("ld r1, (r2)\n", I(LD, 1, 2, 0));
    EXPECT_WORDS("ld r1, 100\n", I(LD, 1, 0, 100));
    EXPECT_WORDS("ld r1, 7 ( r2 )\n", I(LD, 1, 2, 7));
    EXPECT_WORDS("lpsw (sp)\n", I(LPSW, 0, SP, 0));
}

Test(asm, registers_aliases_and_case)
{
    EXPECT_WORDS("add sp, lr, r0\n", R(ADD, SP, LR, 0));
    EXPECT_WORDS("ADD R1, SP, Lr\n", R(ADD, 1, SP, LR));
}

Test(asm, pseudo_instructions)
{
    EXPECT_WORDS("li r1, 5\n", I(ADDI, 1, 0, 5));
    EXPECT_WORDS("li r1, -32768\nli r2, 32767\n", I(ADDI, 1, 0, -32768), I(ADDI, 2, 0, 32767));
    EXPECT_WORDS("li r1, 32768\n", I(LUI, 1, 0, 0), I(ORI, 1, 1, 0x8000));
    EXPECT_WORDS("li r1, 0x12345678\n", I(LUI, 1, 0, 0x1234), I(ORI, 1, 1, 0x5678));
    EXPECT_WORDS("li r1, -40000\n", I(LUI, 1, 0, 0xffff), I(ORI, 1, 1, (uint32_t)-40000 & 0xffff));
    EXPECT_WORDS("li r1, 0xffffffff\n", I(LUI, 1, 0, 0xffff), I(ORI, 1, 1, 0xffff));
    EXPECT_WORDS("li r1, -2147483648\n", I(LUI, 1, 0, 0x8000), I(ORI, 1, 1, 0));
    /* a label not yet defined: two words even though it would fit */
    EXPECT_WORDS("li r1, x\nx: halt\n", I(LUI, 1, 0, 0), I(ORI, 1, 1, 18), J(HALT, 0));
    /* known above: a label and an .equ -> one word */
    EXPECT_WORDS("x: li r1, x\n", I(ADDI, 1, 0, 16));
    EXPECT_WORDS(".equ K, 100\nli r1, K\n", I(ADDI, 1, 0, 100));
    /* .equ defined below: not known at the li, so two words */
    EXPECT_WORDS("li r1, K\n.equ K, 100\n", I(LUI, 1, 0, 0), I(ORI, 1, 1, 100));
    EXPECT_WORDS("la r2, x\nx: .word 0\n", I(LUI, 2, 0, 0), I(ORI, 2, 2, 18), 0);
    EXPECT_WORDS("x: la r2, x\n", I(LUI, 2, 0, 0), I(ORI, 2, 2, 16));
    EXPECT_WORDS("mov r3, r4\n", R(ADD, 3, 4, 0));
    EXPECT_WORDS("nop\n", R(ADD, 0, 0, 0));
    EXPECT_WORDS("push r5\n", I(ADDI, SP, SP, -1), I(ST, 5, SP, 0));
    EXPECT_WORDS("pop r6\n", I(LD, 6, SP, 0), I(ADDI, SP, SP, 1));
    EXPECT_WORDS("ret\n", I(JR, LR, 0, 0));
    EXPECT_WORDS("x: b x\n", I(BEQ, 0, 0, -1));
    EXPECT_WORDS("beqz r1, y\nbnez r2, y\ny: halt\n", I(BEQ, 1, 0, 1), I(BNE, 2, 0, 0), J(HALT, 0));
}

Test(asm, branches_reach_and_absolute_targets)
{
    /* absolute targets, as the disassembler prints them */
    EXPECT_WORDS("beq r1, r2, 0x10\n", I(BEQ, 1, 2, -1));
    EXPECT_WORDS("bne r1, r2, 0x20\n", I(BNE, 1, 2, 15));
    /* wrap-around: 16 + 1 - 32768 */
    EXPECT_WORDS("blt r1, r2, 0xffff8011\n", I(BLT, 1, 2, -32768));
    EXPECT_WORDS("bge r1, r2, 16+1+32767\n", I(BGE, 1, 2, 32767));
    EXPECT_ERROR("bge r1, r2, 16+1+32768\n",
                 "t.s:1:13: error: branch target 0x8011 out of reach of bge at 0x10 (offset 32768, must be -32768..32767)");
    EXPECT_ERROR("x: b y\n.org 0x9000\ny: halt\n", "t.s:1:6: error: branch target 0x9000 out of reach of b at 0x10");
}

Test(asm, immediate_ranges)
{
    EXPECT_WORDS("addi r1, r1, -32768\naddi r1, r1, 32767\n", I(ADDI, 1, 1, -32768), I(ADDI, 1, 1, 32767));
    EXPECT_WORDS("andi r1, r1, 0\nori r1, r1, 65535\nxori r1, r1, 0xffff\n", I(ANDI, 1, 1, 0),
                 I(ORI, 1, 1, 0xffff), I(XORI, 1, 1, 0xffff));
    EXPECT_WORDS("jmp 0\njmp 0xffffff\n", J(JMP, 0), J(JMP, 0xffffff));
    EXPECT_ERROR("addi r1, r1, 32768\n", "t.s:1:14: error: immediate 32768 out of range for addi (-32768..32767)");
    EXPECT_ERROR("addi r1, r1, -32769\n", "t.s:1:14: error: immediate -32769 out of range for addi (-32768..32767)");
    EXPECT_ERROR("ori r1, r1, 65536\n", "t.s:1:13: error: immediate 65536 out of range for ori (0..65535)");
    EXPECT_ERROR("andi r1, r1, -1\n", "t.s:1:14: error: immediate -1 out of range for andi (0..65535)");
    EXPECT_ERROR("xori r1, r1, 70000\n", "t.s:1:14: error: immediate 70000 out of range for xori (0..65535)");
    EXPECT_ERROR("lui r1, -1\n", "t.s:1:9: error: immediate -1 out of range for lui (0..65535)");
    EXPECT_ERROR("ld r1, 40000(r2)\n", "t.s:1:8: error: immediate 40000 out of range for ld (-32768..32767)");
    EXPECT_ERROR("svc 32768\n", "t.s:1:5: error: immediate 32768 out of range for svc (-32768..32767)");
    EXPECT_ERROR("jmp 0x1000000\n", "t.s:1:5: error: address 16777216 out of range for jmp (0..0xffffff)");
    EXPECT_ERROR("call -1\n", "t.s:1:6: error: address -1 out of range for call (0..0xffffff)");
    EXPECT_ERROR("li r1, 0x100000000\n", "t.s:1:8: error: number '0x100000000' does not fit in 32 bits");
    EXPECT_ERROR("li r1, 0xffffffff+1\n",
                 "t.s:1:8: error: value 4294967296 out of range for li (-2147483648..4294967295)");
    EXPECT_ERROR("la r1, -2147483649\n",
                 "t.s:1:8: error: value -2147483649 out of range for la (-2147483648..4294967295)");
}

/* ---- Expressions --------------------------------------------------------------------- */

Test(asm, expressions)
{
    EXPECT_WORDS(".word 10, 0x1F, 0b101, -7, 'a', '\\n', '\\0', '\\\\', '\\'', '\"', '#', ';'\n", 10, 0x1f,
                 5, (uint32_t)-7, 'a', '\n', 0, '\\', '\'', '"', '#', ';');
    EXPECT_WORDS(".word 1+2-3+4, -1-1, +5\n", 4, (uint32_t)-2, 5);
    EXPECT_WORDS(".word ., .+1\n.word .\n", 16, 17, 18);
    EXPECT_WORDS(".word end-start\nstart: .space 3\nend:\n", 3, 0, 0, 0);
    EXPECT_WORDS("st r1, save+3(r0)\nsave: .space 4\n", I(ST, 1, 0, 20), 0, 0, 0, 0);
    EXPECT_WORDS(".word 0xffffffff, -2147483648\n", 0xffffffffu, 0x80000000u);
    EXPECT_WORDS("add r1,r2,r3;comment\nadd r1,r2,r3#comment\n   ; only a comment\n# another\n",
                 R(ADD, 1, 2, 3), R(ADD, 1, 2, 3));
}

Test(asm, labels)
{
    struct asm_image img;
    ok("a: b: nop\nc:\n  d:halt\n.L1: .word .L1\n", &img);
    cr_assert_eq(symbol(&img, "a"), 16u);
    cr_assert_eq(symbol(&img, "b"), 16u);
    cr_assert_eq(symbol(&img, "c"), 17u);
    cr_assert_eq(symbol(&img, "d"), 17u);
    cr_assert_eq(symbol(&img, ".L1"), 18u);
    cr_assert_eq(word_at(&img, 18), 18u);
    asm_image_free(&img);
}

/* ---- Directives ---------------------------------------------------------------------- */

Test(asm, org_and_segments)
{
    struct asm_image img;
    ok("nop\n.org 0x100\nhere: .word 1, 2\n.org 0x20\nlow: .word 3\n.org 0x18\n.word 4\n", &img);
    cr_assert_eq(img.nsegments, 4u);
    cr_assert_eq(img.segments[0].at, 16u);
    cr_assert_eq(img.segments[1].at, 0x18u);
    cr_assert_eq(img.segments[2].at, 0x20u);
    cr_assert_eq(img.segments[3].at, 0x100u);
    cr_assert_eq(img.segments[3].count, 2u);
    cr_assert_eq(symbol(&img, "here"), 0x100u);
    cr_assert_eq(symbol(&img, "low"), 0x20u);
    asm_image_free(&img);
    /* touching regions become one segment */
    ok(".org 0x40\n.word 1\n.org 0x30\n.space 16\n", &img);
    cr_assert_eq(img.nsegments, 1u);
    cr_assert_eq(img.segments[0].at, 0x30u);
    cr_assert_eq(img.segments[0].count, 17u);
    cr_assert_eq(img.segments[0].words[16], 1u);
    asm_image_free(&img);
    /* .org takes expressions of symbols defined above; a label before .org keeps the old pc */
    ok(".equ BASE, 0x200\nx: .org BASE+4\ny: .word x\n", &img);
    cr_assert_eq(symbol(&img, "x"), 16u);
    cr_assert_eq(symbol(&img, "y"), 0x204u);
    asm_image_free(&img);
    /* nothing placed: no segments */
    ok("; nothing\n.org 0x500\n", &img);
    cr_assert_eq(img.nsegments, 0u);
    asm_image_free(&img);
}

Test(asm, overlapping_regions_are_errors)
{
    EXPECT_ERROR("nop\nnop\n.org 17\nhalt\n",
                 "t.s:3:1: error: words at 0x11..0x11 overlap those at 0x10..0x11 placed from t.s:1");
    EXPECT_ERROR(".org 0x100\n.space 10\n.org 0x105\n.word 1\n",
                 "t.s:3:1: error: words at 0x105..0x105 overlap those at 0x100..0x109 placed from t.s:1");
}

Test(asm, string_and_space)
{
    EXPECT_WORDS(".string \"Hi\\n\\t\\\"\\\\\\0x\"\n", 'H', 'i', '\n', '\t', '"', '\\', 0, 'x', 0);
    EXPECT_WORDS(".string \"\"\n", 0);
    EXPECT_WORDS(".string \"a;b#c\" ; comment\n", 'a', ';', 'b', '#', 'c', 0);
}

Test(asm, string_bytes_are_unsigned)
{
    EXPECT_WORDS(".string \"\xc3\xa9\"\n", 0xc3, 0xa9, 0);
}

Test(asm, space_and_word)
{
    EXPECT_WORDS(".space 3\n.word 7\n", 0, 0, 0, 7);
    EXPECT_WORDS(".space 0\n.word 7\n", 7);
    EXPECT_WORDS(".equ N, 2\n.space N+1\n", 0, 0, 0);
    EXPECT_WORDS(".word fwd, fwd+1\nfwd: halt\n", 18, 19, J(HALT, 0));
}

Test(asm, equ)
{
    struct asm_image img;
    ok(".equ A, 5\n.equ B, A+C\n.equ C, 10\n.equ NEG, -1\n.equ CH, 'z'\n.equ L, lab+1\nlab: .word B, NEG, L\n", &img);
    cr_assert_eq(symbol(&img, "A"), 5u);
    cr_assert_eq(symbol(&img, "B"), 15u);
    cr_assert_eq(symbol(&img, "NEG"), 0xffffffffu);
    cr_assert_eq(symbol(&img, "CH"), (uint32_t)'z');
    cr_assert_eq(symbol(&img, "L"), 17u);
    cr_assert_eq(word_at(&img, 16), 15u);
    cr_assert_eq(word_at(&img, 17), 0xffffffffu);
    cr_assert_eq(word_at(&img, 18), 17u);
    /* .equ names are symbols but not labels */
    cr_assert_null(asm_symbol_at(&img, 5));
    cr_assert_str_eq(asm_symbol_at(&img, 16), "lab");
    asm_image_free(&img);
}

Test(asm, entry)
{
    struct asm_image img;
    ok("nop\n", &img);
    cr_assert_eq(img.entry, ISA_DEFAULT_ENTRY);
    asm_image_free(&img);
    ok("nop\n_start: halt\n", &img);
    cr_assert_eq(img.entry, 17u);
    asm_image_free(&img);
    ok(".entry main\nnop\n_start: nop\nmain: halt\n", &img);
    cr_assert_eq(img.entry, 18u);
    asm_image_free(&img);
    ok(".entry 0x40\n", &img);
    cr_assert_eq(img.entry, 0x40u);
    asm_image_free(&img);
}

/* ---- Macros -------------------------------------------------------------------------- */

Test(asm, macros_with_arguments_and_unique_labels)
{
    const char *src = ".macro countdown reg, n\n"
                      "        li \\reg, \\n\n"
                      "loop\\@: addi \\reg, \\reg, -1\n"
                      "        bnez \\reg, loop\\@\n"
                      ".endm\n"
                      "countdown r1, 3\n"
                      "countdown r2, 5   ; second expansion\n";
    EXPECT_WORDS(src, I(ADDI, 1, 0, 3), I(ADDI, 1, 1, -1), I(BNE, 1, 0, -2), I(ADDI, 2, 0, 5),
                 I(ADDI, 2, 2, -1), I(BNE, 2, 0, -2));
    struct asm_image img;
    ok(src, &img);
    cr_assert_eq(symbol(&img, "loop0"), 17u);
    cr_assert_eq(symbol(&img, "loop1"), 20u);
    asm_image_free(&img);
}

Test(asm, macro_forms)
{
    /* no parameters; parameters separated by blanks; \() joins */
    EXPECT_WORDS(".macro two\nnop\nnop\n.endm\ntwo\n", R(ADD, 0, 0, 0), R(ADD, 0, 0, 0));
    EXPECT_WORDS(".macro w a b\n.word \\a, \\b\n.endm\nw 1, 2\n", 1, 2);
    EXPECT_WORDS(".macro lbl n\n\\n\\()_x: .word \\n\\()_x\n.endm\nlbl foo\n", 16);
    /* arguments may hold commas inside quotes and parentheses, and be expressions */
    EXPECT_WORDS(".macro s t\n.string \\t\n.endm\ns \"a,b\"\n", 'a', ',', 'b', 0);
    EXPECT_WORDS(".macro m r, a\nld \\r, \\a\n.endm\nm r1, 4(r2)\n", I(LD, 1, 2, 4));
    EXPECT_WORDS(".macro m v\n.word \\v\n.endm\nm 1+2\nm ','\n", 3, ',');
    /* macros invoking macros; an unknown \name is left alone */
    EXPECT_WORDS(".macro inner x\n.word \\x\n.endm\n.macro outer y\ninner \\y\ninner \\y+1\n.endm\nouter 5\n", 5, 6);
    /* macro names are case-sensitive; mnemonics are not, so they are no macro names in any case */
    EXPECT_WORDS(".macro W\n.word 9\n.endm\n.macro w\n.word 8\n.endm\nW\nw\nNOP\n", 9, 8, R(ADD, 0, 0, 0));
    EXPECT_ERROR(".macro Nop\n.endm\n", "t.s:1:8: error: 'Nop' is an instruction or register and cannot be a macro name");
}

Test(asm, line_map_credits_macro_invocations)
{
    struct asm_image img;
    ok(".macro two\nnop\nnop\n.endm\nhalt\ntwo\nhalt\n", &img);
    cr_assert_eq(asm_line_at(&img, 16)->line, 5u);
    cr_assert_eq(asm_line_at(&img, 17)->line, 6u);
    cr_assert_eq(asm_line_at(&img, 18)->line, 6u);
    cr_assert_eq(asm_line_at(&img, 19)->line, 7u);
    cr_assert_null(asm_line_at(&img, 20));
    cr_assert_null(asm_line_at(&img, 15));
    asm_image_free(&img);
}

/* ---- Includes ------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static char *temp_dir(void)
{
    static const char pattern[] = "/tmp/trapeze-asm-XXXXXX";
    char *dir = malloc(sizeof pattern);
    memcpy(dir, pattern, sizeof pattern);
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

Test(asm, include_relative_to_the_including_file)
{
    char *dir = temp_dir();
    char sub[512], main_path[512];
    snprintf(sub, sizeof sub, "%s/lib", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(dir, "lib/io.s", ".include \"defs.s\"\nputc: out r1, PORT\n      ret\n");
    write_file(dir, "lib/defs.s", ".equ PORT, 0\n");
    write_file(dir, "main.s", "_start: call putc\n.include \"lib/io.s\"\nhalt\n");
    snprintf(main_path, sizeof main_path, "%s/main.s", dir);

    struct asm_image img;
    cr_assert_eq(asm_assemble_file(main_path, &img, stderr), 0);
    cr_assert_eq(word_at(&img, 16), J(CALL, 17));
    cr_assert_eq(word_at(&img, 17), I(OUT, 1, 0, 0));
    cr_assert_eq(word_at(&img, 18), I(JR, LR, 0, 0));
    cr_assert_eq(word_at(&img, 19), J(HALT, 0));
    cr_assert_eq(img.nfiles, 3u);
    cr_assert_str_eq(img.files[0], main_path);
    const struct asm_line *l = asm_line_at(&img, 17);
    cr_assert_not_null(l);
    cr_assert_eq(l->line, 2u);
    cr_assert_not_null(strstr(img.files[l->file], "lib/io.s"));
    cr_assert_eq(asm_line_at(&img, 19)->file, 0u);
    cr_assert_eq(asm_line_at(&img, 19)->line, 3u);
    asm_image_free(&img);

    /* assembled from memory: includes resolve against the name */
    char name[512];
    snprintf(name, sizeof name, "%s/virtual.s", dir);
    cr_assert_eq(asm_assemble_string(".include \"lib/defs.s\"\n.word PORT+1\n", name, &img, stderr), 0);
    cr_assert_eq(word_at(&img, 16), 1u);
    asm_image_free(&img);

    /* the same file twice (not a cycle) is fine, and listed once */
    write_file(dir, "twice.s", ".include \"w.s\"\n.include \"w.s\"\n");
    write_file(dir, "w.s", ".word 4\n");
    snprintf(main_path, sizeof main_path, "%s/twice.s", dir);
    cr_assert_eq(asm_assemble_file(main_path, &img, stderr), 0);
    cr_assert_eq(total_words(&img), 2u);
    cr_assert_eq(img.nfiles, 2u);
    asm_image_free(&img);
    remove_dir(dir);
}

Test(asm, include_errors)
{
    char *dir = temp_dir();
    char path[512];
    write_file(dir, "a.s", "nop\n.include \"b.s\"\n");
    write_file(dir, "b.s", "\n  .include \"a.s\"\n");
    write_file(dir, "self.s", ".include \"self.s\"\n");
    snprintf(path, sizeof path, "%s/a.s", dir);
    char *errs;
    size_t len;
    struct asm_image img;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_file(path, &img, f), 1);
    fclose(f);
    cr_assert_not_null(strstr(errs, "/b.s:2:12: error: include cycle: '"), "%s", errs);
    cr_assert_not_null(strstr(errs, "a.s' is already being assembled"), "%s", errs);
    free(errs);
    snprintf(path, sizeof path, "%s/self.s", dir);
    f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_file(path, &img, f), 1);
    fclose(f);
    cr_assert_not_null(strstr(errs, "self.s:1:10: error: include cycle"), "%s", errs);
    free(errs);
    /* a deep chain (no cycle) stops at the depth limit */
    for (int i = 0; i < 20; i++) {
        char name[32], text[64];
        snprintf(name, sizeof name, "d%d.s", i);
        snprintf(text, sizeof text, ".include \"d%d.s\"\n", i + 1);
        write_file(dir, name, text);
    }
    write_file(dir, "d20.s", "nop\n");
    snprintf(path, sizeof path, "%s/d0.s", dir);
    f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_file(path, &img, f), 1);
    fclose(f);
    cr_assert_not_null(strstr(errs, "d16.s:1:10: error: includes nested more than 16 deep"), "%s", errs);
    free(errs);
    remove_dir(dir);

    EXPECT_ERROR(".include \"no-such-file.s\"\n",
                 "t.s:1:10: error: cannot open include file 'no-such-file.s': No such file or directory");
    EXPECT_ERROR(".include \"/\"\n", "t.s:1:10: error: cannot open include file '/': is a directory");
    EXPECT_ERROR(".include nofile\n", "t.s:1:10: error: expected a string in double quotes, found 'nofile'");
    EXPECT_ERROR(".include\n", "t.s:1:9: error: missing operand: expected a string in double quotes");
    EXPECT_ERROR(".include \"\"\n", "t.s:1:10: error: bad file name");
}

Test(asm, missing_main_file)
{
    struct asm_image img;
    char *errs;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_eq(asm_assemble_file("/nonexistent/x.s", &img, f), 1);
    fclose(f);
    cr_assert_str_eq(errs, "/nonexistent/x.s: error: cannot read the source file: No such file or directory\n");
    free(errs);
    f = open_memstream(&errs, &len);
    cr_assert_eq(asm_load_program("/nonexistent/x.s", &img, f), 1);
    fclose(f);
    free(errs);
}

/* ---- Error messages --------------------------------------------------------------------- */

Test(asm_errors, format_echo_and_caret)
{
    char *errs = expect_error("nop\n\tadd r1, r2, r99\n", "t.s:2:14: error: bad register 'r99' (expected r0..r15, sp or lr)\n");
    cr_assert_not_null(strstr(errs, "error: bad register 'r99' (expected r0..r15, sp or lr)\n"
                                    "\tadd r1, r2, r99\n"
                                    "\t            ^\n"), "%s", errs);
    free(errs);
}

Test(asm_errors, syntax)
{
    EXPECT_ERROR("addx r1, r2, r3\n", "t.s:1:1: error: unknown instruction 'addx'");
    EXPECT_ERROR("  .bogus 3\n", "t.s:1:3: error: unknown directive '.bogus'");
    EXPECT_ERROR("add r16, r1, r2\n", "t.s:1:5: error: bad register 'r16' (expected r0..r15, sp or lr)");
    EXPECT_ERROR("add r1, 5, r2\n", "t.s:1:9: error: bad register '5' (expected r0..r15, sp or lr)");
    EXPECT_ERROR("add r1, r2\n", "t.s:1:11: error: missing operand: 'add' expects rd, rs, rt");
    EXPECT_ERROR("add r1, r2,   ; c\n", "t.s:1:15: error: missing operand: 'add' expects rd, rs, rt");
    EXPECT_ERROR("jmp\n", "t.s:1:4: error: missing operand: 'jmp' expects label");
    EXPECT_ERROR("add r1, r2, r3, r4\n", "t.s:1:17: error: extra operand 'r4': 'add' expects rd, rs, rt");
    EXPECT_ERROR("halt 3\n", "t.s:1:6: error: extra operand '3': 'halt' takes no operands");
    EXPECT_ERROR("nop r1\n", "t.s:1:5: error: extra operand 'r1': 'nop' takes no operands");
    EXPECT_ERROR("add r1 r2, r3\n", "t.s:1:8: error: expected ',' before 'r2' ('add' expects rd, rs, rt)");
    EXPECT_ERROR("ld r1, 4(r2\n", "t.s:1:12: error: expected ')' after the base register");
    EXPECT_ERROR("ld r1, 4(\n", "t.s:1:10: error: expected a base register after '('");
    EXPECT_ERROR("ld r1, r2\n", "t.s:1:8: error: register 'r2' where a value is expected");
    EXPECT_ERROR("li r1, 1+\n", "t.s:1:10: error: expected a value (number, character or symbol)");
    EXPECT_ERROR("li r1, 1+*\n", "t.s:1:10: error: expected a value (number, character or symbol), found '*'");
    EXPECT_ERROR("li r1, 12ab\n", "t.s:1:8: error: bad number '12ab'");
    EXPECT_ERROR("li r1, 0x\n", "t.s:1:8: error: bad number '0x'");
    EXPECT_ERROR("li r1, 99999999999\n", "t.s:1:8: error: number '99999999999' does not fit in 32 bits");
    EXPECT_ERROR("li r1, ''\n", "t.s:1:8: error: empty character constant");
    EXPECT_ERROR("li r1, 'ab'\n", "t.s:1:8: error: unterminated character constant");
    EXPECT_ERROR("li r1, 'a\n", "t.s:1:8: error: unterminated character constant");
    EXPECT_ERROR("li r1, '\n", "t.s:1:8: error: unterminated character constant");
    EXPECT_ERROR("li r1, '\\q'\n", "t.s:1:9: error: unknown escape '\\q'");
    EXPECT_ERROR(".string \"abc\n", "t.s:1:9: error: unterminated string");
    EXPECT_ERROR(".string \"a\\\n", "t.s:1:11: error: unterminated escape at the end of the line");
    EXPECT_ERROR(".string abc\n", "t.s:1:9: error: expected a string in double quotes, found 'abc'");
    EXPECT_ERROR(".string \"a\" x\n", "t.s:1:13: error: extra operand 'x' after the string");
    EXPECT_ERROR("1abel: nop\n", "t.s:1:1: error: expected an instruction, directive or label, found '1abel:'");
    EXPECT_ERROR("@\n", "t.s:1:1: error: expected an instruction, directive or label, found '@'");
    EXPECT_ERROR("nop\n\x01\n", "t.s:2:1: error: expected an instruction, directive or label, found '?'");
}

Test(asm_errors, symbols)
{
    EXPECT_ERROR("jmp nowhere\n", "t.s:1:5: error: undefined symbol 'nowhere'");
    EXPECT_ERROR(".word 1, 2+nowhere\n", "t.s:1:12: error: undefined symbol 'nowhere'");
    EXPECT_ERROR("x: nop\n  x: nop\n", "t.s:2:3: error: duplicate label 'x' (first defined at t.s:1)");
    EXPECT_ERROR(".equ x, 1\nx: nop\n", "t.s:2:1: error: duplicate symbol 'x' (first defined at t.s:1)");
    EXPECT_ERROR("x: nop\n.equ x, 1\n", "t.s:2:6: error: duplicate symbol 'x' (first defined at t.s:1)");
    EXPECT_ERROR("r1: nop\n", "t.s:1:1: error: 'r1' is a register and cannot be a label");
    EXPECT_ERROR("sp: nop\n", "t.s:1:1: error: 'sp' is a register and cannot be a label");
    EXPECT_ERROR(".: nop\n", "t.s:1:1: error: '.' is the current address and cannot be a label");
    EXPECT_ERROR(".equ lr, 1\n", "t.s:1:6: error: 'lr' is a register and cannot be a .equ name");
    EXPECT_ERROR(".equ X, Y\n.equ Y, X\n", "t.s:1:9: error: circular definition: 'Y' depends on itself");
    EXPECT_ERROR(".equ X, X+1\n", "t.s:1:9: error: circular definition: 'X' depends on itself");
    EXPECT_ERROR(".equ X, nothing\n", "t.s:1:9: error: undefined symbol 'nothing'");
    EXPECT_ERROR(".equ X, 0x100000000-1+1\n", "t.s:1:9: error: number '0x100000000' does not fit in 32 bits");
    EXPECT_ERROR(".equ X, 0xffffffff+1\n", "t.s:1:9: error: value 4294967296 does not fit in 32 bits");
    EXPECT_ERROR(".equ X, Y\n.equ Y, 0xffffffff+1\n", "t.s:2:9: error: value 4294967296 does not fit in 32 bits");
    EXPECT_ERROR(".equ X\n", "t.s:1:7: error: missing operand: '.equ' expects NAME, VALUE");
    EXPECT_ERROR(".equ\n", "t.s:1:5: error: missing operand: '.equ' expects NAME, VALUE");
    EXPECT_ERROR(".equ X 1\n", "t.s:1:8: error: expected ',' after the name, found '1'");
    EXPECT_ERROR(".equ 5, 1\n", "t.s:1:6: error: expected a name after '.equ', found '5'");
    EXPECT_ERROR(".equ X,\n", "t.s:1:8: error: missing operand: '.equ' expects NAME, VALUE");
}

Test(asm_errors, equ_chain_limit)
{
    /* 300 forward references in a row: deeper than the limit */
    size_t cap = 300 * 40, n = 0;
    char *src = malloc(cap);
    for (int i = 0; i < 300; i++) n += (size_t)snprintf(src + n, cap - n, ".equ E%d, E%d+1\n", i, i + 1);
    snprintf(src + n, cap - n, ".equ E300, 0\n");
    char *errs = expect_error(src, "error: '.equ' names defined through more than 256 others");
    free(errs);
    free(src);
}

Test(asm_errors, directives)
{
    EXPECT_ERROR(".org\n", "t.s:1:5: error: missing operand: '.org' expects an address");
    EXPECT_ERROR(".org later\nlater: nop\n",
                 "t.s:1:6: error: '.org' needs a value known at this line, but 'later' is not defined above it");
    EXPECT_ERROR(".org -1\n", "t.s:1:6: error: address -1 out of range (0..0xffffffff)");
    EXPECT_ERROR(".org 5 6\n", "t.s:1:8: error: extra operand '6' after the operand");
    EXPECT_ERROR(".org 0xffffffff\n.word 1, 2\n", "t.s:2:1: error: the program runs past address 0xffffffff");
    EXPECT_ERROR(".space -1\n", "t.s:1:8: error: '.space' count -1 out of range (0..16777216)");
    EXPECT_ERROR(".space 0x1000001\n", "t.s:1:8: error: '.space' count 16777217 out of range (0..16777216)");
    EXPECT_ERROR(".space n\n.equ n, 1\n", "t.s:1:8: error: '.space' needs a value known at this line, but 'n' is not defined above it");
    EXPECT_ERROR(".word\n", "t.s:1:6: error: missing operand: '.word' expects one or more values");
    EXPECT_ERROR(".word 1,\n", "t.s:1:9: error: missing value after ','");
    EXPECT_ERROR(".word 1 2\n", "t.s:1:9: error: expected ',' between values, found '2'");
    EXPECT_ERROR(".word 0xffffffff+1\n", "t.s:1:7: error: value 4294967296 does not fit in a 32-bit word");
    EXPECT_ERROR(".word -2147483649\n", "t.s:1:7: error: value -2147483649 does not fit in a 32-bit word");
    EXPECT_ERROR(".entry a\n.entry b\na: b: nop\n", "t.s:2:8: error: duplicate '.entry' (first at t.s:1)");
    EXPECT_ERROR(".entry\n", "t.s:1:7: error: missing operand: '.entry' expects a label or address");
    EXPECT_ERROR(".entry -5\n", "t.s:1:8: error: entry address -5 out of range");
    EXPECT_ERROR(".endm\n", "t.s:1:1: error: '.endm' without '.macro'");
}

Test(asm_errors, program_too_large)
{
    EXPECT_ERROR(".space 0x1000000\n.word 1\n", "t.s:2:1: error: the program is larger than 16777216 words");
}

Test(asm_errors, macros)
{
    EXPECT_ERROR(".macro m a\n.endm\nm\n", "t.s:3:1: error: macro 'm' expects 1 argument (a), got 0");
    EXPECT_ERROR(".macro m a, b\n.endm\n  m 1, 2, 3\n", "t.s:3:3: error: macro 'm' expects 2 arguments (a, b), got 3");
    EXPECT_ERROR(".macro m\n.endm\nm 1\n", "t.s:3:1: error: macro 'm' expects 0 arguments, got 1");
    EXPECT_ERROR(".macro m\n  m\n.endm\nm\n",
                 "t.s:2:3: error: macro 'm' invokes itself (recursion never ends: there are no conditionals)");
    EXPECT_ERROR(".macro ma\nmb\n.endm\n.macro mb\nma\n.endm\nma\n", "t.s:5:1: error: macro 'ma' invokes itself");
    EXPECT_ERROR(".macro m\n.macro n\n.endm\n", "t.s:2:1: error: '.macro' inside the definition of 'm' (missing .endm?)");
    EXPECT_ERROR("  .macro m\nnop\n", "t.s:1:3: error: missing '.endm' for macro 'm'");
    EXPECT_ERROR(".macro add\n.endm\n", "t.s:1:8: error: 'add' is an instruction or register and cannot be a macro name");
    EXPECT_ERROR(".macro li\n.endm\n", "t.s:1:8: error: 'li' is an instruction or register and cannot be a macro name");
    EXPECT_ERROR(".macro .m\n.endm\n", "t.s:1:8: error: macro name '.m' must not start with '.'");
    EXPECT_ERROR(".macro\n.endm\n", "t.s:1:7: error: missing operand: '.macro' expects NAME [PARAM, ...]");
    EXPECT_ERROR(".macro m a, a\n.endm\n", "t.s:1:13: error: duplicate macro parameter 'a'");
    EXPECT_ERROR(".macro m 5\n.endm\n", "t.s:1:10: error: bad macro parameter '5'");
    EXPECT_ERROR(".macro m\n.endm\n.macro m\n.endm\n", "t.s:3:8: error: duplicate macro 'm' (first defined at t.s:1)");
    /* a bad header still swallows the body, so it is not assembled */
    char *errs = expect_error(".macro add\nbogus_instruction\n.endm\n", "cannot be a macro name");
    cr_assert_null(strstr(errs, "bogus_instruction'"), "%s", errs);
    free(errs);
    /* a macro defined by an expansion */
    EXPECT_ERROR(".macro m x\n\\x\n.endm\nm .macro foo\n",
                 "t.s:2:1: error: a macro cannot be defined inside a macro expansion");
}

Test(asm_errors, errors_inside_expansions_name_the_body_and_the_invocation)
{
    char *errs = expect_error(".macro m r\n  addi \\r, \\r, 1\n.endm\nnop\nm r99\n",
                              "t.s:2:8: error: bad register 'r99' (expected r0..r15, sp or lr)\n"
                              "  addi r99, r99, 1\n"
                              "       ^\n"
                              "t.s:5: note: in expansion of macro 'm' here\n");
    free(errs);
    errs = expect_error(".macro ma\n.word \\@, undefined_x\n.endm\n.macro mb\nma\n.endm\nmb\n",
                        "t.s:2:10: error: undefined symbol 'undefined_x'\n"
                        ".word 1, undefined_x\n"
                        "         ^\n"
                        "t.s:5: note: in expansion of macro 'ma' here\n"
                        "t.s:7: note: in expansion of macro 'mb' here\n");
    free(errs);
}

Test(asm_errors, macro_limits)
{
    /* 70 macros each invoking the next: deeper than the limit */
    size_t cap = 70 * 64, n = 0;
    char *src = malloc(cap);
    for (int i = 0; i < 70; i++) n += (size_t)snprintf(src + n, cap - n, ".macro m%d\nm%d\n.endm\n", i, i + 1);
    n += (size_t)snprintf(src + n, cap - n, ".macro m70\nnop\n.endm\nm0\n");
    free(expect_error(src, "error: macro expansions nested more than 64 deep"));
    free(src);
    /* doubling macros: 2^40 lines would come out; the total is capped */
    cap = 45 * 64, n = 0;
    src = malloc(cap);
    for (int i = 0; i < 40; i++) n += (size_t)snprintf(src + n, cap - n, ".macro d%d\nd%d\nd%d\n.endm\n", i, i + 1, i + 1);
    n += (size_t)snprintf(src + n, cap - n, ".macro d40\n.org 0\n.endm\nd0\n");
    free(expect_error(src, "error: macro expansions produced more than 100000 lines"));
    free(src);
    /* arguments that double the line at each level */
    cap = 45 * 80, n = 0;
    src = malloc(cap);
    for (int i = 0; i < 30; i++) n += (size_t)snprintf(src + n, cap - n, ".macro g%d a\ng%d \\a\\a\n.endm\n", i, i + 1);
    n += (size_t)snprintf(src + n, cap - n, ".macro g30 a\n.word 0\n.endm\ng0 xxxxxxxxxx\n");
    free(expect_error(src, "makes a line longer than 65536 bytes"));
    free(src);
}

Test(asm_errors, several_errors_in_source_order_and_a_cap)
{
    /* pass-2 errors (line 1) and pass-1 errors (line 2) come out in line order */
    char *errs = expect_error("jmp nowhere\nbogus\nadd r1\n", "t.s:1:5: error: undefined symbol 'nowhere'");
    char *a = strstr(errs, "t.s:1:5"), *b = strstr(errs, "t.s:2:1"), *c = strstr(errs, "t.s:3:7");
    cr_assert(a && b && c && a < b && b < c, "%s", errs);
    free(errs);

    size_t cap = 100 * 16, n = 0;
    char *src = malloc(cap);
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(src + n, cap - n, "bad%d\n", i);
    struct asm_image img;
    cr_assert_eq(assemble(src, &img, &errs), 50);
    int count = 0;
    for (const char *p = errs; (p = strstr(p, ": error: unknown instruction")); p++) count++;
    cr_assert_eq(count, 50);
    cr_assert_not_null(strstr(errs, "t.s:50:1: error: unknown instruction 'bad49'"));
    cr_assert_null(strstr(errs, "bad50'"));
    cr_assert_not_null(strstr(errs, "t.s: error: too many errors; stopped after 50\n"));
    free(errs);
    free(src);
}

Test(asm_errors, nul_character)
{
    const char src[] = "nop\nad\0d r1\nnop\n";
    char *errs;
    size_t len;
    struct asm_image img;
    FILE *f = open_memstream(&errs, &len);
    char path[] = "/tmp/trapeze-asm-nul-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, src, sizeof src - 1), (ssize_t)(sizeof src - 1));
    close(fd);
    cr_assert_eq(asm_assemble_file(path, &img, f), 1);
    fclose(f);
    unlink(path);
    cr_assert_not_null(strstr(errs, ":2:3: error: NUL character in the source\nad\n  ^\n"), "%s", errs);
    free(errs);
}

/* ---- Robustness ------------------------------------------------------------------------ */

Test(asm_robust, empty_and_blank_sources)
{
    struct asm_image img;
    ok("", &img);
    cr_assert_eq(img.nsegments, 0u);
    cr_assert_eq(img.entry, ISA_DEFAULT_ENTRY);
    cr_assert_eq(img.nfiles, 1u);
    asm_image_free(&img);
    ok("\n\n   \n\t; x\r\n", &img);
    asm_image_free(&img);
    EXPECT_WORDS("nop\r\nhalt\r\n", R(ADD, 0, 0, 0), J(HALT, 0));
    EXPECT_WORDS("halt", J(HALT, 0)); /* no final newline */
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Garbage in: errors that name a place, never a crash (ASan watches). */
Test(asm_robust, garbage)
{
    static const char *const pieces[] = {
        "add", "r1", ",", " ", "(", ")", "'", "\"", "\\", ".macro", ".endm", ".word", ".org",
        "\\@", "x:", "0x", "99999999999", "-", "+", ";", "#", "\n", "\t", "li", "b", ".string",
        ".include", ".equ", "\xff", "\x01", "sp", ".", "ld", "lpsw", "beq", "jmp", ".space",
    };
    uint64_t s = 0x1234567;
    for (int round = 0; round < 300; round++) {
        char src[400];
        size_t n = 0;
        while (n < sizeof src - 20) {
            const char *p = pieces[rng(&s) % (sizeof pieces / sizeof pieces[0])];
            size_t k = strlen(p);
            memcpy(src + n, p, k);
            n += k;
        }
        src[n] = '\0';
        struct asm_image img;
        char *errs;
        int e = assemble(src, &img, &errs);
        if (e) {
            cr_assert(strncmp(errs, "t.s:", 4) == 0, "%s", errs);
        } else {
            asm_image_free(&img);
        }
        free(errs);
    }
    /* random bytes */
    for (int round = 0; round < 100; round++) {
        char src[300];
        for (size_t i = 0; i < sizeof src - 1; i++) {
            src[i] = (char)(rng(&s) % 255 + 1);
        }
        src[sizeof src - 1] = '\0';
        struct asm_image img;
        char *errs;
        if (assemble(src, &img, &errs) == 0) asm_image_free(&img);
        free(errs);
    }
}

Test(asm_robust, huge_lines_and_names)
{
    size_t n = 1u << 20;
    char *src = malloc(n + 64);
    strcpy(src, "nop ");
    memset(src + 4, 'x', n);
    strcpy(src + 4 + n, "\n");
    char *errs;
    struct asm_image img;
    cr_assert_eq(assemble(src, &img, &errs), 1);
    cr_assert_lt(strlen(errs), 1000u, "the echo of a huge line is cut");
    cr_assert_not_null(strstr(errs, "t.s:1:5: error: extra operand 'xxxx"));
    free(errs);
    free(src);
    /* a huge label is fine */
    src = malloc(2 * n + 64);
    size_t k = 0;
    memcpy(src + k, "lab", 3), k += 3;
    memset(src + k, 'y', n), k += n;
    memcpy(src + k, ": halt\njmp lab", 14), k += 14;
    memset(src + k, 'y', n), k += n;
    memcpy(src + k, "\n", 2);
    ok(src, &img);
    cr_assert_eq(word_at(&img, 17), J(JMP, 16));
    asm_image_free(&img);
    free(src);
}

Test(asm_robust, many_labels_are_fast_enough)
{
    /* 50000 labels and references: linear-ish, or this test takes minutes */
    size_t cap = 50000 * 40, n = 0;
    char *src = malloc(cap);
    for (int i = 0; i < 50000; i++) n += (size_t)snprintf(src + n, cap - n, "l%d: .word l%d\n", i, 49999 - i);
    struct asm_image img;
    ok(src, &img);
    cr_assert_eq(word_at(&img, 16), 16u + 49999);
    cr_assert_eq(img.nsymbols, 50000u);
    uint32_t v;
    cr_assert(asm_symbol_value(&img, "l123", &v));
    cr_assert_eq(v, 16u + 123);
    asm_image_free(&img);
    free(src);
}
