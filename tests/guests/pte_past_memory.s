; pte_past_memory.s: accesses through page-table entries that are valid but
; name a frame past memory, and through entries that themselves lie past it.
;
; isa/README.md fixes the order of a translation's checks: bound (detail 0),
; then the entry's V (1), then W for a store (2), then the physical limit
; (3).  So through a valid, read-only entry whose frame is past memory a
; load faults "physical" but a store faults "write-protect"; through a
; writable one both fault "physical"; and when the entry itself lies past
; memory, every access is "physical".  A monitor must give the guest exactly
; these details, however its shadow page table encodes such entries.
;
; Part 1 runs paged in supervisor mode (so `lpsw` reads its operand through
; the table too); part 2 runs paged in user mode on a table that starts at
; the last word of memory.  The handler logs the cause word and the value
; of every trap and skips the instruction; the report prints the log.  Each
; access uses its own offset (0 to 17), so the low byte of the value says
; which instruction a line of the report is about.

        .include "guest.inc"

_start:
        la sp, stack_top
        install_handler handler         ; r3 = the memory size
        addi r4, r3, 255                ; the first frame wholly past memory
        shri r4, r4, 8
        shli r4, r4, 8
        ori r5, r4, PTE_V               ; vpn 1: valid, read-only, past memory
        st r5, table+1(r0)
        ori r5, r4, PTE_V+PTE_W         ; vpn 2: valid, writable, past memory
        st r5, table+2(r0)
        addi r4, r3, -1                 ; part 2's table: the last word
        st r4, psw2+2(r0)
        li r5, page2+PTE_V
        st r5, 0(r4)                    ; its vpn 0; vpn 1 lies past memory
        la r1, s_intro
        call puts
        call newline
        lpsw psw1(r0)

; Part 1, at virtual 0 (vpn 0 -> page1), supervisor mode.
        .org 0x400
page1:
        li r1, 0x100            ; vpn 1: valid, read-only, frame past memory
        st r0, 0(r1)            ;   write-protect
        ld r2, 1(r1)            ;   physical
        lpsw 2(r1)              ;   physical (lpsw reads)
        li r1, 0x200            ; vpn 2: valid, writable, frame past memory
        st r0, 3(r1)            ;   physical
        ld r2, 4(r1)            ;   physical
        li r1, 0x300            ; vpn 3: valid, read-only, frame 0xffffff
        st r0, 5(r1)            ;   write-protect
        ld r2, 6(r1)            ;   physical
        lpsw 7(r1)              ;   physical
        li r1, 0x400            ; vpn 4: invalid, with frame bits
        st r0, 8(r1)            ;   invalid page
        ld r2, 9(r1)            ;   invalid page
        lpsw 10(r1)             ;   invalid page
        li r1, 0x500            ; vpn 5: valid, read-only, inside memory
        st r0, 11(r1)           ;   write-protect
        ld r2, 12(r1)           ;   no trap
        li r1, 0x600            ; vpn 6: past the table's 6 entries
        st r0, 13(r1)           ;   bound
        ld r2, 14(r1)           ;   bound
        svc 1

; Part 2, at virtual 0 (vpn 0 -> page2), user mode, the table at the end.
        .org 0x500
page2:
        li r1, 0x100            ; vpn 1: the entry lies past memory
        st r0, 15(r1)           ;   physical
        ld r2, 16(r1)           ;   physical
        li r1, 0x200            ; vpn 2: further still
        ld r2, 17(r1)           ;   physical
        svc 2

; The handler: log every trap, skip a faulting instruction; svc 1 starts
; part 2, svc 2 prints the log and halts.
handler:
        ld r8, CAUSE(r0)
        ld r9, nlog(r0)
        st r8, log(r9)
        ld r10, VALUE(r0)
        st r10, log+1(r9)
        addi r9, r9, 2
        st r9, nlog(r0)
        li r9, C_SVC
        beq r8, r9, h_svc
        ld r8, OLD_PSW+1(r0)
        addi r8, r8, 1
        st r8, OLD_PSW+1(r0)
        lpsw OLD_PSW(r0)
h_svc:  li r9, 1
        beq r10, r9, h_part2
        mov r8, r0              ; r8 = index into the log
report:
        ld r9, nlog(r0)
        bgeu r8, r9, report_done
        ld r1, log(r8)
        li r2, C_SVC
        beq r1, r2, report_next ; the two svc are not reported
        la r1, s_cause
        call puts
        ld r1, log(r8)
        call puthex
        la r1, s_value
        call puts
        ld r1, log+1(r8)
        call puthex
        call newline
report_next:
        addi r8, r8, 2
        b report
report_done:
        li r1, 0
        halt
h_part2:
        lpsw psw2(r0)

psw1:     .word M+PG, 0, table, 6, 0
psw2:     .word PG, 0, 0, 4, 0          ; base: the last word of memory
table:    .word page1+PTE_V, 0, 0, 0xffffff00+PTE_V, 0xabcd00, data+PTE_V
nlog:     .word 0
log:      .space 48
s_intro:  .string "pte_past_memory: MEM traps through entries past memory"
s_cause:  .string "cause "
s_value:  .string " value "
        .space 32
stack_top:
        .include "../../programs/lib/console.inc"

        .org 0x800
data:     .space 256
