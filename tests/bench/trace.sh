#!/usr/bin/env bash
# What tracing costs:
#
#   bash tests/bench/trace.sh BINARY      (make bench runs it)
#
# 1. --trace insns on the bare ALU loop (alu.s, BENCH_TRACE_STEPS steps,
#    default 2,000,000): CPU ns per traced instruction, the untraced run of
#    the same steps subtracted, written to /dev/null and to a file.
# 2. --trace traps under te on tests/bench/nested/rtmr.s (1,000,000 rtmr,
#    each a trap): the traced run's CPU time over the untraced one, to
#    /dev/null and to a file.  A file costs the kernel's copy of every byte
#    (about 105 bytes a trap line) on top of making the lines.
# Median of BENCH_RUNS (default 3) CPU times (user + sys); reported, never
# asserted.
set -u
bin=${1:?usage: trace.sh BINARY}
runs=${BENCH_RUNS:-3}
steps=${BENCH_TRACE_STEPS:-2000000}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds, harness

plain=$(cpu_seconds "$bin" run --max-steps "$steps" "$here/alu.s")
null=$(cpu_seconds "$bin" run --max-steps "$steps" --trace insns --trace-file /dev/null "$here/alu.s")
file=$(cpu_seconds "$bin" run --max-steps "$steps" --trace insns --trace-file "$tmp/insns" "$here/alu.s")
echo "trace: --trace insns, alu.s, $steps instructions, median of $runs runs (CPU)"
awk -v p="$plain" -v n="$null" -v f="$file" -v k="$steps" 'BEGIN {
    printf "  untraced %.3f s; to /dev/null %.3f s: %.1f ns a line; to a file %.3f s: %.1f ns a line\n",
           p, n, (n - p) / k * 1e9, f, (f - p) / k * 1e9 }'

rtmr=$here/nested/rtmr.s
plain=$(cpu_seconds "$bin" run --vmm te "$rtmr")
null=$(cpu_seconds "$bin" run --vmm te --trace traps --trace-file /dev/null "$rtmr")
file=$(cpu_seconds "$bin" run --vmm te --trace traps --trace-file "$tmp/traps" "$rtmr")
echo "trace: --trace traps under te, nested/rtmr.s (1,000,000 traps), median of $runs runs (CPU)"
awk -v p="$plain" -v n="$null" -v f="$file" 'BEGIN {
    printf "  untraced %.3f s; to /dev/null %.3f s: x%.2f; to a file %.3f s: x%.2f\n",
           p, n, n / p, f, f / p }'
