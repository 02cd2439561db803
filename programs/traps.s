; traps.s: one trap handler, every trap cause.
;
; The program installs a handler, then provokes each kind of trap in turn
; and lets the handler report it: cause, detail, value and saved pc.  Read
; it next to ISA.md, "Traps and interrupts".
;
; The trap area is the first 16 words of physical memory:
;
;    0      4   5              6       7   8      12  13   15
;   +--------+--------------+-------+---+--------+--------+
;   | old PSW| cause|detail | value | - | new PSW|   -    |
;   +--------+--------------+-------+---+--------+--------+
;     flags pc base bound timer          flags pc base bound timer
;
; A trap (1) stores the running PSW in words 0..4, (2) stores the cause
; (bits 7..0) and detail (bits 15..8) in word 5 and the value in word 6,
; (3) loads the PSW in words 8..12.  Step 3 is how control reaches
; `handler` below: in supervisor mode, unpaged, interrupts off.  The
; general registers are NOT saved: the handler saves the ones it uses.
; It returns with `lpsw 0(r0)`, which loads the old PSW, edited when the
; faulting instruction must be skipped.
;
;   cause      saved pc                value
;   1 PRIV     the instruction         the instruction word
;   2 MEM      the instruction         the virtual address
;   3 ILL      the instruction         the instruction word
;   4 DIV      the instruction         0
;   5 SVC      the next instruction    the svc's immediate
;   6 HCALL    the next instruction    the hcall's immediate
;   7 TIMER    the next instruction    0
;   8 IO       the next instruction    the port (not shown here: it needs input)

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ TICKS, 100         ; the timer interval of part [12]

_start:
        la sp, stack_top

; ---- Install the handler: new PSW = {M, handler, base 0, bound, timer 0}.
; The bound is the size of memory, read with srr (at reset, base = 0 and
; bound = memory size), so the handler can reach all of memory whatever
; --mem says.
        li r1, M
        st r1, NEW_PSW+0(r0)    ; flags: supervisor, interrupts off, unpaged
        la r1, handler
        st r1, NEW_PSW+1(r0)    ; pc
        srr r2, r3              ; r2 = base (0), r3 = bound (memory size)
        st r2, NEW_PSW+2(r0)    ; base
        st r3, NEW_PSW+3(r0)    ; bound
        st r0, NEW_PSW+4(r0)    ; timer off
        st r3, memsize(r0)
        la r1, s_intro
        call puts

; ---- [1] svc: the system call.  It traps by design, in any mode.
        la r1, s_svc
        la r2, at_svc
        call announce
at_svc: svc 0x42

; ---- [2] hcall: the call to a VMM.  On the bare machine it is just a trap.
        la r1, s_hcall
        la r2, at_hcall
        call announce
at_hcall:
        hcall 7

; ---- [3] divide by zero.
        la r1, s_div
        la r2, at_div
        call announce
        li r2, 7
at_div: div r1, r2, r0

; ---- [4] an illegal instruction: opcode 0 is never defined.
        la r1, s_ill
        la r2, at_ill
        call announce
at_ill: .word 0

; ---- [5..7] user mode.  lpsw loads a PSW with M = 0 and a relocation:
; base = user_prog, bound = 3, so the user program sees virtual addresses
; 0..2 and nothing else.  Its three instructions each trap: a privileged
; instruction, an address beyond the bound, and `svc 0`, which this kernel
; treats as "exit": the handler then continues at user_exited instead of
; returning to the user program.
        la r1, s_user
        call puts
        la r1, user_prog
        call puthex
        la r1, s_user2
        call puts
        st sp, kernel_sp(r0)    ; the handler restores it on exit
        lpsw user_psw(r0)       ; to user mode, at virtual pc 0
user_exited:
        la r1, s_back
        call puts

; ---- [8..11] paging.  Build a page table of 67 entries:
;   vpn 0..63   frame = vpn, V|W    identity map of the program (16K words)
;   vpn 64      frame 64, V         read-only
;   vpn 65      0                   invalid
;   vpn 66      frame 0xffffff, V|W beyond physical memory
;   vpn >= 67                       beyond the table: the bound
; then turn paging on with lpsw (PG = 1, base = the table, bound = 67).
        mov r1, r0              ; r1 = vpn
        li r3, 64
pt_fill:
        shli r2, r1, 8          ; frame number in bits 31..8
        ori r2, r2, PTE_V+PTE_W
        st r2, page_table(r1)
        addi r1, r1, 1
        bne r1, r3, pt_fill
        li r2, 0x4000+PTE_V     ; frame 64, not writable
        st r2, page_table+64(r0)
        st r0, page_table+65(r0)
        li r2, 0xffffff00+PTE_V+PTE_W
        st r2, page_table+66(r0)
        la r1, s_paging
        call puts
        lpsw paged_psw(r0)      ; the next pc is paged_on, now a virtual address
paged_on:
        li r2, 0x4000           ; virtual page 64
        ld r1, 0(r2)            ; reading the read-only page is fine
        la r1, s_wp
        la r2, at_wp
        call announce
        li r2, 0x4000
at_wp:  st r2, 0(r2)            ; ... writing it is not

        la r1, s_inv
        la r2, at_inv
        call announce
        li r2, 0x4100           ; virtual page 65
at_inv: ld r1, 0(r2)

        la r1, s_phys
        la r2, at_phys
        call announce
        li r2, 0x4200           ; virtual page 66
at_phys:
        ld r1, 0(r2)

        la r1, s_pbound
        la r2, at_pbound
        call announce
        li r2, 0x4300           ; virtual page 67
at_pbound:
        ld r1, 0(r2)

        ld r1, memsize(r0)      ; paging off: back to base 0, bound = memory
        st r1, unpaged_psw+3(r0)
        lpsw unpaged_psw(r0)
paged_off:

; ---- [12] the timer.  With IE = 1, `stmr r2` sets the PSW timer to TICKS;
; every instruction that completes after it counts one down; when it reaches
; 0 the interrupt is taken before the next instruction.  The loop below is
; 4 instructions long and counts its iterations in r5, so the interrupt
; arrives after exactly TICKS / 4 iterations, at the loop's first
; instruction.  The handler sets `ticked`, and the loop ends.
        la r1, s_timer
        la r2, t_loop
        call announce
        st r0, ticked(r0)
        mov r5, r0              ; r5 = iterations
        li r1, IE
        popf r1                 ; interrupts on (the timer is still off)
        li r2, TICKS
        stmr r2                 ; timer = TICKS: counting starts after stmr
t_loop: ld r6, ticked(r0)
        bnez r6, t_done
        addi r5, r5, 1
        b t_loop
t_done: popf r0                 ; interrupts off
        la r1, s_timer2
        call puts
        mov r1, r5
        call putdec
        la r1, s_timer3
        call puts
        shli r1, r5, 2          ; 4 instructions per iteration
        call putdec
        la r1, s_timer4
        call puts

; ---- The end.
        la r1, s_end
        call puts
        ld r1, ntraps(r0)
        call putdec
        la r1, s_end2
        call puts
        li r1, 0                ; exit status 0
        halt

; announce: prints the string r1, then " at pc " and the address r2.
announce:
        push lr
        push r8
        mov r8, r2
        call puts
        la r1, s_at
        call puts
        mov r1, r8
        call puthex
        call newline
        pop r8
        pop lr
        ret

; ---- The user program: virtual addresses 0..2 (base = user_prog).
user_prog:
        halt                    ; 0: privileged: PRIV
        ld r1, 100(r0)          ; 1: virtual 100 >= bound 3: MEM
        svc 0                   ; 2: exit
user_end:

; ---- The trap handler.
;
;   saved registers   r1..r15 -> saved[1..15]; sp = the handler's own stack
;   report            cause, detail, value, saved pc
;   PRIV, MEM,        saved pc += 1: skip the faulting instruction (a real
;   ILL, DIV          kernel would fix the cause or end the program)
;   TIMER             ticked = 1
;   SVC 0 from user   the user program exits: continue at user_exited
;   return            restore r1..r15, lpsw 0(r0)
handler:
        save_regs saved
        la sp, handler_stack_top  ; the interrupted sp may be a user's
        ld r1, ntraps(r0)
        addi r1, r1, 1
        st r1, ntraps(r0)

        ld r1, CAUSE(r0)
        andi r8, r1, 255        ; r8 = cause
        shri r9, r1, 8
        andi r9, r9, 255        ; r9 = detail
        la r1, s_h_trap
        call puts
        ld r1, cause_names(r8)
        call puts
        la r1, s_h_cause
        call puts
        mov r1, r8
        call putdec
        la r1, s_h_detail
        call puts
        mov r1, r9
        call putdec
        li r1, C_MEM            ; MEM: name the detail too
        bne r8, r1, h_value
        li r1, ' '
        call putc
        ld r1, mem_details(r9)
        call puts
h_value:
        la r1, s_h_value
        call puts
        ld r1, VALUE(r0)
        call puthex
        la r1, s_h_pc
        call puts
        ld r1, OLD_PSW+1(r0)
        call puthex
        slti r1, r8, C_SVC      ; causes 1..4: the pc of the instruction
        beqz r1, h_next_insn
        la r1, s_h_skip
        call puts
        ld r1, OLD_PSW+1(r0)    ; skip it
        addi r1, r1, 1
        st r1, OLD_PSW+1(r0)
        b h_actions
h_next_insn:
        la r1, s_h_next
        call puts

h_actions:
        li r1, C_TIMER
        bne r8, r1, h_not_timer
        li r1, 1
        st r1, ticked(r0)
h_not_timer:
        li r1, C_SVC            ; svc 0 from user mode: exit
        bne r8, r1, h_return
        ld r1, VALUE(r0)
        bnez r1, h_return
        ld r1, OLD_PSW+0(r0)
        andi r1, r1, M
        bnez r1, h_return
        ld sp, kernel_sp(r0)    ; back to the kernel, still supervisor
        jmp user_exited

h_return:
        restore_regs saved
        lpsw OLD_PSW(r0)        ; resume what the trap interrupted

; ---- Data.
memsize:    .word 0
kernel_sp:  .word 0
ticked:     .word 0
ntraps:     .word 0
saved:      .space 16

;                 flags  pc         base        bound               timer
user_psw:    .word 0,     0,         user_prog,  user_end-user_prog, 0
paged_psw:   .word M+PG,  paged_on,  page_table, 67,                 0
unpaged_psw: .word M,     paged_off, 0,          0,                  0
page_table:  .space 67

cause_names: .word s_c0, s_c1, s_c2, s_c3, s_c4, s_c5, s_c6, s_c7, s_c8
s_c0:   .string "?"
s_c1:   .string "PRIV"
s_c2:   .string "MEM"
s_c3:   .string "ILL"
s_c4:   .string "DIV"
s_c5:   .string "SVC"
s_c6:   .string "HCALL"
s_c7:   .string "TIMER"
s_c8:   .string "IO"
mem_details: .word s_d0, s_d1, s_d2, s_d3
s_d0:   .string "(bound)"
s_d1:   .string "(invalid page)"
s_d2:   .string "(write-protect)"
s_d3:   .string "(physical)"

s_h_trap:   .string "    => trap "
s_h_cause:  .string ": cause "
s_h_detail: .string ", detail "
s_h_value:  .string ", value "
s_h_pc:     .string ", saved pc "
s_h_skip:   .string " = this instruction: skip it\n"
s_h_next:   .string " = the next instruction\n"
s_at:       .string " at pc "

s_intro:
        .string "Trapeze traps: one handler reports cause, detail, value and saved pc.\n"
s_svc:  .string "[1] svc 0x42, a system call (it always traps),"
s_hcall:
        .string "[2] hcall 7, a call to the VMM (with no VMM it traps like svc),"
s_div:  .string "[3] div r1, r2, r0, a division by zero,"
s_ill:  .string "[4] .word 0, an illegal instruction (opcode 0 is never defined),"
s_user: .string "[5..7] lpsw into user mode: M=0, base "
s_user2:
        .string ", bound 3.\n      The user program runs at virtual 0..2: halt (privileged), ld r1, 100(r0)\n      (beyond the bound), svc 0 (exit to the kernel).\n"
s_back: .string "      back in the kernel, supervisor mode.\n"
s_paging:
        .string "[8..11] paging on: 67 page-table entries; pages 0..63 map the program,\n      64 is read-only, 65 invalid, 66 points beyond memory.\n"
s_wp:   .string "[8] st to virtual 0x4000, a read-only page,"
s_inv:  .string "[9] ld from virtual 0x4100, an invalid page,"
s_phys: .string "[10] ld from virtual 0x4200, a frame beyond memory,"
s_pbound:
        .string "[11] ld from virtual 0x4300, beyond the page table,"
s_timer:
        .string "[12] stmr 100 with IE=1, then a 4-instruction loop that counts its turns,"
s_timer2:
        .string "     the interrupt came after "
s_timer3:
        .string " iterations = "
s_timer4:
        .string " instructions, as set.\n"
s_end:  .string "done: "
s_end2: .string " traps handled, every cause but IO (which needs console input).\n"

        .space 48
stack_top:
        .space 48
handler_stack_top:

        .include "lib/console.inc"
