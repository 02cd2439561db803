; relocation_overhang.s: a user program at the very end of the guest's
; memory, with a bound far past it.
;
; The kernel copies a small user program into the last 16 words of its
; memory and runs it with base = memsize - 16 and bound = 0x7fffffff.  Every
; virtual address from 16 on is then inside the bound but past the guest's
; memory: on a bare machine each access is a MEM trap, detail 3 (physical).
; A VMM that composed the relocation naively (real base = region + base,
; real bound = bound) would let these stores land in the NEXT guest's
; region.  The kernel counts the faults by detail and prints them.

        .equ M, 1
        .equ CAUSE, 5
        .equ C_MEM, 2
        .equ C_SVC, 5
        .equ PROBES, 48

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        addi r4, r3, -16        ; where the user program goes
        st r4, user_psw+2(r0)   ; its base
        la r5, user_code
        li r6, user_end-user_code
copy:   ld r7, 0(r5)
        st r7, 0(r4)
        addi r4, r4, 1
        addi r5, r5, 1
        addi r6, r6, -1
        bnez r6, copy
        la r1, s_start
        call say
        lpsw user_psw(r0)

; The user program: position independent, at virtual 0.
user_code:
        li r1, 16               ; the first address past the guest's memory
        li r2, 0x5eed
        li r3, PROBES
u_next: st r2, 0(r1)
        ld r4, 0(r1)
        addi r1, r1, 97
        addi r3, r3, -1
        bnez r3, u_next
        svc 0
user_end:

handler:
        ld r8, CAUSE(r0)
        andi r9, r8, 255
        li r10, C_MEM
        bne r9, r10, h_exit
        shri r8, r8, 8          ; detail
        ld r9, by_detail(r8)
        addi r9, r9, 1
        st r9, by_detail(r8)
        b skip_return
h_exit:
        la r1, s_bound
        ld r2, by_detail+0(r0)
        call puts_dec
        la r1, s_phys
        ld r2, by_detail+3(r0)
        call puts_dec
        ld r1, by_detail+1(r0)  ; status: faults of any other kind (0)
        ld r2, by_detail+2(r0)
        add r1, r1, r2
        halt

user_psw:  .word 0, 0, 0, 0x7fffffff, 0
by_detail: .word 0, 0, 0, 0
s_start:   .string "relocation_overhang: user program at the end of memory, bound 0x7fffffff"
s_bound:   .string "bound faults: "
s_phys:    .string "physical faults: "
        .space 32
stack_top:
        .include "common.inc"
