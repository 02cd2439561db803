; critical.s: a guest kernel that trusts popf and pushf, as x86 kernels did.
;
; The kernel keeps a shared counter that both its main loop and its timer
; interrupt handler increment.  The main loop protects its read-modify-write
; with `popf`: interrupts off (IE = 0) before, back on after, so that the
; timer can never land inside the critical section.  At the end it checks
; its own mode with `pushf` (bit M) and reports.
;
; On the bare machine, under any variant, the report is clean: no interrupt
; inside a critical section, no lost update, supervisor mode.
;
; Under a trap-and-emulate VMM on `x86like` the kernel runs in *real* user
; mode, where `popf` executes but silently ignores IE and `pushf` shows the
; real flags.  The interrupts the kernel turned off still arrive, inside the
; critical section, and updates are lost; `pushf` says "user".  `trapeze
; equiv --isa x86like programs/critical.s` points at the first `popf`.  On
; `pg` both instructions trap and are emulated, so the same VMM is exact;
; the hybrid VMM (`--vmm hvm`) interprets the kernel and is exact on all
; three variants.
;
; The program avoids `srr` on purpose: x86like executes it in user mode too
; (it would reveal the real relocation), and this program is about popf.

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ TICK, 37           ; instructions between timer interrupts
        .equ ROUNDS, 300        ; critical sections the main loop runs
        .equ KERNEL_SPACE, 0x4000      ; the kernel's address space (bound)

_start:
        la sp, stack_top
        li r1, M                ; the trap handler: supervisor, IE = 0
        st r1, NEW_PSW+0(r0)
        la r1, handler
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        li r1, KERNEL_SPACE
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        la r1, s_start
        call puts
        lpsw run_psw(r0)        ; interrupts on, the timer armed: go to main

main:
        li r8, ROUNDS           ; r8 = rounds left
        li r9, IE               ; r9 = flags with interrupts on
next_round:
        popf r0                 ; interrupts off: enter the critical section
        li r1, 1
        st r1, in_critical(r0)
        ld r2, counter(r0)      ; counter = counter + 1, slowly
        addi r2, r2, 1
        add r3, r2, r0
        add r3, r3, r0
        st r2, counter(r0)
        st r0, in_critical(r0)
        popf r9                 ; interrupts on again
        li r3, 5                ; some work outside the critical section
work:
        addi r3, r3, -1
        bnez r3, work
        addi r8, r8, -1
        bnez r8, next_round

        popf r0                 ; quiet for the report
        la r1, s_ticks
        ld r2, ticks(r0)
        call puts_dec
        la r1, s_inside
        ld r2, inside(r0)
        call puts_dec
        ld r2, counter(r0)      ; lost = ROUNDS + ticks - counter
        ld r3, ticks(r0)
        li r4, ROUNDS
        add r3, r3, r4
        sub r2, r3, r2
        la r1, s_lost
        call puts_dec
        la r1, s_mode
        call puts
        pushf r2                ; which mode am I in?
        andi r2, r2, M
        la r1, s_user
        beqz r2, say_mode
        la r1, s_super
say_mode:
        call puts
        ld r1, inside(r0)       ; exit status: the interrupts that broke in
        halt

; ---- The timer interrupt handler: counts, checks, re-arms, returns.
handler:
        st r1, save_r1(r0)
        st r2, save_r2(r0)
        ld r1, CAUSE(r0)
        andi r1, r1, 255
        li r2, C_TIMER
        bne r1, r2, unexpected
        ld r1, ticks(r0)
        addi r1, r1, 1
        st r1, ticks(r0)
        ld r1, counter(r0)      ; the handler's own update of the counter
        addi r1, r1, 1
        st r1, counter(r0)
        ld r1, in_critical(r0)  ; did we break into a critical section?
        beqz r1, handler_done
        ld r1, inside(r0)
        addi r1, r1, 1
        st r1, inside(r0)
handler_done:
        li r1, TICK             ; re-arm the timer in the interrupted PSW
        st r1, OLD_PSW+4(r0)
        ld r1, save_r1(r0)
        ld r2, save_r2(r0)
        lpsw OLD_PSW(r0)
unexpected:
        la r1, s_unexpected
        call puts
        li r1, 99
        halt

run_psw:  .word M+IE, main, 0, KERNEL_SPACE, TICK
counter:  .word 0
ticks:    .word 0
inside:   .word 0
in_critical: .word 0
save_r1:  .word 0
save_r2:  .word 0
s_start:  .string "kernel: counting with the timer kept out of critical sections\n"
s_ticks:  .string "timer interrupts: "
s_inside: .string "interrupts inside a critical section: "
s_lost:   .string "lost updates: "
s_mode:   .string "pushf says the kernel runs in "
s_user:   .string "user mode\n"
s_super:  .string "supervisor mode\n"
s_unexpected: .string "unexpected trap\n"

        .space 64
stack_top:

        .include "lib/console.inc"
