; disk_passthrough_escape.s: a kernel that reads a sector into the memory
; just past its own, where its neighbour lives on the real machine.
;
; It sets its unit's DMA_BOUND to 0xffffffff and DMA_BASE to MEMSIZE + 272,
; then reads a sector (zeros).  On a bare machine the command fails
; (DMA_BASE + ADDR + 256 > MEMSIZE: ERROR), and so it must under every VMM:
; hypervisor-direct checks it, passthrough's IOMMU (the guest's DMA window
; composed with its region) refuses it.  With `--io passthrough
; --no-iommu` the real unit takes the guest's DMA_BASE as it is, and the
; sector lands on real word MEMSIZE + 272: with whole-page guests, word 16
; of the next guest's region, its code, which the zeros turn into ILL
; traps.  That is the escape tests/e2e/test_disk.sh shows on purpose.
; Without a disk (SIZE 0) it just halts.  It prints E (refused) or D.

        .include "../../programs/lib/machine.inc"

        .equ U, DISK0

_start:
        la sp, stack_top
        in r1, U+DK_SIZE
        bnez r1, have_disk
        li r1, 0
        halt
have_disk:
        srr r9, r10                     ; r10 = memory size
        li r1, -1
        out r1, U+DK_DMA_BOUND
        addi r1, r10, 272
        out r1, U+DK_DMA_BASE
        out r0, U+DK_ADDR
        out r0, U+DK_SECTOR
        li r1, CMD_READ
        out r1, U+DK_CMD
        in r8, U+DK_STATUS
        andi r8, r8, S_ERROR
        li r1, 'E'
        bnez r8, report
        li r1, 'D'
report:
        call putc
        call newline
        xori r1, r8, S_ERROR            ; 0 when refused
        halt

        .include "../../programs/lib/console.inc"
            .space 32
stack_top:
