/*
 * asm_monitor.c: the VMM written in the toy ISA, as the run sees it.
 *
 * The run restates nothing of vmm.s: every address it reads and every value
 * of vstate and vm_error come from the image's symbols, and every one is
 * checked here, once, when the image is loaded, so that reading a monitor's
 * word later can never leave its machine's memory.
 */
#include "run_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word (or array) the run reads from the monitor's memory. */
struct exported {
    const char *name;
    size_t field;   /* offsetof(struct asm_layout, ...) */
    uint32_t words; /* 0: an .equ value, not an address */
    bool optional;  /* a monitor without it lacks a feature (has_disk) */
};

#define AT(f) offsetof(struct asm_layout, f)
static const struct exported exports[] = {
    {"GUEST_BASE", AT(guest_base), 0, false},
    {"guest_entry", AT(guest_entry), 1, false},
    {"vflags", AT(vflags), 1, false},
    {"vbase", AT(vbase), 1, false},
    {"vbound", AT(vbound), 1, false},
    {"vstate", AT(vstate), 1, false},
    {"vm_error", AT(vm_error), 1, false},
    {"vpsw", AT(vpsw), PSW_WORDS, false},
    {"n_emulated", AT(n_emulated), 1, false},
    {"n_traps", AT(n_traps), CAUSE_COUNT, false},
    {"gregs", AT(gregs), ISA_NREGS, false},
    {"VS_NOT_STARTED", AT(vs_not_started), 0, false},
    {"VS_RUNNING", AT(vs_running), 0, false},
    {"VS_HALTED", AT(vs_halted), 0, false},
    {"VS_UNHANDLED", AT(vs_unhandled), 0, false},
    {"VS_CHECK", AT(vs_check), 0, false},
    {"VS_ERROR", AT(vs_error), 0, false},
    {"E_SHADOW", AT(e_shadow), 0, false},
    {"E_SMALL", AT(e_small), 0, false},
    {"SHADOW", AT(shadow), 0, false},
    {"SHADOW_MAX", AT(shadow_max), 0, false},
    {"PTE_PHYS", AT(pte_phys), 0, false},
    {"PTE_FRAME_PAST", AT(pte_frame_past), 0, false},
    {"vdisk_first", AT(vdisk_first), ISA_DISK_UNITS, true},
    {"vdisk_size", AT(vdisk_size), ISA_DISK_UNITS, true},
    {"n_interpreted", AT(n_interpreted), 1, true},
    {"yield_request", AT(yield_request), 1, true},
    {"interp_next", AT(interp_next), 1, true},
};
#undef AT

/* GUEST_BASE beyond this would make the machines of a deep stack
 * overflow 2^32 words long before memory runs out. */
#define MAX_GUEST_BASE (1u << 24)

static uint32_t *field(struct asm_layout *at, size_t offset)
{
    return (uint32_t *)((char *)at + offset);
}

static bool check_layout(struct asm_vmm *v, const char *path, char err[RUN_ERROR_SIZE])
{
    const struct asm_image *img = &v->img;
    unsigned disk_words = 0;
    for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++) {
        const struct exported *x = &exports[i];
        const bool found = asm_symbol_value(img, x->name, field(&v->at, x->field));
        if (x->optional) {
            /* an absent optional word is never read: placed at 0, in the trap area */
            if (!found) *field(&v->at, x->field) = 0;
            if (x->field == offsetof(struct asm_layout, n_interpreted)) v->at.has_interpreted = found;
            else if (x->field == offsetof(struct asm_layout, yield_request)) v->at.has_yield = found;
            else if (x->field == offsetof(struct asm_layout, interp_next)) v->at.has_interp_next = found;
            else disk_words += found;
            continue;
        }
        if (!found) {
            snprintf(err, RUN_ERROR_SIZE, "%.300s: error: the asm VMM defines no '%s'", path, x->name);
            return false;
        }
    }
    v->at.has_disk = disk_words == 2;
    const uint32_t base = v->at.guest_base;
    if (base % ISA_PAGE_WORDS || base < TRAP_AREA_WORDS || base > MAX_GUEST_BASE) {
        snprintf(err, RUN_ERROR_SIZE,
                 "%.300s: error: GUEST_BASE (0x%x) must be a multiple of %u from %u to 0x%x", path,
                 base, ISA_PAGE_WORDS, ISA_PAGE_WORDS, MAX_GUEST_BASE);
        return false;
    }
    /* Everything the run reads lies in the monitor's own part of its
     * machine, which every machine it runs on has. */
    for (size_t i = 0; i < sizeof exports / sizeof exports[0]; i++) {
        const struct exported *x = &exports[i];
        uint32_t at = *field(&v->at, x->field);
        if (x->words && (uint64_t)at + x->words > base) {
            snprintf(err, RUN_ERROR_SIZE,
                     "%.300s: error: the asm VMM's '%s' (0x%x, %u words) is not below GUEST_BASE",
                     path, x->name, at, x->words);
            return false;
        }
    }
    /* The shadow table is read like the words above: inside the monitor's part. */
    if ((uint64_t)v->at.shadow + v->at.shadow_max > base) {
        snprintf(err, RUN_ERROR_SIZE,
                 "%.300s: error: the asm VMM's SHADOW table (0x%x, %u entries) is not below GUEST_BASE",
                 path, v->at.shadow, v->at.shadow_max);
        return false;
    }
    for (size_t i = 0; i < img->nsegments; i++) {
        const struct asm_segment *g = &img->segments[i];
        if ((uint64_t)g->at + g->count > base) {
            snprintf(err, RUN_ERROR_SIZE, "%.300s: error: the asm VMM reaches beyond GUEST_BASE",
                     path);
            return false;
        }
    }
    const uint32_t states[] = {v->at.vs_not_started, v->at.vs_running, v->at.vs_halted,
                               v->at.vs_unhandled, v->at.vs_check, v->at.vs_error};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = i + 1; j < 6; j++)
            if (states[i] == states[j]) {
                snprintf(err, RUN_ERROR_SIZE, "%.300s: error: the asm VMM's VS_* values are not distinct",
                         path);
                return false;
            }
    return true;
}

/* The asm VMM built into trapeze, by its tree path. */
#define BUILT_IN_VMM "programs/vmm/vmm.s"

struct asm_vmm *run_load_asm_vmm(const char *path, char err[RUN_ERROR_SIZE])
{
    struct asm_vmm *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, RUN_ERROR_SIZE, "out of memory");
        return NULL;
    }
    char *msg = NULL;
    size_t msg_len = 0;
    FILE *errors = open_memstream(&msg, &msg_len);
    int nerr = -1;
    if (errors) nerr = path ? asm_load_program(path, &v->img, errors) : asm_assemble_embedded(BUILT_IN_VMM, &v->img, errors);
    if (errors) fclose(errors);
    if (nerr != 0) {
        const char *first = msg && *msg ? msg : "cannot load it\n";
        snprintf(err, RUN_ERROR_SIZE, "the asm VMM does not assemble: %.*s",
                 (int)strcspn(first, "\n"), first);
        free(msg);
        free(v);
        return NULL;
    }
    free(msg);
    v->refs = 1;
    if (!check_layout(v, path ? path : BUILT_IN_VMM, err)) {
        run_release_asm_vmm(v);
        return NULL;
    }
    return v;
}

void run_release_asm_vmm(struct asm_vmm *v)
{
    if (!v || --v->refs > 0) return;
    asm_image_free(&v->img);
    free(v);
}

enum machine_stop asm_vmm_guest_stop(const struct asm_vmm *v, const uint32_t *mem)
{
    const uint32_t s = mem[v->at.vstate];
    if (s == v->at.vs_halted) return MACHINE_HALT;
    if (s == v->at.vs_check) return MACHINE_CHECK;
    if (s == v->at.vs_unhandled || s == v->at.vs_error) return MACHINE_UNHANDLED_TRAP;
    return MACHINE_BUDGET;
}

bool asm_vmm_guest_started(const struct asm_vmm *v, const uint32_t *mem)
{
    return mem[v->at.vstate] != v->at.vs_not_started;
}

const char *asm_vmm_error(const struct asm_vmm *v, const uint32_t *mem)
{
    if (mem[v->at.vstate] != v->at.vs_error) return NULL;
    const uint32_t e = mem[v->at.vm_error];
    if (e == v->at.e_shadow) return "the guest's page table is longer than the shadow table";
    if (e == v->at.e_small) return "the machine has no room for a guest";
    return "an error it does not name";
}
