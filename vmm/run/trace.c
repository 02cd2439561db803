/* trace.c: the text trace (trace.h): a buffer of its own and two caches of made text. */
#include "trace.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Direct-mapped caches: a loop's few pcs each keep their slot. */
#define EVENT_SLOTS 1024u
#define INSN_SLOTS 4096u
#define EVENT_TEXT 320
#define INSN_TEXT 200

struct event_slot {
    bool used;
    struct run_event key; /* time and guest_step unused */
    uint16_t len;
    char text[EVENT_TEXT];
};

struct insn_slot {
    bool used, has_pa, supervisor;
    uint32_t pc, pa, insn;
    uint16_t len;
    char text[INSN_TEXT]; /* "S 0x000013 <next+1>  beq r1, r0, done" */
};

struct run_trace {
    const struct run *run;
    FILE *out;
    bool several;
    bool failed;
    bool stopped_for_interrupt;
    const struct asm_image *program;
    const volatile sig_atomic_t *interrupt;
    struct run_log *log;
    size_t len;
    char buf[TRACE_BUFFER];
    struct event_slot events[EVENT_SLOTS];
    struct insn_slot insns[INSN_SLOTS];
};

struct run_trace *run_trace_create(const struct run *r, FILE *out, bool several,
                                   const struct asm_image *program)
{
    struct run_trace *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->log = run_log_create(1);
    if (!t->log) {
        free(t);
        return NULL;
    }
    t->run = r;
    t->out = out;
    t->several = several;
    t->program = program;
    return t;
}

bool run_trace_flush(struct run_trace *t)
{
    if (t->len && !t->failed) {
        if (fwrite(t->buf, 1, t->len, t->out) != t->len || fflush(t->out) != 0) t->failed = true;
    }
    t->len = 0;
    return !t->failed;
}

void run_trace_destroy(struct run_trace *t)
{
    if (!t) return;
    run_trace_flush(t);
    run_log_destroy(t->log);
    free(t);
}

void run_trace_set_interrupt(struct run_trace *t, const volatile sig_atomic_t *flag) { t->interrupt = flag; }
bool run_trace_interrupted(const struct run_trace *t) { return t->stopped_for_interrupt; }
const struct run_log *run_trace_log(const struct run_trace *t) { return t->log; }

/* ---- Writing a line ------------------------------------------------------------------ */

/* Room for one line of any kind, so a line is never split across flushes. */
#define LINE_MAX_BYTES (24 + 16 + 24 + EVENT_TEXT + 2)

static char *line_start(struct run_trace *t)
{
    if (TRACE_BUFFER - t->len < LINE_MAX_BYTES) run_trace_flush(t);
    return t->buf + t->len;
}

static void line_end(struct run_trace *t, char *end) { t->len = (size_t)(end - t->buf); }

/* v in decimal, right-aligned in width columns (wider when it needs);
 * two digits at a time, as a line has two numbers. */
static char *put_decimal(char *p, uint64_t v, unsigned width)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                                "34353637383940414243444546474849505152535455565758596061626364656667"
                                "6869707172737475767778798081828384858687888990919293949596979899";
    char digits[20];
    unsigned n = sizeof digits;
    while (v > UINT32_MAX) { /* rare: 64-bit division is slow */
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        digits[--n] = pairs[k + 1];
        digits[--n] = pairs[k];
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        uint32_t k = (w % 100) * 2;
        w /= 100;
        digits[--n] = pairs[k + 1];
        digits[--n] = pairs[k];
    }
    if (w >= 10) {
        digits[--n] = pairs[w * 2 + 1];
        digits[--n] = pairs[w * 2];
    } else {
        digits[--n] = (char)('0' + w);
    }
    unsigned len = (unsigned)sizeof digits - n;
    for (unsigned k = len; k < width; k++) *p++ = ' ';
    memcpy(p, digits + n, len);
    return p + len;
}

static char *put_bytes(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* "[         7] " */
static char *put_step(char *p, uint64_t step)
{
    *p++ = '[';
    p = put_decimal(p, step, 10);
    *p++ = ']';
    *p++ = ' ';
    return p;
}

static enum machine_verdict verdict(struct run_trace *t)
{
    if (t->interrupt && *t->interrupt) {
        t->stopped_for_interrupt = true;
        return MACHINE_STOP_RUN;
    }
    return MACHINE_CONTINUE;
}

/* ---- Events --------------------------------------------------------------------------- */

/* The body shows the value only for a trap without its instruction. */
static bool shows_value(const struct run_event *e)
{
    return !e->has_insn && e->cause != CAUSE_TIMER && e->cause != CAUSE_IO;
}

/* Whether e's body is the one made for k: every field it depends on. */
static bool same_body(const struct run_event *k, const struct run_event *e)
{
    return k->pc == e->pc && k->insn == e->insn && k->cause == e->cause && k->arose == e->arose &&
           k->handler == e->handler && k->how == e->how && k->first == e->first &&
           k->target == e->target && k->supervisor == e->supervisor && k->place == e->place &&
           k->guest == e->guest && k->detail == e->detail && k->has_insn == e->has_insn &&
           k->has_pc_phys == e->has_pc_phys && k->pc_phys == e->pc_phys &&
           (!shows_value(e) || k->value == e->value);
}

static const struct event_slot *event_text(struct run_trace *t, const struct run *r,
                                           const struct run_event *e)
{
    uint32_t h = (e->pc * 2654435761u) ^ (e->insn * 40503u) ^ ((uint32_t)e->cause << 7) ^
                 ((uint32_t)e->arose << 11) ^ ((uint32_t)e->how << 13) ^ (e->guest << 3);
    struct event_slot *s = &t->events[h % EVENT_SLOTS];
    if (!s->used || !same_body(&s->key, e)) {
        s->used = true;
        s->key = *e;
        run_event_body(r, e, s->text, sizeof s->text);
        s->len = (uint16_t)strlen(s->text);
    }
    return s;
}

enum machine_verdict run_trace_event(void *ctx, struct run *r, const struct run_event *e)
{
    struct run_trace *t = ctx;
    uint64_t seq = run_log_add(t->log, e);
    const struct event_slot *s = event_text(t, r, e);
    char *p = line_start(t);
    p = put_step(p, e->guest_step);
    if (t->several) {
        p = put_bytes(p, "vm", 2);
        p = put_decimal(p, e->guest, 0);
        *p++ = ' ';
    }
    p = put_bytes(p, "trap ", 5);
    p = put_decimal(p, seq, 0);
    p = put_bytes(p, ": ", 2);
    p = put_bytes(p, s->text, s->len);
    *p++ = '\n';
    line_end(t, p);
    return verdict(t);
}

/* ---- Instructions ------------------------------------------------------------------- */

static const char *label_at(void *ctx, uint32_t address) { return asm_symbol_at(ctx, address); }

enum machine_verdict run_trace_insn(void *ctx, struct machine *m, uint32_t pc, uint32_t insn)
{
    struct run_trace *t = ctx;
    struct psw p = machine_psw(m);
    uint32_t pa = 0;
    unsigned detail;
    bool has_pa = machine_translate(m, &p, pc, ACCESS_FETCH, &pa, &detail);
    bool supervisor = (p.flags & PSW_M) != 0;
    uint32_t h = (pc ^ (pa * 2654435761u)) ^ (insn * 40503u);
    struct insn_slot *s = &t->insns[h % INSN_SLOTS];
    if (!s->used || s->pc != pc || s->pa != pa || s->has_pa != has_pa || s->insn != insn ||
        s->supervisor != supervisor) {
        char text[96], place[96];
        isa_disassemble(insn, pc, t->program ? label_at : NULL, (void *)t->program, text, sizeof text);
        run_describe_place(t->run, 0, 0, pc, has_pa, pa, place, sizeof place);
        *s = (struct insn_slot){true, has_pa, supervisor, pc, pa, insn, 0, ""};
        int w = snprintf(s->text, sizeof s->text, "%c %s  %s", supervisor ? 'S' : 'U', place, text);
        s->len = (uint16_t)(w < 0 ? 0 : (size_t)w < sizeof s->text ? (size_t)w : sizeof s->text - 1);
    }
    char *out = line_start(t);
    out = put_step(out, machine_steps(m));
    out = put_bytes(out, s->text, s->len);
    *out++ = '\n';
    line_end(t, out);
    return verdict(t);
}
