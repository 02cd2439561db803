; loop.s: a compute-bound supervisor loop (tests/bench/bt.sh): 10 M
; iterations of six ALU instructions and a branch, no system instruction.
_start:
        li r2, 10000000
loop:   addi r1, r1, 1
        add r3, r3, r1
        xor r4, r4, r3
        shli r5, r4, 3
        sub r6, r5, r1
        and r7, r6, r3
        bne r1, r2, loop
        halt
