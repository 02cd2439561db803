; user_compute.s: a kernel that does almost nothing and a user process that
; computes: the guest where a hybrid VMM's efficiency shows.  Under
; programs/vmm/vmm_hybrid.s the kernel's few instructions are interpreted
; and the process's twenty thousand run directly; a VMM that interpreted
; user mode too would carry out every one of them (labs/lab3-hybrid grades
; its efficiency on this guest).  The process sums i*i for i = 1..2000,
; calling the kernel every 250 rounds to print a dot, and reports the sum's
; low six bits as its exit status through svc 0; the kernel's timer interrupts
; (IE on in user mode) land among the rounds and only count.
        .include "../../programs/lib/machine.inc"
        .equ ROUNDS, 2000
        .equ USER_SPACE, 0x1000

_start:
        li r1, M                ; the handler: supervisor, interrupts off
        st r1, NEW_PSW+0(r0)
        la r1, handler
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        li r1, USER_SPACE
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        lpsw user_psw(r0)       ; the process: user mode, IE on, timer 997

; The process: r2 = i, r3 = the sum, r4 = rounds to the next dot.
user:
        li r2, 1
        mov r3, r0
        li r4, 250
        li r6, ROUNDS
round:
        mul r5, r2, r2
        add r3, r3, r5
        addi r2, r2, 1
        addi r4, r4, -1
        bnez r4, no_dot
        svc 1                   ; a dot
        li r4, 250
no_dot:
        bge r6, r2, round
        andi r1, r3, 0x3f
        svc 0                   ; exit with r1

; The kernel: svc 1 prints a dot, svc 0 halts with the process's r1, the
; timer is counted and re-armed.
handler:
        ld r7, CAUSE(r0)
        li r8, C_TIMER
        beq r7, r8, tick
        ld r7, VALUE(r0)
        beqz r7, exit
        li r7, '.'
        out r7, 0
        lpsw OLD_PSW(r0)
tick:
        ld r7, ticks(r0)
        addi r7, r7, 1
        st r7, ticks(r0)
        li r7, 997
        st r7, OLD_PSW+4(r0)
        lpsw OLD_PSW(r0)
exit:
        li r7, '\n'
        out r7, 0
        ld r7, ticks(r0)        ; the ticks, as a letter (a: none)
        addi r7, r7, 'a'
        out r7, 0
        li r7, '\n'
        out r7, 0
        halt

user_psw: .word IE, user, 0, USER_SPACE, 997
ticks:    .word 0
