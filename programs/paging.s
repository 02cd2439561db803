; paging.s: a kernel that maps pages on demand.
;
; The user program runs in user mode with paging on (PG = 1): every address
; it uses is virtual and goes through the page table.  The kernel maps only
; the program's code, read-only.  The program's array is not mapped at all:
; the first touch of each of its pages raises MEM (detail 1, invalid page);
; the kernel then takes a free physical frame, clears it, maps it writable,
; and returns to the SAME instruction (the saved pc of a MEM trap is the
; faulting instruction), which now succeeds.  At the end the program writes
; into its own code: MEM (detail 2, write-protect), and the kernel ends it.
;
;   virtual (64 pages of 256 words)          physical
;   0x0000 .. 0x0fff  unmapped               0x0000  trap area, kernel
;   0x1000 .. 0x11ff  code, read-only  --->  0x1000  the user program
;   0x2000 .. 0x2fff  array, on demand --->  0x4000.. frames handed out
;   0x3000 .. 0x3fff  unmapped                        in fault order
;
; A page-table entry: frame number in bits 31..8, W in bit 1, V in bit 0.
; The kernel itself runs unpaged: the trap area's new PSW has PG = 0.

        .include "lib/machine.inc"   ; M, IE, PG, the trap area, causes, save_regs
        .equ NPAGES, 64         ; page-table entries
        .equ USER_CODE, 0x1000  ; where the user program is, virtual = physical
        .equ HEAP, 0x2000       ; the user's array, N words
        .equ HEAP_END, 0x3000
        .equ N, 4096
        .equ FIRST_FRAME, 64    ; free frames: 64, 65, ... (physical 0x4000 up)
        .equ SYS_EXIT, 0        ; system calls
        .equ SYS_PUTC, 1
        .equ SYS_PUTDEC, 2
        .equ SYS_PUTS, 3
        .equ NSYS, 4

_start:
        la sp, stack_top
        install_handler handler

        li r1, 0x1000+PTE_V     ; vpn 16 -> frame 16, read-only
        st r1, page_table+16(r0)
        li r1, 0x1100+PTE_V     ; vpn 17 -> frame 17, read-only
        st r1, page_table+17(r0)
        li r1, FIRST_FRAME
        st r1, next_frame(r0)
        la r1, s_intro
        call puts
        lpsw user_psw(r0)       ; user mode, paging on, at user_start

; ---- The trap handler.
handler:
        save_regs uregs
        la sp, stack_top
        ld r1, CAUSE(r0)
        andi r8, r1, 255        ; r8 = cause
        shri r9, r1, 8          ; r9 = detail
        ld r10, VALUE(r0)       ; r10 = value
        li r1, C_SVC
        beq r8, r1, syscall
        li r1, C_MEM            ; an invalid page in the array: map it
        bne r8, r1, kill
        li r1, D_INVALID
        bne r9, r1, kill
        li r1, HEAP
        bltu r10, r1, kill
        li r1, HEAP_END
        bgeu r10, r1, kill

; page_fault: map a fresh frame at virtual page r10 >> 8 and retry.
page_fault:
        ld r11, next_frame(r0)  ; r11 = the frame to hand out
        addi r1, r11, 1
        st r1, next_frame(r0)
        shli r2, r11, 8         ; r2 = its physical address
        li r3, 256
pf_clear:
        st r0, 0(r2)            ; clear it: no data leaks between programs
        addi r2, r2, 1
        addi r3, r3, -1
        bnez r3, pf_clear
        shri r12, r10, 8        ; r12 = virtual page number
        shli r1, r11, 8
        ori r1, r1, PTE_V+PTE_W
        st r1, page_table(r12)
        tlbflush                ; the rule: flush after changing an entry
        ld r1, faults(r0)
        addi r1, r1, 1
        st r1, faults(r0)
        la r1, s_fault          ; "kernel: page fault at VA: page P -> frame F"
        call puts
        mov r1, r10
        call puthex
        la r1, s_fault2
        call puts
        mov r1, r12
        call putdec
        la r1, s_fault3
        call puts
        mov r1, r11
        call putdec
        call newline
        b resume                ; retry the faulting instruction

syscall:
        li r1, NSYS
        bgeu r10, r1, kill
        ld r1, syscalls(r10)
        jr r1
sys_putc:
        ld r1, uregs+1(r0)
        call putc
        b resume
sys_putdec:
        ld r1, uregs+1(r0)
        call putdec
        b resume
; puts: r1 is a virtual address; each character is reached through the
; page table, as the hardware would.  An unmapped character ends the string.
sys_puts:
        ld r11, uregs+1(r0)
sp_next:
        mov r1, r11
        call translate
        blt r1, r0, resume
        ld r1, 0(r1)
        beqz r1, resume
        call putc
        addi r11, r11, 1
        b sp_next
sys_exit:
        la r1, s_exit
        call puts
        b the_end

; kill: any other trap ends the program.
kill:
        la r1, s_killed
        call puts
        ld r1, cause_names(r8)
        call puts
        li r1, C_MEM
        bne r8, r1, kill_value
        li r1, ' '
        call putc
        ld r1, mem_details(r9)
        call puts
kill_value:
        la r1, s_value
        call puts
        mov r1, r10
        call puthex
        la r1, s_pc
        call puts
        ld r1, OLD_PSW+1(r0)
        call puthex
        call newline
the_end:
        la r1, s_end
        call puts
        ld r1, faults(r0)
        call putdec
        la r1, s_end2
        call puts
        li r1, 0
        halt

; resume: restore the user's registers and load its PSW.
resume:
        restore_regs uregs
        lpsw OLD_PSW(r0)

; translate: r1 = the physical address of the user's virtual address r1,
; or -1 when its page is not mapped.  Changes r2.
translate:
        shri r2, r1, 8          ; vpn
        slti r2, r2, NPAGES
        beqz r2, tr_fail
        shri r2, r1, 8
        ld r2, page_table(r2)   ; pte
        andi r2, r2, PTE_V
        beqz r2, tr_fail
        shri r2, r1, 8
        ld r2, page_table(r2)
        shri r2, r2, 8          ; frame
        shli r2, r2, 8
        andi r1, r1, 255        ; offset in the page
        or r1, r1, r2
        ret
tr_fail:
        li r1, -1
        ret

; ---- Kernel data.
;                 flags  pc          base        bound   timer
user_psw:  .word  PG,    user_start, page_table, NPAGES, 0
next_frame: .word 0
faults:    .word 0
uregs:     .space 16
syscalls:  .word sys_exit, sys_putc, sys_putdec, sys_puts
page_table: .space NPAGES

cause_names: .word s_c0, s_c1, s_c2, s_c3, s_c4, s_c5, s_c6, s_c7, s_c8
s_c0:   .string "?"
s_c1:   .string "PRIV"
s_c2:   .string "MEM"
s_c3:   .string "ILL"
s_c4:   .string "DIV"
s_c5:   .string "SVC (unknown call)"
s_c6:   .string "HCALL"
s_c7:   .string "TIMER"
s_c8:   .string "IO"
mem_details: .word s_d0, s_d1, s_d2, s_d3
s_d0:   .string "(bound)"
s_d1:   .string "(invalid page)"
s_d2:   .string "(write-protect)"
s_d3:   .string "(physical)"

s_intro:  .string "kernel: user code at virtual 0x1000 (read-only), its array at 0x2000..0x2fff is mapped on demand\n"
s_fault:  .string "kernel: page fault at "
s_fault2: .string ": virtual page "
s_fault3: .string " -> frame "
s_exit:   .string "kernel: the program exited\n"
s_killed: .string "kernel: killed by trap "
s_value:  .string ", value "
s_pc:     .string ", at pc "
s_end:    .string "kernel: "
s_end2:   .string " page faults served\n"

        .space 48
stack_top:

        .include "lib/console.inc"

; ---- The user program, at physical = virtual 0x1000.
        .org USER_CODE
user_start:
        la r1, u_hello
        svc SYS_PUTS
        li r10, N
        li r8, 2                ; r8 = i
; The sieve of Eratosthenes: array[j] = 1 marks j as composite.  The array
; starts all zero because the kernel clears every frame it maps.
us_outer:
        mul r9, r8, r8          ; r9 = j = i * i
        bge r9, r10, us_count   ; i * i >= N: done
        ld r1, HEAP(r8)
        bnez r1, us_outer_next  ; i is composite: its multiples are marked
        li r11, 1
us_mark:
        st r11, HEAP(r9)
        add r9, r9, r8
        blt r9, r10, us_mark
us_outer_next:
        addi r8, r8, 1
        b us_outer
us_count:
        li r8, 2
        mov r12, r0             ; r12 = primes found
us_count_loop:
        ld r1, HEAP(r8)
        bnez r1, us_count_next
        addi r12, r12, 1
us_count_next:
        addi r8, r8, 1
        blt r8, r10, us_count_loop
        la r1, u_count
        svc SYS_PUTS
        mov r1, r12
        svc SYS_PUTDEC
        li r1, '\n'
        svc SYS_PUTC
        la r1, u_write
        svc SYS_PUTS
        la r2, user_start
        st r0, 0(r2)            ; a read-only page: MEM, write-protect
        svc SYS_EXIT            ; never reached
u_hello: .string "user: sieve of Eratosthenes over 4096 words at virtual 0x2000\n"
u_count: .string "user: primes below 4096: "
u_write: .string "user: now overwriting my own code...\n"
