; split_ring_attack.s: a paravirtual front end that turns on its back end
; (the split driver, vmm/split.c, under `--io split`).
;
; Every hcall below must be refused or fail exactly as vmm/README.md says,
; moving nothing, except one write of its own last sector;
; tests/e2e/test_disk.sh runs it under --io split next to three guests and
; checks that no other sector of the real unit changed and the neighbours
; ran as bare.  Under any other model (and bare) its first hcall is an
; ordinary trap: its handler notes it, and the program prints H and halts,
; so the attack suite (test_vmm_attacks.sh) finds it equivalent to its bare
; run like any other.
;
;   1  rings outside memory: at 0xffffffe0 (40 words wrap 2^32), at the
;      last 39 words, at 0x7fffffff: refused (R)
;   2  requests (one batch of 7): ADDR wrapping 2^32, ADDR + 256 past memory
;      by one, SECTOR = SIZE (the next partition), SECTOR 0xffffffff, OP 0,
;      OP 3, and a good write of its last sector: six E, then D; then a read
;      of sector 0 INTO the ring itself (it zeroes REQ_PROD and the slots
;      mid-kick; the back end has read the count already): 1 served
;   3  REQ_PROD 9 ahead, and 1 behind: refused (R R)
;   4  a kick flood: 3000 kicks of an empty ring, each serving 0
;   5  a kick of a unit without a ring, and of unit 0xffffffff: refused
;
; It prints one letter per result and halts with 0.

        .include "../../programs/lib/machine.inc"
        .include "../../programs/lib/split.inc"

        .equ U, DISK0

_start:
        la sp, stack_top
        install_handler handler
        in r8, U+DK_SIZE                ; r8 = SIZE (its partition)
        bnez r8, have_disk
        li r1, 0
        halt
have_disk:
        srr r9, r10                     ; r10 = memory size

        li r1, 0                        ; 1: rings outside memory
        li r2, 0xffffffe0
        hcall SPLIT_RING
        ld r2, unserved(r0)             ; no split driver here: done
        bnez r2, no_driver
        call letter_r
        li r1, 0
        addi r2, r10, -39
        hcall SPLIT_RING
        call letter_r
        li r1, 0
        li r2, 0x7fffffff
        hcall SPLIT_RING
        call letter_r

        li r1, 0                        ; 2: the real ring, one bad batch
        la r2, ring
        hcall SPLIT_RING
        la r5, ring+SPLIT_SLOTS_AT
        li r1, CMD_READ                 ; ADDR wrapping 2^32
        li r2, 0
        li r3, 0xffffff80
        call slot
        li r1, CMD_WRITE                ; ADDR + 256 past memory by one
        li r2, 0
        addi r3, r10, -255
        call slot
        li r1, CMD_WRITE                ; the next guest's partition
        mov r2, r8
        la r3, buffer
        call slot
        li r1, CMD_READ
        li r2, 0xffffffff
        la r3, buffer
        call slot
        li r1, 0                        ; OP 0 and 3
        li r2, 0
        la r3, buffer
        call slot
        li r1, 3
        li r2, 0
        la r3, buffer
        call slot
        li r1, CMD_WRITE                ; its own last sector: done
        addi r2, r8, -1
        la r3, buffer
        call slot
        li r1, 7
        st r1, ring+REQ_PROD(r0)
        li r1, 0
        hcall SPLIT_KICK
        la r5, ring+SPLIT_SLOTS_AT      ; the seven responses
        li r7, 7
s2_each:
        ld r1, SL_STATUS(r5)
        andi r1, r1, S_ERROR
        li r2, 'D'
        beqz r1, s2_print
        li r2, 'E'
s2_print:
        mov r1, r2
        call putc
        addi r5, r5, SPLIT_SLOT_WORDS
        addi r7, r7, -1
        bnez r7, s2_each

        la r5, ring+SPLIT_SLOTS_AT+28      ; slot 7
        li r1, CMD_READ                 ; a sector read over the ring itself:
        li r2, 0                        ; REQ_PROD and every slot zeroed
        la r3, ring                     ; mid-kick; the back end has taken
        call slot                       ; the count already and serves 1
        li r1, 8
        st r1, ring+REQ_PROD(r0)
        li r1, 0
        hcall SPLIT_KICK
        call letter_r

        ld r1, ring+RSP_PROD(r0)        ; 3: indices out of range
        addi r1, r1, 9
        st r1, ring+REQ_PROD(r0)
        li r1, 0
        hcall SPLIT_KICK
        call letter_r
        ld r1, ring+RSP_PROD(r0)
        addi r1, r1, -1
        st r1, ring+REQ_PROD(r0)
        li r1, 0
        hcall SPLIT_KICK
        call letter_r
        ld r1, ring+RSP_PROD(r0)        ; repaired
        st r1, ring+REQ_PROD(r0)

        li r11, 3000                    ; 4: a kick flood
s4_kick:
        li r1, 0
        hcall SPLIT_KICK
        bnez r1, s4_wrong
        addi r11, r11, -1
        bnez r11, s4_kick
        li r1, 'F'
        call putc
        jmp s5
s4_wrong:
        li r1, 'W'
        call putc
s5:
        li r1, 2                        ; 5: units without a ring
        hcall SPLIT_KICK
        call letter_r
        li r1, 0xffffffff
        hcall SPLIT_KICK
        call letter_r
        call newline
        li r1, 0
        halt

no_driver:
        li r1, 'H'
        call putc
        call newline
        li r1, 0
        halt

; slot(r1 = OP, r2 = SECTOR, r3 = ADDR) at r5, which moves on.
slot:
        st r1, SL_OP(r5)
        st r2, SL_SECTOR(r5)
        st r3, SL_ADDR(r5)
        st r0, SL_STATUS(r5)
        addi r5, r5, SPLIT_SLOT_WORDS
        ret

; letter_r: R when r1 says refused (negative), else the digit of r1 (0..9).
letter_r:
        push lr
        blt r1, r0, lr_refused
        addi r1, r1, '0'
        call putc
        pop lr
        ret
lr_refused:
        li r1, 'R'
        call putc
        pop lr
        ret

; handler: an hcall nobody serves is noted and the program goes on (it
; then prints H and halts); anything else halts 99.
handler:
        st r1, saved+1(r0)
        st r2, saved+2(r0)
        ld r1, CAUSE(r0)
        andi r1, r1, CAUSE_MASK
        li r2, C_HCALL
        bne r1, r2, unexpected
        li r1, 1
        st r1, unserved(r0)
        ld r1, saved+1(r0)
        ld r2, saved+2(r0)
        lpsw OLD_PSW(r0)
unexpected:
        li r1, 99
        halt

        .include "../../programs/lib/console.inc"

saved:      .space 3
unserved:   .word 0
            .org 0x400
ring:       .space 256                  ; a sector read into it stays inside
buffer:     .string "the attacker's own last sector\n"
            .org 0x600
            .space 64
stack_top:
