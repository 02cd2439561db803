/*
 * options.h: the options shared by every command that runs a program
 * (run, equiv, and later debug and tui).  One table of options drives the
 * parser and the generated --help text.
 */
#ifndef TRAPEZE_OPTIONS_H
#define TRAPEZE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../isa/isa.h"
#include "../vmm/stack.h"
#include "../vmm/vmm.h"

#define RUN_DEFAULT_MAX_STEPS 10000000000ull
#define RUN_MIN_MEM 256u
#define RUN_MAX_VMS VMM_MAX_GUESTS
#define RUN_MAX_MEM (64u << 20)

enum run_trace { TRACE_NONE, TRACE_TRAPS, TRACE_INSNS };

struct run_options {
    const char *isa;            /* as given: a built-in name or a path */
    struct isa_variant variant; /* loaded from isa */
    size_t mem;                 /* words of (guest) memory */
    uint64_t max_steps;
    const char *input_path;     /* --input, or NULL */
    uint8_t *input;             /* its contents (owned) */
    size_t input_len;
    bool json;
    enum run_trace trace;
    bool vmm;                   /* --vmm given: run under the C VMM */
    enum vmm_mode vmm_mode;     /* its mode (te when not given)     */
    unsigned vms;               /* --vms N; 0 when not given        */
    const char *out_dir;        /* --out-dir DIR, or NULL           */
    bool stacked;               /* --stack SPEC or --depth N given  */
    struct stack_spec stack;    /* the monitors, bottom first       */
    char **programs;            /* the operands, pointing into argv */
    size_t nprograms;
    /* -I DIR, in order (owned array, strings in argv): where a program's
     * .include files are looked for after the including file's directory;
     * struct asm_options takes them as they are. */
    const char **include_dirs;
    size_t ninclude_dirs;
};

/* Parses argv[1..] (argv[0] is the subcommand) into o, loading the variant
 * and the input file.  Returns 0 when o is ready, 1 when --help was printed
 * (exit 0), or 2 after printing a one-line error (exit 2).  usage_operands
 * names the operands in the help text ("PROGRAM"). */
int run_options_parse(struct run_options *o, int argc, char **argv, const char *summary,
                      const char *usage_operands);
void run_options_free(struct run_options *o);

/* ---- The option parser every subcommand uses ------------------------------- */

#define CLI_ERROR_SIZE 600

/* One option of a command; a command's table drives both parsing and --help. */
struct cli_option {
    const char *name; /* "--mem" */
    const char *arg;  /* "WORDS", or NULL for a flag */
    const char *help;
    /* Applies the option to the command's target.  On failure writes a
     * message into err and returns false; the parser prefixes it with the
     * command and the option unless message_names_place. */
    bool (*apply)(void *target, const char *value, char err[CLI_ERROR_SIZE]);
    bool message_names_place; /* err is already "file:line:col: error: ..." */
};

/* Parses argv[1..] against table (argv[0] is the command's name, used in
 * messages): --name value, --name=value, flags, and "--" ending the options.
 * Operands go into operands (room for argc entries), counted in *noperands;
 * when operands is NULL, an operand is an error.  Returns 0 when parsed, 1
 * when --help was asked (nothing printed), or 2 after printing one line. */
int cli_parse(const struct cli_option *table, size_t n, void *target, int argc, char **argv,
              char **operands, size_t *noperands);
/* Writes the options part of a --help text: one aligned line per option. */
void cli_print_options(FILE *out, const struct cli_option *table, size_t n);
/* The whole file at path, NUL-terminated after *len bytes; the caller frees
 * it.  NULL with errno set when it cannot be read. */
char *cli_read_file(const char *path, size_t *len);

/* Parses a decimal or 0x-hexadecimal unsigned number; false on anything else. */
bool options_parse_u64(const char *s, uint64_t *out);

#endif
