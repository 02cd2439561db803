/*
 * programs.h: what the harnesses that run the tree's own programs load
 * once for a campaign, in LLVMFuzzerInitialize (main's state, read only
 * after it): the programs' images and the asm VMMs.  Run from the root.
 */
#ifndef TRAPEZE_FUZZ_PROGRAMS_H
#define TRAPEZE_FUZZ_PROGRAMS_H

#include "fuzz.h"

#include "../../assembler/asm.h"
#include "../../vmm/run/run.h"

/* images[i] = paths[i] assembled. */
static inline void fuzz_load_programs(const char *const *paths, size_t n, struct asm_image *images)
{
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(asm_load_program(paths[i], &images[i], stderr) == 0, "%s does not assemble", paths[i]);
}

/* The asm VMM of source path (NULL: the built-in programs/vmm/vmm.s). */
static inline struct asm_vmm *fuzz_load_asm_vmm(const char *path)
{
    char err[RUN_ERROR_SIZE];
    struct asm_vmm *v = run_load_asm_vmm(path, err);
    FUZZ_CHECK(v != NULL, "the asm VMM %s: %s", path ? path : "(built in)", err);
    return v;
}

#endif
