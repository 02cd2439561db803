/*
 * fuzz_witness.c: the parser of check-isa's witness lines (--replay).
 *
 * Properties: it ends with a witness or a message; a witness it accepts
 * formats to a line that parses back to the same witness, and replays
 * under every built-in variant (reproduced or not) without harm.
 */
#include "fuzz.h"

#include "../../isa/check/check.h"

static bool same_state(const struct check_state *a, const struct check_state *b)
{
    return a->insn == b->insn && a->mode == b->mode && a->ie == b->ie && a->tp == b->tp &&
           a->loc == b->loc && a->input == b->input && a->ctrl == b->ctrl && a->timer == b->timer &&
           a->pc == b->pc && a->mem_seed == b->mem_seed && memcmp(a->reg, b->reg, sizeof a->reg) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    struct check_witness w, back;
    char err[CHECK_TEXT_SIZE];
    memset(&w, 0, sizeof w);
    if (check_witness_parse(text, &w, err)) {
        char line[4 * CHECK_TEXT_SIZE];
        check_witness_format(&w, line, sizeof line);
        memset(&back, 0, sizeof back);
        FUZZ_CHECK(check_witness_parse(line, &back, err), "its own line '%s' does not parse: %s", line, err);
        FUZZ_CHECK(back.kind == w.kind && back.aspect == w.aspect && back.timer_only == w.timer_only &&
                       same_state(&back.s1, &w.s1) && (w.kind != CHECK_W_PAIR || same_state(&back.s2, &w.s2)),
                   "'%s' parses back to another witness", line);
        for (const char *const *name = isa_builtin_variant_names(); *name; name++) {
            struct isa_variant v;
            char verr[ISA_ERROR_SIZE];
            FUZZ_CHECK(isa_variant_load(*name, &v, verr), "%s", verr);
            char what[CHECK_TEXT_SIZE];
            check_replay(&v, &w, what);
        }
    }
    free(text);
    return 0;
}
