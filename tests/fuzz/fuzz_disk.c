/*
 * fuzz_disk.c: disk files (--disk FILE), read and then read by the guest.
 *
 * Input: byte 0 picks one of the tree's disk programs and how it is
 * virtualized (the C VMM under each I/O model, or asm VMMs above it),
 * byte 1 how the rest becomes the file: as it is (any length: the reader
 * must refuse what is not a disk), or cut or padded with zeros to 1-16
 * sectors.  The file goes through disk_file_open as `--disk` takes it;
 * then the program runs on it bare and virtualized, as `trapeze equiv
 * --disk FILE` does (equiv_check_disks).  Properties: the reader gives a
 * disk of the file's words or a one-line error naming the file; a disk's
 * contents are only data to the machine, so whatever they hold, both
 * sides end within their budgets, and on pg, when not cut, not given up
 * and keeping ISA.md's page-table rule (as far as the machine's record of
 * changed entries can tell), the program ends as on the bare machine:
 * stop, registers, PSW, memory, output, steps and every word of the disk.
 */
#include "programs.h"

#include <unistd.h>

#include "../../tui/disk_file.h"
#include "../../vmm/equiv/equiv.h"

#define FUZZ_DISK_STEPS 20000u
#define FUZZ_DISK_UNITS 2000000u
#define FUZZ_DISK_MEM 65536u

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

static const char *const programs[] = {
    "programs/disk.s", "programs/store.s", "programs/toyos/toyos_store.s",
    "programs/toyos/toyos_store_paged.s",
};
/* How the program is virtualized: a stack, and the C VMM's I/O model when
 * it is alone at the bottom (split serves these programs as direct does:
 * none of them posts on its ring; split.s, which does, has no bare run to
 * be compared with). */
struct side {
    const char *stack;
    bool io_given;
    enum vmm_io_model io;
};
static const struct side sides[] = {
    {"c", true, VMM_IO_DIRECT}, {"c", true, VMM_IO_PASSTHROUGH}, {"c", true, VMM_IO_SPLIT},
    {"asm", false, VMM_IO_DIRECT}, {"c,asm", false, VMM_IO_DIRECT},
};

/* The programs assembled and the asm VMM loaded once for the campaign:
 * main's state, read only after this. */
static struct asm_image images[COUNT(programs)];
static struct asm_vmm *built_in_vmm;
static struct isa_variant pg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_load_programs(programs, COUNT(programs), images);
    built_in_vmm = fuzz_load_asm_vmm(NULL);
    char verr[ISA_ERROR_SIZE];
    FUZZ_CHECK(isa_variant_load("pg", &pg, verr), "%s", verr);
    return 0;
}

/* The file's bytes: data as it is, or cut or padded to whole sectors. */
static uint8_t *file_bytes(const uint8_t *data, size_t size, uint8_t how, size_t *len)
{
    *len = how & 1 ? (size_t)(1 + (how >> 1 & 15)) * ISA_SECTOR_BYTES : size;
    uint8_t *bytes = calloc(*len ? *len : 1, 1);
    FUZZ_CHECK(bytes != NULL, "out of memory");
    if (size) memcpy(bytes, data, size < *len ? size : *len);
    return bytes;
}

/* A refusal is one line naming the file. */
static void expect_one_line(const char *err, const char *path)
{
    FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "not one line: '%s'", err);
    FUZZ_CHECK(strstr(err, path) != NULL, "does not name %s: '%s'", path, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    const unsigned p = data[0] % COUNT(programs);
    const struct side *s = &sides[(data[0] / COUNT(programs)) % COUNT(sides)];
    size_t len;
    uint8_t *bytes = file_bytes(data + 2, size - 2, data[1], &len);
    char path[64];
    fuzz_temp_file(bytes, len, path);

    struct disk_file disk;
    char err[RUN_ERROR_SIZE];
    const bool opened = disk_file_open(&disk, path, err, sizeof err);
    const bool is_disk = len > 0 && len % ISA_SECTOR_BYTES == 0;
    FUZZ_CHECK(opened == is_disk, "%zu bytes %s", len, opened ? "taken as a disk" : err);
    if (!opened) {
        expect_one_line(err, path);
        goto done;
    }
    FUZZ_CHECK(disk.sectors == len / ISA_SECTOR_BYTES, "%u sectors of %zu bytes", disk.sectors, len);
    for (size_t w = 0; w < len / 4; w++) {
        const uint32_t want = (uint32_t)bytes[4 * w] | (uint32_t)bytes[4 * w + 1] << 8 |
                              (uint32_t)bytes[4 * w + 2] << 16 | (uint32_t)bytes[4 * w + 3] << 24;
        FUZZ_CHECK(disk.words[w] == want, "word %zu read as 0x%08x, the file holds 0x%08x", w, disk.words[w], want);
    }

    struct equiv_config cfg = {0};
    FUZZ_CHECK(run_spec_parse(s->stack, &cfg.spec, err), "%s", err);
    cfg.variant = &pg;
    cfg.memsize = FUZZ_DISK_MEM;
    cfg.max_steps = FUZZ_DISK_STEPS;
    cfg.program = &images[p];
    cfg.asm_vmm = built_in_vmm;
    cfg.max_real_steps = FUZZ_DISK_UNITS;
    cfg.io_given = s->io_given;
    cfg.io_model = s->io;
    cfg.iommu = true;
    const struct run_medium medium = disk_file_medium(&disk);
    struct equiv_report *rep = malloc(sizeof *rep);
    FUZZ_CHECK(rep != NULL, "out of memory");
    if (!equiv_check_disks(&cfg, &medium, 1, rep, err)) {
        /* A side that cannot be made (a disk too small to partition): one line. */
        FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "not one line: '%s'", err);
    } else {
        FUZZ_CHECK(rep->bare.steps <= FUZZ_DISK_STEPS && rep->virt.steps <= FUZZ_DISK_STEPS, "past the budget");
        /* the bound is looked at between slices of work: a little past it */
        FUZZ_CHECK(rep->real_steps <= 2 * FUZZ_DISK_UNITS, "%llu real steps",
                   (unsigned long long)rep->real_steps);
        if (rep->cut == RUN_CUT_NONE && !rep->gave_up && !rep->refused && !rep->pte_rule_broken)
            FUZZ_CHECK(rep->equivalent, "%s on %s%s: %s; %s", programs[p], s->stack,
                       s->io_given ? (const char *[]){" --io direct", " --io passthrough", " --io split"}[s->io] : "",
                       rep->step, rep->at_end.n ? rep->at_end.text[0] : "");
    }
    free(rep);
    disk_file_close(&disk);
done:
    unlink(path);
    free(bytes);
    return 0;
}
