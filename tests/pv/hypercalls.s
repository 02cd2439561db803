; hypercalls.s: a paravirtual kernel that asks for every hypercall of
; `--vmm pv` (programs/lib/pv.inc) and prints what it got, good and bad
; arguments alike; then it takes a timer interrupt through the shared
; event mask, first masked (pending shows), then unmasked.
; tests/e2e/test_vmm_pv.sh runs it (hypercalls.expected) and checks it
; equivalent to the interpreted reference.

        .include "../../programs/lib/machine.inc"
        .include "../../programs/lib/pv.inc"

_start:
        hcall PV_HELLO                  ; r1 = version, r2 = memory words
        la sp, stack_top
        st r2, memsize(r0)
        mov r8, r2
        mov r2, r1
        la r1, s_version
        call puts_dec
        la r1, s_memory
        mov r2, r8
        call puts_dec

        addi r1, r8, -3                 ; a shared area past the end: -1
        hcall PV_SHARED
        mov r2, r1
        la r1, s_shared_end
        call puts_dec
        li r1, -1                       ; at 0xffffffff (wraps in 32 bits): -1
        hcall PV_SHARED
        mov r2, r1
        la r1, s_shared_wrap
        call puts_dec
        la r1, shared                   ; its own: 0
        hcall PV_SHARED
        mov r2, r1
        la r1, s_shared_ok
        call puts_dec
        ld r2, shared+PV_SH_MASK(r0)    ; interrupts are off: masked
        la r1, s_mask
        call puts_dec

        li r1, 1000                     ; stmr / rtmr: set does not count
        hcall PV_TIMER_SET
        hcall PV_TIMER_READ
        mov r2, r1
        la r1, s_timer
        call puts_dec
        mov r1, r0
        hcall PV_TIMER_SET

        la r1, batch                    ; two entries
        li r2, 2
        hcall PV_PTE_BATCH
        mov r2, r1
        la r1, s_batch
        call puts_dec
        ld r2, table+0(r0)
        la r1, s_entry0
        call puts_dec
        ld r2, table+1(r0)
        la r1, s_entry1
        call puts_dec
        la r1, batch_bad                ; its second pair is outside memory
        li r2, 3
        hcall PV_PTE_BATCH
        mov r2, r1
        la r1, s_batch_bad
        call puts_dec
        ld r2, table+2(r0)
        la r1, s_entry2
        call puts_dec
        ld r1, memsize(r0)              ; the list itself past the end: -1
        addi r1, r1, -1
        li r2, 1
        hcall PV_PTE_BATCH
        mov r2, r1
        la r1, s_batch_list
        call puts_dec
        la r1, batch                    ; too many at once: -1
        li r2, PV_PTE_BATCH_MAX+1
        hcall PV_PTE_BATCH
        mov r2, r1
        la r1, s_batch_many
        call puts_dec

        li r1, M                        ; the timer's handler
        st r1, NEW_PSW+0(r0)
        la r1, on_timer
        st r1, NEW_PSW+1(r0)
        st r0, NEW_PSW+2(r0)
        ld r1, memsize(r0)
        st r1, NEW_PSW+3(r0)
        st r0, NEW_PSW+4(r0)
        li r1, 20                       ; masked: the tick waits
        hcall PV_TIMER_SET
        li r3, 100
spin_masked:
        addi r3, r3, -1
        bnez r3, spin_masked
        hcall PV_TIMER_READ             ; the vmm looks at the mask here
        ld r2, shared+PV_SH_PENDING(r0)
        la r1, s_pending
        call puts_dec
        st r0, shared+PV_SH_MASK(r0)    ; unmask; any hypercall lets it in
        hcall PV_TIMER_READ
        la r1, s_not_taken
        call puts
        li r1, 1
        hcall PV_HALT

on_timer:
        la sp, stack_top
        ld r2, shared+PV_SH_MASK(r0)    ; the vmm masked it for the handler
        la r1, s_taken
        call puts_dec
        ld r2, OLD_PSW+1(r0)            ; right after the hypercall
        la r1, s_taken_pc
        call puts_dec
        li r1, 7
        hcall PV_HALT

memsize:  .word 0
shared:   .space PV_SHARED_WORDS
table:    .word 0, 0, 0
batch:    .word table+0, 0x1203, table+1, 0x4501
batch_bad: .word table+2, 0x77, 0xfffff000, 1, table+0, 2
s_version:     .string "hello: version "
s_memory:      .string "hello: memory words "
s_shared_end:  .string "shared past the end: "
s_shared_wrap: .string "shared at 0xffffffff: "
s_shared_ok:   .string "shared: "
s_mask:        .string "mask after PV_SHARED: "
s_timer:       .string "timer read after set 1000: "
s_batch:       .string "batch of 2: "
s_entry0:      .string "entry 0: "
s_entry1:      .string "entry 1: "
s_batch_bad:   .string "batch with a pair outside memory: "
s_entry2:      .string "entry 2: "
s_batch_list:  .string "batch list past the end: "
s_batch_many:  .string "batch of 65: "
s_pending:     .string "pending while masked: "
s_not_taken:   .string "no interrupt after unmasking\n"
s_taken:       .string "timer interrupt taken after unmasking; mask in the handler: "
s_taken_pc:    .string "at pc "
        .space 32
stack_top:
        .include "../../programs/lib/pv_console.inc"
