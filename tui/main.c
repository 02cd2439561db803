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

/* How a command takes Ctrl-C (cli.h).  Default: it ends the command.  A
 * STOP command polls main's flag in its long loops and stops with a usable
 * state; a second Ctrl-C ends it.  A SESSION command (the debugger, the
 * TUI) takes every Ctrl-C as "stop the motion under way", and a read
 * waiting for a key or a line goes on. */
enum ctrl_c { CTRL_C_ENDS, CTRL_C_STOPS, CTRL_C_SESSION };

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);                                   /* CTRL_C_ENDS */
    int (*run_flagged)(int argc, char **argv, cli_interrupt_flag *flag); /* the others */
    enum ctrl_c ctrl_c;
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"asm", cmd_asm, NULL, CTRL_C_ENDS, "assemble a source file into an image"},
    {"disasm", cmd_disasm, NULL, CTRL_C_ENDS, "disassemble an image (or a source file)"},
    {"run", NULL, cmd_run, CTRL_C_STOPS, "run a program on the bare machine, under a VMM or a stack of them"},
    {"check-isa", cmd_check_isa, NULL, CTRL_C_ENDS,
     "decide Popek and Goldberg's theorems for a variant, by experiment"},
    {"debug", NULL, cmd_debug, CTRL_C_SESSION, "step through a program and its traps, forwards and backwards"},
    {"tui", NULL, cmd_tui, CTRL_C_SESSION, "watch a run full-screen: levels, registers, code, traps, f-maps"},
    {"trace", NULL, cmd_trace, CTRL_C_STOPS,
     "draw a run's traps, one instruction's cascade or its memory with graphviz"},
    {"equiv", NULL, cmd_equiv, CTRL_C_STOPS, "compare a run on the bare machine with the same run under the C VMM"},
    {"mkdisk", cmd_mkdisk, NULL, CTRL_C_ENDS, "make a disk image for --disk: zeroed sectors, or a record store of files"},
    {"grade", cmd_grade, NULL, CTRL_C_ENDS, "grade a lab's submission, deterministically; writes Gradescope's results.json"},
};
#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

/* Ctrl-C's one flag (the only mutable state outside a value: a handler
 * can reach nothing else), passed down to the command. */
static cli_interrupt_flag interrupted;

static void on_interrupt_stop(int sig)
{
    if (interrupted) { /* a second Ctrl-C: the default, which ends the process */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    interrupted = 1;
}

static void on_interrupt_session(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int run_subcommand(const struct subcommand *c, int argc, char **argv)
{
    if (c->ctrl_c == CTRL_C_ENDS) return c->run(argc, argv);
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    if (c->ctrl_c == CTRL_C_SESSION) {
        sa.sa_handler = on_interrupt_session;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, NULL);
    } else {
        sa.sa_handler = on_interrupt_stop;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL); /* as Ctrl-C: a traced run's trace is still written whole */
    }
    return c->run_flagged(argc, argv, &interrupted);
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
