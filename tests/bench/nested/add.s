; add.s: rtmr.s's loop with add instead of rtmr, the baseline that
; tests/bench/nested.sh subtracts: the loop itself at each depth.
        .equ K, 100000          ; turns: K * 10 of them in all
_start: li r5, K
loop:   add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        add r2, r0, r0
        addi r5, r5, -1
        bnez r5, loop
        li r1, 0
        halt
