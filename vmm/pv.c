/*
 * pv.c: paravirtualization (`--vmm pv`, vmm.h enum vmm_pv_abi), Xen's
 * answer to x86 on this machine.
 *
 * The guest kernel is modified: instead of executing the instructions that
 * real user mode gets wrong (x86like's pushf, popf, srr: no trap) or that
 * trap to be emulated (lpsw, stmr, rtmr, out, halt), it asks the vmm with
 * `hcall N`.  It runs directly, deprivileged, exactly as under te (the
 * place `direct`, shadow page tables for paging), so what differs from te
 * is only this file:
 *
 *   first run   its first instruction must be hcall PV_HELLO, else the
 *               guest is refused before it takes a step (vmm_pv_admit)
 *   PV_HELLO    the guest's memory is scanned with bt's decoder: a word
 *               that is a critical instruction refuses the guest (real
 *               user mode would run it wrong without a trap)
 *   an hcall    served here (vmm_pv_hcall), one guest step, the virtual
 *               clock charged as the instruction it replaces
 *   PRIV from   the kernel executed a system instruction after all: its
 *   supervisor  fault, not something to emulate behind its back: refused
 *   the mask    the shared area's mask is the supervisor's virtual IE
 *               (Xen's evtchn_upcall_mask): read at each hypercall,
 *               written whenever the vmm loads a supervisor PSW
 *
 * Every guest-supplied address is checked against the guest's memory
 * before use; a bad one is an error returned to the guest (r1 = -1), never
 * a word outside its region.
 */
#include "bt.h"
#include "vmm_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

static bool inside(const struct vmm_guest *g, uint64_t gpa, uint64_t words)
{
    return gpa + words <= g->memsize;
}

/* Stops g with a one-line reason (vmm_guest_refusal). */
static void refuse(struct vmm_guest *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct vmm_guest *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->pv.refusal, sizeof g->pv.refusal, fmt, ap);
    va_end(ap);
    vmm_stop_guest(g, MACHINE_CHECK);
}

static uint32_t hello_word(void) { return (uint32_t)ISA_HCALL << 24 | PV_HCALL_HELLO; }

bool vmm_pv_admit(struct vmm_guest *g)
{
    if (g->pv.admitted) {
        /* Refused once: it stays stopped (the scheduler must not pick it
         * again and again without a step). */
        if (g->pv.refusal[0] && !g->stopped) vmm_stop_guest(g, MACHINE_CHECK);
        return !g->pv.refusal[0];
    }
    g->pv.admitted = true;
    const uint32_t pc = g->vcpu.psw.pc;
    uint32_t gpa;
    unsigned detail;
    if (!machine_translate(g->interp, &g->vcpu.psw, pc, ACCESS_FETCH, &gpa, &detail)) {
        refuse(g, "guest %u is not paravirtual: its first instruction (pc 0x%" PRIx32
                  ") cannot be fetched, not hcall PV_HELLO", g->index, pc);
        return false;
    }
    const uint32_t w = g->mem[gpa];
    if (w == hello_word()) return true;
    char text[64];
    isa_disassemble(w, pc, NULL, NULL, text, sizeof text);
    refuse(g, "guest %u is not paravirtual: its first instruction is %s (pc 0x%" PRIx32
              "), not hcall PV_HELLO", g->index, text, pc);
    return false;
}

/* PV_HELLO: no word of the guest's memory may be a critical instruction.
 * Which words are code cannot be known before they run (jump tables,
 * handlers named through memory), so every word counts as code; what the
 * kernel writes later is its own contract, as for any PV kernel. */
static bool scan(struct vmm_guest *g)
{
    for (uint32_t a = 0; a < g->memsize; a++) {
        const uint32_t w = g->mem[a];
        if (!bt_critical(w, &g->vmm->variant)) continue;
        char text[64];
        isa_disassemble(w, a, NULL, NULL, text, sizeof text);
        refuse(g, "guest %u's paravirtual kernel holds the critical instruction %s at 0x%" PRIx32
                  ": a PV kernel asks by hcall instead", g->index, text, a);
        return false;
    }
    return true;
}

static void put(struct vmm_guest *g, uint32_t gpa, uint32_t value)
{
    if (g->mem[gpa] == value) return;
    *vmm_guest_span(g, gpa, 1) = value;
    vmm_shadow_wrote(g, gpa, 1);
}

static bool interrupt_waiting(const struct vmm_guest *g)
{
    return (g->vcpu.psw.flags & PSW_TP) || console_io_pending(&g->con) || g->vdisk_lines || g->split_lines;
}

/* At a hypercall: the mask, as the kernel last wrote it, is its virtual IE.
 * Only there (and at the PSW loads the vmm makes): the vmm is entered at
 * other times too, but where depends on the place (the real timer, the
 * slice), and the guest's view must not. */
static void sync_mask(struct vmm_guest *g)
{
    struct psw *p = &g->vcpu.psw;
    if (!g->pv.shared_set || !(p->flags & PSW_M)) return;
    if (g->mem[g->pv.shared + PV_SH_MASK]) p->flags &= ~PSW_IE;
    else p->flags |= PSW_IE;
}

static void note_pending(struct vmm_guest *g)
{
    const struct psw *p = &g->vcpu.psw;
    if (!g->pv.shared_set || !(p->flags & PSW_M)) return;
    put(g, g->pv.shared + PV_SH_PENDING, !(p->flags & PSW_IE) && interrupt_waiting(g));
}

void vmm_pv_psw_loaded(struct vmm_guest *g)
{
    const struct psw *p = &g->vcpu.psw;
    if (!g->pv.shared_set || !(p->flags & PSW_M)) return;
    put(g, g->pv.shared + PV_SH_MASK, !(p->flags & PSW_IE));
    note_pending(g);
}

void vmm_pv_refuse_insn(struct vmm_guest *g, uint32_t w, uint32_t pc)
{
    char text[64];
    isa_disassemble(w, pc, NULL, NULL, text, sizeof text);
    refuse(g, "guest %u's paravirtual kernel executed %s at pc 0x%" PRIx32
              ": a PV kernel asks by hcall instead", g->index, text, pc);
}

/* PV_PTE_BATCH: the pairs applied, or -1. */
static uint32_t pte_batch(struct vmm_guest *g, uint32_t list, uint32_t count)
{
    if (count > PV_PTE_BATCH_MAX || !inside(g, list, 2 * (uint64_t)count)) return UINT32_MAX;
    uint32_t i = 0;
    for (; i < count; i++) {
        const uint32_t at = g->mem[list + 2 * i], value = g->mem[list + 2 * i + 1];
        if (!inside(g, at, 1)) break;
        put(g, at, value);
    }
    g->pv.pte_pairs += i;
    /* The batch is a flush: the entries take effect at once. */
    g->tlb_flushes++;
    vmm_shadow_flush(g);
    return i;
}

bool vmm_pv_hcall(struct vmm_guest *g, struct machine *cpu, uint32_t number, uint32_t pc, bool sup)
{
    if (g->vmm->mode != VMM_PV || !sup || number < PV_HCALL_FIRST ||
        number >= PV_HCALL_FIRST + PV_HCALL_COUNT)
        return false;
    g->pv.calls[number - PV_HCALL_FIRST]++;
    sync_mask(g);
    struct psw *p = &g->vcpu.psw;
    const uint32_t r1 = machine_reg(cpu, 1), r2 = machine_reg(cpu, 2);
    bool charge = true; /* the virtual clock, as the instruction replaced */
    switch ((enum vmm_pv_abi)number) {
    case PV_HCALL_HELLO:
        if (!scan(g)) return true;
        machine_set_reg(cpu, 1, PV_VERSION);
        machine_set_reg(cpu, 2, (uint32_t)g->memsize);
        break;
    case PV_HCALL_SHARED:
        if (inside(g, r1, PV_SHARED_WORDS)) {
            g->pv.shared_set = true;
            g->pv.shared = r1;
            vmm_pv_psw_loaded(g);
            machine_set_reg(cpu, 1, 0);
        } else {
            machine_set_reg(cpu, 1, UINT32_MAX);
        }
        break;
    case PV_HCALL_PSW: {
        if (!g->pv.shared_set) {
            refuse(g, "guest %u asked PV_PSW (pc 0x%" PRIx32 ") before PV_SHARED gave it a shared area",
                   g->index, pc - 1);
            return true;
        }
        *p = isa_psw_from_words(&g->mem[g->pv.shared + PV_SH_PSW]);
        p->flags &= PSW_FLAGS_MASK;
        g->tlb_flushes++; /* a PSW load is a flush, as lpsw */
        vmm_shadow_flush(g);
        vmm_pv_psw_loaded(g);
        charge = false;
        break;
    }
    case PV_HCALL_TIMER_SET:
        p->timer = r1;
        charge = false;
        break;
    case PV_HCALL_TIMER_READ: machine_set_reg(cpu, 1, p->timer); break;
    case PV_HCALL_CONSOLE: vmm_console_write(g, PORT_CONSOLE_OUT, r1); break;
    case PV_HCALL_HALT: break;
    case PV_HCALL_PTE_BATCH: machine_set_reg(cpu, 1, pte_batch(g, r1, r2)); break;
    default: break;
    }
    g->stats.emulated++;
    g->steps++;
    if (charge) vmm_vclock_tick(g);
    note_pending(g);
    if (g->vmm->obs.on_event) vmm_emit(g, VMM_EMULATED, CAUSE_HCALL, 0, number, pc, 0, sup);
    if (number == PV_HCALL_HALT) vmm_stop_guest(g, MACHINE_HALT);
    return true;
}

void vmm_pv_interpret_all(struct vmm *v)
{
    TRAPEZE_ASSERT(v->running == NULL);
    v->pv_interpreted = v->mode == VMM_PV;
}

const char *vmm_pv_call_name(unsigned k)
{
    static const char *const names[PV_HCALL_COUNT] = {"hello",      "shared",  "psw",  "timer_set",
                                                      "timer_read", "console", "halt", "pte_batch"};
    return k < PV_HCALL_COUNT ? names[k] : "?";
}

uint64_t vmm_guest_pv_pte_pairs(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return 0;
    return v->guests[g].pv.pte_pairs;
}

const char *vmm_guest_refusal(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests)) return NULL;
    return v->guests[g].pv.refusal[0] ? v->guests[g].pv.refusal : NULL;
}

const uint64_t *vmm_guest_pv_calls(const struct vmm *v, unsigned g)
{
    if (NEVER(g >= v->nguests) || v->mode != VMM_PV) return NULL;
    return v->guests[g].pv.calls;
}
