/*
 * fuzz.h: what the fuzz harnesses share (tests/fuzz/README.md).
 *
 * Each fuzz_TARGET.c defines LLVMFuzzerTestOneInput and nothing global but
 * what its LLVMFuzzerInitialize, when it has one, prepares once for every
 * input (read-only after it: the harness's main state).  It is linked two ways: with libFuzzer (clang, -fsanitize=fuzzer: `make
 * fuzz-TARGET`), and with replay.c (gcc and the sanitizers of `make test`),
 * whose main feeds it every file under tests/fuzz/regress/TARGET/.  A broken
 * property ends the process through FUZZ_CHECK, so both ways report it.
 */
#ifndef TRAPEZE_FUZZ_H
#define TRAPEZE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken property: a crash for the fuzzer, a failure for the replay. */
#define FUZZ_CHECK(cond, ...)                                                     \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: property broken: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* data[0..size) as a NUL-terminated string (NULs inside kept); free it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL, "out of memory");
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Writes data to a new file in $TMPDIR (or /tmp) and returns its path in
 * path (unlink it when done); for readers that take a path. */
static inline void fuzz_temp_file(const uint8_t *data, size_t size, char path[64])
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%.40s/trapeze-fuzz-XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
    int fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0, "cannot make a temporary file");
    FILE *f = fdopen(fd, "wb");
    FUZZ_CHECK(f && fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write %s", path);
}

/* A little-endian reader over the input, for the harnesses that take
 * their choices and a program's words from it; zeros past the end. */
struct fuzz_bytes {
    const uint8_t *p;
    size_t n;
};
static inline uint32_t fuzz_byte(struct fuzz_bytes *b)
{
    if (b->n == 0) return 0;
    b->n--;
    return *b->p++;
}
static inline uint32_t fuzz_word(struct fuzz_bytes *b)
{
    uint32_t w = 0;
    for (int i = 0; i < 4; i++) w = w << 8 | fuzz_byte(b); /* big-endian: as the image writes words */
    return w;
}

#endif
