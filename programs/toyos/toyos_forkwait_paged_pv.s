; toyos_forkwait_paged_pv.s: toyos (kernel.inc) running forkwait.inc's one process, which
; forks a child and waits for it 200 times, under paging as a paravirtual kernel (run it with --vmm pv):
; the fork/exit/system-call-heavy workload of tests/bench/vmm.sh (make
; bench-vmm), after Adams & Agesen's "forkwait".

        .include "paravirt.inc"  ; the kernel is a paravirtual guest
        .equ PT_ENTRIES, 16

        .include "fork.inc"      ; fork and wait
        .include "nodisk.inc"    ; no disk
        .include "kernel.inc"
        .include "paged.inc"     ; make_space, uaddr

s_banner:
        .string "toyos: forkwait under paging, a tick every 400 instructions\n"

        .include "forkwait.inc"
        .include "../lib/pv_console.inc"
