lab7-io/frontend.s
; frontend.s: your split-driver front end (Lab 7, ../README.md).
;
; The workload includes lib/machine.inc and lib/split.inc before this file
; and lib/console.inc after it (so puts, putdec, puthex work for
; debugging; use no label starting with wl_).  Include nothing yourself.
; r1 .. r7 may change; r8 .. r13 must be kept (push and pop them).

; blk_attach(r1 = unit): registers your ring with the back end
; (hcall SPLIT_RING); r1 = 0, or -1.
blk_attach:
        li r1, -1
        ret

; blk_queue(r1 = CMD_READ or CMD_WRITE, r2 = sector, r3 = address):
; a request into the ring's next slot.
blk_queue:
        ret

; blk_submit: every queued request served (kick the back end only when
; it asks, REQ_EVENT); r1 = how many of them failed (S_ERROR) since the
; last blk_submit.
blk_submit:
        li r1, 0
        ret
