/*
 * cmd_trace.c: `trapeze trace`, a run drawn with graphviz (vmm/run/diagram.h).
 *
 *   trapeze trace --stack c,asm --svg seq.svg programs/traps.s
 *   trapeze trace --depth 3 --diagram tree --insn 40 --png tree.png prog.s
 *   trapeze trace --vmm te --diagram memory --at 500 --dot map.dot prog.s
 *
 * The run options are run's (a single guest).  The diagram's own:
 *   --diagram sequence|tree|memory   (default sequence)
 *   --from STEP, --to STEP           the window, in the program's steps
 *   --insn STEP                      the window of one step: its cascade
 *   --at STEP                        memory: the map once the program has
 *                                    taken STEP steps (default: at its end)
 *   --dot FILE | --svg FILE | --png FILE   (FILE "-": stdout)
 * A run is stopped as soon as its window is past.  Exit status 0, or 125
 * with one line: a bad window, no trap in it, a file that cannot be
 * written, graphviz missing or failing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../assembler/asm.h"
#include "../vmm/run/diagram.h"
#include "../vmm/run/run.h"
#include "cli.h"
#include "disk_file.h"
#include "graphviz.h"
#include "options.h"

struct trace_args {
    enum diagram_kind kind;
    bool has_from, has_to, has_insn, has_at;
    uint64_t from, to, insn, at;
    const char *path;
    enum graphviz_format format;
};

static const char summary[] =
    "Runs PROGRAM as `trapeze run` does (one guest) and draws it with graphviz:\n"
    "  --diagram sequence   the traps of a window, one lifeline per level and one for\n"
    "                       the real machine, each hop an arrow (the default)\n"
    "  --diagram tree       one guest instruction's cascade: each trap with the traps\n"
    "                       its handler took, and every level's instructions\n"
    "  --diagram memory     each machine's memory down to real memory\n"
    "  --from STEP, --to STEP   the window, in the program's steps (default: the run)\n"
    "  --insn STEP          the window of one step of the program (tree: default its\n"
    "                       first trap)\n"
    "  --at STEP            memory: once the program has taken STEP steps (default:\n"
    "                       when the run ends)\n"
    "  --dot FILE, --svg FILE, --png FILE   where to (FILE -: stdout); svg and png\n"
    "                       are rendered by graphviz (neato -n2, or dot)";

/* Takes the diagram's options out of argv into a; the rest stays for the
 * run options, in order.  0, or an exit status after one line. */
static int take_args(struct trace_args *a, int *argc, char **argv)
{
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        const char *name = argv[i];
        static const char *const takes_value[] = {"--diagram", "--from", "--to", "--insn", "--at",
                                                  "--dot", "--svg", "--png"};
        int which = -1;
        for (int k = 0; k < (int)(sizeof takes_value / sizeof takes_value[0]); k++)
            if (strcmp(name, takes_value[k]) == 0) which = k;
        if (strcmp(name, "--") == 0) {
            while (i < *argc) argv[kept++] = argv[i++];
            break;
        }
        if (which < 0) {
            argv[kept++] = argv[i];
            continue;
        }
        if (i + 1 == *argc) {
            fprintf(stderr, "trapeze trace: %s needs a value\n", name);
            return CLI_EXIT_USAGE;
        }
        const char *value = argv[++i];
        uint64_t n = 0;
        if (which >= 1 && which <= 4 && !options_parse_u64(value, &n)) {
            fprintf(stderr, "trapeze trace: %s: expected a step number, got '%.100s'\n", name, value);
            return CLI_EXIT_USAGE;
        }
        switch (which) {
        case 0:
            if (!diagram_kind_by_name(value, &a->kind)) {
                fprintf(stderr, "trapeze trace: --diagram: expected sequence, tree or memory, got '%.100s'\n",
                        value);
                return CLI_EXIT_USAGE;
            }
            break;
        case 1: a->has_from = true, a->from = n; break;
        case 2: a->has_to = true, a->to = n; break;
        case 3: a->has_insn = true, a->insn = n; break;
        case 4: a->has_at = true, a->at = n; break;
        default:
            if (a->path) {
                fprintf(stderr, "trapeze trace: one output only (--dot, --svg or --png)\n");
                return CLI_EXIT_USAGE;
            }
            a->path = value;
            a->format = which == 5 ? GRAPHVIZ_DOT : which == 6 ? GRAPHVIZ_SVG : GRAPHVIZ_PNG;
        }
    }
    *argc = kept;
    return 0;
}

/* The window asked for; 0, or an exit status after one line. */
static int check_args(const struct trace_args *a, struct diagram_window *w)
{
    if (!a->path) {
        fprintf(stderr, "trapeze trace: where to? give --dot FILE, --svg FILE or --png FILE\n");
        return CLI_EXIT_USAGE;
    }
    if (a->has_insn && (a->has_from || a->has_to)) {
        fprintf(stderr, "trapeze trace: --insn is a window of its own: give it or --from/--to, not both\n");
        return CLI_EXIT_USAGE;
    }
    if (a->kind == DIAGRAM_MEMORY && (a->has_insn || a->has_from || a->has_to)) {
        fprintf(stderr, "trapeze trace: a memory map is drawn at one step: use --at STEP\n");
        return CLI_EXIT_USAGE;
    }
    if (a->has_at && a->kind != DIAGRAM_MEMORY) {
        fprintf(stderr, "trapeze trace: --at is for --diagram memory (a window: --from, --to, --insn)\n");
        return CLI_EXIT_USAGE;
    }
    *w = (struct diagram_window){a->has_from ? a->from : 0, a->has_to ? a->to : UINT64_MAX, false};
    if (a->has_insn) *w = (struct diagram_window){a->insn, a->insn, true};
    else if (a->kind == DIAGRAM_TREE && !a->has_from && !a->has_to) w->cascade = true; /* the first trap's */
    if (w->from > w->to) {
        fprintf(stderr, "trapeze trace: the window is empty: --from %" PRIu64 " is after --to %" PRIu64 "\n",
                w->from, w->to);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void title_of(char *buf, size_t size, const struct run_options *o, const struct trace_args *a,
                     const struct diagram_window *w, uint64_t steps_at_end, const struct diagram_recorder *rec)
{
    char under[128], window[96];
    run_options_describe(o, under, sizeof under);
    if (w->cascade && rec && rec->n)
        snprintf(window, sizeof window, "the cascade of the trap at step %" PRIu64, rec->steps[0].e.guest_step);
    else if (a->kind == DIAGRAM_MEMORY) snprintf(window, sizeof window, "memory after %" PRIu64 " steps", steps_at_end);
    else if (w->from == w->to) snprintf(window, sizeof window, "step %" PRIu64, w->from);
    else if (w->to == UINT64_MAX) snprintf(window, sizeof window, "steps %" PRIu64 "..%" PRIu64 " (its end)", w->from, steps_at_end);
    else snprintf(window, sizeof window, "steps %" PRIu64 "..%" PRIu64, w->from, w->to);
    snprintf(buf, size, "%s under %s (--isa %s): %s", o->programs[0], under, o->variant.name, window);
}

/* Runs and draws; the diagram's text in *text (the caller frees it). */
static int draw(const struct run_options *o, const struct trace_args *a, const struct diagram_window *w,
                struct run *r, char **text, size_t *len)
{
    struct diagram_recorder rec;
    diagram_recorder_init(&rec, r, *w);
    FILE *out = open_memstream(text, len);
    if (!out) {
        fprintf(stderr, "trapeze trace: out of memory\n");
        return CLI_EXIT_USAGE;
    }
    char title[1400], err[200];
    int rc = 0;
    if (a->kind == DIAGRAM_MEMORY) {
        run_go(r, a->has_at ? a->at : o->max_steps);
        struct run_guest_state st;
        run_guest_state(r, 0, &st);
        title_of(title, sizeof title, o, a, w, st.steps, NULL);
        diagram_memory(out, r, 0, title);
    } else {
        run_set_hooks(r, &(struct run_hooks){&rec, diagram_record, NULL});
        run_go(r, o->max_steps);
        diagram_recorder_finish(&rec, r);
        struct run_guest_state st;
        run_guest_state(r, 0, &st);
        title_of(title, sizeof title, o, a, w, st.steps, &rec);
        if (rec.out_of_memory) {
            snprintf(err, sizeof err, "out of memory");
            rc = -1;
        } else if (w->from > st.steps && st.stop != MACHINE_BUDGET) {
            snprintf(err, sizeof err, "the window starts at step %" PRIu64 ", after the run's end (step %" PRIu64 ")",
                     w->from, st.steps);
            rc = -1;
        } else if (a->kind == DIAGRAM_SEQUENCE) {
            rc = diagram_sequence(out, r, &rec, title, err, sizeof err);
        } else {
            rc = diagram_tree(out, r, &rec, title, err, sizeof err);
        }
    }
    diagram_recorder_free(&rec);
    fclose(out);
    if (rc != 0) {
        fprintf(stderr, "trapeze trace: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cmd_trace(int argc, char **argv, cli_interrupt_flag *interrupted)
{
    struct trace_args a = {.kind = DIAGRAM_SEQUENCE};
    int rc = take_args(&a, &argc, argv);
    if (rc) return rc;
    struct run_options o;
    rc = run_options_parse(&o, argc, argv, summary, "PROGRAM", OPTS_SESSION);
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    struct diagram_window w;
    if (o.nprograms != 1) {
        fprintf(stderr, "trapeze trace: expected one PROGRAM, got %zu (see trapeze trace --help)\n",
                o.nprograms);
        rc = CLI_EXIT_USAGE;
    } else if ((rc = check_args(&a, &w)) == 0) {
        struct asm_image img;
        struct asm_options ao = {o.include_dirs, o.ninclude_dirs, false};
        if (asm_load_program_opts(o.programs[0], &ao, &img, stderr) != 0) {
            rc = CLI_EXIT_USAGE;
        } else {
            const struct asm_image *programs[] = {&img};
            struct run_config cfg = {o.spec, &o.variant, o.mem, 1, o.asm_vmm, NULL};
            char err[RUN_ERROR_SIZE];
            struct run *r = run_create(&cfg, programs, err);
            if (!r) {
                fprintf(stderr, "trapeze trace: %s\n", err);
                rc = CLI_EXIT_USAGE;
            } else {
                if (!run_options_attach_disks(&o, r, "trace")) {
                    run_destroy(r);
                    asm_image_free(&img);
                    run_options_free(&o);
                    return CLI_EXIT_USAGE;
                }
                run_feed_input(r, 0, o.input, o.input_len);
                run_set_bounds(r, o.max_real_steps, interrupted);
                char *text = NULL;
                size_t len = 0;
                rc = draw(&o, &a, &w, r, &text, &len);
                char why[600];
                if (rc == 0 && !disk_file_check_writes(o.disks, o.ndisks, why, sizeof why)) {
                    fprintf(stderr, "trapeze trace: --disk %s\n", why);
                    rc = CLI_EXIT_USAGE;
                }
                if (rc == 0 && !graphviz_write(text, len, diagram_layout(a.kind), a.format, a.path, why,
                                               sizeof why)) {
                    fprintf(stderr, "trapeze trace: %s\n", why);
                    rc = CLI_EXIT_USAGE;
                }
                free(text);
                run_destroy(r);
            }
            asm_image_free(&img);
        }
    }
    run_options_free(&o);
    return rc;
}
