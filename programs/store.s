; store.s: a small record store on disk unit 0, over an interrupt-driven
; driver, on the bare machine.
;
; Run it on a disk made by `trapeze mkdisk` (store.disk says how the test
; makes it: 16 sectors holding the host file store/motd.txt as a record):
;
;   trapeze mkdisk -o d.img --sectors 16 programs/store/motd.txt
;   trapeze run --disk d.img programs/store.s
;   trapeze mkdisk --list d.img           ; the records, read on the host
;
; The driver (lib/disk.inc): disk_rw starts one command with CTRL bit 0 on
; and waits; the completion interrupt's handler reads STATUS (acknowledging
; it) into disk_status, which ends the wait.  The store itself, and the
; on-disk layout, are lib/store.inc, shared with toyos/toyos_store.s, where
; the same store is a user process over the kernel's disk system calls:
; it mounts the disk (formats it when sector 0 holds no directory), lists
; the records, appends two, lists again and reads three back by name (one
; missing).

        .include "lib/machine.inc"

        .equ STORE_BASE, 0              ; lib/store.inc runs where it is placed
        .equ STORE_DIR, dir
        .equ STORE_SECTOR, sector

        .macro st_read
        li r3, CMD_READ
        call disk_rw
        .endm
        .macro st_write
        li r3, CMD_WRITE
        call disk_rw
        .endm
        .macro st_line                  ; the console needs no line
        .endm
        .macro st_puts
        call puts
        .endm
        .macro st_putc
        call putc
        .endm
        .macro st_putdec
        call putdec
        .endm
        .macro st_flush
        .endm
        .macro st_exit
        halt
        .endm

_start:
        la sp, stack_top
        install_handler disk_handler
        li r1, 1
        out r1, DISK0+DK_CTRL           ; completion interrupts on
        li r1, IE
        popf r1

        call store_demo
        la r1, s_irqs
        call puts
        ld r1, disk_interrupts(r0)
        call putdec
        call newline
        li r1, 0
        halt

        .include "lib/store.inc"            ; store_demo
        .include "lib/console.inc"
        .include "lib/disk.inc"             ; disk_handler, disk_rw

s_irqs:     .string "store: completion interrupts: "
            .org 0x1000
dir:        .space 256
sector:     .space 256
            .space 128
stack_top:
