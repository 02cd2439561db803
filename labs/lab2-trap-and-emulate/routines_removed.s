; ---- The interpreter routines: r1 = the instruction ------------------------------
;
; LAB 2: write these.  Each is entered from `emulate` (through by_opcode)
; with the guest's kernel's system instruction in r1, the guest's r1 and r2
; in gregs+1 and gregs+2, its other registers live, and the trap area
; (OLD_PSW, CAUSE, VALUE) as the trap left it.  Each must do to the
; virtual machine exactly what the instruction does on a bare one, then
; resume the guest after it (the macros above: DONE, DONE_SLOT, SET_A,
; FIELD, GET_R1, RETIRE, VPSW_FROM_OLD, RESTORE2, CALL_SAVED rebuild).
; Until then each one hands the trap to the guest's own kernel, as a
; hardware that does not know the instruction would: not what a bare
; machine does, so every guest that uses them differs.

emu_io:
emu_rtmr:
emu_pushf:
emu_popf:
emu_stmr:
emu_srr:
emu_tlbflush:
emu_halt:
        b emu_unknown

