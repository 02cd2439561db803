; psw_forgery.s: every PSW a kernel can load, aimed at the host.
;
; Stage by stage the kernel loads forged PSWs and reports the trap each one
; ends in:
;   0  user mode, whose code lpsw's a supervisor PSW      -> PRIV
;   1  supervisor, base 0xfffff000 (past memory)           -> MEM physical at the fetch
;   2  supervisor, base 0xffffffff: base + pc only fits in 33 bits (a
;      VMM that wrapped at 32 bits would run host memory) -> MEM physical
;   3  every flag bit set (PG, TP, IE, M, and garbage)    -> TIMER at once
;   4  paging, page table past memory                     -> MEM physical
;   5  user mode with the timer at 0xffffffff and IE off: its code tries
;      stmr 1 and popf                                    -> PRIV, PRIV
; The handler prints cause, detail and value, then goes to the next stage.

_start:
        la sp, stack_top
        la r1, handler
        call install
        la r1, s_start
        call say
next_stage:
        ld r1, stage(r0)
        addi r2, r1, 1
        st r2, stage(r0)
        li r3, NSTAGES
        bge r1, r3, done
        shli r1, r1, 2          ; 5 words a PSW: r1 * 5
        ld r4, stage(r0)
        addi r4, r4, -1
        add r1, r1, r4
        la r2, forged
        add r2, r2, r1
        lpsw 0(r2)
done:
        la r1, s_done
        call say
        li r1, 0
        halt

u_lpsw: lpsw super(r0)          ; stage 0's user code: PRIV
u_timer:
        li r1, 1
        stmr r1                 ; PRIV
        popf r0                 ; PRIV
        b next_stage_svc
next_stage_svc:
        svc 9

handler:
        la r1, s_trap
        call puts
        ld r1, 5(r0)
        andi r1, r1, 255
        call putdec
        la r1, s_detail
        call puts
        ld r1, 5(r0)
        shri r1, r1, 8
        call putdec
        la r1, s_value
        call puts
        ld r1, 6(r0)
        call puthex
        call newline
        ld r1, 5(r0)            ; a PRIV from stage 5's code: skip it, go on
        andi r1, r1, 255
        li r2, 1
        bne r1, r2, h_next
        ld r1, stage(r0)
        li r2, 6
        bne r1, r2, h_next
        b skip_return
h_next: lpsw resume(r0)

        .equ NSTAGES, 6
forged: .word 0, u_lpsw, 0, 0x100000, 0                 ; 0
        .word 1, 0x10, 0xfffff000, 0x2000, 0            ; 1
        .word 1, 0x10, 0xffffffff, 0x2000, 0            ; 2
        .word 0xffffffff, 0x10, 0, 0x2000, 5            ; 3
        .word 5, 0x10, 0xffffff00, 0x1000, 0            ; 4
        .word 0, u_timer, 0, 0x100000, 0xffffffff       ; 5
super:  .word 1, 0, 0, 0xffffffff, 0
resume: .word 1, next_stage, 0, 0x100000, 0
stage:  .word 0
s_start:  .string "psw_forgery: loading forged PSWs"
s_trap:   .string "trap cause "
s_detail: .string " detail "
s_value:  .string " value "
s_done:   .string "all stages trapped where a bare machine traps"
        .space 32
stack_top:
        .include "common.inc"
