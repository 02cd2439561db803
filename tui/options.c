/* options.c: the shared run options, one table for parsing and --help. */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../isa/suggest.h"

#define ERR_SIZE CLI_ERROR_SIZE


bool options_load_variant(const char *value, struct isa_variant *out, char *err)
{
    char msg[ISA_ERROR_SIZE];
    if (!strpbrk(value, "/.") && !isa_builtin_variant_text(value)) {
        /* A name, not a path: say so, not as a file's error. */
        struct suggest sg;
        suggest_init(&sg, value);
        const char *const *names = isa_builtin_variant_names();
        for (size_t i = 0; names[i]; i++) suggest_offer(&sg, names[i]);
        const char *near = suggest_best(&sg);
        char list[128] = "";
        for (size_t i = 0, n = 0; names[i] && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", names[i]);
        snprintf(err, ERR_SIZE, "no built-in variant '%.60s'%s%s%s (built in: %s; a variant "
                 "file is a path with '/' or '.')", value, near ? "; did you mean '" : "", near ? near : "",
                 near ? "'?" : "", list);
        return false;
    }
    if (!isa_variant_load(value, out, msg)) {
        snprintf(err, ERR_SIZE, "%s", msg);
        return false;
    }
    return true;
}

static bool apply_isa(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!options_load_variant(value, &o->variant, err)) return false;
    o->isa = value;
    return true;
}

static bool apply_mem(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    uint64_t words;
    if (!options_parse_u64(value, &words) || words < RUN_MIN_MEM || words > RUN_MAX_MEM) {
        snprintf(err, ERR_SIZE, "expected a number of words from %u to %u, got '%.100s'",
                 RUN_MIN_MEM, RUN_MAX_MEM, value);
        return false;
    }
    o->mem = (size_t)words;
    return true;
}

static bool apply_max_steps(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!options_parse_u64(value, &o->max_steps)) {
        snprintf(err, ERR_SIZE, "expected a number of steps, got '%.100s'", value);
        return false;
    }
    return true;
}

static bool apply_max_real_steps(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!options_parse_u64(value, &o->max_real_steps) || o->max_real_steps == 0) {
        snprintf(err, ERR_SIZE, "expected a number of steps from 1, got '%.100s'", value);
        return false;
    }
    return true;
}

/* Reads all of stdin, at most CLI_MAX_INPUT_BYTES (NULL with err past it). */
static char *read_stdin_bounded(size_t *len, char *err)
{
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + used, 1, cap - used, stdin);
        used += got;
        if (got == 0) break;
        if (used > CLI_MAX_INPUT_BYTES) {
            snprintf(err, ERR_SIZE, "-: the console input on stdin is over %u bytes; give a file",
                     CLI_MAX_INPUT_BYTES);
            free(buf);
            return NULL;
        }
        if (used == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    if (!buf || ferror(stdin)) {
        snprintf(err, ERR_SIZE, "-: cannot read stdin: %s", buf ? strerror(errno) : "out of memory");
        free(buf);
        return NULL;
    }
    *len = used;
    return buf;
}

static bool apply_input(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    size_t len;
    if (strcmp(value, "-") == 0) {
        char *typed = read_stdin_bounded(&len, err);
        if (!typed) return false;
        free(o->input);
        o->input = (uint8_t *)typed;
        o->input_len = len;
        o->input_path = value;
        return true;
    }
    char *text = cli_read_file_capped(value, CLI_MAX_INPUT_BYTES, &len, err, ERR_SIZE);
    if (!text) return false;
    free(o->input);
    o->input = (uint8_t *)text;
    o->input_len = len;
    o->input_path = value;
    return true;
}

static bool apply_json(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    (void)value, (void)err;
    o->json = true;
    return true;
}

static bool apply_trace(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (strcmp(value, "traps") == 0) o->trace = TRACE_TRAPS;
    else if (strcmp(value, "insns") == 0) o->trace = TRACE_INSNS;
    else {
        snprintf(err, ERR_SIZE, "expected 'traps' or 'insns', got '%.100s'", value);
        return false;
    }
    return true;
}

static bool apply_trace_traps(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (strcmp(value, "traps") != 0) {
        snprintf(err, ERR_SIZE, "expected 'traps', got '%.100s'", value);
        return false;
    }
    o->trace = TRACE_TRAPS;
    return true;
}

static bool apply_trace_file(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    (void)err;
    o->trace_file = value;
    return true;
}

static bool apply_vmm(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!vmm_mode_by_name(value, &o->vmm_mode)) {
        snprintf(err, ERR_SIZE, "expected te, hvm, interp, bt, hw, hw-slt or pv, got '%.100s'", value);
        return false;
    }
    o->vmm_given = true;
    return true;
}

static bool apply_shadow(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!vmm_shadow_policy_by_name(value, &o->shadow)) {
        snprintf(err, ERR_SIZE, "expected trace, rebuild or lazy, got '%.100s'", value);
        return false;
    }
    o->shadow_given = true;
    return true;
}

static bool apply_slice(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    uint64_t n;
    if (!options_parse_u64(value, &n) || n == 0 || n > UINT32_MAX) {
        snprintf(err, ERR_SIZE, "expected a number of guest steps from 1 to %u, got '%.100s'", UINT32_MAX, value);
        return false;
    }
    o->slice = (uint32_t)n;
    return true;
}

static bool apply_vms(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    uint64_t n;
    if (!options_parse_u64(value, &n) || n < 1 || n > RUN_MAX_VMS) {
        snprintf(err, ERR_SIZE, "expected a number of guests from 1 to %u, got '%.100s'",
                 RUN_MAX_VMS, value);
        return false;
    }
    o->vms = (unsigned)n;
    return true;
}

static bool apply_out_dir(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!*value) {
        snprintf(err, ERR_SIZE, "expected a directory");
        return false;
    }
    o->out_dir = value;
    return true;
}

static bool apply_asm_vmm(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    (void)err;
    o->asm_vmm = value;
    return true;
}

static bool apply_stack(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    char msg[RUN_ERROR_SIZE];
    if (o->stack_given) {
        snprintf(err, ERR_SIZE, "give one of --stack and --depth, once");
        return false;
    }
    if (!run_spec_parse(value, &o->spec, msg)) {
        snprintf(err, ERR_SIZE, "%s", msg);
        return false;
    }
    o->stack_given = true;
    return true;
}

static bool apply_depth(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    char msg[RUN_ERROR_SIZE];
    uint64_t n;
    if (o->stack_given) {
        snprintf(err, ERR_SIZE, "give one of --stack and --depth, once");
        return false;
    }
    if (!options_parse_u64(value, &n) || n > UINT32_MAX) {
        snprintf(err, ERR_SIZE, "expected a depth (0 .. %d), got '%.100s'", RUN_MAX_MONITORS, value);
        return false;
    }
    if (!run_spec_depth((unsigned)n, &o->spec, msg)) {
        snprintf(err, ERR_SIZE, "%s", msg);
        return false;
    }
    o->stack_given = true;
    return true;
}

static bool apply_include_dir(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (!*value) {
        snprintf(err, ERR_SIZE, "expected a directory");
        return false;
    }
    const char **dirs = realloc(o->include_dirs, (o->ninclude_dirs + 1) * sizeof *dirs);
    if (!dirs) {
        snprintf(err, ERR_SIZE, "out of memory");
        return false;
    }
    dirs[o->ninclude_dirs++] = value;
    o->include_dirs = dirs;
    return true;
}

static bool apply_disk(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    if (o->ndisks == ISA_DISK_UNITS) {
        snprintf(err, ERR_SIZE, "at most %u disks (units 0..%u), got '%.300s' as a fifth", ISA_DISK_UNITS,
                 ISA_DISK_UNITS - 1, value);
        return false;
    }
    struct disk_file *f = &o->disks[o->ndisks];
    if (!disk_file_open(f, value, err, ERR_SIZE)) return false;
    for (unsigned k = 0; k < o->ndisks; k++)
        if (disk_file_same(f, &o->disks[k])) {
            snprintf(err, ERR_SIZE, "'%.300s' is unit %u already", value, k);
            disk_file_close(f);
            return false;
        }
    o->ndisks++;
    return true;
}

/* --io's names, by enum vmm_io_model. */
static const char *const io_model_names[] = {"direct", "passthrough", "split"};

static bool apply_io(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    for (unsigned m = 0; m < sizeof io_model_names / sizeof io_model_names[0]; m++)
        if (strcmp(value, io_model_names[m]) == 0) {
            o->io_model = (enum vmm_io_model)m;
            o->io_given = true;
            return true;
        }
    snprintf(err, ERR_SIZE, "expected direct, passthrough or split, got '%.100s'", value);
    return false;
}

static bool apply_no_iommu(void *target, const char *value, char *err)
{
    struct run_options *o = target;
    (void)value, (void)err;
    o->no_iommu = o->io_given = true;
    return true;
}

void run_options_disk_media(const struct run_options *o, struct run_medium media[ISA_DISK_UNITS])
{
    for (unsigned k = 0; k < o->ndisks; k++) media[k] = disk_file_medium(&o->disks[k]);
}

bool run_options_attach_disks(struct run_options *o, struct run *r, const char *cmd)
{
    char err[RUN_ERROR_SIZE];
    if (o->io_given && !run_set_io_model(r, o->io_model, !o->no_iommu, err)) {
        fprintf(stderr, "trapeze %s: %s\n", cmd, err);
        return false;
    }
    for (unsigned k = 0; k < o->ndisks; k++)
        if (!run_attach_disk(r, k, o->disks[k].words, o->disks[k].sectors, err)) {
            fprintf(stderr, "trapeze %s: --disk '%s': %s\n", cmd, o->disks[k].path, err);
            return false;
        }
    if (o->ndisks) run_set_disk_sink(r, disk_file_sink, o->disks);
    return true;
}

/* The run options, each with the bit a command accepts it by. */
static const struct run_option {
    struct cli_option opt;
    unsigned set;
} run_option_table[] = {
    {{"--isa", "NAME|PATH", "variant: pg (default), hybrid, x86like, or a variant file", apply_isa, true}, OPT_ISA},
    {{"--mem", "WORDS", "the program's memory size in words (default 1048576)", apply_mem, false}, OPT_MEM},
    {{"--max-steps", "N", "stop after N steps of the program (default 10000000000)", apply_max_steps,
      false}, OPT_MAX_STEPS},
    {{"--max-real-steps", "N", "stop after N steps of the real machine, all levels' work together "
      "(default 10000000000)", apply_max_real_steps, false}, OPT_MAX_REAL_STEPS},
    {{"--input", "FILE", "console input (port 1) from FILE, or - for stdin (run)", apply_input, false}, OPT_INPUT},
    {{"--json", NULL, "print one JSON object instead of the summary", apply_json, false}, OPT_JSON},
    {{"--trace", "traps|insns", "log every trap (or, bare, every instruction) to stderr", apply_trace,
      false}, OPT_TRACE},
    {{"--trace", "traps", "log every trap of the virtualized run to stderr", apply_trace_traps, false},
     OPT_TRACE_TRAPS},
    {{"--trace-file", "FILE", "with --trace: write the trace to FILE instead of stderr",
      apply_trace_file, false}, OPT_TRACE | OPT_TRACE_TRAPS},
    {{"--vmm", "te|hvm|interp|bt|hw|hw-slt|pv", "the C VMM's mode: trap-and-emulate, hybrid, interpreter, "
      "binary translation, hardware assist (with shadow tables, with second-level translation), "
      "paravirtualization (a guest kernel that asks by hcall); alone, run under the C VMM", apply_vmm,
      false}, OPT_VMM},
    {{"--shadow", "trace|rebuild|lazy", "how the C VMM (te) keeps a paging guest's shadow page "
      "tables: trace PTE writes (default), rebuild at each flush, fill lazily", apply_shadow, false},
     OPT_SHADOW},
    {{"--slice", "N", "the C VMM runs each guest N steps a turn, round-robin (default 10000)", apply_slice,
      false}, OPT_SLICE},
    {{"--vms", "N", "under the C VMM alone: N guests running PROGRAM (or give several PROGRAMs)",
     apply_vms, false}, OPT_VMS},
    {{"--out-dir", "DIR", "with several guests: each one's output in DIR/vmK.out, not on stdout",
     apply_out_dir, false}, OPT_OUT_DIR},
    {{"--stack", "SPEC", "run under a stack of monitors from the bottom: c (the C VMM), asm "
     "(programs/vmm), e.g. c,asm,asm", apply_stack, false}, OPT_STACK},
    {{"--depth", "N", "the stack c,asm,...: N monitors (0: the bare machine)", apply_depth, false},
     OPT_STACK},
    {{"--asm-vmm", "FILE", "the asm levels run FILE, an asm VMM's source, instead of programs/vmm/vmm.s "
      "(built in): a lab's vmm.s", apply_asm_vmm, false}, OPT_ASM_VMM},
    {{"-I", "DIR", "look for .include files in DIR after the including file's folder "
      "(repeatable, in order)", apply_include_dir, false}, OPT_INCLUDE},
    {{"--io", "direct|passthrough|split", "how the C VMM gives the disks to its guests: emulated on "
      "partitions (default), whole units handed over, or partitions served to a paravirtual "
      "front end (a ring and one hcall per batch)", apply_io, false}, OPT_IO},
    {{"--no-iommu", NULL, "with --io passthrough: leave the real unit's IOMMU to the guest (unsafe: "
      "the attack suite's escape)", apply_no_iommu, false}, OPT_IO},
    {{"--disk", "FILE", "a disk unit (ISA.md): the first is unit 0, up to 4; FILE is written "
      "through (equiv: each side on a copy)", apply_disk, false}, OPT_DISK},
};
#define NOPTIONS (sizeof run_option_table / sizeof run_option_table[0])

void cli_print_options(FILE *out, const struct cli_option *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", table[i].name, table[i].arg ? " " : "",
                 table[i].arg ? table[i].arg : "");
        fprintf(out, "  %-24s %s\n", left, table[i].help);
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help");
}

/* Whether arg[0..len) names one of the run options (any command's). */
static bool is_run_option(const char *arg, size_t len)
{
    for (size_t k = 0; k < NOPTIONS; k++)
        if (strlen(run_option_table[k].opt.name) == len && strncmp(run_option_table[k].opt.name, arg, len) == 0)
            return true;
    return false;
}

int cli_parse(const struct cli_option *table, size_t n, void *target, int argc, char **argv,
              char **operands, size_t *noperands)
{
    const char *cmd = argv[0];
    char err[CLI_ERROR_SIZE];
    bool only_operands = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_operands || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (!operands) {
                fprintf(stderr, "trapeze %s: unexpected operand '%s' (see trapeze %s --help)\n",
                        cmd, arg, cmd);
                return CLI_EXIT_USAGE;
            }
            operands[(*noperands)++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_operands = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) return 1;
        /* --name=value and --name value */
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct cli_option *opt = NULL;
        for (size_t k = 0; k < n && !opt; k++)
            if (strlen(table[k].name) == name_len && strncmp(table[k].name, arg, name_len) == 0)
                opt = &table[k];
        if (!opt) {
            /* A slip of the fingers, not an option this command refuses. */
            struct suggest sg;
            const size_t dashes = strspn(arg, "-");
            suggest_init_len(&sg, arg + dashes, name_len - dashes);
            for (size_t k = 0; k < n; k++) suggest_offer(&sg, table[k].name + strspn(table[k].name, "-"));
            const char *near = is_run_option(arg, name_len) ? NULL : suggest_best(&sg);
            for (size_t k = 0; k < n && near; k++) /* the name, dashes and all */
                if (near == table[k].name + strspn(table[k].name, "-")) near = table[k].name;
            fprintf(stderr, "trapeze %s: unknown option '%s'%s%s%s (see trapeze %s --help)\n", cmd, arg,
                    near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "", cmd);
            return CLI_EXIT_USAGE;
        }
        const char *value = NULL;
        if (opt->arg) {
            if (eq) value = eq + 1;
            else if (i + 1 < argc) value = argv[++i];
            else {
                fprintf(stderr, "trapeze %s: %s needs a value (%s)\n", cmd, opt->name, opt->arg);
                return CLI_EXIT_USAGE;
            }
        } else if (eq) {
            fprintf(stderr, "trapeze %s: %s takes no value\n", cmd, opt->name);
            return CLI_EXIT_USAGE;
        }
        if (!opt->apply(target, value, err)) {
            /* A message about a file begins with its name: it names the place. */
            if (opt->message_names_place && strncmp(err, value, strlen(value)) == 0)
                fprintf(stderr, "%s\n", err);
            else fprintf(stderr, "trapeze %s: %s: %s\n", cmd, opt->name, err);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

bool options_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end != '\0') return false;
    /* strtoull reads a leading 0 as octal; numbers here are decimal or 0x. */
    if (s[0] == '0' && s[1] != '\0' && s[1] != 'x' && s[1] != 'X') return false;
    *out = v;
    return true;
}

int run_options_parse(struct run_options *o, int argc, char **argv, const char *summary,
                      const char *usage_operands, unsigned accepted)
{
    const char *cmd = argv[0];
    memset(o, 0, sizeof *o);
    o->mem = ISA_DEFAULT_MEMSIZE;
    o->max_steps = RUN_DEFAULT_MAX_STEPS;
    o->max_real_steps = RUN_DEFAULT_MAX_REAL_STEPS;
    o->spec = (struct run_spec){.n = 0, .mode = VMM_TE};
    char err[ERR_SIZE];
    if (!apply_isa(o, "pg", err)) {
        fprintf(stderr, "trapeze %s: %s\n", cmd, err);
        return CLI_EXIT_USAGE;
    }
    struct cli_option table[NOPTIONS];
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS; i++)
        if (run_option_table[i].set & accepted) table[n++] = run_option_table[i].opt;
    o->programs = calloc((size_t)argc, sizeof *o->programs);
    if (!o->programs) {
        fprintf(stderr, "trapeze %s: out of memory\n", cmd);
        return CLI_EXIT_USAGE;
    }
    int rc = cli_parse(table, n, o, argc, argv, o->programs, &o->nprograms);
    if (rc == 1) {
        printf("usage: trapeze %s [options] %s\n\n%s\n\noptions:\n", cmd, usage_operands,
               summary);
        cli_print_options(stdout, table, n);
    }
    if (rc) return rc;
    if ((accepted & OPT_C_BY_DEFAULT) && !o->vmm_given && !o->stack_given)
        o->spec = (struct run_spec){.n = 1, .kind = {RUN_MONITOR_C}, .mode = VMM_TE};
    if (o->vmm_given && !o->stack_given) {
        o->spec = (struct run_spec){.n = 1, .kind = {RUN_MONITOR_C}, .mode = o->vmm_mode};
    } else if (o->vmm_given) {
        if (o->spec.n == 0 || o->spec.kind[0] != RUN_MONITOR_C) {
            char spec[96];
            run_spec_format(&o->spec, spec, sizeof spec);
            fprintf(stderr, "trapeze %s: --vmm sets the C VMM's mode, and the stack '%s' has no C "
                            "VMM (c)\n", cmd, spec);
            return CLI_EXIT_USAGE;
        }
        o->spec.mode = o->vmm_mode;
    }
    if (o->shadow_given) {
        if (o->spec.n == 0 || o->spec.kind[0] != RUN_MONITOR_C ||
            (o->spec.mode != VMM_TE && o->spec.mode != VMM_HW && o->spec.mode != VMM_PV)) {
            fprintf(stderr, "trapeze %s: --shadow is for the C VMM in te, hw or pv (--vmm te, or a stack "
                            "that starts with c)\n", cmd);
            return CLI_EXIT_USAGE;
        }
        o->spec.shadow = o->shadow;
    }
    if (o->slice) {
        if (o->spec.n == 0 || o->spec.kind[0] != RUN_MONITOR_C) {
            fprintf(stderr, "trapeze %s: --slice is for the C VMM's scheduler (--vmm MODE, or a stack that "
                            "starts with c)\n", cmd);
            return CLI_EXIT_USAGE;
        }
        o->spec.slice = o->slice;
    }
    if (o->asm_vmm) {
        bool asm_level = false;
        for (unsigned i = 0; i < o->spec.n; i++) asm_level |= o->spec.kind[i] == RUN_MONITOR_ASM;
        if (!asm_level) {
            fprintf(stderr, "trapeze %s: --asm-vmm is the source of the asm levels, and the run has none "
                            "(--stack c,asm, --depth 2)\n", cmd);
            return CLI_EXIT_USAGE;
        }
    }
    const bool c_alone = o->spec.n == 1 && o->spec.kind[0] == RUN_MONITOR_C;
    if ((o->vms || o->out_dir) && !c_alone) {
        fprintf(stderr, "trapeze %s: %s needs the C VMM alone (--vmm MODE)\n", cmd,
                o->vms ? "--vms" : "--out-dir");
        return CLI_EXIT_USAGE;
    }
    if (o->trace_file && o->trace == TRACE_NONE) {
        fprintf(stderr, "trapeze %s: --trace-file names where --trace writes: give --trace too\n", cmd);
        return CLI_EXIT_USAGE;
    }
    if (o->no_iommu && o->io_model != VMM_IO_PASSTHROUGH) {
        fprintf(stderr, "trapeze %s: --no-iommu is for --io passthrough\n", cmd);
        return CLI_EXIT_USAGE;
    }
    if (o->trace == TRACE_INSNS && o->spec.n > 0) {
        fprintf(stderr, "trapeze %s: --trace insns is for the bare machine (use --trace traps)\n", cmd);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

void run_options_describe(const struct run_options *o, char *buf, size_t size)
{
    char spec[96];
    run_spec_format(&o->spec, spec, sizeof spec);
    const bool c_alone = o->spec.n == 1 && o->spec.kind[0] == RUN_MONITOR_C;
    const bool has_c = o->spec.n > 0 && o->spec.kind[0] == RUN_MONITOR_C;
    if (o->spec.n == 0) snprintf(buf, size, "the bare machine");
    else if (c_alone) snprintf(buf, size, "--vmm %s", vmm_mode_name(o->spec.mode));
    else if (has_c && o->spec.mode != VMM_TE)
        snprintf(buf, size, "--stack %s --vmm %s", spec, vmm_mode_name(o->spec.mode));
    else snprintf(buf, size, "--stack %s", spec);
    if (has_c && o->spec.shadow != VMM_SHADOW_TRACE) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, " --shadow %s", vmm_shadow_policy_name(o->spec.shadow));
    }
    if (o->io_given) {
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, " --io %s%s", io_model_names[o->io_model],
                 o->no_iommu ? " --no-iommu" : "");
    }
}

FILE *run_options_open_trace(const struct run_options *o, const char *cmd)
{
    if (!o->trace_file) return stderr;
    FILE *f = fopen(o->trace_file, "w");
    if (!f) fprintf(stderr, "trapeze %s: --trace-file: cannot write '%s': %s\n", cmd, o->trace_file,
                    strerror(errno));
    return f;
}

bool run_options_close_trace(const struct run_options *o, const char *cmd, FILE *f, bool written)
{
    if (f == stderr || !f) return written;
    if (fclose(f) != 0) written = false;
    if (!written) fprintf(stderr, "trapeze %s: --trace-file: writing '%s' failed\n", cmd, o->trace_file);
    return written;
}

void run_options_free(struct run_options *o)
{
    free(o->input);
    free(o->programs);
    free(o->include_dirs);
    for (unsigned k = 0; k < o->ndisks; k++) disk_file_close(&o->disks[k]);
    o->ndisks = 0;
    o->input = NULL;
    o->programs = NULL;
    o->include_dirs = NULL;
}
