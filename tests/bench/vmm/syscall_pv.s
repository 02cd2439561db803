; syscall_pv.s: syscall.s as a paravirtual kernel (--vmm pv, ../../../programs/lib/pv.inc):
; its one lpsw into user mode and each return from the handler are hcall
; PV_PSW, its halt hcall PV_HALT; the user loop and its 1,000,000 `svc 0`
; are syscall.s's.
        .include "../../../programs/lib/machine.inc"
        .include "nano.inc"
        .include "../../../programs/lib/pv.inc"
        .equ N, 1000000
_start:
        hcall PV_HELLO          ; r2 = the memory size
        mov r3, r2
        la r1, shared
        hcall PV_SHARED
        li r1, M                ; the handler's PSW: install_handler without srr
        st r1, NEW_PSW+0(r0)
        la r1, handler
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        st r3, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        st r0, frame+0(r0)      ; user mode, interrupts off, the whole memory
        la r1, user_loop
        st r1, frame+1(r0)
        st r0, frame+2(r0)
        st r3, frame+3(r0)
        st r0, frame+4(r0)
        li r8, N
        hcall PV_PSW
        svc_loop                ; user_loop, and handler's head
        ld r1, OLD_PSW+0(r0)    ; back where the svc left: the saved PSW as the frame
        st r1, frame+0(r0)
        ld r1, OLD_PSW+1(r0)
        st r1, frame+1(r0)
        ld r1, OLD_PSW+2(r0)
        st r1, frame+2(r0)
        ld r1, OLD_PSW+3(r0)
        st r1, frame+3(r0)
        ld r1, OLD_PSW+4(r0)
        st r1, frame+4(r0)
        hcall PV_PSW
done:
        li r1, 0
        hcall PV_HALT
shared: .word 1, 0              ; the event mask (interrupts off), pending
frame:  .space 5                ; PV_SH_PSW
