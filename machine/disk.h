/*
 * disk.h: one disk unit of ISA.md "The disk" as a value.
 *
 * The machine has four (units 0..3, ports 16..47), and a VMM can give a
 * guest one as its virtual unit over the guest's own memory, so that what a
 * guest sees of a unit is this device by construction (as with console.h).
 * A zeroed struct disk_unit is a unit that is not attached: its ports read
 * 0 and ignore writes.
 *
 *   reg  port   read                      write
 *   0    p+0    SECTOR as last written    the sector of the next command
 *   1    p+1    ADDR as last written      where it goes, before DMA_BASE
 *   2    p+2    0                         1 read, 2 write: the command runs now
 *   3    p+3    STATUS; clears DONE       ignored
 *   4    p+4    CTRL as last written      bit 0: interrupt on completion
 *   5    p+5    SIZE (sectors)            ignored
 *   6    p+6    DMA_BASE (reset 0)        the unit's IOMMU: relocation ...
 *   7    p+7    DMA_BOUND (reset MEMSIZE) ... and bound of ADDR
 *
 * A command completes inside the write that starts it: the 256 words move
 * between the sector and physical words DMA_BASE + ADDR .. + 255 of the
 * memory the caller passes (the device sees no relocation or paging), and
 * STATUS becomes DONE (plus ERROR when it failed, moving nothing).
 */
#ifndef TRAPEZE_DISK_H
#define TRAPEZE_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../isa/isa.h"

/* The largest unit: 65,536 sectors, a 64 MiB file. */
#define DISK_MAX_SECTORS 65536u

struct disk_unit {
    /* The medium: sectors * ISA_SECTOR_WORDS words (owned), NULL when the
     * unit is not attached. */
    uint32_t *words;
    uint32_t sectors;
    /* The registers, as ISA.md's table names them. */
    uint32_t sector, addr, status, ctrl, dma_base, dma_bound;
};

/* What a port write did: a command that moved a sector, or failed. */
enum disk_outcome { DISK_NO_COMMAND, DISK_READ_DONE, DISK_WRITE_DONE, DISK_FAILED };

/* Attaches a copy of words (sectors * ISA_SECTOR_WORDS of them) to a unit
 * that is not attached, its registers at reset (DMA_BOUND = memsize).
 * False when sectors is 0 or above DISK_MAX_SECTORS, or memory cannot be
 * had; d is then unchanged. */
bool disk_attach(struct disk_unit *d, const uint32_t *words, uint32_t sectors, size_t memsize);
/* Frees the medium: the unit is no longer attached. */
void disk_free(struct disk_unit *d);
/* Makes dst equal to src (medium and registers), reusing dst's medium when
 * the sizes agree.  False when memory cannot be had, with dst unchanged. */
bool disk_copy(struct disk_unit *dst, const struct disk_unit *src);

/* A unit is attached while sectors != 0.  The machine's own units own
 * their medium (words); a VMM's virtual unit has registers only (words
 * NULL) and carries out its commands on a real unit itself, with the three
 * functions below that disk_write is made of. */

/* Register reg (enum isa_disk_port; anything above reads 0) read: reading
 * STATUS clears DONE. */
uint32_t disk_read(struct disk_unit *d, unsigned reg);
/* Register reg written.  A write of CMD runs the command on mem (memsize
 * words, physical) and returns what it did; on DISK_WRITE_DONE the sector
 * d->sector has changed.  Other registers return DISK_NO_COMMAND. */
enum disk_outcome disk_write(struct disk_unit *d, unsigned reg, uint32_t value, uint32_t *mem,
                             size_t memsize);
/* The register half of a write: sets reg, or returns true (changing
 * nothing) when reg is CMD, whose command the caller now carries out.
 * False too for an unattached unit. */
bool disk_set_register(struct disk_unit *d, unsigned reg, uint32_t value);
/* The command cmd on the registers as they are: false when ISA.md says it
 * fails (not 1 or 2, SECTOR >= SIZE, ADDR + 256 > DMA_BOUND, DMA_BASE +
 * ADDR + 256 > memsize, without wrap), else true with the physical word
 * where the sector goes. */
bool disk_command_target(const struct disk_unit *d, uint32_t cmd, size_t memsize, uint64_t *phys);
/* A command completed: STATUS = DONE, plus ERROR unless ok. */
void disk_complete(struct disk_unit *d, bool ok);

/* The unit's interrupt line: CTRL bit 0 and DONE (level-triggered). */
static inline bool disk_irq_pending(const struct disk_unit *d)
{
    return (d->ctrl & DISK_CTRL_IRQ) && (d->status & DISK_STATUS_DONE);
}

#endif
