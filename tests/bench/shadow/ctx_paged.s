; ctx_paged.s: switch_kernel.inc with four paged processes, each on its
; own page table (16 entries: page 0 the shared code, read-only; pages 2
; and 3 its own frames): every switch changes the table the hardware
; walks (tests/bench/shadow.sh).
        .include "switch_kernel.inc"
        .org 0x500              ; the PSWs, under lpsw's reach
psws:   .word PG, 0, PT0+0, 16, 0
        .word PG, 0, PT0+16, 16, 0
        .word PG, 0, PT0+32, 16, 0
        .word PG, 0, PT0+48, 16, 0

        .org PT0
        .word CODE+PTE_V, 0, 0x9000+PTE_V+PTE_W, 0x9100+PTE_V+PTE_W, 0, 0, 0, 0
        .word 0, 0, 0, 0, 0, 0, 0, 0
        .word CODE+PTE_V, 0, 0x9200+PTE_V+PTE_W, 0x9300+PTE_V+PTE_W, 0, 0, 0, 0
        .word 0, 0, 0, 0, 0, 0, 0, 0
        .word CODE+PTE_V, 0, 0x9400+PTE_V+PTE_W, 0x9500+PTE_V+PTE_W, 0, 0, 0, 0
        .word 0, 0, 0, 0, 0, 0, 0, 0
        .word CODE+PTE_V, 0, 0x9600+PTE_V+PTE_W, 0x9700+PTE_V+PTE_W, 0, 0, 0, 0
        .word 0, 0, 0, 0, 0, 0, 0, 0
