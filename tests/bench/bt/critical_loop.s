; critical_loop.s: a supervisor loop with pushf and popf in it (tests/bench/bt.sh):
; 2 M iterations of pushf, popf and four ALU instructions and a branch.
_start:
        li r2, 2000000
loop:   addi r1, r1, 1
        pushf r3
        popf r3
        add r4, r4, r3
        xor r5, r5, r4
        andi r6, r5, 255
        bne r1, r2, loop
        halt
