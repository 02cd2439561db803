#!/usr/bin/env bash
# Hardware assist (--vmm hw, isa/README.md "The hardware-assist extension"):
#   - programs/critical.s, which te gets wrong on x86like, is equivalent
#     under hw, and its exits are counted (summary line and --json);
#   - toyos runs under hw with few exits per guest instruction, and hw-slt
#     (second-level translation) exits less than hw on critical.s;
#   - a variant with the feature itself is a clear one-line error under hw,
#     and a variant file with an unknown feature names its line and column;
#   - the hand-written hypervisor (programs/hypervisor/hv.s) runs on x86vt
#     and its vmenter is an undefined instruction (ILL) on x86like.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

run_capture "$TRAPEZE" equiv --isa x86like --vmm hw programs/critical.s
expect_status 0 "critical.s: equiv --isa x86like --vmm hw"
expect_match out '^equivalent' "critical.s is equivalent under hw"
run_capture "$TRAPEZE" equiv --isa x86like --vmm te programs/critical.s
e2e_checks=$((e2e_checks + 1))
[ "$status" -ne 0 ] || fail "critical.s under te on x86like should not be equivalent"

run_capture "$TRAPEZE" equiv --isa x86like --vmm hw-slt programs/critical.s
expect_status 0 "critical.s: equiv --isa x86like --vmm hw-slt"
expect_match out '^equivalent' "critical.s is equivalent under hw-slt"
hw=$("$TRAPEZE" run --json --isa x86like --vmm hw programs/critical.s 2>/dev/null | jq .vmm.exits.total)
slt=$("$TRAPEZE" run --json --isa x86like --vmm hw-slt programs/critical.s 2>/dev/null | jq .vmm.exits.total)
e2e_checks=$((e2e_checks + 1))
[ "${slt:-0}" -gt 0 ] && [ "$slt" -lt "${hw:-0}" ] || fail "critical.s: hw-slt $slt exits, hw $hw: SLT should exit less"
echo "critical.s exits: hw $hw, hw-slt $slt"

run_capture "$TRAPEZE" run --isa x86like --vmm hw programs/critical.s
expect_status 0 "critical.s runs under hw"
expect_match err '^trapeze: vmm exits: [0-9]+ \(insn [0-9]+' "the summary line counts exits by reason"
"$TRAPEZE" run --json --isa x86like --vmm hw programs/toyos/toyos.s >"$E2E_TMP/toyos.json" 2>/dev/null
e2e_checks=$((e2e_checks + 2))
total=$(jq '.vmm.exits.total' "$E2E_TMP/toyos.json")
insns=$(jq '.instructions' "$E2E_TMP/toyos.json")
[ "${total:-0}" -gt 0 ] || fail "toyos under hw: no exits counted (.vmm.exits: $(jq -c .vmm.exits "$E2E_TMP/toyos.json"))"
[ "$(jq '.vmm.exits.insn + .vmm.exits.trap' "$E2E_TMP/toyos.json")" = "$total" ] ||
    fail "toyos under hw: exits by reason do not add up"
echo "toyos under hw: $total exits for $insns guest instructions"

run_capture "$TRAPEZE" run --isa x86vt --vmm hw programs/hello.s
expect_status 125 "hw on a variant with the feature"
expect_match err "^trapeze run: --vmm hw: variant 'x86vt' has the assist feature itself" "the error names the variant"
e2e_checks=$((e2e_checks + 1))
[ "$(wc -l <"$E2E_TMP/err")" -eq 1 ] || fail "the error is one line: $(cat "$E2E_TMP/err")"

printf 'variant v\nbase x86like\nfeature vtx\n' >"$E2E_TMP/v.var"
run_capture "$TRAPEZE" run --isa "$E2E_TMP/v.var" programs/hello.s
e2e_checks=$((e2e_checks + 1))
[ "$status" -ne 0 ] || fail "an unknown feature is accepted"
expect_match err "v.var:3:9: error: unknown feature 'vtx'; expected assist$" "the unknown feature's place"

run_capture "$TRAPEZE" run --isa x86vt programs/hypervisor/hv.s
expect_status 0 "the hypervisor runs on x86vt"
e2e_checks=$((e2e_checks + 1))
cmp -s "$E2E_TMP/out" programs/hypervisor/hv.expected || fail "hv.s output differs: $(cat "$E2E_TMP/out")"
run_capture "$TRAPEZE" run --isa x86like programs/hypervisor/hv.s
e2e_checks=$((e2e_checks + 1))
[ "$status" -ne 0 ] || fail "hv.s runs on x86like, which has no vmenter"
expect_match err 'ILL' "vmenter is ILL on x86like"
finish
