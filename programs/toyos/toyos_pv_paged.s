; toyos_pv_paged.s: toyos_paged.s built as a paravirtual kernel for `--vmm pv`.
;
; The same kernel, processes and page tables (paged.inc) as toyos_paged.s;
; paravirt.inc makes every lpsw, out, halt and srr a hypercall, and each
; process's page table one PV_PTE_BATCH of its 16 entries.  Its output is
; native toyos_paged's on a bare machine, line for line:
;
;   trapeze run --isa x86like --vmm pv programs/toyos/toyos_pv_paged.s

        .include "paravirt.inc" ; the kernel is a paravirtual guest
        .equ PT_ENTRIES, 16     ; SPACE / 256 (PTE_V, PTE_W: lib/machine.inc)

        .include "nofork.inc"   ; no fork, no wait
        .include "nodisk.inc"   ; no disk
        .include "kernel.inc"
        .include "paged.inc"    ; make_space, uaddr

s_banner:
        .string "toyos: 7 processes under paging, a tick every 400 instructions\n"


        .include "user.inc"
        .include "../lib/pv_console.inc"
