; Spins until r3 is set, then halts with it: the debugger sets it through two
; asm VMMs.
wait:   beqz r3, wait
        mov r1, r3
        halt
