; shadow_many_spaces.s: ten address spaces, switched round-robin, each
; writing the next one's page table.
;
; Process p (0..9) has its own table Tp (frame 0x10 + p, bound 4):
;   vpn 0  the program (shared, read-only)
;   vpn 1  its counter page: Dp (frame 0x20 + p) or Ap (frame 0x30 + p)
;   vpn 2  the NEXT process's table, writable
;   vpn 3  its own table, read-only
; Each step a process counts in its counter page and records which page
; that is (its own vpn 1 entry, read through vpn 3); every 8th step it
; moves the next process's vpn 1 to that process's other page, by a store
; into the next table, which the next process only relies on after the
; kernel has loaded its PSW (the flush); every 16th it yields (svc 0); at
; 40 it exits (svc 1).  The timer (23 instructions) preempts it anywhere.
; Ten tables are more than a monitor that keeps a few shadow tables per
; guest holds (the C VMM: 8), so it must evict and rebuild them as the
; spaces turn, and
; keep write-protected (or re-read) the tables it still holds when another
; space writes them.  The report prints every counter page.

        .include "shadow.inc"
        .equ NPROC, 10
        .equ QUANTUM, 23
        .equ PCB_WORDS, 10      ; PSW, r1..r4, done

_start:
        la sp, stack_top
        la r1, handler
        call install
        mov r5, r0              ; the tables and the PCBs
init:   shli r6, r5, 8
        li r1, 0x400+PTE_V
        st r1, 0x1000(r6)       ; vpn 0: the program
        li r1, 0x2000+PTE_V+PTE_W
        add r1, r1, r6
        st r1, 0x1001(r6)       ; vpn 1: Dp
        addi r2, r5, 1
        li r3, NPROC
        bne r2, r3, init_next
        mov r2, r0
init_next:
        shli r2, r2, 8
        li r1, 0x1000+PTE_V+PTE_W
        add r1, r1, r2
        st r1, 0x1002(r6)       ; vpn 2: the next table
        li r1, 0x1000+PTE_V
        add r1, r1, r6
        st r1, 0x1003(r6)       ; vpn 3: its own table
        li r1, PCB_WORDS
        mul r7, r5, r1
        la r1, pcbs
        add r7, r7, r1
        li r1, PG+IE
        st r1, 0(r7)
        st r0, 1(r7)
        li r1, 0x1000
        add r1, r1, r6
        st r1, 2(r7)
        li r1, 4
        st r1, 3(r7)
        li r1, QUANTUM
        st r1, 4(r7)
        addi r5, r5, 1
        slti r1, r5, NPROC
        bnez r1, init
        la r1, s_start
        call say
        mov r8, r0
        b run                   ; process 0 first

handler:
        ld r8, current(r0)      ; save the current process
        li r9, PCB_WORDS
        mul r9, r8, r9
        la r10, pcbs
        add r9, r9, r10
        ld r10, OLD_PSW+0(r0)
        st r10, 0(r9)
        ld r10, OLD_PSW+1(r0)
        st r10, 1(r9)
        ld r10, OLD_PSW+2(r0)
        st r10, 2(r9)
        ld r10, OLD_PSW+3(r0)
        st r10, 3(r9)
        st r1, 5(r9)
        st r2, 6(r9)
        st r3, 7(r9)
        st r4, 8(r9)
        ld r10, CAUSE(r0)
        andi r11, r10, CAUSE_MASK
        li r12, C_SVC
        bne r11, r12, h_not_svc
        ld r12, VALUE(r0)
        beqz r12, h_switch      ; svc 0: yield
        li r12, 1
        st r12, 9(r9)           ; svc 1: done
        b h_switch
h_not_svc:
        li r12, C_TIMER
        beq r11, r12, h_timer
        ld r12, others(r0)      ; anything else: counted, skipped
        addi r12, r12, 1
        st r12, others(r0)
        ld r12, 1(r9)
        addi r12, r12, 1
        st r12, 1(r9)
        b h_switch
h_timer:
        ld r12, preempted(r0)
        addi r12, r12, 1
        st r12, preempted(r0)
h_switch:
        li r13, NPROC           ; the next process not done, round-robin
h_pick: addi r8, r8, 1
        li r12, NPROC
        bne r8, r12, h_try
        mov r8, r0
h_try:  li r12, PCB_WORDS
        mul r9, r8, r12
        la r12, pcbs
        add r9, r9, r12
        ld r12, 9(r9)
        beqz r12, run
        addi r13, r13, -1
        bnez r13, h_pick
        b report

run:    st r8, current(r0)      ; r8 = the process: load it
        ld r12, switches(r0)
        addi r12, r12, 1
        st r12, switches(r0)
        li r9, PCB_WORDS
        mul r9, r8, r9
        la r12, pcbs
        add r9, r9, r12
        li r12, QUANTUM
        st r12, 4(r9)
        ld r1, 5(r9)
        ld r2, 6(r9)
        ld r3, 7(r9)
        ld r4, 8(r9)
        lpsw 0(r9)

report: mov r8, r0
r_next: la r1, s_proc
        mov r2, r8
        call puts_dec
        shli r9, r8, 8
        la r1, s_d
        ld r2, 0x2000(r9)
        call puts_dec
        la r1, s_a
        ld r2, 0x3000(r9)
        call puts_dec
        la r1, s_page
        call puts
        ld r1, 0x2001(r9)
        call puthex
        li r1, ' '
        call putc
        ld r1, 0x3001(r9)
        call puthex
        call newline
        addi r8, r8, 1
        slti r1, r8, NPROC
        bnez r1, r_next
        la r1, s_sw
        ld r2, switches(r0)
        call puts_dec
        la r1, s_other
        ld r2, others(r0)
        call puts_dec
        li r1, 0
        halt

current:   .word 0
switches:  .word 0
preempted: .word 0
others:    .word 0
pcbs:      .space 100           ; NPROC * PCB_WORDS
s_start:   .string "shadow_many_spaces: ten address spaces, round-robin"
s_proc:    .string "process "
s_d:       .string "  counter in D: "
s_a:       .string "  counter in A: "
s_page:    .string "  its vpn 1 entry, last seen from D and A: "
s_sw:      .string "switches: "
s_other:   .string "other traps: "
           .space 32
stack_top:

; The program every process runs, at virtual 0.
        .org 0x400
prog:
p_loop: ld r1, 0x100(r0)        ; count
        addi r1, r1, 1
        st r1, 0x100(r0)
        ld r2, 0x301(r0)        ; its own vpn 1 entry, through vpn 3
        st r2, 0x101(r0)
        andi r3, r1, 7
        bnez r3, p_keep
        ld r2, 0x201(r0)        ; the next process's vpn 1: its other page
        xori r2, r2, 0x1000
        st r2, 0x201(r0)
p_keep: andi r3, r1, 15
        bnez r3, p_go
        svc 0                   ; yield
p_go:   slti r3, r1, 40
        bnez r3, p_loop
        svc 1                   ; done
        b p_loop                ; (not reached)

        .org 0x500
        .include "common.inc"
