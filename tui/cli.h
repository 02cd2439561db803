/*
 * cli.h: the subcommands of the `trapeze` command.
 *
 * main.c holds the one table of subcommands (name, handler, summary); each
 * handler lives in its own cmd_*.c file, parses its own arguments, prints a
 * one-line error naming the place on bad input, and returns the process exit
 * status:
 *
 *   0   success (for run: r1 at halt)
 *   2   bad input: command line, source, image or variant file
 *   3   the run stopped without halt: machine check, budget, unhandled trap
 */
#ifndef TRAPEZE_CLI_H
#define TRAPEZE_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_STOPPED 3

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check_isa(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_equiv(int argc, char **argv);

#endif
