/* grade.c: the grading framework of grade.h (labs, submission, results). */
#include "grade.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tui/json.h"

static const struct grade_lab *const all_labs[] = {&grade_lab_classify, &grade_lab_trap_and_emulate,
                                               &grade_lab_hybrid,
                                               &grade_lab_paravirt,
                                               &grade_lab_shadow, &grade_lab_recursion,
                                               &grade_lab_io, NULL};

const struct grade_lab *const *grade_labs(void) { return all_labs; }

const struct grade_lab *grade_find_lab(const char *name_or_dir)
{
    /* "labs/lab1-classify/" and "lab1-classify" name the same lab. */
    size_t len = strlen(name_or_dir);
    while (len > 1 && name_or_dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && name_or_dir[start - 1] != '/') start--;
    for (size_t i = 0; all_labs[i]; i++)
        if (strlen(all_labs[i]->name) == len - start &&
            strncmp(all_labs[i]->name, name_or_dir + start, len - start) == 0)
            return all_labs[i];
    return NULL;
}

/* Reads at most GRADE_MAX_FILE_BYTES + 1 bytes, so a huge file is refused
 * without being read whole. */
bool grade_read_file(struct grade_file *f, char err[GRADE_ERROR_SIZE])
{
    FILE *in = fopen(f->path, "rb");
    if (!in) {
        snprintf(err, GRADE_ERROR_SIZE, "%.500s: error: cannot open it: %s", f->path, strerror(errno));
        return false;
    }
    f->text = malloc(GRADE_MAX_FILE_BYTES + 2);
    if (!f->text) {
        fclose(in);
        snprintf(err, GRADE_ERROR_SIZE, "%.500s: error: out of memory", f->path);
        return false;
    }
    f->len = fread(f->text, 1, GRADE_MAX_FILE_BYTES + 1, in);
    bool failed = ferror(in);
    fclose(in);
    if (failed) {
        snprintf(err, GRADE_ERROR_SIZE, "%.500s: error: cannot read it", f->path);
        return false;
    }
    if (f->len > GRADE_MAX_FILE_BYTES) {
        snprintf(err, GRADE_ERROR_SIZE, "%.500s: error: larger than %u bytes", f->path,
                 GRADE_MAX_FILE_BYTES);
        return false;
    }
    if (memchr(f->text, '\0', f->len)) {
        snprintf(err, GRADE_ERROR_SIZE, "%.500s: error: a NUL byte: not a text file", f->path);
        return false;
    }
    f->text[f->len] = '\0';
    return true;
}

bool grade_read_submission(struct grade *g, const char *dir, char err[GRADE_ERROR_SIZE])
{
    g->submission_dir = dir;
    for (size_t i = 0; g->lab->files[i]; i++) {
        if (g->nfiles == GRADE_MAX_FILES) break;
        struct grade_file *f = &g->files[g->nfiles++];
        f->name = g->lab->files[i];
        int n = snprintf(f->path, sizeof f->path, "%s/%s", dir, f->name);
        if (n < 0 || (size_t)n >= sizeof f->path) {
            snprintf(err, GRADE_ERROR_SIZE, "%.400s: error: the path is too long", dir);
            return false;
        }
        if (!grade_read_file(f, err)) return false;
    }
    return true;
}

const struct grade_file *grade_file(const struct grade *g, const char *name)
{
    for (size_t i = 0; i < g->nfiles; i++)
        if (strcmp(g->files[i].name, name) == 0) return &g->files[i];
    return NULL;
}

uint64_t grade_content_seed(const struct grade *g)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < g->nfiles; i++) {
        const struct grade_file *f = &g->files[i];
        for (const char *p = f->name; *p; p++) h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
        for (size_t k = 0; k < f->len; k++) h = (h ^ (uint8_t)f->text[k]) * 0x100000001b3ull;
    }
    return h;
}

void grade_free(struct grade *g)
{
    for (size_t i = 0; i < g->nfiles; i++) free(g->files[i].text);
    g->nfiles = 0;
}

struct grade_test *grade_add(struct grade *g, const char *name, const char *tags,
                             enum grade_visibility vis, double max_score)
{
    if (g->ntests == GRADE_MAX_TESTS) return NULL;
    struct grade_test *t = &g->tests[g->ntests++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->tags, sizeof t->tags, "%s", tags);
    t->visibility = vis;
    t->max_score = max_score;
    return t;
}

void grade_say(struct grade_test *t, const char *fmt, ...)
{
    size_t used = strlen(t->output);
    if (used + 1 >= sizeof t->output) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->output + used, sizeof t->output - used, fmt, ap);
    va_end(ap);
}

bool grade_vet_includes(const struct grade_file *f, const char *const *allowed,
                        char err[GRADE_ERROR_SIZE])
{
    const char *p = f->text;
    for (unsigned line = 1; *p; line++) {
        size_t len = strcspn(p, "\n"), code = strcspn(p, ";\n");
        for (size_t i = 0; i + 8 <= code; i++) {
            if (strncasecmp(p + i, ".include", 8) != 0) continue;
            const char *arg = p + i + 8;
            while (*arg == ' ' || *arg == '\t') arg++;
            bool ok = false;
            for (size_t k = 0; allowed[k] && !ok; k++) {
                size_t alen = strlen(allowed[k]);
                if ((size_t)(p + code - arg) < alen || strncmp(arg, allowed[k], alen) != 0) continue;
                const char *end = arg + alen;
                while (end < p + code && (*end == ' ' || *end == '\t' || *end == '\r')) end++;
                ok = end == p + code;
            }
            if (ok) continue;
            if (!allowed[0])
                snprintf(err, GRADE_ERROR_SIZE, "%.400s:%u:%zu: error: this file may not .include anything",
                         f->path, line, i + 1);
            else
                snprintf(err, GRADE_ERROR_SIZE, "%.400s:%u:%zu: error: only '.include %s'%s may be included",
                         f->path, line, i + 1, allowed[0], allowed[1] ? " (and the lab's other files)" : "");
            return false;
        }
        p += len + (p[len] == '\n');
    }
    return true;
}

/* In $TMPDIR, as mkstemp(3)'s callers do, so that a grading machine whose
 * /tmp is small or slow can point it elsewhere (a tmpfs). */
bool grade_private_open(struct grade_private *p, char err[GRADE_ERROR_SIZE])
{
    memset(p, 0, sizeof *p);
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    if (strlen(tmp) > GRADE_TMPDIR_MAX) {
        snprintf(err, GRADE_ERROR_SIZE, "TMPDIR is longer than %d characters", GRADE_TMPDIR_MAX);
        return false;
    }
    snprintf(p->dir, sizeof p->dir, "%s/trapeze-grade-XXXXXX", tmp);
    if (mkdtemp(p->dir)) return true;
    p->dir[0] = '\0';
    snprintf(err, GRADE_ERROR_SIZE, "cannot make a private folder in %s: %s", tmp, strerror(errno));
    return false;
}

const char *grade_private_path(const struct grade_private *p, const char *rel, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", p->dir, rel);
    return buf;
}

static bool remember(struct grade_private *p, const char *rel, size_t len)
{
    if (p->nmade == GRADE_PRIVATE_ENTRIES || len >= sizeof p->made[0]) return false;
    snprintf(p->made[p->nmade++], sizeof p->made[0], "%.*s", (int)len, rel);
    return true;
}

bool grade_private_write(struct grade_private *p, const char *rel, const char *text, size_t len,
                         char err[GRADE_ERROR_SIZE])
{
    char path[GRADE_PRIVATE_PATH];
    const char *slash = strchr(rel, '/');
    if (slash) {
        bool made = false;
        for (size_t i = 0; i < p->nmade && !made; i++)
            made = strlen(p->made[i]) == (size_t)(slash - rel) && strncmp(p->made[i], rel, (size_t)(slash - rel)) == 0;
        snprintf(path, sizeof path, "%s/%.*s", p->dir, (int)(slash - rel), rel);
        if (!made && (mkdir(path, 0700) != 0 || !remember(p, rel, (size_t)(slash - rel)))) goto fail;
    }
    if (!text) {
        char tree_path[96];
        snprintf(tree_path, sizeof tree_path, "programs/%s", rel);
        text = asm_embedded_source(tree_path);
        if (!text) goto fail;
        len = strlen(text);
    }
    grade_private_path(p, rel, path, sizeof path);
    FILE *out = fopen(path, "wx"); /* a fresh file in a fresh folder */
    if (!out || !remember(p, rel, strlen(rel))) {
        if (out) fclose(out);
        goto fail;
    }
    bool ok = fwrite(text, 1, len, out) == len;
    if (fclose(out) == 0 && ok) return true;
fail:
    snprintf(err, GRADE_ERROR_SIZE, "cannot write %.60s in the private folder %s", rel, p->dir);
    return false;
}

void grade_private_remove(struct grade_private *p)
{
    if (!p->dir[0]) return;
    char path[GRADE_PRIVATE_PATH];
    while (p->nmade > 0) remove(grade_private_path(p, p->made[--p->nmade], path, sizeof path));
    rmdir(p->dir);
    p->dir[0] = '\0';
}

void grade_name_submission(const char *private_path, const struct grade_file *f, const char *msg,
                           char *out, size_t size)
{
    size_t used = 0, plen = strlen(private_path);
    out[0] = '\0';
    for (const char *at; (at = strstr(msg, private_path)) && used < size; msg = at + plen)
        used += (size_t)snprintf(out + used, size - used, "%.*s%s", (int)(at - msg), msg, f->path);
    if (used < size) snprintf(out + used, size - used, "%s", msg);
}

/* An error in one of the grader's own files of the private folder (a
 * workload or kernel source that includes the submission and uses what it
 * should define): said of the submission's file, with the grader's file
 * named inside the folder, whose path means nothing to the student. */
/* The first n bytes of needle in text, or NULL. */
static const char *find_prefix(const char *text, const char *needle, size_t n)
{
    for (; *text; text++)
        if (strncmp(text, needle, n) == 0) return text;
    return NULL;
}

static void name_grader_file(const char *private_copy, const struct grade_file *f, char err[GRADE_ERROR_SIZE])
{
    /* The last such name: $TMPDIR may hold one too. */
    const char *folder = NULL;
    for (const char *at = private_copy; (at = strstr(at, "/trapeze-grade-")) != NULL; at++) folder = at + 1;
    const char *slash = folder ? strchr(folder, '/') : NULL;
    if (!slash) return;
    const size_t plen = (size_t)(slash + 1 - private_copy); /* ".../trapeze-grade-XXXXXX/" */
    if (!find_prefix(err, private_copy, plen)) return;
    char own[GRADE_ERROR_SIZE];
    size_t used = (size_t)snprintf(own, sizeof own, "%.300s: error: in the grader's file that includes it: ", f->path);
    for (const char *msg = err, *at; used < sizeof own; msg = at + plen) {
        at = find_prefix(msg, private_copy, plen);
        used += (size_t)snprintf(own + used, sizeof own - used, "%.*s", at ? (int)(at - msg) : (int)strlen(msg), msg);
        if (!at) break;
    }
    snprintf(err, GRADE_ERROR_SIZE, "%s", own);
}

bool grade_assemble(const char *path, const char *source, const char *private_copy,
                    const struct grade_file *f, struct asm_image *img, char err[GRADE_ERROR_SIZE])
{
    const struct grade_copy copy = {private_copy, f};
    return grade_assemble_copies(path, source, &copy, 1, img, err);
}

bool grade_assemble_copies(const char *path, const char *source, const struct grade_copy *copies, size_t n,
                           struct asm_image *img, char err[GRADE_ERROR_SIZE])
{
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *errors = open_memstream(&msg, &msg_len);
    if (!errors) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return false;
    }
    struct asm_image own;
    int nerr = source ? asm_assemble_string(source, path, img ? img : &own, errors)
                      : asm_assemble_file(path, img ? img : &own, errors);
    fclose(errors);
    if (nerr == 0 && !img) asm_image_free(&own);
    if (nerr != 0) {
        msg[strcspn(msg, "\n")] = '\0';
        char named[GRADE_ERROR_SIZE];
        snprintf(err, GRADE_ERROR_SIZE, "%s", msg);
        for (size_t i = 0; i < n; i++) {
            grade_name_submission(copies[i].private_path, copies[i].file, err, named, sizeof named);
            snprintf(err, GRADE_ERROR_SIZE, "%s", named);
        }
        name_grader_file(copies[0].private_path, copies[0].file, err);
    }
    free(msg);
    return nerr == 0;
}

/* Line `line` (from 1) of text, into out. */
static void nth_line(const uint8_t *text, size_t len, unsigned line, char *out, size_t size)
{
    size_t at = 0;
    for (unsigned k = 1; k < line && at < len; at++)
        if (text[at] == '\n') k++;
    size_t end = at;
    while (end < len && text[end] != '\n') end++;
    snprintf(out, size, "%.*s", (int)(end - at > 120 ? 120 : end - at), (const char *)text + at);
}

unsigned grade_say_output_difference(struct grade_test *t, const uint8_t *want, size_t want_len, const uint8_t *got,
                                     size_t got_len)
{
    if (got_len == want_len && memcmp(got, want, want_len) == 0) return 0;
    size_t at = 0;
    unsigned line = 1;
    while (at < got_len && at < want_len && got[at] == want[at]) line += got[at++] == '\n';
    char a[128], b[128];
    nth_line(want, want_len, line, a, sizeof a);
    nth_line(got, got_len, line, b, sizeof b);
    grade_say(t, "the output differs at line %u: expected '%s', yours '%s'", line, a, b);
    return line;
}

double grade_score(const struct grade *g)
{
    double s = 0;
    for (size_t i = 0; i < g->ntests; i++) s += g->tests[i].score;
    return s;
}

double grade_max_score(const struct grade *g)
{
    double s = 0;
    for (size_t i = 0; i < g->ntests; i++) s += g->tests[i].max_score;
    return s;
}

static const char *status_of(const struct grade_test *t)
{
    return t->score >= t->max_score ? "passed" : "failed";
}

static void tags_json(struct json *j, const char *tags)
{
    json_array_begin(j, "tags");
    char buf[sizeof ((struct grade_test *)0)->tags];
    snprintf(buf, sizeof buf, "%s", tags);
    for (char *save = NULL, *tag = strtok_r(buf, ",", &save); tag; tag = strtok_r(NULL, ",", &save))
        json_string(j, NULL, tag);
    json_array_end(j);
}

void grade_write_results(const struct grade *g, FILE *out)
{
    static const char *const visibility[] = {[GRADE_VISIBLE] = "visible",
                                             [GRADE_AFTER_DUE_DATE] = "after_due_date"};
    struct json j;
    json_init(&j, out);
    json_object_begin(&j, NULL);
    json_double(&j, "score", grade_score(g));
    json_double(&j, "max_score", grade_max_score(g));
    json_double(&j, "execution_time", (double)g->instructions / 1e8);
    char output[256];
    snprintf(output, sizeof output, "%s: %g / %g (seed %llu)", g->lab->title, grade_score(g),
             grade_max_score(g), (unsigned long long)g->seed);
    json_string(&j, "output", output);
    json_string(&j, "visibility", "visible");
    json_string(&j, "stdout_visibility", "hidden");
    /* A string: 64 bits do not survive a JSON reader's doubles. */
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->seed);
    json_object_begin(&j, "extra_data");
    json_string(&j, "lab", g->lab->name);
    json_string(&j, "seed", seed);
    json_string(&j, "seed_from", g->seed_given ? "--seed" : "the submission's contents");
    json_uint(&j, "instructions", g->instructions);
    json_object_end(&j);
    json_array_begin(&j, "tests");
    for (size_t i = 0; i < g->ntests; i++) {
        const struct grade_test *t = &g->tests[i];
        json_object_begin(&j, NULL);
        json_string(&j, "name", t->name);
        char number[24];
        snprintf(number, sizeof number, "%zu", i + 1);
        json_string(&j, "number", number);
        json_double(&j, "score", t->score);
        json_double(&j, "max_score", t->max_score);
        json_string(&j, "status", status_of(t));
        json_string(&j, "output", t->output);
        tags_json(&j, t->tags);
        json_string(&j, "visibility", visibility[t->visibility]);
        json_object_begin(&j, "extra_data");
        json_string(&j, "seed", seed);
        if (t->generated[0]) json_string(&j, "generated", t->generated);
        json_object_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_end(&j);
    json_finish(&j);
}

void grade_print_summary(const struct grade *g, FILE *out)
{
    fprintf(out, "%s (%s), seed %llu\n", g->lab->title, g->lab->name, (unsigned long long)g->seed);
    for (size_t i = 0; i < g->ntests; i++) {
        const struct grade_test *t = &g->tests[i];
        fprintf(out, "%-4s %5.1f/%-5.1f %-44s%s\n", t->score >= t->max_score ? "ok" : "FAIL",
                t->score, t->max_score, t->name,
                t->visibility == GRADE_AFTER_DUE_DATE ? " (hidden)" : "");
        if (t->score < t->max_score && t->output[0]) fprintf(out, "     %s\n", t->output);
    }
    fprintf(out, "score %g / %g\n", grade_score(g), grade_max_score(g));
}

uint64_t grade_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133cebull;
    return z ^ (z >> 31);
}
