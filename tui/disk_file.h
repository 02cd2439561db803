/*
 * disk_file.h: the host files behind the disk units (--disk FILE) and
 * `trapeze mkdisk`.
 *
 * A disk file is ISA.md's format: the sectors' words, 4 bytes each,
 * little-endian, a non-zero multiple of 1,024 bytes.  It must be a regular
 * file (not a FIFO, device or directory), readable and writable (a unit is
 * written through: a completed write command has reached the file before
 * the guest's next instruction, so it survives a kill), and at most
 * DISK_MAX_SECTORS sectors, so what is read is bounded.
 */
#ifndef TRAPEZE_DISK_FILE_H
#define TRAPEZE_DISK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../vmm/run/run.h"

struct disk_file {
    const char *path;   /* as given (borrowed) */
    int fd;             /* open read-write; -1 once closed */
    uint32_t *words;    /* its contents when opened, decoded (owned) */
    uint32_t sectors;
    unsigned long long dev, ino; /* to refuse one file as two units */
    int write_errno;    /* the first write-through that failed, 0 if none */
};

/* Opens path as a disk.  False with a one-line message naming it in err
 * (missing, unreadable, read-only, not a regular file, wrongly sized, too
 * big), f then closed. */
bool disk_file_open(struct disk_file *f, const char *path, char *err, size_t errsize);
void disk_file_close(struct disk_file *f);
/* True when a and b are the same file. */
bool disk_file_same(const struct disk_file *a, const struct disk_file *b);
/* The medium as the run takes it. */
struct run_medium disk_file_medium(const struct disk_file *f);

/* The write-through, as run_set_disk_sink takes it: ctx is an array of
 * struct disk_file indexed by unit.  A write that fails is remembered in
 * write_errno (the first), never fatal to the run. */
void disk_file_sink(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words);
/* After a run: false with a one-line message when a write-through failed. */
bool disk_file_check_writes(const struct disk_file *files, unsigned n, char *err, size_t errsize);

/* Writes words (sectors * 256 of them) to path as a disk file, replacing
 * it.  False with errno set. */
bool disk_file_create(const char *path, const uint32_t *words, uint32_t sectors);

#endif
