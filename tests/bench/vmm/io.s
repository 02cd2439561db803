; io.s: the port-I/O nanobenchmark of tests/bench/vmm.sh: 1,000,000 reads of
; the console control port (which reads 0) in supervisor mode.
        .equ N, 1000000
_start:
        li r8, N
loop:   in r1, 2
        addi r8, r8, -1
        bnez r8, loop
        halt
