/*
 * console.c: the devices each guest sees on its ports.
 *
 * Every guest has its own console (machine/console.h, the very device the
 * bare machine has): its own input (a copy of --input), its own output, its
 * own control register.  The interpreter routines for `in` and `out` come
 * here; reflection asks the console whether the IO interrupt is pending.
 * Ports 16..47 are its virtual disk units (disk.c); every other port reads
 * 0 and ignores writes, as on a bare machine with no device.
 */
#include "vmm_priv.h"

/* The virtual unit whose ports hold port, or false. */
static bool disk_port(uint32_t port, unsigned *unit, unsigned *reg)
{
    const uint32_t offset = port - PORT_DISK_FIRST;
    if (offset >= ISA_DISK_UNITS * ISA_DISK_PORTS) return false;
    *unit = offset / ISA_DISK_PORTS;
    *reg = offset % ISA_DISK_PORTS;
    return true;
}

uint32_t vmm_console_read(struct vmm_guest *g, uint32_t port)
{
    unsigned unit, reg;
    if (port <= PORT_CONSOLE_CTRL) return console_read(&g->con, port);
    return disk_port(port, &unit, &reg) ? vmm_disk_read(g, unit, reg) : 0;
}

void vmm_console_write(struct vmm_guest *g, uint32_t port, uint32_t value)
{
    unsigned unit, reg;
    if (port <= PORT_CONSOLE_CTRL) {
        if (!console_write(&g->con, port, value)) g->output_dropped++;
    } else if (disk_port(port, &unit, &reg)) {
        vmm_disk_write(g, unit, reg, value);
    }
}

uint32_t vmm_io_port(const struct vmm_guest *g)
{
    const unsigned lines = g->vdisk_lines | g->split_lines;
    if (console_io_pending(&g->con) || !lines) return PORT_CONSOLE_IN;
    return isa_disk_port((unsigned)__builtin_ctz(lines), DISK_STATUS);
}

void vmm_feed_input(struct vmm *v, unsigned gi, const uint8_t *bytes, size_t n)
{
    if (NEVER(gi >= v->nguests)) return;
    console_feed(&v->guests[gi].con, bytes, n);
}

void vmm_share_input(struct vmm *v, unsigned gi, unsigned from)
{
    if (NEVER(gi >= v->nguests || from >= v->nguests)) return;
    console_share_input(&v->guests[gi].con, &v->guests[from].con);
}

const uint8_t *vmm_guest_output(const struct vmm *v, unsigned gi, size_t *len)
{
    if (NEVER(gi >= v->nguests)) return *len = 0, (const uint8_t *)"";
    return console_output(&v->guests[gi].con, len);
}

void vmm_set_output_sink(struct vmm *v, unsigned gi, void (*sink)(void *ctx, uint8_t byte),
                         void *ctx)
{
    if (NEVER(gi >= v->nguests)) return;
    v->guests[gi].con.sink = sink;
    v->guests[gi].con.sink_ctx = ctx;
}
