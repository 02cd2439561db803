; trap_storm.s: traps that never retire an instruction.
;
; The kernel's new PSW points at an undefined instruction, and then it
; traps.  From there every step is an ILL trap whose handler is the same
; undefined word: no instruction ever completes, so no timer ever counts
; down.  A VMM that preempted only on its real timer would never get the
; CPU back; this one counts the guest's steps in its slice.  (Run it with
; --max-steps: it never halts.)

_start:
        la sp, stack_top
        la r1, s_start
        call say
        la r1, bad              ; new PSW pc = an undefined word
        call install
        svc 0
        halt

bad:    .word 0                 ; opcode 0 is never defined
s_start: .string "trap_storm: the trap handler is an undefined instruction"
        .space 16
stack_top:
        .include "common.inc"
