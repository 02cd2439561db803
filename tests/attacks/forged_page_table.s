; forged_page_table.s: paging with page tables that point everywhere.
;
; The kernel turns paging on for a user program whose page table maps:
;   vpn 0   the program itself (valid, read-only)
;   vpn 1   a frame far past memory (valid, writable)
;   vpn 2   frame 0, the kernel's own trap area (valid, writable): allowed,
;           it is the guest's own memory; the program writes a reserved word
;   vpn 3   the frame just past the last one (valid, writable)
;   vpn 4   invalid, but with wild frame bits
;   vpn 5   a wild frame, valid, read-only
; and then a second table placed at the very end of memory whose entries
; for vpn >= 2 lie past memory.  Each access either hits the guest's own
; memory or traps as on a bare machine; the kernel counts traps by detail.

        .equ PG, 4
        .equ V, 1
        .equ W, 2
        .equ C_MEM, 2
        .equ C_SVC, 5

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        st r3, memsize(r0)
        la r5, user_code        ; vpn 0 -> the page holding user_code
        st r5, code_page(r0)
        ori r5, r5, V
        st r5, table+0(r0)
        la r1, s_start
        call say
        lpsw psw1(r0)           ; part 1: the forged table

part2:  ; a table at the end of memory: entries 0 and 1 inside, 2.. past it
        ld r3, memsize(r0)
        addi r4, r3, -2         ; vpn 3 (next entry + 1) would be past memory
        ld r5, code_page(r0)
        ori r5, r5, V
        st r5, 0(r4)            ; vpn 0 -> the code page
        st r0, 1(r4)            ; vpn 1 invalid
        st r4, psw2+2(r0)
        lpsw psw2(r0)

; The user program, alone in page 4: it runs at virtual 0 (vpn 0).
        .org 0x400
user_code:
        li r1, 0x100            ; vpn 1: frame past memory
        st r1, 0(r1)
        ld r2, 5(r1)
        li r1, 0x200 + 13       ; vpn 2: the trap area's reserved word 13
        li r2, 0x77
        st r2, 0(r1)
        ld r3, 0(r1)
        li r1, 0x300            ; vpn 3: one frame past the last
        st r1, 0(r1)
        li r1, 0x400            ; vpn 4: invalid
        ld r2, 0(r1)
        li r1, 0x500            ; vpn 5: read-only, wild
        ld r2, 0(r1)
        st r2, 0(r1)
        li r1, 0x2000           ; vpn 32: past the table's bound (6)
        ld r2, 0(r1)
        svc 1
user_code2:                     ; under the table at the end of memory
        li r1, 0x100            ; vpn 1: invalid entry
        ld r2, 0(r1)
        li r1, 0x200            ; vpn 2: its entry lies past memory
        ld r2, 0(r1)
        li r1, 0x7f00           ; vpn 0x7f: further still
        st r2, 0(r1)
        svc 2

handler:
        ld r8, 5(r0)
        andi r9, r8, 255
        li r10, C_SVC
        beq r9, r10, h_svc
        shri r8, r8, 8
        ld r9, by_detail(r8)
        addi r9, r9, 1
        st r9, by_detail(r8)
        b skip_return
h_svc:  ld r9, 6(r0)
        li r10, 1
        beq r9, r10, part2
        la r1, by_detail        ; report and halt
        call puts_faults
        la r1, s_word13
        ld r2, 13(r0)
        call puts_dec
        li r1, 0
        halt

memsize:   .word 0
code_page: .word 0
psw1:      .word PG, 0, table, 6, 0
psw2:      .word PG, user_code2-user_code, 0, 0x1000000, 0
table:     .word 0, 0xfffff000+V+W, 0+V+W, 0, 0xabcd00, 0xfff000+V
by_detail: .word 0, 0, 0, 0
s_start:   .string "forged_page_table: paging through forged page tables"
s_word13:  .string "trap area word 13 (written through vpn 2): "
        .space 32
stack_top:
        .include "common.inc"
