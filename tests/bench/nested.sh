#!/usr/bin/env bash
# What one guest privileged instruction costs at each depth of nesting:
#
#   bash tests/bench/nested.sh BINARY      (make bench runs it)
#
# 1. nested/rtmr.s (a kernel executing 1,000,000 rtmr) minus nested/add.s
#    (the same loop with add), at depths 0..4 and on asm,asm,asm: per rtmr,
#    the host ns (CPU time), the real machine's instructions, the traps
#    that reach level 0, and the growth of the ns from the depth before.
# 2. Depth 2 taken apart: the C VMM's share (nested/svc.s under c: a
#    reflection and the lpsw that ends a one-instruction handler, the two
#    traps a guest rtmr costs it at depth 2), the asm VMM's handler on the
#    bare machine with no observer (rtmr.s under one asm VMM, unobserved,
#    minus svc.s bare: the hardware's trap and lpsw) and what is left (the
#    accounting of two levels); the growth from depth 1 with no handler at
#    all, and the ns a handler may cost for 3x.
# 3. Accounting with an asm VMM at the bottom: asm,asm,asm under `run`
#    (whose observer charges every instruction to its level) against the
#    same stack on a machine with no observer at all (tests/bench/
#    unobserved.c, built against the release objects of `make`).
# 4. toyos (1,070 privileged instructions) at the same depths: real
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

# Depths 1 and 2 again over ten times the loop: their ns are a few tens,
# where the million's 10 ms of clock is too coarse.
k10=$((k * 10))
for f in rtmr add svc; do
    sed -e "s/^\( *\.equ K, \)100000 /\11000000/" -e "s|\"\.\./\.\./\.\./programs/|\"$root/programs/|" \
        "$here/nested/$f.s" >"$tmp/$f.s"
done
per_k() { # per_k CMD-A... -- CMD-B...: (cpu(A) - cpu(B)) / k10, in ns
    local a=() b=()
    while [ "$1" != -- ]; do a+=("$1"); shift; done
    shift
    b=("$@")
    awk -v a="$(cpu_seconds "${a[@]}")" -v b="$(cpu_seconds "${b[@]}")" -v k="$k10" \
        'BEGIN { printf "%.1f", (a - b) / k * 1e9 }'
}
echo "depth 2 taken apart: ns per guest rtmr ($k10 of them)"
d1=$(per_k "$bin" run --stack c "$tmp/rtmr.s" -- "$bin" run --stack c "$tmp/add.s")
d2=$(per_k "$bin" run --stack c,asm "$tmp/rtmr.s" -- "$bin" run --stack c,asm "$tmp/add.s")
tc=$(per_k "$bin" run --stack c "$tmp/svc.s" -- "$bin" run --stack c "$tmp/add.s")
# The handler's instructions before its lpsw: the real machine's per rtmr,
# plus the add it replaced (the lpsw is the C VMM's).
n=$(awk -v a="$(real_of "$("$bin" run --json --stack c,asm "$here/nested/rtmr.s" 2>/dev/null)")" \
    -v b="$(real_of "$("$bin" run --json --stack c,asm "$here/nested/add.s" 2>/dev/null)")" -v k="$k" \
    'BEGIN { printf "%.0f", (a - b) / k + 1 }')
th=nan
if harness=$(harness unobserved); then
    vmm=$root/programs/vmm/vmm.s
    th=$(per_k "$harness" "$vmm" "$tmp/rtmr.s" 1 1 -- "$harness" "$vmm" "$tmp/add.s" 1 1)
    th=$(awk -v a="$th" -v b="$(per_k "$bin" run "$tmp/svc.s" -- "$bin" run "$tmp/add.s")" \
        'BEGIN { printf "%.1f", a - b }')
fi
awk -v d1="$d1" -v d2="$d2" -v tc="$tc" -v th="$th" -v n="$n" 'BEGIN {
    printf "  depth 1 (c), depth 2 (c,asm)                      %7.1f %7.1f   x%.2f\n", d1, d2, d2 / d1
    printf "  the C VMM at depth 2: reflection + lpsw (svc.s, c) %7.1f           x%.2f with no handler\n", tc, tc / d1
    printf "  the asm handler: %d instructions, its lpsw (bare, no observer) %.1f: %.1f ns an instruction\n", n, th, th / n
    printf "  the rest (two levels accounted)                   %7.1f\n", d2 - tc - th
    printf "  x3 leaves the handler and the rest                %7.1f           (they take %.1f)\n", 3 * d1 - tc, d2 - tc }'

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
