/* file.c: reading a file whole, bounded (file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void isa_format_size(size_t bytes, char *buf, size_t size)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) snprintf(buf, size, "%zu MiB", bytes >> 20);
    else if (bytes >= 1024 && bytes % 1024 == 0) snprintf(buf, size, "%zu KiB", bytes >> 10);
    else snprintf(buf, size, "%zu bytes", bytes);
}

/* What a file that is not regular is, for the message. */
static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a file";
}

static char *fail(char why[ISA_FILE_WHY_SIZE], const char *fmt, const char *what)
{
    snprintf(why, ISA_FILE_WHY_SIZE, fmt, what);
    return NULL;
}

bool isa_is_regular_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *isa_read_file(const char *path, size_t limit, size_t *len, struct stat *st,
                    char why[ISA_FILE_WHY_SIZE], bool *missing)
{
    struct stat own;
    if (!st) st = &own;
    if (missing) *missing = false;
    /* Looked at before it is opened: opening a FIFO waits for a writer. */
    if (stat(path, st) != 0) {
        if (missing) *missing = errno == ENOENT;
        return fail(why, "%s", strerror(errno));
    }
    if (!S_ISREG(st->st_mode)) {
        if (S_ISDIR(st->st_mode)) return fail(why, "%s", "is a directory");
        return fail(why, "not a regular file (%s)", kind_of(st->st_mode));
    }
    char size_text[32];
    isa_format_size(limit, size_text, sizeof size_text);
    if ((unsigned long long)st->st_size > limit) return fail(why, "larger than %s", size_text);
    /* O_NONBLOCK: it may have been replaced by a FIFO since the stat. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return fail(why, "%s", strerror(errno));
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return fail(why, "%s", "not a regular file (it changed while being opened)");
    }
    /* A file may grow while it is read (or be a /proc file of size 0): read
     * up to one byte past the limit to tell. */
    size_t cap = (size_t)st->st_size + 1 < limit + 1 ? (size_t)st->st_size + 1 : limit + 1, n = 0;
    if (cap < 4096) cap = limit + 1 < 4096 ? limit + 1 : 4096;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            close(fd);
            return fail(why, "%s", strerror(ENOMEM));
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(why, "%s", strerror(e));
        }
        if (k == 0) break;
        n += (size_t)k;
        if (n > limit) {
            free(buf);
            close(fd);
            return fail(why, "larger than %s", size_text);
        }
        if (n == cap) {
            size_t bigger = cap * 2 < limit + 1 ? cap * 2 : limit + 1;
            char *p = realloc(buf, bigger + 1);
            if (!p) free(buf);
            buf = p;
            cap = bigger;
        }
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}
