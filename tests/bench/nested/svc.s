; svc.s: the C VMM's share of one guest privileged instruction at depth 2,
; in a loop.  At depth 2 (c,asm) a guest rtmr costs the C VMM a reflection
; (the PRIV, into the asm VMM's handler) and the emulation of the lpsw that
; ends that handler.  Here a kernel executes svc K * 10 times with a
; handler that is that lpsw alone, so under --stack c the difference from
; add.s is those two traps with no handler between them
; (tests/bench/nested.sh: the floor of depth 2).
        .include "../../../programs/lib/machine.inc"
        .equ K, 100000          ; turns: K * 10 of them in all
_start: install_handler handler
        li r5, K
loop:   svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        svc 0
        addi r5, r5, -1
        bnez r5, loop
        li r1, 0
        halt
handler:
        lpsw OLD_PSW(r0)        ; back after the svc
