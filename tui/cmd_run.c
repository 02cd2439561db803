/*
 * cmd_run.c: `trapeze run`, a program on the bare machine or under a stack
 * of monitors (--vmm, --stack, --depth), or several guests of the C VMM.
 *
 * Every kind of run is one run (vmm/run/run.h).  Under the C VMM alone
 * (--vmm MODE) several guests may run (--vms N copies, or several
 * PROGRAMs): each gets the whole --mem, the whole --input and its own
 * --max-steps budget; guest K's console output goes to stdout with each
 * line prefixed "[vmK] " when there are several guests (to stdout
 * unchanged for one), or to DIR/vmK.out with --out-dir.
 *
 * The summary gives the program's run as a bare run would report it, then
 * one line per level (instructions, traps, emulated, reflected,
 * amplification) when there are monitors; --json gives the same as one
 * object: the run schema, "stack", "levels", "real" and, under the C VMM,
 * "vmm"; for several guests {"vmm": {...}, "status", "guests": [...]}.
 * The exit status is that of the first guest that did not halt with
 * status 0, else 0 (cli.h).  A bare run whose program relied on a changed
 * page-table entry without tlbflush gets one warning line on stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../assembler/asm.h"
#include "../machine/machine.h"
#include "../vmm/run/log.h"
#include "../vmm/run/run.h"
#include "../vmm/run/trace.h"
#include "cli.h"
#include "json.h"
#include "options.h"
#include "report.h"

/* ---- Tracing ------------------------------------------------------------------------- */

/* ---- Where each guest's console output goes ------------------------------------------------ */

struct guest_sink {
    unsigned index;
    FILE *file;      /* --out-dir: its own file            */
    bool prefixed;   /* several guests on stdout: "[vmK] " */
    char line[256];  /* the current line, when prefixed     */
    size_t len;
};

static void flush_line(struct guest_sink *s)
{
    printf("[vm%u] %.*s", s->index, (int)s->len, s->line);
    s->len = 0;
}

static void guest_byte(void *ctx, uint8_t byte)
{
    struct guest_sink *s = ctx;
    if (s->file) {
        fputc(byte, s->file);
        return;
    }
    if (!s->prefixed) {
        putchar(byte);
        if (byte == '\n') fflush(stdout);
        return;
    }
    s->line[s->len++] = (char)byte;
    if (byte == '\n' || s->len == sizeof s->line) {
        flush_line(s);
        fflush(stdout);
    }
}

/* ---- Reports ------------------------------------------------------------------------------------ */

static void level_table(FILE *out, const struct run *r, unsigned g, const char *prefix)
{
    fprintf(out, "%slevel  kind    %14s %10s %10s %10s %13s\n", prefix, "instructions", "traps",
            "emulated", "reflected", "amplification");
    for (unsigned L = 0; L < run_level_count(r); L++) {
        struct run_level_counts k;
        run_level_counts(r, g, L, &k);
        fprintf(out, "%s%5u  %-6s  %14" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %13.2f\n",
                prefix, L, k.kind, k.instructions, k.traps, k.emulated, k.reflected, k.amplification);
    }
}

/* "trapeze: WHAT: N (name k, ...)": counts[first..end), the zero ones left out. */
static void counts_line(FILE *out, const char *prefix, const char *what, const uint64_t *counts, unsigned first,
                        unsigned end, const char *(*name)(unsigned))
{
    uint64_t total = 0;
    for (unsigned x = first; x < end; x++) total += counts[x];
    fprintf(out, "%strapeze: %s: %" PRIu64, prefix, what, total);
    const char *sep = " (";
    for (unsigned x = first; x < end; x++) {
        if (!counts[x]) continue;
        fprintf(out, "%s%s %" PRIu64, sep, name(x), counts[x]);
        sep = ", ";
    }
    fprintf(out, "%s\n", total ? ")" : "");
}

/* The C VMM's own line, when level 0 is the C VMM. */
static void vmm_summary(FILE *out, const struct run *r, unsigned g, const char *prefix)
{
    const struct run_spec *spec = run_spec_of(r);
    if (spec->n == 0 || spec->kind[0] != RUN_MONITOR_C) return;
    struct run_level_counts k;
    run_level_counts(r, g, 0, &k);
    fprintf(out,
            "%strapeze: vmm %s: %" PRIu64 " direct, %" PRIu64 " emulated (%" PRIu64
            " interpreted), %" PRIu64 " reflected, %" PRIu64 " vmm entries; efficiency %.3f%%\n",
            prefix, vmm_mode_name(spec->mode), k.direct, k.emulated, k.interpreted, k.reflected,
            k.entries, 100.0 * k.efficiency);
    const struct vmm_bt_stats *bt = run_bt_stats(r, g);
    if (bt)
        fprintf(out,
                "%strapeze: binary translation: %" PRIu64 " blocks (%" PRIu64
                " instructions) translated, %" PRIu64 " executed, %" PRIu64 " inline, %" PRIu64
                " callouts, %" PRIu64 " chain hits, %" PRIu64 " lookups, %" PRIu64
                " invalidations, %" PRIu64 " flushes\n",
                prefix, bt->blocks, bt->insns, bt->executed, bt->inlined, bt->callouts,
                bt->chain_hits, bt->lookups, bt->invalidations, bt->flushes);
    const uint64_t *calls = run_pv_calls(r, g);
    if (calls) counts_line(out, prefix, "hypercalls", calls, 0, PV_HCALL_COUNT, vmm_pv_call_name);
    const uint64_t *exits = run_vmm_exits(r, g);
    if (exits) counts_line(out, prefix, "vmm exits", exits, 1, EXIT_REASON_COUNT, isa_exit_reason_name);
    enum vmm_shadow_policy policy;
    const struct vmm_shadow_stats *sh = run_shadow_stats(r, g, &policy);
    if (!sh || sh->rebuilds + sh->fills + sh->hidden_faults + sh->true_faults == 0) return;
    fprintf(out,
            "%strapeze: shadow page tables (%s): %" PRIu64 " hidden faults, %" PRIu64
            " true faults, %" PRIu64 " PTE writes, %" PRIu64 " rebuilds, %" PRIu64 " fills, %" PRIu64
            " drops, %" PRIu64 " verifies, %" PRIu64 " interpreted; %" PRIu64 " of %" PRIu64
            " shadow words in use\n",
            prefix, vmm_shadow_policy_name(policy), sh->hidden_faults, sh->true_faults,
            sh->pte_writes, sh->rebuilds, sh->fills, sh->drops, sh->verifies, sh->interpreted,
            sh->words_in_use, sh->words_reserved);
}

static void shadow_json(struct json *j, const struct run *r, unsigned g)
{
    enum vmm_shadow_policy policy;
    const struct vmm_shadow_stats *sh = run_shadow_stats(r, g, &policy);
    if (!sh) return;
    json_object_begin(j, "shadow");
    json_string(j, "policy", vmm_shadow_policy_name(policy));
    json_uint(j, "hidden_faults", sh->hidden_faults);
    json_uint(j, "true_faults", sh->true_faults);
    json_uint(j, "pte_writes", sh->pte_writes);
    json_uint(j, "rebuilds", sh->rebuilds);
    json_uint(j, "fills", sh->fills);
    json_uint(j, "drops", sh->drops);
    json_uint(j, "verifies", sh->verifies);
    json_uint(j, "interpreted", sh->interpreted);
    json_uint(j, "flushes", sh->flushes);
    json_uint(j, "entries_made", sh->entries_made);
    json_uint(j, "words_written", sh->words_written);
    json_uint(j, "words_in_use", sh->words_in_use);
    json_uint(j, "words_reserved", sh->words_reserved);
    json_object_end(j);
}

static void bt_json(struct json *j, const struct run *r, unsigned g)
{
    const struct vmm_bt_stats *bt = run_bt_stats(r, g);
    if (!bt) return;
    json_object_begin(j, "bt");
    json_uint(j, "blocks", bt->blocks);
    json_uint(j, "instructions", bt->insns);
    json_uint(j, "executed", bt->executed);
    json_uint(j, "inline", bt->inlined);
    json_uint(j, "callouts", bt->callouts);
    json_uint(j, "chain_hits", bt->chain_hits);
    json_uint(j, "lookups", bt->lookups);
    json_uint(j, "invalidations", bt->invalidations);
    json_uint(j, "flushes", bt->flushes);
    json_uint(j, "blocks_live", bt->blocks_live);
    json_object_end(j);
}

/* What a monitor did for the level above: the fields "vmm" and "levels" share. */
static void handling_json(struct json *j, const struct run_level_counts *k)
{
    json_uint(j, "emulated", k->emulated);
    json_uint(j, "interpreted", k->interpreted);
    json_uint(j, "reflected", k->reflected);
}

static void vmm_json(struct json *j, const struct run *r, unsigned g)
{
    const struct run_spec *spec = run_spec_of(r);
    if (spec->n == 0 || spec->kind[0] != RUN_MONITOR_C) return;
    struct run_level_counts k;
    run_level_counts(r, g, 0, &k);
    json_object_begin(j, "vmm");
    json_string(j, "mode", vmm_mode_name(spec->mode));
    json_uint(j, "direct", k.direct);
    handling_json(j, &k);
    json_uint(j, "entries", k.entries);
    json_uint(j, "slices", k.slices);
    json_double(j, "efficiency", k.efficiency);
    const uint64_t *exits = run_vmm_exits(r, g);
    if (exits) {
        uint64_t total = 0;
        json_object_begin(j, "exits");
        for (unsigned x = 1; x < EXIT_REASON_COUNT; x++) {
            json_uint(j, isa_exit_reason_name(x), exits[x]);
            total += exits[x];
        }
        json_uint(j, "total", total);
        json_object_end(j);
    }
    shadow_json(j, r, g);
    bt_json(j, r, g);
    const uint64_t *calls = run_pv_calls(r, g);
    if (calls) {
        json_object_begin(j, "pv_calls");
        for (unsigned c = 0; c < PV_HCALL_COUNT; c++) json_uint(j, vmm_pv_call_name(c), calls[c]);
        json_object_end(j);
        json_uint(j, "pv_pte_pairs", run_pv_pte_pairs(r, g));
    }
    json_object_end(j);
}

static void levels_json(struct json *j, const struct run *r, unsigned g)
{
    char spec[96];
    run_spec_format(run_spec_of(r), spec, sizeof spec);
    json_string(j, "stack", spec);
    json_array_begin(j, "levels");
    for (unsigned L = 0; L < run_level_count(r); L++) {
        struct run_level_counts k;
        run_level_counts(r, g, L, &k);
        json_object_begin(j, NULL);
        json_uint(j, "level", L);
        json_string(j, "kind", k.kind);
        json_uint(j, "instructions", k.instructions);
        json_uint(j, "traps", k.traps);
        handling_json(j, &k);
        json_double(j, "amplification", k.amplification);
        json_object_end(j);
    }
    json_array_end(j);
    const struct machine *real = run_real_machine(r);
    json_object_begin(j, "real");
    json_uint(j, "instructions", machine_stats(real)->retired);
    json_uint(j, "steps", machine_steps(real));
    json_object_end(j);
}

/* "disk": the program's commands to its units, when it has any. */
static void disk_json(struct json *j, const struct run *r, unsigned g)
{
    struct run_guest_state s;
    run_guest_state(r, g, &s);
    unsigned units = 0;
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++) units += s.disk_sectors[k] != 0;
    if (!units) return;
    json_object_begin(j, "disk");
    json_uint(j, "units", units);
    json_uint(j, "reads", s.disk_reads);
    json_uint(j, "writes", s.disk_writes);
    json_uint(j, "errors", s.disk_errors);
    if (s.disk_kicks) {
        json_object_begin(j, "split");
        json_uint(j, "kicks", s.disk_kicks);
        json_uint(j, "requests", s.disk_requests);
        json_uint(j, "notifications", s.disk_notifications);
        json_uint(j, "suppressed", s.disk_suppressed);
        json_object_end(j);
    }
    json_object_end(j);
}

/* Guest g's report fields: the run schema, its levels, a monitor that gave up. */
static void guest_json(struct json *j, const struct run *r, unsigned g)
{
    struct run_outcome oc = report_outcome_of_run(r, g);
    report_json_fields(j, &oc);
    levels_json(j, r, g); /* every run has levels: a bare one, one */
    vmm_json(j, r, g);
    disk_json(j, r, g);
    unsigned level;
    const char *message;
    if (run_monitor_error(r, g, &level, &message)) {
        json_object_begin(j, "vmm_error");
        json_uint(j, "level", level);
        json_string(j, "message", message);
        json_object_end(j);
    }
    const char *refusal = run_vmm_refusal(r, g);
    if (refusal) json_string(j, "refused", refusal);
    if (run_stalled(r, g)) json_bool(j, "stalled", true);
    if (run_cut_of(r) == RUN_CUT_REAL_BUDGET) json_bool(j, "real_budget", true);
}

static void guest_summary(FILE *out, const struct run *r, unsigned g, bool several, uint64_t max_steps,
                          bool interrupted, bool traced)
{
    struct run_outcome oc = report_outcome_of_run(r, g);
    char who[32], prefix[16] = "";
    if (several) snprintf(prefix, sizeof prefix, "[vm%u] ", g);
    snprintf(who, sizeof who, "%strapeze", prefix);
    unsigned level;
    const char *message;
    /* When a monitor refused it, gave up or stalled, that is why the program stopped. */
    const char *refusal = run_vmm_refusal(r, g);
    if (refusal)
        fprintf(out, "%s: the C VMM (%s) refused it: %s\n", who, vmm_mode_name(run_spec_of(r)->mode), refusal);
    else if (run_monitor_error(r, g, &level, &message))
        fprintf(out, "%s: the asm VMM at L%u gave up: %s\n", who, level, message);
    else if (run_stalled(r, g))
        fprintf(out, "%s: stalled: the monitors ran %llu steps without a step of the program "
                     "(does the variant let a monitor's own system instructions run in user mode?)\n",
                who, (unsigned long long)RUN_STALL_UNITS);
    else if (interrupted && oc.stop != MACHINE_HALT) {
        fprintf(out, "%s: interrupted at pc 0x%" PRIx32 " (Ctrl-C)%s\n", who, oc.psw.pc,
                traced ? ": the trace stops there" : "");
        oc.stop = MACHINE_STOPPED; /* not a budget: it could have run on */
    } else if (run_cut_of(r) == RUN_CUT_REAL_BUDGET)
        fprintf(out, "%s: stopped: the real budget ran out: the levels ran %" PRIu64 " real steps "
                     "(--max-real-steps) for %" PRIu64 " steps of the program\n",
                who, run_time(r), oc.steps);
    else report_stop_line(out, who, &oc, max_steps);
    fprintf(out, "%s", prefix);
    report_summary(out, &oc);
    struct run_guest_state s;
    run_guest_state(r, g, &s);
    if (s.disk_reads + s.disk_writes + s.disk_errors)
        fprintf(out, "%strapeze: disk: %" PRIu64 " sector reads, %" PRIu64 " writes, %" PRIu64
                " failed commands\n", prefix, s.disk_reads, s.disk_writes, s.disk_errors);
    if (s.disk_kicks)
        fprintf(out, "%strapeze: split driver: %" PRIu64 " kicks served %" PRIu64 " requests; %" PRIu64
                " notifications, %" PRIu64 " suppressed\n", prefix, s.disk_kicks, s.disk_requests,
                s.disk_notifications, s.disk_suppressed);
    vmm_summary(out, r, g, prefix);
    if (run_level_count(r) > 1) level_table(out, r, g, prefix);
}

/* ISA.md: "A simulator may warn when a program breaks this rule" (a PTE
 * changed and relied on without tlbflush).  Only a bare run can tell: there
 * the real machine runs the program's own page table.  Under the C VMM the
 * program runs directly on a shadow table (or in the VMM's interpreter) and
 * under an asm VMM on that VMM's, so the real machine never sees the
 * program's stores to its table as such.  One line, whatever the count. */
static void warn_pte_rule(const struct run *r, const char *program)
{
    struct machine_pte_use u;
    if (run_spec_of(r)->n != 0 || !machine_pte_rule_broken(run_real_machine(r), &u)) return;
    fprintf(stderr,
            "trapeze: warning: %s: step %" PRIu64 ": pc 0x%06" PRIx32 ": relied on a changed page-table "
            "entry without tlbflush (ISA.md: tlbflush or a PSW load first)\n",
            program, u.step + 1, u.pc);
}

/* ---- The command ---------------------------------------------------------------------------------- */

struct run_job {
    struct run_options *o;
    const cli_interrupt_flag *interrupted; /* main's Ctrl-C flag */
    unsigned nguests;
    struct asm_image *imgs;             /* one per PROGRAM */
    const struct asm_image **by_guest;  /* the image of each guest */
    struct guest_sink *sinks;
    size_t loaded;
    struct run *run;
    struct run_trace *trace;
    FILE *trace_out;
};

static void job_free(struct run_job *j)
{
    for (unsigned g = 0; j->sinks && g < j->nguests; g++)
        if (j->sinks[g].file) fclose(j->sinks[g].file);
    run_destroy(j->run);
    run_trace_destroy(j->trace); /* flushed already, unless the run did not start */
    if (j->trace_out && j->trace_out != stderr) fclose(j->trace_out);
    for (size_t i = 0; i < j->loaded; i++) asm_image_free(&j->imgs[i]);
    free(j->imgs);
    free(j->by_guest);
    free(j->sinks);
}

/* Sets up each guest's console output. */
static bool open_sinks(struct run_job *j)
{
    const struct run_options *o = j->o;
    if (o->out_dir && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "trapeze run: --out-dir: cannot create '%s': %s\n", o->out_dir, strerror(errno));
        return false;
    }
    for (unsigned g = 0; g < j->nguests; g++) {
        struct guest_sink *s = &j->sinks[g];
        s->index = g;
        s->prefixed = j->nguests > 1;
        if (o->out_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/vm%u.out", o->out_dir, g);
            s->file = fopen(path, "wb");
            if (!s->file) {
                fprintf(stderr, "trapeze run: --out-dir: cannot write '%s': %s\n", path, strerror(errno));
                return false;
            }
        }
        if (!o->json || s->file) run_set_output_sink(j->run, g, guest_byte, s);
    }
    return true;
}

static int run_job(struct run_job *j)
{
    struct run_options *o = j->o;
    const size_t nprog = o->nprograms;
    j->nguests = o->vms ? o->vms : (unsigned)nprog;
    j->imgs = calloc(nprog, sizeof *j->imgs);
    j->by_guest = calloc(j->nguests, sizeof *j->by_guest);
    j->sinks = calloc(j->nguests, sizeof *j->sinks);
    if (!j->imgs || !j->by_guest || !j->sinks) {
        fprintf(stderr, "trapeze run: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    struct asm_options ao = {o->include_dirs, o->ninclude_dirs, false};
    for (; j->loaded < nprog; j->loaded++)
        if (asm_load_program_opts(o->programs[j->loaded], &ao, &j->imgs[j->loaded], stderr) != 0)
            return CLI_EXIT_USAGE;
    for (unsigned g = 0; g < j->nguests; g++) j->by_guest[g] = &j->imgs[o->vms ? 0 : g];

    struct run_config cfg = {o->spec, &o->variant, o->mem, j->nguests, o->asm_vmm, NULL};
    char err[RUN_ERROR_SIZE];
    j->run = run_create(&cfg, j->by_guest, err);
    if (!j->run) {
        /* A program that does not fit names itself, like the assembler's errors. */
        if (strncmp(err, "the program does not fit", 24) == 0) fprintf(stderr, "%s: error: %s\n", o->programs[0], err);
        else fprintf(stderr, "trapeze run: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (!run_options_attach_disks(o, j->run, "run")) return CLI_EXIT_USAGE;
    run_feed_input_all(j->run, o->input, o->input_len);
    run_set_bounds(j->run, o->max_real_steps, j->interrupted);
    if (!open_sinks(j)) return CLI_EXIT_USAGE;

    if (o->trace != TRACE_NONE) {
        j->trace_out = run_options_open_trace(o, "run");
        if (!j->trace_out) return CLI_EXIT_USAGE;
        j->trace = run_trace_create(j->run, j->trace_out, j->nguests > 1, j->by_guest[0]);
        if (!j->trace) return CLI_EXIT_USAGE;
        run_trace_set_interrupt(j->trace, j->interrupted); /* at its next line, sooner */
        run_set_hooks(j->run, &(struct run_hooks){j->trace, run_trace_event, NULL});
        if (o->trace == TRACE_INSNS)
            run_set_insn_observer(j->run, &(struct machine_observer){j->trace, run_trace_insn, NULL});
    }

    run_go(j->run, o->max_steps);
    for (unsigned g = 0; g < j->nguests; g++)
        if (j->sinks[g].len) { /* a last line without its newline */
            flush_line(&j->sinks[g]);
            putchar('\n');
        }
    fflush(stdout);
    if (j->trace) {
        bool whole = run_trace_flush(j->trace);
        FILE *out = j->trace_out;
        j->trace_out = NULL;
        if (!run_options_close_trace(o, "run", out, whole)) return CLI_EXIT_USAGE;
    }
    warn_pte_rule(j->run, o->programs[0]);
    if (!disk_file_check_writes(o->disks, o->ndisks, err, sizeof err)) {
        fprintf(stderr, "trapeze run: --disk %s\n", err);
        return CLI_EXIT_USAGE;
    }

    const bool interrupted = (j->trace && run_trace_interrupted(j->trace)) || run_cut_of(j->run) == RUN_CUT_INTERRUPT;
    int rc = 0;
    for (unsigned g = 0; g < j->nguests && rc == 0; g++) {
        struct run_outcome oc = report_outcome_of_run(j->run, g);
        rc = report_exit_status(&oc);
        if (run_vmm_refusal(j->run, g)) rc = CLI_EXIT_REFUSED;
        if (interrupted && oc.stop != MACHINE_HALT) rc = CLI_EXIT_INTERRUPTED;
    }
    if (o->json) {
        struct json js;
        json_init(&js, stdout);
        json_object_begin(&js, NULL);
        if (j->nguests == 1) {
            guest_json(&js, j->run, 0);
        } else {
            json_object_begin(&js, "vmm");
            json_string(&js, "mode", vmm_mode_name(o->spec.mode));
            json_uint(&js, "guests", j->nguests);
            json_object_end(&js);
            json_uint(&js, "status", (uint64_t)rc);
            json_array_begin(&js, "guests");
            for (unsigned g = 0; g < j->nguests; g++) {
                json_object_begin(&js, NULL);
                json_uint(&js, "guest", g);
                json_string(&js, "program", o->programs[o->vms ? 0 : g]);
                guest_json(&js, j->run, g);
                json_object_end(&js);
            }
            json_array_end(&js);
        }
        json_object_end(&js);
        json_finish(&js);
    } else {
        for (unsigned g = 0; g < j->nguests; g++)
            guest_summary(stderr, j->run, g, j->nguests > 1, o->max_steps, interrupted, j->trace != NULL);
        const struct run_log *log = j->trace ? run_trace_log(j->trace) : NULL;
        if (log && run_log_total(log)) {
            fprintf(stderr, "trapeze: %" PRIu64 " trap%s: arose at -> handled by, how\n",
                    run_log_total(log), run_log_total(log) == 1 ? "" : "s");
            run_log_print_counts(stderr, j->run, run_log_counts(log), "  ");
        }
    }
    return rc;
}

int cmd_run(int argc, char **argv, cli_interrupt_flag *interrupted)
{
    struct run_options o;
    int rc = run_options_parse(&o, argc, argv,
                               "Runs PROGRAM (a .s source or an image) on the bare machine, under\n"
                               "the C VMM (--vmm; --vms N copies, or several PROGRAMs), or under a\n"
                               "stack of monitors (--stack, --depth).  Guest console output goes to\n"
                               "stdout; the summary (or --json) to stderr (stdout).  Exit status: r1\n"
                               "at halt, else one of the tool's own (trapeze(1), EXIT STATUS).",
                               "PROGRAM...", OPTS_RUN);
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    const bool c_alone = o.spec.n == 1 && o.spec.kind[0] == RUN_MONITOR_C;
    if (o.vms && o.nprograms > 1) {
        fprintf(stderr, "trapeze run: --vms runs copies of one PROGRAM; got %zu programs\n", o.nprograms);
        rc = CLI_EXIT_USAGE;
    } else if (o.nprograms == 0 || (!c_alone && o.nprograms != 1)) {
        fprintf(stderr, "trapeze run: expected one PROGRAM%s, got %zu (see trapeze run --help)\n",
                c_alone ? " or more" : "", o.nprograms);
        rc = CLI_EXIT_USAGE;
    } else if (o.nprograms > RUN_MAX_VMS) {
        fprintf(stderr, "trapeze run: at most %u guests, got %zu programs\n", RUN_MAX_VMS, o.nprograms);
        rc = CLI_EXIT_USAGE;
    } else {
        struct run_job j = {.o = &o, .interrupted = interrupted};
        rc = run_job(&j);
        job_free(&j);
    }
    run_options_free(&o);
    return rc;
}
