; alu.s: an ALU-bound loop for `make bench`.
;
; 11 instructions a turn (register arithmetic, shifts, a multiply, a
; branch), 30,000,000 turns: 330 million instructions and a few.  The mix
; keeps every value depending on the last, so nothing is dead.  At the
; halt, r3 holds a checksum (compare it between builds) and r1 = 0.

        .equ TURNS, 30000000

_start:
        li r1, 0x12345678
        li r2, 0x9abcdef0
        mov r3, r0
        li r10, TURNS
loop:
        add r3, r3, r1
        xor r1, r1, r3
        shli r4, r1, 3
        shri r5, r2, 5
        sub r2, r2, r4
        or r6, r4, r5
        and r7, r6, r1
        mul r8, r7, r3
        add r3, r3, r8
        addi r10, r10, -1
        bnez r10, loop
        mov r1, r0
        halt
