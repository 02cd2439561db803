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

        .include "native.inc"   ; the kernel owns the machine
        .equ PT_ENTRIES, 0      ; no page tables

        .include "nofork.inc"   ; no fork, no wait
        .include "nodisk.inc"   ; no disk
        .include "kernel.inc"
        .include "reloc.inc"    ; make_space, uaddr

s_banner:
        .string "toyos: 7 processes in relocated regions, a tick every 400 instructions\n"


        .include "user.inc"
        .include "../lib/console.inc"
