#!/usr/bin/env bash
# What shadow page tables cost, for each policy of the C VMM (--shadow):
#
#   bash tests/bench/shadow.sh BINARY      (make bench runs it)
#
# 1. toyos_paged at depths 1..4 (c, c,asm, ...): the real machine's
#    instructions, the traps that reach level 0, the program's
#    amplification, the C VMM's efficiency, and the wall time.
# 2. One guest PTE change (store, tlbflush, use): shadow/pte_change.s minus
#    shadow/pte_baseline.s (the same loop without the changes), per change:
#    C VMM entries, shadow entries computed, host ns.
# 3. One context switch to another page table: shadow/ctx_paged.s minus
#    shadow/ctx_unpaged.s (the same processes under relocation), per switch.
# Median of BENCH_RUNS (default 3) CPU times; figures are reported, never
# asserted.
set -u
bin=${1:?usage: shadow.sh BINARY}
runs=${BENCH_RUNS:-3}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds, harness
policies="trace rebuild lazy"

# field JSON NAME: the first number called NAME
field() { grep -o "\"$2\":[0-9.]*" <<<"$1" | head -n1 | cut -d: -f2; }
# level0_traps JSON: the traps that reached level 0
level0_traps() { grep -o '"level":0,"kind":"[a-z]*","instructions":[0-9]*,"traps":[0-9]*' <<<"$1" | grep -o '[0-9]*$'; }

toyos=$root/programs/toyos/toyos_paged.s
echo "shadow: toyos_paged at each depth and policy, median of $runs runs"
printf '  %-16s %-8s %12s %10s %8s %10s %8s\n' stack policy "real instrs" "L0 traps" ampl. efficiency "cpu s"
for spec in c c,asm c,asm,asm c,asm,asm,asm; do
    for p in $policies; do
        json=$("$bin" run --json --stack "$spec" --shadow "$p" "$toyos" 2>/dev/null)
        real=$(grep -o '"real":{"instructions":[0-9]*' <<<"$json" | grep -o '[0-9]*$')
        ampl=$(grep -o '"amplification":[0-9.]*' <<<"$json" | tail -n1 | cut -d: -f2)
        t=$(cpu_seconds "$bin" run --stack "$spec" --shadow "$p" "$toyos")
        printf '  %-16s %-8s %12d %10d %8.2f %9.2f%% %8.3f\n' "$spec" "$p" "$real" \
            "$(level0_traps "$json")" "$ampl" "$(awk -v e="$(field "$json" efficiency)" 'BEGIN{print 100*e}')" "$t"
    done
done

# per PROGRAM BASELINE N WHAT: the difference per event, for each policy.
per() {
    local prog=$here/shadow/$1.s base=$here/shadow/$2.s n=$3
    printf '  %-8s %14s %14s %10s\n' policy "vmm entries" "entries made" "host ns"
    local tb tp
    tb=$(cpu_seconds "$bin" run "$base")
    tp=$(cpu_seconds "$bin" run "$prog")
    awk -v a="$tp" -v b="$tb" -v n="$n" 'BEGIN { printf "  %-8s %14s %14s %10.0f\n", "bare", "-", "-", (a - b) / n * 1e9 }'
    for p in $policies; do
        local jb jp
        jb=$("$bin" run --json --vmm te --shadow "$p" "$base" 2>/dev/null)
        jp=$("$bin" run --json --vmm te --shadow "$p" "$prog" 2>/dev/null)
        tb=$(cpu_seconds "$bin" run --vmm te --shadow "$p" "$base")
        tp=$(cpu_seconds "$bin" run --vmm te --shadow "$p" "$prog")
        awk -v n="$n" -v p="$p" -v ea="$(field "$jp" entries)" -v eb="$(field "$jb" entries)" \
            -v wa="$(field "$jp" entries_made)" -v wb="$(field "$jb" entries_made)" \
            -v a="$tp" -v b="$tb" 'BEGIN {
            printf "  %-8s %14.2f %14.2f %10.0f\n", p, (ea - eb) / n, (wa - wb) / n, (a - b) / n * 1e9 }'
    done
}
echo "shadow: one guest PTE change (store, tlbflush, use), --vmm te"
per pte_change pte_baseline 400000
echo "shadow: one context switch onto another page table (unpaged kernel), --vmm te"
per ctx_paged ctx_unpaged 200000
