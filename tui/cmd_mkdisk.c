/*
 * cmd_mkdisk.c: `trapeze mkdisk`, disk images for --disk.
 *
 *   trapeze mkdisk -o IMAGE --sectors N           N zeroed sectors
 *   trapeze mkdisk -o IMAGE [--sectors N] FILE... a record store holding
 *                                                 each FILE as a record
 *   trapeze mkdisk --list IMAGE                   the records of a store
 *
 * The record store is the on-disk layout of programs/lib/store.inc
 * (which draws it; store.s and toyos/toyos_store.s run it): sector 0 is the directory, a magic
 * word, the record count, the first free sector, then one 16-word entry per
 * record (name, one character per word, zero-terminated; first sector;
 * length in words); each record's data is one byte per word, from its
 * first sector on.  The layout's numbers are below, once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../machine/disk.h"
#include "cli.h"
#include "disk_file.h"
#include "options.h"

#define STORE_MAGIC 0x52454353u /* "RECS" */
#define STORE_HEADER 16u        /* words before the first entry */
#define STORE_ENTRY 16u         /* words per entry */
#define STORE_NAME 12u          /* words of a name, its zero included */
#define STORE_FIRST 12u         /* the entry's word: first sector */
#define STORE_LENGTH 13u        /* ... and length in words */
#define STORE_MAX ((ISA_SECTOR_WORDS - STORE_HEADER) / STORE_ENTRY) /* 15 records */
#define DEFAULT_SECTORS 64u

struct mkdisk {
    const char *out, *list;
    uint64_t sectors;
    bool sectors_given;
};

static bool apply_out(void *target, const char *value, char *err)
{
    (void)err;
    ((struct mkdisk *)target)->out = value;
    return true;
}

static bool apply_list(void *target, const char *value, char *err)
{
    (void)err;
    ((struct mkdisk *)target)->list = value;
    return true;
}

static bool apply_sectors(void *target, const char *value, char *err)
{
    struct mkdisk *m = target;
    if (!options_parse_u64(value, &m->sectors) || m->sectors == 0 || m->sectors > DISK_MAX_SECTORS) {
        snprintf(err, CLI_ERROR_SIZE, "expected a number of sectors from 1 to %u, got '%.100s'",
                 DISK_MAX_SECTORS, value);
        return false;
    }
    m->sectors_given = true;
    return true;
}

static const struct cli_option options[] = {
    {"-o", "IMAGE", "write the image to IMAGE (replacing it)", apply_out, false},
    {"--sectors", "N", "the image's size in 256-word sectors (default 64 for a store)", apply_sectors, false},
    {"--list", "IMAGE", "print the records of the store in IMAGE, one per line", apply_list, false},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* The store of files[0..n) in words (sectors * 256, zeroed by the caller). */
static bool build_store(uint32_t *words, uint32_t sectors, char **files, size_t n)
{
    if (n > STORE_MAX) {
        fprintf(stderr, "trapeze mkdisk: at most %u records, got %zu files\n", STORE_MAX, n);
        return false;
    }
    uint32_t next = 1;
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(files[i], '/');
        const char *name = slash ? slash + 1 : files[i];
        if (!*name || strlen(name) >= STORE_NAME) {
            fprintf(stderr, "trapeze mkdisk: '%s': a record's name has 1 to %u characters\n", files[i],
                    STORE_NAME - 1);
            return false;
        }
        size_t len;
        char *text = cli_read_file(files[i], &len);
        if (!text) {
            fprintf(stderr, "trapeze mkdisk: cannot read '%s': %s\n", files[i], strerror(errno));
            return false;
        }
        const uint64_t need = (len + ISA_SECTOR_WORDS - 1) / ISA_SECTOR_WORDS;
        if (next + need > sectors) {
            fprintf(stderr, "trapeze mkdisk: '%s' (%zu bytes) does not fit in %u sectors\n", files[i],
                    len, sectors);
            free(text);
            return false;
        }
        uint32_t *entry = words + STORE_HEADER + i * STORE_ENTRY;
        for (size_t c = 0; name[c]; c++) entry[c] = (uint8_t)name[c];
        entry[STORE_FIRST] = next;
        entry[STORE_LENGTH] = (uint32_t)len;
        for (size_t b = 0; b < len; b++) words[(size_t)next * ISA_SECTOR_WORDS + b] = (uint8_t)text[b];
        next += (uint32_t)need;
        free(text);
    }
    words[0] = STORE_MAGIC;
    words[1] = (uint32_t)n;
    words[2] = next;
    return true;
}

/* --list: "NAME LENGTH: text" per record; the text's newlines as \n. */
static int list_store(const char *path)
{
    struct disk_file f;
    char err[CLI_ERROR_SIZE];
    if (!disk_file_open(&f, path, err, sizeof err)) {
        fprintf(stderr, "trapeze mkdisk: --list: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    const uint32_t *w = f.words;
    int rc = CLI_EXIT_OK;
    if (w[0] != STORE_MAGIC || w[1] > STORE_MAX) {
        fprintf(stderr, "trapeze mkdisk: --list: '%s' holds no record store\n", path);
        rc = CLI_EXIT_USAGE;
    }
    for (uint32_t i = 0; rc == CLI_EXIT_OK && i < w[1]; i++) {
        const uint32_t *e = w + STORE_HEADER + i * STORE_ENTRY;
        for (unsigned c = 0; c < STORE_NAME && e[c]; c++) putchar((int)(e[c] & 0xff));
        printf(" %" PRIu32 ":", e[STORE_LENGTH]);
        const uint64_t first = (uint64_t)e[STORE_FIRST] * ISA_SECTOR_WORDS;
        const uint64_t total = (uint64_t)f.sectors * ISA_SECTOR_WORDS;
        for (uint64_t b = 0; b < e[STORE_LENGTH] && first + b < total; b++) {
            const int ch = (int)(w[first + b] & 0xff);
            if (ch == '\n') fputs("\\n", stdout);
            else putchar(ch >= 0x20 && ch < 0x7f ? ch : '?');
        }
        putchar('\n');
    }
    disk_file_close(&f);
    return rc;
}

int cmd_mkdisk(int argc, char **argv)
{
    struct mkdisk m = {0};
    char **files = calloc((size_t)argc, sizeof *files);
    size_t nfiles = 0;
    if (!files) return CLI_EXIT_USAGE;
    int rc = cli_parse(options, NOPTIONS, &m, argc, argv, files, &nfiles);
    if (rc == 1) {
        printf("usage: trapeze mkdisk -o IMAGE [--sectors N] [FILE...]\n"
               "       trapeze mkdisk --list IMAGE\n\n"
               "Makes a disk image for --disk: N zeroed sectors, or a record store (the\n"
               "layout of programs/lib/store.inc) holding each FILE as a record named\n"
               "by its base name.  --list prints a store's records.\n\noptions:\n");
        cli_print_options(stdout, options, NOPTIONS);
        rc = CLI_EXIT_OK;
    } else if (rc == 0 && m.list) {
        rc = (m.out || nfiles) ? (fprintf(stderr, "trapeze mkdisk: --list takes no -o or FILE\n"),
                                  CLI_EXIT_USAGE)
                               : list_store(m.list);
    } else if (rc == 0 && !m.out) {
        fprintf(stderr, "trapeze mkdisk: expected -o IMAGE (see trapeze mkdisk --help)\n");
        rc = CLI_EXIT_USAGE;
    } else if (rc == 0 && !nfiles && !m.sectors_given) {
        fprintf(stderr, "trapeze mkdisk: expected --sectors N or FILEs for a record store\n");
        rc = CLI_EXIT_USAGE;
    } else if (rc == 0) {
        const uint32_t sectors = m.sectors_given ? (uint32_t)m.sectors : DEFAULT_SECTORS;
        uint32_t *words = calloc((size_t)sectors * ISA_SECTOR_WORDS, sizeof *words);
        if (!words) {
            fprintf(stderr, "trapeze mkdisk: out of memory\n");
            rc = CLI_EXIT_USAGE;
        } else if (nfiles && !build_store(words, sectors, files, nfiles)) {
            rc = CLI_EXIT_USAGE;
        } else if (!disk_file_create(m.out, words, sectors)) {
            fprintf(stderr, "trapeze mkdisk: cannot write '%s': %s\n", m.out, strerror(errno));
            rc = CLI_EXIT_USAGE;
        }
        free(words);
    }
    free(files);
    return rc;
}
