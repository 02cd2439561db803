; shadow_limit_load.s: a paged kernel loads a word from virtual page 0x1800
; of a page table of 0x1801 entries.
;
; On a bare machine the load reads it.  The asm VMM (programs/vmm/vmm.s)
; shadows at most SHADOW_MAX = 4096 entries: the access faults below, and
; the VMM gives up (vm_error E_SHADOW) rather than invent a fault.

        .include "guest.inc"

_start:
        guest_start s_intro
        map_page 0, code_page   ; vpn 0: the code below
        map_page 0x1800, data_page      ; vpn 0x1800: the word it loads
        lpsw paged(r0)

paged:    .word M+PG, 0, TABLE, ENTRIES, 0
s_intro:  .string "shadow_limit_load: a load from virtual page 0x1800"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"

        .org 0x400
code_page:                      ; at virtual 0
        li r2, FAR
        ld r1, 7(r2)            ; r1 = 42: the halt's status
        halt

        .org 0x500
data_page:
        .space 7
        .word 42
