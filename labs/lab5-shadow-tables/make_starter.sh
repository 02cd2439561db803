#!/usr/bin/env bash
# Makes Lab 5's starter/vmm.s from the asm VMM: the lines from
# "; ---- The shadow page table" up to "; ---- Data" (rebuild) replaced by
# rebuild_removed.s.  Made, never kept (labs/.gitignore), like lab 2's.
#
#   bash make_starter.sh [OUT]      (default: starter/vmm.s beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vmm=$here/../../programs/vmm/vmm.s
start='^; ---- The shadow page table'
end='^; ---- Data'
grep -q "$start" "$vmm" && grep -q "$end" "$vmm" || {
    echo "make_starter.sh: $vmm: the markers '$start' and '$end' are gone: update this script" >&2
    exit 1
}
starter=$(awk -v start="$start" -v end="$end" -v stub="$here/rebuild_removed.s" '
    $0 ~ start { while ((getline line < stub) > 0) print line; skip = 1; next }
    $0 ~ end { skip = 0 }
    !skip' "$vmm")
out=${1:-$here/starter/vmm.s}
mkdir -p "$(dirname "$out")"
printf '%s\n' "$starter" >"$out"
