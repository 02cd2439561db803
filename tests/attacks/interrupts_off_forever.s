; interrupts_off_forever.s: keep the CPU.
;
; A kernel turns interrupts off (popf), switches its timer off (stmr 0) and
; spins forever.  On a bare machine that is the end of the machine.  Under
; a VMM the guest's IE and timer are virtual: the VMM's own timer still
; preempts it every slice, and the other guests run to completion as if it
; were not there.  (Run it with --max-steps: it never halts.)

_start:
        la sp, stack_top
        la r1, s_start
        call say
        popf r0                 ; IE = 0
        stmr r0                 ; timer off
        lpsw quiet(r0)          ; and once more, by PSW: IE off, timer off
spin:   addi r1, r1, 1
        b spin

quiet:  .word 1, spin, 0, 0x100000, 0
s_start: .string "interrupts_off_forever: interrupts off, timer off, spinning"
        .space 16
stack_top:
        .include "common.inc"
