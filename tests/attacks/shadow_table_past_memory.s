; shadow_table_past_memory.s: page tables that lie partly or wholly past
; memory, and page-table addresses whose 32-bit sum wraps.
;
; The kernel writes a two-entry table into the last two words of memory
; (vpn 0 -> the probing code, vpn 1 -> a data page, writable); every entry
; from vpn 2 on lies past memory.  Stage by stage it loads a PSW and logs
; every trap:
;   0  supervisor, that table, bound 0x1000: the data page is reached; then
;      a load, a store, an lpsw operand and a fetch at vpn 2, 3, 0xfff
;      (entries past memory: physical), 0x1000 and 0xffffff (bound)
;   1  the same in user mode (lpsw: PRIV)
;   2  a table that starts at memsize: the first fetch is physical
;   3  base 0xffffffff, pc in vpn 1: the entry's address needs 33 bits (a
;      monitor that wrapped at 32 bits would read the trap area's word 0)
;   4  base 0xfffffff0, pc in vpn 0x10: the same
;   5  base 0xffffff00
;   6  user mode, a table whose vpn 0 is the last word of memory, pc in vpn 1
;   7  stage 0's table with bound 0xffffffff: now vpn 0x1000 and 0xffffff
;      are physical faults too
; A shadow table must give each fault with the bare machine's detail, and
; none of these entries may be read from outside the guest's memory.

        .include "shadow.inc"
        .equ NSTAGES, 8

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        addi r4, r3, -2         ; the table: the last two words
        li r5, page+PTE_V
        st r5, 0(r4)
        li r5, data+PTE_V+PTE_W
        st r5, 1(r4)
        st r4, stages+2(r0)     ; stage 0
        st r4, stages+7(r0)     ; stage 1
        st r3, stages+12(r0)    ; stage 2: the table at memsize
        addi r5, r3, -1
        st r5, stages+32(r0)    ; stage 6: the last word
        st r4, stages+37(r0)    ; stage 7
        la r1, s_start
        call say
        b next_stage

handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        beq r9, r11, next_stage
        li r11, -1
        beq r7, r11, next_stage ; a stage meant to fault at once: its trap ends it
        return_or_skip
next_stage:
        ld r1, stage(r0)
        li r2, NSTAGES
        bgeu r1, r2, report
        addi r2, r1, 1
        st r2, stage(r0)
        ld r7, stage_r7(r1)
        shli r2, r1, 2          ; 5 words a PSW
        add r2, r2, r1
        la r3, stages
        add r2, r2, r3
        lpsw 0(r2)
report: print_log
        la r1, s_data
        ld r2, data+5(r0)
        call puts_dec
        li r1, 0
        halt

stage:    .word 0
stage_r7: .word 0, 0, -1, -1, -1, -1, -1, 0
stages:   .word M+PG, 0, 0, 0x1000, 0                   ; 0: base = memsize - 2
          .word PG, 0, 0, 0x1000, 0                     ; 1
          .word M+PG, 0, 0, 4, 0                        ; 2: base = memsize
          .word M+PG, 0x100, 0xffffffff, 2, 0           ; 3
          .word M+PG, 0x1000, 0xfffffff0, 0x20, 0       ; 4
          .word M+PG, 0, 0xffffff00, 0x100, 0           ; 5
          .word PG, 0x100, 0, 2, 0                      ; 6: base = memsize - 1
          .word M+PG, 0, 0, 0xffffffff, 0               ; 7: base = memsize - 2
s_start:  .string "shadow_table_past_memory: page tables at and past the end of memory"
s_data:   .string "data page word 5 (one increment a code stage): "
          log_data
          .space 32
stack_top:

; The probes, at virtual 0 (vpn 0).
        .org 0x400
page:
        mov r7, r0
        ld r3, 0x105(r0)        ; the data page, through vpn 1
        addi r3, r3, 1
        st r3, 0x105(r0)
        mov r6, r0
p_next: ld r1, list-page(r6)    ; the next address, 0 at the end
        beqz r1, p_done
        ld r2, 0(r1)            ; a load
        st r2, 1(r1)            ; a store
        lpsw 2(r1)              ; an lpsw operand (user mode: PRIV)
        addi r7, r0, p_back-page
        jr r1                   ; a fetch
p_back: addi r6, r6, 1
        b p_next
p_done: svc 0
list:   .word 0x200, 0x342, 0xfff10, 0x100000, 0xffffff00, 0

        .org 0x500
data:   .space 256
        .include "common.inc"
