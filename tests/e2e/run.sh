#!/usr/bin/env bash
# Runs every end-to-end test script tests/e2e/test_*.sh against $TRAPEZE (the
# real binary, built with sanitizers by `make test`), two at a time, and ends
# with the "N passed, N failed" line that CI reads.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${TRAPEZE:=$root/trapeze}"
export TRAPEZE ROOT="$root"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
scripts=("$here"/test_*.sh)
[ -e "${scripts[0]}" ] || { echo "no end-to-end tests found"; echo "0 passed, 0 failed"; exit 1; }

run_one() {
    local script=$1 name
    name=$(basename "$script" .sh)
    local start=$SECONDS
    if (cd "$root" && bash "$script") >"$2/$name.log" 2>&1; then
        echo "PASS $name ($((SECONDS - start))s)" >"$2/$name.result"
    else
        echo "FAIL $name ($((SECONDS - start))s)" >"$2/$name.result"
    fi
}
export -f run_one
printf '%s\n' "${scripts[@]}" | xargs -P 2 -I{} bash -c 'run_one "$1" "$2"' _ {} "$logs"

passed=0 failed=0
for script in "${scripts[@]}"; do
    name=$(basename "$script" .sh)
    result=$(cat "$logs/$name.result" 2>/dev/null || echo "FAIL $name (no result)")
    echo "$result"
    case $result in
    PASS*) passed=$((passed + 1)) ;;
    *) failed=$((failed + 1)); sed 's/^/    /' "$logs/$name.log" | tail -n 40 ;;
    esac
done
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
