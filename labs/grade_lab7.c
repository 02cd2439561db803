/*
 * grade_lab7.c: Lab 7, "I/O: a split-driver front end" (labs/lab7-io/README.md).
 *
 * The submission is frontend.s: blk_attach, blk_queue and blk_submit, the
 * guest half of the split driver (vmm/README.md "The split driver",
 * programs/lib/split.inc).  The grader writes workloads, programs that
 * call those routines (batches of sector writes and reads, some past the
 * disk), and runs each twice on pg with the same 16-sector disk:
 *
 *   expected  over the lab's native front end (native/frontend.s: one
 *             interrupt-driven port command a request), bare;
 *   yours     over the submission, under the C VMM with --io split.
 *
 * A workload passes when the console output, the halt status and the
 * final disk are the same and every request went through the ring: the
 * back end served as many requests as the workload made and the guest
 * started no port command.  Efficiency is the kicks against one a started
 * eight requests of each batch (the fewest the ring's 8 slots allow).
 *
 * Workloads are written in a small notation, which is also what a failing
 * test shows the student: "w5.2" writes sector 5 from write buffer 2,
 * "r9" reads sector 9, "|" ends a batch (a blk_submit).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../vmm/run/run.h"
#include "grade.h"

#define FRONTEND_FILE "frontend.s"
#define NATIVE_FILE "native/frontend.s"  /* in the lab's folder */
#define DISK_SECTORS 16u
#define MAX_BATCHES 6
#define MAX_BATCH 20                     /* requests a batch: room for 20 read buffers */
#define WRITE_BUFFERS 8
#define RING_SLOTS 8                     /* SPLIT_SLOTS: a kick serves at most this many */
#define WBUF_AT 0x2000u                  /* the workload's layout; code and data below */
#define RBUF_AT 0x2800u
#define STACK_TOP 0x3ff0u
#define GUEST_MEM 0x4000u
#define GUEST_STEPS 2000000u
#define HIDDEN_WORKLOADS 6
#define WORKLOAD_POINTS 3.0
#define EFFICIENCY_POINTS 6.0
#define SOURCE_SIZE 65536

static const char *const lab7_files[] = {FRONTEND_FILE, NULL};

struct request {
    bool write;
    uint8_t buffer;  /* a write's buffer, 0 .. WRITE_BUFFERS - 1 */
    uint32_t sector; /* DISK_SECTORS and past it fail */
};

struct workload {
    char name[48];
    unsigned nbatches;
    unsigned n[MAX_BATCHES];
    struct request r[MAX_BATCHES][MAX_BATCH];
    uint32_t fill;   /* the write buffers' first word (a generator's seed) */
};

struct lab7 {
    struct grade *g;
    struct grade_private priv; /* lib/: the includes; lab/: frontend.s, native.s */
    char frontend_path[GRADE_PRIVATE_PATH]; /* the private copy of the submission  */
    char workload_path[GRADE_PRIVATE_PATH]; /* a workload's text, assembled as a file */
    uint32_t *disk;            /* the initial disk, DISK_SECTORS sectors */
    char *source;              /* a workload's text, SOURCE_SIZE */
    uint64_t kicks, fewest;    /* over the workloads that passed */
};

/* ---- Workloads -------------------------------------------------------------------- */

/* Parses the notation into w; false on a malformed one (a grader bug). */
static bool parse_workload(const char *text, struct workload *w)
{
    w->nbatches = 1;
    w->n[0] = 0;
    for (const char *p = text; *p;) {
        if (*p == ' ') { p++; continue; }
        if (*p == '|') {
            if (w->nbatches == MAX_BATCHES) return false;
            w->n[w->nbatches++] = 0;
            p++;
            continue;
        }
        unsigned b = w->nbatches - 1;
        if ((*p != 'w' && *p != 'r') || w->n[b] == MAX_BATCH) return false;
        struct request *q = &w->r[b][w->n[b]++];
        q->write = *p++ == 'w';
        char *end;
        q->sector = (uint32_t)strtoul(p, &end, 10);
        q->buffer = 0;
        if (q->write) {
            if (*end != '.') return false;
            q->buffer = (uint8_t)(strtoul(end + 1, &end, 10) % WRITE_BUFFERS);
        }
        if (end == p) return false;
        p = end;
    }
    return true;
}

/* Batch b in the notation, into out. */
static void describe_batch(const struct workload *w, unsigned b, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < w->n[b] && used < size; i++) {
        const struct request *q = &w->r[b][i];
        if (q->write)
            used += (size_t)snprintf(out + used, size - used, "%sw%u.%u", i ? " " : "", q->sector, q->buffer);
        else used += (size_t)snprintf(out + used, size - used, "%sr%u", i ? " " : "", q->sector);
    }
}

static void random_workload(uint64_t *s, unsigned k, struct workload *w)
{
    snprintf(w->name, sizeof w->name, "hidden workload %u", k);
    w->nbatches = 3 + (unsigned)(grade_rand(s) % (MAX_BATCHES - 2));
    for (unsigned b = 0; b < w->nbatches; b++) {
        /* One batch in ten is empty: a blk_submit with nothing to kick for. */
        w->n[b] = grade_rand(s) % 10 == 0 ? 0 : 1 + (unsigned)(grade_rand(s) % MAX_BATCH);
        for (unsigned i = 0; i < w->n[b]; i++) {
            struct request *q = &w->r[b][i];
            q->write = grade_rand(s) & 1;
            /* One request in eight is past the disk: its error counts. */
            q->sector = grade_rand(s) % 8 == 0 ? DISK_SECTORS + (uint32_t)(grade_rand(s) % 64)
                                                : (uint32_t)(grade_rand(s) % DISK_SECTORS);
            q->buffer = (uint8_t)(grade_rand(s) % WRITE_BUFFERS);
        }
    }
    w->fill = (uint32_t)grade_rand(s);
}

static unsigned reads_in(const struct workload *w, unsigned b)
{
    unsigned n = 0;
    for (unsigned i = 0; i < w->n[b]; i++) n += !w->r[b][i].write;
    return n;
}

static unsigned requests_in(const struct workload *w)
{
    unsigned n = 0;
    for (unsigned b = 0; b < w->nbatches; b++) n += w->n[b];
    return n;
}

/* The fewest kicks: each batch's requests, 8 slots at a time. */
static unsigned fewest_kicks(const struct workload *w)
{
    unsigned n = 0;
    for (unsigned b = 0; b < w->nbatches; b++) n += (w->n[b] + RING_SLOTS - 1) / RING_SLOTS;
    return n;
}

#define EMIT(...) (n += snprintf(buf + n, size > (size_t)n ? size - (size_t)n : 0, __VA_ARGS__))

/* The workload as a program over the front end in `frontend` (beside it).
 * It keeps r9 .. r13 across every call, as the calling convention says a
 * routine must, and checks them after each batch. */
static bool workload_source(const struct workload *w, const char *frontend, char *buf, size_t size)
{
    int n = 0;
    EMIT("; %s of trapeze grade's Lab 7 (labs/grade_lab7.c)\n"
         "        .include \"../lib/machine.inc\"\n"
         "        .include \"../lib/split.inc\"\n"
         "_start:\n"
         "        li sp, 0x%x\n"
         "        li r1, 0x%x\n"
         "        call wl_fill\n"
         "        li r9, 0x9999\n li r10, 0xaaaa\n li r11, 0xbbbb\n li r12, 0xcccc\n li r13, 0xdddd\n"
         "        li r1, 0\n"
         "        call blk_attach\n"
         "        bnez r1, wl_no_ring\n",
         w->name, STACK_TOP, w->fill);
    for (unsigned b = 0; b < w->nbatches; b++) {
        EMIT("; batch %u\n"
             "        li r1, 0x%x\n li r2, %u\n call wl_clear\n",
             b + 1, RBUF_AT, reads_in(w, b) * 256);
        for (unsigned i = 0, reads = 0; i < w->n[b]; i++) {
            const struct request *q = &w->r[b][i];
            uint32_t addr = q->write ? WBUF_AT + 256u * q->buffer : RBUF_AT + 256u * reads++;
            EMIT("        li r1, %s\n li r2, %u\n li r3, 0x%x\n call blk_queue\n",
                 q->write ? "CMD_WRITE" : "CMD_READ", q->sector, addr);
        }
        EMIT("        call blk_submit\n"
             "        mov r2, r1\n li r1, %u\n li r3, 0x%x\n li r4, %u\n call wl_report\n",
             b + 1, RBUF_AT, reads_in(w, b) * 256);
    }
    EMIT("        li r1, 0\n"
         "        halt\n"
         "wl_no_ring:\n"
         "        la r1, wl_s_no_ring\n call puts\n li r1, 98\n halt\n"
         /* wl_fill(r1 = the first word): the write buffers, a linear congruential sequence */
         "wl_fill:\n"
         "        li r2, 0x%x\n li r3, 0x%x\n li r4, 1103515245\n"
         "wl_fill_next:\n"
         "        st r1, 0(r2)\n mul r1, r1, r4\n addi r1, r1, 12345\n addi r2, r2, 1\n"
         "        bne r2, r3, wl_fill_next\n ret\n"
         /* wl_clear(r1 = address, r2 = words) */
         "wl_clear:\n"
         "        beqz r2, wl_clear_done\n st r0, 0(r1)\n addi r1, r1, 1\n addi r2, r2, -1\n b wl_clear\n"
         "wl_clear_done:\n ret\n"
         /* wl_report(r1 = batch, r2 = blk_submit's errors, r3 = address, r4 = words):
          * "batch B: errors E, hash H", H an FNV-1a of the words read */
         "wl_report:\n"
         "        push lr\n"
         "        li r5, 0x9999\n bne r9, r5, wl_clobbered\n li r5, 0xaaaa\n bne r10, r5, wl_clobbered\n"
         "        li r5, 0xbbbb\n bne r11, r5, wl_clobbered\n li r5, 0xcccc\n bne r12, r5, wl_clobbered\n"
         "        li r5, 0xdddd\n bne r13, r5, wl_clobbered\n"
         "        li r5, 0x811c9dc5\n li r6, 0x01000193\n"
         "wl_hash:\n"
         "        beqz r4, wl_hashed\n ld r7, 0(r3)\n xor r5, r5, r7\n mul r5, r5, r6\n"
         "        addi r3, r3, 1\n addi r4, r4, -1\n b wl_hash\n"
         "wl_hashed:\n"
         "        push r5\n push r2\n push r1\n"
         "        la r1, wl_s_batch\n call puts\n pop r1\n call putdec\n"
         "        la r1, wl_s_errors\n call puts\n pop r1\n call putdec\n"
         "        la r1, wl_s_hash\n call puts\n pop r1\n call puthex\n call newline\n"
         "        pop lr\n ret\n"
         "wl_clobbered:\n"
         "        la r1, wl_s_clobbered\n call puts\n li r1, 97\n halt\n"
         "        .include \"%s\"\n"
         "        .include \"../lib/console.inc\"\n"
         "wl_s_no_ring:    .string \"blk_attach failed\\n\"\n"
         "wl_s_batch:      .string \"batch \"\n"
         "wl_s_errors:     .string \": errors \"\n"
         "wl_s_hash:       .string \", hash \"\n"
         "wl_s_clobbered:  .string \"r9..r13 changed by a call (they are callee-saved)\\n\"\n"
         "        .org 0x%x\n"
         "wl_wbuf:         .space %u\n"
         "        .org 0x%x\n"
         "wl_rbuf:         .space %u\n",
         WBUF_AT, WBUF_AT + 256u * WRITE_BUFFERS, frontend, WBUF_AT, 256u * WRITE_BUFFERS, RBUF_AT,
         256u * MAX_BATCH);
    return n > 0 && (size_t)n < size;
}

/* ---- Running one ------------------------------------------------------------------ */

struct outcome {
    bool created;                /* false: run_create refused it (message in why) */
    char why[RUN_ERROR_SIZE];
    enum machine_stop stop;
    uint32_t status;
    uint8_t *output;
    size_t output_len;
    uint32_t disk[DISK_SECTORS * ISA_SECTOR_WORDS];
    uint64_t kicks, requests, commands; /* commands: reads, writes and errors the VMM saw */
};

static void outcome_free(struct outcome *o) { free(o->output); }

static bool run_workload(struct lab7 *l, const struct asm_image *img, bool split, struct outcome *o,
                         char err[GRADE_ERROR_SIZE])
{
    memset(o, 0, sizeof *o);
    struct isa_variant pg;
    char verr[ISA_ERROR_SIZE];
    struct run_config rc = {.variant = &pg, .memsize = GUEST_MEM, .nguests = 1};
    if (!isa_variant_load("pg", &pg, verr) || !run_spec_parse(split ? "c" : "bare", &rc.spec, o->why)) {
        snprintf(err, GRADE_ERROR_SIZE, "the lab's machine: %s", o->why);
        return false;
    }
    const struct asm_image *programs[] = {img};
    struct run *r = run_create(&rc, programs, o->why);
    if (!r) return true;
    if ((split && !run_set_io_model(r, VMM_IO_SPLIT, true, o->why)) ||
        !run_attach_disk(r, 0, l->disk, DISK_SECTORS, o->why)) {
        run_destroy(r);
        snprintf(err, GRADE_ERROR_SIZE, "the lab's disk: %s", o->why);
        return false;
    }
    o->created = true;
    run_go(r, GUEST_STEPS);
    l->g->instructions += run_time(r);
    struct run_guest_state gs;
    run_guest_state(r, 0, &gs);
    o->stop = gs.stop;
    o->status = gs.regs[1];
    o->output = malloc(gs.output_len + 1);
    if (o->output) {
        memcpy(o->output, gs.output, gs.output_len);
        o->output_len = gs.output_len;
    }
    if (gs.disk[0] && gs.disk_sectors[0] == DISK_SECTORS) memcpy(o->disk, gs.disk[0], sizeof o->disk);
    o->kicks = gs.disk_kicks;
    o->requests = gs.disk_requests;
    o->commands = gs.disk_reads + gs.disk_writes + gs.disk_errors;
    run_destroy(r);
    if (!o->output) snprintf(err, GRADE_ERROR_SIZE, "out of memory");
    return o->output != NULL;
}

/* Says how yours differs from expected; true when it does not. */
static bool compare(struct grade_test *t, const struct workload *w, const struct outcome *want,
                    const struct outcome *got)
{
    if (!got->created) {
        grade_say(t, "it cannot run: %s", got->why);
        return false;
    }
    unsigned line = grade_say_output_difference(t, want->output, want->output_len, got->output, got->output_len);
    if (line) {
        char batch[400];
        grade_say(t, ". ");
        /* The witness: the batch that line reports (the ones before it
         * reported right). */
        if (line <= w->nbatches) {
            describe_batch(w, line - 1, batch, sizeof batch);
            grade_say(t, "Batch %u was: %s", line, batch);
        }
        return false;
    }
    if (got->stop != want->stop || got->status != want->status) {
        grade_say(t, "it stopped by %s with status %u after the right output; expected %s with status %u",
                  machine_stop_name(got->stop), got->status, machine_stop_name(want->stop), want->status);
        return false;
    }
    for (size_t i = 0; i < DISK_SECTORS * ISA_SECTOR_WORDS; i++)
        if (got->disk[i] != want->disk[i]) {
            grade_say(t, "the final disk differs at sector %zu word %zu: expected 0x%08x, yours 0x%08x",
                      i / ISA_SECTOR_WORDS, i % ISA_SECTOR_WORDS, want->disk[i], got->disk[i]);
            return false;
        }
    unsigned made = requests_in(w);
    if (got->requests != made || got->commands != got->requests) {
        grade_say(t, "the right result, but not all through the ring: the back end served %llu of the %u "
                     "requests, and the VMM saw %llu port commands",
                  (unsigned long long)got->requests, made,
                  (unsigned long long)(got->commands - (got->commands >= got->requests ? got->requests : 0)));
        return false;
    }
    return true;
}

static bool grade_workload(struct lab7 *l, const struct workload *w, const char *tags,
                           enum grade_visibility vis, bool *passed, char err[GRADE_ERROR_SIZE])
{
    *passed = false;
    struct grade_test *t = grade_add(l->g, w->name, tags, vis, WORKLOAD_POINTS);
    if (!t) return true;
    struct asm_image native, yours;
    if (!workload_source(w, "native.s", l->source, SOURCE_SIZE) ||
        !grade_assemble(l->workload_path, l->source, l->workload_path, grade_file(l->g, FRONTEND_FILE),
                        &native, err))
        return false;
    struct outcome want, got;
    bool ok = run_workload(l, &native, false, &want, err);
    asm_image_free(&native);
    if (!ok) return false;
    if (!want.created || want.stop != MACHINE_HALT || want.status != 0) {
        snprintf(err, GRADE_ERROR_SIZE, "%s over the native front end does not halt 0 (a grader bug)", w->name);
        outcome_free(&want);
        return false;
    }
    workload_source(w, FRONTEND_FILE, l->source, SOURCE_SIZE);
    if (!grade_assemble(l->workload_path, l->source, l->frontend_path, grade_file(l->g, FRONTEND_FILE), &yours,
                        err)) {
        outcome_free(&want);
        return false;
    }
    ok = run_workload(l, &yours, true, &got, err);
    asm_image_free(&yours);
    if (ok && compare(t, w, &want, &got)) {
        t->score = t->max_score;
        *passed = true;
        l->kicks += got.kicks;
        l->fewest += fewest_kicks(w);
    } else if (ok && strstr(tags, "hidden")) {
        grade_say(t, " (trapeze grade --seed %llu regenerates it)", (unsigned long long)l->g->seed);
    }
    outcome_free(&want);
    if (ok) outcome_free(&got);
    return ok;
}

/* ---- The lab ---------------------------------------------------------------------- */

static const struct {
    const char *name, *text;
} smoke_workloads[] = {
    {"smoke: a batch of writes, a batch of reads", "w0.0 w1.1 w2.2 w3.3 | r3 r2 r1 r0 | | w7.4 r7"},
    {"smoke: errors past the disk", "w5.1 w16.2 w6.3 | r16 r5 r99 r6 | w15.4 r15 w4000000000.0 r17"},
    {"smoke: more than eight requests a batch",
     "w0.0 w1.1 w2.2 w3.3 w4.4 w5.5 w6.6 w7.7 w8.0 w9.1 w10.2 w11.3 w12.4 | "
     "r12 r11 r10 r9 r8 r7 r6 r5 r4 r3 r2 r1 r0 r13 r14 r15 r16 r0 r1 r2 | "
     "w13.5 r13 w14.6 r14 w15.7 r15 w0.7 r0 r20"},
};

#define NELEMS(a) (sizeof (a) / sizeof (a)[0])

/* The disk the workloads start from: every word its own, from the seed. */
static void initial_disk(uint32_t *disk, uint64_t seed)
{
    uint64_t s = seed ^ 0x7d15c7d15c7d15c7ull;
    for (size_t i = 0; i < DISK_SECTORS * ISA_SECTOR_WORDS; i++) disk[i] = (uint32_t)grade_rand(&s);
}

static bool setup(struct lab7 *l, char err[GRADE_ERROR_SIZE])
{
    const struct grade_file *f = grade_file(l->g, FRONTEND_FILE);
    static const char *const nothing[] = {NULL};
    if (!grade_vet_includes(f, nothing, err)) return false;
    struct grade_file native = {.name = NATIVE_FILE};
    snprintf(native.path, sizeof native.path, "%.480s/%s", l->g->lab_dir, NATIVE_FILE);
    if (!grade_read_file(&native, err)) return false;
    bool ok = grade_private_open(&l->priv, err);
    static const char *const libs[] = {"lib/machine.inc", "lib/split.inc", "lib/console.inc",
                                       "lib/console_routines.inc", "lib/disk.inc"};
    for (size_t i = 0; ok && i < NELEMS(libs); i++) ok = grade_private_write(&l->priv, libs[i], NULL, 0, err);
    ok = ok && grade_private_write(&l->priv, "lab/native.s", native.text, native.len, err) &&
         grade_private_write(&l->priv, "lab/" FRONTEND_FILE, f->text, f->len, err);
    free(native.text);
    grade_private_path(&l->priv, "lab/" FRONTEND_FILE, l->frontend_path, sizeof l->frontend_path);
    grade_private_path(&l->priv, "lab/workload.s", l->workload_path, sizeof l->workload_path);
    l->disk = malloc(DISK_SECTORS * ISA_SECTOR_WORDS * sizeof *l->disk);
    l->source = malloc(SOURCE_SIZE);
    if (ok && (!l->disk || !l->source)) {
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        ok = false;
    }
    if (ok) initial_disk(l->disk, l->g->seed);
    return ok;
}

static void grade_efficiency(struct lab7 *l, bool smoke_passed)
{
    struct grade_test *t = grade_add(l->g, "efficiency: kicks per batch", "efficiency", GRADE_VISIBLE,
                                     EFFICIENCY_POINTS);
    if (!t) return;
    if (!smoke_passed || l->fewest == 0) {
        grade_say(t, "every smoke workload must pass first");
        return;
    }
    /* Full marks at the fewest, none from twice as many, linear between. */
    double frac = (2.0 * (double)l->fewest - (double)l->kicks) / (double)l->fewest;
    frac = frac > 1 ? 1 : frac < 0 ? 0 : frac;
    t->score = EFFICIENCY_POINTS * frac;
    grade_say(t, "your front end kicked %llu times over the workloads it passed; the fewest their batches "
                 "allow is %llu (full marks), none from %llu",
              (unsigned long long)l->kicks, (unsigned long long)l->fewest,
              (unsigned long long)(2 * l->fewest));
}

static bool run_lab7(struct grade *g, char err[GRADE_ERROR_SIZE])
{
    struct lab7 *l = calloc(1, sizeof *l);
    struct workload *w = calloc(1, sizeof *w);
    if (!l || !w) {
        free(l);
        free(w);
        snprintf(err, GRADE_ERROR_SIZE, "out of memory");
        return false;
    }
    l->g = g;
    bool ok = setup(l, err), smoke_passed = true;
    if (ok && g->check_only) {
        /* --check: the front end assembled in the first smoke workload. */
        struct asm_image yours;
        err[0] = '\0';
        ok = parse_workload(smoke_workloads[0].text, w) &&
             workload_source(w, FRONTEND_FILE, l->source, SOURCE_SIZE) &&
             grade_assemble(l->workload_path, l->source, l->frontend_path, grade_file(g, FRONTEND_FILE), &yours,
                            err);
        if (ok) asm_image_free(&yours);
        else if (!err[0]) snprintf(err, GRADE_ERROR_SIZE, "smoke workload 1 is malformed (a grader bug)");
    }
    for (size_t i = 0; ok && !g->check_only && i < NELEMS(smoke_workloads); i++) {
        memset(w, 0, sizeof *w);
        snprintf(w->name, sizeof w->name, "%s", smoke_workloads[i].name);
        w->fill = 0x5eed0000u + (uint32_t)i;
        bool passed;
        if (!parse_workload(smoke_workloads[i].text, w)) {
            snprintf(err, GRADE_ERROR_SIZE, "smoke workload %zu is malformed (a grader bug)", i + 1);
            ok = false;
        } else ok = grade_workload(l, w, "smoke", GRADE_VISIBLE, &passed, err);
        smoke_passed = smoke_passed && passed;
    }
    uint64_t state = g->seed ^ 0x1a57107a1a57107aull;
    for (unsigned k = 1; ok && !g->check_only && k <= HIDDEN_WORKLOADS; k++) {
        memset(w, 0, sizeof *w);
        random_workload(&state, k, w);
        bool passed;
        ok = grade_workload(l, w, "hidden,random", GRADE_AFTER_DUE_DATE, &passed, err);
    }
    if (ok && !g->check_only) grade_efficiency(l, smoke_passed);
    grade_private_remove(&l->priv);
    free(l->disk);
    free(l->source);
    free(l);
    free(w);
    return ok;
}

const struct grade_lab grade_lab_io = {"lab7-io", "Lab 7: I/O, a split-driver front end", lab7_files, run_lab7};
