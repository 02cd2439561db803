/* disk.c: the disk unit of disk.h. */
#include "disk.h"

#include <stdlib.h>
#include <string.h>

bool disk_attach(struct disk_unit *d, const uint32_t *words, uint32_t sectors, size_t memsize)
{
    if (d->words || sectors == 0 || sectors > DISK_MAX_SECTORS) return false;
    const size_t n = (size_t)sectors * ISA_SECTOR_WORDS;
    uint32_t *medium = malloc(n * sizeof *medium);
    if (!medium) return false;
    memcpy(medium, words, n * sizeof *medium);
    *d = (struct disk_unit){.words = medium, .sectors = sectors,
                            .dma_bound = memsize > UINT32_MAX ? UINT32_MAX : (uint32_t)memsize};
    return true;
}

void disk_free(struct disk_unit *d)
{
    free(d->words);
    *d = (struct disk_unit){0};
}

bool disk_copy(struct disk_unit *dst, const struct disk_unit *src)
{
    if (!src->words) {
        disk_free(dst);
        return true;
    }
    uint32_t *medium = dst->words;
    const size_t bytes = (size_t)src->sectors * ISA_SECTOR_WORDS * sizeof *medium;
    if (!medium || dst->sectors != src->sectors) {
        medium = malloc(bytes);
        if (!medium) return false;
        free(dst->words);
    }
    memcpy(medium, src->words, bytes);
    *dst = *src;
    dst->words = medium;
    return true;
}

uint32_t disk_read(struct disk_unit *d, unsigned reg)
{
    if (!d->sectors) return 0;
    switch (reg) {
    case DISK_SECTOR: return d->sector;
    case DISK_ADDR: return d->addr;
    case DISK_STATUS: {
        const uint32_t status = d->status;
        d->status &= ~(uint32_t)DISK_STATUS_DONE; /* the acknowledgement */
        return status;
    }
    case DISK_CTRL: return d->ctrl;
    case DISK_SIZE: return d->sectors;
    case DISK_DMA_BASE: return d->dma_base;
    case DISK_DMA_BOUND: return d->dma_bound;
    default: return 0; /* CMD reads 0 */
    }
}

bool disk_set_register(struct disk_unit *d, unsigned reg, uint32_t value)
{
    if (!d->sectors) return false;
    switch (reg) {
    case DISK_SECTOR: d->sector = value; return false;
    case DISK_ADDR: d->addr = value; return false;
    case DISK_CTRL: d->ctrl = value; return false;
    case DISK_DMA_BASE: d->dma_base = value; return false;
    case DISK_DMA_BOUND: d->dma_bound = value; return false;
    case DISK_CMD: return true;
    default: return false; /* STATUS and SIZE ignore writes */
    }
}

/* Every sum is 64-bit: no 32-bit wrap lets a transfer past a bound. */
bool disk_command_target(const struct disk_unit *d, uint32_t cmd, size_t memsize, uint64_t *phys)
{
    if (cmd != DISK_CMD_READ && cmd != DISK_CMD_WRITE) return false;
    if (d->sector >= d->sectors) return false;
    if ((uint64_t)d->addr + ISA_SECTOR_WORDS > d->dma_bound) return false;
    *phys = (uint64_t)d->dma_base + d->addr;
    return *phys + ISA_SECTOR_WORDS <= memsize;
}

void disk_complete(struct disk_unit *d, bool ok)
{
    d->status = ok ? DISK_STATUS_DONE : DISK_STATUS_DONE | DISK_STATUS_ERROR;
}

enum disk_outcome disk_write(struct disk_unit *d, unsigned reg, uint32_t value, uint32_t *mem,
                             size_t memsize)
{
    if (!d->words || !disk_set_register(d, reg, value)) return DISK_NO_COMMAND;
    uint64_t phys;
    const bool ok = disk_command_target(d, value, memsize, &phys);
    disk_complete(d, ok);
    if (!ok) return DISK_FAILED;
    uint32_t *sector = d->words + (size_t)d->sector * ISA_SECTOR_WORDS;
    const size_t bytes = ISA_SECTOR_WORDS * sizeof *sector;
    if (value == DISK_CMD_READ) memcpy(mem + phys, sector, bytes);
    else memcpy(sector, mem + phys, bytes);
    return value == DISK_CMD_READ ? DISK_READ_DONE : DISK_WRITE_DONE;
}
