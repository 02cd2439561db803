; critical_kernel.s: a paravirtual kernel that holds a popf.  In real user
; mode, where pv runs the kernel, x86like's popf would silently miss IE
; without a trap: the scan at PV_HELLO refuses the guest before its second
; instruction (test_vmm_pv.sh).

        .include "../../programs/lib/pv.inc"

_start:
        hcall PV_HELLO
        li r1, 'k'
        hcall PV_CONSOLE
        popf r0
        li r1, 0
        hcall PV_HALT
