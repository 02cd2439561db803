; shadow_trap_area_table.s: the trap area is the page table.
;
; The page table's base is 0 (bound 16), so its entries are the trap area's
; words: every trap rewrites entries 0..6 (old PSW, cause, value) and the new
; PSW is entries 8..12.  Entry 7, which no trap writes, maps the program
; (vpn 7); entries 13 and 14 (no trap writes them either) map a data page
; and frame 0 itself, writable: through vpn 14 the program stores into the
; trap area, that is, into its own table.  The program:
;   - takes an svc: vpn 5 (cause 5 = valid, read-only, frame 0) and vpn 6
;     (value 0x1103 = valid, writable, frame 0x11) now map pages; it reads
;     the trap area through vpn 5 and writes frame 0x11 through vpn 6;
;   - writes entries 15 and 13 through vpn 14, takes an svc (the flush) and
;     uses them;
;   - faults: the fault's record rewrites entries 5 and 6 again (invalid),
;     and a bound fault with value 0x1203 makes vpn 6 frame 0x12;
;   - then, in supervisor mode on the same table, stores into the trap
;     record (entry 5) and into the new PSW (entry 11: the handler's bound,
;     now a writable entry onto a frame past memory), tlbflush, uses them;
;   - last, it makes the new PSW a paged handler on this very table: each
;     trap's record (value 0x2103, then 0x2203) is at once the entry the
;     handler stores through, with no unpaged code in between that would
;     make a monitor look at the table again.
; A monitor must see each trap's record land in the table (the trap wrote
; it, not the guest's code) and each store into the trap area as a store
; into a page table.  The report prints the log and the pages.

        .include "shadow.inc"
        .equ CODE, 0x400        ; vpn 7: virtual 0x700
        .equ D1, 0x600
        .equ D2, 0x800
        .equ D3, 0x900
        .equ VCODE, 0x700-CODE  ; virtual = physical + VCODE in the code page

_start:
        la sp, stack_top
        la r1, handler
        call install
        li r1, CODE+PTE_V
        st r1, 7(r0)
        li r1, D1+PTE_V+PTE_W
        st r1, 13(r0)
        li r1, PTE_V+PTE_W      ; frame 0
        st r1, 14(r0)
        st r0, 15(r0)
        la r1, s_start
        call say
        lpsw psw_user(r0)

; The handler: at 0xb00, so that the new PSW's pc (entry 9) reads as an
; invalid entry.
        .org 0xb00
handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        bne r9, r11, h_other
        li r11, 4
        beq r10, r11, h_super
        li r11, 5
        beq r10, r11, report
        lpsw OLD_PSW(r0)        ; any other svc: back (the flush)
h_super:
        lpsw psw_super(r0)
h_other:
        return_or_skip

report: print_log
        la r1, s_pages
        call puts
        li r1, 0x1110
        ld r1, 0(r1)
        call puthex
        li r1, ' '
        call putc
        li r1, 0x1205
        ld r1, 0(r1)
        call puthex
        li r1, ' '
        call putc
        ld r1, D2(r0)
        call puthex
        li r1, ' '
        call putc
        ld r1, D3+1(r0)
        call puthex
        li r1, ' '
        call putc
        li r1, 0x2100
        ld r1, 0(r1)
        call puthex
        li r1, ' '
        call putc
        li r1, 0x2200
        ld r1, 0(r1)
        call puthex
        call newline
        la r1, s_entries
        call puts
        ld r1, 13(r0)
        call puthex
        li r1, ' '
        call putc
        ld r1, 15(r0)
        call puthex
        call newline
        li r1, 0
        halt

psw_user:  .word PG, user+VCODE, 0, 16, 0
psw_super: .word M+PG, super+VCODE, 0, 16, 0
s_start:   .string "shadow_trap_area_table: a page table at address 0"
s_pages:   .string "frame 0x11 word 0x10, frame 0x12 word 5, D2[0], D3[1], frames 0x21, 0x22 word 0: "
s_entries: .string "entries 13 and 15: "
           log_data
           .space 32
stack_top:
        .include "common.inc"

; The program, at virtual 0x700 (vpn 7).
        .org CODE
user:   svc 0x1103              ; entries 5, 6 = 0x005, 0x1103
        ld r1, 0x506(r0)        ; the trap area's word 6, through vpn 5
        st r1, 0x610(r0)        ; frame 0x11, through vpn 6
        li r3, D2+PTE_V+PTE_W
        st r3, 0xe0f(r0)        ; entry 15 = D2, through vpn 14
        li r3, D3+PTE_V+PTE_W
        st r3, 0xe0d(r0)        ; entry 13 = D3
        svc 2                   ; the flush
        st r1, 0xf00(r0)        ; D2[0], through vpn 15
        ld r4, 0xf00(r0)
        ld r5, 0xd00(r0)        ; D3[0], through vpn 13
        st r4, 0xd01(r0)
        ld r6, 0x300(r0)        ; entry 3 = old bound 16: invalid
        ld r6, 0x500(r0)        ; entry 5 = 0x102 now: invalid
        ld r6, 0x1203(r0)       ; past the bound: value 0x1203
        st r1, 0x605(r0)        ; entry 6 = 0x1203: frame 0x12, writable
        svc 4                   ; on to supervisor mode
super:  li r3, D1+PTE_V+PTE_W
        st r3, 0xe0f(r0)        ; entry 15 = D1
        st r0, 0xe05(r0)        ; entry 5 (the last record's cause) = 0
        la r3, 0x100003         ; entry 11 (the new PSW's bound): frame 0x1000, writable
        st r3, 0xe0b(r0)
        tlbflush
        ld r4, 0xf00(r0)        ; D1[0]
        ld r5, 0x500(r0)        ; invalid page
        st r5, 0xb00(r0)        ; frame 0x1000: physical (past memory)
        li r2, M+PG             ; the new PSW, through vpn 14: a paged handler,
        st r2, 0xe08(r0)        ; on this table, in this page
        li r2, phandler+VCODE
        st r2, 0xe09(r0)
        st r0, 0xe0a(r0)
        li r2, 16
        st r2, 0xe0b(r0)
        st r0, 0xe0c(r0)
        tlbflush
        svc 0x2103              ; the record: vpn 5 = frame 0, vpn 6 = frame 0x21

; The paged handler: the trap's record is its table's entries 5 and 6,
; which it uses at once (a trap loads a PSW: the flush).
phandler:
        ld r1, 0x506(r0)        ; the value, through vpn 5 (cause 5: frame 0)
        st r1, 0x600(r0)        ; frame 0x21, then 0x22, through vpn 6
        li r2, 0x2203
        beq r1, r2, ph_done
        svc 0x2203              ; again, from the handler itself
ph_done:
        li r2, M                ; the kernel's new PSW back
        st r2, 0xe08(r0)
        li r2, handler
        st r2, 0xe09(r0)
        st r0, 0xe0a(r0)
        la r2, 0x100003
        st r2, 0xe0b(r0)
        st r0, 0xe0c(r0)
        svc 5                   ; to the kernel: the report

        .org D1
        .word 0x1d1
        .org D2
        .space 1
        .org D3
        .word 0x3d3
