#!/usr/bin/env bash
# --vmm bt, binary translation (vmm/bt.c), through the command line:
#   - every programs/**/X.s with an X.expected (X.input, X.disk as their
#     runs need) is `equiv`alent under bt on x86like and on hybrid, toyos
#     and toyos_paged included, and prints X.expected under bt on x86like;
#   - tests/bt/smc.s (self-modifying supervisor code; user code that writes
#     pushf and srr over its own code and runs them) prints its .expected
#     and is equivalent under bt, its invalidation counter (run --json
#     .vmm.bt) is above 0, and te on x86like names its user pushf;
#   - the summary line and .vmm.bt report blocks, callouts and chain hits;
#   - the attack suite under bt (x86like and hybrid): equivalent, so no
#     escapes, next to victims whose outputs stay theirs.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
shopt -s globstar nullglob
T=$E2E_TMP

progs=0
for prog in programs/**/*.s; do
    base=${prog%.s}
    [ -f "$base.expected" ] || continue
    [ -f "$base.isa" ] && continue # its own variant (hv.s on x86vt): test_hw.sh
    [ -f "$base.args" ] && grep -q -- '--vmm pv' "$base.args" && continue # asks pv by hcall: test_vmm_pv.sh
    progs=$((progs + 1))
    extra=(--max-steps 50000000)
    [ -f "$base.input" ] && extra+=(--input "$base.input")
    if [ -f "$base.disk" ]; then
        disk_image "$TRAPEZE" "$base" "$T/fresh.img" || fail "$prog: cannot make its disk"
        extra+=(--disk "$T/fresh.img")
    fi
    if [ -f "$base.args" ]; then # a paravirtual program (split.s): its monitor's options, under bt
        read -r -a own <"$base.args"
        for k in "${!own[@]}"; do [ "${own[k]}" = --vmm ] && own[k + 1]=bt; done
        extra+=("${own[@]}")
    fi
    for isa in x86like hybrid; do
        [ -f "$base.args" ] && continue # not a bare program: no equiv
        run_capture "$TRAPEZE" equiv --isa "$isa" --vmm bt "${extra[@]}" "$prog"
        expect_status 0 "$prog: equiv --isa $isa --vmm bt"
        expect_match out '^equivalent' "$prog: equiv --isa $isa --vmm bt says equivalent"
    done
    [ -f "$base.disk" ] && disk_image "$TRAPEZE" "$base" "$T/fresh.img"
    want_status=0
    [ -f "$base.status" ] && want_status=$(tr -d ' \n' <"$base.status")
    vmm=(--vmm bt)
    [ -f "$base.args" ] && vmm=()
    "$TRAPEZE" run --isa x86like "${vmm[@]}" "${extra[@]}" "$prog" >"$T/out" 2>/dev/null
    status=$?
    e2e_checks=$((e2e_checks + 2))
    [ "$status" -eq "$want_status" ] || fail "$prog under bt: exit status $status, expected $want_status"
    cmp -s "$T/out" "$base.expected" || fail "$prog under bt: output differs: $(diff "$base.expected" "$T/out" | head -5)"
    echo "ok   $prog"
done
e2e_checks=$((e2e_checks + 1))
[ "$progs" -ge 10 ] || fail "only $progs programs"

# ---- Self-modifying code ----------------------------------------------------------------
SMC=tests/bt/smc.s
for isa in x86like hybrid; do
    run_capture "$TRAPEZE" equiv --isa "$isa" --vmm bt "$SMC"
    expect_status 0 "$SMC: equiv --isa $isa --vmm bt"
done
run_capture "$TRAPEZE" run --isa x86like --vmm bt "$SMC"
expect_status 0 "$SMC under bt"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat tests/bt/smc.expected)" ] || fail "$SMC under bt: output '$out'"
expect_match err '^trapeze: binary translation: [0-9]+ blocks \([0-9]+ instructions\) translated, [0-9]+ executed, [0-9]+ inline, [0-9]+ callouts, [0-9]+ chain hits, [0-9]+ lookups, [1-9][0-9]* invalidations, 0 flushes$' \
    "$SMC: the summary line counts invalidations"
"$TRAPEZE" run --isa x86like --vmm bt --json "$SMC" >"$T/smc.json" 2>/dev/null
e2e_checks=$((e2e_checks + 2))
[ "$(jq '.vmm.bt.invalidations > 0 and .vmm.bt.inline >= 2 and .vmm.bt.chain_hits > 0' "$T/smc.json")" = true ] ||
    fail "$SMC: .vmm.bt $(jq -c .vmm.bt "$T/smc.json")"
[ "$(jq -r .vmm.mode "$T/smc.json")" = bt ] || fail "$SMC: .vmm.mode is not bt"
# te runs the user code directly: its pushf shows the real flags.
run_capture "$TRAPEZE" equiv --isa x86like --vmm te "$SMC"
expect_status "$EXIT_NOT_EQUIVALENT" "$SMC: te on x86like is not equivalent"
expect_match out 'in user mode: 0x000010  pushf r1$' "$SMC: te's first difference is the user pushf"
# te on x86like still names the kernel's critical instruction.
run_capture "$TRAPEZE" equiv --isa x86like --vmm te programs/critical.s
expect_status "$EXIT_NOT_EQUIVALENT" "critical.s: te on x86like is not equivalent"
expect_match out '(pushf|popf|srr)' "critical.s: te names the critical instruction"

# ---- Counters ---------------------------------------------------------------------------
for prog in programs/critical.s programs/toyos/toyos.s; do
    "$TRAPEZE" run --isa x86like --vmm bt --json "$prog" >"$T/c.json" 2>/dev/null
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq '.vmm.bt.blocks > 0 and .vmm.bt.callouts > 0 and .vmm.bt.chain_hits > 0 and .vmm.bt.executed > 0' "$T/c.json")" = true ] ||
        fail "$prog: .vmm.bt $(jq -c .vmm.bt "$T/c.json")"
    echo "$prog: $(jq -c '.vmm.bt | {blocks, instructions, callouts, chain_hits, lookups, invalidations}' "$T/c.json")"
done

# ---- Views, the event log, a stack ------------------------------------------------------
run_capture "$TRAPEZE" run --isa x86like --vmm bt --trace traps programs/critical.s
expect_match err '^\[ *[0-9]+\] trap 1: PRIV out r2, 0 at L1 guest, supervisor \(translated\) -> emulated by L0 c; pc 0x00018f <puts\+2>$' \
    "--trace traps names the translated place"
printf 'break next_round\ncontinue\ninfo levels\ninfo psw\nquit\n' >"$T/cmds"
run_capture "$TRAPEZE" debug -x "$T/cmds" --vmm bt --isa x86like programs/critical.s
expect_match out '^\*> L1 guest: critical\.s +step 330 +pc 0x000021 supervisor running, translated$' \
    "info levels: the guest runs translated, its step exact at the breakpoint"
expect_match out "^PSW of L1 guest: critical.s: virtual \\(what it sees\\) \\| real \\(what the C VMM's translated code runs\\)$" \
    "info psw says who runs it"
expect_match out '^  flags  M=S IE -- -- ' "info psw: the virtual flags at the breakpoint (IE on, not half-emulated)"
run_capture "$TRAPEZE" equiv --stack c,asm --vmm bt programs/toyos/toyos.s
expect_status 0 "toyos on c,asm with the C VMM under bt"

# ---- The attack suite -------------------------------------------------------------------
attacks=0 escapes=0
for attack in tests/attacks/*.s; do
    attacks=$((attacks + 1))
    before=$e2e_failures
    disk=()
    if [ -f "${attack%.s}.disk" ]; then
        disk_image "$TRAPEZE" "${attack%.s}" "$T/attack.img" || fail "$attack: cannot make its disk"
        disk=(--disk "$T/attack.img")
    fi
    for isa in x86like hybrid; do
        run_capture "$TRAPEZE" equiv --isa "$isa" --vmm bt --max-steps 300000 "${disk[@]}" "$attack"
        expect_status 0 "$attack: equivalent under bt (--isa $isa)"
    done
    "$TRAPEZE" run --isa x86like --vmm bt --json --max-steps 300000 "${disk[@]}" "$attack" \
        programs/hello.s programs/fib.s >"$T/run.json" 2>/dev/null
    k=1
    for victim in hello fib; do
        e2e_checks=$((e2e_checks + 1))
        jq -j ".guests[$k].output" "$T/run.json" >"$T/victim.out" 2>/dev/null
        cmp -s "$T/victim.out" "programs/$victim.expected" || fail "$attack under bt: the output of $victim changed"
        k=$((k + 1))
    done
    [ "$e2e_failures" -eq "$before" ] || escapes=$((escapes + 1))
done
echo "bt: $attacks attacks, $escapes escapes"
e2e_checks=$((e2e_checks + 1))
[ "$attacks" -ge 20 ] || fail "only $attacks attacks"
finish
