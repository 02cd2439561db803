/*
 * lab.c: the experimental machines of the checker.
 *
 * A run is: restore the work machine from a pristine template, write the
 * state's virtual contents through its location, set the registers, the PSW
 * and the console, take one machine_step, and read back everything the
 * instruction could have touched.  A monitor receives every trap, so a trap
 * is seen exactly as the hardware saved it and writes no memory.
 */
#include "check_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../machine/machine.h"

/* Where each location keeps the virtual space (see check.h). */
struct location {
    uint32_t pg, base, bound;
    uint32_t frame[CHECK_VWORDS / ISA_PAGE_WORDS]; /* paged: frame of each page */
};
static const struct location locations[CHECK_LOCATIONS] = {
    {0, 0x100, CHECK_VWORDS, {0, 0}},
    {0, 0x4c4, CHECK_VWORDS, {0, 0}},
    {PSW_PG, 16, CHECK_VWORDS / ISA_PAGE_WORDS, {3, 4}},
    {PSW_PG, 24, CHECK_VWORDS / ISA_PAGE_WORDS, {7, 2}},
};

/* Physical words the probe of the console control runs at (frame 0, past
 * the page tables). */
#define PROBE_PC 0x40u
const uint8_t check_input_bytes[CHECK_MAX_INPUT] = {'T', 'z', '!'};

struct capture {
    bool trapped;
    struct machine_trap trap;
};

struct check_lab {
    struct machine *work;
    struct machine *pristine[2]; /* by console control */
    struct capture cap;
};

static enum machine_verdict take_trap(void *ctx, struct machine *m, const struct machine_trap *t)
{
    (void)m;
    struct capture *cap = ctx;
    cap->trapped = true;
    cap->trap = *t;
    return MACHINE_STOP_RUN;
}

struct psw check_state_psw(const struct check_state *s)
{
    const struct location *l = &locations[s->loc % CHECK_LOCATIONS];
    uint32_t flags = (s->mode ? PSW_M : 0) | (s->ie ? PSW_IE : 0) | (s->tp ? PSW_TP : 0) | l->pg;
    return (struct psw){flags, s->pc, l->base, l->bound, s->timer};
}

bool check_state_valid(const struct check_state *s)
{
    if (s->mode > 1 || s->ie > 1 || s->tp > 1 || s->ctrl > 1 || s->loc >= CHECK_LOCATIONS ||
        s->input > CHECK_MAX_INPUT || s->pc >= CHECK_VWORDS || s->reg[0] != 0)
        return false;
    /* With IE on, a pending timer or input interrupt is taken instead of
     * the instruction: such a state says nothing about the instruction. */
    return !(s->ie && (s->tp || (s->ctrl && s->input)));
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void check_fill_image(const struct check_state *s, uint32_t img[CHECK_VWORDS])
{
    if (s->mem_seed == 0) memset(img, 0, CHECK_VWORDS * sizeof *img);
    else
        for (uint32_t va = 0; va < CHECK_VWORDS; va++)
            img[va] = (uint32_t)mix64((uint64_t)s->mem_seed << 32 | va);
    img[s->pc % CHECK_VWORDS] = s->insn;
}

static uint32_t phys_of(const struct location *l, uint32_t va)
{
    if (!l->pg) return l->base + va;
    return l->frame[va >> ISA_PAGE_SHIFT] * ISA_PAGE_WORDS + (va & (ISA_PAGE_WORDS - 1));
}

/* Copies the virtual space from img into physical memory, or back. */
static void write_virtual(uint32_t *mem, const struct location *l, const uint32_t *img)
{
    uint32_t run = l->pg ? ISA_PAGE_WORDS : CHECK_VWORDS;
    for (uint32_t va = 0; va < CHECK_VWORDS; va += run)
        memcpy(mem + phys_of(l, va), img + va, run * sizeof *img);
}

static void read_virtual(const uint32_t *mem, const struct location *l, uint32_t *img)
{
    uint32_t run = l->pg ? ISA_PAGE_WORDS : CHECK_VWORDS;
    for (uint32_t va = 0; va < CHECK_VWORDS; va += run)
        memcpy(img + va, mem + phys_of(l, va), run * sizeof *img);
}

/* Everything outside the trap area holds a pattern of its physical address,
 * so a stray physical access would show; then the page tables. */
static void fill_pristine(uint32_t *mem)
{
    memset(mem, 0, TRAP_AREA_WORDS * sizeof *mem);
    for (uint32_t pa = TRAP_AREA_WORDS; pa < CHECK_MEMSIZE; pa++)
        mem[pa] = (uint32_t)mix64(0xc0ffee00000000ull | pa);
    for (unsigned i = 0; i < CHECK_LOCATIONS; i++) {
        const struct location *l = &locations[i];
        if (!l->pg) continue;
        for (uint32_t vpn = 0; vpn < l->bound; vpn++)
            mem[l->base + vpn] = l->frame[vpn] << ISA_PAGE_SHIFT | PTE_V | PTE_W;
    }
}

void check_fill_memory(const struct check_state *s, uint32_t *mem)
{
    uint32_t img[CHECK_VWORDS];
    fill_pristine(mem);
    check_fill_image(s, img);
    write_virtual(mem, &locations[s->loc % CHECK_LOCATIONS], img);
}

struct check_lab *check_lab_new(const struct isa_variant *v)
{
    struct check_lab *lab = calloc(1, sizeof *lab);
    if (!lab) return NULL;
    struct machine *p = machine_create(CHECK_MEMSIZE, v);
    if (!p) goto fail;
    lab->pristine[0] = p;
    fill_pristine(machine_memory(p));
    /* The second template has input interrupts on: the only way to set the
     * console control is to execute `out` to port 2 in supervisor mode. */
    lab->pristine[1] = machine_clone(p);
    if (!lab->pristine[1]) goto fail;
    struct machine *q = lab->pristine[1];
    uint32_t saved = machine_memory(q)[PROBE_PC];
    machine_memory(q)[PROBE_PC] = isa_make_i(ISA_OUT, 1, 0, PORT_CONSOLE_CTRL);
    machine_set_reg(q, 1, 1);
    struct psw sup = {PSW_M, PROBE_PC, 0, CHECK_MEMSIZE, 0};
    machine_set_psw(q, &sup);
    machine_step(q);
    machine_memory(q)[PROBE_PC] = saved;
    machine_reset(q, 0);

    lab->work = machine_clone(p);
    if (!lab->work) goto fail;
    struct machine_monitor mon = {&lab->cap, take_trap};
    machine_set_monitor(lab->work, &mon);
    return lab;
fail:
    check_lab_free(lab);
    return NULL;
}

void check_lab_free(struct check_lab *lab)
{
    if (!lab) return;
    machine_destroy(lab->work);
    machine_destroy(lab->pristine[0]);
    machine_destroy(lab->pristine[1]);
    free(lab);
}

void check_lab_run(struct check_lab *lab, const struct check_state *s,
                   const uint32_t img[CHECK_VWORDS], struct check_outcome *o)
{
    struct machine *m = lab->work;
    const struct location *l = &locations[s->loc];
    machine_restore(m, lab->pristine[s->ctrl]);
    write_virtual(machine_memory(m), l, img);
    for (unsigned r = 1; r < ISA_NREGS; r++) machine_set_reg(m, r, s->reg[r]);
    struct psw psw = check_state_psw(s);
    machine_set_psw(m, &psw);
    machine_feed_input(m, check_input_bytes, s->input);
    uint64_t flushes = machine_stats(m)->tlb_flushes;
    size_t out_before;
    machine_output(m, &out_before);

    lab->cap.trapped = false;
    enum machine_stop stop = machine_step(m);

    memset(o, 0, sizeof *o);
    if (lab->cap.trapped) {
        o->end = CHECK_END_TRAP;
        o->cause = lab->cap.trap.cause;
        o->detail = lab->cap.trap.detail;
        o->value = lab->cap.trap.value;
        o->psw = lab->cap.trap.old_psw;
    } else {
        o->end = stop == MACHINE_HALT ? CHECK_END_HALT : CHECK_END_DONE;
        o->psw = machine_psw(m);
    }
    for (unsigned r = 0; r < ISA_NREGS; r++) o->reg[r] = machine_reg(m, r);
    read_virtual(machine_memory_const(m), l, o->vmem);
    size_t out_len;
    const uint8_t *out = machine_output(m, &out_len);
    o->output_len = (uint32_t)(out_len - out_before);
    for (size_t i = 0; i < sizeof o->output && i < o->output_len; i++)
        o->output[i] = out[out_before + i];
    o->input_read = (uint32_t)(s->input - machine_input_pending(m));
    o->tlb_flushes = (uint32_t)(machine_stats(m)->tlb_flushes - flushes);

    /* The console control has no read port: probe it by asking whether
     * waiting input raises an interrupt once IE is on. */
    if (machine_state(m) != MACHINE_BUDGET) machine_reset(m, 0);
    if (machine_input_pending(m) == 0) machine_feed_input(m, check_input_bytes, 1);
    struct psw probe = {PSW_M | PSW_IE, PROBE_PC, 0, CHECK_MEMSIZE, 0};
    machine_set_psw(m, &probe);
    lab->cap.trapped = false;
    machine_step(m);
    o->ctrl = lab->cap.trapped && lab->cap.trap.cause == CAUSE_IO;
}

bool check_run(const struct isa_variant *v, const struct check_state *s,
               struct check_outcome *out)
{
    if (!check_state_valid(s)) return false;
    struct check_lab *lab = check_lab_new(v);
    if (!lab) return false;
    uint32_t img[CHECK_VWORDS];
    check_fill_image(s, img);
    check_lab_run(lab, s, img, out);
    check_lab_free(lab);
    return true;
}

/* ---- Comparing ------------------------------------------------------------ */

void check_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (!buf || size == 0 || *len >= size - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static void sep(char *buf, size_t size, size_t *len)
{
    if (*len) check_append(buf, size, len, "; ");
}

static void flag_change(char *buf, size_t size, size_t *len, const char *name, uint32_t before,
                        uint32_t after, uint32_t bit)
{
    sep(buf, size, len);
    check_append(buf, size, len, "%s %u -> %u", name, !!(before & bit), !!(after & bit));
}

unsigned check_control_changes(const struct check_state *s, const struct check_outcome *o,
                               char *what, size_t size)
{
    const struct psw before = check_state_psw(s), *after = &o->psw;
    unsigned ch = 0;
    size_t len = 0;
    if (what && size) what[0] = '\0';
    if ((before.flags ^ after->flags) & PSW_M) {
        ch |= CHANGE_M;
        flag_change(what, size, &len, "M", before.flags, after->flags, PSW_M);
    }
    if ((before.flags ^ after->flags) & PSW_PG) {
        ch |= CHANGE_PG;
        flag_change(what, size, &len, "PG", before.flags, after->flags, PSW_PG);
    }
    if (before.base != after->base) {
        ch |= CHANGE_BASE;
        sep(what, size, &len);
        check_append(what, size, &len, "base 0x%x -> 0x%x", before.base, after->base);
    }
    if (before.bound != after->bound) {
        ch |= CHANGE_BOUND;
        sep(what, size, &len);
        check_append(what, size, &len, "bound 0x%x -> 0x%x", before.bound, after->bound);
    }
    if ((before.flags ^ after->flags) & PSW_IE) {
        ch |= CHANGE_IE;
        flag_change(what, size, &len, "IE", before.flags, after->flags, PSW_IE);
    }
    /* The timer: a trap keeps it (the trapping instruction is not charged);
     * a completed instruction is charged one tick or none (lpsw and stmr
     * set it instead, which is what this test catches when they do). */
    bool tp_before = before.flags & PSW_TP, tp_after = after->flags & PSW_TP;
    bool unchanged = after->timer == before.timer && tp_after == tp_before;
    bool ticked = before.timer > 0 && after->timer == before.timer - 1 &&
                  tp_after == (tp_before || before.timer == 1);
    if (!(unchanged || (o->end != CHECK_END_TRAP && ticked))) {
        ch |= CHANGE_TIMER;
        sep(what, size, &len);
        check_append(what, size, &len, "timer 0x%x -> 0x%x", before.timer, after->timer);
        if (tp_before != tp_after) check_append(what, size, &len, ", TP %d -> %d", tp_before, tp_after);
        if (o->end == CHECK_END_TRAP) check_append(what, size, &len, " across a %s trap",
                                                   isa_cause_name(o->cause));
        else if (before.timer > 0)
            check_append(what, size, &len, " (a tick gives 0x%x)", before.timer - 1);
    }
    if (o->output_len) {
        ch |= CHANGE_OUTPUT;
        sep(what, size, &len);
        check_append(what, size, &len, "console output");
        for (uint32_t i = 0; i < o->output_len && i < sizeof o->output; i++)
            check_append(what, size, &len, " 0x%02x", o->output[i]);
    }
    if (o->input_read) {
        ch |= CHANGE_INPUT;
        sep(what, size, &len);
        check_append(what, size, &len, "console input consumed (%u byte%s)", o->input_read,
                     o->input_read == 1 ? "" : "s");
    }
    if (o->ctrl != (bool)s->ctrl) {
        ch |= CHANGE_CTRL;
        sep(what, size, &len);
        check_append(what, size, &len, "console control %s -> %s", s->ctrl ? "on" : "off",
                     o->ctrl ? "on" : "off");
    }
    if (o->tlb_flushes) {
        ch |= CHANGE_TLB;
        sep(what, size, &len);
        check_append(what, size, &len, "TLB flushed");
    }
    if (o->end == CHECK_END_HALT) {
        ch |= CHANGE_HALT;
        sep(what, size, &len);
        check_append(what, size, &len, "machine halted");
    }
    return ch;
}

/* "traps MEM/1 (value 0x200) at pc 0x40" or "continues at pc 0x41". */
static void describe_flow(const struct check_outcome *o, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    if (o->end == CHECK_END_TRAP)
        check_append(buf, size, &len, "traps %s (detail %u, value 0x%x, saved pc 0x%x)",
                     isa_cause_name(o->cause), o->detail, o->value, o->psw.pc);
    else check_append(buf, size, &len, "continues at pc 0x%x", o->psw.pc);
}

bool check_outcomes_differ(const struct check_outcome *a, const struct check_outcome *b,
                           char *what, size_t size)
{
    size_t len = 0;
    if (what && size) what[0] = '\0';
    bool trap_a = a->end == CHECK_END_TRAP, trap_b = b->end == CHECK_END_TRAP;
    if (trap_a != trap_b || a->psw.pc != b->psw.pc ||
        (trap_a && (a->cause != b->cause || a->detail != b->detail || a->value != b->value))) {
        char fa[120], fb[120];
        describe_flow(a, fa, sizeof fa);
        describe_flow(b, fb, sizeof fb);
        check_append(what, size, &len, "control: A %s, B %s", fa, fb);
        return true;
    }
    for (unsigned r = 1; r < ISA_NREGS; r++)
        if (a->reg[r] != b->reg[r]) {
            check_append(what, size, &len, "r%u: A 0x%x, B 0x%x", r, a->reg[r], b->reg[r]);
            return true;
        }
    for (uint32_t va = 0; va < CHECK_VWORDS; va++)
        if (a->vmem[va] != b->vmem[va]) {
            check_append(what, size, &len, "virtual word 0x%x: A 0x%x, B 0x%x", va, a->vmem[va],
                         b->vmem[va]);
            return true;
        }
    return false;
}

bool check_states_equal(const struct check_state *a, const struct check_state *b)
{
    return a->insn == b->insn && a->mode == b->mode && a->ie == b->ie && a->tp == b->tp &&
           a->loc == b->loc && a->input == b->input && a->ctrl == b->ctrl &&
           a->timer == b->timer && a->pc == b->pc && a->mem_seed == b->mem_seed &&
           memcmp(a->reg, b->reg, sizeof a->reg) == 0;
}

bool check_states_differ_only_in(const struct check_state *a, const struct check_state *b,
                                 enum check_aspect aspect)
{
    struct check_state x = *a;
    switch (aspect) {
    case CHECK_MODE: x.mode = b->mode; break;
    case CHECK_LOCATION: x.loc = b->loc; break;
    case CHECK_IE: x.ie = b->ie; break;
    case CHECK_TIMER: x.timer = b->timer; break;
    case CHECK_ASPECTS: return false;
    }
    return check_states_equal(&x, b) && !check_states_equal(a, b);
}
