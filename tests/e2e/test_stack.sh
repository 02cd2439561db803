#!/usr/bin/env bash
# `trapeze run` and `trapeze equiv` with --stack and --depth: stacks of the
# C VMM and the asm VMM (programs/vmm/vmm.s), the per-level accounting in
# the summary and in --json, and every command-line error of the options.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

# ---- Errors ----------------------------------------------------------------------
for bad in "--stack foo" "--stack asm,c" "--stack c,,asm" "--depth 9" "--depth x" \
           "--stack asm --depth 2" "--depth 2 --stack asm" "--stack asm --vmm te"; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" run $bad programs/hello.s
    expect_status $EXIT_BAD_INPUT "run $bad is refused"
    expect_lines err 1 "run $bad: one line of error"
done
run_capture "$TRAPEZE" run --stack x,asm programs/hello.s
expect_match err "bad stack 'x,asm'" "the error names the stack"
run_capture "$TRAPEZE" run --stack asm,c programs/hello.s
expect_match err "bottom level" "c only at the bottom"
run_capture "$TRAPEZE" run --depth 9 programs/hello.s
expect_match err "depth" "the error names the depth"
run_capture "$TRAPEZE" run --stack asm --vmm te programs/hello.s
expect_match err "^trapeze run: --vmm sets the C VMM's mode, and the stack 'asm' has no C VMM \(c\)$" \
    "--vmm needs a C VMM in the stack"
# The asm VMM is built in: TRAPEZE_VMM (once its path) is ignored.
run_capture env TRAPEZE_VMM=/nonexistent/vmm.s "$TRAPEZE" run --stack asm programs/hello.s
expect_status 0 "TRAPEZE_VMM is ignored"
expect_match out '^Hello from Trapeze!$' "TRAPEZE_VMM is ignored: the built-in asm VMM runs"
run_capture "$TRAPEZE" run --help
expect_match out '--stack SPEC' "--help lists --stack"
expect_match out '--depth N' "--help lists --depth"

# ---- run -------------------------------------------------------------------------
run_capture "$TRAPEZE" run --stack asm programs/hello.s
expect_status 0 "hello under one asm VMM"
expect_match out '^Hello from Trapeze!$' "its output"
expect_match err '^trapeze: halt, status 0; 106 instructions, 106 steps' "the guest's summary"
expect_match err '^level +kind +instructions +traps +emulated +reflected +amplification' "the per-level table"
expect_match err '^ *0 +asm ' "level 0 is the asm VMM"
expect_match err '^ *1 +guest +106 ' "level 1 is the guest"

run_capture "$TRAPEZE" run --json --depth 4 programs/toyos/toyos.s
expect_status 1 "toyos at depth 4: status = processes killed"
bare=$("$TRAPEZE" run --json programs/toyos/toyos.s 2>/dev/null)
e2e_checks=$((e2e_checks + 1))
jq -e --argjson bare "$bare" '
    .stack == "c,asm,asm,asm" and (.levels | length) == 5
    and ([.levels[].kind] == ["c", "asm", "asm", "asm", "guest"])
    and ([.levels[].level] == [0, 1, 2, 3, 4])
    and .levels[4].instructions == $bare.instructions
    and .instructions == $bare.instructions and .steps == $bare.steps
    and .traps == $bare.traps and .output == $bare.output and .regs == $bare.regs
    and .psw == $bare.psw
    and .levels[4].traps == ($bare.traps | add)
    and .levels[3].reflected == .levels[4].traps
    and .levels[2].reflected == .levels[3].traps
    and .levels[0].instructions == 0
    and .levels[3].amplification < .levels[2].amplification
    and .levels[2].amplification < .levels[1].amplification
    and ((.levels[4].amplification - ([.levels[0:4][].amplification] | add)) | fabs) < 0.01
    and .real.instructions > .instructions' <<<"$out" >/dev/null ||
    fail "toyos --json --depth 4: levels do not add up: $(jq -c '{stack, levels, real}' <<<"$out" 2>&1 | head -c 600)"

# Levels are numbered from the real machine: L0 is the bottom monitor.
run_capture "$TRAPEZE" run --json --depth 2 programs/hello.s
e2e_checks=$((e2e_checks + 1))
jq -e '.stack == "c,asm" and [.levels[].kind] == ["c", "asm", "guest"] and [.levels[].level] == [0, 1, 2]' \
    <<<"$out" >/dev/null || fail "--depth 2: L0 c, L1 asm, L2 guest: $(jq -c '{stack, levels}' <<<"$out" 2>&1 | head -c 400)"
run_capture "$TRAPEZE" run --depth 2 programs/hello.s
expect_match err '^ *0 +c +0 ' "--depth 2: level 0 is the C VMM"
expect_match err '^ *1 +asm ' "--depth 2: level 1 is the asm VMM"
expect_match err '^ *2 +guest +106 ' "--depth 2: level 2 is the guest"

# --vmm MODE with a stack sets its C VMM's mode.
run_capture "$TRAPEZE" run --json --stack c,asm --vmm interp programs/hello.s
expect_status 0 "--stack c,asm --vmm interp"
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm.mode == "interp" and .vmm.direct == 0 and .levels[0].interpreted > 0 and .output == "Hello from Trapeze!\n"' \
    <<<"$out" >/dev/null || fail "--stack c,asm --vmm interp: the C VMM interprets: $(jq -c '.vmm' <<<"$out" 2>&1)"
run_capture "$TRAPEZE" run --depth 2 --vmm hvm programs/hello.s
expect_status 0 "--depth 2 --vmm hvm"
expect_match err '^trapeze: vmm hvm: ' "--depth 2 --vmm hvm: the C VMM's line names its mode"

run_capture "$TRAPEZE" run --json programs/hello.s
e2e_checks=$((e2e_checks + 1))
jq -e '.stack == "bare" and ([.levels[].kind] == ["program"]) and .levels[0].level == 0
       and .levels[0].instructions == .instructions' <<<"$out" >/dev/null ||
    fail "a bare run has one level, L0 the program: $(jq -c '{stack, levels}' <<<"$out")"
run_capture "$TRAPEZE" run --json --depth 0 programs/hello.s
e2e_checks=$((e2e_checks + 1))
bare=$("$TRAPEZE" run --json programs/hello.s 2>/dev/null)
jq -e --argjson bare "$bare" '. == $bare' <<<"$out" >/dev/null ||
    fail "--depth 0 is the bare machine: $out"

# A budget counts the guest's steps and stops between two of its instructions.
run_capture "$TRAPEZE" run --json --max-steps 5000 --stack asm,asm programs/toyos/toyos.s
expect_status $EXIT_BUDGET "a budget stop under asm,asm"
bare=$("$TRAPEZE" run --json --max-steps 5000 programs/toyos/toyos.s 2>/dev/null)
e2e_checks=$((e2e_checks + 1))
jq -e --argjson bare "$bare" '.stop == "budget" and .steps == 5000 and .regs == $bare.regs
    and .psw == $bare.psw and .output == $bare.output' <<<"$out" >/dev/null ||
    fail "budget under asm,asm differs from bare: $(jq -c '{stop, steps, psw}' <<<"$out")"
run_capture "$TRAPEZE" run --max-steps 5000 --stack asm,asm programs/toyos/toyos.s
expect_match err 'budget of 5000 steps exhausted' "the budget stop line"

# Monitors that never let the program run stall: the budget status, said so.
# (pg_lpsw_exec lets the upper asm VMM's own lpsw run in user mode.)
run_capture "$TRAPEZE" run --json --isa tests/variants/pg_lpsw_exec.var --stack asm,asm programs/hello.s
expect_status $EXIT_BUDGET "stalled monitors: the budget status"
e2e_checks=$((e2e_checks + 1))
jq -e '.stop == "budget" and .stalled == true and .steps == 0' <<<"$out" >/dev/null ||
    fail "stalled monitors: --json: $(jq -c '{stop, stalled, steps}' <<<"$out" 2>&1)"
run_capture "$TRAPEZE" run --isa tests/variants/pg_lpsw_exec.var --stack asm,asm programs/hello.s
expect_match err '^trapeze: stalled: the monitors ran [0-9]+ steps without a step of the program' "stalled monitors: the stop line"

# Input reaches the guest through every level.
run_capture "$TRAPEZE" run --stack c,asm,asm --input programs/echo_irq.input programs/echo_irq.s
expect_status 0 "echo_irq under c,asm,asm"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat programs/echo_irq.expected)" ] || fail "echo_irq under c,asm,asm: output differs"

# --trace traps names the level a trap arose in and the one that took it.
run_capture "$TRAPEZE" run --trace traps --stack asm,asm programs/hello.s
expect_match err '^\[ *[0-9]+\] trap [0-9]+: PRIV out r1, 0 at L2 guest, supervisor -> emulated by L1 asm, passed up by L0 asm; pc 0x[0-9a-f]+ <next\+2>$' \
    "a guest's out, emulated by the VMM below it"
expect_match err '^\[ *[0-9]+\] trap [0-9]+: PRIV lpsw 0\(r0\) at L1 asm, supervisor -> emulated by L0 asm; pc 0x[0-9a-f]+ <[a-z_0-9+]+>$' \
    "the upper VMM's lpsw, emulated by the lower one"
expect_match err '^trapeze: 64 traps: arose at -> handled by, how$' "the trace's summary counts every trap"
expect_match err '^  L1 asm     -> L0 asm     emulated +43$' "the summary: the upper VMM's, emulated by the lower one"
expect_match err '^  L2 guest   -> L1 asm     emulated +21$' "the summary: the guest's, emulated by the VMM below it"
run_capture "$TRAPEZE" run --trace traps --depth 2 programs/toyos/toyos.s
expect_match err '^\[ *[0-9]+\] trap [0-9]+: SVC svc 3 at L2 guest, user -> reflected by L0 c, L1 asm to L2.s handler; pc 0x[0-9a-f]+$' \
    "a system call goes up to the guest's kernel"
expect_match err '^\[ *[0-9]+\] trap [0-9]+: TIMER at L2 guest, (user|supervisor) -> delivered by L0 c, L1 asm to L2.s handler; pc .*$' "so does its timer"
traps=$("$TRAPEZE" run --json programs/toyos/toyos.s 2>/dev/null | jq -r '"\(.traps.SVC + .traps.MEM) \(.traps.TIMER)"')
expect_match err "^  L2 guest   -> L2 guest   reflected +${traps% *}\$" "the summary: every system call and fault of toyos goes up"
expect_match err "^  L2 guest   -> L2 guest   delivered +${traps#* }\$" "the summary: every timer interrupt of toyos goes up"

# Stops other than halt are the guest's.
printf '_start: li r1, 3\n svc 1\n' >"$T/unhandled.s"
run_capture "$TRAPEZE" run --stack asm,asm "$T/unhandled.s"
expect_status $EXIT_CRASHED "an unhandled trap under asm,asm"
expect_match err 'unhandled trap SVC value 0x1 at pc 0x12' "the guest's unhandled trap"

# ---- equiv -------------------------------------------------------------------------
for opt in "--depth 4" "--stack asm,asm,asm" "--depth 0" "--depth 1" "--stack asm" "--depth 2 --vmm hvm" \
           "--stack c,asm --vmm interp"; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" equiv $opt programs/hello.s
    expect_status 0 "equiv $opt hello"
    expect_match out '^equivalent' "equiv $opt hello: equivalent"
done
run_capture "$TRAPEZE" equiv --stack c,asm programs/vmm/attack.s
expect_status 0 "the attacker sees only its own machine"
expect_match out '^equivalent' "attack.s under c,asm: equivalent"
run_capture "$TRAPEZE" equiv --stack asm,asm --input programs/echo.input programs/echo.s
expect_status 0 "echo with input under asm,asm"

# Popek and Goldberg's condition: on x86like the asm VMM cannot be exact.
run_capture "$TRAPEZE" equiv --isa x86like --stack asm programs/critical.s
expect_status $EXIT_NOT_EQUIVALENT "x86like under the asm VMM is not equivalent"
expect_match out 'not equivalent' "equiv says so"
# ---- --asm-vmm: the asm levels run another VMM's source (a lab's vmm.s) --------------------
lab=labs/lab2-trap-and-emulate
run_capture "$TRAPEZE" run --stack c,asm --asm-vmm "$lab/solution/vmm.s" programs/hello.s
expect_status 0 "--asm-vmm the reference: status"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat programs/hello.expected)" ] || fail "--asm-vmm the reference: output differs: ${out:0:200}"
run_capture "$TRAPEZE" equiv --stack c,asm,asm --asm-vmm "$lab/solution/vmm.s" programs/traps.s
expect_status 0 "equiv --asm-vmm the reference at depth 3"
mkdir -p "$E2E_TMP/mine" && ln -sfn "$ROOT/programs/lib" "$E2E_TMP/lib"
sed '/^trap_entry:/,/^emulate:/ s/andi r2, r2, M\b/addi r2, r0, 1/' "$lab/solution/vmm.s" >"$E2E_TMP/mine/vmm.s"
run_capture "$TRAPEZE" equiv --stack c,asm --asm-vmm "$E2E_TMP/mine/vmm.s" programs/usermode.s
expect_status "$EXIT_NOT_EQUIVALENT" "equiv --asm-vmm a VMM that emulates user-mode PRIV: not equivalent"
run_capture "$TRAPEZE" run --asm-vmm "$lab/solution/vmm.s" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--asm-vmm with no asm level"
expect_lines err 1 "--asm-vmm with no asm level: one line"
expect_match err "--asm-vmm is the source of the asm levels, and the run has none" "--asm-vmm with no asm level: says so"
run_capture "$TRAPEZE" run --stack c,asm --asm-vmm "$E2E_TMP/none.s" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--asm-vmm a missing file"
expect_match err "none.s: error: cannot read the source file" "--asm-vmm a missing file: names it"

finish
