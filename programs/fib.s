; fib.s: the Fibonacci numbers fib(0) .. fib(20), one per line.
;
;   fib(0) = 0, fib(1) = 1, fib(n) = fib(n-1) + fib(n-2)
;
; The numbers are computed by walking a pair (fib(n), fib(n+1)) forward and
; printed in decimal by `putdec` (lib/console.inc), a subroutine that uses
; the stack: every program that calls subroutines first points sp at a
; stack area of its own.

        .equ LAST, 20           ; print up to fib(LAST)

_start:
        la sp, stack_top        ; the stack grows down from stack_top
        mov r8, r0              ; r8  = n
        mov r9, r0              ; r9  = fib(n)
        li r10, 1               ; r10 = fib(n + 1)
loop:
        la r1, s_fib            ; "fib("
        call puts
        mov r1, r8
        call putdec
        la r1, s_is             ; ") = "
        call puts
        mov r1, r9
        call putdec
        call newline
        add r11, r9, r10        ; step the pair: (fib(n+1), fib(n) + fib(n+1))
        mov r9, r10
        mov r10, r11
        addi r8, r8, 1
        slti r1, r8, LAST + 1   ; n <= LAST ?
        bnez r1, loop
        li r1, 0                ; exit status 0
        halt

s_fib:  .string "fib("
s_is:   .string ") = "

        .space 32               ; the stack: putdec needs one word per digit
stack_top:

        .include "lib/console.inc"
