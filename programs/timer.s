; timer.s: two user tasks share the processor; the timer preempts them.
;
; A tiny kernel runs task A and task B in user mode with interrupts on
; (IE = 1) and a timer of QUANTUM instructions.  When the timer runs out,
; the TIMER interrupt brings control to the kernel, which saves the running
; task (its registers and its PSW) in its task control block (TCB), and
; resumes the other one with a fresh quantum: round-robin scheduling.
;
; The timer is part of the PSW: the interrupted PSW is saved with the
; instructions left (0 after a TIMER interrupt), and loading a PSW loads
; its timer.  So the kernel's own instructions are never counted (its PSW,
; the trap area's new PSW, has timer 0), a system call (svc) does not
; disturb the task's quantum, and each slice is exactly QUANTUM user
; instructions long: the output below is the same on every run.
;
;   TCB (TCB_SIZE words)
;   +0 .. +15   registers (r0's slot unused)
;   +16 .. +20  PSW: flags, pc, base, bound, timer
;   +21         1 while the task is alive
;   +22         the task's name: the address of a string

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ SYS_EXIT, 0        ; system calls
        .equ SYS_PUTC, 1
        .equ SYS_PUTDEC, 2
        .equ NSYS, 3
        .equ QUANTUM, 500       ; user instructions per time slice
        .equ T_PSW, 16          ; TCB fields
        .equ T_ALIVE, 21
        .equ T_NAME, 22
        .equ TCB_SIZE, 23

_start:
        la sp, stack_top
        install_handler handler

        la r1, tcb_a            ; create the two tasks
        la r2, task_a
        la r4, stack_a_top
        la r5, s_a
        call new_task
        la r1, tcb_b
        la r2, task_b
        la r4, stack_b_top
        la r5, s_b
        call new_task

        la r1, s_intro
        call puts
        la r1, tcb_a            ; start with A
        st r1, current(r0)
        b run_current

; new_task: fills the TCB r1 for a task starting at r2 with stack r4,
; named r5; r3 = the memory size (the task's bound).
new_task:
        st r2, T_PSW+1(r1)      ; pc
        li r2, IE
        st r2, T_PSW+0(r1)      ; flags: user mode, interrupts on
        st r0, T_PSW+2(r1)      ; base 0: the tasks share the kernel's
        st r3, T_PSW+3(r1)      ; addresses (see usermode.s for relocation)
        li r2, QUANTUM
        st r2, T_PSW+4(r1)      ; timer: the first quantum
        st r4, 14(r1)           ; sp
        li r2, 1
        st r2, T_ALIVE(r1)
        st r5, T_NAME(r1)
        ret

; ---- The trap handler.
handler:
        st r1, scratch(r0)      ; save the task's registers in its TCB
        ld r1, current(r0)
        st r2, 2(r1)
        st r3, 3(r1)
        st r4, 4(r1)
        st r5, 5(r1)
        st r6, 6(r1)
        st r7, 7(r1)
        st r8, 8(r1)
        st r9, 9(r1)
        st r10, 10(r1)
        st r11, 11(r1)
        st r12, 12(r1)
        st r13, 13(r1)
        st r14, 14(r1)
        st r15, 15(r1)
        ld r2, scratch(r0)
        st r2, 1(r1)
        ld r2, OLD_PSW+0(r0)    ; and its PSW
        st r2, T_PSW+0(r1)
        ld r2, OLD_PSW+1(r0)
        st r2, T_PSW+1(r1)
        ld r2, OLD_PSW+2(r0)
        st r2, T_PSW+2(r1)
        ld r2, OLD_PSW+3(r0)
        st r2, T_PSW+3(r1)
        ld r2, OLD_PSW+4(r0)
        st r2, T_PSW+4(r1)
        la sp, stack_top
        mov r8, r1              ; r8 = the current TCB

        ld r1, CAUSE(r0)
        andi r1, r1, 255
        li r2, C_TIMER
        beq r1, r2, preempt
        li r2, C_SVC
        bne r1, r2, kill
        ld r2, VALUE(r0)
        li r3, NSYS
        bgeu r2, r3, kill
        ld r2, syscalls(r2)
        jr r2

sys_putc:
        ld r1, 1(r8)
        call putc
        b run_current           ; same task, the rest of its quantum
sys_putdec:
        ld r1, 1(r8)
        call putdec
        b run_current
sys_exit:
        la r1, s_exit
        call puts
        b finish
kill:
        la r1, s_killed
        call puts
finish:
        st r0, T_ALIVE(r8)
        b schedule

preempt:
        ld r1, ticks(r0)
        addi r1, r1, 1
        st r1, ticks(r0)
; schedule: the other task if it is alive, else this one if it is, else
; the end.  The chosen task gets a fresh quantum.
schedule:
        ld r9, current(r0)      ; r9 = this task's TCB
        la r10, tcb_a           ; r10 = the other one
        bne r9, r10, sched_try
        la r10, tcb_b
sched_try:
        ld r1, T_ALIVE(r10)
        bnez r1, sched_switch
        ld r1, T_ALIVE(r9)
        beqz r1, all_done
        b sched_go              ; only this task is left: keep it
sched_switch:
        st r10, current(r0)
        call newline            ; a new line for each slice: "NAME:"
        ld r1, T_NAME(r10)
        call puts
        li r1, ':'
        call putc
sched_go:
        ld r1, current(r0)
        li r2, QUANTUM
        st r2, T_PSW+4(r1)

; run_current: loads the current task's registers and PSW.  Its PSW goes
; through next_psw, because lpsw needs an address after every register
; already holds the task's value.
run_current:
        ld r1, current(r0)
        ld r2, T_PSW+0(r1)
        st r2, next_psw+0(r0)
        ld r2, T_PSW+1(r1)
        st r2, next_psw+1(r0)
        ld r2, T_PSW+2(r1)
        st r2, next_psw+2(r0)
        ld r2, T_PSW+3(r1)
        st r2, next_psw+3(r0)
        ld r2, T_PSW+4(r1)
        st r2, next_psw+4(r0)
        ld r2, 2(r1)
        ld r3, 3(r1)
        ld r4, 4(r1)
        ld r5, 5(r1)
        ld r6, 6(r1)
        ld r7, 7(r1)
        ld r8, 8(r1)
        ld r9, 9(r1)
        ld r10, 10(r1)
        ld r11, 11(r1)
        ld r12, 12(r1)
        ld r13, 13(r1)
        ld r14, 14(r1)
        ld r15, 15(r1)
        ld r1, 1(r1)
        lpsw next_psw(r0)

all_done:
        la r1, s_ticks
        call puts
        ld r1, ticks(r0)
        call putdec
        la r1, s_ticks2
        call puts
        li r1, 0
        halt

; ---- Task A: prints 1 .. 12, with some work before each number.
task_a:
        li r8, 1                ; r8 = i
ta_next:
        li r9, 40               ; the work: 40 turns of a 3-instruction loop
ta_work:
        add r10, r10, r9
        addi r9, r9, -1
        bnez r9, ta_work
        li r1, ' '
        svc SYS_PUTC
        mov r1, r8
        svc SYS_PUTDEC
        addi r8, r8, 1
        slti r1, r8, 13
        bnez r1, ta_next
        svc SYS_EXIT

; ---- Task B: prints the squares 1 .. 144, with more work before each.
task_b:
        li r8, 1
tb_next:
        li r9, 70
tb_work:
        xor r10, r10, r9
        addi r9, r9, -1
        bnez r9, tb_work
        li r1, ' '
        svc SYS_PUTC
        mul r1, r8, r8
        svc SYS_PUTDEC
        addi r8, r8, 1
        slti r1, r8, 13
        bnez r1, tb_next
        svc SYS_EXIT

; ---- Kernel data.
current:   .word 0              ; the running task's TCB
ticks:     .word 0
scratch:   .word 0
next_psw:  .space 5
syscalls:  .word sys_exit, sys_putc, sys_putdec
tcb_a:     .space TCB_SIZE
tcb_b:     .space TCB_SIZE
s_a:       .string "A"
s_b:       .string "B"
s_intro:   .string "two tasks, preempted every 500 instructions\nA:"
s_exit:    .string " (exit)"
s_killed:  .string " (killed)"
s_ticks:   .string "\nkernel: both tasks done after "
s_ticks2:  .string " timer interrupts\n"

        .space 16
stack_a_top:
        .space 16
stack_b_top:
        .space 48
stack_top:

        .include "lib/console.inc"
