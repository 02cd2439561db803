; shadow_self_map.s: page tables that map themselves, writable, and rewrite
; their own entries from paged code.
;
; Table T (frame 6) maps: vpn 0 the code, vpn 1 T itself (writable), vpn 2
; data page D1, vpn 3 D2 read-only, vpn 4 table T2 (writable), vpn 5 the
; code again (never remapped).  T2 (frame 7)
; maps: vpn 0 the code, vpn 1 T2 itself, vpn 2 D3, vpn 3 T read-only.  The
; paged kernel, through the self-mapping entry:
;   - points its own vpn 2 at D2, tlbflush, reads and writes through it;
;   - invalidates vpn 3, tlbflush: a load there is an invalid-page fault;
;   - writes an entry of T2, which is not in use;
;   - points vpn 0, the code it runs, at a copy of the code that differs in
;     one instruction: from vpn 5, then tlbflush, then back to vpn 0;
;   - makes the self-mapping entry read-only through itself, tlbflush: a
;     store through it is a write-protect fault;
; then loads a PSW on T2, reads T through T2, points T2's self-mapping
; entry at T, tlbflush, and makes T's self-map writable again through it.
; Last, a user program on T rewrites its vpn 2 through the self-map, takes
; an svc (a trap loads a PSW: the flush), and uses the new entry.  Every
; change is flushed before it is relied on, as ISA.md requires, so a
; monitor may keep its shadow in step at the flush or at each store; under
; a monitor that write-protects guest tables each of these stores traps.
; The report prints the trap log, the data words and both tables.

        .include "shadow.inc"
        .equ T, 0x600
        .equ T2, 0x700
        .equ D1, 0x800
        .equ D2, 0x900
        .equ D3, 0xa00

_start:
        la sp, stack_top
        la r1, handler
        call install
        la r1, s_start
        call say
        lpsw psw_super(r0)

handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        bne r9, r11, h_other
        li r11, 1
        bne r10, r11, report
        lpsw OLD_PSW(r0)        ; svc 1: straight back (the flush)
h_other:
        return_or_skip

report: print_log
        la r1, s_d1
        ld r2, D1+0x10(r0)
        call puts_dec
        la r1, s_d2
        ld r2, D2+1(r0)
        call puts_dec
        la r1, s_d3
        ld r2, D3+1(r0)
        call puts_dec
        la r1, s_t
        call puts
        la r5, T
        call print_table
        la r1, s_t2
        call puts
        la r5, T2
        call print_table
        li r1, 0
        halt

; print_table: entries 0..4 of the table at r5, in hex on one line.
print_table:
        push lr
        li r6, 5
pt_next:
        li r1, ' '
        call putc
        ld r1, 0(r5)
        call puthex
        addi r5, r5, 1
        addi r6, r6, -1
        bnez r6, pt_next
        call newline
        pop lr
        ret

psw_super: .word M+PG, 0, T, 8, 0
s_start:   .string "shadow_self_map: tables that map themselves and rewrite their entries"
s_d1:      .string "D1[0x10] (read through T2): "
s_d2:      .string "D2[1] (written after the remap): "
s_d3:      .string "D3[1] (written by the user program): "
s_t:       .string "T:"
s_t2:      .string "T2:"
           log_data
           .space 32
stack_top:

; The paged code, at virtual 0; `self_code 1` and its copy `self_code 2`
; differ only in the marker after the code page is switched.
        .macro self_code mark
sc\@:
        ld r1, 0x200(r0)        ; D1[0], through vpn 2
        li r2, D2+PTE_V+PTE_W
        st r2, 0x102(r0)        ; T[2] = D2, through the self-map
        tlbflush
        ld r1, 0x200(r0)        ; D2[0]
        addi r1, r1, 1
        st r1, 0x201(r0)        ; D2[1]
        st r0, 0x103(r0)        ; T[3] = invalid
        tlbflush
        ld r1, 0x300(r0)        ; invalid-page fault
        li r2, D1+PTE_V+PTE_W
        st r2, 0x402(r0)        ; T2[2] = D1 (T2 is not in use)
        li r2, 0x500+PTE_V
        jmp 0x500+sc_stub\@-sc\@ ; through vpn 5, which is never remapped:
sc_mark\@:                      ; there T[0] becomes the copy, and back
        li r3, \mark            ; 2: the copy runs
        li r2, T+PTE_V
        st r2, 0x101(r0)        ; T[1] = T, read-only
        tlbflush
        st r2, 0x105(r0)        ; write-protect fault
        ld r4, 0x101(r0)        ; the self-map still reads
        lpsw sc_t2psw\@-sc\@(r0) ; onto T2 (the operand in the code page)
sc_t2\@:
        ld r1, 0x200(r0)        ; T2's vpn 2 is D1 now
        st r1, 0x210(r0)
        ld r5, 0x302(r0)        ; T[2], read through T2's vpn 3
        li r2, T+PTE_V+PTE_W
        st r2, 0x101(r0)        ; T2[1] = T, through T2's self-map
        tlbflush
        ld r6, 0x101(r0)        ; T[1] (read-only since above)
        st r2, 0x101(r0)        ; T[1] = T, writable again, through T2
        lpsw sc_upsw\@-sc\@(r0) ; user mode on T
sc_user\@:
        li r2, D3+PTE_V+PTE_W
        st r2, 0x102(r0)        ; T[2] = D3, through the self-map
        svc 1                   ; the trap is the flush
        ld r1, 0x200(r0)        ; D3[0]
        addi r1, r1, 5
        st r1, 0x201(r0)        ; D3[1]
        tlbflush                ; user mode: PRIV
        svc 2
sc_stub\@:                      ; run at vpn 5 (this page in either copy)
        st r2, 0x100(r0)        ; T[0] = the copy of this code
        tlbflush
        jmp sc_mark\@-sc\@      ; through vpn 0: the copy
sc_t2psw\@: .word M+PG, sc_t2\@-sc\@, T2, 8, 0
sc_upsw\@:  .word PG, sc_user\@-sc\@, T, 8, 0
        .endm

        .org 0x400
        self_code 1
        .org 0x500
        self_code 2
        .org T
        .word 0x400+PTE_V, T+PTE_V+PTE_W, D1+PTE_V+PTE_W, D2+PTE_V, T2+PTE_V+PTE_W, 0x400+PTE_V, 0, 0
        .org T2
        .word 0x400+PTE_V, T2+PTE_V+PTE_W, D3+PTE_V+PTE_W, T+PTE_V, 0, 0, 0, 0
        .org D1
        .word 0x1111
        .org D2
        .word 0x2222
        .org D3
        .word 0x3333
        .org 0xb00
        .include "common.inc"
