/* report.c: summaries, JSON and exit statuses of finished runs. */
#include "report.h"

#include <inttypes.h>
#include <string.h>

#include "cli.h"

struct run_outcome report_outcome_of_run(const struct run *r, unsigned g)
{
    struct run_guest_state st;
    run_guest_state(r, g, &st);
    struct run_outcome o = {0};
    o.stop = st.stop;
    memcpy(o.regs, st.regs, sizeof o.regs);
    o.psw = st.psw;
    o.instructions = st.instructions;
    o.steps = st.steps;
    memcpy(o.traps, st.traps, sizeof o.traps);
    o.last_trap = st.last_trap;
    o.has_trap = st.has_trap;
    o.output = st.output;
    o.output_len = st.output_len;
    return o;
}

int report_exit_status(const struct run_outcome *o)
{
    switch (o->stop) {
    case MACHINE_HALT: return o->regs[1] <= CLI_EXIT_HALT_MAX ? (int)o->regs[1] : CLI_EXIT_HALT_OTHER;
    case MACHINE_BUDGET:
    case MACHINE_STOPPED: return CLI_EXIT_BUDGET;
    case MACHINE_CHECK:
    case MACHINE_UNHANDLED_TRAP: break;
    }
    return CLI_EXIT_STOPPED;
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

static void describe_trap(FILE *out, const struct machine_trap *t)
{
    const char *name = isa_cause_name(t->cause);
    if (name) fprintf(out, "%s", name);
    else fprintf(out, "cause %u", (unsigned)t->cause);
    const char *phrase = t->cause == CAUSE_MEM ? isa_mem_fault_phrase(t->detail) : NULL;
    if (phrase) fprintf(out, " (%s)", phrase);
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
