; unhandled_trap.s: a guest that wipes its own trap handler and traps.
;
; With the new PSW all zero, the trap stops the guest ("unhandled-trap"),
; on a bare machine and under the VMM alike; the VMM and the other guests
; go on.

_start:
        la sp, stack_top
        la r1, s_start
        call say
        st r0, 8(r0)
        st r0, 9(r0)
        st r0, 10(r0)
        st r0, 11(r0)
        st r0, 12(r0)
        svc 1
        halt

s_start: .string "unhandled_trap: new PSW all zero, then svc"
        .space 16
stack_top:
        .include "common.inc"
