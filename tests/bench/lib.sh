# lib.sh: what the bench scripts share.  Source it after setting `runs`
# (the number of runs a median is taken over); it sets `here` (this folder),
# `root` (the repository) and `tmp` (a scratch folder removed at exit).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median FILE: the median of the numbers in FILE, one a line.
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# cpu_seconds CMD...: the median CPU time (user + system) of `runs` runs of CMD.
cpu_seconds() {
    local TIMEFORMAT='%3U %3S'
    : >"$tmp/times"
    for ((i = 0; i < runs; i++)); do
        { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{ print $1 + $2 }' >>"$tmp/times"
    done
    median "$tmp/times"
}

# wall_seconds CMD...: the median wall time of `runs` runs of CMD.
wall_seconds() {
    local TIMEFORMAT='%3R'
    : >"$tmp/times"
    for ((i = 0; i < runs; i++)); do
        { time "$@" >/dev/null 2>&1; } 2>>"$tmp/times"
    done
    median "$tmp/times"
}

# harness NAME: builds tests/bench/NAME.c against the release objects of
# `make` (build/release-goto) into build/bench/NAME and prints its path;
# fails (compiler errors in build/bench/NAME.log) when they are not there.
harness() {
    local objs=() o out=$root/build/bench/$1
    for o in "$root"/build/release-goto/isa/*.o "$root"/build/release-goto/machine/*.o \
             "$root"/build/release-goto/assembler/*.o "$root"/build/release-goto/build/gen/*.o; do
        [ -f "$o" ] && objs+=("$o")
    done
    mkdir -p "$root/build/bench"
    [ "${#objs[@]}" -gt 0 ] &&
        ${CC:-cc} -std=c11 -O2 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -o "$out" \
            "$here/$1.c" "${objs[@]}" -lm 2>"$root/build/bench/$1.log" &&
        echo "$out"
}
