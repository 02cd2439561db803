/*
 * cmd_run.c: `trapeze run`, a program on the bare machine, or one or more
 * programs as guests of the C VMM (--vmm MODE).
 *
 * Under --vmm every guest gets the whole --mem, the whole --input and its
 * own --max-steps budget; guest K's console output goes to stdout with
 * each line prefixed "[vmK] " when there are several guests (to stdout
 * unchanged for one), or to DIR/vmK.out with --out-dir.  The summary gives
 * each guest's run and its VMM accounting; --json gives, for one guest,
 * the run schema plus "vmm": {...}, and for several {"vmm": {...},
 * "guests": [...]} with one run-schema object per guest.  The exit status
 * is that of the first guest that did not halt with status 0, else 0.
 *
 * With --stack SPEC (or --depth N) one guest runs under a stack of monitors
 * (vmm/stack.h): the summary adds a table with one line per level, --json
 * adds "stack", "levels": [...] and "real" (the real machine's counts).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../assembler/asm.h"
#include "../machine/machine.h"
#include "../vmm/stack.h"
#include "../vmm/vmm.h"
#include "cli.h"
#include "json.h"
#include "options.h"
#include "report.h"

/* The --trace observer: writes to stderr so stdout stays the guest's. */
struct tracer {
    const struct asm_image *img;
    FILE *out;
};

static void print_place(FILE *out, const struct asm_image *img, uint32_t address)
{
    uint32_t offset;
    const char *label = asm_symbol_near(img, address, &offset);
    fprintf(out, "0x%06" PRIx32, address);
    if (label && offset == 0) fprintf(out, " <%s>", label);
    else if (label) fprintf(out, " <%s+%" PRIu32 ">", label, offset);
}

static const char *label_at(void *ctx, uint32_t address)
{
    return asm_symbol_at(ctx, address);
}

static enum machine_verdict trace_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    struct tracer *t = ctx;
    char text[96];
    isa_disassemble(insn, pc, label_at, (void *)t->img, text, sizeof text);
    fprintf(t->out, "[%10" PRIu64 "] %c ", machine_steps(m),
            (machine_psw(m).flags & PSW_M) ? 'S' : 'U');
    print_place(t->out, t->img, pc);
    fprintf(t->out, "  %s\n", text);
    return MACHINE_CONTINUE;
}

static enum machine_verdict trace_trap(void *ctx, struct machine *m, const struct machine_trap *trap)
{
    struct tracer *t = ctx;
    fprintf(t->out, "[%10" PRIu64 "] trap %-5s", trap->step, isa_cause_name(trap->cause));
    if (trap->cause == CAUSE_MEM) fprintf(t->out, " (%s)", report_mem_detail_name(trap->detail));
    fprintf(t->out, " value 0x%" PRIx32 " from %s mode, saved pc ", trap->value,
            (trap->old_psw.flags & PSW_M) ? "supervisor" : "user");
    print_place(t->out, t->img, trap->old_psw.pc);
    fprintf(t->out, " -> handler pc ");
    print_place(t->out, t->img, machine_psw(m).pc);
    fputc('\n', t->out);
    return MACHINE_CONTINUE;
}

static void write_stdout(void *ctx, uint8_t byte)
{
    (void)ctx;
    putchar(byte);
    if (byte == '\n') fflush(stdout);
}


/* ---- The bare machine ------------------------------------------------------------ */

static int run_bare(struct run_options *o)
{
    const char *path = o->programs[0];
    struct asm_image img;
    if (asm_load_program(path, &img, stderr) != 0) return CLI_EXIT_USAGE;
    struct machine *m = machine_create(o->mem, &o->variant);
    if (!m) {
        fprintf(stderr, "trapeze run: cannot allocate %zu words of memory\n", o->mem);
        asm_image_free(&img);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_USAGE;
    if (!asm_image_place(&img, machine_memory(m), machine_memsize(m), 0)) {
        fprintf(stderr, "%s: error: the program does not fit in %zu words of memory (--mem)\n",
                path, o->mem);
        goto out;
    }
    machine_reset(m, img.entry);
    machine_feed_input(m, o->input, o->input_len);
    if (!o->json) machine_set_output_sink(m, write_stdout, NULL);
    struct tracer tracer = {&img, stderr};
    if (o->trace != TRACE_NONE) {
        struct machine_observer obs = {&tracer, o->trace == TRACE_INSNS ? trace_insn : NULL,
                                       trace_trap};
        machine_set_observer(m, &obs);
    }

    enum machine_stop stop = machine_run(m, o->max_steps);
    fflush(stdout);
    struct run_outcome outcome = report_outcome_of(m, stop);
    if (o->json) {
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        report_json_fields(&j, &outcome);
        json_object_end(&j);
        json_finish(&j);
    } else {
        report_stop_line(stderr, "trapeze", &outcome, o->max_steps);
        report_summary(stderr, &outcome);
    }
    rc = report_exit_status(&outcome);
out:
    machine_destroy(m);
    asm_image_free(&img);
    return rc;
}

/* ---- Guests of the C VMM ------------------------------------------------------------ */

/* Where one guest's console output goes. */
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
        write_stdout(NULL, byte);
        return;
    }
    s->line[s->len++] = (char)byte;
    if (byte == '\n' || s->len == sizeof s->line) {
        flush_line(s);
        fflush(stdout);
    }
}

/* The guest's run as a bare run of it would be reported. */
static struct run_outcome outcome_of_guest(const struct vmm *v, unsigned g)
{
    struct run_outcome o = {0};
    const struct vmm_vcpu *cpu = vmm_guest_vcpu(v, g);
    o.stop = vmm_guest_stop(v, g);
    memcpy(o.regs, cpu->reg, sizeof o.regs);
    o.psw = cpu->psw;
    o.instructions = vmm_guest_retired(v, g);
    o.steps = vmm_guest_steps(v, g);
    memcpy(o.traps, vmm_guest_stats(v, g)->traps, sizeof o.traps);
    const struct machine_trap *t = vmm_guest_last_trap(v, g);
    if (t) o.last_trap = *t, o.has_trap = true;
    o.output = vmm_guest_output(v, g, &o.output_len);
    return o;
}

static void vmm_json(struct json *j, const struct vmm *v, unsigned g)
{
    const struct vmm_stats *s = vmm_guest_stats(v, g);
    json_object_begin(j, "vmm");
    json_string(j, "mode", vmm_mode_name(vmm_mode(v)));
    json_uint(j, "direct", s->direct);
    json_uint(j, "emulated", s->emulated);
    json_uint(j, "interpreted", s->interpreted);
    json_uint(j, "reflected", s->reflected);
    json_uint(j, "entries", s->entries);
    json_uint(j, "slices", s->scheduled);
    json_double(j, "efficiency", vmm_efficiency(s));
    json_object_end(j);
}

static void vmm_summary(FILE *out, const struct vmm *v, unsigned g)
{
    const struct vmm_stats *s = vmm_guest_stats(v, g);
    fprintf(out,
            "trapeze: vmm %s: %" PRIu64 " direct, %" PRIu64 " emulated (%" PRIu64
            " interpreted), %" PRIu64 " reflected, %" PRIu64 " vmm entries; efficiency %.3f%%\n",
            vmm_mode_name(vmm_mode(v)), s->direct, s->emulated, s->interpreted, s->reflected,
            s->entries, 100.0 * vmm_efficiency(s));
}

/* --trace traps under the VMM: every event, with its handling. */
struct vmm_tracer {
    const struct asm_image *const *imgs; /* by guest */
    FILE *out;
    bool several;
};

static enum machine_verdict trace_event(void *ctx, struct vmm *v, const struct vmm_event *e)
{
    (void)v;
    struct vmm_tracer *t = ctx;
    if (e->how == VMM_SCHEDULED && !t->several) return MACHINE_CONTINUE;
    const struct asm_image *img = t->imgs[e->guest];
    fprintf(t->out, "[%10" PRIu64 "] vm%u ", e->step, e->guest);
    if (e->how == VMM_SCHEDULED) {
        fprintf(t->out, "scheduled at pc ");
        print_place(t->out, img, e->pc);
    } else if (e->how == VMM_STOPPED) {
        fprintf(t->out, "stopped: %s at pc ", machine_stop_name(e->stop));
        print_place(t->out, img, e->pc);
    } else {
        fprintf(t->out, "%-5s", isa_cause_name(e->cause) ? isa_cause_name(e->cause) : "?");
        if (e->cause == CAUSE_MEM) fprintf(t->out, " (%s)", report_mem_detail_name(e->detail));
        fprintf(t->out, " from %s mode%s at pc ", e->supervisor ? "supervisor" : "user",
                e->place == VMM_PLACE_INTERPRETED ? " (interpreted)" : "");
        print_place(t->out, img, e->pc);
        if (e->insn) {
            char text[96];
            isa_disassemble(e->insn, e->pc, label_at, (void *)img, text, sizeof text);
            fprintf(t->out, " %s", text);
        } else if (e->how != VMM_ABSORBED) {
            fprintf(t->out, " value 0x%" PRIx32, e->value);
        }
        fprintf(t->out, " -> %s", vmm_handling_name(e->how));
    }
    fputc('\n', t->out);
    return MACHINE_CONTINUE;
}

static int run_vmm(struct run_options *o)
{
    const size_t nprog = o->nprograms;
    if (o->vms && nprog > 1) {
        fprintf(stderr, "trapeze run: --vms runs copies of one PROGRAM; got %zu programs\n", nprog);
        return CLI_EXIT_USAGE;
    }
    if (o->trace == TRACE_INSNS) {
        fprintf(stderr, "trapeze run: --trace insns is not available with --vmm (use --trace traps)\n");
        return CLI_EXIT_USAGE;
    }
    const unsigned n = o->vms ? o->vms : (unsigned)nprog;
    if (nprog > RUN_MAX_VMS) {
        fprintf(stderr, "trapeze run: at most %u guests, got %zu programs\n", RUN_MAX_VMS, nprog);
        return CLI_EXIT_USAGE;
    }

    int rc = CLI_EXIT_USAGE;
    struct asm_image *imgs = calloc(nprog, sizeof *imgs);
    const struct asm_image **by_guest = calloc(n, sizeof *by_guest);
    struct guest_sink *sinks = calloc(n, sizeof *sinks);
    struct vmm *v = NULL;
    size_t loaded = 0;
    if (!imgs || !by_guest || !sinks) goto out;
    for (; loaded < nprog; loaded++)
        if (asm_load_program(o->programs[loaded], &imgs[loaded], stderr) != 0) goto out;

    struct vmm_config cfg = {o->vmm_mode, &o->variant, o->mem, n, 0};
    v = vmm_create(&cfg);
    if (!v) {
        fprintf(stderr, "trapeze run: cannot allocate %u guests of %zu words (--mem, --vms)\n", n,
                o->mem);
        goto out;
    }
    if (o->out_dir && mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "trapeze run: --out-dir: cannot create '%s': %s\n", o->out_dir,
                strerror(errno));
        goto out;
    }
    for (unsigned g = 0; g < n; g++) {
        const size_t p = o->vms ? 0 : g;
        by_guest[g] = &imgs[p];
        if (!asm_image_place(&imgs[p], vmm_guest_memory(v, g), o->mem, 0)) {
            fprintf(stderr, "%s: error: the program does not fit in %zu words of memory (--mem)\n",
                    o->programs[p], o->mem);
            goto out;
        }
        vmm_guest_reset(v, g, imgs[p].entry);
        vmm_feed_input(v, g, o->input, o->input_len);
        struct guest_sink *s = &sinks[g];
        s->index = g;
        s->prefixed = n > 1;
        if (o->out_dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/vm%u.out", o->out_dir, g);
            s->file = fopen(path, "wb");
            if (!s->file) {
                fprintf(stderr, "trapeze run: --out-dir: cannot write '%s': %s\n", path,
                        strerror(errno));
                goto out;
            }
        }
        if (!o->json || s->file) vmm_set_output_sink(v, g, guest_byte, s);
    }
    struct vmm_tracer tracer = {by_guest, stderr, n > 1};
    if (o->trace == TRACE_TRAPS) vmm_set_observer(v, &(struct vmm_observer){&tracer, trace_event});

    vmm_set_step_limit(v, o->max_steps);
    vmm_run(v, UINT64_MAX);
    for (unsigned g = 0; g < n; g++)
        if (sinks[g].len) { /* a last line without its newline */
            flush_line(&sinks[g]);
            putchar('\n');
        }
    fflush(stdout);

    rc = 0;
    for (unsigned g = 0; g < n && rc == 0; g++) {
        struct run_outcome oc = outcome_of_guest(v, g);
        rc = report_exit_status(&oc);
    }
    if (o->json) {
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        if (n == 1) {
            struct run_outcome oc = outcome_of_guest(v, 0);
            report_json_fields(&j, &oc);
            vmm_json(&j, v, 0);
        } else {
            json_object_begin(&j, "vmm");
            json_string(&j, "mode", vmm_mode_name(vmm_mode(v)));
            json_uint(&j, "guests", n);
            json_object_end(&j);
            json_uint(&j, "status", (uint64_t)rc);
            json_array_begin(&j, "guests");
            for (unsigned g = 0; g < n; g++) {
                struct run_outcome oc = outcome_of_guest(v, g);
                json_object_begin(&j, NULL);
                json_uint(&j, "guest", g);
                json_string(&j, "program", o->programs[o->vms ? 0 : g]);
                report_json_fields(&j, &oc);
                vmm_json(&j, v, g);
                json_object_end(&j);
            }
            json_array_end(&j);
        }
        json_object_end(&j);
        json_finish(&j);
    } else {
        for (unsigned g = 0; g < n; g++) {
            struct run_outcome oc = outcome_of_guest(v, g);
            char who[32];
            snprintf(who, sizeof who, n > 1 ? "[vm%u] trapeze" : "trapeze", g);
            report_stop_line(stderr, who, &oc, o->max_steps);
            if (n > 1) fprintf(stderr, "[vm%u] ", g);
            report_summary(stderr, &oc);
            if (n > 1) fprintf(stderr, "[vm%u] ", g);
            vmm_summary(stderr, v, g);
        }
    }
out:
    for (unsigned g = 0; sinks && g < n; g++)
        if (sinks[g].file) fclose(sinks[g].file);
    vmm_destroy(v);
    for (size_t i = 0; i < loaded; i++) asm_image_free(&imgs[i]);
    free(imgs);
    free(by_guest);
    free(sinks);
    return rc;
}

/* ---- A stack of monitors --------------------------------------------------------------- */

/* --trace traps under a stack: every trap with the level it arose in and
 * the level whose handler took it.  Addresses are named with the guest's
 * labels at the guest's level and the asm VMM's below it. */
struct stack_tracer {
    FILE *out;
    const struct stack *s;
    const struct asm_image *guest;
};

static const char *level_kind(const struct stack *s, unsigned level)
{
    if (level >= stack_monitor_count(s)) return "guest";
    return stack_kind_name(stack_spec_of(s)->kind[level]);
}

static void stack_trace(void *ctx, const struct stack_trap_event *e)
{
    static const char *const how[] = {"emulated", "reflected", "delivered"};
    const struct stack_tracer *t = ctx;
    const struct asm_image *img =
        e->arose >= stack_monitor_count(t->s) ? t->guest : stack_vmm_image(t->s);
    fprintf(t->out, "[%10" PRIu64 "] L%u %-5s %-5s", e->real_step, e->arose, level_kind(t->s, e->arose),
            isa_cause_name(e->cause) ? isa_cause_name(e->cause) : "?");
    if (e->cause == CAUSE_PRIV) {
        char text[96];
        isa_disassemble(e->value, e->pc, img ? label_at : NULL, (void *)img, text, sizeof text);
        fprintf(t->out, " %s", text);
    } else {
        if (e->cause == CAUSE_MEM) fprintf(t->out, " (%s)", report_mem_detail_name(e->detail));
        fprintf(t->out, " value 0x%" PRIx32, e->value);
    }
    fprintf(t->out, " at pc ");
    if (img) print_place(t->out, img, e->pc);
    else fprintf(t->out, "0x%06" PRIx32, e->pc);
    fprintf(t->out, " -> %s %s L%u %s\n", how[e->how], e->how == STACK_EMULATED ? "by" : "to",
            e->handled, level_kind(t->s, e->handled));
}

static struct run_outcome outcome_of_stack(const struct stack *s, enum machine_stop stop)
{
    struct run_outcome o = {0};
    o.stop = stop;
    for (unsigned r = 0; r < ISA_NREGS; r++) o.regs[r] = stack_guest_reg(s, r);
    o.psw = stack_guest_psw(s);
    o.instructions = stack_guest_instructions(s);
    o.steps = stack_guest_steps(s);
    stack_guest_traps(s, o.traps);
    o.has_trap = stack_guest_last_trap(s, &o.last_trap);
    o.output = stack_guest_output(s, &o.output_len);
    return o;
}

static void level_table(FILE *out, const struct stack *s)
{
    fprintf(out, "level  kind    %14s %10s %10s %10s %13s\n", "instructions", "traps", "emulated",
            "reflected", "amplification");
    for (unsigned i = 0; i <= stack_monitor_count(s); i++) {
        struct stack_level_stats l;
        stack_level_stats(s, i, &l);
        fprintf(out, "%5u  %-6s  %14" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %13.2f\n",
                i, l.name, l.instructions, l.traps, l.emulated, l.reflected, l.amplification);
    }
}

static void level_json(struct json *j, const struct stack *s)
{
    char spec[96];
    stack_spec_format(stack_spec_of(s), spec, sizeof spec);
    json_string(j, "stack", spec);
    json_array_begin(j, "levels");
    for (unsigned i = 0; i <= stack_monitor_count(s); i++) {
        struct stack_level_stats l;
        stack_level_stats(s, i, &l);
        json_object_begin(j, NULL);
        json_uint(j, "level", i);
        json_string(j, "kind", l.name);
        json_uint(j, "instructions", l.instructions);
        json_uint(j, "traps", l.traps);
        json_uint(j, "emulated", l.emulated);
        json_uint(j, "interpreted", l.interpreted);
        json_uint(j, "reflected", l.reflected);
        json_double(j, "amplification", l.amplification);
        json_object_end(j);
    }
    json_array_end(j);
    const struct machine *real = stack_real_machine_const(s);
    json_object_begin(j, "real");
    json_uint(j, "instructions", machine_stats(real)->retired);
    json_uint(j, "steps", machine_steps(real));
    json_object_end(j);
}

static int run_stack(struct run_options *o)
{
    assert(o->nprograms == 1); /* cmd_run refuses anything else */
    if (o->trace == TRACE_INSNS) {
        fprintf(stderr, "trapeze run: --trace insns is not available with --stack (use --trace traps)\n");
        return CLI_EXIT_USAGE;
    }
    const char *path = o->programs[0];
    struct asm_image img;
    if (asm_load_program(path, &img, stderr) != 0) return CLI_EXIT_USAGE;
    struct stack_config cfg = {o->stack, &o->variant, o->mem, NULL, true};
    char err[STACK_ERROR_SIZE];
    struct stack *s = stack_create(&cfg, &img, err);
    if (!s) {
        fprintf(stderr, "trapeze run: %s\n", err);
        asm_image_free(&img);
        return CLI_EXIT_USAGE;
    }
    stack_feed_input(s, o->input, o->input_len);
    if (!o->json) stack_set_output_sink(s, write_stdout, NULL);
    struct stack_tracer tracer = {stderr, s, &img};
    if (o->trace == TRACE_TRAPS) stack_set_trap_hook(s, stack_trace, &tracer);
    enum machine_stop stop = stack_run(s, o->max_steps);
    fflush(stdout);
    struct run_outcome oc = outcome_of_stack(s, stop);
    unsigned level;
    const char *message;
    const bool failed = stack_vmm_error(s, &level, &message);
    if (o->json) {
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        report_json_fields(&j, &oc);
        level_json(&j, s);
        if (stack_c_vmm(s)) vmm_json(&j, stack_c_vmm(s), 0);
        if (failed) {
            json_object_begin(&j, "vmm_error");
            json_uint(&j, "level", level);
            json_string(&j, "message", message);
            json_object_end(&j);
        }
        json_object_end(&j);
        json_finish(&j);
    } else {
        /* When a monitor gave up, that is why the guest stopped. */
        if (failed) fprintf(stderr, "trapeze: the asm VMM at level %u gave up: %s\n", level, message);
        else report_stop_line(stderr, "trapeze", &oc, o->max_steps);
        report_summary(stderr, &oc);
        level_table(stderr, s);
    }
    int rc = report_exit_status(&oc);
    stack_destroy(s);
    asm_image_free(&img);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct run_options o;
    int rc = run_options_parse(&o, argc, argv,
                               "Runs PROGRAM (a .s source or an image) on the bare machine, with\n"
                               "--vmm as guest(s) of the C VMM (--vms N copies, or several PROGRAMs),\n"
                               "or with --stack/--depth under a stack of monitors.\n"
                               "Guest console output goes to stdout; the exit status is r1 at halt,\n"
                               "3 when the run stops otherwise (machine check, budget, unhandled trap).",
                               "PROGRAM...");
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    if (!o.vmm && (o.vms || o.out_dir)) {
        fprintf(stderr, "trapeze run: %s needs --vmm\n", o.vms ? "--vms" : "--out-dir");
        rc = CLI_EXIT_USAGE;
    } else if (o.nprograms == 0 || (!o.vmm && o.nprograms != 1)) {
        fprintf(stderr, "trapeze run: expected one PROGRAM%s, got %zu (see trapeze run --help)\n",
                o.vmm ? " or more" : "", o.nprograms);
        rc = CLI_EXIT_USAGE;
    } else {
        rc = o.stacked ? run_stack(&o) : o.vmm ? run_vmm(&o) : run_bare(&o);
    }
    run_options_free(&o);
    return rc;
}
