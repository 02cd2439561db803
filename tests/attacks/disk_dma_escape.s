; disk_dma_escape.s: a kernel that aims its disk unit outside itself.
;
; Under the C VMM (hypervisor-direct) its unit 0 is a partition of a real
; unit and its memory a region of real memory; every command below must
; fail exactly as on a bare machine of its size (ERROR), moving nothing,
; except the last, a write into its own last sector.  tests/e2e/test_disk.sh
; checks that no other sector of the real unit changed (the neighbours'
; partitions) and tests/e2e/test_vmm_attacks.sh that it is equivalent to
; its bare run.  Without a disk (SIZE 0) it just halts.
;
;   1  DMA_BASE + ADDR wraps 2^32 (0xffffff00 + 0x100: 0 with 32 bits)
;   2  DMA_BASE + ADDR + 256 past memory by one word
;   3  ADDR + 256 past DMA_BOUND (DMA_BOUND below memory)
;   4  SECTOR = SIZE: the first sector past its partition
;   5  SECTOR = 0xffffffff
;   6  CMD 3, and CMD 0
;   7  a write of its own last sector: done
;
; It prints one letter per command (E error, D done) and halts with 0 when
; every status was the expected one, else 1.

        .include "../../programs/lib/machine.inc"

        .equ U, DISK0

_start:
        la sp, stack_top
        in r8, U+DK_SIZE                ; r8 = SIZE
        bnez r8, have_disk
        li r1, 0
        halt
have_disk:
        srr r9, r10                     ; r10 = memory size (the reset bound)
        li r11, 0                       ; r11 = wrong statuses

        li r1, 0xffffff00               ; 1: a wrapping DMA_BASE
        out r1, U+DK_DMA_BASE
        li r1, 0x100
        out r1, U+DK_ADDR
        li r1, CMD_READ
        li r2, S_DONE+S_ERROR
        call try

        addi r1, r10, -255              ; 2: the last 255 words, one short
        out r1, U+DK_DMA_BASE
        out r0, U+DK_ADDR
        li r1, CMD_WRITE
        li r2, S_DONE+S_ERROR
        call try

        out r0, U+DK_DMA_BASE           ; 3: DMA_BOUND one word short
        li r1, 0x1000
        out r1, U+DK_ADDR
        li r1, 0x10ff
        out r1, U+DK_DMA_BOUND
        li r1, CMD_READ
        li r2, S_DONE+S_ERROR
        call try
        out r10, U+DK_DMA_BOUND         ; back to the whole memory
        out r0, U+DK_ADDR

        out r8, U+DK_SECTOR             ; 4: SECTOR = SIZE
        li r1, CMD_WRITE
        li r2, S_DONE+S_ERROR
        call try
        li r1, -1                       ; 5: SECTOR = 0xffffffff
        out r1, U+DK_SECTOR
        li r1, CMD_WRITE
        li r2, S_DONE+S_ERROR
        call try

        li r1, 3                        ; 6: no such command
        li r2, S_DONE+S_ERROR
        call try
        li r1, 0
        li r2, S_DONE+S_ERROR
        call try

        addi r1, r8, -1                 ; 7: its own last sector <- pattern
        out r1, U+DK_SECTOR
        la r1, pattern
        out r1, U+DK_ADDR
        li r1, CMD_WRITE
        li r2, S_DONE
        call try

        call newline
        sltu r1, r0, r11                ; 0 when every status was right
        halt

; try(r1 = command, r2 = expected STATUS): starts it, prints E or D, counts
; a wrong status in r11.
try:
        push lr
        out r1, U+DK_CMD
        in r3, U+DK_STATUS
        beq r3, r2, t_right
        addi r11, r11, 1
t_right:
        andi r3, r3, S_ERROR
        li r1, 'D'
        beqz r3, t_print
        li r1, 'E'
t_print:
        call putc
        pop lr
        ret

        .include "../../programs/lib/console.inc"

            .org 0x800
pattern:    .string "attacker's own last sector"
            .org 0xa00
            .space 64
stack_top:
