; toyos_forkwait_paged.s: toyos (kernel.inc) running forkwait.inc's one process, which
; forks a child and waits for it 200 times, under paging:
; the fork/exit/system-call-heavy workload of tests/bench/vmm.sh (make
; bench-vmm), after Adams & Agesen's "forkwait".

        .include "native.inc"    ; the kernel owns the machine
        .equ PT_ENTRIES, 16

        .include "fork.inc"      ; fork and wait
        .include "nodisk.inc"    ; no disk
        .include "kernel.inc"
        .include "paged.inc"     ; make_space, uaddr

s_banner:
        .string "toyos: forkwait under paging, a tick every 400 instructions\n"

        .include "forkwait.inc"
        .include "../lib/console.inc"
