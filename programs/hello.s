; hello.s: the smallest complete Trapeze program.
;
; It prints a greeting on the console and halts.  The console is port 0:
; `out rX, 0` writes the low 8 bits of rX as one byte.  A .string holds one
; character per word and ends with a zero word, so printing it is a loop
; that loads a word, stops at zero, and writes the rest one by one.
;
; The machine starts at `_start` in supervisor mode; `halt` stops it and
; the run's exit status is r1.

_start:
        la r2, greeting         ; r2 = address of the next character
next:
        ld r1, 0(r2)            ; r1 = mem[r2]
        beqz r1, done           ; the zero word ends the string
        out r1, 0               ; print it
        addi r2, r2, 1
        b next
done:
        li r1, 0                ; exit status 0: success
        halt

greeting:
        .string "Hello from Trapeze!\n"
