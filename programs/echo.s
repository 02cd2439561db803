; echo.s: copies console input to console output, then counts it.
;
; Port 1 is console input: `in rX, 1` gives the next input byte, or -1 when
; there is none left.  (`trapeze run --input FILE` supplies the bytes; the
; tests use echo.input.)  This program polls: it asks again and again,
; with interrupts off.  Each line is echoed with a "> " in front, and at
; the end the program prints how many lines and bytes it read.

_start:
        la sp, stack_top
        mov r8, r0              ; r8 = bytes read
        mov r9, r0              ; r9 = lines read
        li r10, 1               ; r10 = 1 at the start of a line
next:
        in r1, 1                ; r1 = next byte, or -1
        blt r1, r0, done
        addi r8, r8, 1
        beqz r10, copy
        mov r11, r1             ; a new line starts: prefix it
        la r1, s_prompt
        call puts
        mov r1, r11
        mov r10, r0
copy:
        out r1, 0
        li r2, '\n'
        bne r1, r2, next
        addi r9, r9, 1          ; end of a line
        li r10, 1
        b next
done:
        beqz r10, count         ; a last line without '\n': end it
        b counted
count:
        addi r9, r9, 1
        call newline
counted:
        la r1, s_lines
        call puts
        mov r1, r9
        call putdec
        la r1, s_bytes
        call puts
        mov r1, r8
        call putdec
        la r1, s_end
        call puts
        li r1, 0
        halt

s_prompt: .string "> "
s_lines:  .string "echo: "
s_bytes:  .string " lines, "
s_end:    .string " bytes\n"

        .space 32
stack_top:

        .include "lib/console.inc"
