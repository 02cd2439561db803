#!/usr/bin/env bash
# ISA.md's page-table rule made visible, through the real binary: a program
# that changes an entry of its running page table and relies on it without
# tlbflush (tests/guests/stale_pte.s)
#   - `run` (bare) warns exactly once on stderr, and otherwise behaves as
#     before: the same stdout, summary and exit status, --json untouched;
#   - `equiv --vmm te --shadow rebuild` and `lazy` are not equivalent and say
#     why in words, at the step the run's warning names; --json has pte_rule;
#   - `equiv` under trace (which syncs every store to a guest table) is
#     equivalent, with a note;
# and correct programs (the same guest with the tlbflush, programs/paging.s,
# toyos_paged.s) get no warning and no words.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP
STALE=tests/guests/stale_pte.s
WARN_RE='^trapeze: warning: tests/guests/stale_pte\.s: step ([0-9]+): pc 0x([0-9a-f]{6}): relied on a changed page-table entry without tlbflush \(ISA\.md: tlbflush or a PSW load first\)$'
WORDS='relied on a changed page-table entry without tlbflush at step'

# ---- run: one warning, nothing else changes ----------------------------------------------
run_capture "$TRAPEZE" run "$STALE"
expect_status 0 "run $STALE"
e2e_checks=$((e2e_checks + 1))
cmp -s "$E2E_TMP/out" tests/guests/stale_pte.expected ||
    fail "run $STALE: stdout differs from its .expected: $(diff tests/guests/stale_pte.expected "$E2E_TMP/out" | head -n 5)"
expect_lines err 2 "run $STALE: the warning and the summary"
expect_match err "$WARN_RE" "run $STALE: the warning"
expect_match err '^trapeze: halt, status 0; 482 instructions, 482 steps$' "run $STALE: the summary as before"
e2e_checks=$((e2e_checks + 1))
[ "$(grep -c 'warning' <<<"$err")" -eq 1 ] || fail "run $STALE: warned more than once: $err"
# The step and pc the warning names, which equiv must name too.
warn_step=0 warn_pc=000000
while IFS= read -r line; do
    [[ $line =~ $WARN_RE ]] && warn_step=${BASH_REMATCH[1]} warn_pc=${BASH_REMATCH[2]}
done <<<"$err"

run_capture "$TRAPEZE" run --json "$STALE"
expect_status 0 "run --json $STALE"
expect_lines out 1 "run --json $STALE: one line on stdout"
expect_lines err 1 "run --json $STALE: only the warning on stderr"
expect_match err "$WARN_RE" "run --json $STALE: the warning"
e2e_checks=$((e2e_checks + 1))
jq -e --rawfile want tests/guests/stale_pte.expected '.stop == "halt" and .status == 0 and .output == $want' \
    <<<"$out" >/dev/null || fail "run --json $STALE: $(head -c 300 <<<"$out")"

# Under the C VMM the program runs on a shadow table: the run cannot see the
# stores to its own table, and (rebuild) reads the old page.
run_capture "$TRAPEZE" run --vmm te --shadow rebuild "$STALE"
expect_status 0 "run --vmm te --shadow rebuild $STALE"
expect_match out '^first load A, second load A$' "run --shadow rebuild: the stale translation"
e2e_checks=$((e2e_checks + 1))
grep -q 'warning' <<<"$err" && fail "run --vmm te: a warning it cannot know about: $err"

# ---- equiv: the words ------------------------------------------------------------------------
for policy in rebuild lazy; do
    run_capture "$TRAPEZE" equiv --vmm te --shadow "$policy" "$STALE"
    expect_status "$EXIT_NOT_EQUIVALENT" "equiv --shadow $policy $STALE: not equivalent"
    expect_match out "^why: the program $WORDS $warn_step \\(pc 0x$warn_pc, PTE at 0x001004 changed 0x00000501 -> 0x00000601\\); " \
        "equiv --shadow $policy: why, at the run's step"
    expect_match out "^first difference after step $warn_step:\$" "equiv --shadow $policy: the first difference is that step"
    expect_match out '^  r9: bare 0x00000042, vmm 0x00000041$' "equiv --shadow $policy: and the register diff"
    e2e_checks=$((e2e_checks + 1))
    [ "$(grep -n '^why:' <<<"$out" | cut -d: -f1)" -lt "$(grep -n '^first difference' <<<"$out" | cut -d: -f1)" ] ||
        fail "equiv --shadow $policy: the explanation comes after the differences: $out"

    run_capture "$TRAPEZE" equiv --json --vmm te --shadow "$policy" "$STALE"
    expect_status "$EXIT_NOT_EQUIVALENT" "equiv --json --shadow $policy"
    e2e_checks=$((e2e_checks + 1))
    jq -e --argjson step "$warn_step" --argjson pc "$((16#$warn_pc))" --arg words "$WORDS" '
        .equivalent == false and .first_difference_after == $step
        and .pte_rule.step == $step and .pte_rule.pc == $pc and .pte_rule.va == 1024
        and .pte_rule.access == "load" and .pte_rule.pte == 4100
        and .pte_rule.old == 1281 and .pte_rule.new == 1537
        and .pte_rule.uses == 1 and .pte_rule.explains == true
        and (.pte_rule.text | startswith($words))' <<<"$out" >/dev/null ||
        fail "equiv --json --shadow $policy: $(jq -c .pte_rule <<<"$out" 2>&1 | head -c 400)"
done

# trace syncs each store to a guest table: equivalent, and a note.
run_capture "$TRAPEZE" equiv --vmm te --shadow trace "$STALE"
expect_status 0 "equiv --shadow trace $STALE: equivalent"
expect_match out '^equivalent: ' "equiv --shadow trace: says so"
expect_match out "^note: the program $WORDS $warn_step \\(pc 0x$warn_pc, " "equiv --shadow trace: the note"
run_capture "$TRAPEZE" equiv --json --vmm te --shadow trace "$STALE"
e2e_checks=$((e2e_checks + 1))
jq -e '.equivalent == true and .pte_rule.explains == false' <<<"$out" >/dev/null ||
    fail "equiv --json --shadow trace: $(head -c 400 <<<"$out")"

# ---- Correct programs: no warning, no words ------------------------------------------------------
sed 's/^        st r1, TABLE+4(r0) .*/&\n        tlbflush/' "$STALE" >"$T/flushed.s"
e2e_checks=$((e2e_checks + 1))
grep -q '^        tlbflush$' "$T/flushed.s" || fail "the flushed copy has no tlbflush"
for prog in "$T/flushed.s" programs/paging.s programs/toyos/toyos_paged.s; do
    want=0
    [ -f "${prog%.s}.status" ] && want=$(tr -d ' \n' <"${prog%.s}.status")
    run_capture "$TRAPEZE" run -I tests/guests "$prog"
    expect_status "$want" "run $prog"
    e2e_checks=$((e2e_checks + 1))
    grep -q 'warning' <<<"$err" && fail "run $prog: a warning: $err"
    for policy in rebuild lazy; do
        run_capture "$TRAPEZE" equiv --json -I tests/guests --vmm te --shadow "$policy" "$prog"
        expect_status 0 "equiv --shadow $policy $prog"
        e2e_checks=$((e2e_checks + 1))
        jq -e '.equivalent == true and .pte_rule == null' <<<"$out" >/dev/null ||
            fail "equiv --json --shadow $policy $prog: $(head -c 400 <<<"$out")"
    done
done
run_capture "$TRAPEZE" run -I tests/guests "$T/flushed.s"
expect_match out '^first load A, second load B$' "the flushed copy reads the new page"
finish
