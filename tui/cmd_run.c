/* cmd_run.c: `trapeze run`, a program on the bare machine. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../assembler/asm.h"
#include "../machine/machine.h"
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

int cmd_run(int argc, char **argv)
{
    struct run_options o;
    int rc = run_options_parse(&o, argc, argv,
                               "Runs PROGRAM (a .s source or an image) on the bare machine.\n"
                               "Guest console output goes to stdout; the exit status is r1 at halt,\n"
                               "3 when the run stops otherwise (machine check, budget, unhandled trap).",
                               "PROGRAM");
    if (rc) {
        run_options_free(&o);
        return rc == 1 ? CLI_EXIT_OK : rc;
    }
    if (o.nprograms != 1) {
        fprintf(stderr, "trapeze run: expected one PROGRAM, got %zu (see trapeze run --help)\n",
                o.nprograms);
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    const char *path = o.programs[0];
    struct asm_image img;
    if (asm_load_program(path, &img, stderr) != 0) {
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    struct machine *m = machine_create(o.mem, &o.variant);
    if (!m) {
        fprintf(stderr, "trapeze run: cannot allocate %zu words of memory\n", o.mem);
        asm_image_free(&img);
        run_options_free(&o);
        return CLI_EXIT_USAGE;
    }
    rc = CLI_EXIT_USAGE;
    if (!asm_image_place(&img, machine_memory(m), machine_memsize(m), 0)) {
        fprintf(stderr, "%s: error: the program does not fit in %zu words of memory (--mem)\n",
                path, o.mem);
        goto out;
    }
    machine_reset(m, img.entry);
    machine_feed_input(m, o.input, o.input_len);
    if (!o.json) machine_set_output_sink(m, write_stdout, NULL);
    struct tracer tracer = {&img, stderr};
    if (o.trace != TRACE_NONE) {
        struct machine_observer obs = {&tracer, o.trace == TRACE_INSNS ? trace_insn : NULL,
                                       trace_trap};
        machine_set_observer(m, &obs);
    }

    enum machine_stop stop = machine_run(m, o.max_steps);
    fflush(stdout);
    struct run_outcome outcome = report_outcome_of(m, stop);
    if (o.json) {
        struct json j;
        json_init(&j, stdout);
        json_object_begin(&j, NULL);
        report_json_fields(&j, &outcome);
        json_object_end(&j);
        json_finish(&j);
    } else {
        report_stop_line(stderr, "trapeze", &outcome, o.max_steps);
        report_summary(stderr, &outcome);
    }
    rc = report_exit_status(&outcome);
out:
    machine_destroy(m);
    asm_image_free(&img);
    run_options_free(&o);
    return rc;
}
