; port_sweep.s: every kind of port, in and out.
;
; The kernel writes to and reads from the console ports, the reserved ports
; 3..15, device ports, and the ports whose 16-bit immediates sign-extend
; to 0xffff8000 and 0xffffffff.  It turns console interrupts on and off.
; Its own console is the only one it can touch: the other guests' output
; and input are not disturbed, and without devices the rest read 0.

        .macro probe port
        out r5, \port
        in r6, \port
        add r7, r7, r6
        .endm

_start:
        la sp, stack_top
        la r1, s_start
        call say
        li r5, 0x41             ; 'A' (port 0 prints it)
        probe 1
        probe 2
        probe 3
        probe 15
        probe 16
        probe 17
        probe 255
        probe 0x7fff
        probe -32768            ; port 0xffff8000
        probe -1                ; port 0xffffffff
        li r5, 1
        out r5, 2               ; console interrupts on: no input, no interrupt
        out r0, 2
        out r5, 0               ; a byte 0x01
        la r1, s_sum
        call puts
        mov r1, r7
        call putdec
        call newline
        li r1, 0
        halt

s_start: .string "port_sweep: out and in on ports 1..0xffff"
s_sum:   .string "sum of everything read: "
        .space 16
stack_top:
        .include "common.inc"
