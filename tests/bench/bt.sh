#!/usr/bin/env bash
# Binary translation (--vmm bt) against interpretation and trap-and-emulate:
#
#   bash tests/bench/bt.sh BINARY       (make bench runs it)
#
# 1. bt/loop.s, a compute-bound supervisor loop (70 M instructions, no
#    system instruction), on x86like: bare, te (runs it directly), bt
#    (translated blocks, chained) and interp: guest instructions per second
#    of CPU time.
# 2. bt/critical_loop.s (pushf and popf in the loop, 14 M instructions):
#    bt keeps them inline; interp traps on each; te is not equivalent (it
#    is shown for its speed only).
# 3. critical.s and toyos under bt: the counters (blocks, instructions
#    translated, callouts, chain hits, lookups, invalidations), exact.
# Median of BENCH_RUNS (default 3) CPU times; figures are reported, never
# asserted.
set -u
bin=${1:?usage: bt.sh BINARY}
runs=${BENCH_RUNS:-3}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds

for prog in loop critical_loop; do
    src=$here/bt/$prog.s
    steps=$("$bin" run --isa x86like --json --max-steps 200000000 "$src" 2>/dev/null | jq .steps)
    echo "bt: $prog.s on x86like ($steps steps), median CPU time of $runs runs"
    printf '  %-8s %10s %12s %s\n' mode "cpu s" "M steps/s" "vs interp"
    base=""
    for mode in interp bt te bare; do
        vmm=(--vmm "$mode")
        [ "$mode" = bare ] && vmm=()
        t=$(cpu_seconds "$bin" run --isa x86like "${vmm[@]}" --max-steps 200000000 "$src")
        [ -z "$base" ] && base=$t
        awk -v m="$mode" -v s="$steps" -v t="$t" -v b="$base" 'BEGIN {
            printf "  %-8s %10.3f %12.1f %8.1fx\n", m, t, s / t / 1e6, b / t }'
    done
done

echo "bt: counters (exact), run --json .vmm.bt"
for prog in programs/critical.s programs/toyos/toyos.s programs/toyos/toyos_paged.s; do
    printf '  %-28s %s\n' "$prog" "$("$bin" run --isa x86like --vmm bt --json "$root/$prog" 2>/dev/null |
        jq -c '.vmm.bt | {blocks, instructions, executed, inline, callouts, chain_hits, lookups, invalidations}')"
done
