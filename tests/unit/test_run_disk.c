/*
 * test_run_disk.c: disks under the asm VMM (programs/vmm/vmm.s, "The
 * virtual disk"), hypervisor-direct at every asm level:
 *
 *   - the disk attacker of tests/attacks under asm, asm,asm and c,asm gets
 *     the bare unit's answer to every hostile command, leaves every VMM
 *     word intact and changes only its own last sector;
 *   - the asm VMM loaded by hand (its loading convention, README.md) with a
 *     partition of a larger real unit: its guest's SIZE is the partition,
 *     and of the real unit only the partition's last sector changes, of
 *     real memory nothing outside the guest but the VMM's own data.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "support.h"
#include "test_run_support.h"

#define SECTORS 8u
#define ATTACK "tests/attacks/disk_dma_escape.s"
/* Every command fails as on a bare unit but the write of its last sector. */
#define ATTACK_OUTPUT "EEEEEEED\n"

/* The sectors of `words` (SECTORS of them) that are not all zero, as a bit set. */
static unsigned written_sectors(const uint32_t *words)
{
    unsigned set = 0;
    for (unsigned s = 0; s < SECTORS; s++)
        for (unsigned i = 0; i < ISA_SECTOR_WORDS; i++)
            if (words[s * ISA_SECTOR_WORDS + i]) set |= 1u << s;
    return set;
}

static void expect_output(const uint8_t *out, size_t len, const char *what)
{
    cr_assert(len == strlen(ATTACK_OUTPUT) && memcmp(out, ATTACK_OUTPUT, len) == 0,
              "%s: the attacker saw '%.*s'", what, (int)len, (const char *)out);
}

Test(run_disk, dma_attacker_under_asm_levels_gets_its_own_unit_only, .timeout = 60)
{
    static const uint32_t zeros[SECTORS * ISA_SECTOR_WORDS];
    const char *specs[] = {"asm", "asm,asm", "c,asm"};
    struct asm_image img = tr_load_file(ATTACK);
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        struct run *r = tr_run(specs[k], "pg", &img, TR_MEM);
        char err[RUN_ERROR_SIZE];
        cr_assert(run_attach_disk(r, 0, zeros, SECTORS, err), "%s: %s", specs[k], err);
        cr_assert_eq(run_go(r, TR_BIG_BUDGET), MACHINE_HALT, "%s", specs[k]);
        struct run_guest_state s;
        run_guest_state(r, 0, &s);
        cr_assert_eq(s.regs[1], 0, "%s: a status differed from the bare unit's", specs[k]);
        expect_output(s.output, s.output_len, specs[k]);
        cr_assert_eq(s.disk_sectors[0], SECTORS, "%s: the program's unit is the whole unit", specs[k]);
        cr_assert_eq(s.disk_writes, 1, "%s", specs[k]);
        cr_assert_eq(s.disk_errors, 7, "%s: every failure reached the real unit as one", specs[k]);
        const uint32_t *real = machine_disk(run_real_machine(r), 0, NULL);
        cr_assert_not_null(real);
        cr_assert_eq(written_sectors(real), 1u << (SECTORS - 1), "%s: sectors written 0x%x", specs[k],
                     written_sectors(real));
        tr_check_vmm_intact(r);
        run_destroy(r);
    }
    asm_image_free(&img);
}

/* The asm VMM alone on a machine, as its README's loader does it, with the
 * guest given sectors first .. first + size - 1 of an 8-sector unit. */
Test(run_disk, asm_vmm_confines_its_guest_to_its_partition)
{
    static const uint32_t zeros[SECTORS * ISA_SECTOR_WORDS];
    struct isa_variant pg = test_support_variant("pg");
    struct asm_image vmm, guest = tr_load_file(ATTACK);
    cr_assert_eq(asm_load_program("programs/vmm/vmm.s", &vmm, stderr), 0);
    uint32_t base, entry_word, first_word, size_word, end, shadow;
    cr_assert(asm_symbol_value(&vmm, "SHADOW", &shadow) && asm_symbol_value(&vmm, "GUEST_BASE", &base) && asm_symbol_value(&vmm, "guest_entry", &entry_word) &&
              asm_symbol_value(&vmm, "vdisk_first", &first_word) &&
              asm_symbol_value(&vmm, "vdisk_size", &size_word) && asm_symbol_value(&vmm, "vmm_end", &end));
    const struct { uint32_t first, size; } parts[] = {{3, 2}, {0, 1}, {7, 1}};
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        const size_t mem = base + TR_MEM;
        struct machine *m = machine_create(mem, &pg);
        cr_assert_not_null(m);
        uint32_t *words = machine_memory_span(m, 0, mem);
        cr_assert(asm_image_place(&vmm, words, mem, 0) && asm_image_place(&guest, words + base, TR_MEM, 0));
        words[entry_word] = guest.entry;
        words[first_word] = parts[p].first;
        words[size_word] = parts[p].size;
        cr_assert(machine_attach_disk(m, 0, zeros, SECTORS));
        machine_reset(m, vmm.entry);
        cr_assert_eq(machine_run(m, 10000000), MACHINE_HALT);
        cr_assert_eq(machine_reg(m, 1), 0, "partition %zu: a status differed from a bare unit's", p);
        size_t len;
        const uint8_t *out = machine_output(m, &len);
        expect_output(out, len, "a partition");
        const uint32_t last = parts[p].first + parts[p].size - 1;
        const unsigned set = written_sectors(machine_disk(m, 0, NULL));
        cr_assert_eq(set, 1u << last, "partition %u+%u: real sectors written 0x%x, not only %u",
                     parts[p].first, parts[p].size, set, last);
        /* the VMM's code and constants, and nothing past its data */
        for (size_t g = 0; g < vmm.nsegments; g++)
            for (size_t w = 0; w < vmm.segments[g].count; w++) {
                const uint32_t at = vmm.segments[g].at + (uint32_t)w, want = vmm.segments[g].words[w];
                if (at < entry_word && want != 0)
                    cr_assert_eq(words[at], want, "partition %zu: VMM word 0x%x changed", p, at);
            }
        for (uint32_t a = end; a < shadow; a++)
            cr_assert_eq(words[a], 0, "partition %zu: word 0x%x past the VMM's data written", p, a);
        machine_destroy(m);
    }
    asm_image_free(&vmm);
    asm_image_free(&guest);
}
