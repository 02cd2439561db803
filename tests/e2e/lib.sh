# Shared helpers for the end-to-end scripts: source it, then call `check`
# lines and finish with `finish`.  $TRAPEZE is the binary under test.
set -u
: "${TRAPEZE:?TRAPEZE must name the trapeze binary}"
: "${ROOT:=$(pwd)}"
# The exit statuses of `trapeze` (tui/cli.h); tests name them, never the numbers.
# 0..119 is the guest's own: it halted with that r1.
EXIT_HALT_OTHER=120     # the guest halted with r1 outside 0..119 (the summary has it)
EXIT_NOT_EQUIVALENT=121 # equiv: the runs differ; check-isa: Theorem 1 fails
EXIT_REFUSED=122        # the C VMM refused the guest (pv: not paravirtual, or its kernel broke the contract)
EXIT_BUDGET=124         # --max-steps ran out before the guest halted (or the monitors stalled)
EXIT_BAD_INPUT=125      # a command line, source, image, variant file or script is wrong
EXIT_CRASHED=126        # the guest's machine stopped without halting
e2e_failures=0
e2e_checks=0
E2E_TMP=$(mktemp -d)
trap 'rm -rf "$E2E_TMP"' EXIT

fail() {
    echo "FAIL: $*"
    e2e_failures=$((e2e_failures + 1))
}

# run_capture CMD...: runs CMD with stdout to $E2E_TMP/out, stderr to
# $E2E_TMP/err, and sets $status.
run_capture() {
    "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err"
    status=$?
    out=$(cat "$E2E_TMP/out")
    err=$(cat "$E2E_TMP/err")
}

# expect_status N DESCRIPTION: the last run_capture exited with N.
expect_status() {
    e2e_checks=$((e2e_checks + 1))
    [ "$status" -eq "$1" ] || fail "$2: exit status $status, expected $1 (stderr: ${err:0:300})"
}

# expect_match WHERE REGEX DESCRIPTION: $out or $err matches the regex.
expect_match() {
    e2e_checks=$((e2e_checks + 1))
    local text
    if [ "$1" = out ]; then text=$out; else text=$err; fi
    grep -Eq -- "$2" <<<"$text" || fail "$3: $1 does not match /$2/: ${text:0:400}"
}

# expect_lines WHERE N DESCRIPTION: $out or $err has exactly N lines.
expect_lines() {
    e2e_checks=$((e2e_checks + 1))
    local text n
    if [ "$1" = out ]; then text=$out; else text=$err; fi
    n=$(printf '%s' "$text" | grep -c '^' || true)
    [ "$n" -eq "$2" ] || fail "$3: $1 has $n lines, expected $2: ${text:0:400}"
}

# disk_image BINARY BASE IMAGE: the disk program BASE.s runs on, made
# afresh: `BINARY mkdisk -o IMAGE` with the arguments in BASE.disk (one a
# line; files named relative to BASE's folder).
disk_image() {
    local bin=$1 base=$2 img=$3 args
    case $img in /*) ;; *) img=$PWD/$img ;; esac
    case $bin in */*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;; esac
    mapfile -t args <"$base.disk"
    (cd "$(dirname "$base")" && "$bin" mkdisk -o "$img" "${args[@]}")
}

# disk_as_bare PROG FRESH BARE BARE_JSON OPTIONS...: PROG run with OPTIONS
# on a copy of the disk FRESH prints its .expected, leaves the disk BARE
# and counts the disk commands of BARE_JSON (a file: its bare run's
# --json); then `equiv OPTIONS` on another copy says equivalent and
# leaves the copy as it was.  Sets $out to equiv's report.
disk_as_bare() {
    local prog=$1 fresh=$2 bare=$3 bare_json=$4 counts='[.disk.reads, .disk.writes, .disk.errors]'
    shift 4
    cp "$fresh" "$E2E_TMP/as_bare.img"
    run_capture "$TRAPEZE" run --json "$@" --disk "$E2E_TMP/as_bare.img" "$prog"
    expect_status 0 "$prog: run $*"
    e2e_checks=$((e2e_checks + 3))
    [ "$(jq -j .output <<<"$out")" = "$(cat "${prog%.s}.expected")" ] || fail "$prog under $*: output differs"
    cmp -s "$bare" "$E2E_TMP/as_bare.img" || fail "$prog under $*: the disk differs from the bare run's"
    [ "$(jq -c "$counts" "$bare_json")" = "$(jq -c "$counts" <<<"$out")" ] ||
        fail "$prog under $*: disk counts bare $(jq -c .disk "$bare_json"), here $(jq -c .disk <<<"$out")"
    cp "$fresh" "$E2E_TMP/as_bare.img"
    run_capture "$TRAPEZE" equiv "$@" --disk "$E2E_TMP/as_bare.img" "$prog"
    expect_status 0 "$prog: equiv $*"
    expect_match out '^equivalent' "$prog: equiv $* says equivalent"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$fresh" "$E2E_TMP/as_bare.img" || fail "$prog: equiv $* wrote to the disk file"
}

# check_expected BINARY DIR: every DIR/**/X.s with an X.expected beside it
# runs under BINARY (X.input as --input when there is one) to exactly the
# .expected text on stdout, exiting 0 or with the number in X.status; with
# an X.disk, on a fresh disk made from it (disk_image); with an X.isa, under
# the variant it names (--isa); with an X.args, with those options too (a
# program that needs a monitor: split.s).  Sets
# $checked_programs to how many there were.
check_expected() {
    local bin=$1 dir=$2 prog base want st
    checked_programs=0
    while IFS= read -r prog; do
        base=${prog%.s}
        [ -f "$base.expected" ] || continue
        checked_programs=$((checked_programs + 1))
        local args=(--max-steps 50000000)
        [ -f "$base.input" ] && args+=(--input "$base.input")
        # shellcheck disable=SC2207
        [ -f "$base.args" ] && args+=($(cat "$base.args"))
        [ -f "$base.isa" ] && args+=(--isa "$(tr -d ' \n' <"$base.isa")")
        if [ -f "$base.disk" ]; then
            disk_image "$bin" "$base" "$E2E_TMP/expected.img" || fail "$prog: cannot make its disk"
            args+=(--disk "$E2E_TMP/expected.img")
        fi
        want=0
        [ -f "$base.status" ] && want=$(tr -d ' \n' <"$base.status")
        "$bin" run "${args[@]}" "$prog" >"$E2E_TMP/expected.out" 2>"$E2E_TMP/expected.err"
        st=$?
        e2e_checks=$((e2e_checks + 2))
        if ! cmp -s "$E2E_TMP/expected.out" "$base.expected"; then
            fail "$prog: output differs from $base.expected (diff expected actual):"
            diff "$base.expected" "$E2E_TMP/expected.out" | head -n 40
        fi
        [ "$st" -eq "$want" ] ||
            fail "$prog: exit status $st, expected $want; stderr: $(head -c 300 "$E2E_TMP/expected.err")"
    done < <(find "$dir" -name '*.s' | sort)
}

finish() {
    if [ "$e2e_failures" -ne 0 ]; then
        echo "$e2e_failures of $e2e_checks checks failed"
        exit 1
    fi
    echo "all $e2e_checks checks passed"
}
