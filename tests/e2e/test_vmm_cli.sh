#!/usr/bin/env bash
# `trapeze run --vmm` and `trapeze equiv` end to end: the accounting, several
# guests and their output, efficiency, the critical.s story on x86like, and
# every command-line error.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

# ---- Accounting in the summary and in --json.
run_capture "$TRAPEZE" run --vmm te programs/hello.s
expect_status 0 "hello under te"
expect_match err '^trapeze: vmm te: [0-9]+ direct, [0-9]+ emulated \([0-9]+ interpreted\), [0-9]+ reflected, [0-9]+ vmm entries; efficiency [0-9.]+%$' "vmm summary line"
expect_match err '^level +kind +instructions +traps +emulated +reflected +amplification$' "the per-level table under --vmm"
expect_match err '^ +0 +c +0 +21 +21 +0 ' "L0 is the C VMM: it emulates hello's 21 system instructions"
expect_match err '^ +1 +guest +106 +0 ' "L1 is the guest"
run_capture "$TRAPEZE" run --vmm te --json programs/hello.s
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm.mode == "te" and (.vmm | has("direct") and has("emulated") and has("reflected") and has("entries") and has("efficiency") and has("interpreted"))
       and .vmm.direct + .vmm.emulated == .instructions' <<<"$out" >/dev/null ||
    fail "--json vmm object: $out"

# ---- A compute-bound guest runs directly: efficiency >= 99.9%.
cat >"$T/compute.s" <<'S'
        li r2, 300000
loop:   addi r1, r1, 1
        xor r3, r3, r1
        bne r1, r2, loop
        out r1, 0
        li r1, 0
        halt
S
run_capture "$TRAPEZE" run --vmm te --json "$T/compute.s"
e2e_checks=$((e2e_checks + 1))
eff=$(jq '.vmm.efficiency' <<<"$out")
jq -e '.vmm.efficiency >= 0.999 and .vmm.emulated == 2' <<<"$out" >/dev/null ||
    fail "compute-bound efficiency $eff (want >= 0.999)"
echo "compute-bound guest: efficiency $eff"
run_capture "$TRAPEZE" run --vmm interp --json "$T/compute.s"
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm.efficiency == 0 and .vmm.interpreted > 900000' <<<"$out" >/dev/null ||
    fail "interp: everything interpreted: $out"

# ---- Several guests: prefixed lines, files, the guests array.
run_capture "$TRAPEZE" run --vmm te --vms 3 programs/hello.s
expect_status 0 "three guests"
for k in 0 1 2; do expect_match out "^\[vm$k\] Hello from Trapeze!$" "guest $k's line is prefixed"; done
expect_lines out 3 "one line per guest"
expect_match err '^\[vm2\] trapeze: halt, status 0' "per-guest summary"
# One --input for every guest: held once and shared, each reads all of it.
run_capture "$TRAPEZE" run --vmm te --vms 3 --out-dir "$T/echo" --input programs/echo.input programs/echo.s
expect_status 0 "three guests reading one --input"
for k in 0 1 2; do
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$T/echo/vm$k.out" programs/echo.expected || fail "guest $k of three did not read the whole shared input"
done
run_capture "$TRAPEZE" run --vmm te --out-dir "$T/outs" programs/hello.s programs/fib.s
expect_status 0 "two programs with --out-dir"
expect_lines out 0 "nothing on stdout with --out-dir"
e2e_checks=$((e2e_checks + 2))
cmp -s "$T/outs/vm0.out" programs/hello.expected || fail "--out-dir: vm0.out is not hello's output"
cmp -s "$T/outs/vm1.out" programs/fib.expected || fail "--out-dir: vm1.out is not fib's output"
run_capture "$TRAPEZE" run --vmm te --json programs/hello.s programs/fib.s programs/sort.s
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm.mode == "te" and .vmm.guests == 3 and (.guests | length) == 3 and .guests[1].program == "programs/fib.s"
       and .guests[2].stop == "halt" and (.guests[0].vmm | has("efficiency"))' <<<"$out" >/dev/null ||
    fail "--json for several guests: ${out:0:300}"
# The exit status is the first guest's that did not halt with 0.
printf 'li r1, 5\nhalt\n' >"$T/five.s"
run_capture "$TRAPEZE" run --vmm te programs/hello.s "$T/five.s"
expect_status 5 "status of the first guest that did not halt with 0"
# A budget per guest: a spinning guest stops at exactly --max-steps.
printf 'spin: b spin\n' >"$T/spin.s"
run_capture "$TRAPEZE" run --vmm te --json --max-steps 12345 "$T/spin.s" programs/hello.s
e2e_checks=$((e2e_checks + 1))
jq -e --argjson budget "$EXIT_BUDGET" '.guests[0].stop == "budget" and .guests[0].steps == 12345 and .guests[1].stop == "halt"
       and .status == $budget' <<<"$out" >/dev/null ||
    fail "budget per guest: ${out:0:300}"
expect_status $EXIT_BUDGET "the budget status is the first guest's"

# ---- --trace traps shows the handling.
run_capture "$TRAPEZE" run --vmm te --trace traps programs/traps.s
expect_match err '^\[ *[0-9]+\] trap [0-9]+: PRIV out r[0-9]+, 0 at L1 guest, supervisor -> emulated by L0 c; pc 0x[0-9a-f]+ <[a-z_+0-9]+>$' "trace: emulated out"
expect_match err '^\[ *[0-9]+\] trap [0-9]+: SVC svc 0 at L1 guest, user -> reflected by L0 c to L1.s handler; pc 0x[0-9a-f]+$' "trace: reflected svc"
expect_match err '^\[ *[0-9]+\] trap [0-9]+: TIMER at L1 guest, .* -> (delivered by L0 c to L1.s handler|absorbed by L0 c \(its own timer\)); pc ' "trace: timer"
expect_match err '^trapeze: halt, status 0; ' "trace: the stop"
expect_match err '^trapeze: [0-9]+ traps: arose at -> handled by, how$' "trace: the summary of the traps"
expect_match err '^  L1 guest   -> L1 guest   reflected +11$' "trace: the summary: traps.s's own traps but the timer, reflected"
expect_match err '^  L1 guest   -> L1 guest   delivered +1$' "trace: the summary: its timer interrupt, delivered"
run_capture "$TRAPEZE" run --vmm te --vms 2 --trace traps programs/hello.s
expect_match err '^\[ *[0-9]+\] vm1 trap [0-9]+: PRIV halt at L1 guest, ' "trace of several guests: each line names its guest"

# ---- critical.s: fine bare, broken under te on x86like, named by equiv.
run_capture "$TRAPEZE" run --isa x86like programs/critical.s
expect_status 0 "critical.s bare on x86like"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat programs/critical.expected)" ] || fail "critical.s bare output"
run_capture "$TRAPEZE" run --vmm te --isa x86like programs/critical.s
e2e_checks=$((e2e_checks + 1))
[ "$status" -ne 0 ] && [ "$status" -lt 128 ] || fail "critical.s under te on x86like: status $status (a crash?)"
expect_match out 'pushf says the kernel runs in user mode' "pushf shows the real mode under te"
run_capture "$TRAPEZE" equiv --isa x86like programs/critical.s
expect_status $EXIT_NOT_EQUIVALENT "equiv critical.s on x86like"
expect_match out '^not equivalent' "equiv says not equivalent"
expect_match out '^  step [0-9]+, in supervisor mode: 0x[0-9a-f]+ <next_round>  popf r0$' "equiv names the popf"
expect_match out '^  psw.flags: bare 0x1 \(M\), vmm 0x3 \(M IE\)$' "equiv shows IE differing"
expect_match out 'output byte [0-9]+: bare' "equiv shows the output difference"
run_capture "$TRAPEZE" equiv --isa x86like --vmm hvm programs/critical.s
expect_status 0 "hvm is exact on x86like for critical.s"
run_capture "$TRAPEZE" equiv --isa hybrid programs/critical.s
expect_status $EXIT_NOT_EQUIVALENT "te breaks critical.s on hybrid too (popf)"
run_capture "$TRAPEZE" equiv programs/critical.s
expect_status 0 "critical.s is equivalent on pg"

# ---- equiv --json, for graders: the same verdict and differences as the text.
run_capture "$TRAPEZE" equiv --json --isa x86like programs/critical.s
expect_status $EXIT_NOT_EQUIVALENT "equiv --json keeps the not-equivalent status"
expect_lines out 1 "equiv --json prints one line"
e2e_checks=$((e2e_checks + 1))
jq -e '.program == "programs/critical.s" and .isa == "x86like" and .stack == "c" and .mode == "te"
       and .equivalent == false
       and .bare == {"stop": "halt", "status": 0, "steps": .bare.steps} and .vmm.stop == "halt" and .vmm.status != 0
       and .first_difference_after > 0 and (.step | test("<next_round>  popf r0$"))
       and .differences == ["psw.flags: bare 0x1 (M), vmm 0x3 (M IE)"]
       and any(.differences_at_end[]; test("^output byte [0-9]+: bare"))' <<<"$out" >/dev/null ||
    fail "equiv --json, not equivalent: ${out:0:400}"
run_capture "$TRAPEZE" equiv --json --vmm hvm --isa x86like programs/critical.s
expect_status 0 "equiv --json, equivalent"
e2e_checks=$((e2e_checks + 1))
jq -e '.equivalent == true and .mode == "hvm" and .bare == .vmm' <<<"$out" >/dev/null ||
    fail "equiv --json, equivalent: ${out:0:400}"
# equiv --trace traps: the virtualized run's traps on stderr, the verdict on stdout.
run_capture "$TRAPEZE" equiv --trace traps programs/hello.s
expect_status 0 "equiv --trace traps"
expect_match out '^equivalent' "equiv --trace traps: the verdict on stdout"
expect_lines out 1 "equiv --trace traps: only the verdict on stdout"
expect_match err '^\[ *[0-9]+\] trap 21: PRIV halt at L1 guest, supervisor -> emulated by L0 c; pc 0x[0-9a-f]+ <done\+1>$' \
    "equiv --trace traps: the virtualized run's traps on stderr"

# ---- equiv finds a budget-limited difference and a first difference at step 1.
run_capture "$TRAPEZE" equiv --isa x86like --max-steps 40 programs/critical.s
expect_status 0 "before the popf the two agree"
printf 'pushf r2\nli r1, 0\nhalt\n' >"$T/pushf.s"
run_capture "$TRAPEZE" equiv --isa x86like "$T/pushf.s"
expect_status $EXIT_NOT_EQUIVALENT "pushf in the first step"
expect_match out '^first difference after step 1:$' "step 1"
expect_match out 'pushf r2$' "names pushf"
expect_match out '^  r2: bare 0x00000001, vmm 0x00000002$' "r2 differs"

# ---- Errors: the bad-input status with one line.
run_capture "$TRAPEZE" run --vms 2 programs/hello.s
expect_status $EXIT_BAD_INPUT "--vms needs the C VMM"
expect_match err '^trapeze run: --vms needs the C VMM alone \(--vmm MODE\)$' "--vms message"
run_capture "$TRAPEZE" run --depth 1 --vms 2 programs/hello.s
expect_status 0 "--depth 1 is the C VMM alone: --vms works"
expect_lines out 2 "--depth 1 --vms 2: two guests"
run_capture "$TRAPEZE" run --vmm tx programs/hello.s
expect_status $EXIT_BAD_INPUT "unknown mode"
expect_match err "^trapeze run: --vmm: expected te, hvm, interp, bt, hw, hw-slt or pv, got 'tx'$" "mode message"
run_capture "$TRAPEZE" run --vmm te --vms 0 programs/hello.s
expect_status $EXIT_BAD_INPUT "--vms 0"
run_capture "$TRAPEZE" run --vmm te --vms 65 programs/hello.s
expect_status $EXIT_BAD_INPUT "--vms too many"
run_capture "$TRAPEZE" run --vmm te --vms 2 programs/hello.s programs/fib.s
expect_status $EXIT_BAD_INPUT "--vms with several programs"
run_capture "$TRAPEZE" run programs/hello.s programs/fib.s
expect_status $EXIT_BAD_INPUT "several programs without --vmm"
run_capture "$TRAPEZE" run --vmm te --trace insns programs/hello.s
expect_status $EXIT_BAD_INPUT "--trace insns with --vmm"
run_capture "$TRAPEZE" run --vmm te --out-dir /proc/nonexistent/x programs/hello.s
expect_status $EXIT_BAD_INPUT "--out-dir that cannot be made"
expect_lines err 1 "one line for --out-dir"
run_capture "$TRAPEZE" run --vmm te programs/hello.s "$T/missing.s"
expect_status $EXIT_BAD_INPUT "a missing program among several"
printf 'addi r1, r1, 99999\n' >"$T/bad.s"
run_capture "$TRAPEZE" equiv "$T/bad.s"
expect_status $EXIT_BAD_INPUT "equiv: a bad source"
expect_match err "bad.s:1:[0-9]+: error:" "equiv: the error names the place"
run_capture "$TRAPEZE" equiv programs/hello.s programs/fib.s
expect_status $EXIT_BAD_INPUT "equiv: two programs"
run_capture "$TRAPEZE" equiv
expect_status $EXIT_BAD_INPUT "equiv: no program"
run_capture "$TRAPEZE" equiv --vms 2 programs/hello.s
expect_status $EXIT_BAD_INPUT "equiv: --vms"
run_capture "$TRAPEZE" equiv --help
expect_status 0 "equiv --help"
expect_match out '^usage: trapeze equiv' "equiv usage"
finish
