; hv.s: a hypervisor written by hand against the hardware-assist extension
; (isa/README.md, "The hardware-assist extension"); run it with --isa x86vt.
;
; The hypervisor (host supervisor mode) builds a control block and a
; second-level table (SLT), then runs a small guest kernel in guest mode
; with `vmenter`, handling its exits in a loop:
;
;   guest-physical           host-physical (the SLT, at SLT)
;   page 0 (trap area)  -->  frame 0x20 (0x2000): the guest's own page 0
;   pages 1 .. 0x1f     -->  the same frames: the guest's code at 0x400,
;                            console.inc at 0x100 shared with the host
;   0x2000 and up       -->  nothing (SLT bound): an SLT exit
;
; What the guest does without exiting: pushf, popf and srr read and write
; its own PSW (the critical instructions are harmless in guest mode: the
; guest PSW is the virtual one, and the SLT relocates it), its own timer
; interrupts go to its own handler through its own trap area (no exit:
; word 22 is 0), and it returns with lpsw.  What exits: every `out`
; (the port bitmap is all ones), which the hypervisor carries out on the
; real console, halt, which ends the guest, and the host's timer, which
; the hypervisor re-arms (its own preemption).
        .include "../lib/machine.inc"
        .equ BLOCK, 0x2800      ; the control block (VMCB_WORDS words)
        .equ SLT, 0x3000        ; the second-level table
        .equ GPAGES, 0x20       ; guest-physical pages
        .equ GWORDS, 0x2000     ; ... words
        .equ GPAGE0, 0x20       ; the host frame of guest page 0
        .equ SLICE, 300         ; host timer: instructions per guest slice
        .equ OPC_OUT, 0x48      ; `out`'s opcode (isa.def)

_start:
        la sp, hv_stack
        la r10, BLOCK
        li r1, GPAGES - 1       ; the SLT: page k -> frame k, V and W ...
slt_fill:
        shli r2, r1, PAGE_SHIFT
        ori r2, r2, 3           ; PTE_V | PTE_W
        st r2, SLT(r1)
        addi r1, r1, -1
        bnez r1, slt_fill
        li r2, 0x2003           ; ... and page 0 -> frame GPAGE0 (V, W)
        st r2, SLT(r0)
        li r1, M                ; the guest PSW: supervisor, IE off, pc guest
        st r1, VMCB_PSW+0(r10)
        la r1, guest
        st r1, VMCB_PSW+1(r10)
        st r0, VMCB_PSW+2(r10)  ; base 0: guest-physical, the SLT relocates
        li r1, GWORDS
        st r1, VMCB_PSW+3(r10)
        st r0, VMCB_PSW+4(r10)
        li r1, X_HALT           ; exits: halt; out by the port bitmap
        st r1, VMCB_EXIT_INSNS(r10)
        st r0, VMCB_EXIT_TRAPS(r10) ; every trap to the guest's handler
        li r1, -1
        st r1, VMCB_PORTS(r10)
        li r1, VMCB_CTRL_SLT
        st r1, VMCB_CTRL(r10)
        li r1, SLT
        st r1, VMCB_SLT_BASE(r10)
        li r1, GWORDS
        st r1, VMCB_SLT_BOUND(r10)
hv_loop:
        rtmr r1                 ; a slice for the guest when the last one
        bnez r1, hv_enter       ; ran out (in guest mode or in ours)
        li r1, SLICE
        stmr r1                 ; the host's timer runs on in guest mode
hv_enter:
        vmenter r10             ; runs the guest until an exit
        ld r1, exits(r0)
        addi r1, r1, 1
        st r1, exits(r0)
        ld r1, VMCB_EXIT_REASON(r10)
        li r2, EXIT_HOST_TIMER
        beq r1, r2, hv_timer
        li r2, EXIT_INSN
        bne r1, r2, hv_bad
        ld r2, VMCB_EXIT_INSN(r10)
        shri r3, r2, 24         ; the opcode
        li r4, OPC_OUT
        beq r3, r4, hv_out
        beqz r3, hv_bad
        addi r4, r0, 0x40       ; halt
        beq r3, r4, hv_done
hv_bad:
        la r1, s_bad
        call puts
        ld r1, VMCB_EXIT_REASON(r10)
        call putdec
        li r1, 1
        halt

hv_out:                         ; out rA, port: the guest's rA to the console
        shri r3, r2, 20
        andi r3, r3, 15         ; field a
        add r3, r3, r10
        ld r1, VMCB_REGS(r3)
        out r1, 0
        ld r1, outs(r0)
        addi r1, r1, 1
        st r1, outs(r0)
        ld r1, VMCB_PSW+1(r10)  ; past the instruction: it is done
        addi r1, r1, 1
        st r1, VMCB_PSW+1(r10)
        b hv_loop

hv_timer:                       ; our own slice ran out: count it, go on
        ld r1, slices(r0)
        addi r1, r1, 1
        st r1, slices(r0)
        b hv_loop

hv_done:
        la r1, s_done
        call puts
        ld r1, exits(r0)
        call putdec
        la r1, s_outs
        call puts
        ld r1, outs(r0)
        call putdec
        la r1, s_slices
        call puts
        ld r1, slices(r0)
        call putdec
        la r1, s_status
        call puts
        ld r1, VMCB_REGS+1(r10) ; the guest's r1
        call putdec
        call newline
        li r1, 0
        halt

exits:  .word 0
outs:   .word 0
slices: .word 0
        .space 16
hv_stack:

; ---- Shared with the guest (guest-physical = host-physical here).
        .org 0x100
        .include "../lib/console.inc"

; ---- The guest kernel: guest-physical, in guest supervisor mode.
        .equ TICKS, 3           ; timer interrupts to take
        .equ QUANTUM, 100
        .org 0x400
guest:
        la sp, g_stack
        la r1, g_hello
        call puts
        pushf r1                ; its own PSW: supervisor, IE off
        andi r2, r1, M
        la r1, g_user
        beqz r2, g_say_mode
        la r1, g_super
g_say_mode:
        call puts
        srr r2, r3              ; its own relocation: 0, GWORDS
        mov r1, r3
        call putdec
        call newline
        srr r2, r3              ; (the calls changed r2 and r3)
        li r1, M                ; the handler: supervisor, IE off, base 0
        st r1, NEW_PSW+0(r0)    ; (guest-physical 8..12: host 0x2008)
        la r1, g_tick
        st r1, NEW_PSW+1(r0)
        st r2, NEW_PSW+2(r0)
        st r3, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        li r1, QUANTUM
        stmr r1
        li r1, IE
        popf r1                 ; interrupts on: its own IE, no exit
g_wait:
        ld r1, g_ticks(r0)
        slti r2, r1, TICKS
        bnez r2, g_wait
        li r1, 0
        popf r1                 ; interrupts off
        la r1, g_count
        call puts
        ld r1, g_ticks(r0)
        call putdec
        call newline
        li r1, 42               ; the guest's exit status, seen by the host
        halt

g_tick:                         ; TIMER: delivered inside guest mode
        st r1, g_save(r0)
        ld r1, g_ticks(r0)
        addi r1, r1, 1
        st r1, g_ticks(r0)
        li r1, QUANTUM
        st r1, OLD_PSW+4(r0)    ; the next tick
        ld r1, g_save(r0)
        lpsw OLD_PSW(r0)

g_ticks: .word 0
g_save:  .word 0
g_hello: .string "guest: hello from guest mode\n"
g_super: .string "guest: pushf says supervisor, srr says bound "
g_user:  .string "guest: pushf says user, srr says bound "
g_count: .string "guest: timer interrupts taken: "
        .space 32
g_stack:

s_bad:    .string "hv: unexpected exit, reason "
s_done:   .string "hv: guest halted after "
s_outs:   .string " exits ("
s_slices: .string " console outputs, host timer slices "
s_status: .string "); guest r1 = "
