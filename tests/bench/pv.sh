#!/usr/bin/env bash
# Paravirtualization (--vmm pv): one hypercall against one trapped and
# emulated instruction, the nanobenchmark of Adams & Agesen's comparison:
#
#   bash tests/bench/pv.sh BINARY       (make bench runs it)
#
# 1 M timer reads: rtmr under te (a PRIV trap, emulated) and bare, and
# hcall PV_TIMER_READ under pv (an HCALL trap, served); the cost of one is
# (loop - empty loop) / 1 M in CPU time, the empty loop run the same way.
# Then toyos native under te and paravirtual under pv: vmm entries and
# hypercalls, exact.  Median of BENCH_RUNS (default 3); reported, never
# asserted.
set -u
bin=${1:?usage: pv.sh BINARY}
runs=${BENCH_RUNS:-3}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds

n=1000000
echo "pv: one timer read, median CPU time of $runs runs minus the empty loop's ($n iterations)"
printf '  %-32s %10s %10s\n' "how" "cpu s" "ns each"
for row in "bare rtmr:rtmr_loop:" "te rtmr (trapped, emulated):rtmr_loop:--vmm te" \
           "pv hcall PV_TIMER_READ:hcall_loop:--vmm pv"; do
    IFS=: read -r what prog opts <<<"$row"
    # shellcheck disable=SC2206
    o=($opts)
    base=$(cpu_seconds "$bin" run --isa x86like "${o[@]/--vmm pv/--vmm te}" "$here/pv/empty_loop.s")
    t=$(cpu_seconds "$bin" run --isa x86like "${o[@]}" "$here/pv/$prog.s")
    awk -v w="$what" -v t="$t" -v b="$base" -v n="$n" 'BEGIN {
        printf "  %-32s %10.3f %10.1f\n", w, t, (t - b) / n * 1e9 }'
done

echo "pv: toyos, exact (run --json: vmm entries, hypercalls)"
for row in "programs/toyos/toyos.s:te:pg" "programs/toyos/toyos_pv.s:pv:x86like" \
           "programs/toyos/toyos_paged.s:te:pg" "programs/toyos/toyos_pv_paged.s:pv:x86like"; do
    IFS=: read -r prog mode isa <<<"$row"
    printf '  %-36s %-3s %s\n' "$prog" "$mode" "$("$bin" run --isa "$isa" --vmm "$mode" --json "$root/$prog" 2>/dev/null |
        jq -r '"\(.instructions) instructions, \(.vmm.entries) vmm entries, \(.vmm.pv_calls // {} | [.[]] | add // 0) hypercalls"')"
done
