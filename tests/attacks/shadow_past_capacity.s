; shadow_past_capacity.s: a page table longer than any shadow table can
; hold, used past its end, and a table whose bound grows.
;
; The table has B = F + 272 entries (F: the memory's frames, rounded up),
; more than a monitor holding one entry per frame (and at least 256) can
; shadow.  Near its end, from HI = B - 9:
;   HI+0  data page D1, writable      HI+4  a frame past memory, read-only
;   HI+1  D1, read-only               HI+5  a second code page
;   HI+2  invalid                     HI+6  the table's own frame (writable)
;   HI+3  a frame past memory, writable   HI+7  frame 0, the trap area (writable)
; The paged kernel loads and stores through each, jumps into them (the
; invalid and past-memory ones fault; the code page runs a loop), rewrites
; entry HI through HI+6 (tlbflush, uses it, puts it back), writes the trap
; area's new PSW through HI+7 so that the next trap runs a paged handler in
; HI+5, and loads (lpsw, operand in D1 past the end) a user PSW whose code is
; in HI+5.  The user program's svc runs that paged handler, which puts the
; kernel's new PSW back through HI+7 and returns; its next svc reaches the
; kernel.  Then the table grows: the kernel runs a user program with
; bounds 4, 8, 255, 256, 257, F-1, F, F+1 and B, each time touching the last
; page through an entry it just wrote, and lpsw (the flush) in between.
; Every fault has the bare machine's detail: a store to a read-only page
; past memory is write-protect; past the table's bound, bound.

        .include "shadow.inc"
        .equ TABLE, 0x1000      ; F + 272 entries: up to 0x2110 for 4096 frames
        .equ CODE, 0x400
        .equ CODE2, 0x500
        .equ D1, 0x600
        .equ D2, 0x700
        .equ NGROW, 9

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        addi r4, r3, 255
        shri r4, r4, 8          ; r4 = F
        st r4, frames(r0)
        addi r5, r4, 272        ; r5 = B
        st r5, bound(r0)
        st r5, psw_main+3(r0)
        st r5, D1+0x23(r0)      ; the user PSW's bound
        st r5, D1+0x4b(r0)      ; the paged handler's
        addi r6, r5, -9         ; r6 = HI
        st r6, hi(r0)
        li r1, CODE+PTE_V
        st r1, TABLE(r0)
        li r1, D1+PTE_V+PTE_W
        st r1, TABLE+0(r6)
        li r1, D1+PTE_V
        st r1, TABLE+1(r6)
        shli r1, r4, 8          ; frame F: past memory
        ori r2, r1, PTE_V+PTE_W
        st r2, TABLE+3(r6)
        ori r2, r1, PTE_V
        st r2, TABLE+4(r6)
        li r1, CODE2+PTE_V
        st r1, TABLE+5(r6)
        la r1, TABLE            ; HI+6: the frame holding entry HI
        add r1, r1, r6
        andi r13, r1, 255       ; r13 = entry HI's offset in that frame
        shri r1, r1, 8
        shli r1, r1, 8
        ori r1, r1, PTE_V+PTE_W
        st r1, TABLE+6(r6)
        li r1, PTE_V+PTE_W      ; HI+7: frame 0
        st r1, TABLE+7(r6)
        addi r1, r6, 5          ; virtual addresses in HI+5
        shli r1, r1, 8
        addi r2, r1, c2_user-code2
        st r2, D1+0x21(r0)
        addi r2, r1, c2_handler-code2
        st r2, D1+0x49(r0)
        li r1, 0                ; D1[0x40..0x44] = the kernel's new PSW
copy:   ld r2, NEW_PSW(r1)
        st r2, D1+0x40(r1)
        addi r1, r1, 1
        slti r2, r1, 5
        bnez r2, copy
        la r1, grow             ; the bounds the table grows through
        li r2, 4
        st r2, 0(r1)
        li r2, 8
        st r2, 1(r1)
        li r2, 255
        st r2, 2(r1)
        li r2, 256
        st r2, 3(r1)
        li r2, 257
        st r2, 4(r1)
        addi r2, r4, -1
        st r2, 5(r1)
        st r4, 6(r1)
        addi r2, r4, 1
        st r2, 7(r1)
        st r5, 8(r1)
        la r1, s_start
        call say
        shli r12, r6, 8         ; r12 = HI's virtual address, r13 as above
        lpsw psw_main(r0)

handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        beq r9, r11, h_svc
        return_or_skip
h_svc:  ld r9, gstage(r0)       ; the next bound (svc 8, then svc 9 each time)
        beqz r9, g_next
        ld r10, gsaved(r0)      ; put back the entry the last stage used
        ld r11, gindex(r0)
        st r10, TABLE(r11)
g_next: li r10, NGROW
        bgeu r9, r10, report
        addi r10, r9, 1
        st r10, gstage(r0)
        ld r10, grow(r9)        ; the bound
        st r10, psw_grow+3(r0)
        addi r11, r10, -1       ; its last entry -> D2, writable
        st r11, gindex(r0)
        ld r9, TABLE(r11)
        st r9, gsaved(r0)
        li r9, D2+PTE_V+PTE_W
        st r9, TABLE(r11)
        shli r12, r11, 8        ; r12 = the last page's virtual address
        lpsw psw_grow(r0)

report: print_log
        la r1, s_d1
        ld r2, D1+5(r0)
        call puts_dec
        la r1, s_sum
        ld r2, D1+0x10(r0)
        call puts_dec
        la r1, s_svc
        ld r2, D1+0x30(r0)
        call puts_dec
        la r1, s_d2
        ld r2, D2+5(r0)
        call puts_dec
        la r1, s_grow
        ld r2, D2+9(r0)
        call puts_dec
        li r1, 0
        halt

frames:   .word 0
bound:    .word 0
hi:       .word 0
gstage:   .word 0
gsaved:   .word 0
gindex:   .word 0
grow:     .space NGROW
psw_main: .word M+PG, 0, TABLE, 0, 0
psw_grow: .word PG, c_grow-code, TABLE, 0, 0
s_start:  .string "shadow_past_capacity: a table longer than a shadow holds, and growing"
s_d1:     .string "D1[5]: "
s_sum:    .string "sum computed in the page past the end: "
s_svc:    .string "svc value the paged handler saw: "
s_d2:     .string "D2[5] (through the rewritten entry): "
s_grow:   .string "D2[9] (once per bound): "
          log_data
          .space 32
stack_top:

; The kernel's paged code, at virtual 0.  r12 = HI's virtual address, r13 =
; entry HI's offset in the table's frame.
        .org CODE
code:
        ld r1, 5(r12)           ; HI: D1, writable
        addi r1, r1, 1
        st r1, 5(r12)
        li r2, 0x100
        add r3, r12, r2         ; HI+1: D1, read-only
        ld r1, 6(r3)
        st r1, 7(r3)            ;   write-protect
        add r3, r3, r2          ; HI+2: invalid
        ld r1, 8(r3)
        st r1, 9(r3)
        addi r7, r0, back1-code
        jr r3                   ;   the fetch: invalid page
back1:  add r3, r3, r2          ; HI+3: past memory, writable
        ld r1, 10(r3)
        st r1, 11(r3)
        lpsw 12(r3)
        add r3, r3, r2          ; HI+4: past memory, read-only
        ld r1, 13(r3)
        st r1, 14(r3)           ;   write-protect: W comes before the frame
        addi r7, r0, back2-code
        jr r3                   ;   the fetch: physical
back2:  add r3, r3, r2          ; HI+5: code
        addi r7, r0, back3-code
        jr r3
back3:  add r3, r3, r2          ; HI+6: the table itself
        add r5, r3, r13         ; entry HI
        ld r6, 0(r5)
        li r1, D2+PTE_V+PTE_W
        st r1, 0(r5)            ; entry HI = D2
        tlbflush
        ld r1, 5(r12)
        addi r1, r1, 3
        st r1, 5(r12)
        st r6, 0(r5)            ; entry HI = D1 again
        tlbflush
        add r3, r3, r2          ; HI+7: the trap area
        ld r1, 0x48(r12)        ; the new PSW: the paged handler in HI+5
        st r1, 8(r3)
        ld r1, 0x49(r12)
        st r1, 9(r3)
        ld r1, 0x4a(r12)
        st r1, 10(r3)
        ld r1, 0x4b(r12)
        st r1, 11(r3)
        ld r1, 0x4c(r12)
        st r1, 12(r3)
        lpsw 0x20(r12)          ; the user PSW, from D1 past the end
        li r1, 1                ; (never reached)
        halt

c_grow: ld r1, 9(r12)           ; user mode: the last page of the table's bound
        addi r1, r1, 1
        st r1, 9(r12)
        ld r1, 0x100(r12)       ;   past the bound
        svc 9

; At HI+5.
        .org CODE2
code2:
        mov r4, r0              ; called: sum 10..1, return to r7
        li r1, 10
c2_l:   add r4, r4, r1
        addi r1, r1, -1
        bnez r1, c2_l
        st r4, 0x10(r12)
        jr r7
c2_user:                        ; the user program
        ld r1, 5(r12)
        addi r1, r1, 100
        st r1, 5(r12)
        svc 7                   ; to the paged handler
        svc 8                   ; to the kernel
c2_handler:                     ; supervisor, paged, past the end
        li r9, 0x700
        add r9, r9, r12         ; the trap area, through HI+7
        ld r10, 6(r9)
        st r10, 0x30(r12)       ; the svc's value
        ld r10, 0x40(r12)       ; the kernel's new PSW, back
        st r10, 8(r9)
        ld r10, 0x41(r12)
        st r10, 9(r9)
        ld r10, 0x42(r12)
        st r10, 10(r9)
        ld r10, 0x43(r12)
        st r10, 11(r9)
        ld r10, 0x44(r12)
        st r10, 12(r9)
        lpsw 0(r9)              ; back to the user program

        .org D1
        .space 0x20
        .word PG, 0, TABLE, 0, 0        ; 0x20: the user PSW
        .space 0x23
        .word M+PG, 0, TABLE, 0, 0      ; 0x48: the paged handler's
        .org D2
        .space 256
        .include "common.inc"
