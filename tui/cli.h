/*
 * cli.h: the subcommands of the `trapeze` command.
 *
 * main.c holds the one table of subcommands (name, handler, summary); each
 * handler lives in its own cmd_*.c file, parses its own arguments, prints a
 * one-line error naming the place on bad input, and returns the process exit
 * status.  The tool's own outcomes have codes that no halting guest can give
 * by accident (timeout(1)'s range); a guest's status above 119 is clamped:
 *
 *   0..119  run: the guest halted with r1 = that value (0: success)
 *   120     run: the guest halted with r1 outside 0..119 (the summary and
 *           --json carry the full value)
 *   121     equiv: not equivalent; check-isa: Theorem 1 fails for the variant
 *   124     the --max-steps budget ran out before the guest halted (or the
 *           monitors stalled)
 *   125     bad input: command line, source, image, variant file, script
 *   126     the guest's machine stopped without halting: machine check,
 *           unhandled trap, or a monitor below it gave up
 *   130     interrupted (Ctrl-C, or SIGTERM) before the guest halted: what
 *           was traced so far is written out whole (128 + SIGINT, as shells do)
 */
#ifndef TRAPEZE_CLI_H
#define TRAPEZE_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_HALT_MAX 119
#define CLI_EXIT_HALT_OTHER 120
#define CLI_EXIT_DIFFERENT 121
#define CLI_EXIT_BUDGET 124
#define CLI_EXIT_USAGE 125
#define CLI_EXIT_STOPPED 126
#define CLI_EXIT_INTERRUPTED 130

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check_isa(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_equiv(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_grade(int argc, char **argv);

#endif
