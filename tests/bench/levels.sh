#!/usr/bin/env bash
# What a run costs at each depth, traced and under the debugger:
#
#   bash tests/bench/levels.sh BINARY      (make bench runs it after run.sh)
#
# 1. levels/trap_path.s (a kernel executing 100,000 privileged
#    instructions) at depths 0..4 and on asm,asm,asm: the real machine's
#    instructions per second and the program's steps per second, i.e. what
#    the trap path costs at each depth.
# 2. --trace traps: a run that prints every trap (to /dev/null) against the
#    same run untraced.
# 3. the debugger: `continue` to a breakpoint that is never hit (so every
#    boundary is looked at) over a loop of 3 million instructions, bare and
#    on c,asm: units per second.
# Median of BENCH_RUNS (default 3) wall times; figures are reported, never
# asserted.
set -u
bin=${1:?usage: levels.sh BINARY}
runs=${BENCH_RUNS:-3}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds, harness

toyos=$root/programs/toyos/toyos.s
prog=$here/levels/trap_path.s
echo "levels: trap_path.s (300,002 steps of the program, 100,000 privileged), median of $runs runs"
printf '  %-14s %12s %10s %14s %14s\n' stack "real instrs" "wall s" "real MIPS" "program k/s"
for spec in bare c c,asm c,asm,asm c,asm,asm,asm asm,asm,asm; do
    json=$("$bin" run --json --stack "$spec" "$prog" 2>/dev/null)
    steps=$(grep -o '"steps":[0-9]*' <<<"$json" | head -n1 | cut -d: -f2)
    real=$(grep -o '"real":{"instructions":[0-9]*' <<<"$json" | grep -o '[0-9]*$')
    wall_seconds "$bin" run --stack "$spec" "$prog" >"$tmp/t"
    t=$(cat "$tmp/t")
    awk -v s="$spec" -v r="$real" -v t="$t" -v p="$steps" 'BEGIN {
        printf "  %-14s %12d %10.3f %14.1f %14.1f\n", s, r, t, r / t / 1e6, p / t / 1e3 }'
done

echo "tracing: --trace traps, toyos on c,asm,asm (every trap described on stderr)"
wall_seconds "$bin" run --stack c,asm,asm "$toyos" >"$tmp/plain"
wall_seconds "$bin" run --trace traps --stack c,asm,asm "$toyos" >"$tmp/traced"
awk -v a="$(cat "$tmp/plain")" -v b="$(cat "$tmp/traced")" 'BEGIN {
    printf "  untraced %.3f s, traced %.3f s: %.1fx\n", a, b, b / a }'

printf '_start: li r2, 3000000\nloop: addi r1, r1, 1\n bne r1, r2, loop\nnever: halt\n' >"$tmp/loop.s"
echo "debugger: continue to a breakpoint never hit, 3 M instructions of the program"
for spec in bare c,asm; do
    printf 'break never\ncontinue\ninfo levels\nquit\n' >"$tmp/cmds"
    units=$("$bin" debug -x "$tmp/cmds" --stack "$spec" "$tmp/loop.s" </dev/null 2>/dev/null |
        sed -n 's/.*the real machine: step \([0-9]*\).*/\1/p' | tail -n1)
    wall_seconds "$bin" debug -x "$tmp/cmds" --stack "$spec" "$tmp/loop.s" >"$tmp/t"
    awk -v s="$spec" -v u="$units" -v t="$(cat "$tmp/t")" 'BEGIN {
        printf "  %-8s %10d real steps in %.3f s: %.2f M/s, every boundary checked\n", s, u, t, u / t / 1e6 }'
done
