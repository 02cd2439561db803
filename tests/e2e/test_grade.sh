#!/usr/bin/env bash
# trapeze grade, end to end: for each lab the starter scores 0, the
# reference full marks, and seeded mutants of the reference each lose
# points; hostile submissions (including a file outside the submission,
# reading the reference, looping forever, a huge file, planting a
# results.json) cannot; results.json has Gradescope's fields; a grade is
# the same every time, and the seed is the submission's unless given.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP
# The grader's own code runs sanitized ($TRAPEZE) for the starters, the
# references, results.json and the hostile submissions.  The mutants and
# the packaged autograder only prove what a grade is, which the release
# build computes alike (same instruction counts), some ten times faster:
# a depth-3 grading takes 16 s sanitized, and make test has 10 minutes.
GRADER=${TRAPEZE_RELEASE:-$ROOT/trapeze}
[ -x "$GRADER" ] || GRADER=$TRAPEZE
L1=labs/lab1-classify
L2=labs/lab2-trap-and-emulate
# Lab 2's starter is made from programs/vmm/vmm.s, never kept (its markers
# must still be there: make_starter.sh says so when they are not).
e2e_checks=$((e2e_checks + 1))
bash $L2/make_starter.sh || { fail "lab 2: the starter cannot be made from programs/vmm/vmm.s"; finish; }
L3=labs/lab3-hybrid
e2e_checks=$((e2e_checks + 1))
bash $L3/make_starter.sh || { fail "lab 3: the starter cannot be made from programs/vmm/vmm_hybrid.s"; finish; }
L5=labs/lab5-shadow-tables
L6=labs/lab6-recursion
e2e_checks=$((e2e_checks + 1))
bash $L5/make_starter.sh && bash $L6/make_starter.sh || { fail "labs 5, 6: the starters cannot be made"; finish; }

# score DIR LAB [ARGS]: grades, leaves results.json in $T/r.json, sets $score and $max.
score() {
    local lab=$1 dir=$2
    shift 2
    run_capture "${grader:-$TRAPEZE}" grade "$lab" "$dir" --json "$T/r.json" "$@"
    score=$(jq -r .score "$T/r.json" 2>/dev/null)
    max=$(jq -r .max_score "$T/r.json" 2>/dev/null)
}

# mutant LAB BASE FILE NAME SED: a copy of BASE with FILE edited by SED
# (which must change it) scores below full marks.
mutant() {
    local lab=$1 base=$2 file=$3 name=$4 expr=$5 dir=$T/mutant
    rm -rf "$dir" && cp -rL "$base" "$dir"
    sed -i -e "$expr" "$dir/$file"
    e2e_checks=$((e2e_checks + 1))
    if cmp -s "$base/$file" "$dir/$file"; then
        fail "mutant '$name': the edit changed nothing (update the test)"
        return
    fi
    grader=$GRADER score "$lab" "$dir"
    e2e_checks=$((e2e_checks + 1))
    if [ "$status" -ne 1 ] || [ -z "$score" ] || ! awk -v s="$score" -v m="$max" 'BEGIN { exit !(s < m) }'; then
        fail "mutant '$name' of $lab: scored $score / $max (exit $status), expected fewer points"
    else
        echo "ok   $lab mutant '$name': $score / $max"
    fi
}

# ---- The starters score 0, the references full marks --------------------------
for lab in $L1 $L2 $L3; do
    score "$lab" "$lab/starter"
    expect_status 1 "$lab: the starter is below full marks"
    e2e_checks=$((e2e_checks + 1))
    [ "$score" = 0 ] || fail "$lab: the starter scores $score, expected 0"
    score "$lab" "$lab/solution"
    expect_status 0 "$lab: the reference gets full marks"
    e2e_checks=$((e2e_checks + 1))
    [ "$score" = "$max" ] && [ "$max" != 0 ] || fail "$lab: the reference scores $score / $max"
    echo "ok   $lab: starter 0, reference $score / $max"
done

# ---- results.json: Gradescope's fields -------------------------------------
score lab2-trap-and-emulate $L2/solution
e2e_checks=$((e2e_checks + 1))
jq -e '(.score|type) == "number" and (.max_score|type) == "number" and (.execution_time|type) == "number"
       and (.output|type) == "string" and .visibility == "visible" and (.stdout_visibility|type) == "string"
       and (.extra_data.seed|test("^[0-9]+$")) and (.tests|length) > 20
       and all(.tests[]; (.name|type) == "string" and (.number|type) == "string" and (.score|type) == "number"
               and (.max_score|type) == "number" and (.status == "passed" or .status == "failed")
               and (.output|type) == "string" and (.tags|type) == "array"
               and (.visibility == "visible" or .visibility == "after_due_date") and (.extra_data|type) == "object")
       and any(.tests[]; .visibility == "after_due_date") and any(.tests[]; .visibility == "visible")' \
    "$T/r.json" >/dev/null || fail "lab 2: results.json lacks Gradescope's fields: $(head -c 400 "$T/r.json")"
e2e_checks=$((e2e_checks + 1))
[ "$(jq '[.tests[].score] | add' "$T/r.json")" = "$(jq .score "$T/r.json")" ] ||
    fail "lab 2: the score is not the sum of the tests' scores"

# ---- Deterministic; the seed is the submission's, or --seed ----------------
score lab2-trap-and-emulate $L2/starter
cp "$T/r.json" "$T/first.json"
score lab2-trap-and-emulate $L2/starter
e2e_checks=$((e2e_checks + 1))
cmp -s "$T/first.json" "$T/r.json" || fail "lab 2: two gradings of the starter differ"
e2e_checks=$((e2e_checks + 1))
[ "$(jq -r .extra_data.seed_from "$T/r.json")" = "the submission's contents" ] || fail "lab 2: seed_from"
score lab2-trap-and-emulate $L2/starter --seed 7
e2e_checks=$((e2e_checks + 1))
[ "$(jq -r .extra_data.seed "$T/r.json")" = 7 ] || fail "lab 2: --seed 7 is not recorded"
e2e_checks=$((e2e_checks + 1))
[ "$(jq -c '[.tests[] | select(.name|test("random")) | .output]' "$T/first.json")" != \
  "$(jq -c '[.tests[] | select(.name|test("random")) | .output]' "$T/r.json")" ] ||
    fail "lab 2: the random guests of two seeds fail alike (are they generated from the seed?)"
e2e_checks=$((e2e_checks + 1))
jq -r '.tests[] | select(.name == "random guest 1") | .output' "$T/r.json" | grep -Eq 'first differs after guest step [0-9]+: .+' ||
    fail "lab 2: a failing random guest does not name the first differing step"

# ---- Lab 1's mutants ------------------------------------------------------------
mutant $L1 $L1/solution answers.txt "popf silent called critical-user" \
    's/^classify popf silent critical$/classify popf silent critical-user/'
mutant $L1 $L1/solution answers.txt "hybrid said to satisfy Theorem 1" \
    's/^theorems hybrid no yes$/theorems hybrid yes yes/'
mutant $L1 $L1/solution answers.txt "a classification left out" '/^classify srr exec/d'
mutant $L1 $L1/solution answers.txt "stmr silent called innocuous" \
    's/^classify stmr silent critical$/classify stmr silent innocuous/'
mutant $L1 $L1/solution hybrid_only.var "the built-in hybrid handed in" 's/^user stmr silent$/user popf silent/'
mutant $L1 $L1/solution neither.var "two instructions that do not trap" '$a user rtmr exec'

# ---- Lab 2's mutants ------------------------------------------------------------
mutant $L2 $L2/solution vmm.s "a missing reflection (user-mode system instructions emulated)" \
    '/^trap_entry:/,/^emulate:/ s/andi r2, r2, M\b/addi r2, r0, 1/'
mutant $L2 $L2/solution vmm.s "popf sets M instead of IE (a wrong PSW bit)" \
    '/^emu_popf:/,/^emu_stmr:/ s/andi r1, r1, IE$/andi r1, r1, M/'
mutant $L2 $L2/solution vmm.s "stmr resumes two words on (off by one)" \
    '/^emu_stmr:/,/^emu_srr:/ s/addi r1, r1, 1$/addi r1, r1, 2/'
mutant $L2 $L2/solution vmm.s "rtmr leaks the real timer" \
    '/^emu_rtmr:/,/^emu_pushf:/ s/ld r1, OLD_PSW+4(r0)$/rtmr r1/'
mutant $L2 $L2/solution vmm.s "srr answers a hard-coded bound" \
    '/^emu_srr:/,/^emu_tlbflush:/ s/ld r1, vbound(r0)$/li r1, 0x10000/'
mutant $L2 $L2/solution vmm.s "halt not retired (the guest's step count)" \
    '/^emu_halt:/,/^emu_unknown:/ s/^        RETIRE$/        nop/'

# ---- Lab 3's mutants (vmm_hybrid.s's interpreter) ------------------------------
mutant $L3 $L3/solution vmm_hybrid.s "popf's IE not applied (retired as a no-op)" \
    's/^hy_templates:$/hy_templates:\n        popf r0\n        .word hy_retire/'
mutant $L3 $L3/solution vmm_hybrid.s "the pc off by one after an interpreted instruction" \
    '/^hy_retire:$/,/^hy_retire_at:$/ s/^        addi r8, r8, 1$/        addi r8, r8, 2/'
mutant $L3 $L3/solution vmm_hybrid.s "an interpreted svc not reflected (skipped)" \
    '/^hy_svc:/,/^hy_hcall:/ s/^        b hy_trap$/        b hy_retire_at/'
mutant $L3 $L3/solution vmm_hybrid.s "the virtual timer not charged by interpreted instructions" \
    's/^        ld r2, OLD_PSW+4(r0)    ; the virtual timer, charged (ISA.md)$/        mov r2, r0/'
mutant $L3 $L3/solution vmm_hybrid.s "halt carried out mid-run (the registers of the last gate)" \
    '/^hy_halt:/,/^hy_system:/ s/^        beqz r3, hy_exit$/        nop/'
# User mode interpreted too: every PSW is the gate and every gate fault
# interpreted.  Its guests stay equivalent (theirs have no system
# instruction in user mode but svc); its efficiency is what it loses.
mutant $L3 $L3/solution vmm_hybrid.s "user mode interpreted too" \
    's/^        beqz r1, hy_direct      ; virtual user mode: directly, as vmm.s$/        nop/; s/^        bnez r2, hy_enter$/        b hy_enter/'
e2e_checks=$((e2e_checks + 1))
jq -e '[.tests[] | select(.tags[0] == "efficiency")][0] | .score < .max_score' "$T/r.json" >/dev/null ||
    fail "lab 3: interpreting user mode too keeps its efficiency points"
# The plain trap-and-emulate VMM handed in: the kernel's popf escapes.
rm -rf "$T/plain" && mkdir "$T/plain" && printf '        .include "vmm.s"\n' >"$T/plain/vmm_hybrid.s"
grader=$GRADER score $L3 "$T/plain"
e2e_checks=$((e2e_checks + 1))
awk -v s="$score" -v m="$max" 'BEGIN { exit !(s < m) }' || fail "lab 3: the plain vmm.s scores $score / $max"
echo "ok   $L3 the plain trap-and-emulate vmm.s: $score / $max"
# Only machine.inc and the given vmm.s may be included.
rm -rf "$T/inc3" && mkdir "$T/inc3" && printf '        .include "../../programs/vmm/vmm_hybrid.s"\n' >"$T/inc3/vmm_hybrid.s"
score $L3 "$T/inc3"
expect_match err "only '.include \"../lib/machine.inc\"' \(and the lab's other files\) may be included" \
    "lab 3: another include is refused"

# ---- Labs 5, 6 (rows of lab 2's grader) and 7: starters and references ----------
# Lab 5's starter (rebuild cut out) keeps the one point of wild_addresses.s,
# an attack that never pages (its README says so); lab 6's starter is
# lab 2's and scores 0, as does lab 7's.
L7=labs/lab7-io
for lab in $L5 $L6 $L7; do
    score "$lab" "$lab/starter"
    expect_status 1 "$lab: the starter is below full marks"
    want=0; [ "$lab" = $L5 ] && want=1
    e2e_checks=$((e2e_checks + 1))
    [ "$score" = "$want" ] || fail "$lab: the starter scores $score, expected $want"
    score "$lab" "$lab/solution"
    expect_status 0 "$lab: the reference gets full marks"
    e2e_checks=$((e2e_checks + 1))
    [ "$score" = "$max" ] && [ "$max" != 0 ] || fail "$lab: the reference scores $score / $max"
    echo "ok   $lab: starter $want, reference $score / $max"
done
mutant $L5 $L5/solution vmm.s "frames past the guest's memory mapped (reaching outside)" \
    '/^rebuild:/,/^rb_done:/ s/^        bgeu r4, r7, rb_past$/        nop/'
mutant $L5 $L5/solution vmm.s "the guest's frames not relocated by GUEST_BASE" \
    '/^rebuild:/,/^rb_done:/ s/^        addi r4, r4, GUEST_BASE/        addi r4, r4, 0/'
mutant $L5 $L5/solution vmm.s "W dropped from the shadow entries" \
    '/^rebuild:/,/^rb_done:/ s/andi r3, r3, PTE_V+PTE_W$/andi r3, r3, PTE_V/'
mutant $L5 $L5/solution vmm.s "the shadow table never installed" \
    '/^rb_done:/,/ret$/ s/^        st r1, rpsw+2(r0)$/        nop/'
mutant $L6 $L6/solution vmm.s "halt not retired (the guest's step count, at depth 3)" \
    '/^emu_halt:/,/^emu_unknown:/ s/^        RETIRE$/        nop/'
mutant $L6 $L6/solution vmm.s "srr answers a hard-coded bound (fails at every depth)" \
    '/^emu_srr:/,/^emu_tlbflush:/ s/ld r1, vbound(r0)$/li r1, 0x10000/'
H6=$T/hostile6
rm -rf "$H6" && cp -rL "$L6/solution" "$H6"
sed -i 's/^trap_entry:$/trap_entry:\nspin:   b spin/' "$H6/vmm.s"
score $L6 "$H6"
expect_status 1 "lab 6: a VMM that loops forever at depth 3 is graded, not waited for"
e2e_checks=$((e2e_checks + 1))
[ "$score" = 0 ] || fail "lab 6: a looping VMM scored $score"

# ---- Lab 7: the split-driver front end ---------------------------------------------
mutant $L7 $L7/solution frontend.s "request i in slot i, not i mod 8" \
    's/^        andi r5, r4, SPLIT_SLOTS-1 .*/        mov r5, r4/'
mutant $L7 $L7/solution frontend.s "a kick for every request" \
    '/^blk_queue:/,/^bq_room:/ s/^        li r5, SPLIT_SLOTS$/        li r5, 1/'
mutant $L7 $L7/solution frontend.s "failed requests not counted" \
    '/^bf_next:/,/^bf_done:/ s/^        addi r2, r2, 1$/        addi r2, r2, 0/'
mutant $L7 $L7/solution frontend.s "the ring full one request late (9 in 8 slots)" \
    '/^blk_queue:/,/^bq_room:/ s/^        li r5, SPLIT_SLOTS$/        li r5, SPLIT_SLOTS+1/'
mutant $L7 $L7/solution frontend.s "never a kick" 's/^        hcall SPLIT_KICK$/        nop/'
mutant $L7 $L7/solution frontend.s "r9 not kept by blk_submit" 's/^blk_submit:$/blk_submit:\n        li r9, 0/'
mutant $L7 $L7/solution frontend.s "a kick even when the back end asked for none" \
    's/^        bgeu r4, r5, bf_collect .*/        nop/'
# The right answers from port commands, not the ring, score nothing.
P7=$T/ports7
rm -rf "$P7" && mkdir -p "$P7"
cat >"$P7/frontend.s" <<'PORTS'
blk_attach:
        li r1, 0
        ret
blk_queue:
        out r2, DISK0+DK_SECTOR
        out r3, DISK0+DK_ADDR
        out r1, DISK0+DK_CMD
        in r1, DISK0+DK_STATUS
        andi r1, r1, S_ERROR
        beqz r1, q_ok
        ld r1, errs(r0)
        addi r1, r1, 1
        st r1, errs(r0)
q_ok:   ret
blk_submit:
        ld r1, errs(r0)
        st r0, errs(r0)
        ret
errs:   .word 0
PORTS
score $L7 "$P7"
expect_status 1 "lab 7: a front end on the ports is graded"
e2e_checks=$((e2e_checks + 1))
[ "$score" = 0 ] || fail "lab 7: a front end that bypasses the ring scored $score"
expect_match out "not all through the ring: the back end served 0 of the 10 requests, and the VMM saw 10 port commands" \
    "lab 7: the bypass is named, with its counts"
score $L7 $L7/starter --seed 3
expect_match out "the output differs at line 1: expected 'batch 1: errors 0, hash 0x[0-9a-f]{8}', yours 'blk_attach failed'\. Batch 1 was: w0\.0 w1\.1 w2\.2 w3\.3" \
    "lab 7: the feedback names the first differing line and its batch"
rm -rf "$P7" && cp -rL "$L7/solution" "$P7"
sed -i '1i .include "../lib/machine.inc"' "$P7/frontend.s"
score $L7 "$P7"
expect_status "$EXIT_BAD_INPUT" "lab 7: any .include is refused"
expect_match err "^trapeze grade: .*/ports7/frontend.s:1:1: error: this file may not .include anything" \
    "lab 7: the refusal names the submission's line"
rm -rf "$P7" && cp -rL "$L7/solution" "$P7"
sed -i 's/^bf_done:$/bf_done  /' "$P7/frontend.s"
score $L7 "$P7"
expect_status "$EXIT_BAD_INPUT" "lab 7: a front end that does not assemble"
expect_match err "^trapeze grade: .*/ports7/frontend.s:[0-9]+:[0-9]+: error: " "lab 7: the assembler's error names the submission"

# ---- Lab 4: paravirtualization on x86like -------------------------------------------
# Its starter is the native port (native.inc, console.inc), refused by --vmm pv;
# its reference is the tree's paravirtual kernel itself (links).
L4=labs/lab4-paravirt
e2e_checks=$((e2e_checks + 1))
bash $L4/make_starter.sh || fail "lab 4: the starter cannot be made"
e2e_checks=$((e2e_checks + 1))
[ "$(readlink -f $L4/solution/paravirt.inc)" = "$(readlink -f programs/toyos/paravirt.inc)" ] &&
    [ "$(readlink -f $L4/solution/pv_console.inc)" = "$(readlink -f programs/lib/pv_console.inc)" ] ||
    fail "lab 4: the reference is not the tree's paravirt.inc and pv_console.inc"
e2e_checks=$((e2e_checks + 1))
tail -n "$(wc -l <programs/toyos/native.inc)" $L4/starter/paravirt.inc | cmp -s - programs/toyos/native.inc ||
    fail "lab 4: the starter's paravirt.inc does not end with native.inc"
score $L4 $L4/starter
expect_status 1 "lab 4: the starter is below full marks"
e2e_checks=$((e2e_checks + 1))
[ "$score" = 0 ] || fail "lab 4: the starter scores $score, expected 0"
expect_match out "refused it \(trapeze run exits 122\): guest 0 is not paravirtual: its first instruction is .* not hcall PV_HELLO" \
    "lab 4: the starter's feedback is the pv VMM's refusal"
for seed in "" "--seed 1" "--seed 2"; do
    # shellcheck disable=SC2086
    score $L4 $L4/solution $seed
    expect_status 0 "lab 4: the reference gets full marks ${seed:-(its own seed)}"
    e2e_checks=$((e2e_checks + 1))
    [ "$score" = "$max" ] && [ "$max" = 34 ] || fail "lab 4: the reference scores $score / $max ${seed}"
    cp "$T/r.json" "$T/lab4$seed.json"
done
echo "ok   $L4: starter 0, reference $score / $max"
e2e_checks=$((e2e_checks + 1))
[ "$(jq -c '[.tests[] | select(.visibility == "after_due_date") | .extra_data.generated]' "$T/lab4--seed 1.json")" != \
  "$(jq -c '[.tests[] | select(.visibility == "after_due_date") | .extra_data.generated]' "$T/lab4--seed 2.json")" ] ||
    fail "lab 4: the hidden builds of two seeds are the same (drawn from the seed?)"
e2e_checks=$((e2e_checks + 1))
jq -e '[.tests[] | select(.visibility == "after_due_date") | .extra_data.generated
        | test("^build=toyos_[a-z_]+ quantum=[0-9]+ idle_tick=[0-9]+ (forks=[0-9]+|programs=[a-z,]+)$")] | length == 6 and all' \
    "$T/lab4--seed 1.json" >/dev/null || fail "lab 4: the hidden builds' settings are not in extra_data.generated"

mutant $L4 $L4/solution paravirt.inc "the memory size from srr (critical: refused at PV_HELLO)" \
    's/^        ld r3, pv_memsize(r0) .*/        srr r3, r3/'
expect_match out "holds the critical instruction srr r3, r3 at 0x[0-9a-f]+: a PV kernel asks by hcall instead" \
    "lab 4: the srr mutant's feedback names the critical instruction"
mutant $L4 $L4/solution paravirt.inc "a popf before each PSW load (critical: refused at PV_HELLO)" \
    's/^        hcall PV_PSW$/        popf r1\n        hcall PV_PSW/'
mutant $L4 $L4/solution paravirt.inc "the PSW frame one word early in the shared area" \
    's/^pv_shared:  .word 1, 0 .*/pv_shared:  .word 1/'
expect_match out "the output differs at line 2: expected '.*', yours 'toyos: pid 1 \(count\) killed: MEM" \
    "lab 4: the frame mutant's feedback names the first differing line"
mutant $L4 $L4/solution paravirt.inc "the idle PSW's timer never set (no ticks while idle)" \
    '/\.macro k_lpsw/,/\.endm/ s/^        ld r1, \\label+4(r0)$/        mov r1, r0/'
mutant $L4 $L4/solution paravirt.inc "page tables by plain stores, no PV_PTE_BATCH" \
    $'/\\.macro k_pte_set/,/\\.endm/c\\\n        .macro k_pte_set value, base, offset\\\n        st \\\\value, \\\\offset(\\\\base)\\\n        .endm'
expect_match out "applied 0 of the 112 entries" "lab 4: plain PTE stores are named"
mutant $L4 $L4/solution paravirt.inc "a PTE batch for every entry" \
    $'/\\.macro k_pte_set/,/\\.endm/c\\\n        .macro k_pte_set value, base, offset\\\n        addi r6, \\\\base, \\\\offset\\\n        st r6, pte_list+0(r0)\\\n        st \\\\value, pte_list+1(r0)\\\n        push r1\\\n        push r2\\\n        la r1, pte_list\\\n        li r2, 1\\\n        hcall PV_PTE_BATCH\\\n        pop r2\\\n        pop r1\\\n        .endm'
expect_match out "applied 112 of the 112 entries .* in 119 batches" "lab 4: a batch an entry is counted"
mutant $L4 $L4/solution paravirt.inc "a hypercall more at every resume (PV_TIMER_SET: the frame holds the timer)" \
    '/\.macro k_resume/,/\.endm/ s/^        hcall PV_PSW$/        hcall PV_TIMER_SET\n        hcall PV_PSW/'
mutant $L4 $L4/solution pv_console.inc "con_out clobbers r1" 's/^        push r1$//; s/^        pop r1$//'
mutant $L4 $L4/solution pv_console.inc "the console by out, not PV_CONSOLE" 's/^        hcall PV_CONSOLE$/        out r1, 0/'
expect_match out "paravirtual kernel executed out r1, 0 at pc 0x[0-9a-f]+: a PV kernel asks by hcall instead" \
    "lab 4: a kernel that executes out is stopped, the instruction named"
# A hard-coded console: toyos_pv's output, printed at PV_HELLO.
H4=$T/hardcoded4
rm -rf "$H4" && cp -rL $L4/solution "$H4"
sed -i 's/^        hcall PV_HELLO .*/        hcall PV_HELLO\n        b hc_print/' "$H4/paravirt.inc"
{
    printf '%s\n' 'hc_print:' '        la r2, hc_text' 'hc_next:' '        ld r1, 0(r2)' '        blt r1, r0, hc_done' \
        '        beqz r1, hc_skip' '        hcall PV_CONSOLE' 'hc_skip:' '        addi r2, r2, 1' '        b hc_next' \
        'hc_done:' '        li r1, 1' '        hcall PV_HALT'
    printf 'hc_text:\n'
    sed 's/.*/        .string "&\\n"/' programs/toyos/toyos_pv.expected
    printf '        .word -1\n'
} >>"$H4/paravirt.inc"
grader=$GRADER score $L4 "$H4"
expect_status 1 "lab 4: a hard-coded console is graded below full marks"
expect_match out "^ok +4\.0/4\.0 +smoke: toyos_pv " "lab 4: the hard-coded console passes the visible build it copies"
e2e_checks=$((e2e_checks + 1))
awk -v s="$score" 'BEGIN { exit !(s <= 8) }' || fail "lab 4: a hard-coded console scored $score"
# Hostile: includes outside the lab's constants, a results.json, a kernel that loops.
rm -rf "$H4" && cp -rL $L4/solution "$H4"
sed -i '1i .include "../../solution/paravirt.inc"' "$H4/paravirt.inc"
score $L4 "$H4"
expect_status "$EXIT_BAD_INPUT" "lab 4: including the reference is refused"
expect_match err "^trapeze grade: .*/hardcoded4/paravirt.inc:1:1: error: only '.include \"../lib/pv.inc\"'" \
    "lab 4: the refusal names the submission's line"
rm -rf "$H4" && cp -rL $L4/solution "$H4"
sed -i 's|^        .include "console_routines.inc"|        .include "../toyos/kernel.inc"|' "$H4/pv_console.inc"
score $L4 "$H4"
expect_status "$EXIT_BAD_INPUT" "lab 4: pv_console.inc including the kernel is refused"
expect_match err "pv_console.inc:[0-9]+:[0-9]+: error: only '.include \"console_routines.inc\"'" "lab 4: ... named"
rm -rf "$H4" && cp -rL $L4/solution "$H4"
sed -i 's/^        hcall PV_CONSOLE$/        hcall PV_CONSOLE junk/' "$H4/pv_console.inc"
score $L4 "$H4"
expect_status "$EXIT_BAD_INPUT" "lab 4: a pv_console.inc that does not assemble"
expect_match err "^trapeze grade: .*/hardcoded4/pv_console.inc:[0-9]+:[0-9]+: error: " \
    "lab 4: the assembler's error names the submission's pv_console.inc"
rm -rf "$H4" && cp -rL $L4/solution "$H4"
printf '%s\n' '{"score": 1000, "max_score": 34, "tests": []}' >"$H4/results.json"
sed -i 's/^        hcall PV_HELLO .*/        hcall PV_HELLO\nspin:   b spin/' "$H4/paravirt.inc"
before=$(cd "$H4" && ls -la --time-style=+%s . | md5sum)
start=$SECONDS
( cd "$H4" && "$TRAPEZE" grade "$ROOT/$L4" . --json "$T/r.json" ) >"$T/out" 2>"$T/err"
e2e_checks=$((e2e_checks + 1))
[ "$(jq .score "$T/r.json")" = 0 ] && [ "$(jq -r .score "$H4/results.json")" = 1000 ] ||
    fail "lab 4: a looping kernel with its own results.json scored $(jq .score "$T/r.json")"
e2e_checks=$((e2e_checks + 1))
[ "$(cd "$H4" && ls -la --time-style=+%s . | md5sum)" = "$before" ] || fail "lab 4: grading wrote into the submission's folder"
e2e_checks=$((e2e_checks + 1))
[ $((SECONDS - start)) -lt 120 ] || fail "lab 4: the looping kernel took $((SECONDS - start)) s"
e2e_checks=$((e2e_checks + 1))
grep -q "ran out of steps" "$T/out" || fail "lab 4: the looping kernel's feedback does not say it ran out of steps"

# ---- Hostile submissions ----------------------------------------------------------
H=$T/hostile
hostile() { rm -rf "$H" && cp -rL "$L2/solution" "$H"; }

hostile
sed -i '1i .include "../solution/vmm.s"' "$H/vmm.s"
score lab2-trap-and-emulate "$H"
expect_status "$EXIT_BAD_INPUT" "lab 2: including the reference is refused"
expect_match err "^trapeze grade: .*/hostile/vmm.s:1:1: error: only '.include \"../lib/machine.inc\"'" \
    "lab 2: the refusal names the submission's line"
expect_lines err 1 "lab 2: the refusal is one line"

hostile
sed -i 's|^\( *\)\.include "../lib/machine.inc"|\1.INCLUDE  "/etc/passwd"|' "$H/vmm.s"
score lab2-trap-and-emulate "$H"
expect_status "$EXIT_BAD_INPUT" "lab 2: an absolute .include (any case) is refused"

hostile
printf '%s\n' '{"score": 1000, "max_score": 48, "tests": []}' >"$H/results.json"
sed -i 's/^emu_halt:.*/&\n        li r1, 0x72\n        out r1, 0/' "$H/vmm.s"
before=$(cd "$H" && ls -la --time-style=+%s . | md5sum)
( cd "$H" && "$TRAPEZE" grade "$ROOT/$L2" . --json "$T/r.json" ) >"$T/out" 2>"$T/err"
e2e_checks=$((e2e_checks + 1))
[ "$(jq .score "$T/r.json")" != 1000 ] && [ "$(jq -r .score "$H/results.json")" = 1000 ] ||
    fail "lab 2: a submission's own results.json took part in its grade"
e2e_checks=$((e2e_checks + 1))
[ "$(cd "$H" && ls -la --time-style=+%s . | md5sum)" = "$before" ] || fail "lab 2: grading wrote into the submission's folder"
e2e_checks=$((e2e_checks + 1))
awk -v s="$(jq .score "$T/r.json")" 'BEGIN { exit !(s < 48) }' ||
    fail "lab 2: a VMM that prints at the guest's halt kept full marks"

hostile
sed -i 's/^trap_entry:$/trap_entry:\nspin:   b spin/' "$H/vmm.s"
start=$SECONDS
score lab2-trap-and-emulate "$H"
expect_status 1 "lab 2: a VMM that loops forever is graded, not waited for"
e2e_checks=$((e2e_checks + 1))
[ "$score" = 0 ] || fail "lab 2: a VMM that loops forever scored $score"
e2e_checks=$((e2e_checks + 1))
[ $((SECONDS - start)) -lt 120 ] || fail "lab 2: the looping VMM took $((SECONDS - start)) s"

hostile
head -c 300000 /dev/zero | tr '\0' ';' >>"$H/vmm.s"
score lab2-trap-and-emulate "$H"
expect_status "$EXIT_BAD_INPUT" "lab 2: a huge file is refused"
expect_match err "vmm.s: error: larger than 262144 bytes" "lab 2: the huge file is named"

hostile
sed -i 's/^emu_halt:/emu_halt  /' "$H/vmm.s"
score lab2-trap-and-emulate "$H"
expect_status "$EXIT_BAD_INPUT" "lab 2: a submission that does not assemble"
expect_match err "^trapeze grade: .*/hostile/vmm.s:[0-9]+:[0-9]+: error: " "lab 2: the assembler's error names the submission"

hostile
printf 'ok\0' >>"$H/vmm.s"
score lab2-trap-and-emulate "$H"
expect_status "$EXIT_BAD_INPUT" "lab 2: a NUL byte is refused"

rm -rf "$H" && cp -rL "$L1/solution" "$H"
echo "classify popf sideways critical" >>"$H/answers.txt"
score lab1-classify "$H"
expect_status "$EXIT_BAD_INPUT" "lab 1: a malformed answer"
expect_match err "answers.txt:[0-9]+: error: expected 'classify" "lab 1: the malformed line is named"
rm -f "$H/neither.var"
score lab1-classify "$H"
expect_status "$EXIT_BAD_INPUT" "lab 1: a missing file"
expect_match err "neither.var: error: cannot open it" "lab 1: the missing file is named"

# ---- The command line -------------------------------------------------------------
run_capture "$TRAPEZE" grade nosuchlab $L1/solution
expect_status "$EXIT_BAD_INPUT" "an unknown lab"
expect_match err "nosuchlab: no such lab" "the unknown lab is named"
run_capture "$TRAPEZE" grade $L1
expect_status "$EXIT_BAD_INPUT" "one operand"
run_capture "$TRAPEZE" grade --seed x $L1 $L1/solution
expect_status "$EXIT_BAD_INPUT" "a bad --seed"
run_capture "$TRAPEZE" grade --help
expect_status 0 "--help"
expect_match out "lab2-trap-and-emulate" "--help lists the labs"
run_capture "$TRAPEZE" grade lab1-classify $L1/solution --json -
expect_status 0 "--json - writes results.json on stdout"
e2e_checks=$((e2e_checks + 1))
jq -e .tests <<<"$out" >/dev/null || fail "--json -: stdout is not results.json"

# ---- --check: what a student runs before handing in ----------------------------
# Every lab's starter and reference are ready; a file that cannot be taken
# fails --check with the error grading gives, at once, and no test runs.
for lab in $L1 $L2 $L3 labs/lab4-paravirt $L5 $L6 $L7; do
    for side in starter solution; do
        run_capture "$TRAPEZE" grade --check "$lab" "$lab/$side"
        expect_status 0 "--check $lab/$side"
        expect_match out "^$lab/$side: ready for ${lab#labs/}: every file read, vetted and assembled or parsed" \
            "--check $lab/$side says it is ready"
    done
done
C=$T/check && rm -rf "$C" && cp -rL "$L7/solution" "$C" && sed -i 's/^bf_done:$/bf_done  /' "$C/frontend.s"
run_capture "$TRAPEZE" grade --check $L7 "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 7, a front end that does not assemble"
expect_match err "^trapeze grade: .*/check/frontend.s:[0-9]+:[0-9]+: error: " "--check names the submission's line"
# A front end that lacks what the grader's workload calls: said of the
# student's file, never of the grader's private folder (the fuzz target
# lab's finding).
rm -rf "$C" && cp -rL "$L7/solution" "$C" && sed -i 's/^blk_queue:$/blk_queue_renamed:/' "$C/frontend.s"
run_capture "$TRAPEZE" grade --check $L7 "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 7, a front end without blk_queue"
expect_match err "^trapeze grade: .*/check/frontend.s: error: in the grader's file that includes it: lab/workload.s:[0-9]+:[0-9]+: error: undefined symbol 'blk_queue'; did you mean 'blk_queue_renamed'\?$" \
    "--check: the workload's error is said of the front end"
rm -rf "$C" && cp -rL "$L2/solution" "$C" && printf '        .include "/etc/passwd"\n' >>"$C/vmm.s"
run_capture "$TRAPEZE" grade --check $L2 "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 2, a foreign include"
expect_match err "/check/vmm.s:[0-9]+:[0-9]+: error: only '.include" "--check: the include is refused where it is"
rm -rf "$C" && cp -rL "$L1/solution" "$C" && printf 'classify nosuchop exec innocuous\n' >>"$C/answers.txt"
run_capture "$TRAPEZE" grade --check $L1 "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 1, an unknown instruction in answers.txt"
expect_match err "answers.txt:[0-9]+" "--check: lab 1 names the answers' line"
rm -rf "$C" && cp -rL "$L1/solution" "$C" && printf 'user.nosuch = exec\n' >>"$C/neither.var"
run_capture "$TRAPEZE" grade --check $L1 "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 1, a malformed variant file"
expect_match err "neither.var:[0-9]+" "--check: lab 1 names the variant file's line"
rm -rf "$C" && cp -rL labs/lab4-paravirt/solution "$C" && printf '        nosuchop r1\n' >>"$C/pv_console.inc"
run_capture "$TRAPEZE" grade --check labs/lab4-paravirt "$C"
expect_status "$EXIT_BAD_INPUT" "--check: lab 4, a console that does not assemble"
expect_match err "/check/pv_console.inc:[0-9]+:[0-9]+: error: " "--check: lab 4 names the submission's file"
run_capture "$TRAPEZE" grade --check --json "$T/r.json" $L1 $L1/solution
expect_status "$EXIT_BAD_INPUT" "--check with --json"
# The private folder is made in $TMPDIR and removed; where it cannot be, one line.
mkdir -p "$T/tmpdir"
TMPDIR=$T/tmpdir run_capture "$TRAPEZE" grade --check $L7 $L7/solution
expect_status 0 "TMPDIR: lab 7's reference is taken with its private folder there"
e2e_checks=$((e2e_checks + 1))
[ -z "$(ls -A "$T/tmpdir")" ] || fail "TMPDIR: the private folder was left behind: $(ls -A "$T/tmpdir")"
# A TMPDIR that itself looks like a private folder: the grader's file is
# still named inside the folder, never with the folder's path.
mkdir -p "$T/trapeze-grade-tmp"
rm -rf "$C" && cp -rL "$L7/solution" "$C" && sed -i 's/^blk_queue:$/blk_queue_renamed:/' "$C/frontend.s"
TMPDIR=$T/trapeze-grade-tmp run_capture "$TRAPEZE" grade --check $L7 "$C"
expect_match err "^trapeze grade: .*/check/frontend.s: error: in the grader's file that includes it: lab/workload.s:[0-9]+:[0-9]+: error: undefined symbol 'blk_queue'" \
    "TMPDIR named like a private folder: the workload still said of the front end"
TMPDIR=$T/no/such/folder run_capture "$TRAPEZE" grade --check $L7 $L7/solution
expect_status "$EXIT_BAD_INPUT" "TMPDIR: a folder that does not exist"
expect_match err "^trapeze grade: cannot make a private folder in $T/no/such/folder: No such file or directory$" \
    "TMPDIR: the folder is named"
TMPDIR=/$(printf 'd%.0s' $(seq 70)) run_capture "$TRAPEZE" grade --check $L7 $L7/solution
expect_status "$EXIT_BAD_INPUT" "TMPDIR: too long"
expect_match err "^trapeze grade: TMPDIR is longer than 64 characters$" "TMPDIR: too long is said, never cut"

# ---- Packaging: the autograder zips and the handout, run as Gradescope would ------
# zip and unzip come with make deps; the zips are made from the tree's git files.
e2e_checks=$((e2e_checks + 1))
command -v zip >/dev/null && command -v unzip >/dev/null || fail "zip or unzip missing (make deps installs them)"
if command -v zip >/dev/null && command -v unzip >/dev/null && git -C "$ROOT" rev-parse >/dev/null 2>&1; then
    make -s -C labs gradescope handout OUT="$T/dist" >/dev/null 2>"$T/err" || fail "make -C labs gradescope handout: $(head -c 300 "$T/err")"
    for lab in lab1-classify lab2-trap-and-emulate lab4-paravirt lab5-shadow-tables lab6-recursion lab7-io; do
        zipfile=$T/dist/$lab-autograder.zip
        e2e_checks=$((e2e_checks + 1))
        unzip -l "$zipfile" >"$T/list" 2>/dev/null || { fail "$lab: no autograder zip"; continue; }
        grep -Eq ' setup\.sh$' "$T/list" && grep -Eq ' run_autograder$' "$T/list" &&
            grep -Eq " labs/$lab/starter/" "$T/list" || fail "$lab: the zip lacks setup.sh, run_autograder or the lab"
        e2e_checks=$((e2e_checks + 1))
        ! grep -q '/solution/' "$T/list" || fail "$lab: the autograder zip holds a solution/"
        # Gradescope's layout, with this trapeze in place of setup.sh's build.
        AG=$T/autograder
        rm -rf "$AG" && mkdir -p "$AG/source" "$AG/submission"
        unzip -q "$zipfile" -d "$AG/source"
        cp "$GRADER" "$AG/source/trapeze"
        cp -rL "labs/$lab/solution/." "$AG/submission/"
        AUTOGRADER=$AG bash "$AG/source/run_autograder" >/dev/null
        e2e_checks=$((e2e_checks + 1))
        [ "$(jq '.score == .max_score and .max_score > 0' "$AG/results/results.json" 2>/dev/null)" = true ] ||
            fail "$lab: run_autograder did not give the reference full marks"
        rm -rf "$AG/submission" && mkdir "$AG/submission"
        AUTOGRADER=$AG bash "$AG/source/run_autograder" >/dev/null
        e2e_checks=$((e2e_checks + 1))
        jq -e '.score == 0 and (.output|test("refused the submission: .*cannot open it"))' "$AG/results/results.json" >/dev/null 2>&1 ||
            fail "$lab: run_autograder on an empty submission: $(head -c 300 "$AG/results/results.json")"
    done
    e2e_checks=$((e2e_checks + 1))
    tar -tzf "$T/dist/trapeze-labs-handout.tar.gz" >"$T/list" 2>/dev/null &&
        grep -q 'lab2-trap-and-emulate/starter/vmm.s' "$T/list" && grep -q 'lab1-classify/README.md' "$T/list" &&
        ! grep -q solution "$T/list" || fail "the handout tarball: $(head -c 300 "$T/list")"
    e2e_checks=$((e2e_checks + 1))
    grep -q 'lab4-paravirt/starter/paravirt.inc' "$T/list" && grep -q 'lab4-paravirt/toyos/kernel.inc' "$T/list" &&
        ! grep -v '/starter/' "$T/list" | grep -Eq 'paravirt\.inc|pv_console\.inc' ||
        fail "lab 4's handout: its starter and the kernel's sources, never the reference's files"
else
    echo "skip packaging: no zip, unzip or git here"
fi


finish
