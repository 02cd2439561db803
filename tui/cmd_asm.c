/* cmd_asm.c: `trapeze asm` (source -> image) and `trapeze disasm` (image -> source). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../assembler/asm.h"
#include "cli.h"

/* A printf format: %d is the exit status of bad input. */
static const char asm_help[] =
    "usage: trapeze asm FILE.s [-o FILE.img] [--listing] [-I DIR]...\n"
    "\n"
    "Assembles FILE.s into an image, by default FILE.img beside it.\n"
    "\n"
    "options:\n"
    "  -o FILE      write the image to FILE\n"
    "  --listing    also print a listing on stdout: address, word, file:line, source\n"
    "  -I DIR       look for .include files in DIR when they are not beside the\n"
    "               including file; repeat for more, searched in order\n"
    "  -h, --help   print this help\n"
    "\n"
    "Errors are reported as file:line:col: error: ... with the line and a caret;\n"
    "the exit status is then %d.  The language is described in assembler/README.md.\n";

static const char disasm_help[] =
    "usage: trapeze disasm FILE [-I DIR]...\n"
    "\n"
    "Prints the disassembly of FILE, an image or a source file (assembled in\n"
    "memory first), with its labels.  The output is itself source: `trapeze asm`\n"
    "turns it back into the same words, entry point and labels.\n"
    "\n"
    "options:\n"
    "  -I DIR       for a source FILE: look for .include files in DIR too, as asm does\n"
    "  -h, --help   print this help\n";

static int usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "trapeze %s: %s%s%s%s (see trapeze %s --help)\n", cmd, what, arg ? " '" : "",
            arg ? arg : "", arg ? "'" : "", cmd);
    return CLI_EXIT_USAGE;
}

/* -I DIR at argv[*i]: appends DIR to the include directories (room for argc
 * of them).  False after printing the usage error. */
static bool include_dir_option(const char *cmd, int argc, char **argv, int *i,
                               struct asm_options *opts, const char **dirs)
{
    if (*i + 1 >= argc) {
        usage_error(cmd, "-I needs a directory", NULL);
        return false;
    }
    const char *dir = argv[++*i];
    if (!*dir) {
        usage_error(cmd, "-I needs a directory, got an empty name", NULL);
        return false;
    }
    dirs[opts->ninclude_dirs++] = dir;
    opts->include_dirs = dirs;
    return true;
}

/* FILE.s -> FILE.img; anything else gets .img appended.  Caller frees. */
static char *default_output(const char *input)
{
    size_t n = strlen(input);
    if (n > 2 && strcmp(input + n - 2, ".s") == 0) n -= 2;
    char *out = malloc(n + 5);
    if (!out) return NULL;
    memcpy(out, input, n);
    strcpy(out + n, ".img");
    return out;
}

/* The command proper, once the -I list is allocated. */
static int assemble_command(int argc, char **argv, const char **dirs)
{
    const char *input = NULL, *output = NULL;
    bool listing = false;
    struct asm_options opts = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf(asm_help, CLI_EXIT_USAGE);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--listing") == 0) {
            listing = true;
        } else if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("asm", "-o needs a file name", NULL);
            if (output) return usage_error("asm", "-o given twice", NULL);
            output = argv[++i];
        } else if (strcmp(a, "-I") == 0) {
            if (!include_dir_option("asm", argc, argv, &i, &opts, dirs)) return CLI_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("asm", "unknown option", a);
        } else if (input) {
            return usage_error("asm", "expected one source file, got another", a);
        } else {
            input = a;
        }
    }
    if (!input) return usage_error("asm", "expected a source file", NULL);
    char *made = output ? NULL : default_output(input);
    if (!output) output = made;
    int rc = CLI_EXIT_USAGE;
    struct asm_image img;
    if (!output) {
        fprintf(stderr, "trapeze asm: out of memory\n");
        return rc;
    }
    if (strcmp(output, input) == 0) {
        fprintf(stderr, "trapeze asm: the image '%s' would overwrite the source\n", output);
        free(made);
        return rc;
    }
    if (asm_is_image_file(input)) {
        fprintf(stderr, "%s: error: this is an image, not assembly source (try trapeze disasm)\n", input);
        free(made);
        return rc;
    }
    if (asm_assemble_file_opts(input, &opts, &img, stderr) != 0) {
        free(made);
        return rc;
    }
    FILE *f = fopen(output, "w");
    if (!f) {
        fprintf(stderr, "%s: error: cannot write the image: %s\n", output, strerror(errno));
    } else {
        bool ok = asm_image_write(&img, f);
        if (fclose(f) != 0) ok = false;
        if (!ok) fprintf(stderr, "%s: error: cannot write the image\n", output);
        else if (listing && !asm_write_listing(&img, stdout))
            fprintf(stderr, "trapeze asm: cannot write the listing\n");
        else rc = CLI_EXIT_OK;
    }
    asm_image_free(&img);
    free(made);
    return rc;
}

/* Runs command with room for every -I DIR argv can hold. */
static int with_include_dirs(int (*command)(int, char **, const char **), const char *cmd,
                             int argc, char **argv)
{
    const char **dirs = calloc((size_t)argc, sizeof *dirs);
    if (!dirs) {
        fprintf(stderr, "trapeze %s: out of memory\n", cmd);
        return CLI_EXIT_USAGE;
    }
    int rc = command(argc, argv, dirs);
    free(dirs);
    return rc;
}

int cmd_asm(int argc, char **argv) { return with_include_dirs(assemble_command, "asm", argc, argv); }

static int disassemble_command(int argc, char **argv, const char **dirs)
{
    const char *input = NULL;
    struct asm_options opts = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(disasm_help, stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "-I") == 0) {
            if (!include_dir_option("disasm", argc, argv, &i, &opts, dirs)) return CLI_EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("disasm", "unknown option", a);
        } else if (input) {
            return usage_error("disasm", "expected one file, got another", a);
        } else {
            input = a;
        }
    }
    if (!input) return usage_error("disasm", "expected an image or a source file", NULL);
    struct asm_image img;
    if (asm_load_program_opts(input, &opts, &img, stderr) != 0) return CLI_EXIT_USAGE;
    bool ok = asm_write_disassembly(&img, stdout);
    asm_image_free(&img);
    if (!ok) {
        fprintf(stderr, "trapeze disasm: cannot write the disassembly\n");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cmd_disasm(int argc, char **argv)
{
    return with_include_dirs(disassemble_command, "disasm", argc, argv);
}
