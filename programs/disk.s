; disk.s: the disk unit of ISA.md, driven by its completion interrupt.
;
; Run it with a disk: `trapeze run --disk FILE programs/disk.s` (FILE of at
; least 2 sectors; programs/disk.sectors says how many the test makes).
;
; A command is three outs (SECTOR, ADDR, CMD); it completes inside the out
; to CMD, and with CTRL bit 0 on the unit's IO interrupt comes before the
; next instruction, its value the unit's STATUS port.  The handler reads
; STATUS (which acknowledges the interrupt: the level drops) and records it;
; the main program waits for that record.  The transfer goes to *physical*
; memory, relocated by the unit's own DMA_BASE and bounded by DMA_BOUND:
; the unit's IOMMU.
;
; The driver (lib/disk.inc) is the one store.s uses.
;
; The program writes a message into sector 1, reads it back into another
; buffer and prints it, then shows a command that fails (a sector past the
; end) and one the IOMMU refuses (DMA_BOUND too small).

        .include "lib/machine.inc"

        .equ UNIT0, DISK0                ; unit 0's ports

_start:
        la sp, stack_top
        install_handler disk_handler
        li r1, 1
        out r1, UNIT0+DK_CTRL            ; interrupt on completion
        li r1, IE
        popf r1                          ; from here the handler runs

        la r1, s_size                    ; the unit's size
        call puts
        in r1, UNIT0+DK_SIZE
        call putdec
        call newline

        la r1, message                   ; sector 1 <- message
        li r2, CMD_WRITE
        call command
        call report
        la r1, copy                      ; copy <- sector 1
        li r2, CMD_READ
        call command
        call report
        la r1, s_read
        call puts
        la r1, copy
        call puts

        li r1, 0x7fff                    ; a sector past the end: ERROR
        out r1, UNIT0+DK_SECTOR
        li r1, CMD_READ
        call disk_start
        call report

        la r1, copy                      ; the IOMMU: relocate by copy,
        out r1, UNIT0+DK_DMA_BASE        ; bound to 255 words: refused
        li r1, 255
        out r1, UNIT0+DK_DMA_BOUND
        li r1, 1
        out r1, UNIT0+DK_SECTOR
        out r0, UNIT0+DK_ADDR
        li r1, CMD_READ
        call disk_start
        call report

        ld r1, disk_interrupts(r0)
        la r2, s_irqs
        push r1
        mov r1, r2
        call puts
        pop r1
        call putdec
        call newline
        li r1, 0
        halt

; command(r1 = buffer, r2 = CMD_READ or CMD_WRITE): sector 1 to or from the
; buffer, waited for.
command:
        push lr
        out r1, UNIT0+DK_ADDR
        li r1, 1
        out r1, UNIT0+DK_SECTOR
        mov r1, r2
        call disk_start
        pop lr
        ret

; report: "done" or "error", from the STATUS the handler saw.
report:
        push lr
        ld r1, disk_status(r0)
        andi r1, r1, S_ERROR
        la r2, s_done
        beqz r1, r_print
        la r2, s_error
r_print:
        mov r1, r2
        call puts
        pop lr
        ret

        .include "lib/console.inc"
        .include "lib/disk.inc"             ; disk_handler, disk_start

s_size:     .string "disk: unit 0 has "
s_done:     .string "disk: command done\n"
s_error:    .string "disk: command failed (ERROR)\n"
s_read:     .string "disk: read back: "
s_irqs:     .string "disk: completion interrupts: "
            .org 0x400
message:    .string "sector 1 says hello\n"
            .org 0x500
copy:       .space 256
            .space 64
stack_top:
