; shadow_limit_new_psw.s: a trap whose new PSW is paged, with its pc in
; virtual page 0x1800 of a page table of 0x1801 entries.
;
; On a bare machine the handler runs there and halts.  The asm VMM
; (programs/vmm/vmm.s) shadows at most SHADOW_MAX = 4096 entries, so it
; cannot run this handler: it must give up (vm_error E_SHADOW), as its
; README promises, not report a machine check the guest's hardware would
; not have.

        .include "guest.inc"

_start:
        guest_start s_intro
        map_page 0x1800, handler_page
        set_new_psw M+PG, FAR, TABLE, ENTRIES
        svc 1
        halt

s_intro:  .string "shadow_limit_new_psw: svc, the handler at virtual page 0x1800"
        .space 16
stack_top:
        .include "../../programs/lib/console.inc"

; The handler, mapped at FAR: it addresses its message relative to FAR.
        .org 0x400
handler_page:
        li r2, FAR+msg-handler_page
h_next: ld r1, 0(r2)
        beqz r1, h_done
        out r1, 0
        addi r2, r2, 1
        b h_next
h_done: li r1, 0
        halt
msg:    .string "the handler runs at virtual page 0x1800\n"
