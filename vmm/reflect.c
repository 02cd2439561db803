/*
 * reflect.c: reflection.  A trap the guest's own kernel must see is
 * delivered into the guest exactly as its hardware would deliver it, by the
 * same isa_trap_deliver() the machine uses (isa.h has the layout), on the
 * guest's trap area, guest-physical 0..15:
 *
 *   guest-physical 0..6   the record: old virtual PSW (pc = the saved pc;
 *                         TP cleared for a timer interrupt), cause | detail
 *                         << 8, value
 *   guest-physical 8..12  new virtual PSW, loaded
 *
 * then, as on the bare machine, an all-zero new PSW stops the guest
 * "unhandled-trap" and one whose pc does not translate stops it
 * "machine-check".  Nothing real changes: the real PSW the guest runs with
 * is composed afresh from the virtual one when it resumes.
 */
#include "vmm_priv.h"

enum machine_stop vmm_reflect(struct vmm_guest *g, enum isa_cause cause, unsigned detail,
                              uint32_t value, uint32_t saved_pc)
{
    struct psw old = g->vcpu.psw;
    old.pc = saved_pc;
    if (cause == CAUSE_TIMER) old.flags &= ~PSW_TP;

    /* The trap area is guest-physical 0..15: through the f-map, g->mem. */
    uint32_t *e = vmm_guest_span(g, 0, TRAP_AREA_WORDS);
    isa_trap_deliver(e, &(struct isa_trap_record){cause, detail, value, old});
    g->vcpu.psw = isa_trap_new_psw(e);
    g->last_trap = (struct machine_trap){cause, detail, value, old, g->steps};
    g->has_trapped = true;
    g->tlb_flushes++;
    /* The record may lie in a page table; the new PSW is a flush. */
    vmm_shadow_wrote(g, TRAP_OLD_PSW, TRAP_VALUE + 1);
    vmm_bt_wrote(g, TRAP_OLD_PSW, TRAP_VALUE + 1);
    vmm_shadow_flush(g);
    vmm_pv_psw_loaded(g); /* pv: the mask follows the new PSW's IE */
    g->stats.reflected++;
    g->stats.traps[cause]++;
    g->steps++;

    uint32_t gpa;
    unsigned fault;
    if (isa_trap_unhandled(e)) return MACHINE_UNHANDLED_TRAP;
    if (!machine_translate(g->interp, &g->vcpu.psw, g->vcpu.psw.pc, ACCESS_FETCH, &gpa, &fault))
        return MACHINE_CHECK;
    return MACHINE_BUDGET;
}

/* Before each instruction, as the hardware checks: the timer first, then the
 * console and the virtual disk units, and only with IE=1. */
enum isa_cause vmm_pending_interrupt(const struct vmm_guest *g)
{
    const uint32_t flags = g->vcpu.psw.flags;
    if (!(flags & PSW_IE)) return CAUSE_NONE;
    if (flags & PSW_TP) return CAUSE_TIMER;
    if (console_io_pending(&g->con) || g->vdisk_lines || g->split_lines) return CAUSE_IO;
    return CAUSE_NONE;
}
