/*
 * emulate.c: the interpreter routines, one per system instruction.
 *
 * Each routine carries out one instruction on the guest's virtual state (its
 * virtual PSW, its registers in e->cpu, its memory through the f-map, its
 * virtual console) with the meaning ISA.md gives it, including the variant's
 * `exec` and `silent` actions for virtual user mode, and the timer rule: a
 * completed instruction charges the virtual clock except lpsw and stmr that
 * set the timer (a silent one sets nothing and counts).
 * They mirror machine.c's exec_system() line for line; the unit tests hold
 * the two against each other.
 *
 * The table by opcode is generated from isa.def: every ISA_F_SYSTEM entry
 * points at the routine named routine_<ID>, defined below with ROUTINE(ID).
 * A system instruction added to isa.def without a ROUTINE gets a NULL slot
 * (its PRIV trap is then reflected) and the unit test "every system
 * instruction has a routine" fails.
 */
#include "vmm_priv.h"

/* One routine pointer per instruction of isa.def, NULL unless ROUTINE(ID)
 * below defines it (these are tentative definitions). */
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) static const vmm_routine routine_##id;
#include "../isa/isa.def"
#undef ISA_OP

#define ROUTINE(id)                                               \
    static enum vmm_emul_result emul_##id(struct vmm_emul *e);    \
    static const vmm_routine routine_##id = emul_##id;            \
    static enum vmm_emul_result emul_##id(struct vmm_emul *e)

static const vmm_routine no_routine;

/* ---- What routines share -------------------------------------------------------- */

static uint32_t reg(const struct vmm_emul *e, unsigned r) { return machine_reg(e->cpu, r); }
static void set_reg(struct vmm_emul *e, unsigned r, uint32_t x) { machine_set_reg(e->cpu, r, x); }
static struct psw *vpsw(struct vmm_emul *e) { return &e->g->vcpu.psw; }
static unsigned field_a(const struct vmm_emul *e) { return isa_field_a(e->w); }
static unsigned field_b(const struct vmm_emul *e) { return isa_field_b(e->w); }
static uint32_t simm(const struct vmm_emul *e) { return isa_simm16(e->w); }

void vmm_vclock_tick(struct vmm_guest *g)
{
    struct psw *p = &g->vcpu.psw;
    if (p->timer && --p->timer == 0) p->flags |= PSW_TP;
}

/* The instruction completed: pc moves on and, unless it set the timer
 * itself, the virtual clock is charged. */
static enum vmm_emul_result retire(struct vmm_emul *e, bool charge_timer)
{
    vpsw(e)->pc = e->pc + 1;
    if (charge_timer) vmm_vclock_tick(e->g);
    return EMUL_RETIRED;
}

/* A guest-physical word through the f-map.  The allocator gives each guest
 * one extent, so the f-map is the offset g->mem (vmm_fmaps_valid); gpa comes
 * from a translation on the guest's interpreter, whose memory is exactly
 * the guest's. */
static uint32_t guest_load(const struct vmm_guest *g, uint32_t gpa)
{
    TRAPEZE_ASSERT(gpa < g->memsize);
    return g->mem[gpa];
}

/* ---- The routines ---------------------------------------------------------------- */

ROUTINE(HALT)
{
    retire(e, true);
    return e->silent ? EMUL_RETIRED : EMUL_HALTED;
}

ROUTINE(LPSW)
{
    struct vmm_guest *g = e->g;
    uint32_t words[PSW_WORDS];
    const uint32_t at = reg(e, field_b(e)) + simm(e);
    const struct psw *p = vpsw(e);
    if (!(p->flags & PSW_PG) && at <= UINT32_MAX - (PSW_WORDS - 1) && at + (PSW_WORDS - 1) < p->bound &&
        (uint64_t)p->base + at + PSW_WORDS <= g->memsize) {
        /* The usual case: unpaged, all five words inside the bound and the
         * memory, which is what the loop below would find word by word. */
        for (uint32_t i = 0; i < PSW_WORDS; i++) words[i] = guest_load(g, p->base + at + i);
    } else {
        for (uint32_t i = 0; i < PSW_WORDS; i++) {
            uint32_t va = at + i, gpa;
            unsigned detail;
            if (!machine_translate(g->interp, p, va, ACCESS_LOAD, &gpa, &detail)) {
                e->detail = detail;
                e->value = va;
                return EMUL_FAULT;
            }
            words[i] = guest_load(g, gpa);
        }
    }
    if (e->silent) return retire(e, true); /* it set no timer: it counts */
    struct psw next = isa_psw_from_words(words);
    if (e->user) { /* exec in user mode: M and the relocation never change */
        const uint32_t kept = PSW_M | PSW_PG;
        next.flags = (next.flags & ~kept) | (vpsw(e)->flags & kept);
        next.base = vpsw(e)->base;
        next.bound = vpsw(e)->bound;
    }
    *vpsw(e) = next;
    g->tlb_flushes++; /* a PSW load is where cached (shadow) translations die */
    vmm_shadow_flush(g);
    return EMUL_RETIRED;
}

ROUTINE(PUSHF)
{
    set_reg(e, field_a(e), vpsw(e)->flags);
    return retire(e, true);
}

ROUTINE(POPF)
{
    if (!e->silent) vpsw(e)->flags = (vpsw(e)->flags & ~PSW_IE) | (reg(e, field_a(e)) & PSW_IE);
    return retire(e, true);
}

ROUTINE(SRR)
{
    set_reg(e, field_a(e), vpsw(e)->base);
    set_reg(e, field_b(e), vpsw(e)->bound);
    return retire(e, true);
}

ROUTINE(STMR)
{
    if (e->silent) return retire(e, true); /* it set no timer: it counts */
    vpsw(e)->timer = reg(e, field_a(e));
    return retire(e, false);
}

ROUTINE(RTMR)
{
    set_reg(e, field_a(e), vpsw(e)->timer);
    return retire(e, true);
}

ROUTINE(IN)
{
    set_reg(e, field_a(e), e->silent ? 0 : vmm_console_read(e->g, simm(e)));
    return retire(e, true);
}

ROUTINE(OUT)
{
    if (!e->silent) vmm_console_write(e->g, simm(e), reg(e, field_a(e)));
    return retire(e, true);
}

ROUTINE(TLBFLUSH)
{
    if (!e->silent) {
        e->g->tlb_flushes++;
        vmm_shadow_flush(e->g);
    }
    return retire(e, true);
}

/* The vmm's guests see a machine without the hardware-assist extension
 * (even under hw, whose real machine has it): vmenter is an undefined
 * instruction for them. */
ROUTINE(VMENTER)
{
    (void)e;
    return EMUL_ILLEGAL;
}

/* ---- The table --------------------------------------------------------------------- */

static const vmm_routine *const routine_table[ISA_OPCODE_SLOTS] = {
#define ISA_OP(id, mn, opc, fmt, ops, flags, doc) \
    [opc] = ((flags) & ISA_F_SYSTEM) ? &routine_##id : &no_routine,
#include "../isa/isa.def"
#undef ISA_OP
};

vmm_routine vmm_routine_for(uint8_t opcode)
{
    const vmm_routine *slot = routine_table[opcode];
    return slot ? *slot : NULL;
}
