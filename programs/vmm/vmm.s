; vmm.s: a trap-and-emulate virtual machine monitor written in the toy ISA.
;
; It runs one guest on whatever machine it finds itself on -- the bare
; machine, the C VMM's virtual machine, or a virtual machine made by
; another copy of itself -- and gives that guest a machine that behaves
; exactly like a bare one (variant pg): Popek and Goldberg's second
; theorem, shown rather than asserted.  README.md beside this file has the
; memory layout, the loading convention and the cost per level.
;
;   this machine's physical memory (MEMSIZE words, learned with srr)
;   0     16                       SHADOW          GUEST_BASE          MEMSIZE
;   +-----+------------------------+---------------+-------------------+
;   |trap | the VMM: code, state,  | shadow page   | the guest's       |
;   |area | the opcode table       | table         | physical memory   |
;   +-----+------------------------+---------------+-------------------+
;                                                  guest-physical 0 ...
;   f-map: guest-physical g  ->  GUEST_BASE + g, for g < GMEM = MEMSIZE - GUEST_BASE
;
; The guest runs in real user mode.  While it runs, the real PSW *is* its
; virtual PSW except for the parts the VMM must own:
;
;   virtual PSW                real PSW while the guest runs
;   M                          0 (kept in vflags)
;   IE, TP, pc, timer          the same: interrupts and the clock are exact
;                              and cost nothing
;   PG=0: base, bound          GUEST_BASE + base, min(bound, GMEM - base)
;   PG=1: page table, entries  the shadow table, min(entries, SHADOW_MAX)
;
; Every trap comes to trap_entry (supervisor, interrupts off, timer off),
; with the guest's real PSW saved by the hardware in OLD_PSW (0..4).  One
; compare and a table send it on:
;
;   PRIV and virtual M = 1 ---> emulate: by_opcode[opcode], the routine,
;        |                      works on the saved PSW in memory; one lpsw
;        |                      resumes the guest (in/out: plus the port
;        |                      operation itself, done for real)
;        +--anything else-----> reflect: old virtual PSW, cause and value
;                               into the guest's trap area, its new PSW
;                               loaded (composed into rpsw), one lpsw
;
; The compare is no accident: nested, every instruction here is
; interpreted, where a jr through a table costs as much as some ten
; straight instructions (README.md measures it), so a table by cause lost
; to compares.  A PRIV's cause word is 1, the value of the virtual M bit,
; so one compare of the two says "emulate"; the table by opcode replaces
; ten compares.
;
; So the trap path executes one privileged instruction per guest privileged
; instruction (two for in/out) and one per reflected trap, and each of
; those is one trap for the level below: the traps grow by 1 + that, about
; 2.1x to 2.8x, per level of nesting (README.md measures it).  Its length
; is what the levels below multiply, so the common paths are short: r1 and
; r2 are all most of them use.
;
; Registers: the handler saves the guest's r1 and r2 in gregs on entry; a
; path that needs r3 and r4 too saves them there (SAVE34) before it
; changes them.  r5..r15 stay the guest's throughout, except in the shadow
; rebuild, which saves what it uses.  Where the guest's instruction names a
; register, the handler executes a one-word instruction it has copied
; from a table into a slot (self-modifying code: the machine has no
; instruction cache): get_r1 to read it, ld_gtmp to write it once the
; guest's registers are back.
;
; What the C side (vmm/stack.c, the TUI, the tests) reads is named here and
; nowhere else: the .equ names below (GUEST_BASE, SHADOW, SHADOW_MAX, the
; VS_* values of vstate, the E_* values of vm_error) and the words labelled
; in "Data" at the end (guest_entry, vflags, vbase, vbound, vstate,
; vm_error, vpsw, n_emulated, n_traps, gregs).  README.md beside this file
; lists them, with their meaning, as the contract: rename none of them.

        .include "../lib/machine.inc"   ; the PSW flags, the trap area
                                        ; (OLD_PSW, CAUSE, VALUE, NEW_PSW),
                                        ; causes, MEM details, PTE bits

; The VMM's own layout (exported: see above).
        .equ PTE_PHYS, 4        ; (shadow only) an invalid entry that is a
                                ; physical fault for the guest, not an
                                ; invalid page; the hardware ignores bit 2
        .equ PTE_FRAME_PAST, -PAGE_WORDS ; (shadow only) 0xffffff00, frame
                                ; 0xffffff: past every machine's memory
                                ; (fewer than 0xffffff00 words: Trapeze's
                                ; have at most 64 M)
        .equ SHADOW, 0x1000     ; the shadow page table
        .equ SHADOW_MAX, 0x1000 ; its entries
        .equ GUEST_BASE, 0x2000 ; guest-physical 0 (a multiple of PAGE_WORDS)
        .equ G_OLD, GUEST_BASE+OLD_PSW  ; the guest's trap area
        .equ G_CAUSE, GUEST_BASE+CAUSE
        .equ G_VALUE, GUEST_BASE+VALUE
        .equ G_NEW, GUEST_BASE+NEW_PSW
        .equ VS_NOT_STARTED, 0  ; vstate: this VMM's code has not run yet
        .equ VS_RUNNING, 1      ;   the guest runs (or this VMM handles its trap)
        .equ VS_HALTED, 2       ;   the guest halted
        .equ VS_UNHANDLED, 3    ;   its trap found an all-zero new PSW
        .equ VS_CHECK, 4        ;   its new PSW's pc did not translate
        .equ VS_ERROR, 5        ;   this VMM gave up: vm_error says why
        .equ E_SHADOW, 1        ; vm_error: a page table used past SHADOW_MAX
        .equ E_SMALL, 2         ;           no room for a guest
        .equ CAUSES, 16         ; n_traps' rows: the causes are 1..8,
                                ; CAUSE & (CAUSES-1) is one

; VD_ATTACH unit, port: at _start, unit `unit` (first port `port`) when the
; loader gave the guest one (vdisk_size): its virtual SIZE and DMA_BOUND at
; reset (the other registers are 0), and the real unit's IOMMU set to the
; guest's memory.  Changes r1.
        .macro VD_ATTACH unit, port
        ld r1, vdisk_size+\unit(r0)
        beqz r1, vd_attach_done\@
        st r1, vd_regs+\port-DISK0+DK_SIZE(r0)
        ld r1, gmem(r0)
        st r1, vd_regs+\port-DISK0+DK_DMA_BOUND(r0)
        out r1, \port+DK_DMA_BOUND
        li r1, GUEST_BASE
        out r1, \port+DK_DMA_BASE
vd_attach_done\@:
        .endm

; ---- Start: learn the machine, install the handler, start the guest -------

_start:
        srr r2, r3              ; r3 = bound at reset = this machine's memory
        st r3, memsize(r0)
        li r4, GUEST_BASE+PAGE_WORDS    ; the guest needs at least one page
        bltu r3, r4, too_small
        addi r3, r3, -GUEST_BASE
        st r3, gmem(r0)         ; GMEM: the guest's memory size
        addi r4, r3, PAGE_WORDS-1
        shri r4, r4, PAGE_SHIFT
        st r4, gframes(r0)      ; its frames (the last may be partial)

        li r1, 256-4            ; by_opcode (256 opcodes, 8 bits), four
        addi r2, r0, emu_unknown ; at a time: unknown opcodes reflect
fill_opcodes:
        st r2, by_opcode+0(r1)
        st r2, by_opcode+1(r1)
        st r2, by_opcode+2(r1)
        st r2, by_opcode+3(r1)
        addi r1, r1, -4
        bge r1, r0, fill_opcodes
        addi r1, r0, routines   ; then each system instruction gets its
next_routine:                   ; routine; the opcode comes from an
        ld r2, 0(r1)            ; instruction the assembler encoded, so
        beqz r2, opcodes_done   ; no opcode number is written here
        shri r2, r2, 24
        ld r3, 1(r1)
        st r3, by_opcode(r2)
        addi r1, r1, 2
        b next_routine
opcodes_done:
        VD_ATTACH 0, DISK0      ; each unit the loader gave: its virtual
        VD_ATTACH 1, DISK0+DISK_PORTS   ; registers at reset, the real
        VD_ATTACH 2, DISK0+DISK_PORTS+DISK_PORTS        ; IOMMU set to
        VD_ATTACH 3, DISK0+DISK_PORTS+DISK_PORTS+DISK_PORTS ; the guest

        li r1, M                ; the trap handler: supervisor, interrupts
        st r1, NEW_PSW+0(r0)    ; off, timer off, all of memory (not
                                ; install_handler: its srr would cost every
                                ; level below one more trap)
        addi r1, r0, trap_entry
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        ld r1, memsize(r0)
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)

start_guest:
        ld r3, gmem(r0)
        li r1, M                ; the guest's reset PSW: M=1, IE=0, PG=0,
        st r1, vflags(r0)       ; pc = its entry, base 0, bound GMEM
        st r0, vbase(r0)
        st r3, vbound(r0)
        st r0, rpsw+0(r0)       ; really: user mode, relocated to GUEST_BASE
        ld r1, guest_entry(r0)
        st r1, rpsw+1(r0)
        li r1, GUEST_BASE
        st r1, rpsw+2(r0)
        st r3, rpsw+3(r0)
        st r0, rpsw+4(r0)
        li r1, VS_RUNNING
        st r1, vstate(r0)
        mov r1, r0              ; and every register 0
        mov r2, r0
        mov r3, r0
        mov r4, r0
resume_reset: lpsw rpsw(r0)     ; (resume_*: where the guest resumes, vmm_hybrid.s)

too_small:
        li r1, E_SMALL
        b vmm_error

; ---- Macros of the trap path -------------------------------------------------

; SAVE34: the guest's r3 and r4 into gregs, for a path that needs them.
        .macro SAVE34
        st r3, gregs+3(r0)
        st r4, gregs+4(r0)
        .endm

; RESTORE2 / RESTORE4: the guest's registers back from gregs: r1 and r2,
; or r1..r4 on a path that saved r3 and r4 too.
        .macro RESTORE2
        ld r1, gregs+1(r0)
        ld r2, gregs+2(r0)
        .endm
        .macro RESTORE4
        ld r1, gregs+1(r0)
        ld r2, gregs+2(r0)
        ld r3, gregs+3(r0)
        ld r4, gregs+4(r0)
        .endm

; RETIRE: the emulated instruction completed: pc moves on and the virtual
; timer is charged (ISA.md: TP is set when it reaches 0).  Changes r1.
        .macro RETIRE
        ld r1, OLD_PSW+1(r0)
        addi r1, r1, 1
        st r1, OLD_PSW+1(r0)
        ld r1, OLD_PSW+4(r0)
        beqz r1, retire_done\@
        addi r1, r1, -1
        st r1, OLD_PSW+4(r0)
        bnez r1, retire_done\@
        ld r1, OLD_PSW+0(r0)
        ori r1, r1, TP
        st r1, OLD_PSW+0(r0)
retire_done\@:
        .endm

; DONE / DONE_SLOT slot / DONE_SLOTS slot_a, slot_b: the tails.  The
; instruction retired (RETIRE); the guest's registers come back and the
; guest resumes.  With slots, the words there run first, with the guest's
; registers back: its own in/out, or "ld rA, gtmp(r0)" (and "ld rB,
; gtmp2(r0)").  Each routine has its own copy: no branch to a shared tail.
        .macro DONE
        RETIRE
        RESTORE2
        lpsw OLD_PSW(r0)
        .endm
        .macro DONE_SLOT slot
        RETIRE
        RESTORE2
\slot:  .word 0
        lpsw OLD_PSW(r0)
        .endm
        .macro DONE_SLOTS slot_a, slot_b
        RETIRE
        RESTORE2
\slot_a: .word 0
\slot_b: .word 0
        lpsw OLD_PSW(r0)
        .endm

; FIELD shift: r2 = the register field of the guest's instruction r1 at
; bits shift+3 .. shift (20: field a, 16: field b).
        .macro FIELD shift
        shri r2, r1, \shift
        andi r2, r2, 15
        .endm

; GET_R1: r1 = the guest's register number r2, by executing get_r1[r2]
; (r1 and r2 from gregs, the others live: call it before the path changes
; r3 or r4).  Changes r2.
        .macro GET_R1
        ld r2, get_r1(r2)
        st r2, get_slot\@(r0)
get_slot\@:
        .word 0
        .endm

; SET_A slot: the slot gets "ld rA, gtmp(r0)" for field a of the guest's
; instruction r1, which sets the guest's rA once its registers are back.
; Changes r2.
        .macro SET_A slot
        FIELD 20
        ld r2, ld_gtmp(r2)
        st r2, \slot(r0)
        .endm

; CALL_SAVED routine: a call that keeps the guest's r15.
        .macro CALL_SAVED routine
        st r15, save_lr(r0)
        call \routine
        ld r15, save_lr(r0)
        .endm

; VFLAGS rd, rt: rd = the guest's virtual flags when it trapped: the real
; ones the trap saved (M = 0, PG the virtual PG, IE and TP the guest's)
; or vflags.  Changes rt.
        .macro VFLAGS rd, rt
        ld \rd, OLD_PSW+0(r0)
        ld \rt, vflags(r0)
        or \rd, \rd, \rt
        .endm

; VPSW_FROM_OLD: vpsw = the guest's virtual PSW as saved by the trap.
; Changes r1, r2.
        .macro VPSW_FROM_OLD
        VFLAGS r1, r2
        st r1, vpsw+0(r0)
        ld r1, OLD_PSW+1(r0)
        st r1, vpsw+1(r0)
        ld r1, vbase(r0)
        st r1, vpsw+2(r0)
        ld r1, vbound(r0)
        st r1, vpsw+3(r0)
        ld r1, OLD_PSW+4(r0)
        st r1, vpsw+4(r0)
        .endm

; VPSW_FROM_NEW: vpsw = the guest's new PSW, in its trap area, as the
; hardware loads it (flags outside M, IE, PG, TP dropped).  Changes r1.
        .macro VPSW_FROM_NEW
        ld r1, G_NEW+0(r0)
        andi r1, r1, M+IE+PG+TP
        st r1, vpsw+0(r0)
        ld r1, G_NEW+1(r0)
        st r1, vpsw+1(r0)
        ld r1, G_NEW+2(r0)
        st r1, vpsw+2(r0)
        ld r1, G_NEW+3(r0)
        st r1, vpsw+3(r0)
        ld r1, G_NEW+4(r0)
        st r1, vpsw+4(r0)
        .endm

; LOAD_PSW at, reg, paged: makes the 5 words at at(reg) (this machine's
; physical address) the guest's virtual PSW: vflags, vbase, vbound, and
; rpsw, the real PSW that runs it.  An unpaged PSW falls through with r3 = rpsw's bound; a paged one
; continues at the label `paged` with the shadow table built.  Changes
; r1..r4 (reg may be r1 or r0).
        .macro LOAD_PSW at, reg, paged
        ld r2, \at+0(\reg)      ; flags
        andi r3, r2, M+PG
        st r3, vflags(r0)
        andi r2, r2, IE+TP
        st r2, rpsw+0(r0)
        ld r2, \at+1(\reg)
        st r2, rpsw+1(r0)
        ld r2, \at+4(\reg)
        st r2, rpsw+4(r0)
        ld r4, \at+2(\reg)
        st r4, vbase(r0)
        ld r2, \at+3(\reg)
        st r2, vbound(r0)
        andi r3, r3, PG
        bnez r3, load_paged\@
        ld r3, gmem(r0)         ; unpaged: base = GUEST_BASE + base,
        bltu r4, r3, load_inside\@     ; bound = min(bound, GMEM - base)
        mov r3, r0              ; base beyond memory: nothing is reachable
        st r0, rpsw+3(r0)
        li r4, GUEST_BASE
        st r4, rpsw+2(r0)
        b load_done\@
load_paged\@:
        CALL_SAVED rebuild      ; paged: the shadow table
        ld r2, rpsw+0(r0)
        ori r2, r2, PG
        st r2, rpsw+0(r0)
        b \paged
load_inside\@:
        sub r3, r3, r4
        bgeu r2, r3, load_clip\@
        mov r3, r2
load_clip\@:
        st r3, rpsw+3(r0)
        addi r4, r4, GUEST_BASE
        st r4, rpsw+2(r0)
load_done\@:
        .endm

; ---- The dispatcher ------------------------------------------------------------

trap_entry:
        st r1, gregs+1(r0)
        st r2, gregs+2(r0)
        ld r1, CAUSE(r0)        ; r1 = cause | detail << 8, for reflect
        ld r2, vflags(r0)       ; r2 = the virtual M, which is C_PRIV's
        andi r2, r2, M          ; value (both 1, ISA.md): PRIV is emulated
        bne r1, r2, trap_other  ; in virtual supervisor mode alone

; emulate: a system instruction of the guest's kernel, carried out here.
emulate:
        ld r1, n_emulated(r0)
        addi r1, r1, 1
        st r1, n_emulated(r0)
        ld r1, VALUE(r0)        ; r1 = the instruction, for the routines
        shri r2, r1, 24
        ld r2, by_opcode(r2)
        jr r2

emu_lpsw:                       ; lpsw imm(rs)
        FIELD 16                ; r1 = rs + imm: the PSW's guest-virtual
        bnez r2, lpsw_rs        ; address (rs is most often r0)
        shli r1, r1, 16
        srai r1, r1, 16
lpsw_at:
        SAVE34
        ld r2, OLD_PSW+0(r0)    ; the usual case: unpaged, all five words
        andi r2, r2, PG         ; inside the bound
        bnez r2, lpsw_words
        ld r2, OLD_PSW+3(r0)
        bgeu r1, r2, lpsw_words
        addi r3, r1, 4
        bgeu r3, r2, lpsw_words
        ld r2, OLD_PSW+2(r0)
        add r1, r1, r2
lpsw_load:
        LOAD_PSW 0, r1, enter
enter:                          ; the guest's new PSW, composed in rpsw,
        RESTORE4                ; after a path that saved r3 and r4
resume_loaded: lpsw rpsw(r0)    ; (lpsw, reflection)
lpsw_rs:
        GET_R1
        ld r2, VALUE(r0)
        shli r2, r2, 16
        srai r2, r2, 16
        add r1, r1, r2
        b lpsw_at

; ---- The interpreter routines: r1 = the instruction ------------------------------

emu_io:                         ; in rd, port / out rs, port: the console is
        andi r2, r1, 0xfff0     ; passed through, so the guest's own
        bnez r2, vdisk_io       ; instruction runs, with its registers (a
        st r1, io_slot(r0)      ; port from 16 up, the disk's, goes to
        DONE_SLOT io_slot       ; vdisk_io: "The virtual disk" below)

emu_rtmr:                       ; rtmr rd: rd = timer
        SET_A rtmr_slot
        ld r1, OLD_PSW+4(r0)
        st r1, gtmp(r0)
        DONE_SLOT rtmr_slot

emu_pushf:                      ; pushf rd: rd = M, IE, PG, TP (virtual)
        SET_A pushf_slot
        VFLAGS r1, r2
        st r1, gtmp(r0)
        DONE_SLOT pushf_slot

emu_popf:                       ; popf rs: IE = bit 1 of rs
        FIELD 20
        GET_R1
        andi r1, r1, IE
        ld r2, OLD_PSW+0(r0)
        andi r2, r2, M+PG+TP
        or r2, r2, r1
        st r2, OLD_PSW+0(r0)
        DONE

emu_stmr:                       ; stmr rs: timer = rs (not charged)
        FIELD 20
        GET_R1
        st r1, OLD_PSW+4(r0)
        ld r1, OLD_PSW+1(r0)
        addi r1, r1, 1
        st r1, OLD_PSW+1(r0)
        RESTORE2
        lpsw OLD_PSW(r0)

emu_srr:                        ; srr rd, rs: rd = base, rs = bound (virtual)
        SET_A srr_slot_a
        FIELD 16                ; slot b: "ld rB, gtmp2(r0)", the same
        ld r2, ld_gtmp(r2)      ; instruction one word further
        addi r2, r2, gtmp2-gtmp
        st r2, srr_slot_b(r0)
        ld r1, vbase(r0)
        st r1, gtmp(r0)
        ld r1, vbound(r0)
        st r1, gtmp2(r0)
        DONE_SLOTS srr_slot_a, srr_slot_b

emu_tlbflush:                   ; tlbflush: the shadow table is resynced
        ld r2, vflags(r0)       ; here and at every PSW load, nowhere else
        andi r2, r2, PG         ; (ISA.md's rule allows it)
        beqz r2, tlbflush_done
        SAVE34
        CALL_SAVED rebuild
        ld r3, gregs+3(r0)
        ld r4, gregs+4(r0)
tlbflush_done:
        DONE

emu_halt:                       ; halt: the guest stops, so does this machine
        RETIRE
        VPSW_FROM_OLD
        li r1, VS_HALTED
        st r1, vstate(r0)
        RESTORE2                ; the guest's registers, for whoever looks
        halt

emu_unknown:                    ; a system instruction this VMM does not
        ld r1, n_emulated(r0)   ; know: the guest's hardware would not
        addi r1, r1, -1         ; either
        st r1, n_emulated(r0)
        ld r1, CAUSE(r0)
        b reflect

; lpsw_words: one word at a time through the real PSW's translation, as
; the hardware does; a fault becomes the guest's MEM trap on the lpsw.
lpsw_words:
        st r1, lpsw_va(r0)
        st r0, lpsw_i(r0)
lpsw_next:
        ld r1, lpsw_va(r0)
        ld r2, lpsw_i(r0)
        add r1, r1, r2
        st r1, VALUE(r0)        ; the address, should it fault
        CALL_SAVED translate    ; r1 = physical, or r2 = the fault's cause
        bnez r2, lpsw_fault
        ld r1, 0(r1)
        ld r2, lpsw_i(r0)
        st r1, npsw(r2)
        addi r2, r2, 1
        st r2, lpsw_i(r0)
        slti r2, r2, 5
        bnez r2, lpsw_next
        addi r1, r0, npsw
        b lpsw_load
lpsw_fault:
        mov r1, r2              ; MEM with the real detail: mem_detail fixes it
        ld r2, n_emulated(r0)   ; not emulated after all
        addi r2, r2, -1
        st r2, n_emulated(r0)
        b reflect_mem_saved

; translate: r1 = a virtual address under the real PSW saved in OLD_PSW ->
; r1 = this machine's physical address and r2 = 0, or r2 = the cause word
; of the fault (C_MEM_BOUND, C_MEM_INVALID or C_MEM_PHYSICAL: a read needs
; no W).  It compares the vpn with the real bound, min(entries,
; SHADOW_MAX), so a "bound" here may be the shadow's limit: mem_detail
; tells the two apart.  Changes r3.
translate:
        ld r2, OLD_PSW+0(r0)
        andi r2, r2, PG
        bnez r2, tr_paged
        ld r2, OLD_PSW+3(r0)
        bgeu r1, r2, tr_bound
        ld r2, OLD_PSW+2(r0)
        add r1, r1, r2
        mov r2, r0
        ret
tr_paged:
        shri r2, r1, PAGE_SHIFT ; vpn
        ld r3, OLD_PSW+3(r0)
        bgeu r2, r3, tr_bound
        ld r3, OLD_PSW+2(r0)
        add r3, r3, r2
        ld r3, 0(r3)            ; the shadow entry
        andi r2, r3, PTE_V
        beqz r2, tr_invalid
        shri r3, r3, PAGE_SHIFT
        shli r3, r3, PAGE_SHIFT
        andi r1, r1, PAGE_WORDS-1
        or r1, r1, r3
        ld r2, memsize(r0)
        bgeu r1, r2, tr_physical
        mov r2, r0
        ret
tr_bound:
        li r2, C_MEM_BOUND
        ret
tr_invalid:
        li r2, C_MEM_INVALID
        ret
tr_physical:
        li r2, C_MEM_PHYSICAL
        ret

; ---- Reflection: r1 = cause | detail << 8 ------------------------------------------

; reflect_mem: a MEM trap.  The real fault said where translation failed
; under the real PSW; the guest's hardware would say it of the virtual one.
reflect_mem:
        SAVE34
reflect_mem_saved:
        ld r2, vflags(r0)
        andi r2, r2, PG
        bnez r2, mem_paged
        ld r2, VALUE(r0)        ; unpaged: beyond the virtual bound, or
        ld r3, vbound(r0)       ; inside it but beyond the guest's memory
        li r1, C_MEM_BOUND
        bgeu r2, r3, reflect_go
        li r1, C_MEM_PHYSICAL
        b reflect_go
mem_paged:
        li r2, C_MEM_INVALID
        beq r1, r2, mem_invalid
        li r2, C_MEM_BOUND
        bne r1, r2, reflect_go  ; write-protect, physical: the same
        ld r2, VALUE(r0)        ; bound: the same, unless the guest's table
        shri r2, r2, PAGE_SHIFT ; goes on beyond the shadow's
        ld r3, vbound(r0)
        bgeu r2, r3, reflect_go
        li r1, E_SHADOW         ; inside the guest's table: this VMM cannot
        b vmm_error             ; run that, and the trap is never delivered
mem_invalid:
        ld r2, VALUE(r0)        ; the shadow entry says why it is invalid
        shri r2, r2, PAGE_SHIFT
        ld r2, SHADOW(r2)
        andi r2, r2, PTE_PHYS
        beqz r2, reflect_go
        li r1, C_MEM_PHYSICAL
        b reflect_go

; trap_other: what is not emulated is reflected: every cause but PRIV, MEM
; with its detail recomputed, and PRIV from the guest's virtual user mode.
trap_other:
        andi r2, r1, CAUSE_MASK
        addi r2, r2, -C_MEM
        beqz r2, reflect_mem
reflect:
        SAVE34
reflect_go:
        andi r2, r1, CAUSES-1   ; counted by cause, once delivered
        ld r3, n_traps(r2)
        addi r3, r3, 1
        st r3, n_traps(r2)
        st r1, G_CAUSE(r0)      ; cause, value
        ld r2, VALUE(r0)
        st r2, G_VALUE(r0)
        VFLAGS r2, r3           ; the old virtual PSW
        st r2, G_OLD+0(r0)
        ld r2, OLD_PSW+1(r0)
        st r2, G_OLD+1(r0)
        ld r2, vbase(r0)
        st r2, G_OLD+2(r0)
        ld r2, vbound(r0)
        st r2, G_OLD+3(r0)
        ld r2, OLD_PSW+4(r0)
        st r2, G_OLD+4(r0)
        LOAD_PSW G_NEW, r0, reflect_paged ; the new one
        ld r1, rpsw+1(r0)       ; does its pc translate?  (else the guest's
        bgeu r1, r3, stop_check ; machine stops: machine check, or an
        RESTORE4                ; unhandled trap if the new PSW is all 0)
resume_reflected: lpsw rpsw(r0)
reflect_paged:                  ; the same, through the shadow table
        ld r1, rpsw+1(r0)
        shri r2, r1, PAGE_SHIFT
        ld r3, rpsw+3(r0)       ; min(entries, SHADOW_MAX)
        bgeu r2, r3, reflect_beyond
        ld r3, SHADOW(r2)
        andi r4, r3, PTE_V
        beqz r4, stop_check
        shri r3, r3, PAGE_SHIFT
        shli r3, r3, PAGE_SHIFT
        andi r1, r1, PAGE_WORDS-1
        or r1, r1, r3
        ld r2, memsize(r0)
        bgeu r1, r2, stop_check
        b enter
reflect_beyond:                 ; past the shadow's entries: past the
        ld r3, vbound(r0)       ; guest's too (its machine check), or
        bgeu r2, r3, stop_check ; inside its longer table (this VMM cannot
        li r1, E_SHADOW         ; run that)
        b vmm_error_new

; ---- Stopping: this machine stops the way the guest's would ------------------------

; stop_check: the new PSW's pc does not translate: a machine check, or an
; unhandled trap when the new PSW is all zero.  The guest's trap area is
; written; its PSW is the new one.  This machine then takes a trap with a
; new PSW of the same kind, so the level below stops the same way.
stop_check:
        ld r1, G_NEW+0(r0)
        ld r2, G_NEW+1(r0)
        or r1, r1, r2
        ld r2, G_NEW+2(r0)
        or r1, r1, r2
        ld r2, G_NEW+3(r0)
        or r1, r1, r2
        ld r2, G_NEW+4(r0)
        or r1, r1, r2
        beqz r1, stop_unhandled
        VPSW_FROM_NEW
        li r1, VS_CHECK
        st r1, vstate(r0)
        li r1, M                ; a new PSW whose pc (1) is beyond its bound (1)
        st r1, NEW_PSW+0(r0)
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        RESTORE4
        svc 0

stop_unhandled:
        st r0, vpsw+0(r0)
        st r0, vpsw+1(r0)
        st r0, vpsw+2(r0)
        st r0, vpsw+3(r0)
        st r0, vpsw+4(r0)
        li r1, VS_UNHANDLED
        st r1, vstate(r0)
stop_zero:
        st r0, NEW_PSW+0(r0)    ; no handler: the trap below is unhandled
        st r0, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        st r0, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        RESTORE4
        svc 0

; vmm_error: r1 = what (E_*).  The VMM cannot go on; it stops its machine
; with an unhandled trap and says why in vm_error.  vpsw is the guest's PSW
; where it trapped (vmm_error), or, when the trap was delivered and its new
; PSW is what cannot run, that new PSW (vmm_error_new), as at a machine
; check.
vmm_error:
        st r1, vm_error(r0)
        VPSW_FROM_OLD
        b vmm_stop
vmm_error_new:
        st r1, vm_error(r0)
        VPSW_FROM_NEW
vmm_stop:
        li r1, VS_ERROR
        st r1, vstate(r0)
        b stop_zero

; ---- The virtual disk: hypervisor-direct ----------------------------------------------

; The guest's unit k (ports DISK0 + DISK_PORTS*k ...) is a virtual unit
; backed by a partition of this machine's unit k: sectors vdisk_first[k] ..
; + vdisk_size[k], as the loader wrote them (vdisk_size[k] = 0: the guest
; has no unit k, whose ports read 0 and ignore writes).  Every port access
; traps (in and out are privileged) and comes here from emu_io:
;
;   register     guest's in                 guest's out
;   SECTOR       vd_regs                    vd_regs; the real SECTOR =
;                                           first + it, when inside the partition
;   ADDR         vd_regs                    vd_regs
;   CMD          0 (the real unit's)        checked on the virtual registers
;                                           as the bare unit checks: SECTOR <
;                                           SIZE, ADDR + 256 <= DMA_BOUND,
;                                           DMA_BASE + ADDR + 256 <= GMEM, no
;                                           32-bit wrap; then the real unit
;                                           runs it with ADDR = that guest-
;                                           physical address, or CMD 0 when a
;                                           check failed (so it fails there too)
;   STATUS       the real unit's            the real unit's (ignored)
;   CTRL         the real unit's            the real unit's
;   SIZE         vd_regs (vdisk_size)       the real unit's (ignored)
;   DMA_BASE     vd_regs                    vd_regs
;   DMA_BOUND    vd_regs (reset GMEM)       vd_regs
;
; The real unit's IOMMU is the guest's memory (DMA_BASE = GUEST_BASE,
; DMA_BOUND = GMEM, set at _start): a guest-physical ADDR lands where the
; f-map puts it, and nothing the guest names can reach past its memory,
; even were a check here wrong.  Every virtual command is one real command,
; so the real STATUS is the virtual one, and with the real CTRL the guest's
; the real unit's interrupt line is the virtual line: it rises inside the
; real out, is taken before the guest's next instruction when its IE
; allows (the guest's IE is the real one), in ISA.md's priority, and comes
; here as an IO interrupt with the unit's STATUS port as its value, which
; trap_other reflects into the guest as its own.  Reading STATUS, passed
; through, acknowledges it for both.  The path that no disk guest takes
; costs the console two instructions (emu_io's test).

; VD_DONE4: the instruction retired, the guest's r1..r4 back, resumed.
        .macro VD_DONE4
        RETIRE
        RESTORE4
        lpsw OLD_PSW(r0)
        .endm

; vdisk_io: r1 = the guest's in or out, whose port is 16 or more.
vdisk_io:
        andi r2, r1, 0xffff
        addi r2, r2, -DISK0     ; r2 = unit * DISK_PORTS + register
        st r2, vd_port(r0)
        shri r2, r2, 5          ; past the four units' 32 ports: no device,
        bnez r2, vd_pass        ; passed through as the console is
        ld r2, vd_in_insn(r0)   ; in or out?  (the opcode of an in the
        xor r2, r2, r1          ; assembler encoded, against this one's)
        shri r2, r2, 24
        bnez r2, vd_out
        ld r2, vd_port(r0)      ; in: an unattached unit's vd_regs are 0
        shri r2, r2, 3
        ld r2, vdisk_size(r2)
        beqz r2, vd_in_regs
        ld r2, vd_port(r0)
        andi r2, r2, DISK_PORTS-1
        addi r2, r2, -DK_STATUS ; STATUS and CTRL: the real unit's
        beqz r2, vd_pass
        addi r2, r2, DK_STATUS-DK_CTRL
        beqz r2, vd_pass
vd_in_regs:
        SET_A vd_in_slot
        ld r2, vd_port(r0)
        ld r1, vd_regs(r2)
        st r1, gtmp(r0)
        DONE_SLOT vd_in_slot

; vd_pass: the guest's own instruction, run with its registers.
vd_pass:
        st r1, vd_pass_slot(r0)
        DONE_SLOT vd_pass_slot

vd_out:
        ld r2, vd_port(r0)
        shri r2, r2, 3
        ld r2, vdisk_size(r2)
        beqz r2, vd_ignore      ; no such unit: the write is ignored
        ld r2, vd_port(r0)
        andi r2, r2, DISK_PORTS-1
        ld r2, vd_out_by_reg(r2)
        jr r2
vd_ignore:
        DONE

vd_out_store:                   ; ADDR, DMA_BASE, DMA_BOUND: kept here
        FIELD 20
        GET_R1
        ld r2, vd_port(r0)
        st r1, vd_regs(r2)
        DONE

vd_out_sector:                  ; SECTOR: kept, and the real one moved to
        FIELD 20                ; it inside the partition (outside, the
        GET_R1                  ; command fails without the real unit's
        ld r2, vd_port(r0)      ; SECTOR)
        st r1, vd_regs(r2)
        SAVE34
        shri r4, r2, 3          ; r4 = the unit
        ld r3, vdisk_size(r4)
        bgeu r1, r3, vd_sector_done
        ld r3, vdisk_first(r4)
        add r3, r1, r3          ; the real sector, below the real SIZE
        ld r1, vd_put_sector(r4)
        st r1, vd_sector_slot(r0)
vd_sector_slot:
        .word 0                 ; out r3, the unit's SECTOR
vd_sector_done:
        VD_DONE4

vd_out_cmd:                     ; CMD: the command, checked here
        FIELD 20
        GET_R1
        st r1, vd_cmd(r0)
        SAVE34
        ld r4, vd_port(r0)
        shri r4, r4, 3          ; r4 = the unit
        shli r2, r4, 3          ; r2 = its registers in vd_regs
        ld r1, vd_regs+DK_SECTOR(r2)
        ld r3, vdisk_size(r4)
        bgeu r1, r3, vd_cmd_fail        ; SECTOR >= SIZE: past the partition
        ld r1, vd_regs+DK_ADDR(r2)
        addi r3, r1, SECTOR_WORDS
        bltu r3, r1, vd_cmd_fail        ; ADDR + 256 wraps 2^32
        ld r1, vd_regs+DK_DMA_BOUND(r2)
        bltu r1, r3, vd_cmd_fail        ; ADDR + 256 > DMA_BOUND
        ld r1, vd_regs+DK_DMA_BASE(r2)
        ld r3, vd_regs+DK_ADDR(r2)
        add r3, r1, r3                  ; r3 = DMA_BASE + ADDR, guest-physical
        bltu r3, r1, vd_cmd_fail        ; wraps 2^32
        ld r1, gmem(r0)
        addi r1, r1, -SECTOR_WORDS      ; (GMEM >= 256: _start checked)
        bltu r1, r3, vd_cmd_fail        ; + 256 > GMEM: past the guest's memory
        ld r1, vd_real_addr(r4)         ; the real ADDR is the guest-physical
        beq r1, r3, vd_cmd_go           ; address (the real IOMMU adds
        st r3, vd_real_addr(r4)         ; GUEST_BASE), written when it changes
        ld r1, vd_put_addr(r4)
        st r1, vd_addr_slot(r0)
vd_addr_slot:
        .word 0                 ; out r3, the unit's ADDR
vd_cmd_go:
        ld r3, vd_cmd(r0)       ; the guest's command (one that is neither
        b vd_cmd_real           ; read nor write fails on the real unit)
vd_cmd_fail:
        mov r3, r0              ; CMD 0: the real unit fails it, moving nothing
vd_cmd_real:
        ld r1, vd_put_cmd(r4)
        st r1, vd_cmd_slot(r0)
vd_cmd_slot:
        .word 0                 ; out r3, the unit's CMD
        VD_DONE4

; The tables: the routine by register for an out, and the real port
; operations by unit (copied into a slot and run there).
vd_out_by_reg:
        .word vd_out_sector, vd_out_store, vd_out_cmd, vd_pass
        .word vd_pass, vd_pass, vd_out_store, vd_out_store
vd_in_insn:
        in r0, 0
vd_put_sector:
        out r3, DISK0+DK_SECTOR
        out r3, DISK0+DISK_PORTS+DK_SECTOR
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DK_SECTOR
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DISK_PORTS+DK_SECTOR
vd_put_addr:
        out r3, DISK0+DK_ADDR
        out r3, DISK0+DISK_PORTS+DK_ADDR
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DK_ADDR
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DISK_PORTS+DK_ADDR
vd_put_cmd:
        out r3, DISK0+DK_CMD
        out r3, DISK0+DISK_PORTS+DK_CMD
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DK_CMD
        out r3, DISK0+DISK_PORTS+DISK_PORTS+DISK_PORTS+DK_CMD

; ---- The shadow page table ----------------------------------------------------------

; rebuild: fills the shadow table from the guest's page table (vbase,
; vbound) and sets rpsw's base and bound to it.  Entry i:
;
;   the guest's entry i lies beyond its memory      invalid, PTE_PHYS
;   the guest's entry is not valid                  invalid
;   its frame is beyond the guest's memory          frame 0xffffff, same V, W
;   else                                            frame + GUEST_BASE/256, same V, W
;
; so the guest can only ever reach its own memory, and each access faults
; below with the detail the guest's own hardware gives (isa/README.md's
; order: bound, V, W, physical).  A valid entry keeps V and W even when its
; frame is past the guest's memory: frame 0xffffff is past this machine's
; memory too (and past every machine's below), so a store to a read-only
; page faults "write-protect" and any other access "physical", exactly as
; for the guest, and nothing needs recomputing.  Only an entry that itself
; lies past the guest's memory needs PTE_PHYS: any access through it is
; "physical", which no entry the hardware can read says; mem_invalid turns
; the "invalid page" it gives back into "physical".  Changes r1..r4.
rebuild:
        st r5, rb_save+0(r0)
        st r6, rb_save+1(r0)
        st r7, rb_save+2(r0)
        st r8, rb_save+3(r0)
        ld r5, vbound(r0)       ; r5 = entries to build
        li r1, SHADOW_MAX
        bltu r5, r1, rb_count
        mov r5, r1
rb_count:
        ld r6, vbase(r0)        ; r6 = the guest's table
        ld r7, gmem(r0)
        mov r8, r0              ; r8 = entries inside the guest's memory
        bgeu r6, r7, rb_inside
        sub r8, r7, r6
rb_inside:
        addi r6, r6, GUEST_BASE
        ld r7, gframes(r0)      ; r7 = the guest's frames
        mov r2, r0              ; r2 = i
rb_next:
        bgeu r2, r5, rb_done
        li r3, PTE_PHYS
        bgeu r2, r8, rb_store   ; the entry lies past the guest's memory
        add r3, r6, r2
        ld r3, 0(r3)            ; the guest's entry
        andi r4, r3, PTE_V
        beqz r4, rb_invalid
        shri r4, r3, PAGE_SHIFT ; r4 = its frame
        andi r3, r3, PTE_V+PTE_W
        bgeu r4, r7, rb_past
        shli r4, r4, PAGE_SHIFT ; frame * 256 + GUEST_BASE: no wrap, the
        addi r4, r4, GUEST_BASE ; frame is below gframes
        or r3, r3, r4
        b rb_store
rb_invalid:
        mov r3, r0
        b rb_store
rb_past:                        ; frame past the guest's memory: V, W
        addi r3, r3, PTE_FRAME_PAST ; (< 256) + 0xffffff00 = frame 0xffffff
rb_store:
        st r3, SHADOW(r2)
        addi r2, r2, 1
        b rb_next
rb_done:
        li r1, SHADOW
        st r1, rpsw+2(r0)
        st r5, rpsw+3(r0)
        ld r5, rb_save+0(r0)
        ld r6, rb_save+1(r0)
        ld r7, rb_save+2(r0)
        ld r8, rb_save+3(r0)
        ret

; ---- Data ------------------------------------------------------------------------

; The routines by instruction: the assembler encodes each template, whose
; opcode (bits 31..24) indexes by_opcode.
routines:
        halt
        .word emu_halt
        lpsw 0(r0)
        .word emu_lpsw
        pushf r0
        .word emu_pushf
        popf r0
        .word emu_popf
        srr r0, r0
        .word emu_srr
        stmr r0
        .word emu_stmr
        rtmr r0
        .word emu_rtmr
        in r0, 0
        .word emu_io
        out r0, 0
        .word emu_io
        tlbflush
        .word emu_tlbflush
        .word 0

; The slots' instructions by register number: never executed here, copied
; into a slot and run there.  get_r1[n]: r1 = the guest's rn while the
; handler runs (r1 and r2 are in gregs, the others live).
get_r1: add r1, r0, r0
        ld r1, gregs+1(r0)
        ld r1, gregs+2(r0)
        add r1, r3, r0
        add r1, r4, r0
        add r1, r5, r0
        add r1, r6, r0
        add r1, r7, r0
        add r1, r8, r0
        add r1, r9, r0
        add r1, r10, r0
        add r1, r11, r0
        add r1, r12, r0
        add r1, r13, r0
        add r1, r14, r0
        add r1, r15, r0
; ld_gtmp[n]: the guest's rn = gtmp, once its registers are back.
ld_gtmp: ld r0, gtmp(r0)
        ld r1, gtmp(r0)
        ld r2, gtmp(r0)
        ld r3, gtmp(r0)
        ld r4, gtmp(r0)
        ld r5, gtmp(r0)
        ld r6, gtmp(r0)
        ld r7, gtmp(r0)
        ld r8, gtmp(r0)
        ld r9, gtmp(r0)
        ld r10, gtmp(r0)
        ld r11, gtmp(r0)
        ld r12, gtmp(r0)
        ld r13, gtmp(r0)
        ld r14, gtmp(r0)
        ld r15, gtmp(r0)

; ---- Exported: the words the C side reads by label (README.md) -----------

; The loader's word.
guest_entry: .word 0

; The guest's virtual state that the real PSW does not hold.
vflags:   .word 0               ; M and PG (IE and TP live in the real PSW)
vbase:    .word 0
vbound:   .word 0
vstate:   .word 0               ; VS_*
vm_error: .word 0               ; E_*, once vstate = VS_ERROR
vpsw:     .space 5              ; the final virtual PSW (vstate >= VS_HALTED)

; Counters.
n_emulated: .word 0             ; guest instructions emulated
n_traps:  .space CAUSES         ; traps reflected into the guest, by cause

; The handler's save area.
gregs:    .space 16             ; the guest's r1..r4 (gregs+0 stays 0)

; The loader's disk partitions ("The virtual disk" above): the
; guest's unit k is sectors vdisk_first[k] .. + vdisk_size[k] of this
; machine's unit k; size 0: no unit k.
vdisk_first: .space 4
vdisk_size:  .space 4

; ---- Private ------------------------------------------------------------------

; This machine and the guest's.
memsize:  .word 0               ; words of this machine's memory
gmem:     .word 0               ; the guest's: memsize - GUEST_BASE
gframes:  .word 0               ; its pages, rounded up

; The trap path's scratch.
gtmp:     .word 0               ; (gtmp2 follows gtmp: emu_srr)
gtmp2:    .word 0
rpsw:     .space 5              ; the real PSW to load next
npsw:     .space 5              ; lpsw's operand, word by word
lpsw_va:  .word 0
lpsw_i:   .word 0
save_lr:  .word 0
rb_save:  .space 4

; The virtual disk's registers by port - DISK0 (unit * 8 + register), the
; port of the access being emulated, the command it checks, and the real
; ADDR of each unit as last written.
vd_regs:  .space 32
vd_port:  .word 0
vd_cmd:   .word 0
vd_real_addr: .space 4

; The dispatch table.
by_opcode: .space 256           ; emulate's routine by opcode, filled at _start
vmm_end:                        ; (exported) nothing up to SHADOW is written
