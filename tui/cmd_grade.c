/*
 * cmd_grade.c: `trapeze grade LAB SUBMISSION [--json FILE] [--seed N]`.
 *
 * LAB is a lab's folder under labs/ or its name; SUBMISSION a folder laid
 * out like the lab's starter/.  labs/grade.h runs the tests; here: the
 * command line, the seed (given, or derived from the submission's bytes),
 * the summary on stdout and Gradescope's results.json.
 *
 * Exit status: 0 full marks; 1 graded below full marks; CLI_EXIT_USAGE bad
 * input (an unknown lab, a missing or unreadable submission file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../isa/invariant.h"
#include "../labs/grade.h"
#include "cli.h"
#include "options.h"

struct grade_args {
    const char *json_path;
    bool check_only;
    bool seed_given;
    uint64_t seed;
};

static bool apply_json_file(void *target, const char *value, char err[CLI_ERROR_SIZE])
{
    struct grade_args *a = target;
    if (!*value) {
        snprintf(err, CLI_ERROR_SIZE, "expects a file name");
        return false;
    }
    a->json_path = value;
    return true;
}

static bool apply_seed(void *target, const char *value, char err[CLI_ERROR_SIZE])
{
    struct grade_args *a = target;
    if (!options_parse_u64(value, &a->seed)) {
        snprintf(err, CLI_ERROR_SIZE, "expects a number, not '%.200s'", value);
        return false;
    }
    a->seed_given = true;
    return true;
}

static bool apply_check(void *target, const char *value, char err[CLI_ERROR_SIZE])
{
    (void)value, (void)err;
    ((struct grade_args *)target)->check_only = true;
    return true;
}

static const struct cli_option grade_options[] = {
    {"--check", NULL, "read, vet and assemble the submission as its tests take it, then stop: no test runs",
     apply_check, false},
    {"--json", "FILE", "write Gradescope's results.json to FILE ('-': stdout)", apply_json_file, false},
    {"--seed", "N", "seed of the hidden tests (default: derived from the submission's contents)",
     apply_seed, false},
};
#define NGRADE_OPTIONS (sizeof grade_options / sizeof grade_options[0])

static void help(void)
{
    printf("usage: trapeze grade [options] LAB SUBMISSION\n\n"
           "Grades SUBMISSION, a folder laid out like the lab's starter/, for LAB (a\n"
           "folder under labs/ or its name).  The submission's files are read as data\n"
           "and run inside the simulated machine; limits are counted in instructions,\n"
           "so a grade is the same on every machine.  Prints one line a test and the\n"
           "score; hidden tests are generated from the seed.\n\nlabs:\n");
    for (const struct grade_lab *const *l = grade_labs(); *l; l++)
        printf("  %-22s %s\n", (*l)->name, (*l)->title);
    printf("\noptions:\n");
    cli_print_options(stdout, grade_options, NGRADE_OPTIONS);
    printf("  --help                   show this help\n\n"
           "exit status: 0 full marks, 1 fewer, 125 on bad input.\n");
}

static bool write_json(const struct grade *g, const char *path)
{
    if (strcmp(path, "-") == 0) {
        grade_write_results(g, stdout);
        return true;
    }
    FILE *out = fopen(path, "w");
    if (!out) {
        fprintf(stderr, "trapeze grade: %s: cannot write it: %s\n", path, strerror(errno));
        return false;
    }
    grade_write_results(g, out);
    if (fclose(out) != 0) {
        fprintf(stderr, "trapeze grade: %s: cannot write it\n", path);
        return false;
    }
    return true;
}

int cmd_grade(int argc, char **argv)
{
    struct grade_args args = {NULL, false, false, 0};
    char **operands = calloc((size_t)argc + 1, sizeof *operands);
    if (!operands) return CLI_EXIT_USAGE;
    size_t n = 0;
    int rc = cli_parse(grade_options, NGRADE_OPTIONS, &args, argc, argv, operands, &n);
    if (rc == 1) {
        free(operands);
        help();
        return CLI_EXIT_OK;
    }
    if (rc != 0 || n != 2) {
        if (rc == 0)
            fprintf(stderr, "trapeze grade: expected LAB and SUBMISSION, got %zu operands (see trapeze grade --help)\n", n);
        free(operands);
        return CLI_EXIT_USAGE;
    }
    const char *lab_arg = operands[0], *submission = operands[1];
    free(operands);
    if (args.check_only && args.json_path) {
        fprintf(stderr, "trapeze grade: --check runs no test, so it writes no --json (see trapeze grade --help)\n");
        return CLI_EXIT_USAGE;
    }
    const struct grade_lab *lab = grade_find_lab(lab_arg);
    if (!lab) {
        fprintf(stderr, "trapeze grade: %s: no such lab (see trapeze grade --help)\n", lab_arg);
        return CLI_EXIT_USAGE;
    }
    struct grade *g = calloc(1, sizeof *g);
    if (!g) return CLI_EXIT_USAGE;
    g->lab = lab;
    /* A lab's name stands for labs/NAME of the current directory. */
    char lab_dir[600];
    struct stat st;
    if (stat(lab_arg, &st) == 0 && S_ISDIR(st.st_mode)) snprintf(lab_dir, sizeof lab_dir, "%s", lab_arg);
    else snprintf(lab_dir, sizeof lab_dir, "labs/%s", lab->name);
    g->lab_dir = lab_dir;
    char err[GRADE_ERROR_SIZE];
    if (!grade_read_submission(g, submission, err)) {
        fprintf(stderr, "trapeze grade: %s\n", err);
        grade_free(g);
        free(g);
        return CLI_EXIT_USAGE;
    }
    g->seed_given = args.seed_given;
    g->seed = args.seed_given ? args.seed : grade_content_seed(g);
    g->check_only = args.check_only;
    if (!lab->run(g, err)) {
        fprintf(stderr, "trapeze grade: %s\n", err);
        rc = CLI_EXIT_USAGE;
    } else if (args.check_only) {
        TRAPEZE_ASSERT(g->ntests == 0);
        printf("%s: ready for %s: every file read, vetted and assembled or parsed as its tests take it "
               "(no test run)\n", submission, lab->name);
        rc = CLI_EXIT_OK;
    } else {
        if (!args.json_path || strcmp(args.json_path, "-") != 0) grade_print_summary(g, stdout);
        bool full = grade_score(g) >= grade_max_score(g);
        rc = full ? CLI_EXIT_OK : 1;
        if (args.json_path && !write_json(g, args.json_path)) rc = CLI_EXIT_USAGE;
    }
    grade_free(g);
    free(g);
    return rc;
}
