/*
 * disk.c: the hypervisor-direct model of I/O virtualization (vmm.h).
 *
 * Each guest's virtual unit k is a struct disk_unit with registers only
 * (machine/disk.h, the bare device's own register logic), backed by a
 * partition of real unit k.  The guest's in/out trap (they are privileged)
 * and the routines come here through console.c:
 *
 *   guest out CMD  -->  checked on the VIRTUAL registers, exactly as the bare
 *                       device checks: SECTOR < P, ADDR + 256 <= DMA_BOUND,
 *                       DMA_BASE + ADDR + 256 <= guest memory
 *                  -->  gpa = DMA_BASE + ADDR, through the f-map: hpa
 *                  -->  the real unit, driven by the vmm through its ports:
 *                       SECTOR = first + sector, ADDR = hpa, DMA 0/MEMSIZE,
 *                       CTRL never on; CMD; STATUS read back (it completes
 *                       inside the out)
 *                  -->  virtual STATUS = DONE (| ERROR), the virtual line
 *                       up when CTRL bit 0: the guest's own IO interrupt,
 *                       delivered by the scheduler before its next
 *                       instruction (vmm_pending_interrupt, vmm_io_port)
 *
 * A guest cannot name a real sector outside its partition (the virtual
 * SIZE is P) nor a real word outside its region (the virtual DMA is bounded
 * by its memory, then mapped by its own f-map).  The split driver
 * (split.c) has the same partitions and moves its sectors through
 * vmm_disk_transfer too.
 */
#include <stdio.h>

#include "vmm_priv.h"

static void update_line(struct vmm_guest *g, unsigned unit)
{
    const unsigned bit = 1u << unit;
    g->vdisk_lines = disk_irq_pending(&g->vdisk[unit].unit) ? g->vdisk_lines | bit
                                                            : g->vdisk_lines & ~bit;
}

bool vmm_disk_transfer(struct vmm_guest *g, unsigned unit, uint32_t cmd, uint32_t sector, uint64_t gpa)
{
    uint32_t hpa, run;
    if (!vmm_fmap_lookup(&g->fmap, (uint32_t)gpa, &hpa, &run) || run < ISA_SECTOR_WORDS)
        return false; /* never with one extent per guest: the check bounded gpa by memsize */
    struct machine *real = g->vmm->real;
    const uint32_t p = isa_disk_port(g->vdisk[unit].real, DISK_SECTOR);
    machine_port_out(real, p + DISK_CTRL, 0);
    machine_port_out(real, p + DISK_DMA_BASE, 0);
    machine_port_out(real, p + DISK_DMA_BOUND, (uint32_t)machine_memsize(real));
    machine_port_out(real, p + DISK_SECTOR, g->vdisk[unit].first + sector);
    machine_port_out(real, p + DISK_ADDR, hpa);
    machine_port_out(real, p + DISK_CMD, cmd);
    const bool done = machine_port_in(real, p + DISK_STATUS) == DISK_STATUS_DONE;
    /* A sector read into guest memory may have rewritten its page tables. */
    if (done && cmd == DISK_CMD_READ) vmm_shadow_wrote(g, (uint32_t)gpa, ISA_SECTOR_WORDS);
    if (done && cmd == DISK_CMD_READ) vmm_bt_wrote(g, (uint32_t)gpa, ISA_SECTOR_WORDS);
    return done;
}

/* Passthrough: the guest's command goes to the real unit unchecked, with
 * the real IOMMU set to the guest's DMA_BASE/DMA_BOUND composed with its
 * region (the one extent at g->mem), or, without the IOMMU, to them as
 * they are.  Composed, the real unit fails exactly where the guest's bare
 * unit would: ADDR + 256 > min(DMA_BOUND, memsize - DMA_BASE) is the bare
 * pair of checks, and a DMA_BASE past its memory leaves a bound of 0. */
static bool passthrough(struct vmm_guest *g, unsigned unit, uint32_t cmd)
{
    const struct disk_unit *d = &g->vdisk[unit].unit;
    struct machine *real = g->vmm->real;
    const uint32_t p = isa_disk_port(g->vdisk[unit].real, DISK_SECTOR);
    uint32_t base = d->dma_base, bound = d->dma_bound;
    if (!g->vmm->io_no_iommu) {
        const uint32_t region = g->fmap.ext[0].hpa, mem = (uint32_t)g->memsize;
        bound = base >= mem ? 0 : (bound < mem - base ? bound : mem - base);
        base = base >= mem ? region : region + base;
    }
    machine_port_out(real, p + DISK_CTRL, 0);
    machine_port_out(real, p + DISK_DMA_BASE, base);
    machine_port_out(real, p + DISK_DMA_BOUND, bound);
    machine_port_out(real, p + DISK_SECTOR, d->sector);
    machine_port_out(real, p + DISK_ADDR, d->addr);
    machine_port_out(real, p + DISK_CMD, cmd);
    const bool done = machine_port_in(real, p + DISK_STATUS) == DISK_STATUS_DONE;
    if (done && cmd == DISK_CMD_READ && !g->vmm->io_no_iommu) {
        vmm_shadow_wrote(g, d->dma_base + d->addr, ISA_SECTOR_WORDS);
        vmm_bt_wrote(g, d->dma_base + d->addr, ISA_SECTOR_WORDS);
    } else if (done && cmd == DISK_CMD_READ) {
        vmm_shadow_forget(g); /* it may have written anywhere */
        vmm_bt_forget(g);
    }
    return done;
}

void vmm_set_io_model(struct vmm *v, enum vmm_io_model model, bool iommu)
{
    v->io_model = model;
    v->io_no_iommu = !iommu;
}

uint32_t vmm_disk_read(struct vmm_guest *g, unsigned unit, unsigned reg)
{
    const uint32_t value = disk_read(&g->vdisk[unit].unit, reg);
    update_line(g, unit);
    return value;
}

void vmm_disk_write(struct vmm_guest *g, unsigned unit, unsigned reg, uint32_t value)
{
    struct disk_unit *d = &g->vdisk[unit].unit;
    if (disk_set_register(d, reg, value)) {
        uint64_t gpa;
        const bool ok = g->vmm->io_model == VMM_IO_PASSTHROUGH
                            ? passthrough(g, unit, value)
                            : disk_command_target(d, value, g->memsize, &gpa) &&
                                  vmm_disk_transfer(g, unit, value, d->sector, gpa);
        disk_complete(d, ok);
        if (!ok) g->disk_stats.errors++;
        else if (value == DISK_CMD_READ) g->disk_stats.reads++;
        else g->disk_stats.writes++;
    }
    update_line(g, unit);
}

bool vmm_attach_disk(struct vmm *v, unsigned unit, const uint32_t *words, uint32_t sectors,
                     char *err, size_t errsize)
{
    const uint32_t part = v->nguests ? sectors / v->nguests : 0;
    if (unit >= ISA_DISK_UNITS || machine_disk(v->real, unit, NULL)) {
        snprintf(err, errsize, "disk unit %u: no such unit, or attached already", unit);
        return false;
    }
    if (v->variant.user_action[ISA_IN] == USER_EXEC || v->variant.user_action[ISA_OUT] == USER_EXEC) {
        snprintf(err, errsize, "the variant '%s' lets user mode execute in or out: a guest would "
                 "drive the real disk itself", v->variant.name);
        return false;
    }
    const bool pass = v->io_model == VMM_IO_PASSTHROUGH;
    if (pass && v->nguests > 1 && unit >= v->nguests) {
        snprintf(err, errsize, "passthrough hands each of the %u guests one whole unit: disk unit %u "
                 "has no guest", v->nguests, unit);
        return false;
    }
    if (!pass && part == 0) {
        snprintf(err, errsize, "disk unit %u: %u sectors cannot be shared by %u guests", unit,
                 sectors, v->nguests);
        return false;
    }
    if (!machine_attach_disk(v->real, unit, words, sectors)) {
        snprintf(err, errsize, "disk unit %u: cannot attach %u sectors", unit, sectors);
        return false;
    }
    for (unsigned i = 0; i < v->nguests; i++) {
        /* passthrough: the whole unit, to guest `unit` as its unit 0 (one
         * guest: to it, as unit `unit`) */
        if (pass && v->nguests > 1 && i != unit) continue;
        const unsigned as = pass && v->nguests > 1 ? 0 : unit;
        struct vmm_guest *g = &v->guests[i];
        g->vdisk[as].unit = (struct disk_unit){
            .sectors = pass ? sectors : part,
            .dma_bound = g->memsize > UINT32_MAX ? UINT32_MAX : (uint32_t)g->memsize};
        g->vdisk[as].first = pass ? 0 : i * part;
        g->vdisk[as].real = unit;
    }
    return true;
}

const uint32_t *vmm_guest_disk(const struct vmm *v, unsigned gi, unsigned unit, uint32_t *sectors)
{
    if (NEVER(gi >= v->nguests) || unit >= ISA_DISK_UNITS) return NULL;
    const struct vmm_guest *g = &v->guests[gi];
    if (!g->vdisk[unit].unit.sectors) return NULL;
    const uint32_t *real = machine_disk(v->real, g->vdisk[unit].real, NULL);
    if (!real) return NULL;
    if (sectors) *sectors = g->vdisk[unit].unit.sectors;
    return real + (size_t)g->vdisk[unit].first * ISA_SECTOR_WORDS;
}

const struct vmm_disk_stats *vmm_guest_disk_stats(const struct vmm *v, unsigned gi)
{
    if (NEVER(gi >= v->nguests)) return NULL;
    return &v->guests[gi].disk_stats;
}
