/*
 * console.h: the console device of ISA.md (ports 0, 1 and 2) as a value.
 *
 * The bare machine has one, and a VMM gives each of its guests one (the
 * guest's virtual console).  Both are this same device, so what a guest sees
 * on its console is the bare machine's behaviour by construction, not by two
 * implementations kept in step.  A zeroed struct console is an empty console.
 *
 *   port 0  write: the low 8 bits of the value are one byte of output
 *   port 1  read: the next input byte, or -1 (0xffffffff) when there is none
 *   port 2  write: bit 0 raises the (level-triggered) IO interrupt on input
 *   other ports of the console read 0 and ignore writes
 */
#ifndef TRAPEZE_CONSOLE_H
#define TRAPEZE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Output kept in memory; bytes beyond it still reach the sink. */
#define CONSOLE_OUTPUT_CAP (16u << 20)

/* Input bytes, counted by reference: a console's copy (a clone, a snapshot, a
 * guest given the same --input as the others) shares them instead of copying
 * up to a megabyte each time, and a console fed while it shares them gets its
 * own copy first.  A shared block never changes. */
struct console_bytes;

struct console {
    /* Input: bytes fed and not yet read are input's bytes [input_pos, its length). */
    struct console_bytes *input;
    size_t input_pos;
    /* Output: everything written to port 0, up to CONSOLE_OUTPUT_CAP. */
    uint8_t *output;
    size_t output_len, output_cap;
    uint32_t ctrl; /* bit 0: raise IO interrupts on input */
    /* Also receives every output byte as it is written, when set. */
    void (*sink)(void *ctx, uint8_t byte);
    void *sink_ctx;
};

/* Frees the buffers and leaves an empty console (the sink is kept). */
void console_free(struct console *c);
/* Makes dst's state (input, output, control) equal to src's, reusing dst's
 * buffers; dst's sink is left alone.  False when memory cannot be had, with
 * dst unchanged. */
bool console_copy(struct console *dst, const struct console *src);

/* Makes dst read the same input as src, from the same place, without copying
 * it (dst's own input is dropped). */
void console_share_input(struct console *dst, const struct console *src);

/* Appends bytes to the unread input (false when memory cannot be had). */
bool console_feed(struct console *c, const uint8_t *bytes, size_t n);
size_t console_input_pending(const struct console *c);
/* The IO interrupt line: input interrupts on and unread input. */
bool console_io_pending(const struct console *c);

/* A read or write of port 0, 1 or 2.  console_write returns false when an
 * output byte could not be kept (beyond the cap, or out of memory). */
uint32_t console_read(struct console *c, uint32_t port);
bool console_write(struct console *c, uint32_t port, uint32_t value);

/* The output kept so far, not NUL-terminated. */
const uint8_t *console_output(const struct console *c, size_t *len);

#endif
