; lpsw_kernel.s: a paravirtual kernel that executes lpsw after all.  Under
; `--vmm pv` that is the guest's fault: it is stopped, the pc and the
; instruction named (test_vmm_pv.sh), not emulated behind its back.

        .include "../../programs/lib/pv.inc"

_start:
        hcall PV_HELLO
        li r1, 'k'
        hcall PV_CONSOLE
        lpsw psw(r0)
        li r1, 0
        hcall PV_HALT
psw:    .word 1, _start, 0, 256, 0
