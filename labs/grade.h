/*
 * grade.h: the autograder behind `trapeze grade`.
 *
 * A lab is a table entry (its name, the files a submission gives, and the
 * function that runs its tests); a grading is a list of tests, each with a
 * score, a visibility and a line of feedback, written as Gradescope's
 * results.json by grade_write_results.  Everything a submission gives is
 * read here as bytes, bounded in size, and handed to Trapeze's own parsers
 * (the variant parser, the assembler) and machines: nothing of it runs on
 * the host, so it cannot write results.json or read the reference.
 *
 * Deterministic: a grading depends on the submission's bytes and the seed
 * only; every run is bounded by an instruction budget, never by time.
 */
#ifndef TRAPEZE_GRADE_H
#define TRAPEZE_GRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../assembler/asm.h"

#define GRADE_MAX_TESTS 64
#define GRADE_MAX_FILES 4
#define GRADE_TEXT_SIZE 1024
#define GRADE_ERROR_SIZE 600
/* A submission file larger than this is refused (a hostile or runaway one). */
#define GRADE_MAX_FILE_BYTES (256u * 1024u)

enum grade_visibility { GRADE_VISIBLE, GRADE_AFTER_DUE_DATE };

struct grade_test {
    char name[96];
    char tags[48];              /* comma-separated: "smoke", "hidden", "attack" */
    enum grade_visibility visibility;
    double score, max_score;
    char output[GRADE_TEXT_SIZE];
    /* What a generated test was made of ("quantum=517 idle_tick=230"),
     * written as its extra_data.generated; "" for none. */
    char generated[160];
};

/* One file of the submission, read as data. */
struct grade_file {
    const char *name;           /* as the lab names it: "vmm.s"            */
    char path[512];             /* SUBMISSION/name                         */
    char *text;                 /* its bytes, NUL-terminated; owned        */
    size_t len;
};

struct grade {
    const struct grade_lab *lab;
    const char *lab_dir;        /* the lab's folder (its guests are beside it) */
    const char *submission_dir;
    uint64_t seed;
    bool seed_given;            /* --seed; else derived from the files  */
    uint64_t instructions;      /* simulated, over every test: the "time" */
    /* `trapeze grade --check`: the submission is read, vetted and
     * assembled (or parsed) as its tests take it, then no test runs. */
    bool check_only;
    struct grade_file files[GRADE_MAX_FILES];
    size_t nfiles;
    struct grade_test tests[GRADE_MAX_TESTS];
    size_t ntests;
};

struct grade_lab {
    const char *name;           /* the folder's name under labs/: "lab1-classify" */
    const char *title;
    const char *const *files;   /* the submission's files, NULL-terminated  */
    /* Runs every test into g (grade_add).  False with a one-line message
     * when the grader itself cannot go on (out of memory, its own guests). */
    bool (*run)(struct grade *g, char err[GRADE_ERROR_SIZE]);
};

/* The labs, NULL-terminated. */
const struct grade_lab *const *grade_labs(void);
/* The lab whose name is `name`, or the last component of a path naming it. */
const struct grade_lab *grade_find_lab(const char *name_or_dir);

/* Reads f->path whole into f->text (at most GRADE_MAX_FILE_BYTES, no NUL
 * byte).  False with "PATH: error: ..." in err. */
bool grade_read_file(struct grade_file *f, char err[GRADE_ERROR_SIZE]);
/* Reads the lab's files from dir into g (each at most GRADE_MAX_FILE_BYTES,
 * no NUL byte).  False with "PATH: error: ..." in err. */
bool grade_read_submission(struct grade *g, const char *dir, char err[GRADE_ERROR_SIZE]);
/* The submission's file of that name (one the lab lists). */
const struct grade_file *grade_file(const struct grade *g, const char *name);
/* The default seed: FNV-1a over the files' names and bytes. */
uint64_t grade_content_seed(const struct grade *g);
void grade_free(struct grade *g);

/* Adds a test and returns it (score 0); NULL when the table is full.
 * output is a printf format. */
struct grade_test *grade_add(struct grade *g, const char *name, const char *tags,
                             enum grade_visibility vis, double max_score);
__attribute__((format(printf, 2, 3)))
void grade_say(struct grade_test *t, const char *fmt, ...);

/* ---- Assembling a submission where it can reach nothing ---------------------
 *
 * A submission's source is vetted (grade_vet_includes), then written into
 * a fresh private folder (mkdtemp) beside only the files its lab puts
 * there, and assembled by Trapeze: it cannot read solution/, write
 * results.json or touch the grader's files. */

/* Refuses any `.include` in f (any case; comments from ';' skipped; a
 * string holding ".include" too) but one whose quoted argument is in
 * allowed (NULL-terminated; empty: none at all), with "PATH:LINE:COL:
 * error: ..." in err. */
bool grade_vet_includes(const struct grade_file *f, const char *const *allowed,
                        char err[GRADE_ERROR_SIZE]);

#define GRADE_PRIVATE_ENTRIES 24
#define GRADE_TMPDIR_MAX 64                     /* longer: an error, never cut */
#define GRADE_PRIVATE_PATH 160                  /* holds dir, '/' and any made[] */
struct grade_private {
    char dir[GRADE_TMPDIR_MAX + 24];            /* $TMPDIR/trapeze-grade-XXXXXX */
    char made[GRADE_PRIVATE_ENTRIES][64];       /* relative, in the order made */
    size_t nmade;
};
_Static_assert(GRADE_PRIVATE_PATH >= sizeof ((struct grade_private *)0)->dir + 1 +
                                         sizeof ((struct grade_private *)0)->made[0],
               "a private path holds the folder and any file made in it");
bool grade_private_open(struct grade_private *p, char err[GRADE_ERROR_SIZE]);
/* Writes a fresh file at dir/rel ("lib/machine.inc": its one folder is made
 * on first use): the bytes given, or (text NULL) the tree's programs/REL
 * as built into trapeze (asm_embedded_source: "lib/machine.inc"). */
bool grade_private_write(struct grade_private *p, const char *rel, const char *text, size_t len,
                         char err[GRADE_ERROR_SIZE]);
/* dir/rel into buf. */
const char *grade_private_path(const struct grade_private *p, const char *rel, char *buf, size_t size);
/* Removes what was made, then the folder. */
void grade_private_remove(struct grade_private *p);
/* msg with every mention of private_path (the private copy of f) named as
 * f's own path, so the student reads about their own file. */
void grade_name_submission(const char *private_path, const struct grade_file *f, const char *msg,
                           char *out, size_t size);
/* Assembles the file at path, or (source not NULL) that text as if it were
 * the file at path; on failure the assembler's first line, named as f's
 * (private_copy is where f was written), in err.  img NULL: only checks. */
bool grade_assemble(const char *path, const char *source, const char *private_copy,
                    const struct grade_file *f, struct asm_image *img, char err[GRADE_ERROR_SIZE]);
/* grade_assemble with several of the submission's files in the private
 * folder, each named as its own in a failure.  A failure in one of the
 * grader's files there (what includes them) is said of copies[0]'s file:
 * "SUBMISSION/FILE: error: in the grader's file that includes it: REL:..."
 * (REL relative to the folder, which the student never sees). */
struct grade_copy {
    const char *private_path;
    const struct grade_file *file;
};
bool grade_assemble_copies(const char *path, const char *source, const struct grade_copy *copies, size_t n,
                           struct asm_image *img, char err[GRADE_ERROR_SIZE]);

/* When got differs from want (a console's output): says in t "the output
 * differs at line N: expected '...', yours '...'" (each line cut at 120
 * bytes) and returns N, from 1; 0 when they are the same. */
unsigned grade_say_output_difference(struct grade_test *t, const uint8_t *want, size_t want_len, const uint8_t *got,
                                     size_t got_len);

double grade_score(const struct grade *g);
double grade_max_score(const struct grade *g);
/* results.json, Gradescope's format.  execution_time is the simulated
 * instructions at a nominal 100 MIPS, so it is the same on every machine. */
void grade_write_results(const struct grade *g, FILE *out);
/* The human summary: one line a test, then the total. */
void grade_print_summary(const struct grade *g, FILE *out);

/* A small deterministic generator (splitmix64) for hidden tests. */
uint64_t grade_rand(uint64_t *state);

/* The labs' entries (grade_lab1.c, grade_lab2.c, grade_lab4.c, grade_lab7.c). */
extern const struct grade_lab grade_lab_classify;
extern const struct grade_lab grade_lab_trap_and_emulate;
extern const struct grade_lab grade_lab_hybrid;      /* grade_lab2.c */
extern const struct grade_lab grade_lab_shadow;     /* grade_lab2.c too: one asm-VMM grader */
extern const struct grade_lab grade_lab_recursion;
extern const struct grade_lab grade_lab_io;
extern const struct grade_lab grade_lab_paravirt;  /* grade_lab4.c */

#endif
