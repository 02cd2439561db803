#!/usr/bin/env bash
# Makes a lab's starter/vmm.s from the asm VMM itself: programs/vmm/vmm.s
# with the lines from the one matching START up to (not including) the one
# matching END replaced by the file STUB (the routines' specification and
# stubs).  A starter is made, never kept in the tree (labs/.gitignore), so
# it cannot drift from the VMM, which is written down once (each
# solution/vmm.s is a link to it).  Each lab's make_starter.sh calls this;
# make -C labs starters, the handout, the autograder zips and
# tests/e2e/test_grade.sh run those.
#
#   bash cut_starter.sh START END STUB OUT [SOURCE]
# (SOURCE: another file of programs/vmm/, by name; lab 3 cuts vmm_hybrid.s)
set -eu
start=$1 end=$2 stub=$3 out=$4
vmm=$(cd "$(dirname "$0")" && pwd)/../programs/vmm/${5:-vmm.s}
grep -q "$start" "$vmm" && grep -q "$end" "$vmm" || {
    echo "cut_starter.sh: $vmm: the markers '$start' and '$end' are gone: update the lab's make_starter.sh" >&2
    exit 1
}
starter=$(awk -v start="$start" -v end="$end" -v stub="$stub" '
    $0 ~ start { while ((getline line < stub) > 0) print line; skip = 1; next }
    $0 ~ end { skip = 0 }
    !skip' "$vmm")
mkdir -p "$(dirname "$out")"
printf '%s\n' "$starter" >"$out"
