; frontend.s: Lab 7's reference, the guest half of the split driver
; (labs/lab7-io/README.md; the ring is lib/split.inc's and vmm/README.md's
; "The split driver").
;
; Requests go into the ring's 8 slots as they are queued; the back end
; sees them only when REQ_PROD moves (blk_flush), and is kicked only when
; REQ_PROD passes REQ_EVENT, Xen's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY:
; one kick for up to 8 requests.  Responses are polled: RSP_EVENT stays
; behind RSP_PROD, so the back end raises no interrupt.
;
; The workload includes lib/machine.inc and lib/split.inc before this file
; and lib/console.inc after it.  r1 .. r7 may change; r8 .. r13 are kept.

; blk_attach(r1 = unit): registers the ring; r1 = 0, or -1.
blk_attach:
        st r1, blk_unit(r0)
        la r2, blk_ring
        hcall SPLIT_RING
        bnez r1, ba_done
        ld r2, blk_ring+REQ_PROD(r0)    ; the back end starts where we are
        st r2, blk_posted(r0)
        st r2, blk_answered(r0)
ba_done:
        ret

; blk_queue(r1 = CMD_READ or CMD_WRITE, r2 = sector, r3 = address): into
; the next slot, flushing first when all 8 hold requests not answered yet.
blk_queue:
        push lr
        ld r4, blk_posted(r0)
        ld r5, blk_answered(r0)
        sub r4, r4, r5                  ; requests in the ring
        li r5, SPLIT_SLOTS
        bltu r4, r5, bq_room
        push r1
        push r2
        push r3
        call blk_flush
        pop r3
        pop r2
        pop r1
bq_room:
        ld r4, blk_posted(r0)
        andi r5, r4, SPLIT_SLOTS-1      ; request i is slot i mod 8
        shli r5, r5, 2
        la r6, blk_ring+SPLIT_SLOTS_AT
        add r5, r5, r6
        st r1, SL_OP(r5)
        st r2, SL_SECTOR(r5)
        st r3, SL_ADDR(r5)
        st r0, SL_STATUS(r5)
        addi r4, r4, 1
        st r4, blk_posted(r0)
        pop lr
        ret

; blk_submit: flushes; r1 = the requests that failed since the last one.
blk_submit:
        push lr
        call blk_flush
        ld r1, blk_errors(r0)
        st r0, blk_errors(r0)
        pop lr
        ret

; blk_flush: REQ_PROD = posted, a kick if the back end asked for one,
; then every response in, its errors counted.
blk_flush:
        ld r1, blk_ring+REQ_PROD(r0)    ; old
        ld r2, blk_posted(r0)           ; new
        st r2, blk_ring+REQ_PROD(r0)
        ld r3, blk_ring+REQ_EVENT(r0)
        sub r4, r2, r3                  ; new - event
        sub r5, r2, r1                  ; new - old
        bgeu r4, r5, bf_collect         ; event not in (old, new]: no kick
        ld r1, blk_unit(r0)
        hcall SPLIT_KICK
bf_collect:
        ld r1, blk_answered(r0)
        ld r2, blk_errors(r0)
bf_next:
        ld r3, blk_ring+RSP_PROD(r0)
        beq r1, r3, bf_done
        andi r4, r1, SPLIT_SLOTS-1
        shli r4, r4, 2
        la r5, blk_ring+SPLIT_SLOTS_AT
        add r4, r4, r5
        ld r4, SL_STATUS(r4)
        andi r4, r4, S_ERROR
        beqz r4, bf_ok
        addi r2, r2, 1
bf_ok:
        addi r1, r1, 1
        b bf_next
bf_done:
        st r1, blk_answered(r0)
        st r2, blk_errors(r0)
        ret

blk_unit:       .word 0
blk_posted:     .word 0                 ; requests queued, all time
blk_answered:   .word 0                 ; responses taken in, all time
blk_errors:     .word 0                 ; since the last blk_submit
blk_ring:       .space SPLIT_RING_WORDS
