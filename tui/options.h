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
#include "../vmm/run/run.h"
#include "../vmm/vmm.h"
#include "disk_file.h"

#define RUN_DEFAULT_MAX_STEPS 10000000000ull
/* The real work of all levels together (run.h, run_set_bounds): the steps
 * of the lowest machine that executes instructions.  The same as the
 * program's budget, so that a bare run or one under the C VMM alone (where
 * every real step is a step of the program) is bounded the same; under
 * asm levels it bounds what trap amplification would make of it. */
#define RUN_DEFAULT_MAX_REAL_STEPS 10000000000ull
#define RUN_MIN_MEM 256u
#define RUN_MAX_VMS VMM_MAX_GUESTS
#define RUN_MAX_MEM (64u << 20)

enum run_trace_kind { TRACE_NONE, TRACE_TRAPS, TRACE_INSNS };

/* The options a command accepts (its --help lists only those). */
enum run_option_bit {
    OPT_ISA = 1u << 0,
    OPT_MEM = 1u << 1,
    OPT_MAX_STEPS = 1u << 2,
    OPT_INPUT = 1u << 3,
    OPT_JSON = 1u << 4,
    OPT_TRACE = 1u << 5,
    OPT_VMM = 1u << 6,
    OPT_VMS = 1u << 7,
    OPT_OUT_DIR = 1u << 8,
    OPT_STACK = 1u << 9, /* --stack and --depth */
    OPT_INCLUDE = 1u << 10, /* -I DIR */
    OPT_TRACE_TRAPS = 1u << 11, /* --trace traps only */
    OPT_SHADOW = 1u << 12,
    OPT_C_BY_DEFAULT = 1u << 13, /* no monitor given: the C VMM in te (equiv) */
    OPT_MAX_REAL_STEPS = 1u << 14,
    OPT_SLICE = 1u << 15,        /* --slice N: the C VMM's scheduler */
    OPT_DISK = 1u << 16,         /* --disk FILE, repeatable: units 0..3 */
    OPT_IO = 1u << 17,           /* --io MODEL, --no-iommu */
    OPT_ASM_VMM = 1u << 18,      /* --asm-vmm FILE: the asm levels' source */
};
#define OPTS_MONITORS (OPT_VMM | OPT_STACK | OPT_SHADOW | OPT_SLICE | OPT_ASM_VMM)
#define OPTS_SESSION (OPT_ISA | OPT_MEM | OPT_MAX_STEPS | OPT_INPUT | OPTS_MONITORS | OPT_INCLUDE | \
                      OPT_DISK)
#define OPTS_EQUIV (OPTS_SESSION | OPT_JSON | OPT_TRACE_TRAPS | OPT_C_BY_DEFAULT | OPT_MAX_REAL_STEPS | OPT_IO)
#define OPTS_RUN (OPTS_SESSION | OPT_JSON | OPT_TRACE | OPT_VMS | OPT_OUT_DIR | OPT_MAX_REAL_STEPS | OPT_IO)

struct run_options {
    const char *isa;            /* as given: a built-in name or a path */
    struct isa_variant variant; /* loaded from isa */
    size_t mem;                 /* words of the program's memory */
    uint64_t max_steps;
    uint64_t max_real_steps;    /* --max-real-steps: all levels' real work */
    uint32_t slice;             /* --slice, or 0 */
    const char *asm_vmm;        /* --asm-vmm: the asm levels' source, or NULL: the one built in */
    const char *input_path;     /* --input, or NULL ("-": stdin, at most CLI_MAX_INPUT_BYTES) */
    uint8_t *input;             /* its contents (owned) */
    size_t input_len;
    bool json;
    enum run_trace_kind trace;
    const char *trace_file;     /* --trace-file, or NULL: stderr */
    /* The monitors: --vmm MODE alone is the stack "c" in that mode; with
     * --stack/--depth it sets the mode of the stack's C VMM. */
    struct run_spec spec;       /* n = 0: the bare machine */
    bool vmm_given;
    enum vmm_mode vmm_mode;
    bool shadow_given;          /* --shadow POLICY: the C VMM's, in te */
    enum vmm_shadow_policy shadow;
    bool stack_given;           /* --stack SPEC or --depth N */
    unsigned vms;               /* --vms N; 0 when not given        */
    const char *out_dir;        /* --out-dir DIR, or NULL           */
    char **programs;            /* the operands, pointing into argv */
    size_t nprograms;
    /* -I DIR, in order (owned array, strings in argv): where a program's
     * .include files are looked for after the including file's directory;
     * struct asm_options takes them as they are. */
    const char **include_dirs;
    size_t ninclude_dirs;
    /* --disk FILE, in order: unit k is disks[k], open (disk_file.h). */
    struct disk_file disks[ISA_DISK_UNITS];
    unsigned ndisks;
    bool io_given;              /* --io MODEL or --no-iommu */
    enum vmm_io_model io_model;
    bool no_iommu;
};

/* The media of o's disks, for run_attach_disk (media[k] is unit k). */
void run_options_disk_media(const struct run_options *o, struct run_medium media[ISA_DISK_UNITS]);
/* Attaches o's disks to r, their files written through (run_set_disk_sink);
 * false after printing one line naming the command. */
bool run_options_attach_disks(struct run_options *o, struct run *r, const char *cmd);

/* Parses argv[1..] (argv[0] is the subcommand) into o, accepting the
 * options in `accepted` (enum run_option_bit), loading the variant and the
 * input file.  Returns 0 when o is ready, 1 when --help was printed (exit
 * 0), or CLI_EXIT_USAGE after printing a one-line error.  usage_operands
 * names the operands in the help text ("PROGRAM"). */
/* The variant --isa names: a built-in name (a wrong one gets "did you
 * mean"), or a variant file (its own file:line: error).  False with the
 * message in err (CLI_ERROR_SIZE bytes). */
bool options_load_variant(const char *value, struct isa_variant *out, char *err);
int run_options_parse(struct run_options *o, int argc, char **argv, const char *summary,
                      const char *usage_operands, unsigned accepted);
/* Where --trace writes: stderr, or the --trace-file opened for writing
 * (NULL after a one-line error naming it). */
FILE *run_options_open_trace(const struct run_options *o, const char *cmd);
/* Closes what run_options_open_trace opened; written: the trace's writes
 * succeeded.  False (after a one-line error) when the trace is not whole. */
bool run_options_close_trace(const struct run_options *o, const char *cmd, FILE *f, bool written);
void run_options_free(struct run_options *o);
/* "--stack c,asm", "--vmm hvm" or "the bare machine": how o runs. */
void run_options_describe(const struct run_options *o, char *buf, size_t size);

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
 * it.  NULL with errno set when it cannot be read, is not a regular file
 * (EINVAL, EISDIR) or holds more than CLI_MAX_FILE_BYTES (EFBIG): the
 * sources an image names.  cli.h's cli_read_file_capped says why in words. */
char *cli_read_file(const char *path, size_t *len);

/* Parses a decimal or 0x-hexadecimal unsigned number; false on anything else. */
bool options_parse_u64(const char *s, uint64_t *out);

#endif
