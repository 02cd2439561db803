; empty_loop.s: the baseline of tests/bench/pv.sh: 1 M iterations of the
; loop the others run, without their timer read.
_start:
        li r2, 1000000
loop:   addi r1, r1, 1
        bne r1, r2, loop
        halt
