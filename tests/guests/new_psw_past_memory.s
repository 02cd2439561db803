; new_psw_past_memory.s: a trap whose new PSW is paged, with its pc in a
; page whose entry is valid and read-only but names a frame past memory.
;
; Fetching the handler's first instruction is a physical fault (a fetch
; needs no W), so the trap ends in a machine check; the trap itself was
; fully performed, so the old PSW, cause and value are in the trap area.

        .include "guest.inc"

_start:
        guest_start s_intro
        srr r2, r3              ; r3 = the memory size
        addi r4, r3, 255        ; the first frame wholly past memory
        shri r4, r4, 8
        shli r4, r4, 8
        ori r4, r4, PTE_V
        st r4, table+1(r0)      ; vpn 1: valid, read-only, past memory
        set_new_psw M+PG, 0x180, table, 2       ; paged, pc in vpn 1
        svc 1                   ; a machine check
        halt

table:    .word 0, 0
s_intro:  .string "new_psw_past_memory: svc with a new pc in a page past memory"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"
