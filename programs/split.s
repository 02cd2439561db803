; split.s: a paravirtual disk front end, the guest half of the split
; driver (vmm/README.md "The split driver", lib/split.inc).
;
; Run it under the C VMM with the split model and a disk of 8 sectors:
;   trapeze run --vmm te --io split --disk FILE programs/split.s
; (split.args and split.disk say so to the tests).  On a bare machine, or
; under another model, its first hcall is an ordinary trap, which its
; handler does not expect: it halts 99.
;
; Instead of eight trapping outs per sector, the kernel writes requests
; into a ring in its own memory and kicks the back end once per batch.
; Batch 1 writes four sectors and polls: its RSP_EVENT stays behind, so
; the back end raises no interrupt (event suppression).  Batch 2 reads the
; four sectors back in reverse order plus one past the partition, with
; RSP_EVENT set to the next response: one IO interrupt for the batch.
; Then a ring the kernel has broken (REQ_PROD 9 ahead of 8 slots) is
; refused, and a unit without a ring is refused.

        .include "lib/machine.inc"
        .include "lib/split.inc"

_start:
        la sp, stack_top
        install_handler io_handler
        li r1, 0                        ; unit 0's ring
        la r2, ring
        hcall SPLIT_RING
        bnez r1, not_split

        ; ---- batch 1: write sectors 0..3, polling ----
        li r8, 0                        ; r8 = k
b1_post:
        li r1, CMD_WRITE
        mov r2, r8                      ; sector k
        shli r3, r8, 8
        la r4, out_bufs
        add r3, r3, r4                  ; from out_bufs + 256 k
        call post
        addi r8, r8, 1
        li r1, 4
        bne r8, r1, b1_post
        call push_and_kick
        la r1, s_batch1
        call puts
        call report_batch

        ; ---- batch 2: read them back, one interrupt ----
        ld r1, ring+RSP_PROD(r0)
        addi r1, r1, 1
        st r1, ring+RSP_EVENT(r0)       ; interrupt at the next response
        li r1, IE
        popf r1
        li r8, 0
b2_post:
        li r1, CMD_READ
        li r2, 3
        sub r2, r2, r8                  ; sector 3 - k
        shli r3, r8, 8
        la r4, in_bufs
        add r3, r3, r4                  ; into in_bufs + 256 k
        call post
        addi r8, r8, 1
        li r1, 4
        bne r8, r1, b2_post
        li r1, CMD_READ                 ; a sector past the partition
        li r2, 99
        la r3, in_bufs
        call post
        call push_and_kick              ; the interrupt comes right after
        li r1, 0
        popf r1
        la r1, s_batch2
        call puts
        call report_batch
        li r8, 0
b2_show:
        la r1, s_read
        call puts
        shli r1, r8, 8
        la r2, in_bufs
        add r1, r1, r2
        call puts
        addi r8, r8, 1
        li r1, 4
        bne r8, r1, b2_show

        ; ---- a broken ring, a unit without one ----
        ld r9, ring+REQ_PROD(r0)
        ld r1, ring+RSP_PROD(r0)
        addi r1, r1, 9
        st r1, ring+REQ_PROD(r0)        ; 9 requests in 8 slots
        li r1, 0
        hcall SPLIT_KICK
        st r9, ring+REQ_PROD(r0)
        mov r8, r1
        la r1, s_broken
        call puts
        mov r1, r8
        call putdec
        call newline
        li r1, 3
        hcall SPLIT_KICK
        mov r8, r1
        la r1, s_noring
        call puts
        mov r1, r8
        call putdec
        call newline

        la r1, s_kicks
        call puts
        ld r1, kicks(r0)
        call putdec
        la r1, s_irqs
        call puts
        ld r1, irqs(r0)
        call putdec
        call newline
        li r1, 0
        halt

not_split:
        li r1, 98
        halt

; post(r1 = OP, r2 = SECTOR, r3 = ADDR): request number `posted` into its
; slot; not visible to the back end until push_and_kick moves REQ_PROD.
post:
        ld r4, posted(r0)
        andi r5, r4, SPLIT_SLOTS-1
        shli r5, r5, 2
        la r6, ring+SPLIT_SLOTS_AT
        add r5, r5, r6
        st r1, SL_OP(r5)
        st r2, SL_SECTOR(r5)
        st r3, SL_ADDR(r5)
        st r0, SL_STATUS(r5)
        addi r4, r4, 1
        st r4, posted(r0)
        ret

; push_and_kick: REQ_PROD = posted; kicks only when REQ_EVENT lies in
; (old REQ_PROD, new REQ_PROD] (Xen's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY).
push_and_kick:
        ld r1, ring+REQ_PROD(r0)        ; old
        ld r2, posted(r0)               ; new
        st r2, ring+REQ_PROD(r0)
        ld r3, ring+REQ_EVENT(r0)
        sub r4, r2, r3                  ; new - event
        sub r5, r2, r1                  ; new - old
        bgeu r4, r5, pk_quiet
        li r1, 0
        hcall SPLIT_KICK
        ld r1, kicks(r0)
        addi r1, r1, 1
        st r1, kicks(r0)
pk_quiet:
        ret

; report_batch: each response since the last report, "done" or "error".
report_batch:
        push lr
        push r8
        ld r8, reported(r0)
rb_next:
        ld r1, ring+RSP_PROD(r0)
        beq r8, r1, rb_end
        andi r2, r8, SPLIT_SLOTS-1
        shli r2, r2, 2
        la r3, ring+SPLIT_SLOTS_AT
        add r2, r2, r3
        ld r1, SL_STATUS(r2)
        andi r1, r1, S_ERROR
        la r2, s_done
        beqz r1, rb_print
        la r2, s_error
rb_print:
        mov r1, r2
        call puts
        addi r8, r8, 1
        jmp rb_next
rb_end:
        st r8, reported(r0)
        pop r8
        pop lr
        ret

; io_handler: the unit's notification; anything else halts 99.
io_handler:
        st r1, saved+1(r0)
        st r2, saved+2(r0)
        ld r1, CAUSE(r0)
        andi r1, r1, CAUSE_MASK
        li r2, C_IO
        bne r1, r2, unexpected
        ld r1, VALUE(r0)
        li r2, DISK0+DK_STATUS
        bne r1, r2, unexpected
        ld r1, irqs(r0)
        addi r1, r1, 1
        st r1, irqs(r0)
        ld r1, saved+1(r0)
        ld r2, saved+2(r0)
        lpsw OLD_PSW(r0)
unexpected:
        li r1, 99
        halt

        .include "lib/console.inc"

s_batch1:   .string "split: batch 1, 4 writes, polled:\n"
s_batch2:   .string "split: batch 2, 5 reads, one interrupt:\n"
s_done:     .string "split:   done\n"
s_error:    .string "split:   error\n"
s_read:     .string "split: read back: "
s_broken:   .string "split: a kick on a broken ring: "
s_noring:   .string "split: a kick on a unit without a ring: "
s_kicks:    .string "split: kicks "
s_irqs:     .string ", interrupts "
posted:     .word 0
reported:   .word 0
kicks:      .word 0
irqs:       .word 0
saved:      .space 3
            .org 0x400
ring:       .space 40
            .org 0x500
out_bufs:   .string "sector 0: the front end posts\n"
            .org 0x600
            .string "sector 1: the back end serves\n"
            .org 0x700
            .string "sector 2: one kick per batch\n"
            .org 0x800
            .string "sector 3: events suppressed\n"
            .org 0x900
in_bufs:    .space 1024
            .space 64
stack_top:
