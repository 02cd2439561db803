#!/usr/bin/env bash
# Shadow page tables through the command line (--vmm te --shadow POLICY):
#   - every program of programs/ whose code turns paging on (names PG) and
#     that has an .expected, toyos_paged.s among them, under each policy:
#     `run` prints the .expected and exits as the bare run does, `equiv`
#     says equivalent, alone (--vmm te) and under the stacks c,asm,
#     c,asm,asm and c,asm,asm,asm (where the C VMM at level 0 shadows the
#     asm VMM's own shadow tables);
#   - `run --vmm te --json`: the paging programs run directly, not on the
#     interpreter, and toyos_paged.s with efficiency >= 0.98 under every
#     policy (where its code runs, not how fast); the policy is the one
#     asked for (lazy's fills are entries of their own);
#   - a bad --shadow, and --shadow without the C VMM in te, exit 125 with
#     one line (equiv alone is te: --shadow alone is fine there).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

# A paging program names PG in its code, or in a file it includes from its
# own folder (toyos_paged.s: paged.inc).
uses_pg() {
    local inc
    grep -qE '^[^;]*\<PG\>' "$1" && return 0
    for inc in $(sed -nE 's/^[[:space:]]*\.include[[:space:]]+"([^"/]+)".*/\1/p' "$1"); do
        [ -f "$(dirname "$1")/$inc" ] && grep -qE '^[^;]*\<PG\>' "$(dirname "$1")/$inc" && return 0
    done
    return 1
}
progs=()
for prog in programs/*.s programs/*/*.s; do
    [ -f "${prog%.s}.expected" ] || continue
    [ -f "${prog%.s}.disk" ] && continue # disk programs: tests/e2e/test_disk.sh
    [ -f "${prog%.s}.isa" ] && continue  # a variant of its own: test_programs.sh
    [ -f "${prog%.s}.args" ] && continue # needs its monitor (toyos_pv_paged.s: test_vmm_pv.sh)
    uses_pg "$prog" && progs+=("$prog")
done
e2e_checks=$((e2e_checks + 1))
case " ${progs[*]} " in
*" programs/toyos/toyos_paged.s "*) [ "${#progs[@]}" -ge 3 ] || fail "only ${#progs[@]} paging programs: ${progs[*]}" ;;
*) fail "toyos_paged.s is not among the paging programs: ${progs[*]}" ;;
esac

args_for() { # a step budget, and the --input option for a program that has one
    local base=${1%.s}
    printf -- '--max-steps\n50000000\n'
    [ -f "$base.input" ] && printf -- '--input\n%s\n' "$base.input"
}

for prog in "${progs[@]}"; do
    base=${prog%.s}
    mapfile -t extra < <(args_for "$prog")
    want_status=0
    [ -f "$base.status" ] && want_status=$(tr -d ' \n' <"$base.status")
    for policy in trace rebuild lazy; do
        named=""
        [ "$policy" = trace ] || named=" --shadow $policy" # equiv names a policy other than the default
        "$TRAPEZE" run --vmm te --shadow "$policy" "${extra[@]}" "$prog" >"$T/out" 2>"$T/err"
        status=$?
        e2e_checks=$((e2e_checks + 2))
        cmp -s "$T/out" "$base.expected" ||
            { fail "$prog under --vmm te --shadow $policy: output differs:"; diff "$base.expected" "$T/out" | head -n 10; }
        [ "$status" -eq "$want_status" ] ||
            fail "$prog under --vmm te --shadow $policy: exit status $status, expected $want_status: $(head -c 300 "$T/err")"
        run_capture "$TRAPEZE" equiv --vmm te --shadow "$policy" "${extra[@]}" "$prog"
        expect_status 0 "$prog: equiv --vmm te --shadow $policy"
        expect_match out "^equivalent: .* under --vmm te$named \(" "$prog: equiv --vmm te --shadow $policy says equivalent"
        for stack in c,asm c,asm,asm c,asm,asm,asm; do
            run_capture "$TRAPEZE" equiv --stack "$stack" --shadow "$policy" "${extra[@]}" "$prog"
            expect_status 0 "$prog: equiv --stack $stack --shadow $policy"
            expect_match out "^equivalent: .* under --stack $stack$named \(" \
                "$prog: equiv --stack $stack --shadow $policy says equivalent"
        done
        "$TRAPEZE" run --vmm te --shadow "$policy" --json "${extra[@]}" "$prog" 2>/dev/null >"$T/$policy.json"
        e2e_checks=$((e2e_checks + 1))
        jq -e '.vmm.mode == "te" and .vmm.direct > .vmm.emulated and .vmm.interpreted <= 1' \
            "$T/$policy.json" >/dev/null ||
            fail "$prog --shadow $policy: not run directly: $(jq -c .vmm "$T/$policy.json" 2>&1 | head -c 300)"
    done
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq .vmm.entries "$T/lazy.json")" -gt "$(jq .vmm.entries "$T/trace.json")" ] ||
        fail "$prog: --shadow lazy should fill entries at hidden faults (more vmm entries than trace)"
    echo "ok   $prog"
done

# toyos_paged: its processes run paged, directly, under every policy.
for policy in trace rebuild lazy; do
    run_capture "$TRAPEZE" run --vmm te --shadow "$policy" --json programs/toyos/toyos_paged.s
    e2e_checks=$((e2e_checks + 1))
    jq -e '.vmm.efficiency >= 0.98 and .vmm.interpreted == 0' <<<"$out" >/dev/null ||
        fail "toyos_paged.s --shadow $policy: efficiency below 0.98 or interpreted: $(jq -c .vmm <<<"$out" 2>&1 | head -c 300)"
done

# ---- Errors ----------------------------------------------------------------------
for bad in "run --vmm te --shadow bogus" "run --vmm te --shadow TRACE" "run --vmm te --shadow ''" \
           "equiv --vmm te --shadow bogus" "run --shadow lazy" "run --vmm hvm --shadow lazy" \
           "run --vmm interp --shadow trace" "equiv --vmm hvm --shadow rebuild" \
           "run --stack asm --shadow lazy" "run --stack asm,asm --shadow rebuild" \
           "run --stack c,asm --vmm interp --shadow lazy" "run --depth 0 --shadow lazy"; do
    eval "run_capture \"\$TRAPEZE\" $bad programs/paging.s"
    expect_status $EXIT_BAD_INPUT "$bad is refused"
    expect_lines err 1 "$bad: one line of error"
done
run_capture "$TRAPEZE" run --vmm te --shadow bogus programs/paging.s
expect_match err "^trapeze run: --shadow: expected trace, rebuild or lazy, got 'bogus'$" "the error names the values"
run_capture "$TRAPEZE" run --vmm hvm --shadow lazy programs/paging.s
expect_match err "^trapeze run: --shadow is for the C VMM in te" "the error says what --shadow needs"
# equiv's monitor is the C VMM in te unless told otherwise: --shadow alone is its.
run_capture "$TRAPEZE" equiv --shadow lazy programs/toyos/toyos_paged.s
expect_status 0 "equiv --shadow lazy (te by default)"
expect_match out "^equivalent: .* under --vmm te --shadow lazy \(" "equiv --shadow lazy names the policy"
run_capture "$TRAPEZE" run --help
expect_match out '--shadow trace\|rebuild\|lazy' "run --help lists --shadow"
run_capture "$TRAPEZE" equiv --help
expect_match out '--shadow trace\|rebuild\|lazy' "equiv --help lists --shadow"
finish
