; pte.s: the page-table-change nanobenchmark of tests/bench/vmm.sh: the
; kernel runs paged (its 16 pages mapped to themselves) and 500,000 times
; maps its page 15 to frame 14 or 15 in turn, flushes, and reads through it.
        .include "../../../programs/lib/machine.inc"
        .include "nano.inc"
        .equ N, 500000
        .equ PAGES, 16
_start:
        mov r1, r0              ; the identity page table, read-write
map:    shli r2, r1, PAGE_SHIFT
        ori r2, r2, PTE_V+PTE_W
        st r2, table(r1)
        addi r1, r1, 1
        slti r2, r1, PAGES
        bnez r2, map
        frames_hold_numbers
        paged_psw paged_psw        ; on with paging
        lpsw paged_psw(r0)
paged:
        li r8, N
        mov r9, r0              ; r9 = the sum of what was read
loop:   andi r1, r8, 1          ; frame 14 + (N & 1)
        addi r1, r1, 14
        mov r3, r1
        shli r1, r1, PAGE_SHIFT
        ori r1, r1, PTE_V+PTE_W
        st r1, table+15(r0)
        tlbflush
        read_through_page15
        mov r1, r9
        halt
wrong:  li r1, -1
        halt
paged_psw: .space 5
        .org 0x800
table:  .space PAGES
