; attack.s: a guest that tries to break out of its virtual machine.
;
; Run bare, it only meets the walls of a bare machine: every attempt ends
; in a MEM trap, which its handler reports.  Run under the asm VMM (`trapeze
; equiv --stack asm programs/vmm/attack.s`), the same attempts go against
; the VMM's own walls: the VMM's code and data sit right below the guest's
; memory in the same real memory, and a relocation or a page-table entry
; that reached them would print something else here.  The tests require
; the output, the registers and the memory to be those of the bare run,
; and the VMM's words to be untouched: 0 escapes.
;
; Each attack runs in user mode with a PSW of its own, and its first
; access traps (or, for the paging ones, the kernel checks what a
; successful access found).  The handler prints cause, detail and value
; and goes on with the next attack.

        .include "../lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ NPT, 8             ; entries of the forged page tables

_start:
        la sp, stack_top
        install_handler handler
        st r3, memsize(r0)

        la r8, attacks          ; r8 = the next attack
next_attack:
        ld r1, 0(r8)
        beqz r1, all_done
        st r8, current(r0)
        call puts               ; its description
        ld r1, 1(r8)            ; its setup routine builds user_psw and
        callr r1                ; returns the address to touch in r9
        mov r1, r9
        lpsw user_psw(r0)       ; go: the probe at 'probe' runs in user mode

; The user-mode probe: reads the word at r1, then writes it back, then
; reports with svc 0 what it read.
probe:
        ld r2, 0(r1)
        st r2, 0(r1)
        svc 0

handler:
        st r2, user_r2(r0)      ; what the probe read, if it got that far
        la sp, stack_top
        ld r1, CAUSE(r0)
        andi r2, r1, 255
        li r3, 5                ; svc 0: the probe got through
        beq r2, r3, got_through
        la r1, s_trap           ; "trapped: cause C detail D value V"
        call puts
        ld r1, CAUSE(r0)
        andi r1, r1, 255
        call putdec
        la r1, s_detail
        call puts
        ld r1, CAUSE(r0)
        shri r1, r1, 8
        call putdec
        la r1, s_value
        call puts
        ld r1, VALUE(r0)
        call puthex
        call newline
        b after
got_through:
        la r1, s_read           ; "read V" (what a successful read found)
        call puts
        ld r1, user_r2(r0)
        call puthex
        call newline
after:
        ld r8, current(r0)
        addi r8, r8, 2
        b next_attack

all_done:
        la r1, s_done
        call puts
        li r1, 0
        halt

; ---- Setups: each fills user_psw and sets r9 = the address to probe.
; The probe's code must be reachable, so relocated PSWs cover it.

; 1: the last word of memory, then one past it, unpaged, base 0.
setup_last:
        ld r9, memsize(r0)
        addi r9, r9, -1
        b plain_psw
setup_past:
        ld r9, memsize(r0)
plain_psw:
        st r0, user_psw+0(r0)
        la r1, probe
        st r1, user_psw+1(r0)
        st r0, user_psw+2(r0)
        li r1, -1               ; bound 2^32 - 1: everything the base reaches
        st r1, user_psw+3(r0)
        st r0, user_psw+4(r0)
        mov r1, r9              ; lpsw's r1 is set by the caller
        ret

; 2: a base near 2^32, so that base + va wraps around to small addresses
; (where a VMM would keep its own code) if an adder forgot the carry.
setup_wrap:
        li r1, 0xffffe000
        st r1, user_psw+2(r0)
        st r0, user_psw+0(r0)
        li r1, 0x2000+probe     ; pc: probe, seen through the wrap
        st r1, user_psw+1(r0)
        li r1, 0x4000
        st r1, user_psw+3(r0)
        st r0, user_psw+4(r0)
        li r9, 0x2000
        ret

; 3: a supervisor PSW loaded from user mode is not possible (PRIV), but
; the kernel may load one with any base: M=1, base 0, bound 2^32 - 1,
; reading a negative address.
setup_super:
        li r1, M
        st r1, user_psw+0(r0)
        la r1, probe
        st r1, user_psw+1(r0)
        st r0, user_psw+2(r0)
        li r1, -1
        st r1, user_psw+3(r0)
        st r0, user_psw+4(r0)
        li r9, -16
        ret

; 4: paging with forged entries.  Page 0 maps the code (identity, frame
; 0), page 1 is the probe's target: each setup forges entry 1.
paged_psw:
        li r1, PG
        st r1, user_psw+0(r0)
        la r1, probe
        st r1, user_psw+1(r0)
        la r1, page_table
        st r1, user_psw+2(r0)
        li r1, NPT
        st r1, user_psw+3(r0)
        st r0, user_psw+4(r0)
        li r1, PTE_V+PTE_W      ; pages 0..3: the program, identity
        st r1, page_table+0(r0)
        li r1, 0x100+PTE_V+PTE_W
        st r1, page_table+2(r0)
        li r1, 0x200+PTE_V+PTE_W
        st r1, page_table+3(r0)
        li r9, 0x100            ; the probe reads page 1
        ret
; the largest frame number: beyond any memory
setup_frame_max:
        li r1, 0xffffff00+PTE_V+PTE_W
        st r1, page_table+1(r0)
        b paged_psw
; a frame that wraps to frame 0 if a VMM adds its offset in 24 bits
setup_frame_wrap:
        li r1, 0xffe00000+PTE_V+PTE_W
        st r1, page_table+1(r0)
        b paged_psw
; the frame just past memory
setup_frame_past:
        ld r1, memsize(r0)
        addi r1, r1, 255
        shri r1, r1, 8
        shli r1, r1, 8
        ori r1, r1, PTE_V+PTE_W
        st r1, page_table+1(r0)
        b paged_psw
; a valid frame of its own (frame 0x30): this one gets through
setup_frame_own:
        li r1, 0x3000+PTE_V+PTE_W
        st r1, page_table+1(r0)
        li r1, 0x5eed
        st r1, 0x3000(r0)
        b paged_psw
; a page table that starts at the last word of memory: entry 0 (the
; code) is that word, entry 1 lies beyond memory
setup_table_past:
        push lr
        call paged_psw
        pop lr
        ld r1, memsize(r0)
        addi r1, r1, -1
        st r1, user_psw+2(r0)
        li r2, PTE_V+PTE_W
        st r2, 0(r1)
        ret
; a page table at 2^32 - 4: its entries wrap if an adder forgets the carry
setup_table_wrap:
        push lr
        call paged_psw
        pop lr
        li r1, -4
        st r1, user_psw+2(r0)
        ret

;          description        setup
attacks:
        .word s_last,         setup_last
        .word s_past,         setup_past
        .word s_wrap,         setup_wrap
        .word s_super,        setup_super
        .word s_frame_max,    setup_frame_max
        .word s_frame_wrap,   setup_frame_wrap
        .word s_frame_past,   setup_frame_past
        .word s_frame_own,    setup_frame_own
        .word s_table_past,   setup_table_past
        .word s_table_wrap,   setup_table_wrap
        .word 0

memsize:  .word 0
current:  .word 0
user_r2:  .word 0
;                flags pc base bound timer
user_psw: .word  0,    0, 0,   0,    0

s_last:       .string "read and write the last word of memory: "
s_past:       .string "read one word past memory: "
s_wrap:       .string "run at base 0xffffe000, hoping base + va wraps: "
s_super:      .string "supervisor, bound 2^32-1, read address -16: "
s_frame_max:  .string "map frame 0xffffff: "
s_frame_wrap: .string "map frame 0xffe000, which wraps to 0 plus a small offset: "
s_frame_past: .string "map the frame just past memory: "
s_frame_own:  .string "map a frame of my own: "
s_table_past: .string "a page table that starts at the last word of memory: "
s_table_wrap: .string "a page table at 2^32-4: "
s_trap:       .string "trapped: cause "
s_detail:     .string ", detail "
s_value:      .string ", value "
s_read:       .string "read "
s_done:       .string "no way out\n"

        .space 64
stack_top:

        .org 0x400
page_table:
        .space NPT

        .include "../lib/console.inc"
