/*
 * fuzz_lab.c: lab submissions, as `trapeze grade --check` takes them.
 *
 * Input: a line "LAB/FILE" naming a lab and one of the files its
 * submissions give, then that file's bytes; the submission is the lab's
 * reference (labs/LAB/solution) with that file replaced, written to a
 * fresh folder.  It is read (grade_read_submission) and taken as its tests
 * take it (the lab's run with check_only: includes vetted, sources
 * assembled in the grader's private folder, answers and variant files
 * parsed).  Properties: the reader refuses exactly the files with a NUL
 * byte, in one line naming the file; the lab takes the submission or
 * refuses it in one "error:" line that never names the grader's private
 * folder (the student reads about their own file); no test runs; the
 * same submission is taken the same way twice.  The tests themselves run
 * the submission's code on the machine and the monitors, which the
 * machine, vmm and stack targets fuzz.
 */
#include "fuzz.h"

#include <unistd.h>

#include "../../labs/grade.h"

#define FUZZ_LAB_NAME 96

/* Each lab's reference files, read once for the campaign (main's state). */
struct reference {
    const struct grade_lab *lab;
    struct grade files;
};
static struct reference references[16];
static size_t nreferences;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    for (const struct grade_lab *const *l = grade_labs(); *l; l++) {
        FUZZ_CHECK(nreferences < sizeof references / sizeof references[0], "more labs than references");
        struct reference *r = &references[nreferences++];
        char dir[160], err[GRADE_ERROR_SIZE];
        snprintf(dir, sizeof dir, "labs/%s/solution", (*l)->name);
        r->lab = *l;
        r->files.lab = *l;
        FUZZ_CHECK(grade_read_submission(&r->files, dir, err), "%s", err);
    }
    return 0;
}

static const struct reference *reference_of(const char *lab)
{
    for (size_t i = 0; i < nreferences; i++)
        if (strcmp(references[i].lab->name, lab) == 0) return &references[i];
    return NULL;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f && fwrite(text, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
}

/* One refusal: a line, "error:" in it, never the private folder (but
 * when it quotes a submission that writes its name). */
static void expect_refusal(const char *err, const char *text, size_t len)
{
    FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL, "not one line: '%s'", err);
    FUZZ_CHECK(strstr(err, "error") != NULL, "no error: '%s'", err);
    static const char folder[] = "trapeze-grade-";
    bool quoted = false;
    for (size_t i = 0; !quoted && i + sizeof folder - 1 <= len; i++)
        quoted = memcmp(text + i, folder, sizeof folder - 1) == 0;
    FUZZ_CHECK(quoted || strstr(err, folder) == NULL, "names the private folder: '%s'", err);
}

/* Takes the submission in dir as --check does: true when ready, else the
 * refusal in err. */
static bool take(const struct grade_lab *lab, const char *dir, bool *read, char err[GRADE_ERROR_SIZE])
{
    struct grade *g = calloc(1, sizeof *g);
    FUZZ_CHECK(g != NULL, "out of memory");
    char lab_dir[160];
    snprintf(lab_dir, sizeof lab_dir, "labs/%s", lab->name);
    g->lab = lab;
    g->lab_dir = lab_dir;
    err[0] = '\0';
    bool ok = *read = grade_read_submission(g, dir, err);
    if (ok) {
        g->seed = grade_content_seed(g);
        g->check_only = true;
        ok = lab->run(g, err);
        FUZZ_CHECK(g->ntests == 0, "--check ran %zu tests", g->ntests);
    }
    grade_free(g);
    free(g);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < FUZZ_LAB_NAME ? size : FUZZ_LAB_NAME);
    if (!nl) return 0;
    char name[FUZZ_LAB_NAME];
    memcpy(name, data, (size_t)(nl - data));
    name[nl - data] = '\0';
    char *slash = strchr(name, '/');
    if (!slash) return 0;
    *slash = '\0';
    const struct reference *r = reference_of(name);
    const char *file = slash + 1;
    size_t k = 0;
    while (r && r->lab->files[k] && strcmp(r->lab->files[k], file) != 0) k++;
    if (!r || !r->lab->files[k]) return 0;
    const char *text = (const char *)nl + 1;
    const size_t len = size - (size_t)(nl + 1 - data);

    const char *tmp = getenv("TMPDIR");
    char dir[80];
    snprintf(dir, sizeof dir, "%.40s/trapeze-fuzz-lab-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL, "cannot make a folder");
    char paths[GRADE_MAX_FILES][160];
    size_t n = 0;
    for (size_t i = 0; r->lab->files[i] && n < GRADE_MAX_FILES; i++, n++) {
        snprintf(paths[n], sizeof paths[n], "%s/%s", dir, r->lab->files[i]);
        if (i == k) write_file(paths[n], text, len);
        else write_file(paths[n], r->files.files[i].text, r->files.files[i].len);
    }

    char err[GRADE_ERROR_SIZE], again[GRADE_ERROR_SIZE];
    bool read, read_again;
    const bool ready = take(r->lab, dir, &read, err);
    FUZZ_CHECK(read == (memchr(text, '\0', len) == NULL && len <= GRADE_MAX_FILE_BYTES),
               "%s %s: %s", file, read ? "read, with a NUL byte" : "refused", err);
    if (!read) FUZZ_CHECK(strstr(err, paths[k]) != NULL, "the refusal does not name %s: '%s'", paths[k], err);
    if (!ready) expect_refusal(err, text, len);
    FUZZ_CHECK(take(r->lab, dir, &read_again, again) == ready && strcmp(err, again) == 0,
               "taken two ways: '%s', then '%s'", err, again);

    for (size_t i = 0; i < n; i++) unlink(paths[i]);
    FUZZ_CHECK(rmdir(dir) == 0, "%s: something was left in the submission's folder", dir);
    return 0;
}
