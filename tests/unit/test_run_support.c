/* test_run_support.c: helpers for the run, log and equiv tests (test_run_support.h). */
#include "test_run_support.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

struct asm_image tr_load_file(const char *path)
{
    struct asm_image img;
    cr_assert_eq(asm_load_program(path, &img, stderr), 0, "%s does not assemble", path);
    return img;
}

struct asm_image tr_load_text(const char *text)
{
    struct asm_image img;
    cr_assert_eq(asm_assemble_string(text, "test.s", &img, stderr), 0, "test source:\n%s", text);
    return img;
}

struct run_spec tr_spec(const char *text)
{
    struct run_spec spec;
    char err[RUN_ERROR_SIZE] = "";
    cr_assert(run_spec_parse(text, &spec, err), "%s: %s", text, err);
    return spec;
}

uint8_t *tr_input_of(const char *path, size_t *len)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s.input", (int)(strlen(path) - 2), path);
    *len = 0;
    FILE *f = fopen(name, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(1 << 16);
    cr_assert_not_null(buf);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

struct run *tr_run_spec(const struct run_spec *spec, const char *variant, const struct asm_image *img,
                        size_t mem)
{
    struct isa_variant v = test_support_variant(variant);
    struct run_config cfg = {*spec, &v, mem, 1, NULL, NULL};
    const struct asm_image *programs[1] = {img};
    char err[RUN_ERROR_SIZE] = "";
    struct run *r = run_create(&cfg, programs, err);
    char text[64];
    run_spec_format(spec, text, sizeof text);
    cr_assert_not_null(r, "run %s: %s", text, err);
    return r;
}

struct run *tr_run(const char *spec, const char *variant, const struct asm_image *img, size_t mem)
{
    const struct run_spec s = tr_spec(spec);
    return tr_run_spec(&s, variant, img, mem);
}

struct machine *tr_bare(const struct asm_image *img, const char *variant, size_t mem,
                        const uint8_t *input, size_t input_len)
{
    struct isa_variant v = test_support_variant(variant);
    struct machine *m = machine_create(mem, &v);
    cr_assert_not_null(m);
    cr_assert(asm_image_place(img, machine_memory(m), mem, 0), "the program does not fit");
    machine_reset(m, img->entry);
    if (input_len) machine_feed_input(m, input, input_len);
    return m;
}

static bool same_psw(const struct psw *a, const struct psw *b)
{
    return a->flags == b->flags && a->pc == b->pc && a->base == b->base && a->bound == b->bound &&
           a->timer == b->timer;
}

bool tr_same_guest(const struct machine *m, enum machine_stop bstop, const struct run *r, unsigned g,
                   enum machine_stop rstop, char *why, size_t size)
{
    struct run_guest_state s;
    run_guest_state(r, g, &s);
    if (bstop != rstop)
        TS_DIFFER("stop: bare %s, run %s", machine_stop_name(bstop), machine_stop_name(rstop));
    if (s.stop != machine_state(m))
        TS_DIFFER("guest state's stop: bare %s, run %s", machine_stop_name(machine_state(m)),
             machine_stop_name(s.stop));
    for (unsigned reg = 0; reg < ISA_NREGS; reg++)
        if (machine_reg(m, reg) != s.regs[reg])
            TS_DIFFER("r%u: bare 0x%x, run 0x%x", reg, machine_reg(m, reg), s.regs[reg]);
    struct psw a = machine_psw(m);
    if (!same_psw(&a, &s.psw))
        TS_DIFFER("psw: bare {%x %x %x %x %x}, run {%x %x %x %x %x}", a.flags, a.pc, a.base, a.bound,
             a.timer, s.psw.flags, s.psw.pc, s.psw.base, s.psw.bound, s.psw.timer);
    if (s.memsize != machine_memsize(m))
        TS_DIFFER("memory size: bare %zu, run %zu", machine_memsize(m), s.memsize);
    const uint32_t *x = machine_memory_const(m);
    for (size_t i = 0; i < s.memsize; i++)
        if (x[i] != s.mem[i]) TS_DIFFER("memory[0x%zx]: bare 0x%x, run 0x%x", i, x[i], s.mem[i]);
    size_t la;
    const uint8_t *oa = machine_output(m, &la);
    if (la != s.output_len || memcmp(oa, s.output, la) != 0)
        TS_DIFFER("output: bare %zu bytes, run %zu bytes", la, s.output_len);
    if (machine_stats(m)->retired != s.instructions || machine_steps(m) != s.steps)
        TS_DIFFER("counts: bare %" PRIu64 " instructions %" PRIu64 " steps, run %" PRIu64 " %" PRIu64,
             machine_stats(m)->retired, machine_steps(m), s.instructions, s.steps);
    for (unsigned c = 0; c < CAUSE_COUNT; c++)
        if (s.traps[c] != machine_stats(m)->traps[c])
            TS_DIFFER("%s traps: bare %" PRIu64 ", run %" PRIu64, isa_cause_name(c) ? isa_cause_name(c) : "?",
                 machine_stats(m)->traps[c], s.traps[c]);
    const struct machine_trap *t = machine_last_trap(m);
    if ((t != NULL) != s.has_trap) TS_DIFFER("last trap: bare %s, run %s", t ? "one" : "none", s.has_trap ? "one" : "none");
    /* The old PSW's pc only: see run.last_trap_is_the_trap_not_the_trap_area
     * (a program that rewrites its trap area). */
    if (t && (t->cause != s.last_trap.cause || t->detail != s.last_trap.detail ||
              t->value != s.last_trap.value || t->old_psw.pc != s.last_trap.old_psw.pc))
        TS_DIFFER("last trap: bare %s/%u value 0x%x pc 0x%x, run %s/%u value 0x%x pc 0x%x",
             isa_cause_name(t->cause), t->detail, t->value, t->old_psw.pc,
             isa_cause_name(s.last_trap.cause) ? isa_cause_name(s.last_trap.cause) : "?",
             s.last_trap.detail, s.last_trap.value, s.last_trap.old_psw.pc);
    return true;
}

bool tr_same_runs(const struct run *a, const struct run *b, unsigned g, char *why, size_t size)
{
    struct run_guest_state x, y;
    run_guest_state(a, g, &x);
    run_guest_state(b, g, &y);
    if (run_time(a) != run_time(b))
        TS_DIFFER("run_time: %" PRIu64 " and %" PRIu64, run_time(a), run_time(b));
    if (x.stop != y.stop) TS_DIFFER("stop: %s and %s", machine_stop_name(x.stop), machine_stop_name(y.stop));
    for (unsigned reg = 0; reg < ISA_NREGS; reg++)
        if (x.regs[reg] != y.regs[reg]) TS_DIFFER("r%u: 0x%x and 0x%x", reg, x.regs[reg], y.regs[reg]);
    if (!same_psw(&x.psw, &y.psw))
        TS_DIFFER("psw: {%x %x %x %x %x} and {%x %x %x %x %x}", x.psw.flags, x.psw.pc, x.psw.base,
             x.psw.bound, x.psw.timer, y.psw.flags, y.psw.pc, y.psw.base, y.psw.bound, y.psw.timer);
    if (x.memsize != y.memsize) TS_DIFFER("memory size %zu and %zu", x.memsize, y.memsize);
    for (size_t i = 0; i < x.memsize; i++)
        if (x.mem[i] != y.mem[i]) TS_DIFFER("memory[0x%zx]: 0x%x and 0x%x", i, x.mem[i], y.mem[i]);
    if (x.output_len != y.output_len || memcmp(x.output, y.output, x.output_len) != 0)
        TS_DIFFER("output: %zu and %zu bytes", x.output_len, y.output_len);
    if (x.steps != y.steps || x.instructions != y.instructions)
        TS_DIFFER("guest steps %" PRIu64 " and %" PRIu64 ", instructions %" PRIu64 " and %" PRIu64,
             x.steps, y.steps, x.instructions, y.instructions);
    /* Every machine of the column, monitors' included. */
    for (unsigned j = 0; j < run_level_count(a); j++) {
        size_t wa, wb;
        const uint32_t *ma = run_machine_memory(a, g, j, &wa), *mb = run_machine_memory(b, g, j, &wb);
        if (wa != wb) TS_DIFFER("machine %u: %zu and %zu words", j, wa, wb);
        for (size_t i = 0; i < wa; i++)
            if (ma[i] != mb[i]) TS_DIFFER("machine %u memory[0x%zx]: 0x%x and 0x%x", j, i, ma[i], mb[i]);
    }
    return true;
}


void tr_check_equivalent_image(const struct asm_image *img, const char *what, const char *spec,
                               const char *variant, size_t mem, uint64_t budget,
                               const uint8_t *input, size_t len)
{
    struct machine *m = tr_bare(img, variant, mem, input, len);
    enum machine_stop bstop = machine_run(m, budget);
    struct run *r = tr_run(spec, variant, img, mem);
    if (len) run_feed_input(r, 0, input, len);
    enum machine_stop rstop = run_go(r, budget);
    char why[256] = "";
    bool ok = tr_same_guest(m, bstop, r, 0, rstop, why, sizeof why);
    run_destroy(r);
    machine_destroy(m);
    cr_assert(ok, "%s under %s (budget %" PRIu64 "): %s", what, spec, budget, why);
}

void tr_check_equivalent(const char *path, const char *spec, size_t mem, uint64_t budget)
{
    struct asm_image img = tr_load_file(path);
    size_t len;
    uint8_t *input = tr_input_of(path, &len);
    tr_check_equivalent_image(&img, path, spec, "pg", mem, budget, input, len);
    free(input);
    asm_image_free(&img);
}

struct tr_trace tr_trace_bare(const struct asm_image *img, const char *variant, size_t mem,
                              uint64_t steps)
{
    struct tr_trace t = {calloc(steps + 1, sizeof *t.at), 0};
    cr_assert_not_null(t.at);
    struct machine *m = tr_bare(img, variant, mem, NULL, 0);
    for (uint64_t s = 0;; s++) {
        struct tr_step *at = &t.at[s];
        for (unsigned reg = 0; reg < ISA_NREGS; reg++) at->regs[reg] = machine_reg(m, reg);
        at->psw = machine_psw(m);
        at->stop = machine_state(m);
        t.n = s;
        if (s == steps || at->stop != MACHINE_BUDGET) break;
        const uint64_t traps = machine_steps(m) - machine_stats(m)->retired;
        machine_step(m);
        if (machine_steps(m) - machine_stats(m)->retired != traps) {
            at->trap = true;
            at->old = machine_last_trap(m)->old_psw;
        }
    }
    machine_destroy(m);
    return t;
}

void tr_trace_free(struct tr_trace *t)
{
    free(t->at);
    t->at = NULL;
}

void tr_write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
}

char *tr_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot read %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

const char tr_ev_guest[] =
    "_start:  li r1, 1\n"         /* new PSW: supervisor, handler, bound 0x10000 */
    "         st r1, 8(r0)\n"
    "         la r1, handler\n"
    "         st r1, 9(r0)\n"
    "         st r0, 10(r0)\n"
    "         li r1, 0x10000\n"
    "         st r1, 11(r0)\n"
    "         st r0, 12(r0)\n"
    "ksrr:    srr r2, r3\n"
    "klpsw:   lpsw upsw(r0)\n"
    "upsw:    .word 2, 0, 0x1000, 0x100, 50\n"
    "handler: ld r4, 5(r0)\n"
    "         li r6, 7\n"
    "         beq r4, r6, tick\n"
    "         ld r7, 6(r0)\n"
    "         li r6, 3\n"
    "         beq r7, r6, fin\n"
    "hback:   lpsw 0(r0)\n"
    "tick:    addi r5, r5, 1\n"
    "         li r6, 50\n"
    "         st r6, 4(r0)\n"
    "         lpsw 0(r0)\n"
    "fin:     add r1, r8, r5\n"
    "         halt\n"
    "         .org 0x1000\n"          /* the user task, at virtual 0 */
    "user:    li r8, 0\n"
    "uloop:   addi r8, r8, 1\n"
    "         andi r9, r8, 7\n"
    "         bnez r9, uskip\n"
    "usvc:    svc 1\n"
    "uskip:   li r10, 100\n"
    "         blt r8, r10, uloop\n"
    "udone:   svc 3\n";

/* Every asm level's VMM code and constants are intact, and nothing was
 * written between its data and the shadow table. */
void tr_check_vmm_intact(const struct run *r)
{
    const struct asm_image *vmm = run_asm_image(r);
    cr_assert_not_null(vmm);
    uint32_t data, end, shadow;
    cr_assert(asm_symbol_value(vmm, "guest_entry", &data));
    cr_assert(asm_symbol_value(vmm, "vmm_end", &end));
    cr_assert(asm_symbol_value(vmm, "SHADOW", &shadow));
    const struct run_spec *spec = run_spec_of(r);
    for (unsigned i = 0; i < spec->n; i++) {
        if (spec->kind[i] != RUN_MONITOR_ASM) continue;
        const uint32_t *mem = run_machine_memory(r, 0, i, NULL);
        size_t changed = 0;
        uint32_t first = 0;
        for (size_t g = 0; g < vmm->nsegments; g++)
            for (size_t w = 0; w < vmm->segments[g].count; w++) {
                uint32_t at = vmm->segments[g].at + (uint32_t)w, word = vmm->segments[g].words[w];
                /* code and constants; the slots it writes are 0 in the image */
                if (at < data && word != 0 && mem[at] != word && changed++ == 0) first = at;
            }
        for (uint32_t a = end; a < shadow; a++)
            if (mem[a] != 0 && changed++ == 0) first = a;
        cr_assert_eq(changed, 0, "level %u: %zu VMM words changed, the first at 0x%x", i, changed, first);
    }
}
