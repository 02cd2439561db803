/*
 * cmd_equiv.c: `trapeze equiv`, Popek and Goldberg's equivalence, checked.
 *
 * The program runs on the bare machine and under the C VMM (--vmm te
 * unless given) or a stack of monitors (--stack, --depth); vmm/equiv does
 * the comparing, the bisection to the first differing step and the
 * report.  Here: the command line, the text report or --json, and --trace
 * traps (the traps of the virtualized side's full run, on stderr).  When
 * the bare run relied on a changed page-table entry without tlbflush, the
 * report says so (the explanation, or a note) and --json has "pte_rule".
 *
 * With --disk, both sides get the units, each on a copy of its own (the
 * files are only read), and their final contents are compared too.
 *
 * Exit status: 0 equivalent; CLI_EXIT_DIFFERENT not; CLI_EXIT_REFUSED the C
 * VMM refused the program (pv); CLI_EXIT_USAGE bad input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../assembler/asm.h"
#include "../vmm/equiv/equiv.h"
#include "../vmm/run/log.h"
#include "../vmm/run/trace.h"
#include "cli.h"
#include "json.h"
#include "options.h"

static void end_json(struct json *j, const char *key, const struct equiv_end *e, bool disks)
{
    json_object_begin(j, key);
    json_string(j, "stop", machine_stop_name(e->stop));
    json_uint(j, "status", e->status);
    json_uint(j, "steps", e->steps);
    if (disks) {
        json_object_begin(j, "disk");
        json_uint(j, "reads", e->disk_reads);
        json_uint(j, "writes", e->disk_writes);
        json_uint(j, "errors", e->disk_errors);
        json_object_end(j);
    }
    json_object_end(j);
}

static void lines_json(struct json *j, const char *key, const struct equiv_lines *l)
{
    json_array_begin(j, key);
    for (size_t i = 0; i < l->n; i++) json_string(j, NULL, l->text[i]);
    json_array_end(j);
    char more[32];
    snprintf(more, sizeof more, "%s_more", key);
    json_uint(j, more, l->more);
}

/* "pte_rule": null, or the bare run's first use of a changed page-table
 * entry without a flush (its step counted as first_difference_after is). */
static void pte_rule_json(struct json *j, const struct equiv_report *rep)
{
    if (!rep->pte_rule_broken) {
        json_null(j, "pte_rule");
        return;
    }
    static const char *const access[] = {[ACCESS_FETCH] = "fetch", [ACCESS_LOAD] = "load",
                                         [ACCESS_STORE] = "store"};
    const struct machine_pte_use *u = &rep->pte_use;
    json_object_begin(j, "pte_rule");
    json_uint(j, "step", u->step + 1);
    json_uint(j, "pc", u->pc);
    json_uint(j, "va", u->va);
    json_string(j, "access", access[u->access]);
    json_uint(j, "pte", u->pte_pa);
    json_uint(j, "old", u->old_value);
    json_uint(j, "new", u->new_value);
    json_uint(j, "uses", rep->pte_uses);
    json_bool(j, "explains", rep->pte_explains);
    json_string(j, "text", rep->pte_rule);
    json_object_end(j);
}

static void report_json(const struct equiv_report *rep, const struct run_options *o, const char *path)
{
    struct json j;
    json_init(&j, stdout);
    json_object_begin(&j, NULL);
    char spec[96];
    run_spec_format(&o->spec, spec, sizeof spec);
    json_string(&j, "program", path);
    json_string(&j, "isa", o->variant.name);
    json_string(&j, "stack", spec);
    if (o->spec.n > 0 && o->spec.kind[0] == RUN_MONITOR_C) json_string(&j, "mode", vmm_mode_name(o->spec.mode));
    json_bool(&j, "equivalent", rep->equivalent);
    end_json(&j, "bare", &rep->bare, o->ndisks > 0);
    end_json(&j, "vmm", &rep->virt, o->ndisks > 0);
    if (rep->gave_up) {
        json_object_begin(&j, "vmm_error");
        json_uint(&j, "level", rep->gave_up_level);
        json_string(&j, "message", rep->gave_up_message);
        json_object_end(&j);
    }
    if (rep->refused) json_string(&j, "refused", rep->refusal);
    if (!rep->equivalent) {
        json_uint(&j, "first_difference_after", rep->first_step);
        json_string(&j, "step", rep->first_step ? rep->step : "");
        lines_json(&j, "differences", &rep->at_step);
        lines_json(&j, "differences_at_end", &rep->at_end);
    }
    pte_rule_json(&j, rep);
    json_object_end(&j);
    json_finish(&j);
}

/* The check stopped before its verdict, or before it found the first
 * difference: one line, and the status of what stopped it. */
static int report_cut(const struct equiv_report *rep, const struct run_options *o)
{
    const bool budget = rep->cut == RUN_CUT_REAL_BUDGET;
    char why[160];
    if (budget)
        snprintf(why, sizeof why, "the real budget ran out (--max-real-steps %" PRIu64 ", all runs of "
                 "both sides together)", o->max_real_steps);
    else
        snprintf(why, sizeof why, "interrupted (Ctrl-C) after %" PRIu64 " real steps", rep->real_steps);
    if (rep->cut_in_bisection)
        fprintf(stderr, "trapeze equiv: not equivalent, but %s while looking for the first difference: "
                        "it comes after step %" PRIu64 " and by step %" PRIu64 "\n",
                why, rep->bisect_lo, rep->first_step);
    else
        fprintf(stderr, "trapeze equiv: no verdict: %s before both runs ended\n", why);
    return budget ? CLI_EXIT_BUDGET : CLI_EXIT_INTERRUPTED;
}

int cmd_equiv(int argc, char **argv, cli_interrupt_flag *interrupted)
{
    struct run_options o;
    int rc = run_options_parse(
        &o, argc, argv,
        "Runs PROGRAM on the bare machine and under the C VMM (--vmm te unless\n"
        "given) or a stack of monitors (--stack, --depth), and compares registers,\n"
        "PSW, all memory, output, stop and status.\n"
        "Prints 'equivalent' (exit 0), or the first step after which the two differ,\n"
        "the instruction executed there and every difference (exit status 121).",
        "PROGRAM", OPTS_EQUIV);
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    if (o.nprograms != 1) {
        fprintf(stderr, "trapeze equiv: expected one PROGRAM, got %zu (see trapeze equiv --help)\n",
                o.nprograms);
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    const char *path = o.programs[0];
    struct asm_image img;
    struct asm_options ao = {o.include_dirs, o.ninclude_dirs, false};
    if (asm_load_program_opts(path, &ao, &img, stderr) != 0) {
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    /* The trace of the virtualized side's first, full run (equiv.h). */
    FILE *trace_out = o.trace == TRACE_TRAPS ? run_options_open_trace(&o, "equiv") : NULL;
    struct run_trace *trace = trace_out ? run_trace_create(NULL, trace_out, false, NULL) : NULL;
    if (o.trace == TRACE_TRAPS && !trace) {
        if (trace_out) run_options_close_trace(&o, "equiv", trace_out, true);
        asm_image_free(&img);
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    struct run_hooks hooks = {trace, run_trace_event, NULL};
    struct equiv_config cfg = {o.spec,    &o.variant,  o.mem, o.max_steps, o.input, o.input_len,
                               &img,      o.asm_vmm,   trace ? &hooks : NULL,
                               o.max_real_steps, interrupted, NULL,
                               o.io_given, o.io_model, !o.no_iommu};
    struct equiv_report rep;
    char err[RUN_ERROR_SIZE];
    struct run_medium disks[ISA_DISK_UNITS];
    run_options_disk_media(&o, disks);
    bool checked = equiv_check_disks(&cfg, disks, o.ndisks, &rep, err);
    if (trace) {
        /* Before the report, as the unbuffered trace came before it. */
        bool whole = run_trace_flush(trace);
        run_trace_destroy(trace);
        if (!run_options_close_trace(&o, "equiv", trace_out, whole) && checked) {
            checked = false;
            err[0] = '\0';
        }
    }
    if (!checked) {
        if (err[0]) fprintf(stderr, "trapeze equiv: %s\n", err);
        rc = CLI_EXIT_USAGE;
    } else if (rep.cut != RUN_CUT_NONE) {
        rc = report_cut(&rep, &o);
    } else {
        if (o.json) {
            report_json(&rep, &o, path);
        } else {
            char under[128], what[1400];
            run_options_describe(&o, under, sizeof under);
            snprintf(what, sizeof what, "%s under %s (--isa %s)", path, under, o.variant.name);
            equiv_print(stdout, &rep, what);
        }
        rc = rep.equivalent ? CLI_EXIT_OK : rep.refused ? CLI_EXIT_REFUSED : CLI_EXIT_DIFFERENT;
    }
    asm_image_free(&img);
    run_options_free(&o);
    return rc;
}
