; stale_pte.s: a paged kernel changes an entry of its running page table
; and relies on the change without tlbflush, which ISA.md forbids.
;
;   virtual             physical
;   0x000 .. 0x3ff --> 0x000 .. 0x3ff   vpns 0..3: this image, writable
;   0x400          --> page_a, then page_b   vpn 4: the entry it changes
;   0x1000         --> TABLE             vpn 16: the table itself, writable
;
; It loads from 0x400 (page_a's 'A'), points vpn 4 at page_b and loads from
; 0x400 again with no flush in between.  The bare machine caches no
; translation and reads 'B'; a VMM whose shadow table follows the guest's
; only at flushes (--shadow rebuild or lazy) still reads 'A'.  ISA.md
; allows either: `trapeze run` warns, `trapeze equiv` names the step.

        .include "guest.inc"
        .equ NPTE, 17           ; vpns 0..16
        .equ DATA, 0x400        ; vpn 4

_start:
        guest_start s_intro
        li r1, 0x000+PTE_V+PTE_W
        st r1, TABLE+0(r0)
        li r1, 0x100+PTE_V+PTE_W
        st r1, TABLE+1(r0)
        li r1, 0x200+PTE_V+PTE_W
        st r1, TABLE+2(r0)
        li r1, 0x300+PTE_V+PTE_W
        st r1, TABLE+3(r0)
        map_page 4, page_a
        li r1, TABLE+PTE_V+PTE_W
        st r1, TABLE+16(r0)
        lpsw paged_psw(r0)

; Paged from here on, at the same addresses.
paged:
        ld r8, DATA(r0)         ; 'A', and a shadow may keep that translation
        li r1, page_b+PTE_V
        st r1, TABLE+4(r0)      ; vpn 4 -> page_b ...
        ld r9, DATA(r0)         ; ... relied on without tlbflush: 'B' bare
        la r1, s_first
        call puts
        mov r1, r8
        call putc
        la r1, s_second
        call puts
        mov r1, r9
        call putc
        call newline
        li r1, 0
        halt

;                 flags  pc     base   bound  timer
paged_psw: .word  M+PG,  paged, TABLE, NPTE,  0
s_intro:   .string "stale_pte: a changed page-table entry, used without tlbflush"
s_first:   .string "first load "
s_second:  .string ", second load "
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"

        .org 0x500
page_a: .word 'A'
        .org 0x600
page_b: .word 'B'
