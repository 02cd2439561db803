; store.s: a small record store on disk unit 0, over an interrupt-driven
; driver.
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
; it) into disk_status, which ends the wait.  The store mounts the disk (formats it when
; sector 0 holds no directory), lists the records, appends two, lists
; again and reads three back by name (one missing).
;
; The on-disk layout (tui/cmd_mkdisk.c builds the same):
;
;   sector 0, the directory            sectors 1 ..
;   word 0      magic 0x52454353        each record's data from its first
;   word 1      records (at most 15)    sector on, one byte per word,
;   word 2      the first free sector   length words (the rest of its
;   16 + 16i .. entry i:                last sector unused)
;     +0 .. +11   name, one character a word, zero-terminated
;     +12         first sector
;     +13         length in words

        .include "lib/machine.inc"

        .equ U, DISK0
        .equ MAGIC_HI, 0x5245           ; 0x52454353, "RECS"
        .equ MAGIC_LO, 0x4353
        .equ D_COUNT, 1                 ; directory words
        .equ D_FREE, 2
        .equ ENTRIES, 16
        .equ ENTRY_WORDS, 16
        .equ E_FIRST, 12
        .equ E_LENGTH, 13
        .equ MAX_RECORDS, 15
        .equ NAME_WORDS, 12

_start:
        la sp, stack_top
        install_handler disk_handler
        li r1, 1
        out r1, U+DK_CTRL               ; completion interrupts on
        li r1, IE
        popf r1

        call mount
        call list
        la r1, n_greeting
        la r2, t_greeting
        call put
        la r1, n_numbers
        la r2, t_numbers
        call put
        call list
        la r1, n_greeting
        call get
        la r1, n_motd
        call get
        la r1, n_missing
        call get

        la r1, s_irqs
        call puts
        ld r1, disk_interrupts(r0)
        call putdec
        call newline
        li r1, 0
        halt

; ---- The store -------------------------------------------------------------------

; mount: the directory into `dir`; a disk without one is formatted.
mount:
        push lr
        mov r1, r0
        la r2, dir
        li r3, CMD_READ
        call disk_rw
        bnez r1, io_error
        ld r1, dir(r0)
        lui r2, MAGIC_HI
        ori r2, r2, MAGIC_LO
        beq r1, r2, m_done
        la r1, s_format
        call puts
        la r1, dir                      ; an empty directory
        li r3, SECTOR_WORDS
m_zero:
        st r0, 0(r1)
        addi r1, r1, 1
        addi r3, r3, -1
        bnez r3, m_zero
        lui r2, MAGIC_HI
        ori r2, r2, MAGIC_LO
        st r2, dir(r0)
        li r1, 1
        st r1, dir+D_FREE(r0)
        call write_dir
m_done:
        pop lr
        ret

write_dir:
        push lr
        mov r1, r0
        la r2, dir
        li r3, CMD_WRITE
        call disk_rw
        bnez r1, io_error
        pop lr
        ret

; list: "store: N records", then "  name (L words)" each.
list:
        push lr
        push r8
        la r1, s_store
        call puts
        ld r1, dir+D_COUNT(r0)
        call putdec
        la r1, s_records
        call puts
        mov r8, r0                      ; r8 = entry index
l_next:
        ld r1, dir+D_COUNT(r0)
        bge r8, r1, l_done
        la r1, s_indent
        call puts
        mov r1, r8
        call entry_at
        push r1
        call puts                       ; the name
        la r1, s_open
        call puts
        pop r1
        ld r1, E_LENGTH(r1)
        call putdec
        la r1, s_words
        call puts
        addi r8, r8, 1
        b l_next
l_done:
        pop r8
        pop lr
        ret

; entry_at(r1 = index): r1 = the address of its entry in `dir`.
entry_at:
        shli r1, r1, 4                  ; * ENTRY_WORDS
        la r2, dir+ENTRIES
        add r1, r1, r2
        ret

; put(r1 = name, r2 = text): appends the zero-terminated text as a record.
put:
        push lr
        push r8
        push r9
        push r10
        push r11
        mov r8, r1                      ; r8 = name
        mov r9, r2                      ; r9 = text
        la r1, s_put
        call puts
        mov r1, r8
        call puts
        call newline
        ld r1, dir+D_COUNT(r0)
        li r2, MAX_RECORDS
        bge r1, r2, full
        call entry_at
        mov r10, r1                     ; r10 = the new entry
        mov r1, r8                      ; its name
        mov r2, r10
p_name:
        ld r3, 0(r1)
        st r3, 0(r2)
        addi r1, r1, 1
        addi r2, r2, 1
        bnez r3, p_name
        ld r11, dir+D_FREE(r0)          ; r11 = the next sector to write
        st r11, E_FIRST(r10)
        mov r1, r9                      ; its length
p_len:
        ld r2, 0(r1)
        beqz r2, p_len_done
        addi r1, r1, 1
        b p_len
p_len_done:
        sub r1, r1, r9
        st r1, E_LENGTH(r10)
p_sector:                               ; a sector at a time through `sector`
        la r1, sector
        li r3, SECTOR_WORDS
p_copy:
        ld r2, 0(r9)
        st r2, 0(r1)
        beqz r2, p_pad
        addi r9, r9, 1
p_pad:
        addi r1, r1, 1
        addi r3, r3, -1
        bnez r3, p_copy
        mov r1, r11
        la r2, sector
        li r3, CMD_WRITE
        call disk_rw
        bnez r1, io_error
        addi r11, r11, 1
        ld r2, 0(r9)                    ; more text?
        bnez r2, p_sector
        st r11, dir+D_FREE(r0)
        ld r1, dir+D_COUNT(r0)
        addi r1, r1, 1
        st r1, dir+D_COUNT(r0)
        call write_dir
        pop r11
        pop r10
        pop r9
        pop r8
        pop lr
        ret

; get(r1 = name): "store: get NAME: text", or "not found".
get:
        push lr
        push r8
        push r9
        push r10
        mov r8, r1
        la r1, s_get
        call puts
        mov r1, r8
        call puts
        la r1, s_colon
        call puts
        mov r9, r0                      ; r9 = entry index
g_next:
        ld r1, dir+D_COUNT(r0)
        bge r9, r1, g_missing
        mov r1, r9
        call entry_at
        mov r10, r1                     ; r10 = the entry
        mov r2, r8                      ; compare the names
g_cmp:
        ld r3, 0(r1)
        ld r4, 0(r2)
        bne r3, r4, g_other
        beqz r3, g_found
        addi r1, r1, 1
        addi r2, r2, 1
        b g_cmp
g_other:
        addi r9, r9, 1
        b g_next
g_found:
        ld r9, E_FIRST(r10)             ; r9 = sector, r8 = words left
        ld r8, E_LENGTH(r10)
g_sector:
        bge r0, r8, g_done
        mov r1, r9
        la r2, sector
        li r3, CMD_READ
        call disk_rw
        bnez r1, io_error
        la r1, sector                   ; print min(256, left) characters
        li r3, SECTOR_WORDS
g_print:
        ld r2, 0(r1)
        push r1
        push r3
        mov r1, r2
        call putc
        pop r3
        pop r1
        addi r1, r1, 1
        addi r8, r8, -1
        addi r3, r3, -1
        beqz r8, g_done
        bnez r3, g_print
        addi r9, r9, 1
        b g_sector
g_missing:
        la r1, s_missing
        call puts
g_done:
        pop r10
        pop r9
        pop r8
        pop lr
        ret

full:
        la r1, s_full
        call puts
        li r1, 2
        halt
io_error:
        la r1, s_io
        call puts
        li r1, 3
        halt

        .include "lib/console.inc"
        .include "lib/disk.inc"             ; disk_handler, disk_rw

s_format:   .string "store: no directory on the disk: formatted\n"
s_store:    .string "store: "
s_records:  .string " records\n"
s_indent:   .string "  "
s_open:     .string " ("
s_words:    .string " words)\n"
s_put:      .string "store: put "
s_get:      .string "store: get "
s_colon:    .string ": "
s_missing:  .string "not found\n"
s_full:     .string "store: the directory is full\n"
s_io:       .string "store: disk error\n"
s_irqs:     .string "store: completion interrupts: "
n_greeting: .string "greeting"
n_numbers:  .string "numbers"
n_motd:     .string "motd.txt"
n_missing:  .string "nothing"
t_greeting: .string "hello from the store, written through to the disk file\n"
t_numbers:  .string "1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987\n"
            .org 0x1000
dir:        .space 256
sector:     .space 256
            .space 128
stack_top:
