#!/usr/bin/env bash
# `trapeze run` end to end: output, exit status, the --json schema, every way
# a run can stop, and every command-line error.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

cat >"$T/hello.s" <<'S'
_start: la r2, msg
loop:   ld r3, 0(r2)
        beqz r3, done
        out r3, 0
        addi r2, r2, 1
        b loop
done:   li r1, 7
        halt
msg:    .string "hi\n"
S
run_capture "$TRAPEZE" run "$T/hello.s"
expect_status 7 "exit status is r1 at halt"
expect_match out '^hi$' "guest output on stdout"
expect_match err '^trapeze: halt, status 7; [0-9]+ instructions' "summary on stderr"

run_capture "$TRAPEZE" run --json "$T/hello.s"
expect_status 7 "--json keeps the exit status"
expect_lines out 1 "--json prints one line"
for key in '"stop":"halt"' '"status":7' '"regs":\[0,7,' '"psw":\{"flags":1,"pc":[0-9]+,"base":0,"bound":1048576,"timer":0\}' \
           '"instructions":[0-9]+' '"traps":\{"PRIV":0,"MEM":0,"ILL":0,"DIV":0,"SVC":0,"HCALL":0,"TIMER":0,"IO":0\}' \
           '"output":"hi\\n"'; do
    expect_match out "$key" "--json has $key"
done
e2e_checks=$((e2e_checks + 1))
jq -e '(.regs | length) == 16 and (.instructions == .steps) and (.psw | keys | length) == 5' <<<"$out" >/dev/null ||
    fail "--json is valid JSON with 16 registers and 5 PSW words"

# The exit status is r1 when it is 0..119; any other r1 is 120, and the
# summary and --json carry the whole value.
printf '_start: li r1, 2\n        halt\n' >"$T/two.s"
run_capture "$TRAPEZE" run "$T/two.s"
expect_status 2 "r1 = 2 at halt exits 2"
printf '_start: li r1, 119\n        halt\n' >"$T/s119.s"
run_capture "$TRAPEZE" run "$T/s119.s"
expect_status 119 "r1 = 119 at halt exits 119"
printf '_start: li r1, 256\n        halt\n' >"$T/s256.s"
run_capture "$TRAPEZE" run "$T/s256.s"
expect_status $EXIT_HALT_OTHER "r1 = 256 at halt is the halted-otherwise status"
expect_match err '^trapeze: halt, status 256; ' "the summary has the whole r1"
run_capture "$TRAPEZE" run --json "$T/s256.s"
expect_status $EXIT_HALT_OTHER "--json keeps the halted-otherwise status"
expect_match out '"status":256[,}]' "--json has the whole r1"
printf '_start: li r1, 120\n        halt\n' >"$T/s120.s"
run_capture "$TRAPEZE" run --json "$T/s120.s"
expect_status $EXIT_HALT_OTHER "r1 = 120 at halt is the halted-otherwise status"
expect_match out '"stop":"halt","status":120[,}]' "and --json says the guest halted with 120"

# An image written by `trapeze asm` runs the same as its source.
"$TRAPEZE" asm "$T/hello.s" -o "$T/hello.img" >/dev/null 2>&1
run_capture "$TRAPEZE" run "$T/hello.img"
expect_status 7 "an image runs"
expect_match out '^hi$' "an image prints the same"

# The budget stops an endless loop: the budget status, and exactly N steps were taken.
printf 'spin: b spin\n' >"$T/spin.s"
run_capture "$TRAPEZE" run --max-steps 1000 "$T/spin.s"
expect_status $EXIT_BUDGET "an exhausted budget has the budget status"
expect_match err '^trapeze: budget of 1000 steps exhausted at pc 0x10$' "budget message"
run_capture "$TRAPEZE" run --json --max-steps 1000 "$T/spin.s"
expect_status $EXIT_BUDGET "--json keeps the budget status"
expect_match out '"stop":"budget"' "--json stop budget"
expect_match out '"steps":1000' "the budget counts steps exactly"

# A trap with no handler installed: the new PSW is all zero.
printf 'svc 42\n' >"$T/svc.s"
run_capture "$TRAPEZE" run "$T/svc.s"
expect_status $EXIT_CRASHED "an unhandled trap: the machine stopped without halting"
expect_match err '^trapeze: unhandled trap SVC value 0x2a at pc 0x11: no handler installed' "unhandled trap message"
run_capture "$TRAPEZE" run --json "$T/svc.s"
expect_status $EXIT_CRASHED "--json keeps the unhandled-trap status"
expect_match out '"stop":"unhandled-trap"' "--json stop unhandled-trap"

# A handler whose pc does not translate: machine check.
cat >"$T/check.s" <<'S'
        li r2, 1
        st r2, 8(r0)        ; new PSW: supervisor...
        li r2, 5000
        st r2, 9(r0)        ; ...pc 5000...
        st r0, 10(r0)       ; ...base 0...
        li r2, 100
        st r2, 11(r0)       ; ...bound 100: pc 5000 is outside
        .word 0             ; ILL
S
run_capture "$TRAPEZE" run "$T/check.s"
expect_status $EXIT_CRASHED "a machine check: the machine stopped without halting"
expect_match err '^trapeze: machine check: trap ILL value 0x0 at pc 0x17, and the new PSW.s pc 0x1388 does not translate$' "machine check message"

# Console input from a file.
cat >"$T/echo.s" <<'S'
loop:   in r2, 1
        blt r2, r0, done
        out r2, 0
        b loop
done:   halt
S
printf 'abc' >"$T/in.txt"
run_capture "$TRAPEZE" run --input "$T/in.txt" "$T/echo.s"
expect_status 0 "echo halts with 0"
expect_match out '^abc$' "--input feeds port 1"

# --trace traps logs each trap on stderr, not stdout.
cat >"$T/trace.s" <<'S'
        li r2, 1
        st r2, 8(r0)
        la r2, handler
        st r2, 9(r0)
        st r0, 10(r0)
        lui r2, 16          ; bound 1048576
        st r2, 11(r0)
        svc 3
        halt
handler: ld r2, 1(r0)
        st r2, 9(r0)        ; resume after the svc
        lpsw 0(r0)
S
run_capture "$TRAPEZE" run --trace traps "$T/trace.s"
expect_status 0 "traced run halts"
expect_match err '^\[ +8\] trap 1: SVC svc 3 at L0 program, supervisor -> to L0.s handler by the hardware; pc 0x000019$' "trap trace line"
expect_match err '^trapeze: 1 trap: arose at -> handled by, how$' "the trace ends with a summary of the traps"
expect_match err '^  L0 program -> L0 program hardware +1$' "one line per path"
expect_lines out 0 "trace does not touch stdout"
run_capture "$TRAPEZE" run --trace insns --max-steps 3 "$T/trace.s"
expect_match err 'S 0x000010  (addi|lui|ori) r2' "instruction trace line"

# Variants: a bad variant file is reported at file:line:col.
printf 'variant broken\nuser add trap\n' >"$T/bad.var"
run_capture "$TRAPEZE" run --isa "$T/bad.var" "$T/hello.s"
expect_status $EXIT_BAD_INPUT "a bad variant is bad input"
expect_match err "^$T/bad.var:2:6: error: 'add' is not a system instruction" "bad variant message"
expect_lines err 1 "bad variant: one line"
run_capture "$TRAPEZE" run --isa nosuch "$T/hello.s"
expect_status $EXIT_BAD_INPUT "an unknown variant is bad input"
expect_match err "^trapeze run: --isa: no built-in variant 'nosuch'" "unknown variant message: a name, not a file"
for v in pg hybrid x86like; do
    run_capture "$TRAPEZE" run --isa "$v" "$T/hello.s"
    expect_status 7 "built-in variant $v runs"
done

# Command-line errors: one line each, the bad-input status.
while IFS='|' read -r args pattern; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" $args
    expect_status $EXIT_BAD_INPUT "trapeze $args"
    expect_match err "$pattern" "trapeze $args message"
    expect_lines err 1 "trapeze $args: one line"
done <<EOF2
run --bogus $T/hello.s|^trapeze run: unknown option '--bogus'
run --mem abc $T/hello.s|^trapeze run: --mem: expected a number of words
run --mem 10 $T/hello.s|^trapeze run: --mem: expected a number of words from 256
run --max-steps -5 $T/hello.s|^trapeze run: --max-steps: expected a number of steps
run --trace everything $T/hello.s|^trapeze run: --trace: expected 'traps' or 'insns'
run --input $T/missing $T/hello.s|^trapeze run: --input: cannot open
run $T/hello.s --mem|^trapeze run: --mem needs a value
run --json=yes $T/hello.s|^trapeze run: --json takes no value
run|^trapeze run: expected one PROGRAM, got 0
run $T/hello.s $T/hello.s|^trapeze run: expected one PROGRAM, got 2
frobnicate|^trapeze: unknown command 'frobnicate'
EOF2

# A program larger than memory is refused, not truncated.
printf '.org 300\n.word 1\n' >"$T/big.s"
run_capture "$TRAPEZE" run --mem 256 "$T/big.s"
expect_status $EXIT_BAD_INPUT "a program beyond --mem is bad input"
expect_match err "big.s: error: the program does not fit in 256 words" "program too big message"

run_capture "$TRAPEZE" --help
expect_status 0 "trapeze --help"
expect_match out '^  run ' "top-level help lists run"
run_capture "$TRAPEZE" run --help
expect_status 0 "trapeze run --help"
expect_match out '--max-steps N' "run --help lists the options"

finish
