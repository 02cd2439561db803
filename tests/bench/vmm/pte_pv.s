; pte_pv.s: pte.s as a paravirtual kernel: each change of page 15's entry
; and its flush are one hcall PV_PTE_BATCH of one pair; the kernel's own
; table, its lpsw into paged mode and its halt are hypercalls too.
        .include "../../../programs/lib/machine.inc"
        .include "nano.inc"
        .include "../../../programs/lib/pv.inc"
        .equ N, 500000
        .equ PAGES, 16
_start:
        hcall PV_HELLO
        la r1, shared
        hcall PV_SHARED
        mov r1, r0              ; the identity page table, read-write, in one batch
map:    shli r2, r1, PAGE_SHIFT
        ori r2, r2, PTE_V+PTE_W
        shli r3, r1, 1
        la r4, table
        add r4, r4, r1
        st r4, pairs+0(r3)
        st r2, pairs+1(r3)
        addi r1, r1, 1
        slti r2, r1, PAGES
        bnez r2, map
        la r1, pairs
        li r2, PAGES
        hcall PV_PTE_BATCH
        frames_hold_numbers
        paged_psw frame        ; on with paging
        hcall PV_PSW
paged:
        li r8, N
        mov r9, r0              ; r9 = the sum of what was read
        la r1, table+15
        st r1, pairs+0(r0)
loop:   andi r1, r8, 1          ; frame 14 + (N & 1)
        addi r1, r1, 14
        mov r3, r1
        shli r1, r1, PAGE_SHIFT
        ori r1, r1, PTE_V+PTE_W
        st r1, pairs+1(r0)
        la r1, pairs
        li r2, 1
        hcall PV_PTE_BATCH
        read_through_page15
        mov r1, r9
        hcall PV_HALT
wrong:  li r1, -1
        hcall PV_HALT
shared: .word 1, 0
frame:  .space 5
pairs:  .space PAGES+PAGES
        .org 0x800
table:  .space PAGES
