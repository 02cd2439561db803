/*
 * console.c: the devices each guest sees on its ports.
 *
 * Every guest has its own console (machine/console.h, the very device the
 * bare machine has): its own input (a copy of --input), its own output, its
 * own control register.  The interpreter routines for `in` and `out` come
 * here; reflection asks the console whether the IO interrupt is pending.
 * Ports 3..15 and the device ports >= 16 read 0 and ignore writes, as on a
 * bare machine with no device; the disk device of a later issue attaches
 * here.
 */
#include "vmm_priv.h"

uint32_t vmm_console_read(struct vmm_guest *g, uint32_t port)
{
    return port <= PORT_CONSOLE_CTRL ? console_read(&g->con, port) : 0;
}

void vmm_console_write(struct vmm_guest *g, uint32_t port, uint32_t value)
{
    if (port <= PORT_CONSOLE_CTRL && !console_write(&g->con, port, value)) g->output_dropped++;
}

void vmm_feed_input(struct vmm *v, unsigned gi, const uint8_t *bytes, size_t n)
{
    if (NEVER(gi >= v->nguests)) return;
    console_feed(&v->guests[gi].con, bytes, n);
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
