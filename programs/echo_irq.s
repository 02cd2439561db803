; echo_irq.s: console input driven by IO interrupts instead of polling.
;
; Writing 1 to port 2 (console control) asks for IO interrupts: while
; input interrupts are on and unread input remains, an IO interrupt is
; pending, and it is taken before the next instruction whenever IE = 1.
; It is level-triggered: it stays pending until the input is read, so the
; handler reads one byte per interrupt and the next interrupt follows at
; once while bytes remain.  Meanwhile the main program just waits.
;
; The handler echoes each byte in upper case (to show that it, not a copy
; loop, did the work) and stops at a line holding only ".".

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs

_start:
        la sp, stack_top
        install_handler handler
        li r1, 1
        out r1, 2               ; console control: interrupts on input
        li r1, IE
        popf r1                 ; interrupts on: from here the handler runs
wait:
        ld r1, finished(r0)     ; the main program has nothing else to do
        beqz r1, wait
        popf r0                 ; interrupts off
        la r1, s_count
        call puts
        ld r1, interrupts(r0)
        call putdec
        la r1, s_count2
        call puts
        li r1, 0
        halt

; handler: one IO interrupt = one byte.  Saves the registers it uses.
handler:
        st r1, saved+1(r0)
        st r2, saved+2(r0)
        ld r1, CAUSE(r0)        ; only IO interrupts are expected
        andi r1, r1, 255
        li r2, C_IO
        bne r1, r2, unexpected
        ld r1, interrupts(r0)
        addi r1, r1, 1
        st r1, interrupts(r0)
        in r1, 1                ; the byte: reading it lowers the level
        ld r2, line_start(r0)
        beqz r2, h_echo
        li r2, '.'              ; a line starting with '.': the end
        bne r1, r2, h_echo
        out r0, 2               ; no more input interrupts
        li r2, 1
        st r2, finished(r0)
        b h_return
h_echo:
        li r2, 'a'              ; 'a'..'z' -> 'A'..'Z'
        blt r1, r2, h_out
        li r2, 'z'+1
        bge r1, r2, h_out
        addi r1, r1, 'A'-'a'
h_out:
        out r1, 0
        xori r1, r1, '\n'       ; line_start = (byte == '\n')
        sltu r1, r0, r1
        xori r1, r1, 1
        st r1, line_start(r0)
h_return:
        ld r1, saved+1(r0)
        ld r2, saved+2(r0)
        lpsw OLD_PSW(r0)
unexpected:
        li r1, 99
        halt

finished:   .word 0
interrupts: .word 0
line_start: .word 1
saved:      .space 3
s_count:    .string "echo_irq: "
s_count2:   .string " IO interrupts, one per byte read\n"

        .space 32
stack_top:

        .include "lib/console.inc"
