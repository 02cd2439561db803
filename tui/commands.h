/*
 * commands.h: the one command table of the debugger and the TUI.
 *
 * Each command is a row: name, aliases, argument spec, help, handler.
 * commands_execute() parses a line, finds the row (by name, alias or
 * unique prefix), checks the arity, and runs the handler; `help` and the
 * TUI's help screen are generated from the rows.  Handlers talk to the
 * engine and write what they have to say to ctx->out: the debugger points
 * it at stdout, the TUI at a buffer it shows in its message line.
 *
 * The TUI's keys are command lines too (tui.c), so a key does nothing that
 * a typed command could not.
 */
#ifndef TRAPEZE_COMMANDS_H
#define TRAPEZE_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "options.h"

#define COMMANDS_MAX_DISPLAYS 16

struct cmd_ctx {
    struct engine *e;
    FILE *out;            /* where commands write */
    unsigned level;       /* the selected level */
    uint64_t slice;       /* units per engine_go: 0 = to the end (debugger) */
    bool running;         /* a motion's slice ended; commands_resume() goes on */
    bool quit;            /* `quit` was given */
    bool echo_console;    /* reports include the program's new console output */
    size_t console_shown; /* console bytes already reported */
    char status[200];     /* one line on the last command: its stop, last trap or error */
    uint32_t mem_addr;    /* the memory view: last `x` address (L-physical) */
    unsigned mem_level;
    /* `display`: expressions shown after every stop, by number. */
    struct { unsigned id; char text[80]; } displays[COMMANDS_MAX_DISPLAYS];
    unsigned ndisplays, next_display_id;
    unsigned motion_break; /* until/finish: the breakpoint the motion made, deleted when it stops */
    /* The motion under way. */
    enum engine_motion motion;
    bool reverse;
    unsigned repeat_left; /* `step N`: steps still to take after this one */
    uint64_t first_trap;  /* the first trap it logged */
    uint64_t start_time;
};

/* A fresh context over e: level = the program's, slice 0, out = stdout. */
void commands_init(struct cmd_ctx *c, struct engine *e, FILE *out);

/* Reports where the selected level is: "L2 0x000018 <_start+8>: st ...". */
void commands_where(struct cmd_ctx *c);

/* Runs one command line.  Empty lines and comments (#) do nothing.
 * Returns 0, or -1 after writing "error: ..." to c->out. */
int commands_execute(struct cmd_ctx *c, const char *line);

/* Goes on with the motion whose slice ended (c->running); reports when it
 * stops.  Returns true while it is still running. */
bool commands_resume(struct cmd_ctx *c);
/* Abandons the motion under way (the TUI: a key was pressed). */
void commands_interrupt(struct cmd_ctx *c);

/* The table, for help screens and completion. */
struct cmd_spec {
    const char *name;
    const char *aliases;  /* space-separated, or "" */
    int min_args, max_args;
    const char *args;     /* the arguments, for help: "[N]" */
    const char *help;     /* one line */
    const char *example;  /* one line for `help CMD`: an example, or more on the operands */
    const char *const *words; /* completions of the first argument, or NULL (symbols) */
    int (*run)(struct cmd_ctx *c, const char *suffix, int argc, char **argv);
};
const struct cmd_spec *commands_table(size_t *n);
/* Evaluates an expression of the selected level's state: numbers (0x hex),
 * registers ($r1 or r1, $sp, $lr, $pc), PSW fields ($m: the mode bit M,
 * 1 = supervisor; $ie, $pg, $tp, $flags, $base, $bound, $timer), the
 * program's symbols, a memory word of the level's physical memory
 * (*ADDR or [ADDR]), + - * / % & | ^ << >> == != < > <= >= (unsigned),
 * ~ ! and parentheses; 32-bit arithmetic.  False with a one-line message in err. */
bool commands_eval(const struct cmd_ctx *c, const char *text, uint32_t *value, char *err, size_t errsize);

/* Writes the help of every command, or of one (false when unknown). */
bool commands_help(FILE *out, const char *name);

/* Completion: calls add for every word that completes `prefix` as word
 * number argi (0: the command) of a line whose command word is cmd. */
void commands_complete(const struct cmd_ctx *c, int argi, const char *cmd, const char *prefix,
                       void (*add)(void *ctx, const char *word), void *ctx);

/* ---- Sessions: `trapeze debug` and `trapeze tui` ------------------------------------ */

struct session_args {
    struct run_options run;   /* the run options (options.h): the monitors are run.spec */
    const char *script;       /* -x FILE (debug only), or NULL */
    const char *program;      /* NULL when none was given (tui: the demo) */
    struct run_medium disk_media[ISA_DISK_UNITS]; /* run.disks' media, for the engine */
};

/* Parses argv (argv[0] is the subcommand): the run options plus --vmm MODE
 * and, when allow_script, -x FILE.  Returns 0 when ready, 1 after --help
 * (exit 0), 2 after a one-line error (exit 2).  Free with
 * commands_session_free. */
int commands_parse_session(struct session_args *a, int argc, char **argv, bool allow_script,
                           bool program_optional, const char *summary);
void commands_session_free(struct session_args *a);
/* The engine configuration for a, with program as the program. */
struct engine_config commands_session_config(struct session_args *a, const char *program);

/* Formatting shared by the views. */
/* A filter of the trap log: words separated by spaces, each a cause
 * (PRIV, SVC, ...), a level (L1: traps that arose there) or a mnemonic of
 * the instruction that trapped (out); -WORD leaves those out.  A trap is
 * kept when it matches some word of each kind given and no -WORD. */
#define COMMANDS_FILTER_TERMS 8
struct trap_filter {
    unsigned n;
    struct trap_filter_term {
        enum { FILTER_CAUSE, FILTER_LEVEL, FILTER_MNEMONIC } kind;
        bool exclude;
        unsigned value;    /* the cause, the level */
        char mnemonic[16];
    } terms[COMMANDS_FILTER_TERMS];
};
/* Parses text (empty: keep every trap).  False with a message in err. */
bool commands_parse_trap_filter(const struct engine *e, const char *text, struct trap_filter *f, char *err,
                                size_t errsize);
bool commands_trap_kept(const struct trap_filter *f, const struct run_event *ev);

/* "L2 guest: traps.s" */
void commands_level_name(const struct engine *e, unsigned L, char *buf, size_t size);
/* Trap number seq as one log line; compact: for a narrow pane. */
void commands_format_trap(const struct engine *e, uint64_t seq, bool compact, char *buf, size_t size);
/* Level L's state in words: "running", "waiting: L2 guest runs",
 * "suspended: L0 asm VMM is handling its trap; shown as at its step 40". */
void commands_format_state(const struct engine *e, unsigned L, char *buf, size_t size);
/* "0x000018 <_start+8>" for L-virtual va (label by its physical address). */
void commands_format_place(const struct engine *e, unsigned L, uint32_t va, char *buf,
                           size_t size);
/* Mode flags as text: "M=S IE PG TP" (M=U in user mode), '-' for clear bits. */
void commands_format_flags(uint32_t flags, char *buf, size_t size);
/* Entry vpn of table t as a cell: "VW 00104f", "V- 00104f pt r/o", "-- unfilled",
 * "(none)"; brief: the marks' tags (run_pte_mark_tag), else their words.
 * *mark (may be NULL) gets the entry's mark. */
void commands_format_pte(const struct engine *e, const struct run_page_table *t, uint32_t vpn,
                         bool brief, char *buf, size_t size, enum run_pte_mark *mark);
/* The pages in use in tables t[0..n): valid in one of them, or one's last
 * change; the first max in vpns, how many in all in *total (may be NULL). */
unsigned commands_pages_in_use(const struct engine *e, const struct run_page_table *t, unsigned n,
                               uint32_t *vpns, unsigned max, unsigned *total);
/* A table's last change: "vpn 0xf, PTE write", or "no change seen". */
void commands_format_change(const struct run_page_table *t, char *buf, size_t size);

#endif
