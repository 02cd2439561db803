; native/frontend.s: Lab 7's interface over the disk itself, with no VMM:
; the "expected" half of every grading.  Each request is one port command
; on unit 0, driven by lib/disk.inc's interrupt-driven driver, so a batch
; of n requests costs n commands and n interrupts.  On a VMM's
; hypervisor-direct model every one of those port accesses traps; the
; split front end you write (../starter/frontend.s) asks once a batch.
;
; The workload includes lib/machine.inc and lib/split.inc before this file
; and lib/console.inc after it.  r1 .. r7 may change; r8 .. r13 are kept.

; blk_attach(r1 = unit): r1 = 0, or -1 (this one drives unit 0 only).
blk_attach:
        bnez r1, ba_no_unit
        install_handler disk_handler
        li r1, 1
        out r1, DISK0+DK_CTRL           ; an IO interrupt on completion
        li r1, IE
        popf r1
        li r1, 0
        ret
ba_no_unit:
        li r1, -1
        ret

; blk_queue(r1 = CMD_READ or CMD_WRITE, r2 = sector, r3 = address): here,
; done at once; a failure is counted for the next blk_submit.
blk_queue:
        push lr
        mov r4, r1
        mov r1, r2
        mov r2, r3
        mov r3, r4
        call disk_rw                    ; r1 = 0, or -1 on ERROR
        beqz r1, bq_done
        ld r1, native_errors(r0)
        addi r1, r1, 1
        st r1, native_errors(r0)
bq_done:
        pop lr
        ret

; blk_submit: r1 = the requests that failed since the last blk_submit.
blk_submit:
        ld r1, native_errors(r0)
        st r0, native_errors(r0)
        ret

native_errors:  .word 0

        .include "../lib/disk.inc"
