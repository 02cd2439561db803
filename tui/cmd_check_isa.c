/*
 * cmd_check_isa.c: `trapeze check-isa`, the Popek-Goldberg conditions of a
 * variant decided by experiment (isa/check/check.h does the experiments).
 *
 *   trapeze check-isa [--isa V] [--json|--markdown] [--seed N] [--states N]
 *   trapeze check-isa --explain MNEMONIC [--isa V] [--json]
 *   trapeze check-isa --replay WITNESS [--isa V]
 *   trapeze check-isa --confirm V
 *
 * Exit status (cli.h): the table exits 0 when Theorem 1 holds and
 * CLI_EXIT_DIFFERENT when it does not; --explain exits 0; --replay exits 0
 * when the witness reproduces, CLI_EXIT_DIFFERENT when it does not;
 * --confirm exits CLI_EXIT_DIFFERENT when a VMM that a holding theorem
 * vouches for is not equivalent; bad input of any kind exits CLI_EXIT_USAGE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../isa/check/check.h"
#include "cli.h"
#include "json.h"
#include "options.h"

#define MAX_STATES 1000000u

struct check_cli {
    const char *isa;           /* as given, for the replay lines */
    struct isa_variant variant;
    struct check_options opt;
    enum { OUT_TABLE, OUT_JSON, OUT_MARKDOWN } format;
    const char *explain;       /* mnemonic, or NULL */
    const char *replay;        /* witness line, or NULL */
    bool confirm;              /* --confirm: run guests under the VMMs */
};

/* ---- Options -------------------------------------------------------------- */

#define ERR_SIZE CLI_ERROR_SIZE


static bool apply_isa(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    if (!options_load_variant(value, &c->variant, err)) return false;
    c->isa = value;
    return true;
}

static bool apply_json(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    (void)value, (void)err;
    c->format = OUT_JSON;
    return true;
}

static bool apply_markdown(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    (void)value, (void)err;
    c->format = OUT_MARKDOWN;
    return true;
}

static bool apply_seed(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    if (options_parse_u64(value, &c->opt.seed)) return true;
    snprintf(err, ERR_SIZE, "expected a number, got '%.100s'", value);
    return false;
}

static bool apply_states(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    uint64_t n;
    if (options_parse_u64(value, &n) && n <= MAX_STATES) {
        c->opt.states = (unsigned)n;
        return true;
    }
    snprintf(err, ERR_SIZE, "expected a number of states from 0 to %u, got '%.100s'", MAX_STATES,
             value);
    return false;
}

static bool apply_explain(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    if (!isa_op_by_mnemonic(value)) {
        snprintf(err, ERR_SIZE, "unknown instruction '%.100s'", value);
        return false;
    }
    c->explain = value;
    return true;
}

static bool apply_confirm(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    c->confirm = true;
    return apply_isa(c, value, err);
}

static bool apply_replay(void *target, const char *value, char *err)
{
    struct check_cli *c = target;
    (void)err;
    c->replay = value;
    return true;
}

static const struct cli_option option_table[] = {
    {"--isa", "NAME|PATH", "variant: pg (default), hybrid, x86like, or a variant file", apply_isa, true},
    {"--json", NULL, "print one JSON object", apply_json, false},
    {"--markdown", NULL, "print the table and the theorems as Markdown", apply_markdown, false},
    {"--seed", "N", "seed of the random states (default 1); a seed gives one report", apply_seed, false},
    {"--states", "N", "random states per instruction, besides the edge cases (default 600)", apply_states, false},
    {"--explain", "MNEMONIC", "show the witnesses behind one instruction's verdict", apply_explain, false},
    {"--replay", "WITNESS", "run a witness line again (printed by --explain)", apply_replay, false},
    {"--confirm", "NAME|PATH", "run guests that depend on each sensitive instruction of this\n"
     "                           variant bare and under the te, hvm, interp, bt, hw and\n"
     "                           hw-slt VMMs", apply_confirm, true},
};
#define NOPTIONS (sizeof option_table / sizeof option_table[0])

static void print_help(void)
{
    printf("usage: trapeze check-isa [options]\n\n"
           "Decides the Popek-Goldberg conditions of a variant by experiment: every\n"
           "instruction is executed from many machine states and classified as\n"
           "privileged, control-sensitive, behaviour-sensitive, user-sensitive or\n"
           "innocuous; then Theorems 1 (trap-and-emulate VMM), 2 (recursive\n"
           "virtualization) and 3 (hybrid VMM) are checked.\n\noptions:\n");
    cli_print_options(stdout, option_table, NOPTIONS);
    printf("\nexit status: 0 when Theorem 1 holds, %d when it does not (--replay: when the\n"
           "witness does not reproduce; --confirm: when a VMM that a holding theorem\n"
           "vouches for is not equivalent), %d on bad input.\n",
           CLI_EXIT_DIFFERENT, CLI_EXIT_USAGE);
}

/* Returns 0 when c is ready, 1 after --help, 2 after an error. */
static int parse_options(struct check_cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->opt.seed = CHECK_DEFAULT_SEED;
    c->opt.states = CHECK_DEFAULT_STATES;
    char err[ERR_SIZE];
    if (!apply_isa(c, "pg", err)) {
        fprintf(stderr, "trapeze check-isa: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    int rc = cli_parse(option_table, NOPTIONS, c, argc, argv, NULL, NULL);
    if (rc == 1) print_help();
    if (rc) return rc;
    if ((c->explain != NULL) + (c->replay != NULL) + c->confirm > 1) {
        fprintf(stderr, "trapeze check-isa: --explain, --replay and --confirm cannot be combined\n");
        return CLI_EXIT_USAGE;
    }
    if (c->confirm && c->format != OUT_TABLE) {
        fprintf(stderr, "trapeze check-isa: --confirm prints text only\n");
        return CLI_EXIT_USAGE;
    }
    if (c->replay && c->format == OUT_MARKDOWN) {
        fprintf(stderr, "trapeze check-isa: --replay prints text only\n");
        return CLI_EXIT_USAGE;
    }
    if (c->explain && c->format == OUT_MARKDOWN) {
        fprintf(stderr, "trapeze check-isa: --explain prints text or --json\n");
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---- Words used by every format --------------------------------------------- */

static void aspects_text(const struct check_row *row, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++)
        if (row->aspects & 1u << a)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                                    check_aspect_name(a));
    if (len == 0) snprintf(buf, size, "-");
}

/* The instructions that make Theorem `which` (1, 2 or 3) fail. */
static bool is_offender(const struct check_row *row, int which)
{
    switch (which) {
    case 1: return row->critical;
    case 2: return row->critical || row->timing_offender;
    default: return row->user_critical;
    }
}

static void names_text(const struct check_report *r, bool (*pick)(const struct check_row *),
                       char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->nrows && len < size; i++)
        if (pick(&r->rows[i]))
            len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                                    r->rows[i].op->mnemonic);
}

static bool pick_critical(const struct check_row *row) { return row->critical; }
static bool pick_user_critical(const struct check_row *row) { return row->user_critical; }
static bool pick_timing(const struct check_row *row) { return row->timing_offender; }

static const char *const theorem_title[4] = {
    NULL,
    "every sensitive instruction is privileged (a trap-and-emulate VMM exists)",
    "Theorem 1, and no timing a VMM cannot hide (recursively virtualizable)",
    "every user-sensitive instruction is privileged (a hybrid VMM exists)",
};

static bool theorem_holds(const struct check_report *r, int which)
{
    return which == 1 ? r->theorem1 : which == 2 ? r->theorem2 : r->theorem3;
}

/* Why it fails, naming the offending instructions. */
static void theorem_reason(const struct check_report *r, int which, char *buf, size_t size)
{
    char names[512], timing[512];
    switch (which) {
    case 1:
        names_text(r, pick_critical, names, sizeof names);
        snprintf(buf, size, "sensitive but not privileged: %s", names);
        break;
    case 3:
        names_text(r, pick_user_critical, names, sizeof names);
        snprintf(buf, size, "user-sensitive but not privileged: %s", names);
        break;
    default:
        names_text(r, pick_critical, names, sizeof names);
        names_text(r, pick_timing, timing, sizeof timing);
        snprintf(buf, size, "%s%s%s%s%s", r->theorem1 ? "" : "Theorem 1 fails (", names,
                 r->theorem1 ? "" : ")", timing[0] ? "; timing dependent, not hidden by a trap: " : "",
                 timing);
    }
}

static const char *yes_no(bool b) { return b ? "yes" : "no"; }
static const char *yes_dash(bool b) { return b ? "yes" : "-"; }

/* ---- Table and Markdown --------------------------------------------------------- */

static void print_table(const struct check_cli *c, const struct check_report *r)
{
    unsigned long runs = 0;
    for (size_t i = 0; i < r->nrows; i++) runs += r->rows[i].user_states + r->rows[i].super_states;
    printf("variant %s: %zu instructions, %lu runs (edge cases + %u random states each, seed %llu)\n\n",
           r->variant, r->nrows, runs, r->options.states, (unsigned long long)r->options.seed);
    printf("%-10s %-10s %-8s %-24s %-5s %s\n", "insn", "privileged", "control", "behaviour",
           "user", "verdict");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct check_row *row = &r->rows[i];
        char aspects[64];
        aspects_text(row, aspects, sizeof aspects);
        printf("%-10s %-10s %-8s %-24s %-5s %s\n", row->op->mnemonic, yes_no(row->privileged),
               yes_dash(row->control), aspects, yes_dash(row->user), check_row_verdict(row));
    }
    printf("\n");
    for (int t = 1; t <= 3; t++) {
        char reason[1200];
        printf("Theorem %d  %-6s %s\n", t, theorem_holds(r, t) ? "holds" : "FAILS", theorem_title[t]);
        if (!theorem_holds(r, t)) {
            theorem_reason(r, t, reason, sizeof reason);
            printf("                  %s\n", reason);
        }
    }
    for (size_t i = 0; i < r->nrows; i++)
        if (r->rows[i].critical) {
            printf("\nwhy: trapeze check-isa --isa %s --explain %s\n", c->isa, r->rows[i].op->mnemonic);
            break;
        }
}

static void print_markdown(const struct check_report *r)
{
    printf("## Variant `%s`\n\n", r->variant);
    printf("| instruction | privileged | control-sensitive | behaviour-sensitive | user-sensitive | verdict |\n");
    printf("|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct check_row *row = &r->rows[i];
        char aspects[64];
        aspects_text(row, aspects, sizeof aspects);
        printf("| `%s` | %s | %s | %s | %s | %s |\n", row->op->mnemonic, yes_no(row->privileged),
               yes_dash(row->control), aspects, yes_dash(row->user), check_row_verdict(row));
    }
    printf("\n");
    for (int t = 1; t <= 3; t++) {
        char reason[1200];
        theorem_reason(r, t, reason, sizeof reason);
        printf("- **Theorem %d %s**: %s%s%s\n", t, theorem_holds(r, t) ? "holds" : "fails",
               theorem_title[t], theorem_holds(r, t) ? "" : ". ",
               theorem_holds(r, t) ? "" : reason);
    }
    printf("\nSeed %llu, %u random states per instruction besides the edge cases.\n",
           (unsigned long long)r->options.seed, r->options.states);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_state(struct json *j, const char *key, const struct check_state *s)
{
    struct psw p = check_state_psw(s);
    char text[128];
    json_object_begin(j, key);
    json_uint(j, "insn", s->insn);
    json_string(j, "disassembly", isa_disassemble(s->insn, s->pc, NULL, NULL, text, sizeof text));
    json_uint(j, "M", s->mode);
    json_uint(j, "IE", s->ie);
    json_uint(j, "TP", s->tp);
    json_uint(j, "PG", !!(p.flags & PSW_PG));
    json_uint(j, "loc", s->loc);
    json_uint(j, "base", p.base);
    json_uint(j, "bound", p.bound);
    json_uint(j, "timer", s->timer);
    json_uint(j, "pc", s->pc);
    json_uint(j, "mem", s->mem_seed);
    json_uint(j, "in", s->input);
    json_uint(j, "ctrl", s->ctrl);
    json_array_begin(j, "regs");
    for (unsigned r = 0; r < ISA_NREGS; r++) json_uint(j, NULL, s->reg[r]);
    json_array_end(j);
    json_object_end(j);
}

/* One witness; with detail, its states and outcomes too. */
static void json_witness(struct json *j, const struct isa_variant *v, const char *property,
                         const struct check_witness *w, bool detail)
{
    char line[1024];
    json_object_begin(j, NULL);
    json_string(j, "property", property);
    json_string(j, "kind", check_witness_kind_name(w));
    json_string(j, "what", w->what);
    json_string(j, "replay", check_witness_format(w, line, sizeof line));
    if (detail) {
        struct check_outcome *o = malloc(sizeof *o);
        const struct check_state *states[2] = {&w->s1, w->kind == CHECK_W_PAIR ? &w->s2 : NULL};
        json_array_begin(j, "states");
        for (int k = 0; k < 2 && states[k]; k++) {
            json_object_begin(j, NULL);
            json_state(j, "state", states[k]);
            if (o && check_run(v, states[k], o))
                json_string(j, "outcome", check_outcome_describe(states[k], o, line, sizeof line));
            json_object_end(j);
        }
        json_array_end(j);
        free(o);
    }
    json_object_end(j);
}

static void json_row(struct json *j, const struct isa_variant *v, const struct check_row *row,
                     bool detail)
{
    json_object_begin(j, NULL);
    json_string(j, "mnemonic", row->op->mnemonic);
    json_uint(j, "opcode", row->op->opcode);
    json_bool(j, "privileged", row->privileged);
    json_bool(j, "control_sensitive", row->control);
    json_bool(j, "behavior_sensitive", row->behavior);
    json_array_begin(j, "behavior_aspects");
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++)
        if (row->aspects & 1u << a) json_string(j, NULL, check_aspect_name(a));
    json_array_end(j);
    json_bool(j, "user_sensitive", row->user);
    json_bool(j, "timing_dependent", row->timing);
    json_string(j, "verdict", check_row_verdict(row));
    json_uint(j, "user_states", row->user_states);
    json_uint(j, "supervisor_states", row->super_states);
    json_object_begin(j, "pairs");
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++)
        json_uint(j, check_aspect_name(a), row->pairs[a]);
    json_object_end(j);
    json_array_begin(j, "witnesses");
    if (row->w.priv.found)
        json_witness(j, v, row->privileged ? "privileged" : "not-privileged", &row->w.priv, detail);
    if (row->w.control.found) json_witness(j, v, "control-sensitive", &row->w.control, detail);
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++)
        if (row->w.behavior[a].found)
            json_witness(j, v, "behavior-sensitive", &row->w.behavior[a], detail);
    if (row->w.user.found) json_witness(j, v, "user-sensitive", &row->w.user, detail);
    if (row->w.timing.found) json_witness(j, v, "timing-dependent", &row->w.timing, detail);
    json_array_end(j);
    json_object_end(j);
}

static void json_theorems(struct json *j, const struct check_report *r)
{
    static const char *const keys[4] = {NULL, "1", "2", "3"};
    json_object_begin(j, "theorems");
    for (int t = 1; t <= 3; t++) {
        json_object_begin(j, keys[t]);
        json_string(j, "statement", theorem_title[t]);
        json_bool(j, "holds", theorem_holds(r, t));
        json_array_begin(j, "offenders");
        for (size_t i = 0; i < r->nrows; i++)
            if (is_offender(&r->rows[i], t)) json_string(j, NULL, r->rows[i].op->mnemonic);
        json_array_end(j);
        json_object_end(j);
    }
    json_object_end(j);
}

static void print_json(const struct check_cli *c, const struct check_report *r,
                       const struct check_row *only)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j, NULL);
    json_string(&j, "variant", r->variant);
    json_string(&j, "isa", c->isa);
    json_uint(&j, "seed", r->options.seed);
    json_uint(&j, "states", r->options.states);
    if (only) {
        json_array_begin(&j, "instructions");
        json_row(&j, &c->variant, only, true);
        json_array_end(&j);
    } else {
        json_array_begin(&j, "instructions");
        for (size_t i = 0; i < r->nrows; i++) json_row(&j, &c->variant, &r->rows[i], false);
        json_array_end(&j);
        json_theorems(&j, r);
    }
    json_object_end(&j);
    json_finish(&j);
}

/* ---- --explain and --replay -------------------------------------------------------- */

/* The replay command, with the variant quoted when it is a path. */
static void print_replay_line(const struct check_cli *c, const struct check_witness *w)
{
    char line[1024];
    check_witness_format(w, line, sizeof line);
    bool quote = strpbrk(c->isa, " '\"$\\") != NULL;
    printf("    replay:      trapeze check-isa --isa %s%s%s --replay '%s'\n", quote ? "'" : "",
           c->isa, quote ? "'" : "", line);
}

/* Prints a witness: the instruction, the state(s), the outcome(s). */
static void print_witness(const struct check_cli *c, const struct check_witness *w)
{
    char text[1024];
    struct check_outcome *o = malloc(sizeof *o);
    const struct check_state *states[2] = {&w->s1, w->kind == CHECK_W_PAIR ? &w->s2 : NULL};
    isa_disassemble(w->s1.insn, w->s1.pc, NULL, NULL, text, sizeof text);
    printf("    instruction: %s  (0x%08x at virtual 0x%x)\n", text, w->s1.insn, w->s1.pc);
    check_operands_describe(&w->s1, text, sizeof text);
    if (text[0]) printf("    operands:    %s\n", text);
    for (int k = 0; k < 2 && states[k]; k++) {
        const char *label = states[1] ? (k ? "state B:    " : "state A:    ") : "state:      ";
        check_state_describe(states[k], text, sizeof text);
        printf("    %s %s\n", label, text);
    }
    for (int k = 0; k < 2 && states[k] && o; k++) {
        const char *label = states[1] ? (k ? "outcome B:  " : "outcome A:  ") : "outcome:    ";
        if (check_run(&c->variant, states[k], o))
            printf("    %s %s\n", label, check_outcome_describe(states[k], o, text, sizeof text));
    }
    printf("    %s %s\n", w->kind == CHECK_W_PAIR ? "differs:    " : "shows:      ", w->what);
    print_replay_line(c, w);
    free(o);
}

static int explain(const struct check_cli *c, const struct check_report *r)
{
    const struct check_row *row = check_report_row(r, c->explain);
    if (c->format == OUT_JSON) {
        print_json(c, r, row);
        return CLI_EXIT_OK;
    }
    printf("%s on variant %s: %s\n", row->op->mnemonic, r->variant, check_row_verdict(row));
    printf("  %s: %s\n", row->op->mnemonic, row->op->effect);
    unsigned pairs = 0;
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++) pairs += row->pairs[a];
    printf("  run from %u user and %u supervisor states; %u pairs compared "
           "(mode %u, location %u, ie %u, timer %u)\n\n",
           row->user_states, row->super_states, pairs, row->pairs[CHECK_MODE],
           row->pairs[CHECK_LOCATION], row->pairs[CHECK_IE], row->pairs[CHECK_TIMER]);

    printf("privileged: %s\n", yes_no(row->privileged));
    if (row->w.priv.found) {
        printf("  %s\n", row->privileged
                             ? "traps PRIV from every user state and from no supervisor state, e.g."
                             : "witness:");
        print_witness(c, &row->w.priv);
    }
    printf("control-sensitive: %s\n", yes_no(row->control));
    if (row->control) print_witness(c, &row->w.control);
    printf("behaviour-sensitive: %s\n", yes_no(row->behavior));
    for (enum check_aspect a = 0; a < CHECK_ASPECTS; a++) {
        if (!(row->aspects & 1u << a)) continue;
        static const char *const aspect_text[CHECK_ASPECTS] = {"the mode", "the location (relocation)",
                                                               "IE", "the timer"};
        printf("  on %s: two states that differ only in it, with equal virtual contents\n",
               aspect_text[a]);
        print_witness(c, &row->w.behavior[a]);
    }
    printf("user-sensitive: %s\n", yes_no(row->user));
    if (row->user) {
        printf("  a sensitivity seen from user mode:\n");
        print_witness(c, &row->w.user);
    }
    printf("timing-dependent: %s%s\n", yes_no(row->timing),
           row->timing_offender ? " (not hidden by trapping: breaks Theorem 2)" : "");
    if (row->timing) print_witness(c, &row->w.timing);
    printf("\nverdict: %s", check_row_verdict(row));
    if (row->user_critical) printf(" (sensitive from user mode and not privileged: breaks Theorems 1 and 3)\n");
    else if (row->critical) printf(" (sensitive and not privileged: breaks Theorem 1)\n");
    else if (row->control || row->behavior) printf(" (sensitive and privileged: the VMM emulates it)\n");
    else printf("\n");
    return CLI_EXIT_OK;
}

static int replay(const struct check_cli *c)
{
    struct check_witness w;
    char err[CHECK_TEXT_SIZE], what[CHECK_TEXT_SIZE];
    if (!check_witness_parse(c->replay, &w, err)) {
        /* "column N: message" becomes "--replay:1:N: error: message". */
        int col = 1, skip = 0;
        if (sscanf(err, "column %d: %n", &col, &skip) < 1 || skip == 0) skip = 0;
        fprintf(stderr, "trapeze check-isa: --replay:1:%d: error: %s\n", col, err + skip);
        return CLI_EXIT_USAGE;
    }
    printf("replaying a %s witness on variant %s\n", check_witness_kind_name(&w), c->variant.name);
    bool ok = check_replay(&c->variant, &w, what);
    snprintf(w.what, sizeof w.what, "%s", what);
    print_witness(c, &w);
    printf("%s: %s\n", ok ? "reproduced" : "not reproduced", what);
    return ok ? CLI_EXIT_OK : CLI_EXIT_DIFFERENT;
}

/* ---- --confirm ------------------------------------------------------------------- */

/* Which theorem vouches for a VMM: te needs Theorem 1, hvm Theorem 3;
 * interp is always equivalent, and so are bt (it rewrites every critical
 * instruction), hw (the hardware makes every sensitive instruction
 * exit, or read the virtual PSW from its shadow) and hw-slt (the guest's
 * PSW is the real one in guest mode: its sensitive instructions see it). */
static bool vmm_guaranteed(const struct check_report *r, unsigned k, const char **why)
{
    switch (k) {
    case 0: *why = r->theorem1 ? "trap-and-emulate; Theorem 1 holds" : "trap-and-emulate; Theorem 1 fails"; return r->theorem1;
    case 1: *why = r->theorem3 ? "hybrid; Theorem 3 holds" : "hybrid; Theorem 3 fails"; return r->theorem3;
    case 2: *why = "full interpretation, always possible"; return true;
    case 3: *why = "binary translation: critical instructions rewritten, always possible"; return true;
    case 4: *why = "hardware assist: every sensitive instruction exits or reads the shadow"; return true;
    default: *why = "hardware assist, second-level translation: the guest runs on its own PSW"; return true;
    }
}

static int confirm(const struct check_cli *c, const struct check_report *r)
{
    struct check_confirm_row *rows = calloc(r->nrows, sizeof *rows);
    if (!rows) {
        fprintf(stderr, "trapeze check-isa: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    size_t n = check_confirm(&c->variant, r, rows);
    printf("variant %s: each sensitive instruction in small guests that depend on it,\n"
           "run on the bare machine and under each VMM (equivalent = same registers, PSW,\n"
           "memory, console output, steps and stop)\n\n", r->variant);
    printf("%-10s %-14s %-6s", "insn", "verdict", "guests");
    for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++)
        printf(k + 1 < CHECK_CONFIRM_VMMS ? " %-11s" : " %s", check_confirm_vmm_name(k));
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        printf("%-10s %-14s %-6u", rows[i].op->mnemonic, check_row_verdict(rows[i].row), rows[i].guests);
        for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++)
            printf(k + 1 < CHECK_CONFIRM_VMMS ? " %-11s" : " %s",
                   !rows[i].ran[k] ? "not run" : rows[i].equivalent[k] ? "equivalent" : "DIFFERS");
        printf("\n");
    }
    bool consistent = true;
    for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++) {
        const char *why;
        bool guaranteed = vmm_guaranteed(r, k, &why);
        char names[512];
        size_t len = 0;
        bool ran = false;
        names[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            ran |= rows[i].ran[k];
            if (rows[i].ran[k] && !rows[i].equivalent[k])
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                        rows[i].op->mnemonic);
        }
        printf("\n%s (%s): ", check_confirm_vmm_name(k), why);
        if (!ran && n) printf("not run (the VMM could not be created)\n");
        else if (!names[0]) printf("equivalent on every guest%s\n", guaranteed ? ", as it must be" : "");
        else {
            printf("not equivalent on %s%s\n", names,
                   guaranteed ? ", though it must be: a VMM bug" : ", as the theory allows");
            if (guaranteed) consistent = false;
        }
        for (size_t i = 0; i < n; i++) {
            if (!rows[i].ran[k] || rows[i].equivalent[k]) continue;
            char st[1024];
            printf("  %-9s %s\n  %-9s guest state %s\n", rows[i].op->mnemonic, rows[i].what[k], "",
                   check_state_format(&rows[i].guest[k], st, sizeof st));
        }
    }
    /* pv's guests are written for it, and these are not: it would refuse
     * every one before its first step, which confirms nothing. */
    printf("\npv (paravirtualization: the kernel asks by hcall): not run: its guests are paravirtual\n"
           "kernels (hcall PV_HELLO first) and pv refuses these; programs/toyos/toyos_pv*.s are its\n"
           "equivalence tests\n");
    if (n == 0) printf("\nno sensitive instruction: nothing to confirm\n");
    free(rows);
    return consistent ? CLI_EXIT_OK : CLI_EXIT_DIFFERENT;
}

int cmd_check_isa(int argc, char **argv)
{
    struct check_cli c;
    int rc = parse_options(&c, argc, argv);
    if (rc) return rc == 1 ? CLI_EXIT_OK : rc;
    if (c.replay) return replay(&c);

    struct check_report r;
    if (!check_classify(&c.variant, &c.opt, &r)) {
        fprintf(stderr, "trapeze check-isa: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    if (c.explain) rc = explain(&c, &r);
    else if (c.confirm) rc = confirm(&c, &r);
    else {
        switch (c.format) {
        case OUT_TABLE: print_table(&c, &r); break;
        case OUT_JSON: print_json(&c, &r, NULL); break;
        case OUT_MARKDOWN: print_markdown(&r); break;
        }
        rc = r.theorem1 ? CLI_EXIT_OK : CLI_EXIT_DIFFERENT;
    }
    check_report_free(&r);
    return rc;
}
