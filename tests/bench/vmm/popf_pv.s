; popf_pv.s: popf.s as a paravirtual kernel: each `popf` (interrupts kept
; off) is a store of 1 to the event mask in the area shared with the vmm,
; Xen's evtchn_upcall_mask: no trap at all.
        .include "../../../programs/lib/pv.inc"
        .equ N, 1000000
_start:
        hcall PV_HELLO
        la r1, shared
        hcall PV_SHARED
        li r8, N
        li r2, 1
loop:   st r2, shared+PV_SH_MASK(r0)
        addi r8, r8, -1
        bnez r8, loop
        li r1, 0
        hcall PV_HALT
shared: .word 1, 0
        .space 5
