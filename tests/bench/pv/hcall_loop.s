; hcall_loop.s: rtmr_loop.s as a paravirtual kernel: 1 M timer reads by
; hcall PV_TIMER_READ under --vmm pv (tests/bench/pv.sh).
        .include "../../../programs/lib/pv.inc"
_start:
        hcall PV_HELLO
        li r2, 1000000
        mov r1, r0
loop:   hcall PV_TIMER_READ
        addi r5, r5, 1
        bne r5, r2, loop
        hcall PV_HALT
