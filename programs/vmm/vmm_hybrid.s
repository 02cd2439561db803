; vmm_hybrid.s: the asm VMM as a hybrid virtual machine monitor (Popek and
; Goldberg's Theorem 3), for the `hybrid` variant.
;
; On `hybrid`, popf is critical: sensitive (it writes IE) but not
; privileged (in user mode it executes, silently ignoring IE).  vmm.s runs
; its guest's kernel in real user mode, so a kernel's popf never reaches it
; and the kernel's interrupts stay on (`trapeze equiv --isa hybrid --stack
; asm programs/critical.s` fails).  This build runs the guest's virtual
; user mode directly, as vmm.s does, but *interprets* its virtual
; supervisor mode, one instruction at a time, in software: no instruction
; of the kernel ever runs on the processor, so no critical instruction can
; escape.  Theorem 3 asks no more: every critical instruction of hybrid is
; one of user mode that behaves the same in real and virtual user mode.
;
; It is vmm.s (included whole) and this file.  The only changes to vmm.s's
; paths are made at start, by writing four words of its code (the machine
; has no instruction cache; vmm.s's slots work the same way):
;
;   resume_reset, resume_loaded, resume_reflected   (each `lpsw rpsw(r0)`)
;        -> jmp hy_resume: a PSW of virtual supervisor mode is loaded as
;           the *gate*, unpaged with bound 0, so the guest cannot fetch a
;           single instruction: it traps at once (MEM, bound), after the
;           hardware has taken any interrupt its IE and TP allow
;   reflect_mem (its first word)
;        -> jmp hy_mem: a MEM trap in virtual supervisor mode is the gate's
;           fault, and the interpreter runs from the saved pc
;
; So the dispatcher, the routines of every system instruction, reflection,
; the shadow tables, the virtual disk and the stops are vmm.s's, unchanged.
; The interpreter (hy_enter, hy_next) carries out every instruction of
; isa.def over the guest's registers, saved whole in gregs, and its memory,
; through its virtual PSW (vflags, vbase, vbound: the f-map and the guest's
; own page table, read directly, as its hardware reads it):
;
;   ALU, lui, ld, st, branches, jumps    carried out here, on gregs, then
;                                        retired: pc, the virtual timer,
;                                        n_emulated and n_interpreted
;   the system instructions              vmm.s's routine (by_opcode), with
;                                        the guest's registers back; its
;                                        tail resumes through the gate
;   DIV, ILL (vmenter too: hybrid has    reflected (vmm.s's reflect_go) with
;   no assist), svc, hcall, MEM          the cause, detail, value and pc its
;                                        hardware gives
;   timer: TP set with IE on             out through the gate: the hardware
;                                        takes the interrupt there
;
; Interrupts: the hardware checks them at every gate, and the interpreter
; passes through one after every system instruction (an IO interrupt can
; become pending, or IE turn on, only there) and when TP rises with IE on.
;
; The run reads a level's registers from the processor at the guest's last
; trap (vmm/run/run.c, note_suspension), so the interpreter reflects a trap
; or runs halt or lpsw (whose fault is a trap) only as the first
; instruction after a gate (hy_fresh); anywhere else it first goes out
; through the gate at that instruction and back.  So when the guest halts or stops, the registers
; the run shows are the guest's.
;
; The cost: a gate is an lpsw and a trap (about 30 instructions of vmm.s's
; path and this file's); an interpreted instruction about 25
; (programs/vmm/README.md, "The hybrid build", measures it).

        .include "vmm.s"
        .entry hy_start

; ---- Macros ----------------------------------------------------------------------

; REG rd, field: rd = the guest's register named by `field` (FIELD_A, _B,
; _C) of the instruction in r1.
        .macro REG rd, field
        shri \rd, r1, \field
        andi \rd, \rd, REG_MASK
        ld \rd, gregs(\rd)
        .endm

; SET_A value: the guest's register named by field a of r1 = value (r0:
; dropped, gregs+0 stays 0).  Changes r2.
        .macro SET_A_TO value
        shri r2, r1, FIELD_A
        andi r2, r2, REG_MASK
        st \value, gregs(r2)
        st r0, gregs+0(r0)
        .endm

; SIMM rd: rd = the sign-extended imm16 of r1.
        .macro SIMM rd
        shli \rd, r1, 32-IMM16_BITS
        srai \rd, \rd, 32-IMM16_BITS
        .endm

; RESTORE_ALL / SAVE_ALL: the guest's r1..r15 from / into gregs.
        .macro RESTORE_5_15
        ld r5, gregs+5(r0)
        ld r6, gregs+6(r0)
        ld r7, gregs+7(r0)
        ld r8, gregs+8(r0)
        ld r9, gregs+9(r0)
        ld r10, gregs+10(r0)
        ld r11, gregs+11(r0)
        ld r12, gregs+12(r0)
        ld r13, gregs+13(r0)
        ld r14, gregs+14(r0)
        ld r15, gregs+15(r0)
        .endm
        .macro RESTORE_3_15
        ld r3, gregs+3(r0)
        ld r4, gregs+4(r0)
        RESTORE_5_15
        .endm
        .macro RESTORE_ALL
        ld r1, gregs+1(r0)
        ld r2, gregs+2(r0)
        RESTORE_3_15
        .endm
; ---- Start: four words of vmm.s's code ------------------------------------------

hy_start:
        ld r1, hy_jmp_resume(r0)        ; the resumes go through the gate
        st r1, resume_reset(r0)
        st r1, resume_loaded(r0)
        st r1, resume_reflected(r0)
        ld r1, hy_jmp_mem(r0)           ; and the gate's fault here
        st r1, reflect_mem(r0)

        call hy_init            ; the interpreter's own start
        mov r15, r0             ; (vmm.s's start leaves r5..r15 as at reset)
        jmp _start              ; vmm.s's start: the guest starts at the gate

; ---- The gate ---------------------------------------------------------------------

; hy_resume: in place of vmm.s's `lpsw rpsw(r0)`, every register the
; guest's.  A PSW of virtual supervisor mode becomes the gate; the real PG
; and bound it had are kept for emu_lpsw (hy_lpsw).
hy_resume:
        st r1, hy_r1(r0)
        ld r1, vflags(r0)
        andi r1, r1, M
        beqz r1, hy_direct      ; virtual user mode: directly, as vmm.s
        ld r1, rpsw+0(r0)
        st r1, hy_real_flags(r0)
        andi r1, r1, IE+TP      ; unpaged,
        st r1, rpsw+0(r0)
        ld r1, rpsw+3(r0)
        st r1, hy_real_bound(r0)
        st r0, rpsw+3(r0)       ; bound 0: its first fetch faults
hy_direct:
        ld r1, hy_r1(r0)
        lpsw rpsw(r0)

; hy_mem: in place of reflect_mem's first word (r1 = the cause word, the
; guest's r1 and r2 in gregs).  In virtual supervisor mode nothing of the
; guest runs but at the gate, so a MEM trap there is the gate's.
hy_mem:
        ld r2, vflags(r0)
        andi r2, r2, M
        bnez r2, hy_enter
        st r3, gregs+3(r0)      ; the word it replaced (SAVE34's first)
        jmp reflect_mem+1

; hy_exit: out through the gate at the saved pc, the guest's registers
; back: the hardware takes an interrupt that is due, or faults at the gate
; and the interpreter goes on, with the run's view of the guest made new.
hy_exit:
        RESTORE_ALL
        lpsw OLD_PSW(r0)

; ---- The interpreter ------------------------------------------------------------
;
; (labs/lab3-hybrid's starter is this file with everything from here to
; "Data" cut out: labs/lab3-hybrid/make_starter.sh.)  What the rest of the
; file asks of it: hy_init, called once at start (r1..r4 free); hy_enter,
; where the gate's fault lands (OLD_PSW the guest's PSW with the pc of the
; instruction to run, its r1 and r2 in gregs, the rest live); n_emulated
; and n_interpreted kept as above; the way out is hy_exit, vmm.s's emulate
; and reflect_go.

; hy_init: the table by opcode and the slots' register fields.
hy_init:
        li r1, 256-4            ; hy_by_opcode: undefined opcodes are ILL
        addi r2, r0, hy_ill
hy_fill:
        st r2, hy_by_opcode+0(r1)
        st r2, hy_by_opcode+1(r1)
        st r2, hy_by_opcode+2(r1)
        st r2, hy_by_opcode+3(r1)
        addi r1, r1, -4
        bge r1, r0, hy_fill
        addi r1, r0, routines   ; vmm.s's system instructions: its routines
        addi r3, r0, hy_system
hy_next_system:
        ld r2, 0(r1)
        beqz r2, hy_system_done
        shri r2, r2, OPCODE_SHIFT
        st r3, hy_by_opcode(r2)
        addi r1, r1, 2
        b hy_next_system
hy_system_done:
        addi r1, r0, hy_templates       ; then every other instruction
hy_next_template:
        ld r2, 0(r1)
        beqz r2, hy_templates_done
        shri r2, r2, OPCODE_SHIFT
        ld r3, 1(r1)
        st r3, hy_by_opcode(r2)
        addi r1, r1, 2
        b hy_next_template
hy_templates_done:
        ld r1, hy_alu_r_slot(r0)        ; the slots' register fields, from
        shli r1, r1, 32-OPCODE_SHIFT    ; the instructions assembled there
        shri r1, r1, 32-OPCODE_SHIFT
        st r1, hy_alu_r_fields(r0)
        ld r1, hy_alu_i_slot(r0)
        shri r1, r1, IMM16_BITS
        andi r1, r1, 0xff       ; fields a and b
        shli r1, r1, IMM16_BITS
        st r1, hy_alu_i_fields(r0)
        li r1, 0xff             ; and what the guest's word keeps: all but
        shli r1, r1, IMM16_BITS ; fields a and b
        addi r2, r0, -1
        xor r1, r1, r2
        st r1, hy_alu_i_keep(r0)
        ld r1, hy_branch_slot(r0)
        shli r1, r1, 32-OPCODE_SHIFT
        shri r1, r1, 32-OPCODE_SHIFT
        st r1, hy_branch_fields(r0)
        ret


; hy_enter: the gate faulted; OLD_PSW is the guest's PSW (the gate: IE, TP,
; pc, timer are the virtual ones), r1 and r2 in gregs, the rest live.
hy_enter:
        st r3, gregs+3(r0)
        st r4, gregs+4(r0)
        st r5, gregs+5(r0)
        st r6, gregs+6(r0)
        st r7, gregs+7(r0)
        st r8, gregs+8(r0)
        st r9, gregs+9(r0)
        st r10, gregs+10(r0)
        st r11, gregs+11(r0)
        st r12, gregs+12(r0)
        st r13, gregs+13(r0)
        st r14, gregs+14(r0)
        st r15, gregs+15(r0)
        li r1, 1
        st r1, hy_fresh(r0)
        ld r6, n_emulated(r0)
        mov r14, r0             ; the fast way, unpaged: va < r14 is at
        ld r12, vflags(r0)      ; r13 + va (min(bound, GMEM - base) and
        andi r12, r12, PG       ; GUEST_BASE + base; paged, none)
        bnez r12, hy_next
        ld r13, vbase(r0)
        ld r12, gmem(r0)
        bgeu r13, r12, hy_next
        sub r12, r12, r13
        ld r14, vbound(r0)
        addi r13, r13, GUEST_BASE
        bltu r14, r12, hy_next
        mov r14, r12
        b hy_next

; Retiring: the instruction completed; r7 its result for field a
; (hy_write), r8 the next pc (hy_retire_at) or the pc (hy_retire).  Its
; every effect is written before n_emulated, the run's count of the
; guest's steps, and that store falls into hy_next: wherever the run
; finds this machine at hy_next (interp_next, exported), the guest is
; whole in gregs and OLD_PSW, as at the end of its step (the debugger's
; view of an interpreted level, vmm/run/run.c).
hy_write:
        SET_A_TO r7
hy_retire:
        addi r8, r8, 1
hy_retire_at:
        st r8, OLD_PSW+1(r0)
        st r0, hy_fresh(r0)
        ld r2, n_interpreted(r0)
        addi r2, r2, 1
        st r2, n_interpreted(r0)
        ld r2, OLD_PSW+4(r0)    ; the virtual timer, charged (ISA.md)
        beqz r2, hy_commit
        addi r2, r2, -1
        st r2, OLD_PSW+4(r0)
        bnez r2, hy_commit
        ld r2, OLD_PSW+0(r0)    ; it reached 0: TP
        ori r2, r2, TP
        st r2, OLD_PSW+0(r0)
        andi r2, r2, IE
        beqz r2, hy_commit
        li r2, 1                ; and IE: the interrupt, at the gate, once
        st r2, yield_request(r0) ; the step is counted
hy_commit:
        addi r6, r6, 1
        st r6, n_emulated(r0)

; hy_next: the instruction at the guest's pc.  In the interpreter r1 is
; the instruction, r8 the pc, r6 n_emulated, r13 and r14 the fast way;
; r9..r12 are hy_translate's (r5 = 1 for a store).
hy_next:
interp_next:
        ld r2, yield_request(r0) ; asked for the guest whole (the run, or
        bnez r2, hy_yield       ; an interrupt due): out through the gate
        ld r8, OLD_PSW+1(r0)
        bgeu r8, r14, hy_fetch_slow
        add r10, r8, r13
hy_fetched:
        ld r1, 0(r10)
        shri r2, r1, OPCODE_SHIFT
        ld r2, hy_by_opcode(r2)
        jr r2
hy_fetch_slow:
        mov r9, r8
        mov r5, r0
        call hy_translate       ; r10 = where, or r11 = the fault
        bnez r11, hy_fault
        b hy_fetched

hy_yield:
        st r0, yield_request(r0)
        b hy_exit

; R-format arithmetic: the guest's opcode on r4 and r5, in a slot.
hy_alu_r:
        REG r4, FIELD_B
        REG r5, FIELD_C
hy_alu_r_go:
        shri r2, r1, OPCODE_SHIFT
        shli r2, r2, OPCODE_SHIFT
        ld r3, hy_alu_r_fields(r0)
        or r2, r2, r3
        st r2, hy_alu_r_slot(r0)
hy_alu_r_slot:
        add r7, r4, r5          ; (its fields are the template)
        b hy_write

hy_div:                         ; div, rem: by zero, the DIV trap
        REG r4, FIELD_B
        REG r5, FIELD_C
        bnez r5, hy_alu_r_go
        li r1, C_DIV
        mov r2, r0
        b hy_trap

; I-format arithmetic and lui: the guest's opcode and imm16 on r4.
hy_alu_i:
        REG r4, FIELD_B
        ld r3, hy_alu_i_keep(r0)
        and r2, r1, r3
        ld r3, hy_alu_i_fields(r0)
        or r2, r2, r3
        st r2, hy_alu_i_slot(r0)
hy_alu_i_slot:
        addi r7, r4, 0          ; (its fields are the template)
        b hy_write

hy_ld:                          ; ld rd, imm(rs)
        REG r9, FIELD_B
        SIMM r2
        add r9, r9, r2
        bgeu r9, r14, hy_ld_slow
        add r10, r9, r13
hy_ld_go:
        ld r7, 0(r10)
        b hy_write
hy_ld_slow:
        mov r5, r0
        call hy_translate
        bnez r11, hy_fault
        b hy_ld_go

hy_st:                          ; st rd, imm(rs)
        REG r9, FIELD_B
        SIMM r2
        add r9, r9, r2
        bgeu r9, r14, hy_st_slow
        add r10, r9, r13
hy_st_go:
        REG r7, FIELD_A
        st r7, 0(r10)
        b hy_retire
hy_st_slow:
        li r5, 1
        call hy_translate
        bnez r11, hy_fault
        b hy_st_go

hy_branch:                      ; beq .. bgeu ra, rb: the guest's opcode on
        REG r3, FIELD_A         ; r3 and r4 in a slot that skips one word
        REG r4, FIELD_B         ; when taken
        shri r2, r1, OPCODE_SHIFT
        shli r2, r2, OPCODE_SHIFT
        ld r5, hy_branch_fields(r0)
        or r2, r2, r5
        st r2, hy_branch_slot(r0)
        addi r8, r8, 1
hy_branch_slot:
        beq r3, r4, hy_branch_taken     ; (its fields are the template)
        b hy_retire_at
hy_branch_taken:
        SIMM r2
        add r8, r8, r2
        b hy_retire_at

hy_jmp:                         ; jmp: pc = imm24
        shli r8, r1, 32-IMM24_BITS
        shri r8, r8, 32-IMM24_BITS
        b hy_retire_at

hy_call:                        ; call: r15 = pc + 1, pc = imm24
        addi r2, r8, 1
        st r2, gregs+15(r0)
        b hy_jmp

hy_jr:                          ; jr rs: pc = rs
        REG r8, FIELD_A
        b hy_retire_at

hy_callr:                       ; callr rs: r15 = pc + 1, pc = rs (read first)
        REG r3, FIELD_A
        addi r2, r8, 1
        st r2, gregs+15(r0)
        mov r8, r3
        b hy_retire_at

hy_svc:                         ; svc imm: trap SVC, value imm, pc the next
        SIMM r2
        li r1, C_SVC
        addi r8, r8, 1
        b hy_trap
hy_hcall:                       ; hcall imm: the same, HCALL
        SIMM r2
        li r1, C_HCALL
        addi r8, r8, 1
        b hy_trap

hy_ill:                         ; an undefined opcode: ILL, value the word
        mov r2, r1
        li r1, C_ILL
        b hy_trap

; hy_fault: the access to r9 faulted with cause word r11.
hy_fault:
        mov r1, r11
        mov r2, r9

; hy_trap: the instruction at the guest's pc traps: r1 = cause | detail
; << 8, r2 = the value, r8 = the pc the trap saves.  vmm.s reflects it,
; from the first instruction after a gate (hy_fresh).
hy_trap:
        ld r3, hy_fresh(r0)
        beqz r3, hy_exit
        st r2, VALUE(r0)
        st r8, OLD_PSW+1(r0)
        RESTORE_5_15            ; r1..r4 in gregs: reflect_go ends with
        jmp reflect_go          ; RESTORE4

; hy_lpsw: vmm.s's emu_lpsw translates its operand under the real PSW
; that ran the guest: the gate's, but for its PG and bound.
hy_lpsw:
        ld r3, hy_fresh(r0)
        beqz r3, hy_exit
        ld r2, hy_real_flags(r0)
        andi r2, r2, PG
        ld r3, OLD_PSW+0(r0)
        or r3, r3, r2
        st r3, OLD_PSW+0(r0)
        ld r2, hy_real_bound(r0)
        st r2, OLD_PSW+3(r0)

; hy_halt: halt stops the guest: from the first instruction after a gate.
hy_halt:
        ld r3, hy_fresh(r0)
        beqz r3, hy_exit

; hy_system: a system instruction, by vmm.s's routine as if it had
; trapped (VALUE the instruction, OLD_PSW the guest's, r1 and r2 in
; gregs); the routine resumes through the gate.  Only halt and lpsw (whose
; fault may stop the guest) wait for a gate first: the others never stop.
hy_system:
        st r1, VALUE(r0)
        RESTORE_3_15
        jmp emulate

; hy_translate: r9 = a virtual address of the guest, r5 = 1 for a store
; -> r10 = where it is in this machine and r11 = 0, or r11 = the cause word
; of the guest's fault (ISA.md's order: bound, V, W, physical).  Reads the
; guest's own page table, as its hardware does.  Changes r12.
hy_translate:
        ld r12, vflags(r0)
        andi r12, r12, PG
        bnez r12, hy_tr_paged
        ld r12, vbound(r0)
        bgeu r9, r12, hy_tr_bound
        ld r12, vbase(r0)
        add r10, r12, r9
        bltu r10, r12, hy_tr_physical   ; base + va past 2^32
        ld r12, gmem(r0)
        bgeu r10, r12, hy_tr_physical
        addi r10, r10, GUEST_BASE
        mov r11, r0
        ret
hy_tr_paged:
        shri r10, r9, PAGE_SHIFT        ; the vpn
        ld r12, vbound(r0)
        bgeu r10, r12, hy_tr_bound
        ld r12, vbase(r0)
        add r10, r12, r10               ; its entry, guest-physical
        bltu r10, r12, hy_tr_physical
        ld r12, gmem(r0)
        bgeu r10, r12, hy_tr_physical
        ld r10, GUEST_BASE(r10)
        andi r11, r10, PTE_V
        beqz r11, hy_tr_invalid
        beqz r5, hy_tr_frame
        andi r11, r10, PTE_W
        beqz r11, hy_tr_write
hy_tr_frame:
        shri r10, r10, PAGE_SHIFT
        shli r10, r10, PAGE_SHIFT
        andi r11, r9, PAGE_WORDS-1
        or r10, r10, r11
        bgeu r10, r12, hy_tr_physical   ; (r12 = gmem)
        addi r10, r10, GUEST_BASE
        mov r11, r0
        ret
hy_tr_bound:
        li r11, C_MEM_BOUND
        ret
hy_tr_invalid:
        li r11, C_MEM_INVALID
        ret
hy_tr_write:
        li r11, C_MEM_WRITE
        ret
hy_tr_physical:
        li r11, C_MEM_PHYSICAL
        ret

; The interpreter's routine by instruction (the system instructions come
; from vmm.s's `routines`; lpsw is overridden here).
hy_templates:
        add r0, r0, r0
        .word hy_alu_r
        sub r0, r0, r0
        .word hy_alu_r
        mul r0, r0, r0
        .word hy_alu_r
        div r0, r0, r0
        .word hy_div
        rem r0, r0, r0
        .word hy_div
        and r0, r0, r0
        .word hy_alu_r
        or r0, r0, r0
        .word hy_alu_r
        xor r0, r0, r0
        .word hy_alu_r
        shl r0, r0, r0
        .word hy_alu_r
        shr r0, r0, r0
        .word hy_alu_r
        sra r0, r0, r0
        .word hy_alu_r
        slt r0, r0, r0
        .word hy_alu_r
        sltu r0, r0, r0
        .word hy_alu_r
        addi r0, r0, 0
        .word hy_alu_i
        andi r0, r0, 0
        .word hy_alu_i
        ori r0, r0, 0
        .word hy_alu_i
        xori r0, r0, 0
        .word hy_alu_i
        shli r0, r0, 0
        .word hy_alu_i
        shri r0, r0, 0
        .word hy_alu_i
        srai r0, r0, 0
        .word hy_alu_i
        slti r0, r0, 0
        .word hy_alu_i
        lui r0, 0
        .word hy_alu_i
        ld r0, 0(r0)
        .word hy_ld
        st r0, 0(r0)
        .word hy_st
        beq r0, r0, .
        .word hy_branch
        bne r0, r0, .
        .word hy_branch
        blt r0, r0, .
        .word hy_branch
        bge r0, r0, .
        .word hy_branch
        bltu r0, r0, .
        .word hy_branch
        bgeu r0, r0, .
        .word hy_branch
        jmp 0
        .word hy_jmp
        call 0
        .word hy_call
        jr r0
        .word hy_jr
        callr r0
        .word hy_callr
        svc 0
        .word hy_svc
        hcall 0
        .word hy_hcall
        lpsw 0(r0)
        .word hy_lpsw
        halt
        .word hy_halt
        .word 0

; The interpreter's data.
hy_fresh:        .word 0        ; 1 until the first instruction after a gate
hy_alu_r_fields: .word 0        ; the slots' register fields
hy_alu_i_fields: .word 0
hy_alu_i_keep:   .word 0
hy_branch_fields: .word 0
hy_by_opcode:    .space 256     ; the interpreter's routine by opcode

; ---- Data ----------------------------------------------------------------------

; The start's templates: never executed here.
hy_jmp_resume: jmp hy_resume
hy_jmp_mem:    jmp hy_mem

; Exported (programs/vmm/README.md): the guest's instructions the
; interpreter carried out itself (n_emulated counts them too, and the
; system instructions of virtual supervisor mode).
n_interpreted: .word 0
; Exported: the run writes 1 here when a budget of guest steps runs out
; while the interpreter runs (vmm/run/run.c, run_go): the interpreter
; leaves through the gate before the guest's next instruction, and the run
; stops there, the guest whole.
yield_request: .word 0

; Private.
hy_r1:           .word 0
hy_real_flags:   .word 0        ; the real PSW the gate replaced: PG, bound
hy_real_bound:   .word 0
hybrid_end:                     ; below SHADOW (tests/e2e/test_hybrid.sh)
