; halt_early.s: stop the machine.
;
; A user program tries every system instruction (each traps to the kernel:
; PRIV), then the kernel halts at once with status 42.  Only this guest
; stops: the VMM and the other guests go on.

        .equ C_PRIV, 1
        .equ C_SVC, 5

_start:
        la sp, stack_top
        la r1, handler
        call install
        la r1, s_start
        call say
        lpsw user(r0)
u_code: halt
        lpsw 0(r0)
        pushf r1
        popf r0
        srr r1, r2
        stmr r0
        rtmr r1
        in r1, 1
        out r1, 0
        tlbflush
        svc 0

handler:
        ld r8, 5(r0)
        li r9, C_PRIV
        bne r8, r9, h_done
        ld r9, privs(r0)
        addi r9, r9, 1
        st r9, privs(r0)
        b skip_return
h_done: la r1, s_privs
        call puts
        ld r1, privs(r0)
        call putdec
        call newline
        li r1, 42
        halt

user:   .word 0, u_code, 0, 0x100000, 0
privs:  .word 0
s_start: .string "halt_early: user-mode system instructions, then halt"
s_privs: .string "PRIV traps: "
        .space 32
stack_top:
        .include "common.inc"
