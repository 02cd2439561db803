#!/usr/bin/env bash
# Every run is bounded by its budget whatever the variant: with a variant
# under which a monitor's own lpsw executes in user mode (the asm VMM above
# the bottom cannot switch to its guest), the monitors run on without the
# program ever taking a step; run, equiv and debug stop all the same, say
# why, and exit with the budget's status.  (Before, stacks with an asm
# level above the bottom ignored --max-steps and never returned.)
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
V=tests/variants/pg_lpsw_exec.var

for spec in asm,asm c,asm,asm asm,asm,asm; do
    run_capture timeout 60 "$TRAPEZE" run --isa "$V" --stack "$spec" programs/hello.s
    expect_status "$EXIT_BUDGET" "run on $spec under $V ends with the budget's status"
    expect_match err '^trapeze: stalled: the monitors ran [0-9]+ steps without a step of the program' \
        "run on $spec: says it stalled"
    run_capture timeout 60 "$TRAPEZE" run --json --isa "$V" --stack "$spec" programs/hello.s
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stalled == true and .stop == "budget"' <<<"$out" >/dev/null ||
        fail "run --json on $spec: no \"stalled\": $(head -c 300 <<<"$out")"
done

run_capture timeout 60 "$TRAPEZE" equiv --isa "$V" --stack asm,asm programs/hello.s
expect_status "$EXIT_NOT_EQUIVALENT" "equiv on asm,asm under $V ends, not equivalent"

printf 'continue\nquit\n' >"$E2E_TMP/cont.cmds"
run_capture timeout 60 "$TRAPEZE" debug --isa "$V" --stack asm,asm programs/hello.s <"$E2E_TMP/cont.cmds"
expect_status 0 "debug on asm,asm under $V: the session ends"
expect_match out 'stopped: the monitors ran [0-9]+ steps without a step of the program' \
    "debug: continue stops and says why"

# The budget is the program's steps, and a budget stop is where its state is
# whole, at every depth.
printf '_start: addi r1, r1, 1\n        b _start\n' >"$E2E_TMP/loop.s"
for spec in bare c c,asm asm,asm; do
    run_capture timeout 60 "$TRAPEZE" run --json --max-steps 5000 --stack "$spec" "$E2E_TMP/loop.s"
    expect_status "$EXIT_BUDGET" "a loop on $spec stops at its budget"
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stop == "budget" and .steps == 5000 and .regs[1] == 2500' <<<"$out" >/dev/null ||
        fail "a loop on $spec: not stopped after exactly 5000 of its steps: $(jq -c '{stop,steps,regs}' <<<"$out")"
done

finish
