/*
 * fuzz_asm.c: the assembler, on any source text.
 *
 * Includes resolve in the embedded tree (asm_options.embedded), so the
 * fuzzer can reach programs/lib/ and never the disk.  Properties: it ends
 * (the include and macro caps), and a program it accepts writes its image,
 * listing and disassembly, and the disassembly assembles back to the same
 * entry and words (assembler/README.md, "Listing and disassembly").
 */
#include "fuzz.h"

#include "../../assembler/asm.h"

static bool same_words(const struct asm_image *a, const struct asm_image *b)
{
    if (a->entry != b->entry || a->nsegments != b->nsegments) return false;
    for (size_t s = 0; s < a->nsegments; s++)
        if (a->segments[s].at != b->segments[s].at || a->segments[s].count != b->segments[s].count ||
            memcmp(a->segments[s].words, b->segments[s].words, a->segments[s].count * sizeof(uint32_t)))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = fuzz_text(data, size);
    const struct asm_options opts = {.embedded = true};
    struct asm_image img;
    FILE *sink = fopen("/dev/null", "w");
    FUZZ_CHECK(sink != NULL, "cannot open /dev/null");
    if (asm_assemble_string_opts(src, "programs/fuzz.s", &opts, &img, sink) == 0) {
        FUZZ_CHECK(asm_image_write(&img, sink), "image write");
        FUZZ_CHECK(asm_write_listing(&img, sink), "listing");
        char *dis = NULL;
        size_t dis_len = 0;
        FILE *d = open_memstream(&dis, &dis_len);
        FUZZ_CHECK(d && asm_write_disassembly(&img, d) && fclose(d) == 0, "disassembly");
        struct asm_image back;
        int errors = asm_assemble_string(dis, "disassembly.s", &back, sink);
        FUZZ_CHECK(errors == 0, "the disassembly does not assemble:\n%s", dis);
        FUZZ_CHECK(same_words(&img, &back), "the disassembly assembles to other words:\n%s", dis);
        asm_image_free(&back);
        free(dis);
        asm_image_free(&img);
    }
    fclose(sink);
    free(src);
    return 0;
}
