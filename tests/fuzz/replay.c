/*
 * replay.c: main for a fuzz harness built without libFuzzer (make test).
 *
 *   fuzz-replay-TARGET FILE|DIR...
 *
 * Feeds each FILE, and each regular file in each DIR (sorted by name), to
 * the harness once; a broken property aborts with the sanitizer's or
 * FUZZ_CHECK's report.  Prints "TARGET: N inputs replayed" at the end.
 * Exits 1 when no input was found (an empty regression folder is a
 * mistake: each keeps its findings and at least one seed).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

static void replay_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open '%s': %s\n", path, strerror(errno));
        exit(1);
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "replay: out of memory reading '%s'\n", path);
        exit(1);
    }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    (*count)++;
}

/* libFuzzer calls a harness's LLVMFuzzerInitialize, when it has one,
 * before the first input; so does the replay (weak: most have none). */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

int main(int argc, char **argv)
{
    size_t count = 0;
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            replay_file(argv[i], &count);
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, alphasort);
        if (n < 0) {
            fprintf(stderr, "replay: cannot list '%s': %s\n", argv[i], strerror(errno));
            return 1;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (names[k]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode))
                replay_file(path, &count);
            free(names[k]);
        }
        free(names);
    }
    const char *name = strrchr(argv[0], '/');
    printf("%s: %zu inputs replayed\n", name ? name + 1 : argv[0], count);
    return count ? 0 : 1;
}
