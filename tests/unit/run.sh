#!/usr/bin/env bash
# Runs the Criterion unit tests (make unit): every test, 2 at a time, under
# LeakSanitizer.  A test runs in a worker process, whose leak report
# Criterion prints but does not count, so this script fails the run when
# any report appears; the runner process itself skips its leak check
# (tests/unit/main.c says why).  First it proves the check works: the
# canary test leaks on purpose and must be caught.
#
#   bash tests/unit/run.sh build/san/unit_tests [criterion options]
set -u
bin=${1:?usage: run.sh UNIT_TESTS [options]}
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

TRAPEZE_LEAK_CANARY=1 "$bin" --filter 'leak_canary/*' >"$log" 2>&1
if ! grep -q "ERROR: LeakSanitizer" "$log"; then
    cat "$log"
    echo "unit: the leak canary was not caught: leaks would go unseen"
    exit 1
fi

"$bin" --jobs 2 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if grep -q "ERROR: LeakSanitizer" "$log"; then
    echo "unit: a test leaked (the LeakSanitizer report above names it)"
    exit 1
fi
exit "$status"
