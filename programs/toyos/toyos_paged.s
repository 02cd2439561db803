; toyos_paged.s: the same operating system, processes under paging.
;
; The kernel (kernel.inc) and the processes (user.inc) are those of
; toyos.s; this file holds what is particular to paging.  Each process has
; a page table of PT_ENTRIES entries in its PCB.  Its space is the same
; SPACE words as under relocation, now 16 pages, and only the pages it
; uses are mapped, onto the frames of its region:
;
;   virtual page      maps to                     access
;   0 .. I-1          region frames 0 .. I-1      read-only: the user image
;   I .. 14           nothing                     (invalid)
;   15                region frame 15             read-write: line buffer, stack
;
; (I = the pages the user image covers.)
; The kernel itself runs unpaged.  A process's PSW has PG = 1, base = the
; physical address of its page table, bound = PT_ENTRIES; write() follows
; the page table byte by byte, as the hardware would.
;
; The difference shows with the scribbler: its write into its own code
; meets a read-only page, and it is killed (MEM, write-protect).

        .include "native.inc"   ; the kernel owns the machine
        .equ PT_ENTRIES, 16     ; SPACE / 256 (PTE_V, PTE_W: lib/machine.inc)

        .include "nofork.inc"   ; no fork, no wait
        .include "nodisk.inc"   ; no disk
        .include "kernel.inc"
        .include "paged.inc"    ; make_space, uaddr

s_banner:
        .string "toyos: 7 processes under paging, a tick every 400 instructions\n"


        .include "user.inc"
        .include "../lib/console.inc"
