/*
 * main.c: the `trapeze` command, one binary with subcommands.
 *
 * The subcommand table below is the only list of them: dispatch and the
 * top-level help are both made from it.  The version is the Makefile's
 * VERSION, passed to this file alone as TRAPEZE_VERSION.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef TRAPEZE_VERSION
#error "TRAPEZE_VERSION comes from the Makefile (VERSION)"
#endif

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv); /* NULL: in the table of interruptible ones */
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"asm", cmd_asm, "assemble a source file into an image"},
    {"disasm", cmd_disasm, "disassemble an image (or a source file)"},
    {"run", NULL, "run a program on the bare machine, under a VMM or a stack of them"},
    {"check-isa", cmd_check_isa, "decide Popek and Goldberg's theorems for a variant, by experiment"},
    {"debug", cmd_debug, "step through a program and its traps, forwards and backwards"},
    {"tui", cmd_tui, "watch a run full-screen: levels, registers, code, traps, f-maps"},
    {"trace", NULL, "draw a run's traps, one instruction's cascade or its memory with graphviz"},
    {"equiv", NULL, "compare a run on the bare machine with the same run under the C VMM"},
};
#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

/* The commands that stop their loops at Ctrl-C (cli.h): main installs the
 * handler for them alone and passes its flag. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv, const cli_interrupt_flag *interrupted);
} interruptible[] = {
    {"run", cmd_run},
    {"trace", cmd_trace},
    {"equiv", cmd_equiv},
};
#define NINTERRUPTIBLE (sizeof interruptible / sizeof interruptible[0])

/* Ctrl-C, for the commands that take it (cli.h). */
static cli_interrupt_flag interrupted;

static void on_interrupt(int sig)
{
    if (interrupted) { /* a second Ctrl-C: the default, which ends the process */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

static int run_subcommand(const struct subcommand *c, int argc, char **argv)
{
    if (c->run) return c->run(argc, argv);
    for (size_t i = 0; i < NINTERRUPTIBLE; i++) {
        if (strcmp(interruptible[i].name, c->name) != 0) continue;
        struct sigaction sa = {.sa_handler = on_interrupt};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL); /* as Ctrl-C: a traced run's trace is still written whole */
        return interruptible[i].run(argc, argv, &interrupted);
    }
    return CLI_EXIT_USAGE; /* a subcommand in neither table: not reached */
}

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
            return run_subcommand(&subcommands[i], argc - 1, argv + 1);
    fprintf(stderr, "trapeze: unknown command '%s' (see trapeze --help)\n", argv[1]);
    return CLI_EXIT_USAGE;
}
