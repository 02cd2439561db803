; wild_addresses.s: a kernel that stores and loads everywhere.
;
; With base 0 and bound 0xffffffff, the kernel touches addresses from just
; past its memory to the top of the 32-bit space, and addresses whose
; physical form (base + va) only fits in 33 bits.  On a bare machine of the
; guest's size every one is a MEM trap, detail 3: there is nothing there.
; Under a VMM, the same: none of them may reach another guest or the VMM.

        .equ C_MEM, 2

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        st r3, targets+0(r0)    ; memsize, memsize + 1, memsize + 256
        addi r4, r3, 1
        st r4, targets+1(r0)
        addi r4, r3, 256
        st r4, targets+2(r0)
        la r1, s_start
        call say
        lpsw wide_psw(r0)       ; base 0, bound 0xffffffff
wide:
        li r5, 0                ; target index
        li r6, NTARGETS
w_next: ld r7, targets(r5)
        li r2, 0xbad
        st r2, 0(r7)
        ld r2, 0(r7)
        st r2, -1(r7)
        addi r5, r5, 1
        bne r5, r6, w_next
        la r1, s_faults
        call puts
        ld r1, faults(r0)
        call putdec
        call newline
        la r1, s_others
        call puts
        ld r1, others(r0)       ; bound faults: va 0xffffffff is not < bound
        call putdec
        call newline
        li r1, 0
        halt

handler:
        ld r8, 5(r0)
        li r9, 0x302            ; MEM (2), detail 3 (physical)
        bne r8, r9, h_other
        ld r9, faults(r0)
        addi r9, r9, 1
        st r9, faults(r0)
        b skip_return
h_other:
        ld r9, others(r0)
        addi r9, r9, 1
        st r9, others(r0)
        b skip_return

        .equ NTARGETS, 11
targets:  .word 0, 0, 0, 0x00400000, 0x01000000, 0x7fffffff, 0x80000000, 0xc0000000
          .word 0xfffffff0, 0xfffffffe, 0xffffffff
wide_psw: .word 1, wide, 0, 0xffffffff, 0
faults:   .word 0
others:   .word 0
s_start:  .string "wild_addresses: loads and stores from memsize to 0xffffffff"
s_faults: .string "physical faults: "
s_others: .string "other faults: "
        .space 32
stack_top:
        .include "common.inc"
