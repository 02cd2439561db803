#!/usr/bin/env bash
# Makes Lab 2's starter/vmm.s from the asm VMM itself: the asm VMM with the
# interpreter routines (from the line "; ---- The interpreter routines" up
# to "emu_unknown:") replaced by routines_removed.s.  The starter is made,
# never kept in the tree (labs/.gitignore), so it cannot drift from
# programs/vmm/vmm.s, and the VMM is written down once (solution/vmm.s is
# a link to it).  make -C labs starters runs this; so do the handout, the
# autograder zips and tests/e2e/test_grade.sh.
#
#   bash make_starter.sh [OUT]      (default: starter/vmm.s beside this)
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
out=${1:-$here/starter/vmm.s}
mkdir -p "$(dirname "$out")"
printf '%s\n' "$starter" >"$out"
