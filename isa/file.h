/*
 * file.h: reading a file whole, bounded.
 *
 * Everything trapeze reads whole besides a program's own words -- sources
 * and their includes, images, variant files, --input, the sources an image
 * names -- is a regular file of bounded size, read through this one
 * function, so that a FIFO, a device (/dev/zero, /dev/stdin) or a
 * directory is a one-line error instead of a hang or the host's memory.
 * It lives in isa/, the module every reader already depends on.
 */
#ifndef TRAPEZE_ISA_FILE_H
#define TRAPEZE_ISA_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define ISA_FILE_WHY_SIZE 96

/* Reads the regular file at path whole when it holds at most limit bytes.
 * Returns its bytes, NUL-terminated after *len (the caller frees them),
 * with its status in *st when st is not NULL.  On failure returns NULL
 * with why set to a phrase that does not name the path ("No such file or
 * directory", "not a regular file (a FIFO)", "larger than 16 MiB") and
 * *missing (when not NULL) true when there is no such file.  Never opens
 * what is not a regular file, so it cannot block on one. */
char *isa_read_file(const char *path, size_t limit, size_t *len, struct stat *st,
                    char why[ISA_FILE_WHY_SIZE], bool *missing);

/* True when path names a regular file (following symbolic links). */
bool isa_is_regular_file(const char *path);

/* "16 MiB", "64 KiB" or "100 bytes": a size in bytes, for messages. */
void isa_format_size(size_t bytes, char *buf, size_t size);

#endif
