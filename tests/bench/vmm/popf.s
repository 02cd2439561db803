; popf.s: the popf nanobenchmark of tests/bench/vmm.sh: 1,000,000 `popf` in
; supervisor mode, interrupts kept off (x86like's critical instruction: in
; real user mode it would silently ignore IE).
        .equ N, 1000000
_start:
        li r8, N
loop:   popf r0
        addi r8, r8, -1
        bnez r8, loop
        halt
