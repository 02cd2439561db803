#!/usr/bin/env bash
# trapeze check-isa: the verdicts and theorems of the built-in and made-up
# variants, the three output formats, --explain with witnesses that replay,
# and every kind of bad input (the bad-input status).
. "$(dirname "$0")/lib.sh"
V=$ROOT/tests/variants
S="--states 100"

# ---- The built-in variants ------------------------------------------------------

run_capture "$TRAPEZE" check-isa $S
expect_status 0 "pg satisfies Theorem 1"
expect_match out '^add +no +- +- +- +innocuous$' "pg: add is innocuous"
expect_match out '^popf +yes +yes +- +- +emulated$' "pg: popf privileged and control-sensitive"
expect_match out '^pushf +yes +- +location,ie +- +emulated$' "pg: pushf behaviour-sensitive"
expect_match out '^rtmr +yes +- +timer +- +emulated$' "pg: rtmr depends on the timer"
expect_match out '^Theorem 1 +holds' "pg: theorem 1"
expect_match out '^Theorem 2 +holds' "pg: theorem 2"
expect_match out '^Theorem 3 +holds' "pg: theorem 3"
rows=$(grep -cE '^[a-z]+ +(yes|no) ' <<<"$out")
e2e_checks=$((e2e_checks + 1))
[ "$rows" -eq 47 ] || fail "pg: $rows instruction rows, expected 47 (ISA.md's 46 and vmenter)"

run_capture "$TRAPEZE" check-isa --isa hybrid $S
expect_status $EXIT_NOT_EQUIVALENT "hybrid fails Theorem 1"
expect_match out '^popf +no +yes +- +- +critical$' "hybrid: popf critical"
expect_match out 'sensitive but not privileged: popf$' "hybrid: theorem 1 names popf"
expect_match out '^Theorem 3 +holds' "hybrid: theorem 3 holds"
expect_match out '^Theorem 2 +FAILS' "hybrid: theorem 2 fails"
expect_match out 'check-isa --isa hybrid --explain popf' "hybrid: points at the explanation"

run_capture "$TRAPEZE" check-isa --isa x86like $S
expect_status $EXIT_NOT_EQUIVALENT "x86like fails Theorem 1"
expect_match out '^pushf +no +- +mode,location,ie +yes +critical-user$' "x86like: pushf"
expect_match out '^srr +no +- +location +yes +critical-user$' "x86like: srr"
expect_match out 'sensitive but not privileged: pushf, popf, srr$' "x86like: theorem 1 names three"
expect_match out 'user-sensitive but not privileged: pushf, srr$' "x86like: theorem 3 names two"

# ---- Formats ------------------------------------------------------------------------

run_capture "$TRAPEZE" check-isa --isa x86like --json $S
expect_status $EXIT_NOT_EQUIVALENT "x86like --json"
expect_lines out 1 "one JSON line"
expect_match out '"theorems":\{"1":\{[^}]*"holds":false,"offenders":\["pushf","popf","srr"\]' "json theorem 1"
expect_match out '"3":\{[^}]*"holds":false,"offenders":\["pushf","srr"\]' "json theorem 3"
expect_match out '\{"mnemonic":"srr","opcode":68,"privileged":false,"control_sensitive":false,"behavior_sensitive":true,"behavior_aspects":\["location"\],"user_sensitive":true' "json srr row"
e2e_checks=$((e2e_checks + 1))
jq -e --argjson n "$(grep -c '^ISA_OP(' isa/isa.def)" '(.instructions | length) == $n' <<<"$out" >/dev/null ||
    fail "--json is not valid JSON with one row per instruction of isa.def"

run_capture "$TRAPEZE" check-isa --isa hybrid --markdown $S
expect_status $EXIT_NOT_EQUIVALENT "--markdown"
expect_match out '^\| instruction \| privileged \| control-sensitive \| behaviour-sensitive \| user-sensitive \| verdict \|$' "markdown header"
expect_match out '^\| `popf` \| no \| yes \| - \| - \| critical \|$' "markdown popf row"
expect_match out '^- \*\*Theorem 3 holds\*\*' "markdown theorem 3"

# The same seed gives the same report; another seed the same verdicts.
run_capture "$TRAPEZE" check-isa --isa x86like --seed 5 $S
first=$out
run_capture "$TRAPEZE" check-isa --isa x86like --seed 5 $S
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$first" ] || fail "--seed 5 twice gives different reports"
run_capture "$TRAPEZE" check-isa --isa x86like --seed 99 --states 30
e2e_checks=$((e2e_checks + 1))
[ "$(grep -E '^[a-z]+ +(yes|no) ' <<<"$out")" = "$(grep -E '^[a-z]+ +(yes|no) ' <<<"$first")" ] ||
    fail "another seed changes the verdicts"

# ---- --explain and --replay ---------------------------------------------------------

run_capture "$TRAPEZE" check-isa --isa x86like --explain srr $S
expect_status 0 "--explain srr"
expect_match out '^srr on variant x86like: critical-user$' "explain headline"
expect_match out 'instruction: srr r1, r2' "explain disassembles"
expect_match out 'state A: +user IE=0 TP=0 \| PG=0 base=0x100' "explain shows state A"
expect_match out 'differs: +r1: A 0x100, B 0x' "explain shows what differed"
expect_match out '^user-sensitive: yes$' "explain user-sensitive"

# Every replay line printed by --explain reproduces its witness.
replays=0
for args in "--isa x86like --explain srr" "--isa x86like --explain pushf" "--isa hybrid --explain popf" \
            "--explain rtmr" "--explain lpsw" "--isa $V/pg_rtmr_exec.var --explain rtmr"; do
    run_capture "$TRAPEZE" check-isa $args $S
    expect_status 0 "check-isa $args"
    lines=$(grep -E '^ +replay: ' <<<"$out")
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        isa=$(sed -E "s/.*--isa ('[^']*'|[^ ]+) --replay.*/\1/; s/^'//; s/'\$//" <<<"$line")
        witness=$(sed -E "s/.*--replay '([^']*)'.*/\1/" <<<"$line")
        run_capture "$TRAPEZE" check-isa --isa "$isa" --replay "$witness"
        expect_status 0 "replay of $witness on $isa"
        expect_match out '^reproduced: ' "replay of $witness"
        replays=$((replays + 1))
    done <<<"$lines"
done
e2e_checks=$((e2e_checks + 1))
[ "$replays" -ge 15 ] || fail "only $replays replay lines found"

# A witness of x86like does not reproduce on pg, where srr traps.
W='location:insn=0x44120000,M=0,IE=0,TP=0,loc=0,timer=0,pc=0x40,mem=0,in=0,ctrl=0;insn=0x44120000,M=0,IE=0,TP=0,loc=1,timer=0,pc=0x40,mem=0,in=0,ctrl=0'
run_capture "$TRAPEZE" check-isa --isa x86like --replay "$W"
expect_status 0 "srr location witness on x86like"
expect_match out '^reproduced: r1: A 0x100, B 0x4c4$' "srr reveals the base"
run_capture "$TRAPEZE" check-isa --isa pg --replay "$W"
expect_status $EXIT_NOT_EQUIVALENT "srr location witness on pg"
expect_match out '^not reproduced: state A traps PRIV' "pg traps srr"

# ---- Made-up variants ------------------------------------------------------------------

run_capture "$TRAPEZE" check-isa --isa "$V/pg_popf_silent.var" $S
expect_status $EXIT_NOT_EQUIVALENT "pg with popf silent"
expect_match out '^popf +no +yes +- +- +critical$' "popf silent is critical"
expect_match out '^Theorem 3 +holds' "popf silent keeps theorem 3"

run_capture "$TRAPEZE" check-isa --isa "$V/pg_rtmr_exec.var" $S
expect_status $EXIT_NOT_EQUIVALENT "pg with rtmr exec"
expect_match out '^rtmr +no +- +timer +yes +critical-user$' "rtmr exec is user-critical"
expect_match out 'timing dependent, not hidden by a trap: rtmr$' "rtmr exec breaks theorem 2 by timing"
expect_match out 'user-sensitive but not privileged: rtmr$' "rtmr exec breaks theorem 3"

run_capture "$TRAPEZE" check-isa --isa "$V/x86like_srr_trap.var" $S
expect_status $EXIT_NOT_EQUIVALENT "x86like with srr trap"
expect_match out '^srr +yes +- +location +- +emulated$' "srr trap is privileged"
expect_match out 'user-sensitive but not privileged: pushf$' "only pushf breaks theorem 3"

run_capture "$TRAPEZE" check-isa --isa "$V/hybrid_popf_trap.var" $S
expect_status 0 "hybrid with popf trap is pg again"

run_capture "$TRAPEZE" check-isa --isa "$V/pg_lpsw_exec.var" $S
expect_status $EXIT_NOT_EQUIVALENT "pg with lpsw exec"
expect_match out '^lpsw +no +yes +.* +yes +critical-user$' "lpsw exec changes IE and the timer from user mode"

run_capture "$TRAPEZE" check-isa --isa "$V/pg_out_exec.var" $S
expect_status $EXIT_NOT_EQUIVALENT "pg with out exec"
expect_match out '^out +no +yes +- +yes +critical-user$' "out exec drives the console"

# ---- --confirm: guests on the bare machine and under te, hvm, interp, bt, hw, hw-slt --------

run_capture "$TRAPEZE" check-isa --confirm hybrid --states 30
expect_status 0 "--confirm hybrid agrees with the theory"
expect_match out '^popf +critical +[0-9]+ +DIFFERS +equivalent +equivalent +equivalent +equivalent +equivalent$' "hybrid: te fails on popf, hvm holds"
expect_match out '^lpsw +emulated +[0-9]+ +equivalent +equivalent +equivalent +equivalent +equivalent +equivalent$' "hybrid: lpsw emulated by all"
expect_match out '^te \(trap-and-emulate; Theorem 1 fails\): not equivalent on popf, as the theory allows$' "te summary"
expect_match out '^hvm \(hybrid; Theorem 3 holds\): equivalent on every guest, as it must be$' "hvm summary"

run_capture "$TRAPEZE" check-isa --confirm x86like --states 30
expect_status 0 "--confirm x86like agrees with the theory"
expect_match out '^srr +critical-user +[0-9]+ +DIFFERS +DIFFERS +equivalent +equivalent +equivalent +equivalent$' "x86like: srr breaks te and hvm, not interp, bt, hw or hw-slt"
expect_match out '^hw \(hardware assist: .*\): equivalent on every guest, as it must be$' "x86like: hw summary"
expect_match out '^insn +verdict +guests +te +hvm +interp +bt +hw +hw-slt$' "x86like: a column for every mode but pv"
expect_match out '^pv \(paravirtualization: .*\): not run: its guests are paravirtual$' "x86like: pv says why it has no column"
expect_match out '^hw-slt \(hardware assist, second-level translation: .*\): equivalent on every guest, as it must be$' "x86like: hw-slt summary"
expect_match out '^hvm \(hybrid; Theorem 3 fails\): not equivalent on pushf, srr' "x86like: hvm summary"
expect_match out '^bt \(binary translation: critical instructions rewritten, always possible\): equivalent on every guest, as it must be$' "x86like: bt summary"

run_capture "$TRAPEZE" check-isa --confirm pg --states 30
expect_status 0 "--confirm pg"
expect_match out '^te \(trap-and-emulate; Theorem 1 holds\): equivalent on every guest' "pg: te equivalent"
e2e_checks=$((e2e_checks + 1))
! grep -q DIFFERS <<<"$out" || fail "pg: a VMM differs: $(grep DIFFERS <<<"$out")"

# ---- Bad input ---------------------------------------------------------------------------

bad() { # bad EXPECTED-STDERR-REGEX DESCRIPTION ARGS...
    local re=$1 what=$2
    shift 2
    run_capture "$TRAPEZE" check-isa "$@"
    expect_status $EXIT_BAD_INPUT "$what"
    expect_match err "$re" "$what"
    expect_lines err 1 "$what: one line"
    expect_lines out 0 "$what: nothing on stdout"
}
bad "unknown_insn.var:2:6: error: unknown instruction 'pop'$" "unknown instruction" --isa "$V/bad_unknown_insn.var"
bad "not_system.var:3:6: error: 'add' is not a system instruction" "not a system instruction" --isa "$V/bad_not_system.var"
bad "bad_action.var:3:11: error: .*expected trap, exec or silent$" "bad action" --isa "$V/bad_action.var"
bad "bad_action.var:3:11: error: .*expected trap, exec or silent$" "bad base file" --isa "$V/bad_base_file.var"
bad "no_name.var:[0-9]+:[0-9]+: error: missing 'variant NAME' line$" "no variant line" --isa "$V/bad_no_name.var"
bad "base_cycle.var:2:6: error: .*cycle" "base cycle" --isa "$V/bad_base_cycle.var"
bad "nosuch.var: error: cannot .*variant file" "missing file" --isa "$V/nosuch.var"
bad "^trapeze check-isa: --isa: no built-in variant .nosuch. \\(built in" "unknown built-in" --isa nosuch
bad "--explain: unknown instruction 'pop'$" "unknown mnemonic" --explain pop
bad "unknown option '--frobnicate'" "unknown option" --frobnicate
bad "unexpected operand 'pg'" "operand" pg
bad "--states: expected a number of states" "bad --states" --states many
bad "--states: expected a number of states" "too many states" --states 99999999
bad "--seed: expected a number" "bad --seed" --seed -1
bad "--isa needs a value" "missing value" --isa
bad "--json takes no value" "flag with a value" --json=1
bad "cannot be combined" "explain and replay" --explain popf --replay x
bad "cannot be combined" "confirm and explain" --confirm hybrid --explain popf
bad "--confirm prints text only" "confirm and json" --confirm hybrid --json
bad "bad_action.var:3:11: error: .*expected trap, exec or silent$" "confirm a bad variant" --confirm "$V/bad_action.var"
bad "--replay:1:1: error: unknown witness kind" "bad witness kind" --replay 'what:insn=1'
bad "--replay:1:11: error: expected a number" "bad witness number" --replay 'priv:insn=,M=0'
bad "--replay:1:9: error: state takes an interrupt" "witness state with a pending interrupt" \
    --replay 'control:insn=1,M=1,IE=1,TP=1,loc=0,timer=0,pc=0,mem=0,in=0,ctrl=0'

run_capture "$TRAPEZE" check-isa --help
expect_status 0 "--help"
expect_match out '^usage: trapeze check-isa' "--help usage"
expect_match out '--explain MNEMONIC' "--help lists --explain"
# The exit statuses it names are cli.h's: Theorem 1 fails 121, bad input 125.
expect_match out "\\b$EXIT_NOT_EQUIVALENT\\b" "--help names the Theorem-1-fails status"
expect_match out "\\b$EXIT_BAD_INPUT\\b" "--help names the bad-input status"

finish
