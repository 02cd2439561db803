; rtmr_loop.s: 1 M timer reads by rtmr, a privileged instruction: under
; te each traps and is emulated (tests/bench/pv.sh).
_start:
        li r2, 1000000
loop:   rtmr r3
        addi r1, r1, 1
        bne r1, r2, loop
        halt
