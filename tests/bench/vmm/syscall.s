; syscall.s: the system-call nanobenchmark of tests/bench/vmm.sh: a user
; loop of 1,000,000 `svc 0`, each returned from at once by the kernel's
; handler (lpsw of the saved PSW), then `svc 1` halts.
        .include "../../../programs/lib/machine.inc"
        .include "nano.inc"
        .equ N, 1000000
_start:
        install_handler handler ; leaves r3 = the memory size
        st r0, user_psw+0(r0)   ; user mode, interrupts off, the whole memory
        la r1, user_loop
        st r1, user_psw+1(r0)
        st r0, user_psw+2(r0)
        st r3, user_psw+3(r0)
        st r0, user_psw+4(r0)
        li r8, N
        lpsw user_psw(r0)
        svc_loop                ; user_loop, and handler's head
        lpsw OLD_PSW(r0)
done:
        li r1, 0
        halt
user_psw: .space 5
