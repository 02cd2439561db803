/* console.c: the console device of console.h. */
#include "console.h"

#include <stdlib.h>
#include <string.h>

#include "../isa/isa.h"

/* Grows *buf to hold need bytes, doubling, so that output costs one
 * allocation per doubling and none on most writes. */
static bool reserve(uint8_t **buf, size_t *cap, size_t need)
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

void console_free(struct console *c)
{
    free(c->input);
    free(c->output);
    c->input = c->output = NULL;
    c->input_len = c->input_pos = c->input_cap = 0;
    c->output_len = c->output_cap = 0;
    c->ctrl = 0;
}

bool console_copy(struct console *dst, const struct console *src)
{
    if (!reserve(&dst->input, &dst->input_cap, src->input_len) ||
        !reserve(&dst->output, &dst->output_cap, src->output_len))
        return false;
    if (src->input_len) memcpy(dst->input, src->input, src->input_len);
    if (src->output_len) memcpy(dst->output, src->output, src->output_len);
    dst->input_len = src->input_len;
    dst->input_pos = src->input_pos;
    dst->output_len = src->output_len;
    dst->ctrl = src->ctrl;
    return true;
}

bool console_feed(struct console *c, const uint8_t *bytes, size_t n)
{
    if (n == 0) return true;
    /* Drop what has been read before growing, so a long interactive session
     * does not keep every keystroke. */
    if (c->input_pos == c->input_len) c->input_pos = c->input_len = 0;
    if (!reserve(&c->input, &c->input_cap, c->input_len + n)) return false;
    memcpy(c->input + c->input_len, bytes, n);
    c->input_len += n;
    return true;
}

size_t console_input_pending(const struct console *c) { return c->input_len - c->input_pos; }

bool console_io_pending(const struct console *c)
{
    return (c->ctrl & 1u) && c->input_pos < c->input_len;
}

uint32_t console_read(struct console *c, uint32_t port)
{
    if (port == PORT_CONSOLE_IN)
        return c->input_pos < c->input_len ? c->input[c->input_pos++] : UINT32_MAX;
    return 0;
}

bool console_write(struct console *c, uint32_t port, uint32_t value)
{
    if (port == PORT_CONSOLE_CTRL) {
        c->ctrl = value & 1u;
        return true;
    }
    if (port != PORT_CONSOLE_OUT) return true;
    uint8_t byte = (uint8_t)value;
    bool kept = c->output_len < CONSOLE_OUTPUT_CAP &&
                reserve(&c->output, &c->output_cap, c->output_len + 1);
    if (kept) c->output[c->output_len++] = byte;
    if (c->sink) c->sink(c->sink_ctx, byte);
    return kept;
}

const uint8_t *console_output(const struct console *c, size_t *len)
{
    *len = c->output_len;
    return c->output ? c->output : (const uint8_t *)"";
}
