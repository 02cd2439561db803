; toyos.s: a small operating system, processes in relocated regions.
;
; The kernel (kernel.inc) runs seven processes (user.inc), each in its own
; region of physical memory, preempted by its timer, with system calls
; for write, exit, yield, getpid and sleep.  This file holds what is
; particular to relocation: a process's space is its region, reached
; through base and bound.  toyos_paged.s runs the same processes with
; paging.
;
;   process i (1-based):  base = REGION + (i-1) * SPACE,  bound = SPACE
;
; Relocation protects the processes from each other and the kernel from
; them, but cannot make part of a space read-only: the scribbler writes
; into its own code and lives.  Run it with `--trace traps` to watch the
; timer, the system calls and the faults.

        .equ PT_ENTRIES, 0      ; no page tables

        .include "kernel.inc"

; make_space: r1 = PCB, r2 = its region.  User mode, interrupts on, the
; region as its space.
make_space:
        li r3, IE
        st r3, P_PSW+0(r1)
        st r2, P_PSW+2(r1)
        li r3, SPACE
        st r3, P_PSW+3(r1)
        ret

; uaddr: r1 = PCB, r2 = virtual address -> r1 = physical, or -1.
uaddr:
        ld r3, P_PSW+3(r1)      ; bound
        bgeu r2, r3, ua_bad
        ld r3, P_PSW+2(r1)      ; base
        add r1, r3, r2
        ret
ua_bad:
        li r1, -1
        ret

s_banner:
        .string "toyos: 7 processes in relocated regions, a tick every 400 instructions\n"

        .include "user.inc"
        .include "../lib/console.inc"
