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

        .equ PT_ENTRIES, 16     ; SPACE / 256 (PTE_V, PTE_W: lib/machine.inc)

        .include "kernel.inc"

; make_space: r1 = PCB, r2 = its region.  User mode, interrupts on,
; paging through the PCB's page table.
make_space:
        li r3, IE+PG
        st r3, P_PSW+0(r1)
        addi r3, r1, P_PT       ; base: the page table (physical = kernel
        st r3, P_PSW+2(r1)      ; virtual: the kernel runs with base 0)
        li r3, PT_ENTRIES
        st r3, P_PSW+3(r1)
        mov r3, r0              ; r3 = virtual page
ms_next:
        shli r4, r3, 8          ; an image page starts inside the image
        li r5, user_end-user_start
        bgeu r4, r5, ms_top
        shli r4, r3, 8          ; an image page: read-only
        add r4, r4, r2
        ori r4, r4, PTE_V
        b ms_store
ms_top:
        mov r4, r0              ; invalid, but for the last page
        slti r5, r3, PT_ENTRIES-1
        bnez r5, ms_store
        shli r4, r3, 8          ; the last page: read-write
        add r4, r4, r2
        ori r4, r4, PTE_V+PTE_W
ms_store:
        add r5, r1, r3
        st r4, P_PT(r5)
        addi r3, r3, 1
        slti r4, r3, PT_ENTRIES
        bnez r4, ms_next
        ret

; uaddr: r1 = PCB, r2 = virtual address -> r1 = physical, or -1: the walk
; the hardware does (bound, valid bit, frame).
uaddr:
        shri r3, r2, 8          ; virtual page
        slti r4, r3, PT_ENTRIES
        beqz r4, ua_bad
        add r3, r1, r3
        ld r3, P_PT(r3)         ; the entry
        andi r4, r3, PTE_V
        beqz r4, ua_bad
        shri r3, r3, 8          ; frame * 256 + offset
        shli r3, r3, 8
        andi r1, r2, 255
        or r1, r1, r3
        ret
ua_bad:
        li r1, -1
        ret

s_banner:
        .string "toyos: 7 processes under paging, a tick every 400 instructions\n"

        .include "user.inc"
        .include "../lib/console.inc"
