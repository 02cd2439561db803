/*
 * test_machine_disk.c: the disk units of ISA.md "The disk": every row of
 * its port table (machine/disk.h as a value, then through in/out on the
 * machine), each way a command fails, the IOMMU (DMA_BASE/DMA_BOUND), the
 * interrupt's timing, value and priority, and units copied with a machine.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../machine/disk.h"
#include "support.h"

#define SECTORS 4u
#define MEMSIZE 4096u

/* A medium whose word i is 0x5000000 + i: every sector tells where it is. */
static uint32_t *medium(uint32_t sectors)
{
    static uint32_t words[16 * ISA_SECTOR_WORDS];
    cr_assert_leq(sectors, 16u);
    for (uint32_t i = 0; i < sectors * ISA_SECTOR_WORDS; i++) words[i] = 0x5000000u + i;
    return words;
}

static struct disk_unit unit(void)
{
    struct disk_unit d = {0};
    cr_assert(disk_attach(&d, medium(SECTORS), SECTORS, MEMSIZE));
    return d;
}

/* ---- The device as a value ------------------------------------------------------ */

Test(disk_unit, registers_at_reset_and_read_back)
{
    struct disk_unit d = unit();
    cr_assert_eq(disk_read(&d, DISK_SECTOR), 0);
    cr_assert_eq(disk_read(&d, DISK_ADDR), 0);
    cr_assert_eq(disk_read(&d, DISK_CMD), 0);
    cr_assert_eq(disk_read(&d, DISK_STATUS), 0);
    cr_assert_eq(disk_read(&d, DISK_CTRL), 0);
    cr_assert_eq(disk_read(&d, DISK_SIZE), SECTORS);
    cr_assert_eq(disk_read(&d, DISK_DMA_BASE), 0);
    cr_assert_eq(disk_read(&d, DISK_DMA_BOUND), MEMSIZE);
    /* SECTOR, ADDR, CTRL, DMA_BASE, DMA_BOUND read what was last written, whole */
    const unsigned kept[] = {DISK_SECTOR, DISK_ADDR, DISK_CTRL, DISK_DMA_BASE, DISK_DMA_BOUND};
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(disk_write(&d, kept[i], 0xfedc0000u + i, NULL, 0), DISK_NO_COMMAND);
        cr_assert_eq(disk_read(&d, kept[i]), 0xfedc0000u + i, "register %u", kept[i]);
    }
    /* STATUS and SIZE ignore writes; CMD reads 0 */
    disk_write(&d, DISK_STATUS, 3, NULL, 0);
    disk_write(&d, DISK_SIZE, 99, NULL, 0);
    cr_assert_eq(disk_read(&d, DISK_STATUS), 0);
    cr_assert_eq(disk_read(&d, DISK_SIZE), SECTORS);
    cr_assert_eq(disk_read(&d, 8), 0, "past the eight registers");
    disk_free(&d);
}

Test(disk_unit, read_and_write_a_sector)
{
    static uint32_t mem[MEMSIZE];
    memset(mem, 0, sizeof mem);
    struct disk_unit d = unit();
    disk_write(&d, DISK_SECTOR, 2, mem, MEMSIZE);
    disk_write(&d, DISK_ADDR, 512, mem, MEMSIZE);
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_READ, mem, MEMSIZE), DISK_READ_DONE);
    for (uint32_t i = 0; i < ISA_SECTOR_WORDS; i++)
        cr_assert_eq(mem[512 + i], 0x5000000u + 2 * ISA_SECTOR_WORDS + i);
    cr_assert_eq(mem[511], 0);
    cr_assert_eq(mem[512 + ISA_SECTOR_WORDS], 0);
    cr_assert_eq(disk_read(&d, DISK_STATUS), DISK_STATUS_DONE);
    cr_assert_eq(disk_read(&d, DISK_STATUS), 0, "reading STATUS clears DONE");

    for (uint32_t i = 0; i < ISA_SECTOR_WORDS; i++) mem[100 + i] = 7 * i;
    disk_write(&d, DISK_SECTOR, 3, mem, MEMSIZE);
    disk_write(&d, DISK_ADDR, 100, mem, MEMSIZE);
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_WRITE, mem, MEMSIZE), DISK_WRITE_DONE);
    for (uint32_t i = 0; i < ISA_SECTOR_WORDS; i++)
        cr_assert_eq(d.words[3 * ISA_SECTOR_WORDS + i], 7 * i);
    cr_assert_eq(d.words[2 * ISA_SECTOR_WORDS], 0x5000000u + 2 * ISA_SECTOR_WORDS, "sector 2 kept");
    cr_assert_eq(disk_read(&d, DISK_STATUS), DISK_STATUS_DONE);
    disk_free(&d);
}

/* Each failure of ISA.md: nothing moves, STATUS = DONE | ERROR. */
static void expect_failure(struct disk_unit *d, uint32_t cmd, const char *why)
{
    static uint32_t mem[MEMSIZE];
    for (uint32_t i = 0; i < MEMSIZE; i++) mem[i] = 0xaaaa0000u + i;
    uint32_t before[SECTORS * ISA_SECTOR_WORDS];
    memcpy(before, d->words, sizeof before);
    cr_assert_eq(disk_write(d, DISK_CMD, cmd, mem, MEMSIZE), DISK_FAILED, "%s", why);
    for (uint32_t i = 0; i < MEMSIZE; i++) cr_assert_eq(mem[i], 0xaaaa0000u + i, "%s: memory", why);
    cr_assert(memcmp(before, d->words, sizeof before) == 0, "%s: medium", why);
    cr_assert_eq(disk_read(d, DISK_STATUS), DISK_STATUS_DONE | DISK_STATUS_ERROR, "%s", why);
    cr_assert_eq(disk_read(d, DISK_STATUS), DISK_STATUS_ERROR, "%s: DONE cleared, ERROR kept", why);
}

Test(disk_unit, every_failure_moves_nothing)
{
    struct disk_unit d = unit();
    expect_failure(&d, 0, "CMD 0");
    expect_failure(&d, 3, "CMD 3");
    expect_failure(&d, 0xffffffffu, "CMD -1");
    d.sector = SECTORS;
    expect_failure(&d, DISK_CMD_READ, "SECTOR = SIZE");
    d.sector = 0xffffffffu;
    expect_failure(&d, DISK_CMD_WRITE, "SECTOR = 2^32 - 1");
    d.sector = SECTORS - 1; /* the last sector is fine ... */
    d.addr = MEMSIZE - ISA_SECTOR_WORDS + 1;
    expect_failure(&d, DISK_CMD_READ, "ADDR + 256 > DMA_BOUND (by one)");
    d.addr = 0xffffff80u; /* a 32-bit ADDR + 256 would wrap to 0x80 */
    expect_failure(&d, DISK_CMD_READ, "ADDR + 256 wraps");
    d.addr = 0;
    d.dma_bound = ISA_SECTOR_WORDS - 1;
    expect_failure(&d, DISK_CMD_WRITE, "DMA_BOUND below one sector");
    d.dma_bound = 0xffffffffu;
    d.dma_base = MEMSIZE - ISA_SECTOR_WORDS + 1;
    expect_failure(&d, DISK_CMD_READ, "DMA_BASE + ADDR + 256 > MEMSIZE");
    d.dma_base = 0xffffff00u; /* 32-bit DMA_BASE + ADDR + 256 would be 0 */
    expect_failure(&d, DISK_CMD_WRITE, "DMA_BASE + ADDR wraps");
    /* a success after a failure clears ERROR */
    static uint32_t mem[MEMSIZE];
    d.dma_base = 0;
    d.addr = MEMSIZE - ISA_SECTOR_WORDS; /* exactly the last 256 words */
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_READ, mem, MEMSIZE), DISK_READ_DONE);
    cr_assert_eq(disk_read(&d, DISK_STATUS), DISK_STATUS_DONE);
    disk_free(&d);
}

Test(disk_unit, the_iommu_relocates_and_bounds_addr)
{
    static uint32_t mem[MEMSIZE];
    memset(mem, 0, sizeof mem);
    struct disk_unit d = unit();
    d.dma_base = 1024;
    d.dma_bound = 512;
    d.sector = 1;
    d.addr = 256; /* the last sector that fits the bound */
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_READ, mem, MEMSIZE), DISK_READ_DONE);
    cr_assert_eq(mem[1024 + 256], 0x5000000u + ISA_SECTOR_WORDS);
    cr_assert_eq(mem[256], 0, "ADDR is relocated: physical 256 untouched");
    d.addr = 257;
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_READ, mem, MEMSIZE), DISK_FAILED);
    disk_free(&d);
}

Test(disk_unit, the_interrupt_line_is_ctrl_and_done)
{
    static uint32_t mem[MEMSIZE];
    struct disk_unit d = unit();
    cr_assert_not(disk_irq_pending(&d));
    disk_write(&d, DISK_CMD, DISK_CMD_READ, mem, MEMSIZE);
    cr_assert_not(disk_irq_pending(&d), "CTRL bit 0 off");
    disk_write(&d, DISK_CTRL, 2, mem, MEMSIZE);
    cr_assert_not(disk_irq_pending(&d), "only bit 0 counts");
    disk_write(&d, DISK_CTRL, 1, mem, MEMSIZE);
    cr_assert(disk_irq_pending(&d), "level: DONE still set when CTRL comes on");
    disk_read(&d, DISK_STATUS);
    cr_assert_not(disk_irq_pending(&d), "reading STATUS acknowledges");
    disk_write(&d, DISK_CMD, 9, mem, MEMSIZE);
    cr_assert(disk_irq_pending(&d), "a failure completes too");
    disk_free(&d);
}

Test(disk_unit, attach_limits_and_unattached_unit)
{
    struct disk_unit d = {0};
    cr_assert_eq(disk_read(&d, DISK_SIZE), 0, "unattached: reads 0");
    cr_assert_eq(disk_write(&d, DISK_CMD, DISK_CMD_READ, NULL, 0), DISK_NO_COMMAND, "ignores writes");
    cr_assert_not(disk_irq_pending(&d));
    cr_assert_not(disk_attach(&d, medium(1), 0, MEMSIZE), "no sectors");
    cr_assert_not(disk_attach(&d, medium(1), DISK_MAX_SECTORS + 1, MEMSIZE), "too big");
    cr_assert(disk_attach(&d, medium(1), 1, MEMSIZE));
    cr_assert_not(disk_attach(&d, medium(1), 1, MEMSIZE), "attached already");
    struct disk_unit c = {0};
    d.sector = 5;
    cr_assert(disk_copy(&c, &d));
    cr_assert_neq(c.words, d.words, "a copy has its own medium");
    cr_assert_eq(c.sector, 5);
    c.words[0] = 1;
    cr_assert_neq(d.words[0], 1);
    struct disk_unit none = {0};
    cr_assert(disk_copy(&c, &none));
    cr_assert_null(c.words, "copying an unattached unit detaches");
    disk_free(&d);
}

/* ---- On the machine: in/out on ports 16..47 --------------------------------------- */

/* Program words: r1 = value (sign-extended imm16), out r1 to port. */
#define OUT_IMM(value, port) TS_I(ADDI, 1, 0, value), TS_I(OUT, 1, 0, port)

static struct machine *disk_machine(unsigned unit_no)
{
    struct machine *m = test_support_machine("pg");
    cr_assert(machine_attach_disk(m, unit_no, medium(SECTORS), SECTORS));
    return m;
}

Test(machine_disk, every_port_through_in_and_out)
{
    struct machine *m = disk_machine(1);
    const uint32_t p = isa_disk_port(1, DISK_SECTOR);
    cr_assert_eq(p, 24);
    const uint32_t prog[] = {
        OUT_IMM(2, p + DISK_SECTOR), OUT_IMM(0x300, p + DISK_ADDR), OUT_IMM(1, p + DISK_CMD),
        TS_I(IN, 2, 0, p + DISK_SECTOR), TS_I(IN, 3, 0, p + DISK_ADDR), TS_I(IN, 4, 0, p + DISK_CMD),
        TS_I(IN, 5, 0, p + DISK_STATUS), TS_I(IN, 6, 0, p + DISK_STATUS),
        TS_I(IN, 7, 0, p + DISK_SIZE), TS_I(IN, 8, 0, p + DISK_DMA_BASE),
        TS_I(IN, 9, 0, p + DISK_DMA_BOUND), TS_I(IN, 10, 0, p + DISK_CTRL),
        TS_I(IN, 11, 0, isa_disk_port(0, DISK_SIZE)), /* unit 0 is not attached */
        TS_J(HALT, 0),
    };
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 2), 2);
    cr_assert_eq(machine_reg(m, 3), 0x300);
    cr_assert_eq(machine_reg(m, 4), 0);
    cr_assert_eq(machine_reg(m, 5), DISK_STATUS_DONE);
    cr_assert_eq(machine_reg(m, 6), 0);
    cr_assert_eq(machine_reg(m, 7), SECTORS);
    cr_assert_eq(machine_reg(m, 8), 0);
    cr_assert_eq(machine_reg(m, 9), TS_MEM, "DMA_BOUND resets to MEMSIZE");
    cr_assert_eq(machine_reg(m, 10), 0);
    cr_assert_eq(machine_reg(m, 11), 0, "an unattached unit reads 0");
    cr_assert_eq(machine_memory(m)[0x300 + 5], 0x5000000u + 2 * ISA_SECTOR_WORDS + 5);
    cr_assert_eq(machine_stats(m)->disk_reads, 1);
    cr_assert_eq(machine_stats(m)->disk_writes, 0);
    cr_assert_eq(machine_stats(m)->disk_errors, 0);
    machine_destroy(m);
}

struct written {
    unsigned calls, unit;
    uint32_t sector, first;
};

static void sink(void *ctx, unsigned unit_no, uint32_t sector, const uint32_t *words)
{
    struct written *w = ctx;
    w->calls++;
    w->unit = unit_no;
    w->sector = sector;
    w->first = words[0];
}

Test(machine_disk, a_write_reaches_the_sink_within_its_out)
{
    struct machine *m = disk_machine(3);
    const uint32_t p = isa_disk_port(3, DISK_SECTOR);
    machine_memory(m)[0x400] = 0xcafe;
    const uint32_t prog[] = {
        OUT_IMM(1, p + DISK_SECTOR), OUT_IMM(0x400, p + DISK_ADDR), OUT_IMM(2, p + DISK_CMD),
        OUT_IMM(9, p + DISK_CMD), TS_J(HALT, 0),
    };
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    struct written w = {0};
    machine_set_disk_sink(m, sink, &w);
    cr_assert_eq(machine_run(m, 6), MACHINE_BUDGET);
    cr_assert_eq(w.calls, 1, "the write has reached the sink before the next instruction");
    cr_assert_eq(w.unit, 3);
    cr_assert_eq(w.sector, 1);
    cr_assert_eq(w.first, 0xcafe);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(w.calls, 1, "a failed command writes nothing");
    uint32_t sectors;
    const uint32_t *medium_now = machine_disk(m, 3, &sectors);
    cr_assert_eq(sectors, SECTORS);
    cr_assert_eq(medium_now[ISA_SECTOR_WORDS], 0xcafe);
    cr_assert_null(machine_disk(m, 0, NULL));
    cr_assert_eq(machine_stats(m)->disk_writes, 1);
    cr_assert_eq(machine_stats(m)->disk_errors, 1);
    machine_destroy(m);
}

/* A kernel with IE on, CTRL on and a command: the IO trap comes before the
 * instruction after the out, with the unit's STATUS port as its value. */
Test(machine_disk, the_interrupt_comes_right_after_the_out)
{
    struct machine *m = disk_machine(2);
    const uint32_t p = isa_disk_port(2, DISK_SECTOR);
    const uint32_t prog[] = {
        OUT_IMM(1, p + DISK_CTRL), OUT_IMM(0x400, p + DISK_ADDR),
        TS_I(ADDI, 2, 0, PSW_M | PSW_IE), TS_I(POPF, 2, 0, 0),
        OUT_IMM(1, p + DISK_CMD), /* the out at TS_CODE + 7 */
        TS_I(ADDI, 3, 0, 1),      /* never reached before the handler */
    };
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 3), 0);
    const uint32_t *e = machine_memory(m);
    cr_assert_eq(e[TRAP_CAUSE], CAUSE_IO);
    cr_assert_eq(e[TRAP_VALUE], p + DISK_STATUS, "the unit's STATUS port");
    cr_assert_eq(e[TRAP_OLD_PSW + 1], TS_CODE + 8, "saved pc: the next instruction");
    cr_assert_eq(machine_stats(m)->traps[CAUSE_IO], 1);
    machine_destroy(m);
}

/* Level-triggered: not acknowledged, it comes again as soon as IE is back
 * on; acknowledged (STATUS read), it does not. */
Test(machine_disk, level_triggered_until_status_is_read)
{
    struct machine *m = disk_machine(0);
    const uint32_t p = isa_disk_port(0, DISK_SECTOR);
    const uint32_t prog[] = {
        OUT_IMM(0x400, p + DISK_ADDR),
        OUT_IMM(1, p + DISK_CTRL), OUT_IMM(1, p + DISK_CMD), /* DONE with IE off */
        TS_I(ADDI, 2, 0, PSW_M | PSW_IE), TS_I(POPF, 2, 0, 0), /* interrupt here */
        TS_J(HALT, 0),
    };
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    /* The handler: count in r5, return with lpsw of the old PSW (IE on again)
     * the first time without reading STATUS, the second time reading it. */
    const uint32_t handler[] = {
        TS_I(ADDI, 5, 5, 1),
        TS_I(ADDI, 6, 0, 2), TS_I(BLT, 5, 6, 1),   /* first time: skip the ack */
        TS_I(IN, 7, 0, p + DISK_STATUS),
        TS_I(LPSW, 0, 0, TRAP_OLD_PSW),
    };
    test_support_poke(m, TS_HANDLER, handler, sizeof handler / sizeof handler[0]);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT);
    cr_assert_eq(machine_reg(m, 5), 2, "taken twice: once again while not acknowledged");
    cr_assert_eq(machine_reg(m, 7), DISK_STATUS_DONE);
    cr_assert_eq(machine_stats(m)->traps[CAUSE_IO], 2);
    machine_destroy(m);
}

/* Priority: the timer, then console input, then units 0..3. */
Test(machine_disk, priority_timer_console_then_units_in_order)
{
    struct machine *m = test_support_machine("pg");
    for (unsigned k = 0; k < ISA_DISK_UNITS; k++)
        cr_assert(machine_attach_disk(m, k, medium(1), 1));
    machine_feed_input(m, (const uint8_t *)"x", 1);
    uint32_t prog[64];
    unsigned n = 0;
    for (unsigned k = 3; k >= 1; k--) { /* units 3, 2, 1 complete, with interrupts on */
        prog[n++] = TS_I(ADDI, 1, 0, 0x400);
        prog[n++] = TS_I(OUT, 1, 0, isa_disk_port(k, DISK_ADDR));
        prog[n++] = TS_I(ADDI, 1, 0, 1);
        prog[n++] = TS_I(OUT, 1, 0, isa_disk_port(k, DISK_CTRL));
        prog[n++] = TS_I(OUT, 1, 0, isa_disk_port(k, DISK_CMD));
    }
    prog[n++] = TS_I(OUT, 1, 0, PORT_CONSOLE_CTRL);
    prog[n++] = TS_I(ADDI, 1, 0, 5);
    prog[n++] = TS_I(STMR, 1, 0, 0);                 /* the timer fires in 5 */
    prog[n++] = TS_I(ADDI, 2, 0, PSW_M | PSW_IE);
    for (unsigned i = 0; i < 5; i++) prog[n++] = TS_J(TLBFLUSH, 0);
    prog[n++] = TS_I(POPF, 2, 0, 0);                 /* TP is set by now */
    prog[n++] = TS_J(HALT, 0);
    test_support_poke(m, TS_CODE, prog, n);
    /* The handler logs (cause, value) at 0x900, acknowledges the source the
     * value names, and returns to the old PSW (IE on again). */
    uint32_t handler[64];
    unsigned h = 0;
    handler[h++] = TS_I(LD, 3, 0, TRAP_VALUE);
    handler[h++] = TS_I(LD, 4, 0, TRAP_CAUSE);
    handler[h++] = TS_I(ST, 4, 8, 0x900);
    handler[h++] = TS_I(ST, 3, 8, 0x901);
    handler[h++] = TS_I(ADDI, 8, 8, 2);
    const uint32_t sources[] = {PORT_CONSOLE_IN, isa_disk_port(1, DISK_STATUS),
                                isa_disk_port(2, DISK_STATUS), isa_disk_port(3, DISK_STATUS)};
    for (unsigned i = 0; i < 4; i++) {
        handler[h++] = TS_I(ADDI, 4, 0, sources[i]);
        handler[h++] = TS_I(BNE, 3, 4, 1);
        handler[h++] = TS_I(IN, 0, 0, sources[i]);
    }
    handler[h++] = TS_I(LPSW, 0, 0, TRAP_OLD_PSW);
    test_support_poke(m, TS_HANDLER, handler, h);
    cr_assert_eq(machine_run(m, 1000), MACHINE_HALT);
    const uint32_t expected[] = {CAUSE_TIMER, 0, CAUSE_IO, PORT_CONSOLE_IN,
                                 CAUSE_IO, sources[1], CAUSE_IO, sources[2], CAUSE_IO, sources[3]};
    cr_assert_eq(machine_reg(m, 8), 10);
    for (unsigned i = 0; i < 10; i++)
        cr_assert_eq(machine_memory(m)[0x900 + i], expected[i], "log word %u", i);
    machine_destroy(m);
}

/* A silent out (variant file: user out silent) starts nothing. */
Test(machine_disk, silent_out_starts_no_command)
{
    struct machine *m = test_support_machine_text("variant s\nbase pg\nuser out silent\n");
    cr_assert(machine_attach_disk(m, 0, medium(1), 1));
    /* user mode: lpsw into a user PSW that runs an out to CMD */
    const uint32_t user_psw[] = {0, TS_CODE + 16, 0, TS_MEM, 0};
    test_support_poke(m, 0x700, user_psw, 5);
    const uint32_t code[] = {TS_I(LPSW, 0, 0, 0x700)};
    test_support_poke(m, TS_CODE, code, 1);
    const uint32_t user[] = {TS_I(ADDI, 1, 0, 1), TS_I(OUT, 1, 0, isa_disk_port(0, DISK_CMD)),
                             TS_J(HALT, 0)};
    test_support_poke(m, TS_CODE + 16, user, 3);
    cr_assert_eq(machine_run(m, 100), MACHINE_HALT, "halt traps PRIV, the handler halts");
    cr_assert_eq(machine_stats(m)->disk_reads, 0);
    cr_assert_eq(machine_memory(m)[TRAP_CAUSE], CAUSE_PRIV);
    machine_destroy(m);
}

Test(machine_disk, units_and_devices_do_not_share_ports)
{
    struct machine *m = test_support_machine("pg");
    struct machine_device dv = {0};
    cr_assert(machine_attach_device(m, isa_disk_port(1, DISK_CTRL), 1, &dv));
    cr_assert_not(machine_attach_disk(m, 1, medium(1), 1), "a device holds one of its ports");
    cr_assert(machine_attach_disk(m, 0, medium(1), 1));
    cr_assert_not(machine_attach_disk(m, 0, medium(1), 1), "attached already");
    cr_assert_not(machine_attach_disk(m, ISA_DISK_UNITS, medium(1), 1), "no unit 4");
    cr_assert_not(machine_attach_device(m, isa_disk_port(0, DISK_SIZE), 1, &dv), "unit 0's port");
    cr_assert(machine_attach_device(m, isa_disk_port(2, DISK_SECTOR), 8, &dv), "unit 2 is free");
    machine_destroy(m);
}

/* A clone and a restored machine have units of their own, equal to the
 * original's: medium, registers and interrupt line. */
Test(machine_disk, clone_and_restore_copy_the_units)
{
    struct machine *m = disk_machine(1);
    const uint32_t p = isa_disk_port(1, DISK_SECTOR);
    const uint32_t prog[] = {OUT_IMM(0x400, p + DISK_ADDR), OUT_IMM(1, p + DISK_CTRL),
                             OUT_IMM(2, p + DISK_CMD), TS_I(ADDI, 2, 0, PSW_M | PSW_IE),
                             TS_I(POPF, 2, 0, 0), TS_J(HALT, 0)};
    test_support_poke(m, TS_CODE, prog, sizeof prog / sizeof prog[0]);
    cr_assert_eq(machine_run(m, 6), MACHINE_BUDGET); /* written, interrupt pending */
    struct machine *c = machine_clone(m);
    cr_assert_not_null(c);
    cr_assert_neq(machine_disk(c, 1, NULL), machine_disk(m, 1, NULL));
    cr_assert_eq(machine_disk(c, 1, NULL)[0], 0, "sector 0 written from memory 0x400");
    cr_assert_eq(machine_run(c, 3), MACHINE_BUDGET); /* addi, popf, the interrupt */
    cr_assert_eq(machine_stats(c)->traps[CAUSE_IO], 1, "the clone's line is up too");
    cr_assert_eq(machine_stats(m)->traps[CAUSE_IO], 0);
    struct machine *fresh = test_support_machine("pg");
    cr_assert(machine_restore(fresh, m));
    cr_assert_eq(machine_disk(fresh, 1, NULL)[0], 0);
    cr_assert_eq(machine_run(fresh, 3), MACHINE_BUDGET);
    cr_assert_eq(machine_stats(fresh)->traps[CAUSE_IO], 1);
    machine_destroy(fresh);
    machine_destroy(c);
    machine_destroy(m);
}
