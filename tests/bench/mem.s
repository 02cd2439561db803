; mem.s: a load/store-bound loop for `make bench`.
;
; Each pass walks an array of 1024 words, loading, updating and storing
; every word (5 instructions an element: ld, add, st, addi, bne), plus 3
; instructions a pass; 60,000 passes: 307,380,000 + a few instructions.
; At the halt, r3 = the last word read and r1 = 0.

        .equ WORDS, 1024
        .equ PASSES, 60000

_start:
        li r10, PASSES
        li r9, WORDS
pass:
        mov r1, r0              ; r1 = index
element:
        ld r3, array(r1)
        add r3, r3, r1
        st r3, array(r1)
        addi r1, r1, 1
        bne r1, r9, element
        addi r10, r10, -1
        bnez r10, pass
        mov r1, r0
        halt

array:  .space WORDS
