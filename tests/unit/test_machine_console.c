/*
 * test_machine_console.c: the console (ports 0..2) and devices attached on
 * ports >= 16.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../machine/console.h"
#include "support.h"

struct sink {
    char bytes[64];
    size_t n;
};

static void sink_byte(void *ctx, uint8_t byte)
{
    struct sink *s = ctx;
    if (s->n < sizeof s->bytes) s->bytes[s->n++] = (char)byte;
}

Test(machine_console, output_and_sink)
{
    struct machine *m = test_support_machine("pg");
    static const uint32_t prog[] = {
        TS_I(ADDI, 1, 0, 'h'), TS_I(OUT, 1, 0, 0), TS_I(ADDI, 1, 0, 'i' + 0x100),
        TS_I(OUT, 1, 0, 0),    TS_I(OUT, 0, 0, 0), TS_J(HALT, 0),
    };
    test_support_poke(m, TS_CODE, prog, 6);
    struct sink s = {{0}, 0};
    machine_set_output_sink(m, sink_byte, &s);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    size_t len;
    const uint8_t *out = machine_output(m, &len);
    cr_assert_eq(len, 3);
    cr_assert(memcmp(out, "hi\0", 3) == 0);
    cr_assert_eq(s.n, 3);
    cr_assert(memcmp(s.bytes, "hi\0", 3) == 0);
    machine_destroy(m);
}

Test(machine_console, input_then_minus_one)
{
    struct machine *m = test_support_machine("pg");
    for (uint32_t i = 0; i < 4; i++) machine_memory(m)[TS_CODE + i] = TS_I(IN, 1 + i, 0, 1);
    machine_feed_input(m, (const uint8_t *)"a", 1);
    machine_feed_input(m, (const uint8_t *)"\0b", 2);
    cr_assert_eq(machine_input_pending(m), 3);
    cr_assert_eq(machine_run(m, 4), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 'a');
    cr_assert_eq(machine_reg(m, 2), 0);
    cr_assert_eq(machine_reg(m, 3), 'b');
    cr_assert_eq(machine_reg(m, 4), 0xffffffff);
    cr_assert_eq(machine_input_pending(m), 0);
    /* fed after being drained: read in order */
    machine_feed_input(m, (const uint8_t *)"xy", 2);
    machine_reset(m, TS_CODE);
    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 'x');
    cr_assert_eq(machine_reg(m, 2), 'y');
    machine_destroy(m);
}

struct dev {
    uint32_t last_port, last_value, reads, writes;
};

static uint32_t dev_read(void *ctx, struct machine *m, uint32_t port)
{
    struct dev *d = ctx;
    (void)m;
    d->reads++;
    d->last_port = port;
    return 0x1000 + port;
}

static void dev_write(void *ctx, struct machine *m, uint32_t port, uint32_t value)
{
    struct dev *d = ctx;
    (void)m;
    d->writes++;
    d->last_port = port;
    d->last_value = value;
}

Test(machine_console, device_ports)
{
    struct machine *m = test_support_machine("pg");
    struct dev d = {0, 0, 0, 0};
    struct machine_device dv = {&d, dev_read, dev_write};
    cr_assert(machine_attach_device(m, 16, 4, &dv));
    static const uint32_t prog[] = {
        TS_I(IN, 1, 0, 16),  TS_I(IN, 2, 0, 19), TS_I(IN, 3, 0, 20), /* 20: nobody */
        TS_I(ADDI, 4, 0, 0x55), TS_I(OUT, 4, 0, 18), TS_I(OUT, 4, 0, 15),
    };
    test_support_poke(m, TS_CODE, prog, 6);
    cr_assert_eq(machine_run(m, 6), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 0x1010);
    cr_assert_eq(machine_reg(m, 2), 0x1013);
    cr_assert_eq(machine_reg(m, 3), 0);
    cr_assert_eq(d.reads, 2);
    cr_assert_eq(d.writes, 1);
    cr_assert_eq(d.last_port, 18);
    cr_assert_eq(d.last_value, 0x55);
    /* in user mode under pg, device I/O traps PRIV before touching the device */
    machine_memory(m)[TS_CODE + 6] = TS_I(IN, 5, 0, 17);
    struct psw p = machine_psw(m);
    p.flags = 0;
    machine_set_psw(m, &p);
    cr_assert_eq(machine_step(m), MACHINE_BUDGET);
    cr_assert_eq(machine_last_trap(m)->cause, CAUSE_PRIV);
    cr_assert_eq(d.reads, 2);
    machine_destroy(m);
}

/* Ports are the sign-extended imm16: `in rd, -1` names port 0xffffffff. */
Test(machine_console, negative_port_is_high_port)
{
    struct machine *m = test_support_machine("pg");
    struct dev d = {0, 0, 0, 0};
    struct machine_device dv = {&d, dev_read, dev_write};
    cr_assert(machine_attach_device(m, 0xfffffff0u, 16, &dv));
    machine_memory(m)[TS_CODE] = TS_I(IN, 1, 0, 0xffff);
    machine_memory(m)[TS_CODE + 1] = TS_I(IN, 2, 0, 0x7fff);
    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 0x1000 + 0xffffffffu);
    cr_assert_eq(d.last_port, 0xffffffffu);
    cr_assert_eq(machine_reg(m, 2), 0);
    machine_destroy(m);
}

Test(machine_console, attach_errors)
{
    struct machine *m = test_support_machine("pg");
    struct dev d = {0, 0, 0, 0};
    struct machine_device dv = {&d, dev_read, dev_write};
    cr_assert_not(machine_attach_device(m, 15, 1, &dv), "below 16");
    cr_assert_not(machine_attach_device(m, 0, 100, &dv), "console ports");
    cr_assert_not(machine_attach_device(m, 16, 0, &dv), "empty range");
    cr_assert_not(machine_attach_device(m, 0xffffffffu, 2, &dv), "beyond 2^32");
    cr_assert(machine_attach_device(m, 20, 4, &dv));
    cr_assert_not(machine_attach_device(m, 20, 4, &dv), "same range");
    cr_assert_not(machine_attach_device(m, 23, 1, &dv), "inside");
    cr_assert_not(machine_attach_device(m, 16, 5, &dv), "overlaps the start");
    cr_assert_not(machine_attach_device(m, 18, 10, &dv), "covers it");
    cr_assert(machine_attach_device(m, 16, 4, &dv), "just below");
    cr_assert(machine_attach_device(m, 24, 1, &dv), "just above");
    /* the table fills up at some point, and says so */
    bool full = false;
    for (uint32_t i = 0; i < 1000 && !full; i++) full = !machine_attach_device(m, 100 + i, 1, &dv);
    cr_assert(full);
    machine_destroy(m);
}

/* A device may leave read or write NULL: reads give 0, writes are dropped. */
Test(machine_console, device_without_callbacks)
{
    struct machine *m = test_support_machine("pg");
    struct machine_device dv = {NULL, NULL, NULL};
    cr_assert(machine_attach_device(m, 16, 1, &dv));
    machine_memory(m)[TS_CODE] = TS_I(IN, 1, 0, 16);
    machine_memory(m)[TS_CODE + 1] = TS_I(OUT, 1, 0, 16);
    machine_set_reg(m, 1, 5);
    cr_assert_eq(machine_run(m, 2), MACHINE_BUDGET);
    cr_assert_eq(machine_reg(m, 1), 0);
    machine_destroy(m);
}

/* Copies share the input bytes (a snapshot or a guest of several holds no
 * copy of --input), yet each reads from its own place, and feeding one while
 * it shares gives it its own bytes: the others never see them. */
Test(machine_console, copies_share_input_and_feeding_copies_on_write)
{
    struct console a = {0}, b = {0}, c = {0};
    cr_assert(console_feed(&a, (const uint8_t *)"abc", 3));
    cr_assert_eq(console_read(&a, PORT_CONSOLE_IN), 'a');
    cr_assert(console_copy(&b, &a));
    console_share_input(&c, &a);
    cr_assert_eq(a.input, b.input);
    cr_assert_eq(a.input, c.input);
    cr_assert_eq(console_read(&b, PORT_CONSOLE_IN), 'b');
    cr_assert_eq(console_read(&b, PORT_CONSOLE_IN), 'c');
    cr_assert_eq(console_read(&b, PORT_CONSOLE_IN), UINT32_MAX);
    cr_assert(console_feed(&c, (const uint8_t *)"d", 1));
    cr_assert_neq(c.input, a.input);
    cr_assert_eq(console_input_pending(&a), 2);
    cr_assert_eq(console_input_pending(&c), 3);
    cr_assert_eq(console_read(&a, PORT_CONSOLE_IN), 'b');
    cr_assert_eq(console_read(&c, PORT_CONSOLE_IN), 'b');
    console_free(&a);
    cr_assert_eq(console_read(&b, PORT_CONSOLE_IN), UINT32_MAX, "b's bytes outlive a");
    cr_assert(console_feed(&b, (const uint8_t *)"e", 1));
    cr_assert_eq(console_read(&b, PORT_CONSOLE_IN), 'e');
    cr_assert_eq(console_read(&c, PORT_CONSOLE_IN), 'c');
    cr_assert_eq(console_read(&c, PORT_CONSOLE_IN), 'd');
    console_free(&b);
    console_free(&c);
}
