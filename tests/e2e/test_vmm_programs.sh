#!/usr/bin/env bash
# Every example program is equivalent under the C VMM: for each
# programs/**/X.s with an X.expected (X.input as --input when present),
#   - `trapeze run --vmm te` prints X.expected and exits as the bare run does;
#   - `trapeze equiv` (te) says "equivalent";
#   - the --json results bare and under te agree on every guest-visible
#     field (stop, status, registers, PSW, instructions, steps, traps, output);
#   - four copies at once (--vms 4) each agree with the bare run, and so do
#     all the programs together as one guest each;
#   - the hybrid VMM and the interpreter are equivalent under pg and hybrid,
#     and the interpreter and hardware assist (hw) under x86like (te is not,
#     on hybrid, where a kernel
#     relies on popf: that count is printed);
#   - pv refuses every one of them: none is a paravirtual kernel.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
shopt -s globstar nullglob

fields='{stop, status, regs, psw, instructions, steps, traps, output}'
progs=()
for prog in programs/**/*.s; do
    [ -f "${prog%.s}.disk" ] && continue # disk programs: tests/e2e/test_disk.sh
    [ -f "${prog%.s}.isa" ] && continue  # a variant of its own (the hypervisor): test_programs.sh
    [ -f "${prog%.s}.args" ] && continue # needs its monitor (toyos_pv: test_vmm_pv.sh)
    [ -f "${prog%.s}.expected" ] && progs+=("$prog")
done
e2e_checks=$((e2e_checks + 1))
[ "${#progs[@]}" -ge 8 ] || fail "only ${#progs[@]} programs with .expected files"

args_for() { # a step budget, and the --input option for a program that has one
    local base=${1%.s}
    printf -- '--max-steps\n50000000\n'
    [ -f "$base.input" ] && printf -- '--input\n%s\n' "$base.input"
}

te_hybrid_differs=0
all_inputs_free=()
for prog in "${progs[@]}"; do
    base=${prog%.s}
    mapfile -t extra < <(args_for "$prog")
    want_status=0
    [ -f "$base.status" ] && want_status=$(tr -d ' \n' <"$base.status")
    [ -f "$base.input" ] || all_inputs_free+=("$prog")

    "$TRAPEZE" run --vmm te "${extra[@]}" "$prog" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
    status=$?
    e2e_checks=$((e2e_checks + 2))
    cmp -s "$E2E_TMP/out" "$base.expected" || { fail "$prog under --vmm te: output differs:"; diff "$base.expected" "$E2E_TMP/out" | head -n 10; }
    [ "$status" -eq "$want_status" ] || fail "$prog under --vmm te: exit status $status, expected $want_status: $(head -c 300 "$E2E_TMP/err")"

    run_capture "$TRAPEZE" equiv "${extra[@]}" "$prog"
    expect_status 0 "$prog: trapeze equiv (te, pg)"
    expect_match out '^equivalent' "$prog: trapeze equiv says equivalent"

    "$TRAPEZE" run --json "${extra[@]}" "$prog" 2>/dev/null | jq -c "$fields" >"$E2E_TMP/bare.json"
    "$TRAPEZE" run --json --vmm te "${extra[@]}" "$prog" 2>/dev/null | jq -c "$fields" >"$E2E_TMP/te.json"
    e2e_checks=$((e2e_checks + 1))
    [ -s "$E2E_TMP/bare.json" ] && cmp -s "$E2E_TMP/bare.json" "$E2E_TMP/te.json" ||
        fail "$prog: --json bare and under te differ"

    "$TRAPEZE" run --json --vmm te --vms 4 "${extra[@]}" "$prog" 2>/dev/null |
        jq -c ".guests[] | $fields" >"$E2E_TMP/four.json"
    e2e_checks=$((e2e_checks + 1))
    for k in 1 2 3 4; do cat "$E2E_TMP/bare.json"; done | cmp -s - "$E2E_TMP/four.json" ||
        fail "$prog: one of 4 guests at once differs from the bare run"

    for variant in pg hybrid; do
        for mode in hvm interp; do
            run_capture "$TRAPEZE" equiv --isa "$variant" --vmm "$mode" "${extra[@]}" "$prog"
            expect_status 0 "$prog: equiv --isa $variant --vmm $mode"
        done
    done
    for mode in interp hw hw-slt; do
        run_capture "$TRAPEZE" equiv --isa x86like --vmm "$mode" "${extra[@]}" "$prog"
        expect_status 0 "$prog: equiv --isa x86like --vmm $mode"
        expect_match out '^equivalent' "$prog: equiv --isa x86like --vmm $mode says equivalent"
    done
    run_capture "$TRAPEZE" run --isa x86like --vmm pv "${extra[@]}" "$prog"
    expect_status "$EXIT_REFUSED" "$prog: refused under --vmm pv"
    expect_match err '^trapeze: the C VMM \(pv\) refused it: guest 0 is not paravirtual: its first instruction is .+ \(pc 0x[0-9a-f]+\), not hcall PV_HELLO$' \
        "$prog: pv says it is not paravirtual"
    "$TRAPEZE" equiv --isa hybrid "${extra[@]}" --max-steps 2000000 "$prog" >/dev/null 2>&1 ||
        te_hybrid_differs=$((te_hybrid_differs + 1))
    echo "ok   $prog"
done
echo "te under hybrid: $te_hybrid_differs of ${#progs[@]} programs not equivalent (hvm and interp: all)"

# All the programs without input at once, one guest each, round-robin.
"$TRAPEZE" run --json --vmm te --max-steps 50000000 "${all_inputs_free[@]}" 2>/dev/null >"$E2E_TMP/all.json"
e2e_checks=$((e2e_checks + 1))
n=$(jq '.guests | length' "$E2E_TMP/all.json" 2>/dev/null)
[ "$n" = "${#all_inputs_free[@]}" ] || fail "all programs at once: $n guests, expected ${#all_inputs_free[@]}"
i=0
for prog in "${all_inputs_free[@]}"; do
    e2e_checks=$((e2e_checks + 1))
    want=$("$TRAPEZE" run --json --max-steps 50000000 "$prog" 2>/dev/null | jq -c "$fields")
    got=$(jq -c ".guests[$i] | $fields" "$E2E_TMP/all.json")
    [ "$want" = "$got" ] || fail "all programs at once: guest $i ($prog) differs from its bare run"
    i=$((i + 1))
done
finish
