; ---- The shadow page table ----------------------------------------------------------

; LAB 5: write rebuild.  It is called (CALL_SAVED rebuild) whenever the
; guest's paging changes: lpsw into PG=1, srr, tlbflush.  It must fill the
; shadow table at SHADOW from the guest's page table (vbase, vbound; at
; most SHADOW_MAX entries) and set rpsw+2 (base) and rpsw+3 (bound) to it,
; so that the guest's paged accesses reach GUEST_BASE + its own frames and
; every access the guest's hardware would fault faults the same way:
;
;   the guest's entry i lies beyond its memory      invalid, PTE_PHYS
;   the guest's entry is not valid                  invalid
;   its frame is beyond the guest's memory          frame 0xffffff, same V, W
;   else                                            frame + GUEST_BASE/256, same V, W
;
; It may change r1..r4 only (save others in rb_save).  Until written it
; leaves the real base and bound as they were: paging guests differ.
rebuild:
        ret

