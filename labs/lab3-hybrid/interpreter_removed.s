; ---- The interpreter: yours (labs/lab3-hybrid/README.md) -------------------------
;
; LAB 3: write it.  The rest of the file asks this of it:
;
; hy_init: called once at start, before vmm.s's _start (r1..r4 and r15
;   free; return with ret): build what your interpreter needs (a table by
;   opcode from instructions the assembler encoded, as vmm.s's `routines`).
;
; hy_enter: the gate faulted, so the guest, in virtual supervisor mode, is
;   to run the instruction at OLD_PSW+1.  OLD_PSW is its PSW as the
;   hardware saved it at the gate: IE, TP, pc and timer are the virtual
;   ones (M and PG are in vflags; base and bound in vbase, vbound).  Its r1
;   and r2 are in gregs+1, gregs+2, r3..r15 still in the registers.
;
;   Carry out its instructions one by one, as its hardware would, over its
;   registers (keep all of them in gregs: RESTORE_ALL and friends above)
;   and its memory: guest-physical g is this machine's GUEST_BASE + g
;   (g < gmem); unpaged, virtual va is g = vbase + va for va < vbound;
;   paged, through the guest's own page table at vbase (ISA.md, "Address
;   translation", with its order of faults: bound, V, W, physical).
;   For each instruction that completes: the pc moves on (OLD_PSW+1), the
;   virtual timer is charged (OLD_PSW+4; TP in OLD_PSW+0 when it reaches
;   0), n_emulated and n_interpreted count it.  Then:
;
;   - a system instruction: vmm.s's routine does it, as if it had trapped:
;     VALUE(r0) = the instruction, the guest's r1 and r2 in gregs+1..2 and
;     the others in the registers, then `jmp emulate` (it counts it, and
;     its tail resumes the guest through the gate);
;   - an instruction that traps (DIV, ILL, MEM, svc, hcall): VALUE(r0) =
;     the trap's value, OLD_PSW+1 = the pc the trap saves, r1 = cause |
;     detail << 8 (C_DIV, C_MEM_BOUND, ...), the guest's r1..r4 in gregs
;     and r5..r15 in the registers, then `jmp reflect_go`;
;   - TP set while IE is on: leave through the gate (hy_exit), where the
;     hardware takes the timer interrupt.
;
;   Before each instruction: when yield_request is not 0, clear it and
;   leave through hy_exit (the grader's budget of guest steps ran out and
;   it wants the guest whole).
;
;   For the debugger (optional, not graded): write n_emulated last of an
;   instruction's effects, then fall into the top of your loop, labelled
;   interp_next; stopped there, `trapeze debug` shows the guest live, from
;   gregs and OLD_PSW, and its breakpoints hit (programs/vmm/README.md,
;   "The hybrid build").
;
;   halt, lpsw and traps may end the guest's run, and the grader then
;   compares the registers it had at its last trap: do those only as the
;   first instruction after a gate, and go out through hy_exit first
;   otherwise.  vmm.s's emu_lpsw reads its operand through the real PSW:
;   put back the PG and bound that hy_resume kept (hy_real_flags,
;   hy_real_bound) into OLD_PSW before it.
;
; Until then the guest goes back to the gate at once, forever: no guest
; makes a step, and the grader says so.

hy_init:
        ret

hy_enter:
        RESTORE2
        lpsw OLD_PSW(r0)

