; shadow_foreign_frames.s: page-table frames aimed where a monitor that
; forgot its f-map, or its check of the memory size, would land.
;
; Part 1: an identity table (vpn i -> frame i, writable, for every frame of
; memory, the trap area's frame 0 included).  The kernel first writes a
; distinct word at offset 0x40 of every frame from 0x20 on; the user program,
; paged, reads word 0x40 of every frame (a checksum) and writes a word at
; offset 0x80 of every frame from 0x20 on (of 256 frames evenly spread from
; the last one down, in a memory of more than 256 frames).  The kernel then checks,
; unpaged, that the paged checksum is the physical one and that every write
; landed in its own frame.  A shadow table that took guest frame i as host
; frame i would read the host page and the guests below, and write into them.
;
; Part 2: entries 1..68 name frames past memory: k*R .. k*R+15 for k = 1..4
; and k*R - 1 for k = 2..5, R being the memory size in frames, rounded up.
; Guest k's region, the shadow area and the padding between regions all
; lie at such distances: a monitor that added the frame to the guest's
; region without checking it against the memory size would reach them.
; Even entries are read-only, odd ones writable.  The program loads and
; stores through each: every load is physical, every store write-protect
; (even) or physical (odd), as the bare machine's order of checks says.

        .include "shadow.inc"
        .equ TABLE, 0x1000      ; up to 4096 entries
        .equ FIRST, 0x20        ; the first frame part 1 writes into
        .equ P2, 69             ; part 2's bound

_start:
        la sp, stack_top
        la r1, handler
        call install            ; r3 = memory size
        st r3, memsize(r0)
        addi r4, r3, 255
        shri r4, r4, 8          ; r4 = R, frames, rounded up
        st r4, frames(r0)
        st r4, psw1+3(r0)
        shri r5, r4, 8          ; the stride: every frame up to 256 frames, then
        bnez r5, have_stride    ; 256 frames evenly spread
        li r5, 1
have_stride:
        st r5, stride(r0)
        mov r5, r0              ; identity entries; patterns at 0x40
id_next:
        shli r6, r5, 8
        ori r7, r6, PTE_V+PTE_W
        st r7, TABLE(r5)
        slti r7, r5, FIRST
        bnez r7, id_skip
        addi r7, r6, 0x40
        call in_memory
        beqz r1, id_skip
        call pattern            ; r1 = the pattern of frame r5
        st r1, 0(r7)
id_skip:
        addi r5, r5, 1
        bne r5, r4, id_next
        la r1, s_start
        call say
        ld r6, frames(r0)       ; for the user program: the frames it visits,
        addi r6, r6, -1         ; from the last down by the stride
        ld r4, stride(r0)
        lpsw psw1(r0)

; pattern: r1 = a word that depends on the frame r5 (r2 changed).
pattern:
        li r1, 0x01000193
        mul r1, r1, r5
        li r2, 0x5a5a0000
        xor r1, r1, r2
        ret

handler:
        ld r8, CAUSE(r0)
        andi r9, r8, CAUSE_MASK
        li r10, C_SVC
        beq r9, r10, h_svc
        shri r8, r8, 8
        li r10, C_MEM
        beq r9, r10, h_mem
        li r8, 4                ; anything but MEM: counted apart
h_mem:  ld r9, by_detail(r8)
        addi r9, r9, 1
        st r9, by_detail(r8)
        b skip_return
h_svc:  ld r9, VALUE(r0)
        li r10, 1
        beq r9, r10, check1
        b report

check1: st r5, paged_sum(r0)
        ld r5, frames(r0)       ; the checksum, unpaged, over the same frames
        addi r5, r5, -1
        mov r6, r0
c_next: shli r7, r5, 8
        addi r7, r7, 0x40
        mov r2, r0
        call in_memory
        beqz r1, c_fold
        ld r2, 0(r7)
c_fold: shli r3, r6, 1          ; sum = rotl(sum, 1) ^ word
        shri r6, r6, 31
        or r6, r6, r3
        xor r6, r6, r2
        slti r1, r5, FIRST      ; the word the program wrote, in its own frame
        bnez r1, c_step
        addi r7, r7, 0x40
        call in_memory
        beqz r1, c_step
        call pattern
        xori r1, r1, 0xffff
        ld r3, 0(r7)
        bne r1, r3, c_step
        ld r1, writes_ok(r0)
        addi r1, r1, 1
        st r1, writes_ok(r0)
c_step: ld r1, stride(r0)
        sub r5, r5, r1
        bge r5, r0, c_next
        st r6, real_sum(r0)

        ; part 2: entries 1..68 name frames past memory
        li r5, 1                ; r5 = the entry
        li r6, 1                ; r6 = k
p2_k:   ld r4, frames(r0)
        mul r7, r4, r6          ; k * R
        li r3, 16
p2_d:   call past_entry
        addi r7, r7, 1
        addi r3, r3, -1
        bnez r3, p2_d
        addi r6, r6, 1
        slti r1, r6, 5
        bnez r1, p2_k
        li r6, 2
p2_end: ld r4, frames(r0)
        mul r7, r4, r6
        addi r7, r7, -1         ; k * R - 1
        call past_entry
        addi r6, r6, 1
        slti r1, r6, 6
        bnez r1, p2_end
        li r1, page+PTE_V       ; vpn 0: the program
        st r1, TABLE(r0)
        lpsw psw2(r0)

; in_memory: r1 = 1 if the address r7 is inside memory, else 0.
in_memory:
        ld r1, memsize(r0)
        sltu r1, r7, r1
        ret

; past_entry: entry r5 = frame r7, writable when r5 is odd; r5 + 1.
past_entry:
        shli r1, r7, 8
        ori r1, r1, PTE_V
        andi r2, r5, 1
        add r2, r2, r2          ; PTE_W = 2
        or r1, r1, r2
        st r1, TABLE(r5)
        addi r5, r5, 1
        ret

report: la r1, s_sum
        ld r2, paged_sum(r0)
        ld r3, real_sum(r0)
        sub r2, r2, r3
        call puts_dec
        la r1, s_writes
        ld r2, writes_ok(r0)
        call puts_dec
        la r1, by_detail
        call puts_faults
        la r1, s_other
        ld r2, by_detail+4(r0)
        call puts_dec
        li r1, 0
        halt

memsize:   .word 0
frames:    .word 0
stride:    .word 0
paged_sum: .word 0
real_sum:  .word 0
writes_ok: .word 0
by_detail: .word 0, 0, 0, 0, 0
psw1:      .word PG, p1, TABLE, 0, 0          ; bound = the frames
psw2:      .word PG, p2-page, TABLE, P2, 0
s_start:   .string "shadow_foreign_frames: an identity table, then frames past memory"
s_sum:     .string "paged checksum - physical checksum: "
s_writes:  .string "paged writes found in their own frame: "
s_other:   .string "other traps: "
           .space 32
stack_top:

; The user program.  Part 1 runs here through the identity table (virtual =
; physical); part 2 at virtual 0 (vpn 0 -> this page).  Branches only.
        .org 0x400
page:
p1:     mov r5, r0              ; r5 = the checksum; r6 = the last frame, r4 = the stride
p1_n:   shli r7, r6, 8
        mov r2, r0
        ld r2, 0x40(r7)         ; past the end of a partial frame: skipped, 0
        shli r3, r5, 1          ; sum = rotl(sum, 1) ^ word
        shri r5, r5, 31
        or r5, r5, r3
        xor r5, r5, r2
        slti r3, r6, FIRST
        bnez r3, p1_skip
        li r1, 0x01000193       ; the kernel's pattern, its low half inverted
        mul r1, r1, r6
        li r2, 0x5a5affff
        xor r1, r1, r2
        st r1, 0x80(r7)
p1_skip:
        sub r6, r6, r4
        bge r6, r0, p1_n
p1_done:
        svc 1

p2:     li r1, 1                ; entries 1..68
p2_n:   shli r2, r1, 8
        add r2, r2, r1          ; offset = the entry
        ld r3, 0(r2)
        st r3, 0(r2)
        addi r1, r1, 1
        slti r3, r1, P2
        bnez r3, p2_n
        svc 2

        .org 0x500
        .include "common.inc"
