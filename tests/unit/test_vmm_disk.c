/*
 * test_vmm_disk.c: the hypervisor-direct disk of the C VMM (vmm/disk.c).
 *
 * Differential, like the other VMM tests: a bare machine with a unit and
 * the same program under the VMM with the same medium end in the same
 * state (registers, PSW, memory, output, steps) and the same disk; each
 * guest's unit is its own partition; a command aimed outside the guest's
 * memory or partition fails as on a bare machine of the guest's size and
 * moves nothing; the completion is the guest's own IO interrupt; refusals.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../machine/disk.h"
#include "../../vmm/vmm_priv.h"
#include "support.h"
#include "test_vmm_support.h"

#define SECTORS 8u

static const uint32_t *medium(void)
{
    static uint32_t words[SECTORS * ISA_SECTOR_WORDS];
    for (uint32_t i = 0; i < SECTORS * ISA_SECTOR_WORDS; i++) words[i] = 0x7000000u + i;
    return words;
}

#define OUT_IMM(value, port) TS_I(ADDI, 1, 0, value), TS_I(OUT, 1, 0, port)
#define P(reg) (PORT_DISK_FIRST + (reg)) /* unit 0; a constant, for static tables */

/* Runs prog (at TS_CODE) on a bare machine with unit 0 and under mode with
 * n guests sharing unit 0; asserts guest 0 equivalent to the bare run on a
 * machine whose unit is a partition's size (the others read other
 * sectors), every guest's disk the bare one's shifted to its partition,
 * and returns the vmm. */
static struct vmm *check_io(const uint32_t *prog, size_t n_words, enum vmm_mode mode, unsigned n,
                            enum vmm_io_model model)
{
    struct machine *bare = test_support_machine("pg");
    test_support_poke(bare, TS_CODE, prog, n_words);
    struct vmm *v = tv_mirror(bare, mode, n, NULL);
    char err[200];
    vmm_set_io_model(v, model, true);
    cr_assert(vmm_attach_disk(v, 0, medium(), SECTORS, err, sizeof err), "%s", err);
    cr_assert(machine_attach_disk(bare, 0, medium(), SECTORS / n));
    const enum machine_stop bstop = machine_run(bare, 10000);
    vmm_run(v, UINT64_MAX);
    for (unsigned g = 0; g < n; g++) {
        char why[200]; /* guest 0's partition starts where the bare unit does: all of it the same */
        if (g == 0)
            cr_assert(tv_same(bare, bstop, v, g, why, sizeof why), "%s, guest %u: %s",
                      vmm_mode_name(mode), g, why);
        uint32_t vs, bs;
        const uint32_t *vd = vmm_guest_disk(v, g, 0, &vs), *bd = machine_disk(bare, 0, &bs);
        cr_assert_eq(vs, bs, "guest %u: its unit's size", g);
        /* The partition of guest g is the bare disk, but for where the
         * medium started from: guest g's sectors are g * P .. of medium(). */
        for (uint32_t w = 0; w < vs * ISA_SECTOR_WORDS; w++) {
            const uint32_t expect = bd[w] >= 0x7000000u && bd[w] < 0x7000000u + SECTORS * ISA_SECTOR_WORDS
                                        ? bd[w] + g * vs * ISA_SECTOR_WORDS
                                        : bd[w];
            cr_assert_eq(vd[w], expect, "%s, guest %u: disk word %u", vmm_mode_name(mode), g, w);
        }
        const struct vmm_disk_stats *ds = vmm_guest_disk_stats(v, g);
        cr_assert_eq(ds->reads, machine_stats(bare)->disk_reads);
        cr_assert_eq(ds->writes, machine_stats(bare)->disk_writes);
        cr_assert_eq(ds->errors, machine_stats(bare)->disk_errors);
    }
    cr_assert(tv_canaries_intact(v), "nothing written outside the guests");
    machine_destroy(bare);
    return v;
}

static struct vmm *check(const uint32_t *prog, size_t n_words, enum vmm_mode mode, unsigned n)
{
    return check_io(prog, n_words, mode, n, VMM_IO_DIRECT);
}

/* Read sector 1 to 0x400, write 0x400 to sector 0, then an interrupt. */
static const uint32_t read_write_interrupt[] = {
    OUT_IMM(0x400, P(DISK_ADDR)), OUT_IMM(1, P(DISK_SECTOR)), OUT_IMM(DISK_CMD_READ, P(DISK_CMD)),
    TS_I(IN, 5, 0, P(DISK_STATUS)),
    TS_I(ST, 0, 0, 0x401),                                  /* change one word */
    OUT_IMM(0, P(DISK_SECTOR)), OUT_IMM(DISK_CMD_WRITE, P(DISK_CMD)),
    TS_I(IN, 6, 0, P(DISK_STATUS)), TS_I(IN, 7, 0, P(DISK_SIZE)),
    OUT_IMM(1, P(DISK_CTRL)), TS_I(ADDI, 2, 0, PSW_M | PSW_IE), TS_I(POPF, 2, 0, 0),
    OUT_IMM(DISK_CMD_READ, P(DISK_CMD)),                    /* the interrupt, then the handler's halt */
    TS_I(ADDI, 3, 0, 1),
};

Test(vmm_disk, read_write_and_interrupt_equivalent_in_every_mode)
{
    const enum vmm_mode modes[] = {VMM_TE, VMM_HVM, VMM_INTERP};
    for (unsigned i = 0; i < 3; i++) {
        struct vmm *v = check(read_write_interrupt, sizeof read_write_interrupt / 4, modes[i], 1);
        const uint32_t *e = vmm_guest_memory_const(v, 0);
        cr_assert_eq(e[TRAP_CAUSE], CAUSE_IO, "the completion is the guest's own IO interrupt");
        cr_assert_eq(e[TRAP_VALUE], P(DISK_STATUS), "valued with its STATUS port");
        cr_assert_eq(vmm_guest_reg(v, 0, 3), 0, "taken before the next instruction");
        cr_assert_eq(vmm_guest_reg(v, 0, 5), DISK_STATUS_DONE);
        cr_assert_eq(vmm_guest_reg(v, 0, 7), SECTORS);
        cr_assert_eq(vmm_guest_stats(v, 0)->traps[CAUSE_IO], 1);
        vmm_destroy(v);
    }
}

Test(vmm_disk, each_guest_its_own_partition)
{
    struct vmm *v = check(read_write_interrupt, sizeof read_write_interrupt / 4, VMM_TE, 4);
    const uint32_t *real = machine_disk(vmm_real_machine(v), 0, NULL);
    for (unsigned g = 0; g < 4; g++) {
        cr_assert_eq(vmm_guest_reg(v, g, 7), SECTORS / 4, "guest %u sees its partition's size", g);
        /* its sector 0 (real sector 2g) now holds its sector 1 with word 1 zeroed */
        const uint32_t *s0 = real + (size_t)2 * g * ISA_SECTOR_WORDS;
        cr_assert_eq(s0[0], 0x7000000u + (2 * g + 1) * ISA_SECTOR_WORDS);
        cr_assert_eq(s0[1], 0);
    }
    vmm_destroy(v);
}

/* Commands aimed outside: each fails (DONE | ERROR) as on the bare machine
 * of the guest's size, moving nothing. */
Test(vmm_disk, commands_outside_the_guest_fail_and_move_nothing)
{
    const uint32_t mem = TS_MEM;
    const uint32_t prog[] = {
        TS_I(LUI, 1, 0, 0xffff), TS_I(OUT, 1, 0, P(DISK_DMA_BASE)),     /* base 0xffff0000 */
        OUT_IMM(DISK_CMD_WRITE, P(DISK_CMD)), TS_I(IN, 5, 0, P(DISK_STATUS)),
        TS_I(LUI, 1, 0, mem >> 16), TS_I(ADDI, 1, 1, -255),            /* 255 words short */
        TS_I(OUT, 1, 0, P(DISK_DMA_BASE)),
        OUT_IMM(DISK_CMD_READ, P(DISK_CMD)), TS_I(IN, 6, 0, P(DISK_STATUS)),
        TS_I(OUT, 0, 0, P(DISK_DMA_BASE)),
        OUT_IMM(SECTORS / 2, P(DISK_SECTOR)),                           /* the next partition */
        OUT_IMM(DISK_CMD_WRITE, P(DISK_CMD)), TS_I(IN, 7, 0, P(DISK_STATUS)),
        TS_J(HALT, 0),
    };
    struct vmm *v = check(prog, sizeof prog / 4, VMM_TE, 2);
    for (unsigned g = 0; g < 2; g++)
        for (unsigned r = 5; r <= 7; r++)
            cr_assert_eq(vmm_guest_reg(v, g, r), DISK_STATUS_DONE | DISK_STATUS_ERROR, "guest %u r%u", g, r);
    const uint32_t *real = machine_disk(vmm_real_machine(v), 0, NULL);
    cr_assert(memcmp(real, medium(), SECTORS * ISA_SECTOR_WORDS * 4) == 0, "the real unit unchanged");
    cr_assert_eq(machine_stats(vmm_real_machine(v))->disk_reads + machine_stats(vmm_real_machine(v))->disk_writes,
                 0, "the real unit was never asked");
    vmm_destroy(v);
}

Test(vmm_disk, attach_refusals)
{
    struct machine *bare = test_support_machine("pg");
    struct vmm *v = tv_mirror(bare, VMM_TE, 3, NULL);
    char err[200];
    cr_assert_not(vmm_attach_disk(v, 0, medium(), 2, err, sizeof err), "2 sectors for 3 guests");
    cr_assert(strstr(err, "cannot be shared by 3 guests"), "%s", err);
    cr_assert_not(vmm_attach_disk(v, 4, medium(), 3, err, sizeof err), "no unit 4");
    cr_assert(vmm_attach_disk(v, 1, medium(), 3, err, sizeof err), "%s", err);
    cr_assert_not(vmm_attach_disk(v, 1, medium(), 3, err, sizeof err), "attached already");
    cr_assert_null(vmm_guest_disk(v, 0, 0, NULL), "unit 0 not attached");
    uint32_t s;
    cr_assert_not_null(vmm_guest_disk(v, 2, 1, &s));
    cr_assert_eq(s, 1);
    vmm_destroy(v);
    machine_destroy(bare);

    struct machine *ex = test_support_machine_text("variant x\nbase pg\nuser out exec\n");
    v = tv_mirror(ex, VMM_TE, 1, NULL);
    cr_assert_not(vmm_attach_disk(v, 0, medium(), 1, err, sizeof err), "user out exec");
    cr_assert(strstr(err, "execute in or out"), "%s", err);
    vmm_destroy(v);
    machine_destroy(ex);
}

Test(vmm_disk, a_clone_has_its_own_units)
{
    struct machine *bare = test_support_machine("pg");
    test_support_poke(bare, TS_CODE, read_write_interrupt, sizeof read_write_interrupt / 4);
    struct vmm *v = tv_mirror(bare, VMM_TE, 1, NULL);
    char err[200];
    cr_assert(vmm_attach_disk(v, 0, medium(), SECTORS, err, sizeof err), "%s", err);
    vmm_run(v, 8); /* the first read done */
    struct vmm *c = vmm_clone(v);
    cr_assert_not_null(c);
    vmm_run(v, UINT64_MAX);
    vmm_run(c, UINT64_MAX);
    const uint32_t *a = vmm_guest_disk(v, 0, 0, NULL), *b = vmm_guest_disk(c, 0, 0, NULL);
    cr_assert_neq(a, b);
    cr_assert(memcmp(a, b, SECTORS * ISA_SECTOR_WORDS * 4) == 0, "the clone ran to the same disk");
    cr_assert_eq(vmm_guest_stats(c, 0)->traps[CAUSE_IO], 1);
    vmm_destroy(c);
    vmm_destroy(v);
    machine_destroy(bare);
}

/* Passthrough, IOMMU on: the real unit's own checks, on the composed DMA
 * window, fail exactly where the bare unit does. */
Test(vmm_disk, passthrough_is_equivalent_and_confined)
{
    const enum vmm_mode modes[] = {VMM_TE, VMM_HVM, VMM_INTERP};
    for (unsigned i = 0; i < 3; i++) {
        struct vmm *v = check_io(read_write_interrupt, sizeof read_write_interrupt / 4, modes[i], 1,
                                 VMM_IO_PASSTHROUGH);
        cr_assert_eq(vmm_guest_memory_const(v, 0)[TRAP_VALUE], P(DISK_STATUS));
        vmm_destroy(v);
    }
    const uint32_t mem = TS_MEM;
    const uint32_t prog[] = {
        TS_I(ADDI, 1, 0, -1), TS_I(OUT, 1, 0, P(DISK_DMA_BOUND)),       /* its own bound: all */
        TS_I(LUI, 2, 0, mem >> 16), TS_I(OUT, 2, 0, P(DISK_DMA_BASE)),  /* base = MEMSIZE */
        OUT_IMM(DISK_CMD_READ, P(DISK_CMD)), TS_I(IN, 5, 0, P(DISK_STATUS)),
        TS_I(ADDI, 2, 2, -256), TS_I(OUT, 2, 0, P(DISK_DMA_BASE)),      /* the last sector: fine */
        OUT_IMM(DISK_CMD_READ, P(DISK_CMD)), TS_I(IN, 6, 0, P(DISK_STATUS)),
        TS_I(ADDI, 2, 2, 1), TS_I(OUT, 2, 0, P(DISK_DMA_BASE)),         /* one word past */
        OUT_IMM(DISK_CMD_WRITE, P(DISK_CMD)), TS_I(IN, 7, 0, P(DISK_STATUS)),
        TS_J(HALT, 0),
    };
    struct vmm *v = check_io(prog, sizeof prog / 4, VMM_TE, 1, VMM_IO_PASSTHROUGH);
    cr_assert_eq(vmm_guest_reg(v, 0, 5), DISK_STATUS_DONE | DISK_STATUS_ERROR);
    cr_assert_eq(vmm_guest_reg(v, 0, 6), DISK_STATUS_DONE);
    cr_assert_eq(vmm_guest_reg(v, 0, 7), DISK_STATUS_DONE | DISK_STATUS_ERROR);
    vmm_destroy(v);
}
