; rtmr.s: the trap path of one privileged instruction, in a loop.  A kernel
; executes rtmr K * 10 times (ten a turn); add.s is the same loop with an
; add in its place, so the difference is what the rtmrs cost at each depth
; (tests/bench/nested.sh).
        .equ K, 100000          ; turns: K * 10 of them in all
_start: li r5, K
loop:   rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        rtmr r2
        addi r5, r5, -1
        bnez r5, loop
        li r1, 0
        halt
