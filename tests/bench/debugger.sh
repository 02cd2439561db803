#!/usr/bin/env bash
# The debugger and the TUI against `run`, reported, never asserted:
#
#   bash tests/bench/debugger.sh BINARY        (make bench runs it)
#
#   bare, under --vmm te and under --depth 2, over BENCH_STEPS steps of
#   tests/bench/alu.s (default 50 M), in M steps per CPU second and as a
#   share of `run`'s rate on the same stack:
#   - `continue` with no breakpoint, with a trap breakpoint never hit, and
#     with an address breakpoint never hit (a fetch stop, bare and under
#     the C VMM; over BENCH_BREAK_STEPS, default BENCH_STEPS);
#   - `step 1000000` repeated to the same count in one session;
#   - the TUI's `c` (tmux; skipped without it): the CPU of a session that
#     runs to the budget, less that of one that quits at once;
#   - going back over the whole history, in M steps gone back per CPU
#     second (less the CPU of the way forward): `reverse-step 1000000` (the
#     largest count) after `step 1000000`, and `reverse-continue` to a
#     breakpoint at the start after `continue` to the BENCH_STEPS budget;
#   then the start-up of `debug` and `equiv` at --mem 1M and 64M words (the
#   snapshots and equiv's comparison cover the pages written, so a bigger
#   --mem should cost nothing before the first command).
# Each figure is the median of BENCH_RUNS runs (default 3); CPU time, which
# a shared machine disturbs less than wall time.
set -u
bin=${1:?usage: debugger.sh BINARY}
runs=${BENCH_RUNS:-3}
steps=${BENCH_STEPS:-50000000}
break_steps=${BENCH_BREAK_STEPS:-$steps}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds, wall_seconds
[ -x "$bin" ] || { echo "debugger.sh: $bin is not an executable" >&2; exit 2; }
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
prog=$here/alu.s

mips() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%8.1f M steps/s", (t > 0 ? n / t / 1e6 : 0) }'; }
# share N T N_RUN T_RUN: the rate N/T as a share of the rate N_RUN/T_RUN.
share() { awk -v n="$1" -v t="$2" -v m="$3" -v u="$4" 'BEGIN {
    printf "%4.0f%%", (t > 0 && m > 0 ? 100 * (n / t) / (m / u) : 0) }'; }

minus() { awk -v a="$1" -v b="$2" 'BEGIN { print a - b }'; }
debug_script() { printf '%s\n' "$@" >"$tmp/cmds"; }
debug_run() { "$bin" debug "$@" <"$tmp/cmds"; }

# tui_cpu ARGS...: CPU seconds of `c` in the TUI to the --max-steps budget.
tui_cpu() {
    local sock=bench-tui-$$ t_run t_idle
    tui_session() { # KEY: a session given KEY (or none) once it is up
        rm -f "$tmp/tui_time"
        tmux -L "$sock" new-session -d -s t -x 100 -y 30 \
            "$(printf '%q ' /usr/bin/time -o "$tmp/tui_time" -f '%U %S' "$bin" tui "$@")"
        local i
        for ((i = 0; i < 400; i++)); do
            tmux -L "$sock" capture-pane -p -t t 2>/dev/null | grep -q 'Trap log' && break
            sleep 0.05
        done
        if [ -n "$key" ]; then
            tmux -L "$sock" send-keys -t t "$key"
            for ((i = 0; i < 6000; i++)); do
                tmux -L "$sock" capture-pane -p -t t 2>/dev/null | grep -q 'budget' && break
                sleep 0.05
            done
        fi
        tmux -L "$sock" send-keys -t t q
        for ((i = 0; i < 200; i++)); do
            [ -s "$tmp/tui_time" ] && break
            sleep 0.05
        done
        tmux -L "$sock" kill-server 2>/dev/null
        awk '{ print $1 + $2 }' "$tmp/tui_time"
    }
    : >"$tmp/tui_times"
    for ((r = 0; r < runs; r++)); do
        key=c t_run=$(tui_session "$@")
        key='' t_idle=$(tui_session "$@")
        awk -v a="$t_run" -v b="$t_idle" 'BEGIN { print a - b }' >>"$tmp/tui_times"
    done
    median "$tmp/tui_times"
}

echo "debugger: $bin, alu.s, median CPU time of $runs runs, $steps steps (address breakpoint: $break_steps)"
(for ((i = 0; i < steps / 1000000; i++)); do echo 'step 1000000'; done; echo quit) >"$tmp/steps"
for stack in bare "--vmm te" "--depth 2"; do
    read -r -a opt <<<"$([ "$stack" = bare ] || echo "$stack")"
    t_run=$(cpu_seconds "$bin" run "${opt[@]}" --max-steps "$steps" "$prog")
    echo "  $stack"
    echo "    run                            $(mips "$steps" "$t_run")"
    debug_script continue quit
    t=$(cpu_seconds debug_run "${opt[@]}" --max-steps "$steps" "$prog")
    t_continue=$t
    echo "    debug: continue                $(mips "$steps" "$t")  $(share "$steps" "$t" "$steps" "$t_run") of run"
    debug_script 'break trap DIV' continue quit
    t=$(cpu_seconds debug_run "${opt[@]}" --max-steps "$steps" "$prog")
    echo "    debug: continue, break trap    $(mips "$steps" "$t")  $(share "$steps" "$t" "$steps" "$t_run") of run"
    debug_script 'break 0x22' continue quit # after the loop: never reached
    t=$(cpu_seconds debug_run "${opt[@]}" --max-steps "$break_steps" "$prog")
    echo "    debug: continue, break ADDR    $(mips "$break_steps" "$t")  $(share "$break_steps" "$t" "$steps" "$t_run") of run"
    cp "$tmp/steps" "$tmp/cmds"
    t=$(cpu_seconds debug_run "${opt[@]}" "$prog")
    n=$((steps / 1000000 * 1000000))
    echo "    debug: step 1000000 x $((steps / 1000000))       $(mips "$n" "$t")  $(share "$n" "$t" "$steps" "$t_run") of run"
    if command -v tmux >/dev/null; then
        t=$(tui_cpu "${opt[@]}" --max-steps "$steps" "$prog")
        echo "    tui: c                         $(mips "$steps" "$t")  $(share "$steps" "$t" "$steps" "$t_run") of run"
    fi
    debug_script 'step 1000000' quit
    t_fwd=$(cpu_seconds debug_run "${opt[@]}" "$prog")
    debug_script 'step 1000000' 'reverse-step 1000000' quit
    t=$(cpu_seconds debug_run "${opt[@]}" "$prog")
    echo "    debug: reverse-step 1000000    $(mips 1000000 "$(minus "$t" "$t_fwd")") back"
    debug_script continue 'break _start' reverse-continue quit
    t=$(cpu_seconds debug_run "${opt[@]}" --max-steps "$steps" "$prog")
    echo "    debug: reverse-continue        $(mips "$steps" "$(minus "$t" "$t_continue")") back"
done

debug_script quit
for mem in 1048576 67108864; do
    d=$(wall_seconds "$bin" debug --mem "$mem" "$prog" <"$tmp/cmds")
    q=$(wall_seconds "$bin" equiv --mem "$mem" --max-steps 1000 "$prog")
    echo "  start-up at --mem $mem: debug ${d}s, equiv (1000 steps) ${q}s"
done
