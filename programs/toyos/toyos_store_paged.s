; toyos_store_paged.s: toyos_store.s under paging: the same kernel with
; its disk driver (disk.inc) and the same processes (store_user.inc), each
; with a page table (paged.inc): the image read-only, the top three pages
; (the store's directory and sector buffers, the line, the stack)
; read-write, the rest invalid.
;
; A disk read writes the process's memory by DMA, which no page table
; stops: the kernel lets it only into pages the process may write
; (uwaddr), and only into one physically contiguous run of 256 words.
;
;   trapeze mkdisk -o d.img --sectors 16 programs/store/motd.txt
;   trapeze run --disk d.img programs/toyos/toyos_store_paged.s

        .include "native.inc"   ; the kernel owns the machine
        .equ PT_ENTRIES, 16     ; SPACE / 256

        .include "fork.inc"     ; fork and wait: the disk calls follow theirs (7, 8)
        .include "disk.inc"     ; the driver of disk unit 0
        .include "kernel.inc"
        .include "paged.inc"    ; make_space, uaddr
        k_uwaddr_code           ; uwaddr, for the disk driver

s_banner:
        .string "toyos: 3 processes under paging, a disk, a tick every 400 instructions\n"

        .include "store_user.inc"
        .include "../lib/console.inc"
