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
};

/* Parses argv[1..] (argv[0] is the subcommand) into o, loading the variant
 * and the input file.  Returns 0 when o is ready, 1 when --help was printed
 * (exit 0), or 2 after printing a one-line error (exit 2).  usage_operands
 * names the operands in the help text ("PROGRAM"). */
int run_options_parse(struct run_options *o, int argc, char **argv, const char *summary,
                      const char *usage_operands);
void run_options_free(struct run_options *o);

/* Parses a decimal or 0x-hexadecimal unsigned number; false on anything else. */
bool options_parse_u64(const char *s, uint64_t *out);

#endif
