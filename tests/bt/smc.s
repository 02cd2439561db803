; smc.s: self-modifying code, for --vmm bt (tests/e2e/test_vmm_bt.sh).
;
; 1. The kernel calls f, which returns 1, then stores a new first
;    instruction over f (already run, so translated) and calls it again:
;    it must return 2.  A loop does it three times, each patch different.
; 2. The kernel stores a `pushf` and an `srr` into a user program that has
;    none when it starts, in its own window: the user program writes them
;    over its own code and jumps to them, and prints what they gave (its
;    virtual flags, base and bound: a VMM running it directly would show
;    the real ones).
; Output: "122334", then 7 (the slots as no-ops), the user flags, base
; >> 12 and bound >> 4 as hex digits, then ".".

        .include "../../programs/lib/machine.inc"
        .equ UBASE, 0x4000
        .equ UBOUND, 64

_start:
        la sp, 0x3000
        la r1, handler
        st r1, NEW_PSW+1(r0)
        li r1, M
        st r1, NEW_PSW(r0)
        st r0, NEW_PSW+2(r0)
        li r1, 0x100000
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)

        li r8, 0                ; three rounds: f returns k, then k+1
round:
        call f
        addi r1, r1, '0'
        out r1, 0
        ld r2, patch(r8)        ; f's new first instruction
        st r2, f(r0)
        call f
        addi r1, r1, '0'
        out r1, 0
        addi r8, r8, 1
        li r3, 3
        bne r8, r3, round

        ; copy the user program to UBASE and run it
        la r1, user
        li r2, UBASE
        li r3, user_end-user
copy:   ld r4, 0(r1)
        st r4, 0(r2)
        addi r1, r1, 1
        addi r2, r2, 1
        addi r3, r3, -1
        bnez r3, copy
        lpsw upsw(r0)

handler:                        ; svc 1: print r1 as a hex digit; svc 0: done
        ld r12, CAUSE(r0)       ; (r12, r13 are the handler's own)
        andi r12, r12, CAUSE_MASK
        li r13, C_SVC
        bne r12, r13, dead
        ld r12, VALUE(r0)
        beqz r12, done
        andi r12, r1, 15
        ld r12, hex(r12)
        out r12, 0
        lpsw OLD_PSW(r0)
done:   li r1, '.'
        out r1, 0
        li r1, 10
        out r1, 0
        li r1, 0
        halt
dead:   li r1, '!'
        out r1, 0
        li r1, 3
        halt

f:      addi r1, r0, 1
        ret
patch:  addi r1, r0, 2
        addi r1, r0, 3
        addi r1, r0, 4
hex:    .string "0123456789abcdef"
upsw:   .word 0, 0, UBASE, UBOUND, 0

; The user program (virtual 0 = UBASE): runs its two slots (no-ops) once,
; then writes pushf r1 and srr r2, r3 over them, runs them again and
; prints flags, base >> 12 and bound >> 4.  Jumps are absolute: virtual.
user:
        addi r1, r0, 7
        jmp 16                  ; the slots as they are: prints 7
again:  ld r4, 25(r0)           ; the pushf word
        st r4, 16(r0)
        ld r4, 26(r0)           ; the srr word
        st r4, 17(r0)
        addi r6, r0, 1
        jmp 16
        .org user+16
        addi r0, r0, 0          ; slot: becomes pushf r1
        addi r0, r0, 0          ; slot: becomes srr r2, r3
        svc 1
        beqz r6, again
        shri r1, r2, 12         ; base >> 12
        svc 1
        shri r1, r3, 4          ; bound >> 4
        svc 1
        svc 0
        pushf r1                ; virtual 25, 26: the words written
        srr r2, r3
user_end:
