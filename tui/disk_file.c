/* disk_file.c: the files behind the disk units (disk_file.h). */
#include "disk_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../machine/disk.h"

static void encode(const uint32_t *words, size_t n, uint8_t *bytes)
{
    for (size_t i = 0; i < n; i++) {
        const uint32_t w = words[i];
        bytes[4 * i] = (uint8_t)w;
        bytes[4 * i + 1] = (uint8_t)(w >> 8);
        bytes[4 * i + 2] = (uint8_t)(w >> 16);
        bytes[4 * i + 3] = (uint8_t)(w >> 24);
    }
}

static void decode(const uint8_t *bytes, size_t n, uint32_t *words)
{
    for (size_t i = 0; i < n; i++)
        words[i] = (uint32_t)bytes[4 * i] | (uint32_t)bytes[4 * i + 1] << 8 |
                   (uint32_t)bytes[4 * i + 2] << 16 | (uint32_t)bytes[4 * i + 3] << 24;
}

/* All of [off, off + len) of fd, or false with errno set (EIO at a short file). */
static bool pread_all(int fd, uint8_t *buf, size_t len, off_t off)
{
    while (len) {
        const ssize_t got = pread(fd, buf, len, off);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (got == 0) errno = EIO;
            return false;
        }
        buf += got, len -= (size_t)got, off += got;
    }
    return true;
}

static bool pwrite_all(int fd, const uint8_t *buf, size_t len, off_t off)
{
    while (len) {
        const ssize_t put = pwrite(fd, buf, len, off);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) {
            if (put == 0) errno = EIO;
            return false;
        }
        buf += put, len -= (size_t)put, off += put;
    }
    return true;
}

bool disk_file_open(struct disk_file *f, const char *path, char *err, size_t errsize)
{
    *f = (struct disk_file){.path = path, .fd = -1};
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
    f->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (f->fd < 0) {
        const int why = errno;
        const int ro = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (ro >= 0 && (why == EACCES || why == EROFS || why == EPERM)) {
            close(ro);
            snprintf(err, errsize, "'%.300s' is read-only (a disk is written through): %s", path,
                     strerror(why));
        } else {
            if (ro >= 0) close(ro);
            snprintf(err, errsize, "cannot open '%.300s': %s", path, strerror(why));
        }
        return false;
    }
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        snprintf(err, errsize, "cannot read '%.300s': %s", path, strerror(errno));
        goto failed;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsize, "'%.300s' is not a regular file", path);
        goto failed;
    }
    const uint64_t max = (uint64_t)DISK_MAX_SECTORS * ISA_SECTOR_BYTES;
    if (st.st_size <= 0 || st.st_size % ISA_SECTOR_BYTES != 0 || (uint64_t)st.st_size > max) {
        snprintf(err, errsize, "'%.300s' has %lld bytes: a disk holds a non-zero multiple of %u bytes "
                 "(256-word sectors), at most %llu", path, (long long)st.st_size, ISA_SECTOR_BYTES,
                 (unsigned long long)max);
        goto failed;
    }
    f->sectors = (uint32_t)(st.st_size / ISA_SECTOR_BYTES);
    f->dev = (unsigned long long)st.st_dev;
    f->ino = (unsigned long long)st.st_ino;
    const size_t nwords = (size_t)f->sectors * ISA_SECTOR_WORDS;
    uint8_t *bytes = malloc((size_t)st.st_size);
    f->words = malloc(nwords * sizeof *f->words);
    if (!bytes || !f->words) {
        free(bytes);
        snprintf(err, errsize, "'%.300s': out of memory", path);
        goto failed;
    }
    if (!pread_all(f->fd, bytes, (size_t)st.st_size, 0)) {
        snprintf(err, errsize, "cannot read '%.300s': %s", path, strerror(errno));
        free(bytes);
        goto failed;
    }
    decode(bytes, nwords, f->words);
    free(bytes);
    return true;

failed:
    disk_file_close(f);
    return false;
}

void disk_file_close(struct disk_file *f)
{
    if (f->fd >= 0) close(f->fd);
    free(f->words);
    f->fd = -1;
    f->words = NULL;
}

bool disk_file_same(const struct disk_file *a, const struct disk_file *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

struct run_medium disk_file_medium(const struct disk_file *f)
{
    return (struct run_medium){f->words, f->sectors};
}

void disk_file_sink(void *ctx, unsigned unit, uint32_t sector, const uint32_t *words)
{
    struct disk_file *f = &((struct disk_file *)ctx)[unit];
    uint8_t bytes[ISA_SECTOR_BYTES];
    encode(words, ISA_SECTOR_WORDS, bytes);
    if (f->fd < 0 || f->write_errno) return;
    if (!pwrite_all(f->fd, bytes, sizeof bytes, (off_t)sector * ISA_SECTOR_BYTES))
        f->write_errno = errno ? errno : EIO;
}

bool disk_file_check_writes(const struct disk_file *files, unsigned n, char *err, size_t errsize)
{
    for (unsigned k = 0; k < n; k++)
        if (files[k].write_errno) {
            snprintf(err, errsize, "'%.300s': a write of the disk did not reach the file: %s",
                     files[k].path, strerror(files[k].write_errno));
            return false;
        }
    return true;
}

bool disk_file_create(const char *path, const uint32_t *words, uint32_t sectors)
{
    const size_t n = (size_t)sectors * ISA_SECTOR_BYTES;
    uint8_t *bytes = malloc(n);
    if (!bytes) return errno = ENOMEM, false;
    encode(words, (size_t)sectors * ISA_SECTOR_WORDS, bytes);
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    bool ok = fd >= 0 && pwrite_all(fd, bytes, n, 0);
    const int saved = errno;
    if (fd >= 0 && close(fd) != 0) ok = false;
    free(bytes);
    errno = saved;
    return ok;
}
