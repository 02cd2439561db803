#!/usr/bin/env bash
# Every example program runs to its expected output: for each programs/**/*.s
# with a .expected file beside it, `trapeze run` (with X.input as --input
# when it exists) must print exactly the .expected text on stdout and exit
# with status 0, or with the number in X.status when that file exists.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

check_expected "$TRAPEZE" programs
found=$checked_programs

# traps.s provokes every cause but IO, and echo_irq.s takes IO interrupts:
# the trap counters of --json say so.
"$TRAPEZE" run --json programs/traps.s >"$E2E_TMP/json" 2>/dev/null
e2e_checks=$((e2e_checks + 1))
want='"traps":{"PRIV":1,"MEM":5,"ILL":1,"DIV":1,"SVC":2,"HCALL":1,"TIMER":1,"IO":0}'
got=$(grep -o '"traps":{[^}]*}' "$E2E_TMP/json")
[ "$got" = "$want" ] || fail "traps.s trap counts: got $got, expected $want"
"$TRAPEZE" run --json --input programs/echo_irq.input programs/echo_irq.s >"$E2E_TMP/json" 2>/dev/null
e2e_checks=$((e2e_checks + 1))
got=$(grep -o '"traps":{[^}]*}' "$E2E_TMP/json" | grep -o '"IO":[0-9]*')
[ "$got" = '"IO":58' ] || fail "echo_irq.s: $got IO interrupts, expected 58"

# The nanobenchmarks of make bench-vmm (not in programs/, so checked here):
# each halts with its result (the status line says it), its paravirtual
# build under pv with the same.
for nano in syscall:0 io:0 popf:0 pte:7250000; do
    name=${nano%%:*} want=${nano#*:}
    for build in "$name" "${name}_pv"; do
        src=tests/bench/vmm/$build.s
        [ -f "$src" ] || continue
        vmm=()
        [ "$build" != "$name" ] && vmm=(--vmm pv)
        run_capture "$TRAPEZE" run --isa x86like "${vmm[@]}" "$src"
        expect_match err "^trapeze: halt, status $want; " "$src halts with $want"
    done
done

# The runner must have found the programs the issue asks for.
for required in hello fib sort traps; do
    e2e_checks=$((e2e_checks + 1))
    [ -f "programs/$required.expected" ] || fail "programs/$required.expected is missing"
done
e2e_checks=$((e2e_checks + 1))
[ "$found" -ge 4 ] || fail "only $found programs with .expected files"
finish
