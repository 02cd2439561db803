/*
 * fuzz_variant.c: the variant file parser, on any text.
 *
 * Properties: it ends with a variant or a one-line message naming the
 * place; a variant it accepts has an action for every system instruction
 * (isa_user_action_name knows it).  A `base` line may name a built-in
 * variant or a file beside "fuzz.var" (the current directory).
 */
#include "fuzz.h"

#include "../../isa/isa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct isa_variant v;
    char err[ISA_ERROR_SIZE];
    if (isa_variant_parse(text, "fuzz.var", &v, err)) {
        for (size_t i = 0; isa_op_with_flags(ISA_F_SYSTEM, i); i++) {
            const struct isa_op *op = isa_op_with_flags(ISA_F_SYSTEM, i);
            FUZZ_CHECK(v.user_action[op->opcode] <= USER_SILENT, "%s: action %u", op->mnemonic, v.user_action[op->opcode]);
        }
    } else {
        FUZZ_CHECK(err[0] && strchr(err, '\n') == NULL, "not one line: '%s'", err);
        FUZZ_CHECK(strncmp(err, "fuzz.var", 8) == 0, "does not name the file: '%s'", err);
    }
    free(text);
    return 0;
}
