; trap_path.s: the trap path, in a loop.  A kernel executes a privileged
; instruction (srr) 100,000 times: on the bare machine it just runs; under
; every monitor it traps, and each level below emulates or passes it up, so
; the run's time is the trap path's at that depth (tests/bench/levels.sh).
_start: li r5, 100000
loop:   srr r2, r3
        addi r5, r5, -1
        bnez r5, loop
        li r1, 0
        halt
