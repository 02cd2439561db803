#!/usr/bin/env bash
# The debugger against `run`, reported, never asserted:
#
#   bash tests/bench/debugger.sh BINARY        (make bench runs it)
#
#   - `continue` with no breakpoint, and with a trap breakpoint that is
#     never hit, over BENCH_STEPS steps of tests/bench/alu.s (default
#     50 M), in steps per second of wall time, against `run` of the same;
#   - `step 1000000` (one motion of a million steps), the same way;
#   - start-up of `debug` and `equiv` with --mem 1M and 64M words (the
#     snapshots and equiv's comparison cover the pages written, so a
#     bigger --mem should cost nothing before the first command).
# Each figure is the median of BENCH_RUNS runs (default 3).
set -u
bin=${1:?usage: debugger.sh BINARY}
runs=${BENCH_RUNS:-3}
steps=${BENCH_STEPS:-50000000}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, wall_seconds
[ -x "$bin" ] || { echo "debugger.sh: $bin is not an executable" >&2; exit 2; }
prog=$here/alu.s

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f M steps/s", (t > 0 ? n / t / 1e6 : 0) }'; }
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }'; }

debug_script() { printf '%s\n' "$@" >"$tmp/cmds"; }
debug_run() { "$bin" debug --max-steps "$steps" "$prog" <"$tmp/cmds"; }

echo "debugger: $bin, median of $runs runs, $steps steps of alu.s"
t_run=$(wall_seconds "$bin" run --max-steps "$steps" "$prog")
echo "  run                          $(rate "$steps" "$t_run")"
debug_script continue quit
t_cont=$(wall_seconds debug_run)
echo "  debug: continue              $(rate "$steps" "$t_cont")  ($(share "$t_cont" "$t_run") of run's speed)"
debug_script 'break trap DIV' continue quit
t_trap=$(wall_seconds debug_run)
echo "  debug: continue, break trap  $(rate "$steps" "$t_trap")  ($(share "$t_trap" "$t_run"))"
debug_script 'step 1000000' quit
t_step=$(wall_seconds debug_run)
t_run1=$(wall_seconds "$bin" run --max-steps 1000000 "$prog")
echo "  debug: step 1000000          $(rate 1000000 "$t_step")  (run: $(rate 1000000 "$t_run1"), start-up included)"

debug_script quit
for mem in 1048576 67108864; do
    d=$(wall_seconds "$bin" debug --mem "$mem" "$prog" <"$tmp/cmds")
    q=$(wall_seconds "$bin" equiv --mem "$mem" --max-steps 1000 "$prog")
    echo "  start-up at --mem $mem: debug ${d}s, equiv (1000 steps) ${q}s"
done
