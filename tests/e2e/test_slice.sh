#!/usr/bin/env bash
# --slice N: the C VMM's round robin made visible.  With a short slice the
# four guests' lines interleave; with the default (10000 steps, longer than
# timer.s) each guest's come together; the option needs a C VMM.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

run_capture "$TRAPEZE" run --vmm te --vms 4 --slice 50 programs/timer.s
expect_status 0 "--slice 50: status"
e2e_checks=$((e2e_checks + 1))
first=$(head -n 4 <<<"$out" | sed 's/^\[\(vm[0-9]\)\].*/\1/' | tr '\n' ' ')
[ "$first" = "vm0 vm1 vm2 vm3 " ] || fail "--slice 50: the first lines are not one from each guest in turn: $first"
expect_match out '^\[vm3\] B: 9 16' "--slice 50: every guest still runs to its end"

run_capture "$TRAPEZE" run --vmm te --vms 4 programs/timer.s
e2e_checks=$((e2e_checks + 1))
first=$(head -n 2 <<<"$out" | sed 's/^\[\(vm[0-9]\)\].*/\1/' | tr '\n' ' ')
[ "$first" = "vm0 vm0 " ] || fail "default slice: a guest's lines come together: $first"

run_capture "$TRAPEZE" run --slice 50 programs/timer.s
expect_status "$EXIT_BAD_INPUT" "--slice without a C VMM"
expect_match err -- "--slice is for the C VMM's scheduler" "--slice without a C VMM: message"
run_capture "$TRAPEZE" run --vmm te --slice 0 programs/timer.s
expect_status "$EXIT_BAD_INPUT" "--slice 0"
expect_match err -- "--slice: expected a number of guest steps" "--slice 0: message"

finish
