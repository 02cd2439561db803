/*
 * main.c: the `trapeze` command, one binary with subcommands.
 *
 * The subcommand table below is the only list of them: dispatch and the
 * top-level help are both made from it.  The version is the Makefile's
 * VERSION, passed to this file alone as TRAPEZE_VERSION.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef TRAPEZE_VERSION
#error "TRAPEZE_VERSION comes from the Makefile (VERSION)"
#endif

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"asm", cmd_asm, "assemble a source file into an image"},
    {"disasm", cmd_disasm, "disassemble an image (or a source file)"},
    {"run", cmd_run, "run a program on the bare machine, under a VMM or a stack of them"},
    {"check-isa", cmd_check_isa, "decide Popek and Goldberg's theorems for a variant, by experiment"},
    {"debug", cmd_debug, "step through a program and its traps, forwards and backwards"},
    {"tui", cmd_tui, "watch a run full-screen: levels, registers, code, traps, f-maps"},
    {"trace", cmd_trace, "draw a run's traps, one instruction's cascade or its memory with graphviz"},
    {"grade", cmd_grade, "grade a lab's submission, deterministically; writes Gradescope's results.json"},
    {"equiv", cmd_equiv, "compare a run on the bare machine with the same run under the C VMM"},
};
#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: trapeze COMMAND [options] [operands]\n\n"
            "Trapeze, a teaching simulator for machine virtualization.\n\ncommands:\n");
    for (size_t i = 0; i < NSUBCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out, "\n'trapeze COMMAND --help' describes a command's options;\n"
                 "'trapeze --version' (or -V) prints the version.  The manual: man trapeze.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("trapeze %s\n", TRAPEZE_VERSION);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < NSUBCOMMANDS; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "trapeze: unknown command '%s' (see trapeze --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}
