; probe_the_host.s: look for the VMM from inside.
;
; A kernel reads everything that might betray a VMM: its mode and flags
; (pushf), its relocation (srr), its timer (rtmr), the trap area after a
; trap, and how many instructions an svc round trip costs by the timer.
; Under `pg` every one of these reads traps and is emulated from the
; virtual state, so the kernel sees exactly a bare machine: its output is
; identical bare and virtualized.  (Under x86like, pushf and srr run in
; real user mode and the same program tells the difference.)

_start:
        la sp, stack_top
        la r1, handler
        call install
        pushf r2
        la r1, s_flags
        call report
        srr r2, r9
        la r1, s_base
        call report
        mov r2, r9
        la r1, s_bound
        call report
        li r4, 1000
        stmr r4
        svc 3                   ; a round trip through the handler
        rtmr r2
        la r1, s_timer
        call report
        ld r2, 0(r0)            ; the old PSW the trap stored
        la r1, s_oldflags
        call report
        ld r2, 2(r0)
        la r1, s_oldbase
        call report
        li r1, 0
        halt

handler:
        lpsw 0(r0)

report:
        push lr
        push r2
        call puts
        pop r1
        call puthex
        call newline
        pop lr
        ret

s_flags:    .string "flags (pushf): "
s_base:     .string "base (srr):  "
s_bound:    .string "bound (srr): "
s_timer:    .string "timer after an svc round trip (rtmr): "
s_oldflags: .string "old PSW flags in the trap area: "
s_oldbase:  .string "old PSW base in the trap area: "
        .space 32
stack_top:
        .include "common.inc"
