#!/usr/bin/env bash
# Makes Lab 2's starter/vmm.s from the asm VMM itself, so that it cannot
# drift from programs/vmm/vmm.s (solution/vmm.s is a link to that file):
#   starter/vmm.s   the asm VMM with the interpreter routines (from the line
#                   "; ---- The interpreter routines" up to "emu_unknown:")
#                   replaced by routines_removed.s
# With --check, compares instead of writing (tests/e2e/test_grade.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vmm=$here/../../programs/vmm/vmm.s
start='^; ---- The interpreter routines'
end='^emu_unknown:'
grep -q "$start" "$vmm" && grep -q "$end" "$vmm" || {
    echo "make_starter.sh: $vmm: the markers '$start' and '$end' are gone: update this script" >&2
    exit 1
}
starter=$(awk -v start="$start" -v end="$end" -v stub="$here/routines_removed.s" '
    $0 ~ start { while ((getline line < stub) > 0) print line; skip = 1; next }
    $0 ~ end { skip = 0 }
    !skip' "$vmm")
if [ "${1:-}" = --check ]; then
    cmp -s "$vmm" "$here/solution/vmm.s" || { echo "labs/lab2: solution/vmm.s is not programs/vmm/vmm.s (a link to it)" >&2; exit 1; }
    [ "$starter" = "$(cat "$here/starter/vmm.s")" ] || { echo "labs/lab2: starter/vmm.s is stale: run $0" >&2; exit 1; }
    exit 0
fi
printf '%s\n' "$starter" >"$here/starter/vmm.s"
