/*
 * commands.c: the command table (commands.h) and its handlers.
 *
 * The table at the bottom is the only list of commands: lookup, arity
 * checks, help and completion all read it.  Handlers parse their own
 * operands (addresses, registers, numbers) with the helpers below and
 * leave every decision about running to the engine.
 */
#include "commands.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../vmm/vmm.h"
#include "cli.h"

#define MAX_ARGS 8
#define LINE_MAX_LEN 512
#define REPORT_TRAPS 12 /* a motion lists at most this many of its traps */

static const char *const info_topics[] = {"regs",      "psw",    "levels", "traps", "breaks", "fmap",
                                          "pagetable", "shadow", "output", NULL};
static const char *const reg_names[ISA_NREGS] = {"r0", "r1", "r2",  "r3",  "r4",  "r5", "r6", "r7",
                                                 "r8", "r9", "r10", "r11", "r12", "r13", "sp", "lr"};
static const char *const break_words[] = {"trap", "mode", "level", NULL};

/* ---- Formatting ----------------------------------------------------------------------- */

void commands_level_name(const struct engine *e, unsigned L, char *buf, size_t size)
{
    engine_level_name(e, L, buf, size);
}

void commands_format_flags(uint32_t flags, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s %s %s", (flags & PSW_M) ? "S " : "U ", (flags & PSW_IE) ? "IE" : "--",
             (flags & PSW_PG) ? "PG" : "--", (flags & PSW_TP) ? "TP" : "--");
}

void commands_format_place(const struct engine *e, unsigned L, uint32_t va, char *buf, size_t size)
{
    uint32_t pa, off;
    const char *label = NULL;
    if (engine_translate(e, L, va, &pa, NULL)) label = engine_label_near(e, L, pa, &off);
    if (label && off == 0) snprintf(buf, size, "0x%06" PRIx32 " <%s>", va, label);
    else if (label) snprintf(buf, size, "0x%06" PRIx32 " <%s+%" PRIu32 ">", va, label, off);
    else snprintf(buf, size, "0x%06" PRIx32, va);
}

void commands_format_trap(const struct engine *e, uint64_t seq, bool compact, char *buf, size_t size)
{
    engine_describe_trap(e, seq, compact, buf, size);
}

void commands_format_state(const struct engine *e, unsigned L, char *buf, size_t size)
{
    struct run_level_view v;
    engine_level(e, L, &v);
    char who[64];
    commands_level_name(e, v.running, who, sizeof who);
    switch (v.state) {
    case RUN_LEVEL_RUNNING:
        snprintf(buf, size, "running%s", v.place == VMM_PLACE_INTERPRETED ? ", interpreted" : "");
        break;
    case RUN_LEVEL_WAITING:
        snprintf(buf, size, "waiting: %s runs", who);
        break;
    case RUN_LEVEL_SUSPENDED:
        snprintf(buf, size, "suspended: %s is handling its trap; shown as at its step %" PRIu64, who,
                 v.as_of);
        break;
    case RUN_LEVEL_NOT_STARTED:
        snprintf(buf, size, "not started: %s is starting it", who);
        break;
    case RUN_LEVEL_STOPPED:
        snprintf(buf, size, "stopped: %s", machine_stop_name(v.stop));
        break;
    }
}

/* ---- Operands --------------------------------------------------------------------------- */

static int error(struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int error(struct cmd_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[sizeof c->status - 8];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->status, sizeof c->status, "error: %s", msg);
    fprintf(c->out, "%s\n", c->status);
    return -1;
}

/* Says one line of a report: to the output, and as the status line. */
static void say(struct cmd_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct cmd_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->status, sizeof c->status, fmt, ap);
    va_end(ap);
    fprintf(c->out, "%s\n", c->status);
}

/* A number: decimal, 0x hex, or -decimal. */
static bool parse_number(const char *s, uint32_t *out)
{
    if (!s || !*s) return false;
    bool neg = *s == '-';
    if (neg) s++;
    if (!isdigit((unsigned char)*s)) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > UINT32_MAX) return false;
    *out = neg ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
    return true;
}

static bool parse_reg(const char *s, unsigned *r)
{
    if (strcmp(s, "sp") == 0) return *r = ISA_REG_SP, true;
    if (strcmp(s, "lr") == 0) return *r = ISA_REG_LR, true;
    if (strcmp(s, "pc") == 0) return *r = ENGINE_REG_PC, true;
    if (s[0] != 'r' || !isdigit((unsigned char)s[1])) return false;
    char *end;
    long n = strtol(s + 1, &end, 10);
    if (*end || n < 0 || n >= ISA_NREGS) return false;
    *r = (unsigned)n;
    return true;
}

/* A value: NUMBER, LABEL, LABEL+N or LABEL-N (the program's symbols). */
static bool parse_value(struct cmd_ctx *c, const char *s, uint32_t *out)
{
    if (parse_number(s, out)) return true;
    char name[128];
    const char *op = strpbrk(s, "+-");
    size_t n = op ? (size_t)(op - s) : strlen(s);
    if (n == 0 || n >= sizeof name) return false;
    memcpy(name, s, n);
    name[n] = '\0';
    uint32_t base, off = 0;
    if (!engine_symbol(c->e, name, &base)) return false;
    if (op && !parse_number(op + 1, &off)) return false;
    *out = op && *op == '-' ? base - off : base + off;
    return true;
}

/* An address of level L's physical memory: a value (parse_value), or `pc`
 * (the level's pc, translated). */
static bool parse_addr(struct cmd_ctx *c, unsigned L, const char *s, uint32_t *out)
{
    if (strcmp(s, "pc") == 0) {
        uint32_t pc;
        return engine_pc(c->e, L, &pc) && engine_translate(c->e, L, pc, out, NULL);
    }
    return parse_value(c, s, out);
}

static bool parse_level(struct cmd_ctx *c, const char *s, unsigned *L)
{
    const char *digits = (s[0] == 'L' || s[0] == 'l') ? s + 1 : s;
    uint32_t n;
    if (!parse_number(digits, &n) || n >= engine_level_count(c->e)) return false;
    *L = n;
    return true;
}

/* ---- Reports ------------------------------------------------------------------------------ */

/* New console output since the last report (or a note that it shrank). */
static void report_console(struct cmd_ctx *c)
{
    if (!c->echo_console) return;
    size_t len;
    const uint8_t *out = engine_output(c->e, &len);
    if (len < c->console_shown) {
        fprintf(c->out, "[console output rewound to %zu bytes]\n", len);
        c->console_shown = len;
        return;
    }
    /* Whole lines only, so that the program's lines are not cut by ours;
     * the rest when the program has stopped. */
    size_t upto = len;
    if (!engine_exited(c->e, NULL, NULL))
        while (upto > c->console_shown && out[upto - 1] != '\n') upto--;
    if (upto > c->console_shown) {
        fwrite(out + c->console_shown, 1, upto - c->console_shown, c->out);
        if (out[upto - 1] != '\n') fputc('\n', c->out);
    }
    c->console_shown = upto;
}

/* "L2 0x000018 <_start+8>: st r2, 10(r0)    [traps.s:61]", with the
 * level's state when it does not run; a waiting monitor shows what runs. */
static void report_location(struct cmd_ctx *c, unsigned L)
{
    unsigned code = engine_code_level(c->e, L);
    struct run_level_view v;
    engine_level(c->e, code, &v);
    if (v.state == RUN_LEVEL_WAITING) code = v.running;
    uint32_t pc, pa;
    if (!engine_pc(c->e, code, &pc)) return;
    char place[96], text[96], where[64] = "", state[160] = "";
    commands_format_place(c->e, code, pc, place, sizeof place);
    engine_disassemble(c->e, code, pc, NULL, text, sizeof text);
    if (engine_translate(c->e, code, pc, &pa, NULL))
        engine_source_line(c->e, code, pa, where, sizeof where, NULL);
    engine_level(c->e, code, &v);
    if (v.state != RUN_LEVEL_RUNNING) commands_format_state(c->e, code, state, sizeof state);
    fprintf(c->out, "L%u %s: %s", code, place, text);
    if (*where) fprintf(c->out, "    [%s]", where);
    if (*state) fprintf(c->out, "    (%s)", state);
    fputc('\n', c->out);
}

static void report_traps(struct cmd_ctx *c, uint64_t first, uint64_t last)
{
    if (first > last) return;
    if (last - first + 1 > REPORT_TRAPS) {
        fprintf(c->out, "... %" PRIu64 " traps (info traps lists them)\n",
                last - first + 1 - REPORT_TRAPS);
        first = last - REPORT_TRAPS + 1;
    }
    char buf[320];
    for (uint64_t s = first; s <= last; s++) {
        if (!engine_trap_get(c->e, s)) continue;
        commands_format_trap(c->e, s, false, buf, sizeof buf);
        fprintf(c->out, "%s\n", buf);
    }
}

/* Why a motion stopped, in words ("" when it just did what it was asked). */
static void stop_text(struct cmd_ctx *c, const struct engine_result *r, char *buf, size_t size)
{
    enum machine_stop why;
    uint32_t status;
    buf[0] = '\0';
    switch (r->outcome) {
    case ENGINE_BREAK: {
        const struct engine_break *b = NULL;
        for (unsigned i = 0; i < engine_break_count(c->e); i++)
            if (engine_break_get(c->e, i)->id == r->breakpoint) b = engine_break_get(c->e, i);
        char what[48] = "";
        if (b && b->kind == ENGINE_BREAK_TRAP) snprintf(what, sizeof what, " (trap)");
        else if (b && b->kind == ENGINE_BREAK_MODE) snprintf(what, sizeof what, " (mode of L%u changed)", b->level);
        else if (b && b->kind == ENGINE_BREAK_LEVEL) snprintf(what, sizeof what, " (L%u got control)", b->level);
        else if (b && b->kind == ENGINE_BREAK_ADDR) snprintf(what, sizeof what, " (L%u)", b->level);
        snprintf(buf, size, "breakpoint %u%s", r->breakpoint, what);
        break;
    }
    case ENGINE_EXITED:
        if (engine_exited(c->e, &why, &status)) {
            if (why == MACHINE_HALT) snprintf(buf, size, "the program halted, status %" PRIu32, status);
            else snprintf(buf, size, "the program stopped: %s", machine_stop_name(why));
        }
        break;
    case ENGINE_BUDGET:
        snprintf(buf, size, "stopped: the budget of %" PRIu64 " steps of the program is spent (--max-steps)",
                 engine_max_steps(c->e));
        break;
    case ENGINE_STALLED:
        snprintf(buf, size, "stopped: the monitors ran %llu steps without a step of the program "
                 "(does the variant let a monitor's own system instructions run in user mode?)",
                 (unsigned long long)RUN_STALL_UNITS);
        break;
    case ENGINE_AT_START: snprintf(buf, size, "at the start of the history"); break;
    case ENGINE_FAILED: snprintf(buf, size, "error: cannot go there (out of memory?)"); break;
    case ENGINE_DONE:
    case ENGINE_RUNNING:
    case ENGINE_TRAPPED: break;
    }
}

static void report_stop(struct cmd_ctx *c, const struct engine_result *r)
{
    char text[sizeof c->status];
    stop_text(c, r, text, sizeof text);
    if (*text) say(c, "%s", text);
}

static void report(struct cmd_ctx *c, const struct engine_result *r, uint64_t first_trap)
{
    c->status[0] = '\0';
    /* The status line tells the trap until-trap waited for, else the last. */
    uint64_t last = engine_trap_total(c->e);
    uint64_t told = c->motion == ENGINE_UNTIL_TRAP ? first_trap : last;
    if (last >= first_trap && engine_trap_get(c->e, told))
        commands_format_trap(c->e, told, false, c->status, sizeof c->status);
    report_console(c);
    report_traps(c, first_trap, engine_trap_total(c->e));
    report_stop(c, r);
    report_location(c, c->level);
}

/* ---- Motions -------------------------------------------------------------------------------- */

/* Runs the motion under way for one slice (all of it when c->slice is 0);
 * reports when it ends.  True while it is still running. */
static bool drive(struct cmd_ctx *c)
{
    for (;;) {
        struct engine_result r = engine_go(c->e, c->slice);
        if (r.outcome == ENGINE_RUNNING) {
            c->running = true;
            return true;
        }
        if (r.outcome == ENGINE_DONE && c->repeat_left > 0) {
            c->repeat_left--;
            engine_begin(c->e, c->motion, c->level);
            if (c->slice) {
                c->running = true;
                return true;
            }
            continue;
        }
        c->running = false;
        report(c, &r, c->first_trap);
        return false;
    }
}

bool commands_resume(struct cmd_ctx *c)
{
    if (!c->running) return false;
    return drive(c);
}

void commands_interrupt(struct cmd_ctx *c)
{
    if (!c->running) return;
    c->running = false;
    c->repeat_left = 0;
    struct engine_result r = {ENGINE_DONE, 0, c->first_trap, engine_trap_total(c->e), 0};
    report(c, &r, c->first_trap);
    say(c, "interrupted at step %" PRIu64, engine_guest_steps(c->e));
}

/* The optional repeat count of step, next, reverse-step. */
static bool count_arg(struct cmd_ctx *c, int argc, char **argv, uint32_t *n)
{
    *n = 1;
    if (argc == 0) return true;
    if (!parse_number(argv[0], n) || *n == 0 || *n > 1000000) {
        error(c, "expected a count from 1 to 1000000, got '%s'", argv[0]);
        return false;
    }
    return true;
}

static int motion(struct cmd_ctx *c, enum engine_motion m, int argc, char **argv)
{
    uint32_t n;
    if (!count_arg(c, argc, argv, &n)) return -1;
    c->motion = m;
    c->repeat_left = n - 1;
    c->first_trap = engine_trap_total(c->e) + 1;
    c->start_time = engine_guest_steps(c->e);
    engine_begin(c->e, m, c->level);
    drive(c);
    return 0;
}

static int cmd_step(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_STEP, argc, argv);
}

static int cmd_next(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_NEXT, argc, argv);
}

static int cmd_until_trap(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_UNTIL_TRAP, argc, argv);
}

static int cmd_continue(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    return motion(c, ENGINE_CONTINUE, argc, argv);
}

/* "back 2 steps, at step 5": steps of the program; within one of them
 * (a monitor's instructions), the machine's steps. */
static void report_back(struct cmd_ctx *c, uint64_t from_steps, uint64_t from_time,
                        const struct engine_result *r)
{
    report_console(c);
    char why[sizeof c->status];
    stop_text(c, r, why, sizeof why);
    const uint64_t now = engine_guest_steps(c->e), back = from_steps - now;
    if (back || from_time == engine_time(c->e))
        say(c, "back %" PRIu64 " step%s, at step %" PRIu64 "%s%s", back, back == 1 ? "" : "s", now,
            *why ? ": " : "", why);
    else
        say(c, "back %" PRIu64 " machine step%s, still at step %" PRIu64 " of the program%s%s",
            from_time - engine_time(c->e), from_time - engine_time(c->e) == 1 ? "" : "s", now,
            *why ? ": " : "", why);
    report_location(c, c->level);
}

static int cmd_reverse_step(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    uint32_t n;
    if (!count_arg(c, argc, argv, &n)) return -1;
    c->running = false;
    uint64_t from = engine_guest_steps(c->e), from_time = engine_time(c->e);
    struct engine_result r = {ENGINE_DONE, 0, 1, 0, 0};
    for (uint32_t i = 0; i < n && r.outcome == ENGINE_DONE; i++)
        r = engine_reverse_step(c->e, c->level);
    report_back(c, from, from_time, &r);
    return r.outcome == ENGINE_FAILED ? -1 : 0;
}

static int cmd_reverse_continue(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc, (void)argv;
    c->running = false;
    uint64_t from = engine_guest_steps(c->e), from_time = engine_time(c->e);
    struct engine_result r = engine_reverse_continue(c->e);
    report_back(c, from, from_time, &r);
    return r.outcome == ENGINE_FAILED ? -1 : 0;
}

/* ---- Breakpoints ------------------------------------------------------------------------------ */

static void describe_break(struct cmd_ctx *c, const struct engine_break *b)
{
    char place[96], where[64] = "";
    switch (b->kind) {
    case ENGINE_BREAK_ADDR: {
        const char *label;
        uint32_t off;
        label = engine_label_near(c->e, b->level, b->addr, &off);
        if (label && off) snprintf(place, sizeof place, "0x%06" PRIx32 " <%s+%" PRIu32 ">", b->addr, label, off);
        else if (label) snprintf(place, sizeof place, "0x%06" PRIx32 " <%s>", b->addr, label);
        else snprintf(place, sizeof place, "0x%06" PRIx32, b->addr);
        engine_source_line(c->e, b->level, b->addr, where, sizeof where, NULL);
        fprintf(c->out, "breakpoint %u at L%u %s", b->id, b->level, place);
        if (*where) fprintf(c->out, "    [%s]", where);
        break;
    }
    case ENGINE_BREAK_TRAP:
        fprintf(c->out, "breakpoint %u on trap %s", b->id,
                b->cause == CAUSE_NONE ? "(any cause)" : isa_cause_name(b->cause));
        break;
    case ENGINE_BREAK_MODE:
        fprintf(c->out, "breakpoint %u when L%u changes mode", b->id, b->level);
        break;
    case ENGINE_BREAK_LEVEL:
        fprintf(c->out, "breakpoint %u when L%u gets control", b->id, b->level);
        break;
    }
}

static int add_break(struct cmd_ctx *c, const struct engine_break *b)
{
    unsigned existing;
    unsigned id = engine_break_add(c->e, b, &existing);
    if (!id && existing) return error(c, "breakpoint %u is already there", existing);
    if (!id) return error(c, "too many breakpoints (%d)", ENGINE_MAX_BREAKS);
    for (unsigned i = 0; i < engine_break_count(c->e); i++)
        if (engine_break_get(c->e, i)->id == id) describe_break(c, engine_break_get(c->e, i));
    fputc('\n', c->out);
    return 0;
}

static int cmd_break(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    struct engine_break b = {0};
    unsigned code = engine_code_level(c->e, c->level);
    if (strcmp(argv[0], "trap") == 0) {
        b.kind = ENGINE_BREAK_TRAP;
        b.level = ENGINE_NO_LEVEL;
        b.cause = CAUSE_NONE;
        if (argc == 2) {
            uint32_t n;
            b.cause = isa_cause_by_name(argv[1]);
            if (b.cause == CAUSE_NONE && parse_number(argv[1], &n) && n >= 1 && n < CAUSE_COUNT)
                b.cause = (enum isa_cause)n;
            if (b.cause == CAUSE_NONE && strcmp(argv[1], "any") != 0)
                return error(c, "unknown trap cause '%s' (PRIV MEM ILL DIV SVC HCALL TIMER IO, or any)",
                             argv[1]);
        }
    } else if (strcmp(argv[0], "mode") == 0) {
        if (argc != 1) return error(c, "break mode takes no more operands");
        b.kind = ENGINE_BREAK_MODE;
        b.level = code;
    } else if (strcmp(argv[0], "level") == 0) {
        if (argc != 2 || !parse_level(c, argv[1], &b.level))
            return error(c, "break level N: N is a level from 0 to %u", engine_level_count(c->e) - 1);
        b.kind = ENGINE_BREAK_LEVEL;
    } else {
        if (argc != 1) return error(c, "break ADDR takes one operand");
        b.kind = ENGINE_BREAK_ADDR;
        b.level = code;
        if (!parse_addr(c, code, argv[0], &b.addr))
            return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    }
    return add_break(c, &b);
}

static int cmd_toggle(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc;
    unsigned code = engine_code_level(c->e, c->level);
    struct engine_break b = {.kind = ENGINE_BREAK_ADDR, .level = code};
    if (!parse_addr(c, code, argv[0], &b.addr))
        return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    unsigned id = engine_break_find(c->e, code, b.addr);
    if (id) {
        engine_break_delete(c->e, id);
        fprintf(c->out, "deleted breakpoint %u\n", id);
        return 0;
    }
    return add_break(c, &b);
}

static int cmd_delete(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0 || strcmp(argv[0], "all") == 0) {
        engine_break_clear(c->e);
        fprintf(c->out, "deleted every breakpoint\n");
        return 0;
    }
    uint32_t id;
    if (!parse_number(argv[0], &id)) return error(c, "expected a breakpoint number, got '%s'", argv[0]);
    if (!engine_break_delete(c->e, id)) return error(c, "no breakpoint %" PRIu32, id);
    fprintf(c->out, "deleted breakpoint %" PRIu32 "\n", id);
    return 0;
}

/* ---- Looking ----------------------------------------------------------------------------------- */

/* "L2 guest: traps.s, step 40 (suspended: ...)": the level, its own step
 * count, and its state when it does not run. */
static void level_header(struct cmd_ctx *c, unsigned L, const struct run_level_view *v)
{
    char name[96], state[200];
    commands_level_name(c->e, L, name, sizeof name);
    fprintf(c->out, "%s", name);
    if (!v->host_code) fprintf(c->out, ", step %" PRIu64, v->steps);
    if (v->state != RUN_LEVEL_RUNNING) {
        commands_format_state(c->e, L, state, sizeof state);
        fprintf(c->out, " (%s)", state);
    }
}

static void host_code_counts(struct cmd_ctx *c, unsigned L)
{
    struct run_level_counts k;
    engine_level_counts(c->e, L, &k);
    fprintf(c->out,
            "  host code, no registers of the machine's; for its guest: %" PRIu64
            " instructions direct, %" PRIu64 " emulated (%" PRIu64 " interpreted), %" PRIu64
            " traps reflected, %" PRIu64 " entries\n",
            k.direct, k.emulated, k.interpreted, k.reflected, k.entries);
}

static void info_regs(struct cmd_ctx *c, unsigned L)
{
    struct run_level_view v;
    engine_level(c->e, L, &v);
    level_header(c, L, &v);
    if (v.state == RUN_LEVEL_WAITING && !v.host_code)
        fprintf(c->out, "\n  (the machine's registers, which hold L%u's while it runs)", v.running);
    fputc('\n', c->out);
    if (v.host_code) {
        host_code_counts(c, L);
        return;
    }
    for (unsigned r = 0; r < ISA_NREGS; r++)
        fprintf(c->out, "  %-3s 0x%08" PRIx32 "%s", reg_names[r], v.regs[r], r % 4 == 3 ? "\n" : "");
    char flags[32];
    commands_format_flags(v.psw.flags, flags, sizeof flags);
    fprintf(c->out, "  pc  0x%06" PRIx32 "    flags %s", v.psw.pc, flags);
    uint32_t at;
    if (v.state == RUN_LEVEL_STOPPED && v.stop == MACHINE_HALT && engine_pc(c->e, L, &at))
        fprintf(c->out, "    (halted at 0x%06" PRIx32 ")", at);
    fputc('\n', c->out);
}

static void info_psw(struct cmd_ctx *c, unsigned L)
{
    struct run_level_view v;
    engine_level(c->e, L, &v);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    if (v.host_code) {
        fprintf(c->out, "%s is host code: no PSW of its own (see its guest's, level %u)\n", name,
                engine_code_level(c->e, L));
        return;
    }
    char f1[32], f2[32];
    commands_format_flags(v.psw.flags, f1, sizeof f1);
    if (!v.has_real) {
        fprintf(c->out, "PSW of ");
        level_header(c, L, &v);
        fprintf(c->out, "\n  flags  %s\n  pc     0x%06" PRIx32 "\n  base   0x%06" PRIx32
                        "\n  bound  0x%06" PRIx32 "\n  timer  %" PRIu32 "\n",
                f1, v.psw.pc, v.psw.base, v.psw.bound, v.psw.timer);
        return;
    }
    commands_format_flags(v.real.flags, f2, sizeof f2);
    fprintf(c->out, "PSW of %s: virtual (what it sees) | real (what %s runs)\n", name,
            v.place == VMM_PLACE_INTERPRETED ? "the C VMM's interpreter" : "the real machine");
    fprintf(c->out, "  flags  %-14s | %s\n", f1, f2);
    fprintf(c->out, "  pc     0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.pc, v.real.pc);
    fprintf(c->out, "  base   0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.base, v.real.base);
    fprintf(c->out, "  bound  0x%06" PRIx32 "       | 0x%06" PRIx32 "\n", v.psw.bound, v.real.bound);
    fprintf(c->out, "  timer  %-14" PRIu32 " | %" PRIu32 "\n", v.psw.timer, v.real.timer);
}

static void info_levels(struct cmd_ctx *c)
{
    unsigned running = engine_running_level(c->e);
    for (unsigned L = engine_level_count(c->e); L-- > 0;) {
        struct run_level_view v;
        engine_level(c->e, L, &v);
        char name[96], state[200];
        commands_level_name(c->e, L, name, sizeof name);
        commands_format_state(c->e, L, state, sizeof state);
        const bool runs = L == running && v.state == RUN_LEVEL_RUNNING;
        fprintf(c->out, "%c%c %-24s", L == c->level ? '*' : ' ', runs ? '>' : ' ', name);
        if (v.host_code) {
            struct run_level_counts k;
            engine_level_counts(c->e, L, &k);
            fprintf(c->out, " emulated %" PRIu64 ", reflected %" PRIu64 ", entries %" PRIu64, k.emulated,
                    k.reflected, k.entries);
        } else {
            uint32_t pc = v.psw.pc;
            engine_pc(c->e, L, &pc); /* a halted level: its halt */
            fprintf(c->out, " step %-9" PRIu64 " pc 0x%06" PRIx32 " %-10s", v.steps, pc,
                    (v.psw.flags & PSW_M) ? "supervisor" : "user");
        }
        fprintf(c->out, " %s\n", state);
    }
    fprintf(c->out, "(* selected, > runs now; each level's own steps; the real machine: step %" PRIu64
                    ")\n", engine_real_steps(c->e));
}

static void info_traps(struct cmd_ctx *c, int argc, char **argv)
{
    uint32_t n = 20;
    if (argc > 1 && (!parse_number(argv[1], &n) || n == 0)) {
        error(c, "info traps [N]: N is a count");
        return;
    }
    uint64_t total = engine_trap_total(c->e);
    if (total == 0) {
        fprintf(c->out, "no traps yet\n");
        return;
    }
    uint64_t first = total > n ? total - n + 1 : 1;
    report_traps(c, first, total);
}

static void info_breaks(struct cmd_ctx *c)
{
    unsigned n = engine_break_count(c->e);
    if (n == 0) fprintf(c->out, "no breakpoints\n");
    for (unsigned i = 0; i < n; i++) {
        const struct engine_break *b = engine_break_get(c->e, i);
        describe_break(c, b);
        fprintf(c->out, ", hit %" PRIu64 " time%s\n", b->hits, b->hits == 1 ? "" : "s");
    }
}

/* "L1-physical", or "real memory" for machine 0. */
static const char *space_name(unsigned j, char *buf, size_t size)
{
    if (j == 0) snprintf(buf, size, "real memory");
    else snprintf(buf, size, "L%u-physical", j);
    return buf;
}

static void info_fmap(struct cmd_ctx *c)
{
    unsigned L = engine_code_level(c->e, c->level);
    struct run_extent x[8];
    unsigned n = engine_fmap(c->e, L, false, x, 8);
    if (n == 0) {
        fprintf(c->out, "L%u runs on the real machine: its physical memory is real memory\n", L);
        return;
    }
    char onto[32];
    fprintf(c->out, "f-map of L%u, kept by L%u: L%u-physical -> %s\n", L, L - 1, L,
            space_name(L - 1, onto, sizeof onto));
    for (unsigned i = 0; i < n; i++)
        fprintf(c->out, "  [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> [0x%06" PRIx32 ", 0x%06" PRIx32
                        ")  %" PRIu32 " words\n",
                x[i].from, x[i].from + x[i].words, x[i].to, x[i].to + x[i].words, x[i].words);
    if (L - 1 == 0) return; /* it is already onto real memory */
    n = engine_fmap(c->e, L, true, x, 8);
    fprintf(c->out, "composed, L%u-physical -> real memory:\n", L);
    for (unsigned i = 0; i < n; i++)
        fprintf(c->out, "  [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> [0x%06" PRIx32 ", 0x%06" PRIx32 ")\n",
                x[i].from, x[i].from + x[i].words, x[i].to, x[i].to + x[i].words);
}

static void info_pagetable(struct cmd_ctx *c)
{
    unsigned L = engine_code_level(c->e, c->level);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    if (!(v.psw.flags & PSW_PG)) {
        fprintf(c->out, "L%u runs with paging off: va -> base 0x%06" PRIx32 " + va, bound 0x%06" PRIx32 "\n",
                L, v.psw.base, v.psw.bound);
        return;
    }
    fprintf(c->out, "L%u page table at L%u-physical 0x%06" PRIx32 ", %" PRIu32 " entries\n", L, L,
            v.psw.base, v.psw.bound);
    uint32_t vpn = v.psw.pc >> ISA_PAGE_SHIFT, pte, pa;
    if (engine_read_phys(c->e, L, v.psw.base + vpn, &pte) && vpn < v.psw.bound)
        fprintf(c->out, "  pc 0x%06" PRIx32 ": vpn 0x%" PRIx32 ", pte 0x%08" PRIx32 " %s%s -> ",
                v.psw.pc, vpn, pte, (pte & PTE_V) ? "V" : "-", (pte & PTE_W) ? "W" : "-");
    if (engine_translate(c->e, L, v.psw.pc, &pa, NULL))
        fprintf(c->out, "L%u-physical 0x%06" PRIx32 "\n", L, pa);
    else fprintf(c->out, "fault\n");
    unsigned shown = 0;
    for (uint32_t i = 0; i < v.psw.bound && shown < 32; i++) {
        if (!engine_read_phys(c->e, L, v.psw.base + i, &pte)) break;
        if (!(pte & PTE_V)) continue;
        fprintf(c->out, "  vpn 0x%04" PRIx32 " -> frame 0x%06" PRIx32 " %s\n", i, isa_pte_frame(pte),
                (pte & PTE_W) ? "rw" : "r-");
        shown++;
    }
    if (shown == 32) fprintf(c->out, "  ... (the first 32 valid entries)\n");
    fprintf(c->out, "(info shadow %u: this table beside the monitors' shadows and the real one; "
                    "translate ADDR: one address, level by level)\n", L);
}

/* ---- Page tables and the way of an address ----------------------------------------------- */

/* "L2 own", "L1 shadow": a table's column heading. */
static void table_heading(const struct run_page_table *t, char *buf, size_t size)
{
    snprintf(buf, size, "L%u %s", t->keeper, t->kind == RUN_TABLE_OWN ? "own" : "shadow");
}

/* "real 0x100100" or "L2-physical 0x00017a". */
static void machine_address(unsigned j, uint32_t a, char *buf, size_t size)
{
    if (j == 0) snprintf(buf, size, "real 0x%06" PRIx32, a);
    else snprintf(buf, size, "L%u-physical 0x%06" PRIx32, j, a);
}

void commands_format_pte(const struct engine *e, const struct run_page_table *t, uint32_t vpn,
                         bool brief, char *buf, size_t size, enum run_pte_mark *mark)
{
    uint32_t pte = 0;
    const bool present = engine_page_entry(e, t, vpn, &pte);
    struct run_pte_meaning m;
    engine_pte_decode(e, t, present, pte, &m);
    if (mark) *mark = m.mark;
    const char *tag = brief ? run_pte_mark_tag(m.mark) : run_pte_mark_text(m.mark);
    const char *sep = *tag ? " " : "";
    if (!present) snprintf(buf, size, "(%s)", tag);
    else if (!m.valid) snprintf(buf, size, "--%s%s", sep, tag);
    else if (m.mark == RUN_PTE_PAST_MEMORY) snprintf(buf, size, "V%c %s", m.writable ? 'W' : '-', tag);
    else snprintf(buf, size, "V%c %06" PRIx32 "%s%s", m.writable ? 'W' : '-', m.frame, sep, tag);
}

/* True when vpn is valid in some table, or is one's last change. */
static bool page_in_use(const struct engine *e, const struct run_page_table *t, unsigned n, uint32_t vpn)
{
    for (unsigned k = 0; k < n; k++) {
        uint32_t pte;
        if (engine_page_entry(e, &t[k], vpn, &pte) && (pte & PTE_V)) return true;
        if (t[k].change.known && t[k].change.vpn == vpn && vpn < t[k].entries) return true;
    }
    return false;
}

unsigned commands_pages_in_use(const struct engine *e, const struct run_page_table *t, unsigned n,
                               uint32_t *vpns, unsigned max, unsigned *total)
{
    uint32_t end = 0;
    for (unsigned k = 0; k < n; k++)
        if (t[k].entries > end) end = t[k].entries;
    if (end > RUN_MAX_VPN) end = RUN_MAX_VPN;
    unsigned got = 0, all = 0;
    for (uint32_t vpn = 0; vpn < end; vpn++) {
        if (!page_in_use(e, t, n, vpn)) continue;
        if (got < max) vpns[got++] = vpn;
        all++;
    }
    if (total) *total = all;
    return got;
}

/* The table a change marks in a row: the last-changed entries by vpn. */
static bool changed_here(const struct run_page_table *t, uint32_t vpn)
{
    return t->change.known && t->change.vpn == vpn;
}

void commands_format_change(const struct run_page_table *t, char *buf, size_t size)
{
    if (!t->change.known) {
        snprintf(buf, size, "no change seen");
        return;
    }
    if (t->change.count > 1)
        snprintf(buf, size, "vpn 0x%" PRIx32 ", %s (%u entries changed in one motion)", t->change.vpn,
                 vmm_shadow_reason_name(t->change.reason), t->change.count);
    else
        snprintf(buf, size, "vpn 0x%" PRIx32 ", %s", t->change.vpn, vmm_shadow_reason_name(t->change.reason));
}

#define SHADOW_ROWS 64 /* info shadow lists at most this many pages */

/* A line without the blanks a last padded column leaves. */
static void put_trimmed(struct cmd_ctx *c, char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == ' ') line[--n] = '\0';
    fprintf(c->out, "%s\n", line);
}

static int info_shadow(struct cmd_ctx *c, int argc, char **argv)
{
    unsigned L = engine_program_level(c->e);
    if (argc > 1 && !parse_level(c, argv[1], &L))
        return error(c, "info shadow [LEVEL]: expected a level from 0 to %u, got '%s'",
                     engine_level_count(c->e) - 1, argv[1]);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    if (v.host_code) {
        fprintf(c->out, "%s is host code: no pages of its own (its guest is L%u)\n", name, L + 1);
        return 0;
    }
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = engine_page_tables(c->e, L, t, RUN_MAX_PAGE_TABLES);
    if (n == 0) {
        fprintf(c->out, "%s does not page: its PSW relocates, base 0x%06" PRIx32 ", bound 0x%06" PRIx32 "\n",
                name, v.psw.base, v.psw.bound);
        return 0;
    }
    if (t[0].kind == RUN_TABLE_OWN)
        fprintf(c->out, "%s pages; the tables of its virtual pages, its own first:\n", name);
    else
        fprintf(c->out, "%s waits; its machine pages for L%u through the shadow it keeps, then:\n", name,
                L + 1);
    unsigned walked = n;
    for (unsigned k = 0; k < n; k++) {
        char keeper[96], where[48];
        commands_level_name(c->e, t[k].keeper, keeper, sizeof keeper);
        machine_address(t[k].machine, t[k].base, where, sizeof where);
        fprintf(c->out, "  [%u] %s: %s; %s, %" PRIu32 " entries", k + 1, keeper, t[k].what, where,
                t[k].entries);
        if (t[k].stale) fprintf(c->out, "; stale: rebuilt or checked before its next use");
        if (t[k].walker == RUN_WALK_HARDWARE && t[k].stale)
            fprintf(c->out, "; the hardware walks it once refreshed, from L%u's next instruction", L);
        else if (t[k].walker == RUN_WALK_HARDWARE) fprintf(c->out, "; the hardware walks it now");
        if (t[k].walker == RUN_WALK_INTERPRETER) fprintf(c->out, "; the C VMM's interpreter walks it now");
        if (t[k].walker != RUN_WALK_NONE) walked = k;
        fputc('\n', c->out);
    }
    if (walked == n) {
        char state[200];
        commands_format_state(c->e, L, state, sizeof state);
        if (v.state != RUN_LEVEL_RUNNING)
            fprintf(c->out, "  nothing walks them now: L%u is %s\n", L, state);
        else if (v.has_real && (v.real.flags & PSW_PG))
            fprintf(c->out, "  the real PSW names real 0x%06" PRIx32 ", not yet a shadow of these: the C VMM "
                            "builds it before L%u's next instruction\n", v.real.base, L);
        else fprintf(c->out, "  the real PSW does not page\n");
    }

    uint32_t vpns[SHADOW_ROWS];
    unsigned total;
    const unsigned rows = commands_pages_in_use(c->e, t, n, vpns, SHADOW_ROWS, &total);
    char line[64 + RUN_MAX_PAGE_TABLES * 24];
    int len = snprintf(line, sizeof line, " %-6s %-8s", "vpn", "virtual");
    for (unsigned k = 0; k < n; k++) {
        char h[32], col[48];
        table_heading(&t[k], h, sizeof h);
        snprintf(col, sizeof col, "[%u] %s", k + 1, h);
        len += snprintf(line + len, sizeof line - (size_t)len, "  %-19.19s", col);
    }
    put_trimmed(c, line);
    bool marks[RUN_PTE_ABSENT + 1] = {false};
    for (unsigned i = 0; i < rows; i++) {
        char vpn[16];
        snprintf(vpn, sizeof vpn, "0x%" PRIx32, vpns[i]);
        len = snprintf(line, sizeof line, " %-6s 0x%06" PRIx32, vpn, vpns[i] << ISA_PAGE_SHIFT);
        for (unsigned k = 0; k < n; k++) {
            char cell[48];
            enum run_pte_mark m;
            commands_format_pte(c->e, &t[k], vpns[i], true, cell, sizeof cell, &m);
            marks[m] = true;
            len += snprintf(line + len, sizeof line - (size_t)len, " %c%-19.19s",
                            changed_here(&t[k], vpns[i]) ? '*' : ' ', cell);
        }
        put_trimmed(c, line);
    }
    if (rows == 0) fprintf(c->out, "  (no page is valid in any of them)\n");
    if (total > rows) fprintf(c->out, "  ... and %u more pages in use\n", total - rows);
    for (unsigned k = 0; k < n; k++) {
        if (!t[k].change.known) continue;
        char what[128];
        commands_format_change(&t[k], what, sizeof what);
        fprintf(c->out, "* [%u] changed last: %s\n", k + 1, what);
    }
    for (unsigned m = RUN_PTE_NOT_FILLED; m <= RUN_PTE_ABSENT; m++)
        if (marks[m])
            fprintf(c->out, "  %-9s %s\n", run_pte_mark_tag((enum run_pte_mark)m),
                    run_pte_mark_text((enum run_pte_mark)m));
    return 0;
}

/* One hop of a chain: "L2 virtual 0x000005 -> L2-physical 0x004005   paged: ...". */
static void report_hop(struct cmd_ctx *c, const struct run_hop *h, bool shortcut)
{
    char from[48], to[48], how[200] = "";
    if (h->kind == RUN_HOP_FMAP) machine_address(h->level, h->from, from, sizeof from);
    else if (shortcut) snprintf(from, sizeof from, "virtual 0x%06" PRIx32, h->from);
    else snprintf(from, sizeof from, "L%u virtual 0x%06" PRIx32, h->level, h->from);
    if (h->ok) machine_address(h->to_machine, h->to, to, sizeof to);
    else if (h->kind == RUN_HOP_FMAP) snprintf(to, sizeof to, "not mapped");
    else snprintf(to, sizeof to, "fault (%s)", isa_mem_fault_phrase(h->detail));
    switch (h->kind) {
    case RUN_HOP_RELOCATED:
        snprintf(how, sizeof how, "relocated: base 0x%06" PRIx32 " + va, bound 0x%06" PRIx32, h->base, h->bound);
        break;
    case RUN_HOP_PAGED:
        if (h->has_pte) {
            char at[48];
            machine_address(h->to_machine, h->pte_at, at, sizeof at);
            char what[32] = "invalid";
            if (h->pte & PTE_V)
                snprintf(what, sizeof what, "V%c, frame 0x%06" PRIx32, (h->pte & PTE_W) ? 'W' : '-',
                         isa_pte_frame(h->pte));
            snprintf(how, sizeof how, "paged: vpn 0x%" PRIx32 ", entry at %s = 0x%08" PRIx32 " (%s)", h->vpn,
                     at, h->pte, what);
        } else {
            snprintf(how, sizeof how, "paged: vpn 0x%" PRIx32 " has no entry (table at 0x%06" PRIx32 ", %" PRIu32 " entries)",
                     h->vpn, h->base, h->bound);
        }
        break;
    case RUN_HOP_FMAP: {
        char keeper[96];
        commands_level_name(c->e, h->level - 1, keeper, sizeof keeper);
        if (h->ok)
            snprintf(how, sizeof how, "f-map kept by %s: [0x%06" PRIx32 ", 0x%06" PRIx32 ") -> 0x%06" PRIx32,
                     keeper, h->extent.from, h->extent.from + h->extent.words, h->extent.to);
        else snprintf(how, sizeof how, "f-map kept by %s", keeper);
        break;
    }
    }
    fprintf(c->out, "  %s -> %s   %s\n", from, to, how);
}

/* The real table's entry that made the shortcut fault is one the C VMM
 * fills or interprets at the fault (not filled, interpreted, past its
 * capacity): the fault is its own, never the level's. */
static bool hidden_fault(const struct engine *e, unsigned L, const struct run_hop *h)
{
    struct run_page_table t[RUN_MAX_PAGE_TABLES];
    const unsigned n = engine_page_tables(e, L, t, RUN_MAX_PAGE_TABLES);
    for (unsigned k = 0; k < n; k++) {
        if (t[k].walker != RUN_WALK_HARDWARE || t[k].kind != RUN_TABLE_C_SHADOW) continue;
        uint32_t pte = 0;
        const bool present = engine_page_entry(e, &t[k], h->vpn, &pte);
        struct run_pte_meaning m;
        engine_pte_decode(e, &t[k], present, pte, &m);
        return m.mark == RUN_PTE_NOT_FILLED || m.mark == RUN_PTE_INTERPRETED || m.mark == RUN_PTE_ABSENT;
    }
    return false;
}

static int cmd_translate(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned L = engine_code_level(c->e, c->level);
    if (argc == 2 && !parse_level(c, argv[1], &L))
        return error(c, "translate ADDR [LEVEL]: expected a level from 0 to %u, got '%s'",
                     engine_level_count(c->e) - 1, argv[1]);
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    struct run_level_view v;
    engine_level(c->e, L, &v);
    if (v.host_code)
        return error(c, "%s is host code: it has no virtual addresses (its guest is L%u)", name, L + 1);
    uint32_t va;
    if (!parse_number(argv[0], &va) && !(strcmp(argv[0], "pc") == 0 && engine_pc(c->e, L, &va)))
        return error(c, "'%s' is not a virtual address (a number, or pc)", argv[0]);
    struct run_chain ch;
    if (!engine_translate_chain(c->e, L, va, &ch)) return error(c, "%s has no virtual addresses", name);
    fprintf(c->out, "%s, virtual 0x%06" PRIx32 ", level by level:\n", name, va);
    for (unsigned i = 0; i < ch.n; i++) report_hop(c, &ch.hop[i], false);
    if (ch.ok) fprintf(c->out, "  real 0x%06" PRIx32 " holds 0x%08" PRIx32 "\n", ch.real, ch.word);
    char state[200];
    commands_format_state(c->e, L, state, sizeof state);
    if (ch.by == RUN_WALK_INTERPRETER) {
        fprintf(c->out, "the hardware: no shortcut; the C VMM's interpreter runs L%u and walks its tables\n", L);
    } else if (!ch.has_shortcut) {
        fprintf(c->out, "the hardware: no shortcut now: L%u is %s\n", L, state);
    } else {
        fprintf(c->out, "the hardware, while L%u runs, in one hop with the real PSW:\n", L);
        report_hop(c, &ch.shortcut, true);
        const struct run_hop *s = &ch.shortcut;
        if (!ch.shortcut_ready)
            fprintf(c->out, "  not yet: the C VMM builds that table from L%u's before its next "
                            "instruction, so this entry is not yet L%u's\n", L, L);
        else if (s->ok && ch.ok && s->to == ch.real) fprintf(c->out, "  the same real word\n");
        else if (!s->ok && !ch.ok) fprintf(c->out, "  a fault as well\n");
        else if (!s->ok && hidden_fault(c->e, L, s))
            fprintf(c->out, "  a hidden fault: the C VMM fixes its entry (or interprets the access) and "
                            "retries; L%u never sees it\n", L);
        else
            fprintf(c->out, "  not the same as the chain: a table entry changed since the last flush "
                            "(tlbflush or PSW load), which the hardware need not see before it\n");
    }
    return 0;
}

static void info_output(struct cmd_ctx *c)
{
    size_t len;
    const uint8_t *out = engine_output(c->e, &len);
    fprintf(c->out, "console output so far, %zu bytes:\n", len);
    fwrite(out, 1, len, c->out);
    if (len && out[len - 1] != '\n') fputc('\n', c->out);
}

static int cmd_info(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    const char *t = argv[0];
    size_t n = strlen(t);
    const char *topic = NULL;
    for (size_t i = 0; info_topics[i]; i++)
        if (strncmp(info_topics[i], t, n) == 0) {
            if (topic) return error(c, "'info %s' is ambiguous", t);
            topic = info_topics[i];
        }
    if (!topic) return error(c, "info what? regs, psw, levels, traps, breaks, fmap, pagetable, shadow, output");
    unsigned L = c->level;
    if (strcmp(topic, "regs") == 0) info_regs(c, L);
    else if (strcmp(topic, "psw") == 0) info_psw(c, L);
    else if (strcmp(topic, "levels") == 0) info_levels(c);
    else if (strcmp(topic, "traps") == 0) info_traps(c, argc, argv);
    else if (strcmp(topic, "breaks") == 0) info_breaks(c);
    else if (strcmp(topic, "fmap") == 0) info_fmap(c);
    else if (strcmp(topic, "pagetable") == 0) info_pagetable(c);
    else if (strcmp(topic, "shadow") == 0) return info_shadow(c, argc, argv);
    else info_output(c);
    return 0;
}

static int cmd_x(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    uint32_t n = 8;
    if (sfx && (!parse_number(sfx, &n) || n == 0 || n > 4096))
        return error(c, "x/N: N is a count of words from 1 to 4096, got '%s'", sfx);
    unsigned L = c->level;
    bool virt = argc == 2;
    if (virt && strcmp(argv[1], "virtual") != 0 && strcmp(argv[1], "v") != 0)
        return error(c, "x/N ADDR [virtual]: unexpected '%s'", argv[1]);
    uint32_t addr;
    if (virt) {
        if (!parse_number(argv[0], &addr) && !(strcmp(argv[0], "pc") == 0 && engine_pc(c->e, L, &addr)))
            return error(c, "'%s' is not a virtual address", argv[0]);
    } else if (!parse_addr(c, L, argv[0], &addr)) {
        return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    }
    c->mem_addr = addr;
    c->mem_level = L;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = addr + i, pa = a, w;
        if (i % 4 == 0) {
            const char *label = virt ? NULL : engine_label_at(c->e, L, a);
            fprintf(c->out, "%s0x%06" PRIx32 "%s%s%s:", i ? "\n" : "", a, label ? " <" : "",
                    label ? label : "", label ? ">" : "");
        }
        bool ok = virt ? engine_translate(c->e, L, a, &pa, NULL) : true;
        if (ok && engine_read_phys(c->e, L, pa, &w)) fprintf(c->out, " 0x%08" PRIx32, w);
        else fprintf(c->out, " %10s", virt ? "<fault>" : "<none>");
    }
    fputc('\n', c->out);
    return 0;
}

static int cmd_disas(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    unsigned L = engine_code_level(c->e, c->level);
    uint32_t n = 10, pc = 0, start;
    bool around_pc = argc == 0;
    if (argc == 2 && (!parse_number(argv[1], &n) || n == 0 || n > 1000))
        return error(c, "disas [ADDR [N]]: N is a count from 1 to 1000");
    if (around_pc) {
        if (!engine_pc(c->e, L, &pc)) return error(c, "level %u has no pc", L);
        start = pc >= 3 ? pc - 3 : 0;
    } else if (!parse_addr(c, L, argv[0], &start)) {
        return error(c, "'%s' is not an address, a label or label+N", argv[0]);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = start + i, pa = a, w = 0;
        char text[96], where[64] = "";
        bool ok;
        if (around_pc) {
            ok = engine_disassemble(c->e, L, a, &w, text, sizeof text);
            if (ok) engine_translate(c->e, L, a, &pa, NULL);
        } else {
            ok = engine_read_phys(c->e, L, a, &w);
            if (ok) isa_disassemble(w, a, NULL, NULL, text, sizeof text);
            else snprintf(text, sizeof text, "<beyond memory>");
        }
        const char *label = ok ? engine_label_at(c->e, L, pa) : NULL;
        if (label) fprintf(c->out, "%s:\n", label);
        if (ok) engine_source_line(c->e, L, pa, where, sizeof where, NULL);
        fprintf(c->out, "%s 0x%06" PRIx32 "  %08" PRIx32 "  %-28s%s%s%s\n",
                around_pc && a == pc ? "=>" : "  ", a, w, text, *where ? " [" : "", where,
                *where ? "]" : "");
    }
    return 0;
}

static int cmd_level(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (argc == 0) {
        info_levels(c);
        return 0;
    }
    unsigned n = engine_level_count(c->e), L;
    if (strcmp(argv[0], "+") == 0 || strcmp(argv[0], "up") == 0) L = c->level + 1 < n ? c->level + 1 : c->level;
    else if (strcmp(argv[0], "-") == 0 || strcmp(argv[0], "down") == 0) L = c->level ? c->level - 1 : 0;
    else if (!parse_level(c, argv[0], &L))
        return error(c, "expected a level from 0 to %u, or + or -", n - 1);
    c->level = L;
    char name[96];
    commands_level_name(c->e, L, name, sizeof name);
    fprintf(c->out, "level %s\n", name);
    report_location(c, L);
    return 0;
}

static int cmd_set(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (strcmp(argv[0], "reg") == 0) {
        argv++;
        argc--;
    }
    if (argc != 2) return error(c, "usage: set [reg] REG VALUE");
    unsigned r;
    uint32_t v;
    if (!parse_reg(argv[0], &r)) return error(c, "'%s' is not a register (r1..r15, sp, lr, pc)", argv[0]);
    if (!parse_value(c, argv[1], &v))
        return error(c, "'%s' is not a number, a symbol or symbol+N", argv[1]);
    char err[160];
    if (!engine_set_reg(c->e, engine_code_level(c->e, c->level), r, v, err, sizeof err))
        return error(c, "%s", err);
    fprintf(c->out, "%s = 0x%08" PRIx32 "\n", argv[0], v);
    return 0;
}

static int cmd_help(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx;
    if (!commands_help(c->out, argc ? argv[0] : NULL)) return error(c, "no command '%s'", argv[0]);
    return 0;
}

static int cmd_quit(struct cmd_ctx *c, const char *sfx, int argc, char **argv)
{
    (void)sfx, (void)argc, (void)argv;
    c->quit = true;
    return 0;
}

/* ---- The table ------------------------------------------------------------------------------ */

static const struct cmd_spec table[] = {
    {"step", "s si stepi", 0, 1, "[N]", "one instruction of the selected level (N times)", NULL, cmd_step},
    {"next", "n ni nexti", 0, 1, "[N]", "the same, running a trap into the level's own handler through", NULL, cmd_next},
    {"until-trap", "t ut", 0, 0, "", "run to the next trap, at any level", NULL, cmd_until_trap},
    {"continue", "c cont", 0, 0, "", "run to a breakpoint or the end", NULL, cmd_continue},
    {"reverse-step", "rs rsi", 0, 1, "[N]", "go back one instruction of the selected level (N times)", NULL, cmd_reverse_step},
    {"reverse-continue", "rc", 0, 0, "", "go back to the last point a breakpoint would have stopped", NULL, cmd_reverse_continue},
    {"break", "b br", 1, 2, "ADDR|LABEL | trap [CAUSE] | mode | level N", "set a breakpoint", break_words, cmd_break},
    {"toggle", "tb", 1, 1, "ADDR|LABEL", "set or delete the breakpoint at an address", NULL, cmd_toggle},
    {"delete", "d del", 0, 1, "[N|all]", "delete breakpoint N (or all)", NULL, cmd_delete},
    {"info", "i", 1, 2, "regs|psw|levels|traps [N]|breaks|fmap|pagetable|shadow [LEVEL]|output", "show state", info_topics, cmd_info},
    {"x", "", 1, 2, "/N ADDR [virtual]", "N words of memory (physical, or virtual under the PSW)", NULL, cmd_x},
    {"translate", "tr", 1, 2, "ADDR [LEVEL]", "a virtual address, level by level to the real word", NULL, cmd_translate},
    {"disas", "disassemble", 0, 2, "[ADDR [N]]", "disassemble around pc, or N words at ADDR", NULL, cmd_disas},
    {"level", "", 0, 1, "[N|+|-]", "select a level (none: list them)", NULL, cmd_level},
    {"set", "", 2, 3, "[reg] REG VALUE", "set a register (r1..r15, sp, lr, pc) of the selected level", NULL, cmd_set},
    {"help", "h ?", 0, 1, "[COMMAND]", "this list, or one command", NULL, cmd_help},
    {"quit", "q exit", 0, 0, "", "leave", NULL, cmd_quit},
};
#define NCOMMANDS (sizeof table / sizeof table[0])

const struct cmd_spec *commands_table(size_t *n)
{
    *n = NCOMMANDS;
    return table;
}

static bool has_alias(const struct cmd_spec *s, const char *name)
{
    size_t n = strlen(name);
    for (const char *a = s->aliases; *a;) {
        size_t len = strcspn(a, " ");
        if (len == n && strncmp(a, name, n) == 0) return true;
        a += len;
        while (*a == ' ') a++;
    }
    return false;
}

/* By name, alias, or unique prefix of a name.  *ambiguous is set when a
 * prefix names several. */
static const struct cmd_spec *lookup(const char *name, bool *ambiguous)
{
    *ambiguous = false;
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(table[i].name, name) == 0 || has_alias(&table[i], name)) return &table[i];
    const struct cmd_spec *found = NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strncmp(table[i].name, name, n) == 0) {
            if (found) {
                *ambiguous = true;
                return NULL;
            }
            found = &table[i];
        }
    return found;
}

static void help_line(FILE *out, const struct cmd_spec *s)
{
    char left[80];
    snprintf(left, sizeof left, "%s%s%s", s->name, s->args[0] == '/' ? "" : " ", s->args);
    if (strlen(left) > 26) fprintf(out, "  %s\n  %-26s %s", left, "", s->help);
    else fprintf(out, "  %-26s %s", left, s->help);
    if (s->aliases[0]) fprintf(out, " (also: %s)", s->aliases);
    fputc('\n', out);
}

bool commands_help(FILE *out, const char *name)
{
    if (name) {
        bool amb;
        const struct cmd_spec *s = lookup(name, &amb);
        if (!s) return false;
        help_line(out, s);
        return true;
    }
    fprintf(out, "commands (a unique prefix will do):\n");
    for (size_t i = 0; i < NCOMMANDS; i++) help_line(out, &table[i]);
    fprintf(out, "ADDR is a number (0x hex), a label, label+N or pc: a word of the level's physical\n"
                 "memory, as in the listing (translate's is virtual: a number, or pc).  Levels\n"
                 "are numbered from the one on the real machine (L0) up to the program; LEVEL\n"
                 "is N or LN: info shadow's is the program's unless given, translate's the\n"
                 "selected one's.\n");
    return true;
}

int commands_execute(struct cmd_ctx *c, const char *line)
{
    char buf[LINE_MAX_LEN];
    snprintf(buf, sizeof buf, "%s", line);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *tok = strtok(buf, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
        if (argc == 0 && tok[0] == '#') return 0;
        if (argc == MAX_ARGS + 1) return error(c, "too many operands");
        argv[argc++] = tok;
    }
    if (argc == 0) return 0;
    char *sfx = strchr(argv[0], '/');
    if (sfx) *sfx++ = '\0';
    bool ambiguous;
    const struct cmd_spec *s = lookup(argv[0], &ambiguous);
    if (!s && ambiguous) return error(c, "'%s' is ambiguous (help lists the commands)", argv[0]);
    if (!s) return error(c, "unknown command '%s' (help lists the commands)", argv[0]);
    if (sfx && s->run != cmd_x) return error(c, "%s takes no /suffix", s->name);
    int n = argc - 1;
    if (n < s->min_args || n > s->max_args) {
        fprintf(c->out, "error: %s takes %s%d operand%s; usage: %s %s\n", s->name,
                s->min_args == s->max_args ? "" : n < s->min_args ? "at least " : "at most ",
                n < s->min_args ? s->min_args : s->max_args,
                (n < s->min_args ? s->min_args : s->max_args) == 1 ? "" : "s", s->name, s->args);
        return -1;
    }
    if (c->running && s->run != cmd_quit) commands_interrupt(c);
    return s->run(c, sfx, n, argv + 1);
}

void commands_complete(const struct cmd_ctx *c, int argi, const char *cmd, const char *prefix,
                       void (*add)(void *ctx, const char *word), void *ctx)
{
    size_t n = strlen(prefix);
    if (argi == 0) {
        for (size_t i = 0; i < NCOMMANDS; i++)
            if (strncmp(table[i].name, prefix, n) == 0) add(ctx, table[i].name);
        return;
    }
    bool amb;
    const struct cmd_spec *s = cmd ? lookup(cmd, &amb) : NULL;
    if (s && s->words && argi == 1)
        for (size_t i = 0; s->words[i]; i++)
            if (strncmp(s->words[i], prefix, n) == 0) add(ctx, s->words[i]);
    if (s && s->run == cmd_set) {
        static const char *const regs[] = {"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8",
                                           "r9", "r10", "r11", "r12", "r13", "sp", "lr", "pc", NULL};
        for (size_t i = 0; regs[i]; i++)
            if (strncmp(regs[i], prefix, n) == 0) add(ctx, regs[i]);
    }
    if (s && (s->run == cmd_info || s->run == cmd_help || s->run == cmd_level)) return;
    const char *name;
    for (size_t i = 0; (name = engine_symbol_name(c->e, i)) != NULL; i++)
        if (strncmp(name, prefix, n) == 0) add(ctx, name);
}

void commands_init(struct cmd_ctx *c, struct engine *e, FILE *out)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->out = out;
    c->level = engine_program_level(e);
    c->mem_level = c->level;
    uint32_t pc;
    if (engine_pc(e, c->level, &pc)) c->mem_addr = pc;
}

void commands_where(struct cmd_ctx *c) { report_location(c, c->level); }

/* ---- Sessions -------------------------------------------------------------------------------- */

int commands_parse_session(struct session_args *a, int argc, char **argv, bool allow_script,
                           bool program_optional, const char *summary)
{
    memset(a, 0, sizeof *a);
    const char *cmd = argv[0];
    /* Take -x FILE out; the rest go to the shared parser (options.h). */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) {
        fprintf(stderr, "trapeze %s: out of memory\n", cmd);
        return CLI_EXIT_USAGE;
    }
    int n = 0;
    bool only_operands = false;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--") == 0) only_operands = true;
        if (only_operands || !allow_script || strcmp(argv[i], "-x") != 0) {
            rest[n++] = argv[i];
            continue;
        }
        if (i + 1 == argc) {
            fprintf(stderr, "trapeze %s: -x needs a value (FILE)\n", cmd);
            free(rest);
            return CLI_EXIT_USAGE;
        }
        a->script = argv[++i];
    }
    int rc = run_options_parse(&a->run, n, rest, summary, program_optional ? "[PROGRAM]" : "PROGRAM",
                               OPTS_SESSION);
    free(rest);
    if (rc) return rc;
    if (a->run.nprograms > 1 || (!program_optional && a->run.nprograms == 0)) {
        fprintf(stderr, "trapeze %s: expected one PROGRAM, got %zu (see trapeze %s --help)\n", cmd,
                a->run.nprograms, cmd);
        return CLI_EXIT_USAGE;
    }
    a->program = a->run.nprograms ? a->run.programs[0] : NULL;
    run_options_disk_media(&a->run, a->disk_media);
    return 0;
}

void commands_session_free(struct session_args *a) { run_options_free(&a->run); }

struct engine_config commands_session_config(struct session_args *a, const char *program)
{
    struct engine_config cfg = {0};
    cfg.program = program;
    cfg.variant = &a->run.variant;
    cfg.mem = a->run.mem;
    cfg.max_steps = a->run.max_steps;
    cfg.input = a->run.input;
    cfg.input_len = a->run.input_len;
    cfg.spec = a->run.spec;
    cfg.include_dirs = a->run.include_dirs;
    cfg.ninclude_dirs = a->run.ninclude_dirs;
    cfg.disks = a->disk_media;
    cfg.ndisks = a->run.ndisks;
    if (a->run.ndisks) {
        cfg.disk_sink = disk_file_sink;
        cfg.disk_sink_ctx = a->run.disks;
    }
    return cfg;
}
