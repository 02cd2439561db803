#!/usr/bin/env bash
# The 2006 comparison re-run (issue 11): the shape of Adams & Agesen's
# ASPLOS'06 experiment, software against hardware virtualization of x86,
# on x86like:
#
#   bash tests/bench/vmm.sh BINARY      (make bench-vmm)
#
# Workloads: forkwait (toyos forking and waiting for FORKS children,
# default 10,000, under relocation and under paging: the builds
# programs/toyos/toyos_forkwait*.s, copied with their 200 forks made FORKS:
# Adams & Agesen's ran 40,000) and four
# nanobenchmarks (tests/bench/vmm/: a system call, port I/O, popf, a
# page-table change).  Techniques: the bare machine (native), interp
# (every guest instruction interpreted), bt (binary translation), pv (the
# workload's paravirtual build X_pv.s, when there is one), hw (hardware
# assist, shadow page tables) and hw-slt (with second-level translation).
# Each run is first checked equivalent to bare x86like (`trapeze equiv`);
# a technique that is not says so and is not timed.  Reported: guest
# instructions, the VMM's entries (traps or exits: every time it took the
# processor back), bt's callouts, the median CPU time of BENCH_RUNS
# (default 3) runs and its ratio to native.  Figures are reported, never
# asserted.
set -u
bin=${1:?usage: vmm.sh BINARY}
runs=${BENCH_RUNS:-3}
source "$(dirname "$0")/lib.sh" # here, root, tmp, median, cpu_seconds
budget=20000000000
forks=${FORKS:-10000}

# The toyos tree copied, forkwait's count raised (its message says it too).
mkdir -p "$tmp/programs"
cp -r "$root/programs/toyos" "$root/programs/lib" "$tmp/programs/"
sed -i "s/^\( *\.equ FORKS, \)200\b/\1$forks/; s/forkwait: 200 children/forkwait: $forks children/" \
    "$tmp/programs/toyos/forkwait.inc"
grep -q "FORKS, $forks\b" "$tmp/programs/toyos/forkwait.inc" || { echo "vmm.sh: cannot set FORKS" >&2; exit 1; }

workloads=(programs/toyos/toyos_forkwait.s programs/toyos/toyos_forkwait_paged.s
           tests/bench/vmm/syscall.s tests/bench/vmm/io.s tests/bench/vmm/popf.s tests/bench/vmm/pte.s)
techniques=(native interp bt pv hw hw-slt)

printf '%-26s %-7s %12s %9s %9s %9s %8s\n' workload technique "guest insns" entries callouts "cpu s" "x native"
for w in "${workloads[@]}"; do
    native=""
    for t in "${techniques[@]}"; do
        prog=$root/$w vmm=(--vmm "$t")
        [[ $w == programs/* ]] && prog=$tmp/$w
        case $t in
        native) vmm=() ;;
        pv) prog=${prog%.s}_pv.s
            if [ ! -f "$prog" ]; then
                printf '%-26s %-7s %s\n' "${w##*/}" "$t" "(no paravirtual build)"
                continue
            fi ;;
        esac
        if [ "$t" != native ] &&
            ! "$bin" equiv --isa x86like "${vmm[@]}" --max-steps "$budget" "$prog" >"$tmp/equiv" 2>&1; then
            printf '%-26s %-7s %s\n' "${w##*/}" "$t" "not equivalent: $(grep -m1 -v '^ ' "$tmp/equiv" | cut -c1-60)"
            continue
        fi
        "$bin" run --json --isa x86like "${vmm[@]}" --max-steps "$budget" "$prog" >"$tmp/json" 2>/dev/null
        read -r insns entries callouts < <(jq -r '[.instructions, (.vmm.entries // 0),
            (.vmm.bt.callouts // 0)] | @tsv' "$tmp/json")
        secs=$(cpu_seconds "$bin" run --isa x86like "${vmm[@]}" --max-steps "$budget" "$prog")
        [ -z "$native" ] && native=$secs
        awk -v w="${w##*/}" -v t="$t" -v i="$insns" -v e="$entries" -v c="$callouts" -v s="$secs" -v n="$native" \
            'BEGIN { printf "%-26s %-7s %12d %9d %9d %9.3f %8.1f\n", w, t, i, e, c, s, (n > 0 ? s / n : 0) }'
    done
done
