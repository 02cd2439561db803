#!/usr/bin/env bash
# toyos, both builds, through the real binary: what the kernel does (the
# trap counts say it: ticks, system calls, faults), that it idles while
# only a sleeper is left, that relocation and paging differ where they
# should, and that it runs the same under a stack of monitors.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

for build in toyos toyos_paged; do
    prog=programs/toyos/$build.s
    run_capture "$TRAPEZE" run --json "$prog"
    expect_status "$(cat programs/toyos/$build.status)" "$build: exit status = processes killed"
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stop == "halt" and .traps.TIMER == 27 and .traps.PRIV == 0 and .traps.SVC > 60' \
        <<<"$out" >/dev/null || fail "$build: trap counts: $(jq -c .traps <<<"$out")"
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq -r .output <<<"$out")" = "$(cat programs/toyos/$build.expected)" ] ||
        fail "$build: --json output differs from $build.expected"

    # Ticks go on while every live process sleeps: the idle loop takes them.
    run_capture "$TRAPEZE" run --trace traps "$prog"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: TIMER at L0 program, supervisor -> to L0.s handler by the hardware; pc 0x[0-9a-f]+ <idle_loop>$' \
        "$build: the kernel idles with interrupts on"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: SVC svc [0-9]+ at L0 program, user -> ' "$build: system calls from user mode"
done

# The same processes; only the scribbler's fate differs.
run_capture "$TRAPEZE" run programs/toyos/toyos.s
expect_match out '^\[7\] scribbler: nobody stopped me$' "relocation cannot protect code"
expect_match out '^toyos: pid 5 \(wild\) killed: MEM \(bound\) at pc 0x[0-9a-f]+, value 0x00001000$' \
    "wild is killed with a message"
expect_match out '^toyos: all done after 27 ticks: 6 exited, 1 killed$' "relocation: the end"
run_capture "$TRAPEZE" run programs/toyos/toyos_paged.s
expect_match out '^toyos: pid 7 \(scribbler\) killed: MEM \(write-protect\)' "paging protects code"
expect_match out '^toyos: all done after 27 ticks: 5 exited, 2 killed$' "paging: the end"

# A different memory size changes nothing a process sees.
run_capture "$TRAPEZE" run --mem 65536 programs/toyos/toyos.s
expect_status 1 "toyos in 64K words"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat programs/toyos/toyos.expected)" ] || fail "toyos in 64K words: output differs"

# The output depends on the timer: a run stopped early shows the lines so
# far, in the same order (the interleaving is exact, not approximate).
run_capture "$TRAPEZE" run --max-steps 20000 programs/toyos/toyos.s
expect_status $EXIT_BUDGET "a budget stop"
e2e_checks=$((e2e_checks + 1))
[ "$(head -c ${#out} programs/toyos/toyos.expected)" = "$out" ] ||
    fail "the first 20000 steps print a prefix of the full output"

# Under monitors (when the binary knows --stack): equivalent at depth 4
# and on three asm VMMs, and the same output through `run`.
if "$TRAPEZE" run --help 2>&1 | grep -q -- '--stack'; then
    for build in toyos toyos_paged; do
        prog=programs/toyos/$build.s
        for opt in "--depth 4" "--stack asm,asm,asm"; do
            # shellcheck disable=SC2086
            run_capture "$TRAPEZE" equiv $opt "$prog"
            expect_status 0 "$build: equiv $opt"
            expect_match out '^equivalent' "$build: equiv $opt says equivalent"
        done
        run_capture "$TRAPEZE" run --stack c,asm "$prog"
        expect_status "$(cat programs/toyos/$build.status)" "$build under c,asm: exit status"
        e2e_checks=$((e2e_checks + 1))
        [ "$out" = "$(cat programs/toyos/$build.expected)" ] || fail "$build under c,asm: output differs"
    done
fi
finish
