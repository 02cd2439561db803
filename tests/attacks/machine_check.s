; machine_check.s: a trap whose new PSW cannot run.
;
; The kernel's new PSW has a pc past its own bound, so the first trap ends
; in a machine check: of this guest only, never of the VMM.

_start:
        la sp, stack_top
        la r1, s_start
        call say
        la r1, _start
        call install
        li r1, 0x40
        st r1, 11(r0)           ; bound 0x40: the handler's pc is past it
        li r1, 0x50
        st r1, 9(r0)
        svc 1
        halt

s_start: .string "machine_check: new PSW pc past its bound, then svc"
        .space 16
stack_top:
        .include "common.inc"
