; pte_change.s: a paged kernel changes the PTE of page 32 (its frame
; alternates between 0x20 and 0x21), executes tlbflush as ISA.md requires,
; and loads through the page: 2 x 200,000 PTE changes (tests/bench/shadow.sh;
; pte_baseline.s is the same loop without the changes).
        .include "paged_kernel.inc"
run:    st r6, PT+32(r0)
        tlbflush
        ld r1, PAGE32(r0)
        st r7, PT+32(r0)
        tlbflush
        ld r1, PAGE32(r0)
        addi r5, r5, -1
        bnez r5, run
        li r1, 0
        halt
