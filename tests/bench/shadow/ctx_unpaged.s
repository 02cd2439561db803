; ctx_unpaged.s: switch_kernel.inc with the four processes under
; relocation (the same code and pages, no page table): the baseline, so
; that the difference is what paging adds to a context switch
; (tests/bench/shadow.sh).
        .include "switch_kernel.inc"
        .org 0x500              ; the PSWs, under lpsw's reach
psws:   .word 0, 0, CODE, 0x400, 0
        .word 0, 0, CODE, 0x400, 0
        .word 0, 0, CODE, 0x400, 0
        .word 0, 0, CODE, 0x400, 0
