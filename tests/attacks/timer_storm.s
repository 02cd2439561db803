; timer_storm.s: a timer interrupt after every instruction.
;
; The kernel arms its timer at 1 with interrupts on and re-arms it at 1 in
; the handler: every other step is an interrupt the VMM must deliver, on
; exactly the instruction where the bare machine takes it.  Between storms
; it sets the timer to 0xffffffff, then back.  After 3000 interrupts it
; prints the count and how far its loop got.

        .equ IE, 2
        .equ M, 1
        .equ C_TIMER, 7
        .equ TICKS, 3000

_start:
        la sp, stack_top
        la r1, handler
        call install
        li r1, -1
        stmr r1                 ; a huge timer, with interrupts still off
        la r1, s_start
        call say
        lpsw storm(r0)          ; IE on, timer 1
count:  addi r9, r9, 1
        b count

handler:
        ld r8, 5(r0)
        li r10, C_TIMER
        bne r8, r10, h_odd
        ld r8, ticks(r0)
        addi r8, r8, 1
        st r8, ticks(r0)
        li r10, TICKS
        beq r8, r10, h_done
        li r8, 1
        st r8, 4(r0)            ; re-arm: the old PSW's timer
        lpsw 0(r0)
h_odd:  li r1, 99
        halt
h_done: la r1, s_ticks
        call puts
        ld r1, ticks(r0)
        call putdec
        la r1, s_loop
        call puts
        mov r1, r9
        call putdec
        call newline
        li r1, 0
        halt

storm:  .word M+IE, count, 0, 0x100000, 1
ticks:  .word 0
s_start: .string "timer_storm: timer = 1, re-armed at every interrupt"
s_ticks: .string "interrupts: "
s_loop:  .string ", loop turns between them: "
        .space 32
stack_top:
        .include "common.inc"
