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
 *   122     run, equiv: the C VMM refused the guest (pv: not paravirtual, or
 *           its kernel executed what it must ask by hcall)
 *   124     the --max-steps budget ran out before the guest halted (or the
 *           monitors stalled)
 *   125     bad input: command line, source, image, variant file, script
 *   126     the guest's machine stopped without halting: machine check,
 *           unhandled trap, or a monitor below it gave up
 *   130     stopped by Ctrl-C (128 + SIGINT, as a shell reports it): run
 *           (with --trace also SIGTERM; what was traced is written out
 *           whole) and equiv
 *
 * 124 also covers --max-real-steps, the real work of all levels.
 */
#ifndef TRAPEZE_CLI_H
#define TRAPEZE_CLI_H

#include <signal.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_HALT_MAX 119
#define CLI_EXIT_HALT_OTHER 120
#define CLI_EXIT_DIFFERENT 121
#define CLI_EXIT_REFUSED 122
#define CLI_EXIT_BUDGET 124
#define CLI_EXIT_USAGE 125
#define CLI_EXIT_STOPPED 126
#define CLI_EXIT_INTERRUPTED 130

/* ---- Files read whole (tui/cli_file.c) ---------------------------------------
 *
 * Every file trapeze reads whole must be a regular file of bounded size
 * (isa/file.h): a FIFO, a device or a directory is a one-line error, never
 * a hang or the host's memory.  The caps (README.md, trapeze(1) LIMITS): */
#include <stddef.h>
#define CLI_MAX_FILE_BYTES (16u << 20) /* a source file an image names (as the assembler's) */
#define CLI_MAX_INPUT_BYTES (1u << 20) /* --input: copied into each guest's console */
#define CLI_MAX_DISK_BYTES (64u << 20) /* a disk file (for the disk's reader) */

/* The regular file at path whole, NUL-terminated after *len bytes (the
 * caller frees it), when it holds at most limit bytes; else NULL after
 * writing "cannot open 'PATH': WHY" into err (err_size bytes, one line). */
char *cli_read_file_capped(const char *path, size_t limit, size_t *len, char *err, size_t err_size);

/* ---- Ctrl-C -------------------------------------------------------------------
 *
 * main.c holds the one flag its SIGINT handler sets (the only mutable
 * state outside a value), installed only for the commands that take it
 * (the table's run_interruptible): the flag becomes non-zero at Ctrl-C,
 * long loops poll it (run_set_bounds) and stop with a usable state, and a
 * second Ctrl-C while it is set ends the process as if no handler were
 * there.  Other commands keep the default: Ctrl-C ends them. */
#include <signal.h>
typedef volatile sig_atomic_t cli_interrupt_flag;

int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv, cli_interrupt_flag *interrupted);
int cmd_check_isa(int argc, char **argv);
/* The commands that take Ctrl-C get main's flag (main.c says how each
 * takes it): the sessions reset it before each command, the others poll it. */
int cmd_debug(int argc, char **argv, cli_interrupt_flag *interrupted);
int cmd_tui(int argc, char **argv, cli_interrupt_flag *interrupted);
int cmd_equiv(int argc, char **argv, cli_interrupt_flag *interrupted);
int cmd_trace(int argc, char **argv, cli_interrupt_flag *interrupted);
int cmd_mkdisk(int argc, char **argv);
int cmd_grade(int argc, char **argv);

#endif
