#!/usr/bin/env bash
# --vmm pv, paravirtualization (vmm/README.md "Paravirtualization"):
#   - both paravirtual toyos builds print native toyos's output (the bare
#     run of toyos.s / toyos_paged.s), line for line, under pv on x86like,
#     and are equivalent to pv's interpreted reference (equiv --vmm pv);
#   - a program that is not paravirtual is refused: one line, its own exit;
#   - a PV kernel that executes lpsw is stopped, the pc and the instruction
#     named; one that holds a popf is refused at PV_HELLO;
#   - every hypercall, with good and bad arguments (a PTE batch and a
#     shared area outside memory are errors returned to the guest), and the
#     event mask: tests/pv/hypercalls.s;
#   - --json counts the hypercalls by name.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

for build in toyos toyos_paged; do
    pv=programs/toyos/${build/toyos/toyos_pv}.s
    "$TRAPEZE" run --isa x86like "programs/toyos/$build.s" >"$E2E_TMP/bare.out" 2>/dev/null
    bare_status=$?
    run_capture "$TRAPEZE" run --isa x86like --vmm pv "$pv"
    expect_status "$bare_status" "$pv under pv: the native build's status"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$E2E_TMP/out" "$E2E_TMP/bare.out" ||
        fail "$pv under pv: output differs from bare $build.s: $(diff "$E2E_TMP/bare.out" "$E2E_TMP/out" | head -5)"
    expect_match err '^trapeze: vmm pv: [0-9]+ direct, [0-9]+ emulated \(0 interpreted\)' "$pv: runs directly"
    run_capture "$TRAPEZE" equiv --isa x86like --vmm pv "$pv"
    expect_status 0 "$pv: equiv --isa x86like --vmm pv"
    expect_match out '^equivalent: ' "$pv: equivalent to the interpreted reference"
    # On a bare machine its first hcall is an ordinary trap, with no handler yet.
    run_capture "$TRAPEZE" run --isa x86like "$pv"
    expect_status "$EXIT_CRASHED" "$pv bare: stops"
    expect_match err '^trapeze: unhandled trap HCALL value 0x20 at pc 0x11' "$pv bare: its PV_HELLO traps"
done

# The paged build under every shadow policy: the PTE batches keep each in step.
for policy in trace rebuild lazy; do
    run_capture "$TRAPEZE" run --isa x86like --vmm pv --shadow "$policy" programs/toyos/toyos_pv_paged.s
    expect_status 2 "toyos_pv_paged.s --shadow $policy: status"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$E2E_TMP/out" programs/toyos/toyos_paged.expected || fail "toyos_pv_paged.s --shadow $policy: output"
done

run_capture "$TRAPEZE" run --json --isa x86like --vmm pv programs/toyos/toyos_pv_paged.s
expect_match out '"pv_calls":\{"hello":1,"shared":1,"psw":[1-9][0-9]*,"timer_set":0,"timer_read":0,"console":[1-9][0-9]*,"halt":1,"pte_batch":7\},"pv_pte_pairs":112' \
    "--json: hypercalls by name (a PTE batch per process, of its 16 entries)"

# Not paravirtual: refused before its first step, one line, its own exit.
for cmd in run equiv; do
    run_capture "$TRAPEZE" "$cmd" --isa x86like --vmm pv programs/hello.s
    expect_status "$EXIT_REFUSED" "hello.s: $cmd --vmm pv refuses it"
done
run_capture "$TRAPEZE" run --isa x86like --vmm pv programs/hello.s
expect_match err '^trapeze: the C VMM \(pv\) refused it: guest 0 is not paravirtual: its first instruction is lui r2, 0 \(pc 0x10\), not hcall PV_HELLO$' \
    "hello.s: the refusal names its first instruction"
expect_match err '^trapeze: machine-check; 0 instructions, 0 steps$' "hello.s: nothing ran"
run_capture "$TRAPEZE" equiv --isa x86like --vmm pv programs/hello.s
expect_match out '^the C VMM refused it: guest 0 is not paravirtual: ' "hello.s: equiv says it was refused"
run_capture "$TRAPEZE" run --json --isa x86like --vmm pv programs/hello.s
expect_match out '"refused":"guest 0 is not paravirtual: its first instruction is lui r2, 0 \(pc 0x10\), not hcall PV_HELLO"' \
    "hello.s: --json carries the refusal"

# The debugger says why too.
run_capture "$TRAPEZE" debug --isa x86like --vmm pv programs/hello.s <<<"step"
expect_match out '^the program stopped: the C VMM refused it: guest 0 is not paravirtual: ' "debug: the refusal"

# A PV kernel that executes a privileged instruction: its fault, stopped.
run_capture "$TRAPEZE" run --isa x86like --vmm pv tests/pv/lpsw_kernel.s
expect_status "$EXIT_REFUSED" "lpsw_kernel.s: stopped"
expect_match out '^k$' "lpsw_kernel.s: ran up to the lpsw"
expect_match err "^trapeze: the C VMM \\(pv\\) refused it: guest 0's paravirtual kernel executed lpsw 22\\(r0\\) at pc 0x13: a PV kernel asks by hcall instead$" \
    "lpsw_kernel.s: the pc and the instruction named"
# One that holds a critical instruction: refused at PV_HELLO, on every variant.
for isa in x86like pg; do
    run_capture "$TRAPEZE" run --isa "$isa" --vmm pv tests/pv/critical_kernel.s
    expect_status "$EXIT_REFUSED" "critical_kernel.s ($isa): refused"
    expect_match err "refused it: guest 0's paravirtual kernel holds the critical instruction popf r0 at 0x13: a PV kernel asks by hcall instead$" \
        "critical_kernel.s ($isa): the popf named"
done

# Every hypercall, good and bad arguments, and the event mask.
for isa in x86like hybrid pg; do
    run_capture "$TRAPEZE" run --isa "$isa" --vmm pv --mem 65536 tests/pv/hypercalls.s
    expect_status 7 "hypercalls.s ($isa): halts through the timer handler"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$E2E_TMP/out" tests/pv/hypercalls.expected ||
        fail "hypercalls.s ($isa): $(diff tests/pv/hypercalls.expected "$E2E_TMP/out" | head -5)"
    run_capture "$TRAPEZE" equiv --isa "$isa" --vmm pv --mem 65536 tests/pv/hypercalls.s
    expect_status 0 "hypercalls.s ($isa): equivalent to the interpreted reference"
done
# Several PV guests at once, each its own.
run_capture "$TRAPEZE" run --isa x86like --vmm pv --vms 3 programs/toyos/toyos_pv.s
expect_status 1 "toyos_pv.s: three at once"
e2e_checks=$((e2e_checks + 1))
[ "$(grep -c '^\[vm2\] toyos: all done' <<<"$out")" -eq 1 ] || fail "toyos_pv.s: the third guest did not finish"
# pv under a stack is refused where the guest is not paravirtual: the asm VMM is not.
run_capture "$TRAPEZE" run --isa x86like --stack c,asm --vmm pv programs/toyos/toyos_pv.s
expect_status "$EXIT_REFUSED" "--stack c,asm --vmm pv: the asm VMM is not a PV kernel"
finish
