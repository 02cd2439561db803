/*
 * test_asm_vmm_layout.c: the exported layout of the asm VMM
 * (programs/vmm/vmm.s) is what programs/vmm/README.md documents as the
 * contract with the C side.
 *
 * Every row of the README's table ("| `name` | kind | meaning |") must name
 * a symbol of vmm.s of that kind: an .equ name for ".equ", a label for
 * "word", "array of N" and "label", with a word or N words before the
 * next label.  The values the C side depends on (the VS_* and E_* numbers,
 * the layout of memory) are pinned down here too, so that a change to
 * vmm.s that breaks the contract fails here and not in a stack far away.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../assembler/asm.h"
#include "../../isa/isa.h"

#define VMM_SOURCE "programs/vmm/vmm.s"
#define VMM_README "programs/vmm/README.md"
#define TABLE_HEADING "## The exported layout"

static struct asm_image vmm_image(void)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program(VMM_SOURCE, &img, stderr), 0, VMM_SOURCE " does not assemble");
    return img;
}

static const struct asm_symbol *find(const struct asm_image *img, const char *name)
{
    for (size_t i = 0; i < img->nsymbols; i++)
        if (strcmp(img->symbols[i].name, name) == 0) return &img->symbols[i];
    return NULL;
}

/* The address of the first label after address a, or 0 when there is none. */
static uint32_t next_label(const struct asm_image *img, uint32_t a)
{
    uint32_t best = 0;
    for (size_t i = 0; i < img->nsymbols; i++) {
        const struct asm_symbol *y = &img->symbols[i];
        if (y->is_label && y->value > a && (best == 0 || y->value < best)) best = y->value;
    }
    return best;
}

static uint32_t value(const struct asm_image *img, const char *name)
{
    const struct asm_symbol *y = find(img, name);
    cr_assert_not_null(y, VMM_SOURCE " defines no %s", name);
    return y->value;
}

/* Checks one row of the table: `name` and its kind. */
static void check_row(const struct asm_image *img, const char *name, const char *kind)
{
    const struct asm_symbol *y = find(img, name);
    cr_assert_not_null(y, VMM_README " documents %s, which " VMM_SOURCE " does not define", name);
    if (strcmp(kind, ".equ") == 0) {
        cr_assert_not(y->is_label, "%s is documented as an .equ but is a label", name);
        return;
    }
    cr_assert(y->is_label, "%s is documented as a %s but is an .equ", name, kind);
    cr_assert_lt(y->value, value(img, "SHADOW"), "%s lies in the VMM's words", name);
    unsigned words = 0;
    if (strcmp(kind, "word") == 0) words = 1;
    else if (sscanf(kind, "array of %u", &words) != 1)
        cr_assert_str_eq(kind, "label", "%s: unknown kind '%s'", name, kind);
    if (words) {
        uint32_t next = next_label(img, y->value);
        cr_assert_eq(next - y->value, words, "%s: %u words documented, %u before the next label", name,
                     words, next - y->value);
    }
}

Test(asm_vmm_layout, the_readme_table_is_the_symbol_table)
{
    struct asm_image img = vmm_image();
    FILE *f = fopen(VMM_README, "r");
    cr_assert_not_null(f, "cannot read " VMM_README);
    char line[1024];
    bool in_section = false;
    unsigned rows = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "## ", 3) == 0) {
            if (in_section) break;
            in_section = strncmp(line, TABLE_HEADING, strlen(TABLE_HEADING)) == 0;
            continue;
        }
        char name[64], kind[64];
        if (!in_section || sscanf(line, "| `%63[^`]` | %63[^|]|", name, kind) != 2) continue;
        size_t k = strlen(kind);
        while (k > 0 && kind[k - 1] == ' ') kind[--k] = '\0';
        check_row(&img, name, kind);
        rows++;
    }
    fclose(f);
    cr_assert(in_section, VMM_README " has no section '" TABLE_HEADING "'");
    cr_assert_geq(rows, 22, "only %u rows in the table", rows);
    asm_image_free(&img);
}

/* The names and values the C side (vmm/stack.c) relies on. */
Test(asm_vmm_layout, the_values_the_c_side_relies_on)
{
    struct asm_image img = vmm_image();
    const char *states[] = {"VS_NOT_STARTED", "VS_RUNNING", "VS_HALTED",
                            "VS_UNHANDLED", "VS_CHECK", "VS_ERROR"};
    for (uint32_t i = 0; i < sizeof states / sizeof states[0]; i++)
        cr_assert_eq(value(&img, states[i]), i, "%s", states[i]);
    cr_assert_eq(value(&img, "E_SHADOW"), 1);
    cr_assert_eq(value(&img, "E_SMALL"), 2);
    const char *words[] = {"guest_entry", "vflags", "vbase", "vbound", "vstate", "vm_error",
                           "vpsw", "n_emulated", "n_traps", "gregs", "vmm_end"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) value(&img, words[i]);

    /* trap area < VMM < shadow table < the guest */
    const uint32_t base = value(&img, "GUEST_BASE"), shadow = value(&img, "SHADOW");
    cr_assert_eq(base % ISA_PAGE_WORDS, 0, "GUEST_BASE is a page boundary");
    cr_assert_leq(value(&img, "vmm_end"), shadow);
    cr_assert_leq(shadow + value(&img, "SHADOW_MAX"), base);
    cr_assert_geq(value(&img, "_start"), TRAP_AREA_WORDS);
    for (size_t i = 0; i < img.nsegments; i++)
        cr_assert_leq(img.segments[i].at + img.segments[i].count, shadow, "the image ends below SHADOW");
    /* the VMM reaches its words with ld rX, label(r0): a positive imm16 */
    cr_assert_lt(base + TRAP_AREA_WORDS, 0x8000u);
    /* trap_entry compares the cause word with the virtual M: emulated is a
     * PRIV (detail 0) in virtual supervisor mode, so the two must be one */
    cr_assert_eq((uint32_t)PSW_M, isa_trap_cause_word(CAUSE_PRIV, 0));
    asm_image_free(&img);
}
