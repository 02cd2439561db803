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

struct console_bytes {
    size_t refs, len, cap;
    uint8_t data[];
};

static void release_input(struct console_bytes *in)
{
    if (in && --in->refs == 0) free(in);
}

/* A block of its own for c holding its unread input and room for more
 * bytes: made when c shares its block or the block is full. */
static bool own_input(struct console *c, size_t more)
{
    struct console_bytes *in = c->input;
    size_t unread = in ? in->len - c->input_pos : 0;
    if (in && in->refs == 1 && in->len + more <= in->cap) return true;
    size_t cap = 256;
    while (cap < unread + more) cap *= 2;
    struct console_bytes *mine = malloc(sizeof *mine + cap);
    if (!mine) return false;
    *mine = (struct console_bytes){.refs = 1, .len = unread, .cap = cap};
    if (unread) memcpy(mine->data, in->data + c->input_pos, unread);
    release_input(in);
    c->input = mine;
    c->input_pos = 0;
    return true;
}

void console_free(struct console *c)
{
    release_input(c->input);
    free(c->output);
    c->input = NULL;
    c->output = NULL;
    c->input_pos = 0;
    c->output_len = c->output_cap = 0;
    c->ctrl = 0;
}

void console_share_input(struct console *dst, const struct console *src)
{
    if (src->input) src->input->refs++;
    release_input(dst->input);
    dst->input = src->input;
    dst->input_pos = src->input_pos;
}

bool console_copy(struct console *dst, const struct console *src)
{
    if (!reserve(&dst->output, &dst->output_cap, src->output_len)) return false;
    if (src->output_len) memcpy(dst->output, src->output, src->output_len);
    console_share_input(dst, src);
    dst->output_len = src->output_len;
    dst->ctrl = src->ctrl;
    return true;
}

bool console_feed(struct console *c, const uint8_t *bytes, size_t n)
{
    if (n == 0) return true;
    /* Drop what has been read before growing, so a long interactive session
     * does not keep every keystroke. */
    if (c->input && c->input_pos == c->input->len && c->input->refs == 1)
        c->input_pos = c->input->len = 0;
    if (!own_input(c, n)) return false;
    memcpy(c->input->data + c->input->len, bytes, n);
    c->input->len += n;
    return true;
}

size_t console_input_pending(const struct console *c)
{
    return c->input ? c->input->len - c->input_pos : 0;
}

bool console_io_pending(const struct console *c)
{
    return (c->ctrl & 1u) && console_input_pending(c) > 0;
}

uint32_t console_read(struct console *c, uint32_t port)
{
    if (port == PORT_CONSOLE_IN)
        return console_input_pending(c) ? c->input->data[c->input_pos++] : UINT32_MAX;
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
