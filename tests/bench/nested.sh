#!/usr/bin/env bash
# What one guest privileged instruction costs at each depth of nesting:
#
#   bash tests/bench/nested.sh BINARY      (make bench runs it)
#
# 1. nested/rtmr.s (a kernel executing 1,000,000 rtmr) minus nested/add.s
#    (the same loop with add), at depths 0..4 and on asm,asm,asm: per rtmr,
#    the host ns (CPU time), the real machine's instructions, the traps
#    that reach level 0, and the growth of the ns from the depth before.
# 2. Accounting with an asm VMM at the bottom: asm,asm,asm under `run`
#    (whose observer charges every instruction to its level) against the
#    same stack on a machine with no observer at all (tests/bench/
#    unobserved.c, built against the release objects of `make`).
# 3. toyos (1,070 privileged instructions) at the same depths: real
#    instructions, traps at level 0, amplification (monitors' instructions
#    per guest privileged instruction, from --json), and ns
#    per guest privileged instruction (BENCH_TOYOS runs in a row, default
#    20, minus as many bare runs: start-up makes it rough, and below 100 ns
#    (depths 0 and 1) it is noise, so no growth is given from there).
# Median of BENCH_RUNS (default 3) CPU times (user + sys); figures are
# reported, never asserted.
set -u
bin=${1:?usage: nested.sh BINARY}
runs=${BENCH_RUNS:-3}
reps=${BENCH_TOYOS:-20}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds, harness
stacks="bare c c,asm c,asm,asm c,asm,asm,asm asm,asm,asm"

repeated() { # repeated N CMD...: CMD N times in a row
    local n=$1
    shift
    for ((k = 0; k < n; k++)); do "$@"; done
}
real_of() { grep -o '"real":{"instructions":[0-9]*' <<<"$1" | grep -o '[0-9]*$'; }
level0_traps() {
    local t
    t=$(grep -o '"level":0,"kind":"[a-z]*","instructions":[0-9]*,"traps":[0-9]*' <<<"$1" | grep -o '[0-9]*$')
    echo "${t:-0}"
}
ampl_of() { grep -o '"amplification":[0-9.]*' <<<"$1" | tail -n1 | cut -d: -f2; }

k=1000000
echo "nested: one rtmr in the guest kernel (rtmr.s - add.s, $k of them), median of $runs runs"
printf '  %-16s %10s %8s %14s %12s %10s\n' stack "ns/priv" growth "real instr/priv" "L0 traps/priv" "cpu s"
prev=
for spec in $stacks; do
    jp=$("$bin" run --json --stack "$spec" "$here/nested/rtmr.s" 2>/dev/null)
    ja=$("$bin" run --json --stack "$spec" "$here/nested/add.s" 2>/dev/null)
    tp=$(cpu_seconds "$bin" run --stack "$spec" "$here/nested/rtmr.s")
    ta=$(cpu_seconds "$bin" run --stack "$spec" "$here/nested/add.s")
    ns=$(awk -v a="$tp" -v b="$ta" -v k="$k" 'BEGIN { printf "%.1f", (a - b) / k * 1e9 }')
    growth=-
    if [ -n "$prev" ] && [ "$spec" != asm,asm,asm ]; then
        growth=$(awk -v a="$ns" -v b="$prev" 'BEGIN { printf "x%.2f", a / b }')
    fi
    awk -v s="$spec" -v ns="$ns" -v g="$growth" -v rp="$(real_of "$jp")" -v ra="$(real_of "$ja")" \
        -v tp0="$(level0_traps "$jp")" -v ta0="$(level0_traps "$ja")" -v k="$k" -v t="$tp" 'BEGIN {
        printf "  %-16s %10.1f %8s %14.1f %12.2f %10.3f\n", s, ns, g, (rp - ra) / k, (tp0 - ta0) / k, t }'
    if [ "$spec" != asm,asm,asm ]; then prev=$ns; fi
done

echo "accounting: asm,asm,asm, rtmr.s and add.s, run (observed) against a machine with no observer"
if harness=$(harness unobserved); then
    vmm=$root/programs/vmm/vmm.s
    up=$("$harness" "$vmm" "$here/nested/rtmr.s" 3 "$runs")
    ua=$("$harness" "$vmm" "$here/nested/add.s" 3 "$runs")
    tp=$(cpu_seconds "$bin" run --stack asm,asm,asm "$here/nested/rtmr.s")
    ta=$(cpu_seconds "$bin" run --stack asm,asm,asm "$here/nested/add.s")
    awk -v up="$(cut -d' ' -f2 <<<"$up")" -v ua="$(cut -d' ' -f2 <<<"$ua")" -v tp="$tp" -v ta="$ta" \
        -v k="$k" 'BEGIN {
        a = (tp - ta) / k * 1e9; u = (up - ua) / k * 1e9
        printf "  unobserved %.1f ns/priv, run %.1f ns/priv (process included): x%.2f\n", u, a, a / u }'
else
    echo "  not measured (needs the objects of \`make\` in build/release-goto; see build/bench/unobserved.log)"
fi

toyos=$root/programs/toyos/toyos.s
echo "nested: toyos (1,070 privileged instructions), $reps runs in a row minus as many bare, median of $runs"
printf '  %-16s %12s %10s %10s %10s %8s\n' stack "real instrs" "L0 traps" ampl. "ns/priv" growth
tb=$(cpu_seconds repeated "$reps" "$bin" run "$toyos")
prev=
for spec in $stacks; do
    j=$("$bin" run --json --stack "$spec" "$toyos" 2>/dev/null)
    t=$(cpu_seconds repeated "$reps" "$bin" run --stack "$spec" "$toyos")
    a=$(ampl_of "$j")
    [ "$spec" = bare ] && a=0
    ns=$(awk -v t="$t" -v tb="$tb" -v n="$reps" 'BEGIN { printf "%.0f", (t - tb) / n / 1070 * 1e9 }')
    growth=-
    if [ -n "$prev" ] && [ "$spec" != asm,asm,asm ]; then
        growth=$(awk -v a="$ns" -v b="$prev" 'BEGIN { if (b >= 100) printf "x%.2f", a / b; else print "-" }')
    fi
    printf '  %-16s %12d %10d %10.1f %10d %8s\n' "$spec" "$(real_of "$j")" "$(level0_traps "$j")" "$a" "$ns" "$growth"
    if [ "$spec" != asm,asm,asm ]; then prev=$ns; fi
done
