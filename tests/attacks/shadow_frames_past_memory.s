; shadow_frames_past_memory.s: page-table entries whose frames lie past
; memory, read-only and writable, reached by every kind of access.
;
; The table (7 entries) maps:
;   vpn 0   the probing code (valid, read-only, the bits 2..7 the hardware
;           ignores all set)
;   vpn 1   the first frame wholly past memory, read-only
;   vpn 2   the same frame, writable, ignored bits set
;   vpn 3   frame 0xffffff, read-only (a shadow table's own "nothing here")
;   vpn 4   frame 0xffffff, writable
;   vpn 5   frame 0xfffffe, writable
;   vpn 6   invalid, every other bit set
; and vpn 7 is past the bound.  The code loads, stores, uses as an lpsw
; operand and jumps into each page, first in supervisor mode, then in user
; mode (where lpsw is PRIV).  isa/README.md's order of checks gives, per
; page: bound 0, V 1, W for a store 2, physical 3: a store through a
; read-only frame past memory is a write-protect fault, every other access
; to a valid frame past memory a physical one.  A shadow table that
; encoded "past memory" its own way must give these very details; one that
; took the frame as it is would reach past the guest's region.  The handler
; logs every trap (cause word, value) and skips the instruction (a fetch
; fault goes on at r7); the report prints the log.

        .include "shadow.inc"

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        addi r4, r3, 255        ; the first frame wholly past memory
        shri r4, r4, 8
        shli r4, r4, 8
        ori r5, r4, PTE_V
        st r5, table+1(r0)
        ori r5, r4, PTE_V+PTE_W+0xfc
        st r5, table+2(r0)
        la r1, s_start
        call say
        lpsw psw_super(r0)

handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        beq r9, r11, h_svc
        return_or_skip
h_svc:  ld r11, stage(r0)
        bnez r11, report
        li r11, 1
        st r11, stage(r0)
        lpsw psw_user(r0)       ; part 2: the same probes in user mode
report: print_log
        li r1, 0
        halt

stage:     .word 0
psw_super: .word M+PG, 0, table, 7, 0
psw_user:  .word PG, 0, table, 7, 0
table:     .word page+PTE_V+0xfc, 0, 0, 0xffffff00+PTE_V, 0xffffff00+PTE_V+PTE_W
           .word 0xfffffe00+PTE_V+PTE_W, 0xfffffffe
s_start:   .string "shadow_frames_past_memory: loads, stores, lpsw and fetches through frames past memory"
           log_data
           .space 32
stack_top:

; The probes, at virtual 0 (vpn 0).
        .org 0x400
page:
        li r1, 0x100            ; vpn 1, offset 0; then vpn 2, offset 1; ...
p_next: ld r2, 0(r1)            ; a load
        st r2, 1(r1)            ; a store
        lpsw 2(r1)              ; an lpsw operand (user mode: PRIV)
        addi r7, r0, p_back-page
        jr r1                   ; a fetch
p_back: addi r1, r1, 0x101
        slti r3, r1, 0x800
        bnez r3, p_next
        svc 1

        .org 0x500
        .include "common.inc"
