/* test_asm_diag.c: a message is said once, though a pseudo-instruction's
 * words meet the same bad expression once each (li's lui and ori). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../assembler/asm.h"

static char *messages(const char *src, int want)
{
    char *errs;
    size_t len;
    struct asm_image img;
    FILE *f = open_memstream(&errs, &len);
    cr_assert_not_null(f);
    cr_assert_eq(asm_assemble_string(src, "t.s", &img, f), want, "%s", src);
    fclose(f);
    return errs;
}

Test(asm_diag, a_two_word_pseudo_reports_an_undefined_symbol_once)
{
    char *errs = messages("_start: li r1, X\n  la r2, Y\n  halt\n", 2);
    cr_assert_str_eq(errs,
                     "t.s:1:16: error: undefined symbol 'X'\n"
                     "_start: li r1, X\n"
                     "               ^\n"
                     "t.s:2:10: error: undefined symbol 'Y'\n"
                     "  la r2, Y\n"
                     "         ^\n");
    free(errs);
}

Test(asm_diag, different_messages_on_one_line_all_stay)
{
    char *errs = messages(".word X, Y\n", 2);
    cr_assert_not_null(strstr(errs, "t.s:1:7: error: undefined symbol 'X'"), "%s", errs);
    cr_assert_not_null(strstr(errs, "t.s:1:10: error: undefined symbol 'Y'"), "%s", errs);
    free(errs);
}
