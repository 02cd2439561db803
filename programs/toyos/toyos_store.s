; toyos_store.s: toyos with a disk: an interrupt-driven driver in the
; kernel (disk.inc) and the record store as a user process
; (store_user.inc, ../lib/store.inc), processes in relocated regions.
;
; The store's disk calls block it (waiting for the disk) while the
; counter runs; the completion interrupt wakes it.  The disk it runs on is
; the one store.s runs on (toyos_store.disk: 16 sectors, one record made
; on the host); it leaves the same three records:
;
;   trapeze mkdisk -o d.img --sectors 16 programs/store/motd.txt
;   trapeze run --disk d.img programs/toyos/toyos_store.s
;   trapeze mkdisk --list d.img
;
; Run it with `--trace traps` to watch each disk call, the scheduler and
; the IO interrupt that follows.

        .include "native.inc"   ; the kernel owns the machine
        .equ PT_ENTRIES, 0      ; no page tables

        .include "fork.inc"     ; fork and wait: the disk calls follow theirs (7, 8)
        .include "disk.inc"     ; the driver of disk unit 0
        .include "kernel.inc"
        .include "reloc.inc"    ; make_space, uaddr
        k_uwaddr_code           ; uwaddr, for the disk driver

s_banner:
        .string "toyos: 3 processes in relocated regions, a disk, a tick every 400 instructions\n"

        .include "store_user.inc"
        .include "../lib/console.inc"
