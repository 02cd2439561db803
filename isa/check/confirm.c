/*
 * confirm.c: theory meets practice (`trapeze check-isa --confirm`).
 *
 * Each sensitive instruction becomes small guests that depend on it, one per
 * witness state and its partners.  A guest is the checker's experimental
 * memory plus a boot stub that puts the processor into the state:
 *
 *   guest-physical  0..2047   as a check run finds it (check_fill_memory);
 *                             new PSW = supervisor, pc HANDLER, base 0
 *                   BOOT      [addi r1,r0,1; out r1,2]  console control on
 *                             lui/ori r1..r15          the state's registers
 *                             lpsw PSW_AT(r0)          into the state: the
 *                                                      instruction runs next
 *                   HANDLER   halt                     after the trap that
 *                                                      follows (ILL on the zero
 *                                                      word, MEM, an interrupt)
 *                   PSW_AT    the state's PSW
 *
 * The guest runs on the bare machine and under each VMM; equivalence means
 * the same stop, steps, registers, PSW, memory and console output.
 */
#include "check_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../machine/machine.h"
#include "../../vmm/vmm.h"

#define GUEST_WORDS (2 * CHECK_MEMSIZE)
#define BOOT 0x800u
#define HANDLER 0x8f0u
#define PSW_AT 0x900u
#define STEP_LIMIT 2000u
#define MAX_GUESTS 48u
#define OUTPUT_KEPT 64u

static const char *const vmm_names[CHECK_CONFIRM_VMMS] = {"te", "hvm", "interp", "bt", "hw", "hw-slt"};

const char *check_confirm_vmm_name(unsigned i)
{
    return i < CHECK_CONFIRM_VMMS ? vmm_names[i] : "?";
}

static void build_guest(const struct check_state *s, uint32_t *mem)
{
    memset(mem, 0, GUEST_WORDS * sizeof *mem);
    check_fill_memory(s, mem);
    struct psw handler = {PSW_M, HANDLER, 0, GUEST_WORDS, 0};
    isa_psw_to_words(&handler, &mem[TRAP_NEW_PSW]);
    uint32_t *code = mem + BOOT;
    unsigned n = 0;
    if (s->ctrl) {
        code[n++] = isa_make_i(ISA_ADDI, 1, 0, 1);
        code[n++] = isa_make_i(ISA_OUT, 1, 0, PORT_CONSOLE_CTRL);
    }
    for (unsigned r = 1; r < ISA_NREGS; r++) {
        code[n++] = isa_make_i(ISA_LUI, r, 0, s->reg[r] >> 16);
        code[n++] = isa_make_i(ISA_ORI, r, r, s->reg[r] & 0xffffu);
    }
    code[n++] = isa_make_i(ISA_LPSW, 0, 0, PSW_AT);
    mem[HANDLER] = isa_make_j(ISA_HALT, 0);
    struct psw p = check_state_psw(s);
    isa_psw_to_words(&p, &mem[PSW_AT]);
}

/* How a guest ended. */
struct final {
    enum machine_stop stop;
    uint64_t steps;
    uint32_t reg[ISA_NREGS];
    struct psw psw;
    uint32_t mem[GUEST_WORDS];
    size_t out_len;
    uint8_t out[OUTPUT_KEPT];
};

static void keep_output(struct final *f, const uint8_t *out, size_t len)
{
    f->out_len = len;
    memcpy(f->out, out, len < OUTPUT_KEPT ? len : OUTPUT_KEPT);
}

static bool run_bare(const struct isa_variant *v, const struct check_state *s,
                     const uint32_t *mem, struct final *f)
{
    struct machine *m = machine_create(GUEST_WORDS, v);
    if (!m) return false;
    memcpy(machine_memory(m), mem, GUEST_WORDS * sizeof *mem);
    machine_reset(m, BOOT);
    machine_feed_input(m, check_input_bytes, s->input);
    machine_run(m, STEP_LIMIT);
    f->stop = machine_state(m);
    f->steps = machine_steps(m);
    for (unsigned r = 0; r < ISA_NREGS; r++) f->reg[r] = machine_reg(m, r);
    f->psw = machine_psw(m);
    memcpy(f->mem, machine_memory_const(m), sizeof f->mem);
    size_t len;
    const uint8_t *out = machine_output(m, &len);
    keep_output(f, out, len);
    machine_destroy(m);
    return true;
}

static bool run_vmm(const struct isa_variant *v, enum vmm_mode mode, const struct check_state *s,
                    const uint32_t *mem, struct final *f)
{
    struct vmm_config cfg = {mode, v, GUEST_WORDS, 1, 0, VMM_SHADOW_TRACE};
    struct vmm *vm = vmm_create(&cfg);
    if (!vm) return false;
    memcpy(vmm_guest_memory(vm, 0), mem, GUEST_WORDS * sizeof *mem);
    vmm_guest_reset(vm, 0, BOOT);
    vmm_feed_input(vm, 0, check_input_bytes, s->input);
    vmm_set_step_limit(vm, STEP_LIMIT);
    vmm_run(vm, STEP_LIMIT);
    f->stop = vmm_guest_stop(vm, 0);
    f->steps = vmm_guest_steps(vm, 0);
    const struct vmm_vcpu *cpu = vmm_guest_vcpu(vm, 0);
    memcpy(f->reg, cpu->reg, sizeof f->reg);
    f->psw = cpu->psw;
    memcpy(f->mem, vmm_guest_memory_const(vm, 0), sizeof f->mem);
    size_t len;
    const uint8_t *out = vmm_guest_output(vm, 0, &len);
    keep_output(f, out, len);
    vmm_destroy(vm);
    return true;
}

/* Describes the first difference between the bare run a and the run b. */
static bool finals_differ(const struct final *a, const struct final *b, const char *name,
                          char *what, size_t size)
{
    static const char *const trap_words[] = {"saved flags", "saved pc", "saved base", "saved bound",
                                             "saved timer", "cause", "trap value"};
    if (a->stop != b->stop) {
        snprintf(what, size, "stops: bare %s, %s %s", machine_stop_name(a->stop), name,
                 machine_stop_name(b->stop));
        return true;
    }
    for (uint32_t pa = 0; pa < TRAP_CAUSE + 2; pa++)
        if (a->mem[pa] != b->mem[pa]) {
            snprintf(what, size, "E[%u] (%s): bare 0x%x, %s 0x%x", pa, trap_words[pa], a->mem[pa],
                     name, b->mem[pa]);
            return true;
        }
    for (unsigned r = 1; r < ISA_NREGS; r++)
        if (a->reg[r] != b->reg[r]) {
            snprintf(what, size, "r%u: bare 0x%x, %s 0x%x", r, a->reg[r], name, b->reg[r]);
            return true;
        }
    uint32_t wa[PSW_WORDS], wb[PSW_WORDS];
    static const char *const psw_words[PSW_WORDS] = {"flags", "pc", "base", "bound", "timer"};
    isa_psw_to_words(&a->psw, wa);
    isa_psw_to_words(&b->psw, wb);
    for (int i = 0; i < PSW_WORDS; i++)
        if (wa[i] != wb[i]) {
            snprintf(what, size, "PSW %s: bare 0x%x, %s 0x%x", psw_words[i], wa[i], name, wb[i]);
            return true;
        }
    if (a->steps != b->steps) {
        snprintf(what, size, "steps: bare %llu, %s %llu", (unsigned long long)a->steps, name,
                 (unsigned long long)b->steps);
        return true;
    }
    if (a->out_len != b->out_len ||
        memcmp(a->out, b->out, a->out_len < OUTPUT_KEPT ? a->out_len : OUTPUT_KEPT) != 0) {
        snprintf(what, size, "console output: bare %zu bytes, %s %zu bytes", a->out_len, name,
                 b->out_len);
        return true;
    }
    for (uint32_t pa = 0; pa < GUEST_WORDS; pa++)
        if (a->mem[pa] != b->mem[pa]) {
            snprintf(what, size, "guest-physical word 0x%x: bare 0x%x, %s 0x%x", pa, a->mem[pa],
                     name, b->mem[pa]);
            return true;
        }
    return false;
}

/* The guests of one row: its witnesses' states and their partners. */
static void add_guest(struct check_state *list, unsigned *n, const struct check_state *s)
{
    if (*n == MAX_GUESTS || !check_state_valid(s)) return;
    for (unsigned i = 0; i < *n; i++)
        if (check_states_equal(&list[i], s)) return;
    list[(*n)++] = *s;
}

static void add_with_partners(struct check_state *list, unsigned *n, const struct check_state *s)
{
    add_guest(list, n, s);
    struct check_state p = *s;
    p.mode = !s->mode;
    add_guest(list, n, &p);
    p = *s;
    p.loc = (uint8_t)((s->loc + 1) % CHECK_LOCATIONS);
    add_guest(list, n, &p);
    p = *s;
    p.ie = !s->ie;
    add_guest(list, n, &p);
    p = *s;
    p.timer = s->timer ? 0 : 1;
    add_guest(list, n, &p);
}

static unsigned guests_of(const struct check_row *row, struct check_state *list)
{
    unsigned n = 0;
    const struct check_witness *ws[] = {&row->w.control, &row->w.user, &row->w.timing,
                                        &row->w.behavior[0], &row->w.behavior[1],
                                        &row->w.behavior[2], &row->w.behavior[3]};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        if (!ws[i]->found) continue;
        add_with_partners(list, &n, &ws[i]->s1);
        if (ws[i]->kind == CHECK_W_PAIR) add_with_partners(list, &n, &ws[i]->s2);
    }
    return n;
}

size_t check_confirm(const struct isa_variant *v, const struct check_report *r,
                     struct check_confirm_row *rows)
{
    size_t nrows = 0;
    uint32_t *mem = malloc(GUEST_WORDS * sizeof *mem);
    struct final *bare = malloc(sizeof *bare), *virt = malloc(sizeof *virt);
    struct check_state *list = malloc(MAX_GUESTS * sizeof *list);
    if (!mem || !bare || !virt || !list) goto done;

    for (size_t i = 0; i < r->nrows; i++) {
        const struct check_row *row = &r->rows[i];
        if (!row->control && !row->behavior) continue;
        struct check_confirm_row *c = &rows[nrows++];
        memset(c, 0, sizeof *c);
        c->op = row->op;
        c->row = row;
        c->guests = guests_of(row, list);
        for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++) c->equivalent[k] = true;
        for (unsigned g = 0; g < c->guests; g++) {
            build_guest(&list[g], mem);
            if (!run_bare(v, &list[g], mem, bare)) continue;
            for (unsigned k = 0; k < CHECK_CONFIRM_VMMS; k++) {
                enum vmm_mode mode;
                if (!vmm_mode_by_name(vmm_names[k], &mode) ||
                    !run_vmm(v, mode, &list[g], mem, virt))
                    continue;
                c->ran[k] = true;
                if (c->equivalent[k] &&
                    finals_differ(bare, virt, vmm_names[k], c->what[k], sizeof c->what[k])) {
                    c->equivalent[k] = false;
                    c->guest[k] = list[g];
                }
            }
        }
    }
done:
    free(mem);
    free(bare);
    free(virt);
    free(list);
    return nrows;
}
