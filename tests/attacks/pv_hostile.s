; pv_hostile.s: a paravirtual kernel that attacks pv's hypercalls (vmm.h
; enum vmm_pv_abi): shared areas and PTE batches at wild addresses (past
; memory, at the top of the 32-bit space, a pair count whose list would
; wrap), then, its timer interrupt masked, it spins for 100000 instructions
; (the slice must still take the CPU back), then it loads a forged
; supervisor PSW whose base lies past memory with bound 0xffffffff.  It
; prints one letter per answer: E for an error returned (-1, or a batch
; stopped at its first pair), X for anything else.  Under another mode, or
; bare, its first hcall is an ordinary trap without a handler.
; test_vmm_attacks.c runs it under pv next to paravirtual victims.

        .include "../../programs/lib/pv.inc"

        .macro answer           ; E when r1 is what an error is (r9), else X
        li r2, 'X'
        bne r1, r9, ans_\@
        li r2, 'E'
ans_\@:
        mov r1, r2
        hcall PV_CONSOLE
        .endm

_start:
        hcall PV_HELLO
        mov r8, r2              ; r8 = memory size
        li r9, -1
        addi r1, r8, -1         ; shared areas: the last word, 0xffffffff, a wrap
        hcall PV_SHARED
        answer
        li r1, -1
        hcall PV_SHARED
        answer
        li r1, -6
        hcall PV_SHARED
        answer
        li r1, -2               ; batches: a list at the top, a count that wraps
        li r2, 1
        hcall PV_PTE_BATCH
        answer
        la r1, wild
        li r2, 0x80000001       ; 2 * count wraps to 2 in 32 bits
        hcall PV_PTE_BATCH
        answer
        mov r9, r0              ; a batch stopped at pair 0: r1 = 0
        la r1, wild
        li r2, 1
        hcall PV_PTE_BATCH
        answer
        st r8, wild(r0)         ; the first word past memory
        la r1, wild
        li r2, 1
        hcall PV_PTE_BATCH
        answer
        li r1, '\n'
        hcall PV_CONSOLE
        la r1, shared           ; masked forever, a timer interrupt waiting
        hcall PV_SHARED
        li r1, 1
        hcall PV_TIMER_SET
        li r3, 100000
hog:
        addi r3, r3, -1
        bnez r3, hog
        hcall PV_PSW            ; the frame: a supervisor PSW past memory

wild:   .word 0xffffffff, 0x12345603
shared: .word 1, 0
        .word 1, 0, 0xfffffff0, 0xffffffff, 0   ; the PSW frame: M, pc 0
