; shadow_edge_new_psw.s: a trap whose new PSW is paged, with its pc at
; virtual page 0x1000 of a page table of exactly 0x1000 entries.
;
; The page is past the table's bound, so on a bare machine the trap ends in
; a machine check.  0x1000 is also the asm VMM's SHADOW_MAX: the VMM must
; tell "past the guest's table" (its machine check, as here) from "inside
; a longer table but past the shadow's" (where it gives up:
; shadow_limit_new_psw.s).

        .include "../../programs/lib/machine.inc"
        .equ TABLE, 0x1000      ; 0x1000 entries, all invalid

_start:
        la sp, stack_top
        la r1, s_intro
        call puts
        call newline
        li r1, M+PG
        st r1, NEW_PSW+0(r0)
        li r1, 0x100000         ; virtual page 0x1000
        st r1, NEW_PSW+1(r0)
        li r1, TABLE
        st r1, NEW_PSW+2(r0)
        li r1, 0x1000
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        svc 1                   ; a machine check
        halt

s_intro:  .string "shadow_edge_new_psw: svc, the new pc at page 0x1000 of 0x1000"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"
