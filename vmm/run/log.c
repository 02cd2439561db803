/* log.c: the event log (log.h): a ring of events, counts, and their one description. */
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct run_log {
    struct run_event *ring;
    size_t keep;
    uint64_t total;
    uint64_t first_kept; /* the oldest event the ring still holds (1 when empty) */
    struct run_log_counts counts;
};

struct run_log *run_log_create(size_t keep)
{
    struct run_log *log = calloc(1, sizeof *log);
    if (!log) return NULL;
    log->keep = keep ? keep : 1;
    log->first_kept = 1;
    log->ring = calloc(log->keep, sizeof *log->ring);
    if (!log->ring) {
        free(log);
        return NULL;
    }
    return log;
}

void run_log_destroy(struct run_log *log)
{
    if (!log) return;
    free(log->ring);
    free(log);
}

uint64_t run_log_add(struct run_log *log, const struct run_event *e)
{
    log->ring[log->total % log->keep] = *e;
    log->total++;
    if (log->total - log->first_kept >= log->keep) log->first_kept = log->total - log->keep + 1;
    struct run_log_counts *k = &log->counts;
    k->total++;
    if (e->cause < CAUSE_COUNT) k->by_cause[e->cause]++;
    if (e->arose < RUN_MAX_LEVELS && e->handler < RUN_MAX_LEVELS && e->how < RUN_HANDLINGS)
        k->path[e->arose][e->handler][e->how]++;
    return log->total;
}

uint64_t run_log_total(const struct run_log *log) { return log->total; }

const struct run_event *run_log_get(const struct run_log *log, uint64_t seq)
{
    if (seq < log->first_kept || seq > log->total) return NULL;
    return &log->ring[(seq - 1) % log->keep];
}

const struct run_log_counts *run_log_counts(const struct run_log *log) { return &log->counts; }

void run_log_rewind(struct run_log *log, uint64_t n, const struct run_log_counts *counts)
{
    if (n > log->total) return;
    /* Events after n are forgotten; those whose slots later events took
     * stay gone (first_kept never moves back). */
    log->total = n;
    if (log->first_kept > n + 1) log->first_kept = n + 1;
    log->counts = *counts;
}

/* ---- Describing ---------------------------------------------------------------------- */

void run_event_cause(const struct run_event *e, char *buf, size_t size)
{
    const char *name = isa_cause_name(e->cause);
    if (!name) snprintf(buf, size, "cause %u", (unsigned)e->cause);
    else if (e->cause == CAUSE_MEM && isa_mem_fault_name(e->detail))
        snprintf(buf, size, "MEM/%s", isa_mem_fault_name(e->detail));
    else snprintf(buf, size, "%s", name);
}

void run_describe_level(const struct run *r, unsigned level, bool long_name, char *buf, size_t size)
{
    struct run_level_view v;
    char name[32];
    run_level_view(r, 0, level, &v);
    if (long_name) run_level_name(r, level, name, sizeof name);
    snprintf(buf, size, "L%u %s", level, long_name ? name : v.kind);
}

void run_describe_place(const struct run *r, unsigned g, unsigned level, uint32_t va, bool has_pa,
                        uint32_t pa, char *buf, size_t size)
{
    uint32_t ia, off;
    const struct asm_image *img = has_pa ? run_image_at(r, g, level, pa, &ia) : NULL;
    /* Only inside the image's words: code a program copied elsewhere is not
     * near the label before it. */
    const char *label = img && asm_line_at(img, ia) ? asm_symbol_near(img, ia, &off) : NULL;
    if (label && off) snprintf(buf, size, "0x%06" PRIx32 " <%s+%" PRIu32 ">", va, label, off);
    else if (label) snprintf(buf, size, "0x%06" PRIx32 " <%s>", va, label);
    else snprintf(buf, size, "0x%06" PRIx32, va);
}

/* The levels first .. last - 1 as "L0 c, L1 asm" (empty when none). */
static void levels_between(const struct run *r, unsigned first, unsigned last, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned L = first; L < last && used < size; L++) {
        char name[48];
        run_describe_level(r, L, false, name, sizeof name);
        int w = snprintf(buf + used, size - used, "%s%s", L > first ? ", " : "", name);
        if (w < 0) return;
        used += (size_t)w;
    }
}

/* The words an event's descriptions are made of (buffers of 32, 64, 48, 48). */
static void event_words(const struct run *r, const struct run_event *e, char *cause, char *insn,
                        char *arose, char *handler)
{
    run_event_cause(e, cause, 32);
    run_describe_level(r, e->arose, false, arose, 48);
    run_describe_level(r, e->handler, false, handler, 48);
    insn[0] = '\0';
    if (e->has_insn) {
        uint32_t at = e->cause == CAUSE_SVC || e->cause == CAUSE_HCALL ? e->pc - 1 : e->pc;
        isa_disassemble(e->insn, at, NULL, NULL, insn, 64);
    }
}

/* The full description after "trap N: ". */
static void describe_body(const struct run *r, const struct run_event *e, const char *cause,
                          const char *insn, const char *arose, const char *handler, char *buf,
                          size_t size)
{
    char what[80] = "", place[96], path[200], passed[120];
    if (e->has_insn) snprintf(what, sizeof what, " %s", insn);
    else if (e->cause != CAUSE_TIMER && e->cause != CAUSE_IO)
        snprintf(what, sizeof what, " 0x%" PRIx32, e->value);
    run_describe_place(r, e->guest, e->arose, e->pc, e->has_pc_phys, e->pc_phys, place, sizeof place);
    switch (e->how) {
    case RUN_HARDWARE:
        snprintf(path, sizeof path, "to L%u's handler by the hardware", e->handler);
        break;
    case RUN_EMULATED:
        levels_between(r, e->first, e->handler, passed, sizeof passed);
        snprintf(path, sizeof path, "emulated by %s%s%s", handler, *passed ? ", passed up by " : "",
                 passed);
        break;
    case RUN_REFLECTED:
    case RUN_DELIVERED:
        levels_between(r, e->first, e->handler, passed, sizeof passed);
        snprintf(path, sizeof path, "%s by %s to L%u's handler", run_handling_name(e->how),
                 *passed ? passed : "the hardware", e->handler);
        break;
    case RUN_ABSORBED:
        snprintf(path, sizeof path, "absorbed by %s (%s)", handler,
                 e->cause == CAUSE_MEM ? "a hidden fault: its shadow page table, fixed"
                                       : "its own timer");
        break;
    }
    snprintf(buf, size, "%s%s at %s, %s%s -> %s; pc %s", cause, what, arose,
             e->supervisor ? "supervisor" : "user",
             e->place == VMM_PLACE_INTERPRETED   ? " (interpreted)"
             : e->place == VMM_PLACE_TRANSLATED ? " (translated)"
                                                : "",
             path, place);
}

void run_event_describe(const struct run *r, const struct run_event *e, uint64_t seq,
                        enum run_event_style style, char *buf, size_t size)
{
    char cause[32], insn[64], arose[48], handler[48];
    event_words(r, e, cause, insn, arose, handler);
    if (style == RUN_EVENT_COMPACT) {
        char *sp = strchr(insn, ' ');
        if (sp) *sp = '\0';
        snprintf(buf, size, "%3" PRIu64 " %-9s %-5s L%u%c %06" PRIx32 "->L%u %s", seq, cause, insn,
                 e->arose, e->supervisor ? 'S' : 'U', e->pc, e->handler, run_handling_name(e->how));
        return;
    }
    int w = snprintf(buf, size, "trap %" PRIu64 ": ", seq);
    if (w > 0 && (size_t)w < size) describe_body(r, e, cause, insn, arose, handler, buf + w, size - (size_t)w);
}

void run_event_body(const struct run *r, const struct run_event *e, char *buf, size_t size)
{
    char cause[32], insn[64], arose[48], handler[48];
    event_words(r, e, cause, insn, arose, handler);
    describe_body(r, e, cause, insn, arose, handler, buf, size);
}

void run_log_print_counts(FILE *out, const struct run *r, const struct run_log_counts *counts,
                          const char *prefix)
{
    for (unsigned a = 0; a < run_level_count(r); a++)
        for (unsigned h = 0; h < run_level_count(r); h++)
            for (unsigned how = 0; how < RUN_HANDLINGS; how++) {
                uint64_t n = counts->path[a][h][how];
                if (!n) continue;
                char arose[48], handler[48];
                run_describe_level(r, a, false, arose, sizeof arose);
                run_describe_level(r, h, false, handler, sizeof handler);
                fprintf(out, "%s%-10s -> %-10s %-10s %10" PRIu64 "\n", prefix, arose, handler,
                        run_handling_name((enum run_handling)how), n);
            }
}
