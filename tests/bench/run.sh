#!/usr/bin/env bash
# Simulated MIPS of the interpreter, bare and untraced:
#
#   bash tests/bench/run.sh BINARY         (what `make bench` runs)
#
# Runs each tests/bench/*.s program BENCH_RUNS times (default 5) with
# `BINARY run --json`, takes the median wall time, reads the number of
# retired instructions from the JSON ("instructions"), and prints
# instructions / median time.  Wall time includes start-up and assembling,
# a few milliseconds against seconds of running.
#
# Then, when the release objects are there (build/release-goto, from `make`), it
# builds tests/bench/observer.c against them and reports what the observer
# hook costs on the ALU loop: unset, set with only after_trap, set with a
# before_insn that does nothing, and the same filtered to system
# instructions.  BENCH_OBSERVER=0 skips that part.
# No threshold is checked here: speed is reported, never asserted.
set -u
bin=${1:?usage: run.sh BINARY}
runs=${BENCH_RUNS:-5}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds, harness
[ -x "$bin" ] || { echo "run.sh: $bin is not an executable" >&2; exit 2; }

cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
echo "bench: $bin, median of $runs runs, ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo ?) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "  (MIPS = instructions / median wall time; cpu = the same over user+sys time," \
     "which a busy machine disturbs less)"


TIMEFORMAT='%3R %3U %3S'
status=0
lowest=
lowest_cpu=
for prog in "$here"/*.s; do
    name=$(basename "$prog" .s)
    : >"$tmp/wall"
    : >"$tmp/cpu"
    for ((i = 0; i < runs; i++)); do
        { time "$bin" run --json --max-steps 4000000000 "$prog" >"$tmp/json" 2>/dev/null; } 2>"$tmp/time"
        rc=$?
        if [ "$rc" -ne 0 ] || ! grep -q '"stop":"halt"' "$tmp/json"; then
            echo "  $name: the run did not halt with status 0 (exit $rc)" >&2
            status=1
            continue 2
        fi
        read -r real user sys <"$tmp/time"
        echo "$real" >>"$tmp/wall"
        awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }' >>"$tmp/cpu"
    done
    instructions=$(grep -o '"instructions":[0-9]*' "$tmp/json" | head -n1 | cut -d: -f2)
    wall=$(median "$tmp/wall")
    cputime=$(median "$tmp/cpu")
    mips=$(awk -v n="$instructions" -v t="$wall" 'BEGIN { printf "%.0f", n / t / 1e6 }')
    cpumips=$(awk -v n="$instructions" -v t="$cputime" 'BEGIN { printf "%.0f", n / t / 1e6 }')
    printf '  %-6s %11s instructions  wall %6.3f s (%s .. %s)  %5s MIPS   cpu %6.3f s  %5s MIPS\n' \
        "$name" "$instructions" "$wall" "$(sort -g "$tmp/wall" | head -n1)" \
        "$(sort -g "$tmp/wall" | tail -n1)" "$mips" "$cputime" "$cpumips"
    if [ -z "$lowest" ] || [ "$mips" -lt "$lowest" ]; then lowest=$mips; fi
    if [ -z "$lowest_cpu" ] || [ "$cpumips" -lt "$lowest_cpu" ]; then lowest_cpu=$cpumips; fi
done
[ -n "$lowest" ] &&
    echo "  slowest program: $lowest MIPS wall, $lowest_cpu MIPS cpu (target: at least 500, aiming for 800)"

# ---- The observer hook -------------------------------------------------------
if [ "${BENCH_OBSERVER:-1}" != 0 ]; then
    if harness=$(harness observer); then
        echo "observer hook (tests/bench/observer.c, alu.s, machine_run alone, cpu time):"
        "$harness" "$here/alu.s" 3 || status=1
    else
        echo "observer hook: not measured (needs the objects of \`make\` in build/release-goto;" \
             "see build/bench/observer.log)"
    fi
fi
exit $status
