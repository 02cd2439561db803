; pte_baseline.s: pte_change.s's loop storing an ordinary word instead of
; the PTE, with no flush: what the loop costs without the PTE changes
; (tests/bench/shadow.sh).
        .include "paged_kernel.inc"
run:    st r6, DATA(r0)
        ld r1, PAGE32(r0)
        st r7, DATA(r0)
        ld r1, PAGE32(r0)
        addi r5, r5, -1
        bnez r5, run
        li r1, 0
        halt
