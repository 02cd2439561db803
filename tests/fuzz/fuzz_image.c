/*
 * fuzz_image.c: the image reader and what reads an image it accepts.
 *
 * Properties: the reader ends with an image or a one-line error; an image
 * it accepts is listed (the listing ends: it looped on two line records
 * at one address), disassembled and written, and what is written reads
 * back to the same words and records.  Source files named by the image are
 * not on disk unless the input names real files; the listing bounds what
 * it reads of them.
 */
#include "fuzz.h"

#include <unistd.h>

#include "../../assembler/asm.h"

static bool same_image(const struct asm_image *a, const struct asm_image *b)
{
    if (a->entry != b->entry || a->nsegments != b->nsegments || a->nsymbols != b->nsymbols ||
        a->nlines != b->nlines || a->nfiles != b->nfiles)
        return false;
    for (size_t s = 0; s < a->nsegments; s++)
        if (a->segments[s].at != b->segments[s].at || a->segments[s].count != b->segments[s].count ||
            memcmp(a->segments[s].words, b->segments[s].words, a->segments[s].count * sizeof(uint32_t)))
            return false;
    for (size_t i = 0; i < a->nsymbols; i++)
        if (strcmp(a->symbols[i].name, b->symbols[i].name) || a->symbols[i].value != b->symbols[i].value ||
            a->symbols[i].is_label != b->symbols[i].is_label)
            return false;
    for (size_t i = 0; i < a->nlines; i++)
        if (memcmp(&a->lines[i], &b->lines[i], sizeof a->lines[i])) return false;
    for (size_t i = 0; i < a->nfiles; i++)
        if (strcmp(a->files[i], b->files[i])) return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[512];
    fuzz_temp_file(data, size, path);
    struct asm_image img;
    bool ok = asm_image_read(path, &img, err, sizeof err);
    if (!ok) FUZZ_CHECK(strchr(err, '\n') == NULL && err[0], "not one line: '%s'", err);
    if (ok) {
        FILE *sink = fopen("/dev/null", "w");
        FUZZ_CHECK(sink != NULL, "cannot open /dev/null");
        FUZZ_CHECK(asm_write_listing(&img, sink), "listing");
        FUZZ_CHECK(asm_write_disassembly(&img, sink), "disassembly");
        fclose(sink);
        FILE *f = fopen(path, "wb");
        FUZZ_CHECK(f && asm_image_write(&img, f) && fclose(f) == 0, "image write");
        struct asm_image back;
        FUZZ_CHECK(asm_image_read(path, &back, err, sizeof err), "written image rejected: %s", err);
        FUZZ_CHECK(same_image(&img, &back), "the written image reads back differently");
        asm_image_free(&back);
        asm_image_free(&img);
    }
    unlink(path);
    return 0;
}
