; toyos_pv.s: toyos.s built as a paravirtual kernel for `--vmm pv`.
;
; The same kernel (kernel.inc), processes (user.inc) and relocation
; (reloc.inc) as toyos.s; only paravirt.inc differs: every lpsw, out, halt
; and srr of the kernel is a hypercall (paravirt.inc has the table).  Its
; output is native toyos's on a bare machine, line for line:
;
;   trapeze run --isa x86like --vmm pv programs/toyos/toyos_pv.s
;   trapeze equiv --isa x86like --vmm pv programs/toyos/toyos_pv.s
;
; On a bare machine, or under another mode, its first hcall is a trap with
; no handler yet: it stops (unhandled trap).

        .include "paravirt.inc" ; the kernel is a paravirtual guest
        .equ PT_ENTRIES, 0      ; no page tables

        .include "nofork.inc"   ; no fork, no wait
        .include "nodisk.inc"   ; no disk
        .include "kernel.inc"
        .include "reloc.inc"    ; make_space, uaddr

s_banner:
        .string "toyos: 7 processes in relocated regions, a tick every 400 instructions\n"


        .include "user.inc"
        .include "../lib/pv_console.inc"
