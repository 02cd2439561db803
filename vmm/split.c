/*
 * split.c: the split driver model of I/O virtualization (vmm.h, Xen's
 * blkfront/blkback on this machine).
 *
 * The guest's kernel is the front end: it writes requests into a ring in
 * its own memory and kicks the back end here with one hcall per batch,
 * instead of trapping on each of the eight ports of a command.  The back
 * end serves every posted request inside the kick, in order, on the
 * guest's partition (the same as hypervisor-direct's, through the same
 * vmm_disk_transfer), and writes each response over its request:
 *
 *   guest memory                          vmm (this file)
 *   ring: REQ_PROD  ------ kick ------>   req_cons .. REQ_PROD: for each,
 *         REQ_EVENT <-- req_cons + 1 --     check OP, SECTOR < P,
 *         RSP_PROD  <-- rsp_prod -------    ADDR + 256 <= memory; transfer;
 *         RSP_EVENT ------------------>     STATUS = DONE (| ERROR)
 *         slots[8] {OP SECTOR ADDR STATUS}  RSP_PROD passed RSP_EVENT?
 *                                           -> the unit's IO interrupt
 *
 * Event suppression is Xen's rule both ways: the back end asks for a kick
 * at the next request (REQ_EVENT = req_cons + 1, as it runs only when
 * kicked), and raises the interrupt only when RSP_PROD passes the front
 * end's RSP_EVENT, so a polling front end (RSP_EVENT far ahead) takes no
 * interrupts at all.  The interrupt is an edge: taken when delivered.
 *
 * The ring is guest memory the guest may scribble on at any time: every
 * word is read once per use, every index checked (a REQ_PROD more than
 * SPLIT_SLOTS ahead serves nothing), and a kick serves at most SPLIT_SLOTS
 * requests, so no guest makes the back end loop or reach past its region.
 */
#include "vmm_priv.h"

static bool inside(const struct vmm_guest *g, uint64_t gpa, uint64_t words)
{
    return gpa + words <= g->memsize;
}

static void put(struct vmm_guest *g, uint32_t gpa, uint32_t value)
{
    *vmm_guest_span(g, gpa, 1) = value;
    /* The ring may share a page with a table, or with translated code. */
    vmm_shadow_wrote(g, gpa, 1);
    vmm_bt_wrote(g, gpa, 1);
}

static uint32_t ring_register(struct vmm_guest *g, unsigned unit, uint32_t ring)
{
    if (unit >= ISA_DISK_UNITS || !g->vdisk[unit].unit.sectors || !inside(g, ring, SPLIT_RING_WORDS))
        return UINT32_MAX;
    const uint32_t prod = g->mem[ring + SPLIT_REQ_PROD];
    g->split[unit].registered = true;
    g->split[unit].ring = ring;
    g->split[unit].req_cons = g->split[unit].rsp_prod = prod;
    put(g, ring + SPLIT_RSP_PROD, prod);
    put(g, ring + SPLIT_REQ_EVENT, prod + 1);
    return 0;
}

/* One request: its response status. */
static uint32_t serve(struct vmm_guest *g, unsigned unit, uint32_t slot)
{
    const uint32_t op = g->mem[slot + SPLIT_OP], sector = g->mem[slot + SPLIT_SECTOR];
    const uint32_t addr = g->mem[slot + SPLIT_ADDR];
    bool ok = (op == DISK_CMD_READ || op == DISK_CMD_WRITE) && sector < g->vdisk[unit].unit.sectors &&
              inside(g, addr, ISA_SECTOR_WORDS) && vmm_disk_transfer(g, unit, op, sector, addr);
    if (!ok) g->disk_stats.errors++;
    else if (op == DISK_CMD_READ) g->disk_stats.reads++;
    else g->disk_stats.writes++;
    return ok ? DISK_STATUS_DONE : DISK_STATUS_DONE | DISK_STATUS_ERROR;
}

static uint32_t kick(struct vmm_guest *g, unsigned unit)
{
    if (unit >= ISA_DISK_UNITS || !g->split[unit].registered) return UINT32_MAX;
    g->disk_stats.kicks++;
    const uint32_t ring = g->split[unit].ring;
    const uint32_t prod = g->mem[ring + SPLIT_REQ_PROD];
    uint32_t cons = g->split[unit].req_cons;
    if (prod - cons > SPLIT_SLOTS) return (uint32_t)-2;
    const uint32_t n = prod - cons;
    for (; cons != prod; cons++) {
        const uint32_t slot = ring + SPLIT_SLOTS_AT + (cons % SPLIT_SLOTS) * SPLIT_SLOT_WORDS;
        put(g, slot + SPLIT_STATUS, serve(g, unit, slot));
    }
    g->disk_stats.requests += n;
    const uint32_t old = g->split[unit].rsp_prod, now = old + n;
    g->split[unit].req_cons = cons;
    g->split[unit].rsp_prod = now;
    put(g, ring + SPLIT_RSP_PROD, now);
    put(g, ring + SPLIT_REQ_EVENT, cons + 1);
    if (n) {
        /* Xen's RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: RSP_EVENT in (old, now]. */
        const uint32_t event = g->mem[ring + SPLIT_RSP_EVENT];
        if (now - event < now - old) {
            g->split_lines |= 1u << unit;
            g->disk_stats.notifications++;
        } else {
            g->disk_stats.suppressed++;
        }
    }
    return n;
}

bool vmm_split_hcall(struct vmm_guest *g, struct machine *cpu, uint32_t number, bool supervisor)
{
    if (g->vmm->io_model != VMM_IO_SPLIT || !supervisor ||
        (number != SPLIT_HCALL_RING && number != SPLIT_HCALL_KICK))
        return false;
    const uint32_t unit = machine_reg(cpu, 1);
    const uint32_t result = number == SPLIT_HCALL_RING ? ring_register(g, unit, machine_reg(cpu, 2))
                                                       : kick(g, unit);
    machine_set_reg(cpu, 1, result);
    return true;
}

void vmm_split_delivered(struct vmm_guest *g, uint32_t port)
{
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++)
        if (port == isa_disk_port(k, DISK_STATUS)) g->split_lines &= ~(1u << k);
}
