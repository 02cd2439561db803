; shadow_edge_new_psw.s: a trap whose new PSW is paged, with its pc at
; virtual page 0x1000 of a page table of exactly 0x1000 entries.
;
; The page is past the table's bound, so on a bare machine the trap ends in
; a machine check.  0x1000 is also the asm VMM's SHADOW_MAX: the VMM must
; tell "past the guest's table" (its machine check, as here) from "inside
; a longer table but past the shadow's" (where it gives up:
; shadow_limit_new_psw.s).

        .include "guest.inc"

_start:
        guest_start s_intro
        set_new_psw M+PG, 0x100000, TABLE, 0x1000       ; pc at page 0x1000 of 0x1000
        svc 1                   ; a machine check
        halt

s_intro:  .string "shadow_edge_new_psw: svc, the new pc at page 0x1000 of 0x1000"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"
