; shadow_partial_frame.s: the last frame of a memory whose size is not a
; multiple of the page: code, data and a page table in a frame that lies
; only partly inside memory.  (With a page-multiple memory the last frame is
; whole and the same program just runs; the attack harnesses also run every
; attack with a memory size that is not a page multiple.)
;
; L is the last frame, N the words of it inside memory (1..256).  Table T
; maps vpn 0 the program, vpn 1 L writable, vpn 2 L read-only, vpn 3 L
; again (for a fetch), vpn 4 the first frame wholly past memory.  Part 1,
; supervisor mode:
;   - the kernel has copied three instructions into the last three words of
;     memory; the program jumps to them through vpn 3: they run, and the
;     fetch after them is a physical fault (past memory, inside the page);
;   - through vpn 1: the last word loads and stores, the word after it is a
;     physical fault; an lpsw whose operand runs off the end faults at the
;     first word past memory and loads nothing;
;   - through vpn 2: a store is write-protect even past memory (W comes
;     before the frame), a load past memory physical.
; Part 2, user mode, on a table T2 in the last three words of memory (its
; fourth entry lies past it): entry 1 maps L, so T2 can rewrite itself; it
; makes vpn 2 writable, takes an svc (the flush) and stores through it.  A
; shadow entry cannot say "this frame, but only its first N words": each
; access to L must still give exactly the bare machine's result.

        .include "shadow.inc"
        .equ CODE, 0x400

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        st r3, memsize(r0)
        addi r4, r3, -1
        shri r4, r4, 8          ; r4 = L
        shli r5, r4, 8
        sub r12, r3, r5         ; r12 = N, for the program
        st r12, words_in_l(r0)
        ori r1, r5, PTE_V+PTE_W
        st r1, table+1(r0)
        st r1, table+3(r0)
        ori r1, r5, PTE_V
        st r1, table+2(r0)
        addi r1, r5, 0x100      ; L + 1
        ori r1, r1, PTE_V+PTE_W
        st r1, table+4(r0)
        ld r1, snip+0(r0)       ; three instructions at the end of memory
        st r1, -3(r3)
        ld r1, snip+1(r0)
        st r1, -2(r3)
        ld r1, snip+2(r0)
        st r1, -1(r3)
        la r1, s_start
        call say
        lpsw psw1(r0)

snip:   addi r4, r4, 1
        addi r4, r4, 2
        addi r4, r4, 4          ; then the fetch runs off the end

handler:
        log_trap
        andi r9, r8, CAUSE_MASK
        li r11, C_SVC
        bne r9, r11, h_other
        li r11, 1
        beq r10, r11, part2
        li r11, 2
        bne r10, r11, report
        lpsw OLD_PSW(r0)        ; svc 2: straight back (the flush)
h_other:
        return_or_skip

part2:  ld r3, memsize(r0)      ; T2: the last three words
        addi r4, r3, -3
        st r4, psw2+2(r0)
        li r1, CODE+PTE_V
        st r1, 0(r4)            ; vpn 0: the program
        addi r1, r3, -1
        shri r1, r1, 8
        shli r1, r1, 8
        ori r2, r1, PTE_V+PTE_W
        st r2, 1(r4)            ; vpn 1: L, writable
        ori r2, r1, PTE_V
        st r2, 2(r4)            ; vpn 2: L, read-only; vpn 3 lies past memory
        lpsw psw2(r0)

report: print_log
        la r1, s_n
        ld r2, words_in_l(r0)
        call puts_dec
        la r1, s_last
        ld r3, memsize(r0)
        ld r1, -1(r3)
        call puthex
        li r1, ' '
        call putc
        ld r3, memsize(r0)
        ld r1, -2(r3)
        call puthex
        li r1, ' '
        call putc
        ld r3, memsize(r0)
        ld r1, -3(r3)
        call puthex
        call newline
        li r1, 0
        halt

memsize:    .word 0
words_in_l: .word 0
psw1:       .word M+PG, 0, table, 5, 0
psw2:       .word PG, p2-page, 0, 4, 0
table:      .word CODE+PTE_V, 0, 0, 0, 0
s_start:    .string "shadow_partial_frame: code, data and a table in the last, partial frame"
s_n:        .string "words of the last frame inside memory: "
s_last:     .string "the last three words: "
            log_data
            .space 32
stack_top:

; The program, at virtual 0; r12 = N.
        .org CODE
page:
        addi r7, r0, p_back-page
        li r1, 0x300-3
        add r1, r1, r12
        jr r1                   ; the three instructions at the end, through vpn 3
p_back: li r1, 0x100-1
        add r1, r1, r12         ; r1 = the last word, through vpn 1
        ld r2, 0(r1)
        li r3, 0x5a5a
        st r3, 0(r1)
        ld r2, 1(r1)            ; one past: physical (a whole frame: inside)
        st r3, 1(r1)
        slti r5, r12, 256
        beqz r5, p_skip         ; with a whole last frame this lpsw would load
        lpsw -2(r1)             ; faults at the first word past memory
p_skip: li r1, 0x200-1          ; through vpn 2, read-only
        add r1, r1, r12
        ld r2, 0(r1)
        st r3, 0(r1)            ; write-protect
        ld r2, 0x2ff(r0)        ; the page's last word: physical if partial
        st r3, 0x2ff(r0)        ; write-protect
        ld r2, 0x400(r0)        ; vpn 4: past memory
        svc 1
p2:     li r1, 0x100-3          ; user mode on T2
        add r1, r1, r12
        ld r2, 0(r1)            ; T2's entry 0, through its own entry 1
        st r3, 0x100(r0)        ; L's first word
        ld r5, 2(r1)            ; entry 2: L, read-only
        ori r5, r5, PTE_W
        st r5, 2(r1)            ; ... writable, through the table itself
        svc 2                   ; the flush
        li r1, 0x200-4
        add r1, r1, r12
        st r3, 0(r1)            ; now allowed: the word before T2
        ld r2, 0x300(r0)        ; vpn 3: its entry lies past memory
        svc 3

        .org 0x500
        .include "common.inc"
