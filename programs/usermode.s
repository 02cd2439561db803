; usermode.s: a tiny kernel that runs user programs in relocated regions.
;
; The kernel runs in supervisor mode.  A user program runs in user mode
; with a relocation: base = where it sits in physical memory, bound = its
; size.  It sees virtual addresses 0 .. bound-1 only, cannot execute a
; system instruction, and asks the kernel for service with `svc N`:
;
;   svc 0  exit     r1 = exit status
;   svc 1  putc     prints the character r1
;   svc 2  puts     prints the string at virtual address r1; r1 = 0, or -1
;                   when the string is not inside the program's space
;   svc 3  putdec   prints r1 in decimal
;
; Any other trap from a user program kills it.  The same program runs
; twice, at two physical places, and prints the same thing: it never knows
; where it is.
;
;   physical memory
;   0      16                                         COPY_AT
;   +------+------------------------------------------+------ - -+---------+
;   | trap | kernel code and data, user programs as   |          | copy of |
;   | area | assembled (prog_primes, prog_out, ...)   |          | primes  |
;   +------+------------------------------------------+------ - -+---------+

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ SYS_EXIT, 0        ; system call numbers
        .equ SYS_PUTC, 1
        .equ SYS_PUTS, 2
        .equ SYS_PUTDEC, 3
        .equ NSYS, 4
        .equ COPY_AT, 0x6000    ; where the copy of prog_primes goes

_start:
        la sp, stack_top
        install_handler handler

        la r1, prog_primes      ; 1. primes, where the assembler put it
        li r2, prog_primes_end-prog_primes
        la r3, n_primes
        call run_user

        la r1, prog_primes      ; 2. the same program, copied elsewhere
        li r2, COPY_AT
        li r3, prog_primes_end-prog_primes
        call copy
        li r1, COPY_AT
        li r2, prog_primes_end-prog_primes
        la r3, n_primes
        call run_user

        la r1, prog_out         ; 3. a program that writes to a port itself
        li r2, prog_out_end-prog_out
        la r3, n_out
        call run_user

        la r1, prog_peek        ; 4. a program that reads beyond its bound
        li r2, prog_peek_end-prog_peek
        la r3, n_peek
        call run_user

        la r1, prog_badptr      ; 5. a program that passes a bad string
        li r2, prog_badptr_end-prog_badptr
        la r3, n_badptr
        call run_user

        la r1, s_done
        call puts
        li r1, 0
        halt

; run_user: runs the user program at physical r1 with bound r2 (named by
; the string r3) until it exits or is killed; returns its exit status in
; r1 (-1 when killed).
;
; The kernel's own registers do not survive user mode, so everything the
; kernel needs afterwards is on its stack, and sp itself in kernel_sp.
run_user:
        push lr
        push r8
        push r9
        mov r8, r1
        mov r9, r2
        la r1, s_run            ; "kernel: run NAME at base B, bound N"
        call puts
        mov r1, r3
        call puts
        la r1, s_base
        call puts
        mov r1, r8
        call puthex
        la r1, s_bound
        call puts
        mov r1, r9
        call putdec
        call newline
        st r8, user_psw+2(r0)   ; base
        st r9, user_psw+3(r0)   ; bound
        st sp, kernel_sp(r0)
        mov sp, r9              ; the user's stack starts at its top
        mov r1, r0              ; and nothing of the kernel leaks into it
        mov r2, r0
        mov r3, r0
        mov r4, r0
        mov r5, r0
        mov r6, r0
        mov r7, r0
        mov r8, r0
        mov r9, r0
        mov r10, r0
        mov r11, r0
        mov r12, r0
        mov r13, r0
        mov r15, r0
        lpsw user_psw(r0)       ; to user mode at virtual 0
; The handler comes back here, in supervisor mode, with r1 = exit status.
user_return:
        ld sp, kernel_sp(r0)
        mov r8, r1
        la r1, s_status
        call puts
        mov r1, r8
        call putdec
        call newline
        mov r1, r8
        pop r9
        pop r8
        pop lr
        ret

; copy: copies r3 words from physical r1 to physical r2.
copy:
        beqz r3, copy_done
        ld r4, 0(r1)
        st r4, 0(r2)
        addi r1, r1, 1
        addi r2, r2, 1
        addi r3, r3, -1
        b copy
copy_done:
        ret

; ---- The trap handler: system calls, and death for anything else.
handler:
        st r1, uregs+1(r0)      ; save the user's registers
        st r2, uregs+2(r0)
        st r3, uregs+3(r0)
        st r4, uregs+4(r0)
        st r5, uregs+5(r0)
        st r6, uregs+6(r0)
        st r7, uregs+7(r0)
        st r8, uregs+8(r0)
        st r9, uregs+9(r0)
        st r10, uregs+10(r0)
        st r11, uregs+11(r0)
        st r12, uregs+12(r0)
        st r13, uregs+13(r0)
        st r14, uregs+14(r0)
        st r15, uregs+15(r0)
        la sp, kstack_top
        ld r1, CAUSE(r0)
        andi r8, r1, 255        ; r8 = cause
        li r1, C_SVC
        bne r8, r1, kill
        ld r9, VALUE(r0)        ; r9 = system call number
        li r1, NSYS
        bgeu r9, r1, kill
        ld r1, syscalls(r9)     ; jump through the table
        jr r1

sys_exit:
        ld r1, uregs+1(r0)
        jmp user_return
sys_putc:
        ld r1, uregs+1(r0)
        call putc
        b resume
sys_putdec:
        ld r1, uregs+1(r0)
        call putdec
        b resume
; puts: the string is given by a *virtual* address.  The kernel checks that
; all of it, up to its zero, lies below the program's bound before printing
; any of it, and adds the base to reach it.
sys_puts:
        ld r10, OLD_PSW+2(r0)   ; r10 = the program's base
        ld r11, OLD_PSW+3(r0)   ; r11 = its bound
        ld r9, uregs+1(r0)      ; r9 = virtual address
sp_check:
        bgeu r9, r11, sp_bad    ; outside the program's space
        add r1, r10, r9
        ld r1, 0(r1)
        addi r9, r9, 1
        bnez r1, sp_check
        ld r9, uregs+1(r0)      ; all inside: print it
sp_print:
        add r1, r10, r9
        ld r1, 0(r1)
        beqz r1, sp_ok
        call putc
        addi r9, r9, 1
        b sp_print
sp_ok:
        st r0, uregs+1(r0)      ; result: 0
        b resume
sp_bad:
        la r1, s_refused
        call puts
        li r1, -1
        st r1, uregs+1(r0)      ; result: -1
; resume: back to the user program, at the instruction after its svc.
resume:
        restore_regs uregs
        lpsw OLD_PSW(r0)

; kill: any trap but a known svc ends the program.
kill:
        la r1, s_killed
        call puts
        ld r1, cause_names(r8)
        call puts
        la r1, s_value
        call puts
        ld r1, VALUE(r0)
        call puthex
        la r1, s_pc
        call puts
        ld r1, OLD_PSW+1(r0)
        call puthex
        call newline
        li r1, -1
        jmp user_return

; ---- User program "primes": prints the primes below 60 and exits with
; their number.  It runs at virtual 0 wherever it is loaded, so an absolute
; address in it (li of a data address, call) is written relative to its
; start: `label - prog_primes`.  Branches are relative and need no care.
prog_primes:
        li r1, up_hello-prog_primes
        svc SYS_PUTS
        li r8, 2                ; r8 = the candidate
        mov r12, r0             ; r12 = primes found
up_next:
        mov r1, r8
        call up_is_prime-prog_primes
        beqz r1, up_skip
        addi r12, r12, 1
        mov r1, r8
        svc SYS_PUTDEC
        li r1, ' '
        svc SYS_PUTC
up_skip:
        addi r8, r8, 1
        slti r1, r8, 60
        bnez r1, up_next
        li r1, '\n'
        svc SYS_PUTC
        mov r1, r12
        svc SYS_EXIT
; up_is_prime: r1 = 1 when r1 (>= 2) is prime, else 0.
up_is_prime:
        push r8                 ; callee-saved: the user's own stack
        li r8, 2                ; r8 = trial divisor
uip_try:
        mul r2, r8, r8
        blt r1, r2, uip_yes     ; divisor squared > r1: no factor
        rem r2, r1, r8
        beqz r2, uip_no
        addi r8, r8, 1
        b uip_try
uip_yes:
        li r1, 1
        pop r8
        ret
uip_no:
        mov r1, r0
        pop r8
        ret
up_hello:
        .string "hello from user mode; primes below 60:\n"
        .space 8                ; the user stack (sp starts at the bound)
prog_primes_end:

; ---- User program "writes-port": the console belongs to the kernel.
prog_out:
        li r1, '!'
        out r1, 0               ; privileged in user mode: PRIV
        svc SYS_EXIT            ; never reached
prog_out_end:

; ---- User program "reads-beyond": nothing exists beyond the bound.
prog_peek:
        li r2, 0x100            ; this program is 3 words long
        ld r1, 0(r2)            ; MEM (bound)
        svc SYS_EXIT            ; never reached
prog_peek_end:

; ---- User program "bad-pointer": a string without its zero inside the space.
prog_badptr:
        li r1, ub_text-prog_badptr
        svc SYS_PUTS            ; the kernel refuses: r1 = -1
        sub r1, r0, r1          ; exit status 1
        svc SYS_EXIT
ub_text:
        .word 'o', 'o', 'p', 's' ; the bound comes before any zero
prog_badptr_end:

; ---- Kernel data.
;                 flags  pc  base  bound  timer
user_psw:  .word  0,     0,  0,    0,     0
kernel_sp: .word 0
uregs:     .space 16
syscalls:  .word sys_exit, sys_putc, sys_puts, sys_putdec

cause_names: .word s_c0, s_c1, s_c2, s_c3, s_c4, s_c5, s_c6, s_c7, s_c8
s_c0:   .string "?"
s_c1:   .string "PRIV"
s_c2:   .string "MEM"
s_c3:   .string "ILL"
s_c4:   .string "DIV"
s_c5:   .string "SVC (unknown call)"
s_c6:   .string "HCALL"
s_c7:   .string "TIMER"
s_c8:   .string "IO"

n_primes: .string "primes"
n_out:    .string "writes-port"
n_peek:   .string "reads-beyond"
n_badptr: .string "bad-pointer"
s_run:    .string "kernel: run "
s_base:   .string " at base "
s_bound:  .string ", bound "
s_status: .string "kernel: exit status "
s_killed: .string "kernel: killed by trap "
s_value:  .string ", value "
s_pc:     .string ", at virtual pc "
s_done:   .string "kernel: all done\n"
s_refused: .string "kernel: puts refused: the string is not inside the program's space\n"

        .space 48
stack_top:
        .space 48
kstack_top:

        .include "lib/console.inc"
