#!/usr/bin/env bash
# What one sector costs under each I/O model:
#
#   bash tests/bench/disk.sh BINARY        (make bench runs it)
#
# disk/sectors.inc polls N commands of one kind (three port accesses each:
# SECTOR, CMD, STATUS) on a 64-sector unit.  Run with N = 1000 and 2000,
# the difference divided by 1000 is the cost of one command, with nothing
# of the program's set-up in it: the real machine's instructions, the
# program's own, and the traps that reach the C VMM (its entries: every
# port access is one under hypervisor-direct).  Counts are exact (--json);
# no timing.  disk/split.inc does the same through the split driver (--io
# split), in batches of 1 and of 8 requests per kick.  The asm VMM is
# hypervisor-direct too (programs/vmm/README.md, "The virtual disk"):
# alone, and at depth 2 on the C VMM and on itself.  "traps L0" are the
# traps that reach level 0 (the C VMM's entries, or the bottom asm VMM's).
#
# The second table is one sector through a kernel: disk/toyos.inc is toyos
# with its interrupt-driven driver (programs/toyos/disk.inc) and one
# process making N disk calls (svc 7 read, svc 8 write); the same
# difference of N = 1000 and 2000, and the IO interrupts (one a command).
set -u
bin=${1:?usage: disk.sh BINARY}
runs=1
source "$(dirname "$0")/lib.sh" # here, root, tmp

"$bin" mkdisk -o "$tmp/disk.img" --sectors 64 >/dev/null || exit 1
measure() { # STACK-OPTIONS CMD N [BATCH] -> "real program entries"
    local inc=$here/disk/sectors.inc
    [ -n "${4:-}" ] && inc=$here/disk/split.inc
    printf '        .equ N, %s\n        .equ CMD, %s\n        .equ B, %s\n        .include "%s"\n' "$3" "$2" \
        "${4:-1}" "$inc" >"$tmp/p$3.s"
    # shellcheck disable=SC2086
    "$bin" run --json $1 -I "$root/programs" --disk "$tmp/disk.img" "$tmp/p$3.s" 2>/dev/null |
        jq -r '[.real.instructions, .instructions, (.vmm.entries // 0), .levels[0].traps] | @tsv'
}
echo "disk: one sector command, polled: the cost of 1000 more (exact counts, --json)"
printf '  %-28s %-6s %14s %14s %12s %10s\n' model command "real instrs" "program's" "vmm exits" "traps L0"
for model in "bare|" "hypervisor-direct (te)|--vmm te" "hypervisor-direct (hvm)|--vmm hvm" \
    "passthrough (te)|--vmm te --io passthrough" "split, 1 a kick (te)|--vmm te --io split|1" \
    "split, 8 a kick (te)|--vmm te --io split|8" "hypervisor-direct (asm)|--stack asm" \
    "hypervisor-direct (c,asm)|--stack c,asm" "hypervisor-direct (asm,asm)|--stack asm,asm"; do
    name=${model%%|*} opts=${model#*|} batch=
    case $opts in *'|'*) batch=${opts#*|} opts=${opts%|*} ;; esac
    for cmd in 1 2; do
        read -r r1 p1 e1 t1 < <(measure "$opts" "$cmd" 1000 "$batch")
        read -r r2 p2 e2 t2 < <(measure "$opts" "$cmd" 2000 "$batch")
        awk -v n="$name" -v c="$([ "$cmd" = 1 ] && echo read || echo write)" \
            -v r="$((r2 - r1))" -v p="$((p2 - p1))" -v e="$((e2 - e1))" -v t="$((t2 - t1))" \
            'BEGIN { printf "  %-28s %-6s %14.1f %14.1f %12.1f %10.1f\n", n, c, r / 1000, p / 1000, e / 1000, t / 1000 }'
    done
done

# toyos_measure STACK-OPTIONS CALL N -> "real program entries traps-L0 IO"
toyos_measure() {
    printf '        .equ N, %s\n        .equ CALL, %s\n        .include "%s"\n' "$3" "$2" "$here/disk/toyos.inc" \
        >"$tmp/t$3.s"
    # shellcheck disable=SC2086
    "$bin" run --json $1 -I "$root/programs/toyos" --disk "$tmp/disk.img" "$tmp/t$3.s" 2>/dev/null |
        jq -r '[.real.instructions, .instructions, (.vmm.entries // 0), .levels[0].traps, .traps.IO] | @tsv'
}
echo "disk: one sector through toyos's driver (a system call, the wait, the completion interrupt): the cost of 1000 more"
printf '  %-28s %-6s %14s %14s %12s %10s %8s\n' model call "real instrs" "program's" "vmm exits" "traps L0" "IO irqs"
for model in "bare|" "hypervisor-direct (te)|--vmm te --io direct" "passthrough (te)|--vmm te --io passthrough" \
    "split: ports as direct (te)|--vmm te --io split" "hypervisor-direct (asm)|--stack asm" \
    "hypervisor-direct (asm,asm)|--stack asm,asm"; do
    name=${model%%|*} opts=${model#*|}
    for call in 7 8; do
        read -r r1 p1 e1 t1 i1 < <(toyos_measure "$opts" "$call" 1000)
        read -r r2 p2 e2 t2 i2 < <(toyos_measure "$opts" "$call" 2000)
        awk -v n="$name" -v c="$([ "$call" = 7 ] && echo read || echo write)" \
            -v r="$((r2 - r1))" -v p="$((p2 - p1))" -v e="$((e2 - e1))" -v t="$((t2 - t1))" -v i="$((i2 - i1))" \
            'BEGIN { printf "  %-28s %-6s %14.1f %14.1f %12.1f %10.1f %8.1f\n", n, c, r / 1000, p / 1000, e / 1000, t / 1000, i / 1000 }'
    done
done
