/* report.c: summaries, JSON and exit statuses of finished runs. */
#include "report.h"

#include <inttypes.h>

#include "cli.h"

struct run_outcome report_outcome_of(const struct machine *m, enum machine_stop stop)
{
    struct run_outcome o = {0};
    o.stop = stop;
    for (unsigned r = 0; r < ISA_NREGS; r++) o.regs[r] = machine_reg(m, r);
    o.psw = machine_psw(m);
    const struct machine_stats *st = machine_stats(m);
    o.instructions = st->retired;
    o.steps = machine_steps(m);
    for (int c = 0; c < CAUSE_COUNT; c++) o.traps[c] = st->traps[c];
    const struct machine_trap *t = machine_last_trap(m);
    if (t) o.last_trap = *t, o.has_trap = true;
    o.output = machine_output(m, &o.output_len);
    return o;
}

int report_exit_status(const struct run_outcome *o)
{
    return o->stop == MACHINE_HALT ? (int)(o->regs[1] & 0xffu) : CLI_EXIT_STOPPED;
}

void report_json_fields(struct json *j, const struct run_outcome *o)
{
    json_string(j, "stop", machine_stop_name(o->stop));
    json_uint(j, "status", o->regs[1]);
    json_array_begin(j, "regs");
    for (unsigned r = 0; r < ISA_NREGS; r++) json_uint(j, NULL, o->regs[r]);
    json_array_end(j);
    json_object_begin(j, "psw");
    json_uint(j, "flags", o->psw.flags);
    json_uint(j, "pc", o->psw.pc);
    json_uint(j, "base", o->psw.base);
    json_uint(j, "bound", o->psw.bound);
    json_uint(j, "timer", o->psw.timer);
    json_object_end(j);
    json_uint(j, "instructions", o->instructions);
    json_uint(j, "steps", o->steps);
    json_object_begin(j, "traps");
    for (unsigned c = 1; c < CAUSE_COUNT; c++) json_uint(j, isa_cause_name(c), o->traps[c]);
    json_object_end(j);
    json_bytes(j, "output", o->output, o->output_len);
}

const char *report_mem_detail_name(unsigned detail)
{
    const char *phrase = isa_mem_fault_phrase(detail);
    return phrase ? phrase : "?";
}

static void describe_trap(FILE *out, const struct machine_trap *t)
{
    const char *name = isa_cause_name(t->cause);
    if (name) fprintf(out, "%s", name);
    else fprintf(out, "cause %u", (unsigned)t->cause);
    if (t->cause == CAUSE_MEM) fprintf(out, " (%s)", report_mem_detail_name(t->detail));
    fprintf(out, " value 0x%" PRIx32 " at pc 0x%" PRIx32, t->value, t->old_psw.pc);
}

void report_stop_line(FILE *out, const char *who, const struct run_outcome *o,
                      uint64_t max_steps)
{
    switch (o->stop) {
    case MACHINE_HALT: return;
    case MACHINE_BUDGET:
    case MACHINE_STOPPED:
        fprintf(out, "%s: budget of %" PRIu64 " steps exhausted at pc 0x%" PRIx32 "\n", who,
                max_steps, o->psw.pc);
        return;
    case MACHINE_CHECK:
        fprintf(out, "%s: machine check: trap ", who);
        if (o->has_trap) describe_trap(out, &o->last_trap);
        fprintf(out, ", and the new PSW's pc 0x%" PRIx32 " does not translate\n", o->psw.pc);
        return;
    case MACHINE_UNHANDLED_TRAP:
        fprintf(out, "%s: unhandled trap ", who);
        if (o->has_trap) describe_trap(out, &o->last_trap);
        fprintf(out, ": no handler installed (the new PSW at words 8..12 is all zero)\n");
        return;
    }
}

void report_summary(FILE *out, const struct run_outcome *o)
{
    fprintf(out, "trapeze: %s", machine_stop_name(o->stop));
    if (o->stop == MACHINE_HALT) fprintf(out, ", status %" PRId32, (int32_t)o->regs[1]);
    fprintf(out, "; %" PRIu64 " instructions, %" PRIu64 " steps", o->instructions, o->steps);
    bool any = false;
    for (unsigned c = 1; c < CAUSE_COUNT; c++) {
        if (!o->traps[c]) continue;
        fprintf(out, "%s %s %" PRIu64, any ? "," : "; traps:", isa_cause_name(c), o->traps[c]);
        any = true;
    }
    fputc('\n', out);
}
