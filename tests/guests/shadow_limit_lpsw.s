; shadow_limit_lpsw.s: a paged kernel executes lpsw with its operand in
; virtual page 0x1800 of a page table of 0x1801 entries.
;
; On a bare machine the PSW is read from there and loaded.  The asm VMM
; (programs/vmm/vmm.s) shadows at most SHADOW_MAX = 4096 entries, so it
; cannot read that operand as the guest's hardware would: it gives up
; (vm_error E_SHADOW).

        .include "guest.inc"

_start:
        guest_start s_intro
        map_page 0, code_page   ; vpn 0: the code below
        map_page 0x1800, psw_page       ; vpn 0x1800: the PSW it loads
        srr r2, r3
        st r3, far_psw+3(r0)    ; unpaged, all of memory
        lpsw paged(r0)

after:  la r1, s_after          ; unpaged again: the PSW was read
        call puts
        call newline
        li r1, 0
        halt

paged:    .word M+PG, 0, TABLE, ENTRIES, 0
s_intro:  .string "shadow_limit_lpsw: lpsw from virtual page 0x1800"
s_after:  .string "the PSW came from virtual page 0x1800"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"

        .org 0x400
code_page:                      ; at virtual 0
        li r1, FAR
        lpsw 0(r1)
        halt

        .org 0x500
psw_page:
far_psw:  .word M, after, 0, 0, 0
