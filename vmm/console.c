/*
 * console.c: each guest's virtual console (ports 0..2 of ISA.md).
 *
 * Every guest has its own: its own input (a copy of --input, or what the TUI
 * types), its own output buffer, its own control register.  The interpreter
 * routines for `in` and `out` come here; the reflection code asks it whether
 * the level-triggered IO interrupt is pending.  Ports 3..15 and the device
 * ports >= 16 read 0 and ignore writes, as on a bare machine with no device;
 * the disk device of a later issue attaches here.
 */
#include "vmm_priv.h"

#include <stdlib.h>
#include <string.h>

#define OUTPUT_CAP (16u << 20) /* as the bare machine's console */

static bool grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 256;
    while (n < need) n *= 2;
    uint8_t *p = realloc(*buf, n);
    if (!p) return false;
    *buf = p;
    *cap = n;
    return true;
}

bool vmm_console_io_pending(const struct vmm_console *c)
{
    return (c->ctrl & 1u) && c->input_pos < c->input_len;
}

uint32_t vmm_console_read(struct vmm_guest *g, uint32_t port)
{
    struct vmm_console *c = &g->con;
    if (port == PORT_CONSOLE_IN)
        return c->input_pos < c->input_len ? c->input[c->input_pos++] : UINT32_MAX;
    return 0;
}

void vmm_console_write(struct vmm_guest *g, uint32_t port, uint32_t value)
{
    struct vmm_console *c = &g->con;
    if (port == PORT_CONSOLE_OUT) {
        uint8_t byte = (uint8_t)value;
        /* Amortized growth: the trap path allocates once per doubling. */
        if (c->output_len < OUTPUT_CAP && grow(&c->output, &c->output_cap, c->output_len + 1))
            c->output[c->output_len++] = byte;
        else
            c->output_dropped++;
        if (c->sink) c->sink(c->sink_ctx, byte);
    } else if (port == PORT_CONSOLE_CTRL) {
        c->ctrl = value & 1u;
    }
}

void vmm_feed_input(struct vmm *v, unsigned gi, const uint8_t *bytes, size_t n)
{
    if (gi >= v->nguests || n == 0) return;
    struct vmm_console *c = &v->guests[gi].con;
    if (c->input_pos == c->input_len) c->input_pos = c->input_len = 0;
    if (!grow(&c->input, &c->input_cap, c->input_len + n)) return;
    memcpy(c->input + c->input_len, bytes, n);
    c->input_len += n;
}

const uint8_t *vmm_guest_output(const struct vmm *v, unsigned gi, size_t *len)
{
    const struct vmm_console *c = &v->guests[gi].con;
    *len = c->output_len;
    return c->output ? c->output : (const uint8_t *)"";
}

void vmm_set_output_sink(struct vmm *v, unsigned gi, void (*sink)(void *ctx, uint8_t byte),
                         void *ctx)
{
    if (gi >= v->nguests) return;
    v->guests[gi].con.sink = sink;
    v->guests[gi].con.sink_ctx = ctx;
}
