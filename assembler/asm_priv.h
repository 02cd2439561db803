/*
 * asm_priv.h: what the assembler's files share and nobody else needs.
 *
 *   asm.c        the two-pass assembler (sources, macros, expressions, encoding)
 *   asm_image.c  the image: text format, queries, listing, disassembly
 *   build/gen/programs_embedded.c  the embedded sources (generated)
 */
#ifndef TRAPEZE_ASM_PRIV_H
#define TRAPEZE_ASM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa/isa.h"
#include "asm.h"

/* Limits; assembler/README.md lists them for users. */
#define ASM_MAX_ERRORS 50            /* errors reported before giving up     */
#define ASM_MAX_INCLUDE_DEPTH 16     /* .include nesting                     */
#define ASM_MAX_MACRO_DEPTH 64       /* macro expansions inside expansions   */
#define ASM_MAX_EXPANDED_LINES 100000u /* lines produced by all expansions   */
#define ASM_MAX_LINE 65536u          /* one expanded macro line, in bytes    */
#define ASM_MAX_FILE (16u << 20)     /* one source file, in bytes            */
#define ASM_MAX_INPUT_LINES 1000000u /* lines read in all: every include, every expansion */
#define ASM_MAX_INPUT_BYTES (64u << 20) /* ... and their bytes                   */
#define ASM_MAX_IMAGE_FILE (256u << 20) /* an image file, in bytes            */
#define ASM_MAX_WORDS (1u << 24)     /* words in an image                    */
#define ASM_MAX_EQU_DEPTH 256        /* .equ names defined through each other */

/* The word for op with these fields; fields that op's operand kind does not
 * use are left zero, so asm_encode(op, fields of w) == w exactly when w is the
 * canonical encoding of its instruction.  imm is imm16 (FMT_I) or imm24
 * (FMT_J), already range-checked by the caller. */
uint32_t asm_encode(const struct isa_op *op, unsigned a, unsigned b, unsigned c, uint32_t imm);

/* True when w is a defined instruction in its canonical encoding, so that its
 * disassembly assembles back to w. */
bool asm_word_is_canonical(uint32_t w);

/* Identifiers: [A-Za-z_.][A-Za-z0-9_.]*, and not a register name. */
bool asm_is_ident_start(int ch);
bool asm_is_ident_char(int ch);
/* The register named by s[0..len) (r0..r15, sp, lr, any case), or -1. */
int asm_register_number(const char *s, size_t len);
/* True when s is a name the assembler accepts for a label or .equ. */
bool asm_valid_symbol_name(const char *s);

/* The embedded sources, in the Makefile's order (EMBEDDED_PROGRAMS), ended
 * by {NULL, NULL}; defined in build/gen/programs_embedded.c, which
 * assembler/embed_sources.awk generates from the files themselves. */
struct asm_embedded_file {
    const char *path; /* tree path, e.g. "programs/vmm/vmm.s" */
    const char *text; /* the file's bytes */
};
extern const struct asm_embedded_file asm_embedded_files[];

/* Sorts img->symbols (labels first, each kind by value then name) and
 * img->lines by address.  Both asm.c and the image reader build images. */
void asm_image_sort(struct asm_image *img);

/* Dynamic arrays: v = asm_grow(v, &cap, need, sizeof *v) makes room for need
 * elements.  Allocation failure ends the process (there is nothing sensible
 * to report it to). */
void *asm_grow(void *v, size_t *cap, size_t need, size_t elem);
void *asm_xmalloc(size_t n);
char *asm_xstrndup(const char *s, size_t n);

#endif
