#!/usr/bin/env bash
# Traces and trace diagrams through the command line:
#   - `trapeze trace`: every golden diagram of tests/trace/ is made again
#     byte for byte, and graphviz (the layout its first lines name)
#     accepts it; --svg and --png render through graphviz itself;
#   - a diagram's counts are the run's: over a whole run, each level's
#     instructions equal `run --json`'s and the traps equal the count of
#     `run --trace traps`; in an amplification tree the nodes' instructions
#     add up to the levels' totals and to its amplification;
#   - bad windows, unwritable files, a missing graphviz: one line, 125;
#   - --trace-file: the same lines as on stderr; an unwritable file, a
#     full disk, --trace-file without --trace: one line, 125; Ctrl-C stops
#     a traced run with the trace whole and exit 130.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP
EXIT_INTERRUPTED=130

# ---- Golden diagrams -----------------------------------------------------------------
n=0
for args in tests/trace/*.args; do
    name=${args%.args}
    n=$((n + 1))
    mapfile -t words < <(tr ' ' '\n' <"$args" | grep -v '^$')
    "$TRAPEZE" trace "${words[@]}" --dot - >"$T/got.dot" 2>"$T/err"
    status=$?
    e2e_checks=$((e2e_checks + 3))
    [ "$status" -eq 0 ] || fail "$name: trace exited $status: $(head -c 300 "$T/err")"
    cmp -s "$T/got.dot" "$name.dot" ||
        { fail "$name: the diagram differs from $name.dot:"; diff "$name.dot" "$T/got.dot" | head -n 20; }
    layout=$(sed -n 's|^// render: \([a-z]*\).*|\1|p' "$name.dot" | head -n 1)
    flags=()
    [ "$layout" = neato ] && flags=(-n2)
    "$layout" "${flags[@]}" -Tsvg "$name.dot" -o "$T/$(basename "$name").svg" 2>"$T/gv.err" ||
        fail "$name: $layout rejects it: $(head -c 300 "$T/gv.err")"
done
e2e_checks=$((e2e_checks + 1))
[ "$n" -ge 8 ] || fail "only $n golden diagrams in tests/trace"

# Rendered by graphviz itself.
run_capture "$TRAPEZE" trace --stack c,asm --to 30 --svg "$T/a.svg" programs/traps.s
expect_status 0 "trace --svg"
e2e_checks=$((e2e_checks + 1))
grep -q '<svg' "$T/a.svg" || fail "trace --svg did not write an SVG"
run_capture "$TRAPEZE" trace --depth 2 --diagram tree --png "$T/a.png" programs/traps.s
expect_status 0 "trace --png"
e2e_checks=$((e2e_checks + 1))
[ "$(head -c 4 "$T/a.png" | od -An -tx1 | tr -d ' ')" = 89504e47 ] || fail "trace --png did not write a PNG"

# ---- The counts are the run's -------------------------------------------------------------
level_of() { sed -n "s|^  // level $2 instructions \([0-9]*\).*|\1|p" "$1"; }
traps_of() { sed -n 's|^  // traps \([0-9]*\)$|\1|p' "$1"; }
for under in "" "--vmm te" "--stack c,asm" "--depth 3" "--stack asm,asm"; do
    mapfile -t opts < <(tr ' ' '\n' <<<"$under" | grep -v '^$')
    prog=programs/traps.s
    "$TRAPEZE" trace "${opts[@]}" --dot "$T/whole.dot" "$prog" 2>"$T/err" || fail "trace ${under:-bare}: $(cat "$T/err")"
    "$TRAPEZE" run "${opts[@]}" --json "$prog" >"$T/run.json" 2>/dev/null
    "$TRAPEZE" run "${opts[@]}" --trace traps "$prog" >/dev/null 2>"$T/traps"
    want_traps=$(sed -n 's/^trapeze: \([0-9]*\) traps\{0,1\}: arose.*/\1/p' "$T/traps")
    e2e_checks=$((e2e_checks + 1))
    [ "$(traps_of "$T/whole.dot")" = "$want_traps" ] ||
        fail "trace ${under:-bare}: $(traps_of "$T/whole.dot") traps in the diagram, run --trace traps counts $want_traps"
    levels=$(jq '.levels | length // 0' "$T/run.json")
    if [ "$levels" -eq 0 ]; then
        e2e_checks=$((e2e_checks + 1))
        [ "$(level_of "$T/whole.dot" 0)" = "$(jq .instructions "$T/run.json")" ] ||
            fail "trace bare: $(level_of "$T/whole.dot" 0) instructions, run --json $(jq .instructions "$T/run.json")"
    fi
    for ((L = 0; L < levels; L++)); do
        e2e_checks=$((e2e_checks + 1))
        want=$(jq ".levels[$L].instructions" "$T/run.json")
        [ "$(level_of "$T/whole.dot" "$L")" = "$want" ] ||
            fail "trace ${under}: level $L ran $(level_of "$T/whole.dot" "$L") instructions in the diagram, $want in run --json"
    done
done
# A tree's nodes add up to its totals, and those to its amplification.
for args in tests/trace/depth3_tree.args tests/trace/demo_tree.args; do
    dot=${args%.args}.dot
    e2e_checks=$((e2e_checks + 1))
    sums=$(grep -o 'L[0-9] ran [0-9]* instruction' "$dot" |
        awk '{ s[substr($1, 2)] += $3 } END { for (l in s) print l, s[l] }' | sort)
    totals=$(sed -n 's|^  // level \([0-9]*\) instructions \([0-9]*\).*|\1 \2|p' "$dot" | awk '$2 > 0' | sort)
    [ "$sums" = "$totals" ] || fail "$dot: the nodes add up to '$sums', the totals say '$totals'"
    e2e_checks=$((e2e_checks + 1))
    all=$(sed -n 's|^  // level [0-9]* instructions \([0-9]*\).*|\1|p' "$dot" | awk '{ s += $1 } END { print s + 0 }')
    [ "$all" = "$(sed -n 's|^  // amplification \([0-9]*\)$|\1|p' "$dot")" ] || fail "$dot: the levels add up to $all, not its amplification"
done

# ---- Errors ---------------------------------------------------------------------------------
bad() { # bad DESCRIPTION REGEX ARGS...: one line on stderr, exit 125
    local what=$1 regex=$2
    shift 2
    run_capture "$TRAPEZE" trace "$@"
    expect_status "$EXIT_BAD_INPUT" "$what"
    expect_lines err 1 "$what: one line"
    expect_match err "$regex" "$what"
}
bad "an empty window" "window is empty: --from 10 is after --to 5" --from 10 --to 5 --dot - programs/traps.s
bad "a window past the end" "after the run's end" --from 1000000 --dot - programs/traps.s
bad "a window without a trap" "no trap in steps 1\.\.3 " --from 1 --to 3 --dot - programs/traps.s
bad "a tree at a step that ran directly" "no trap at step 3: its instruction ran directly" \
    --vmm te --diagram tree --insn 3 --dot - programs/traps.s
bad "no trap at all" "no trap in steps" --dot - programs/hello.s
bad "--insn with --from" "not both" --insn 3 --from 1 --dot - programs/traps.s
bad "--at for a sequence" "--at is for --diagram memory" --at 3 --dot - programs/traps.s
bad "a window for a map" "use --at STEP" --diagram memory --from 3 --dot - programs/traps.s
bad "no output" "give --dot FILE, --svg FILE or --png FILE" programs/traps.s
bad "two outputs" "one output only" --dot a.dot --svg b.svg programs/traps.s
bad "a bad kind" "expected sequence, tree or memory, got 'pie'" --diagram pie --dot - programs/traps.s
bad "a bad step" "--from: expected a step number, got 'ten'" --from ten --dot - programs/traps.s
bad "an unwritable file" "cannot write '/nonexistent/x.svg'" --svg /nonexistent/x.svg programs/traps.s
bad "an unwritable dot file" "cannot write '/nonexistent/x.dot'" --dot /nonexistent/x.dot programs/traps.s
run_capture env PATH=/nonexistent "$TRAPEZE" trace --svg "$T/x.svg" programs/traps.s
expect_status "$EXIT_BAD_INPUT" "graphviz missing"
expect_match err "cannot run graphviz's neato .*make deps installs graphviz" "graphviz missing: says what to do"

# ---- The debugger's `trace save`: the steps so far, replayed -----------------------------------
printf '%s\n' 'until-trap' 'until-trap' 'step 40' "trace save $T/s.dot" "trace save $T/s.svg" \
    "trace save $T/t.dot tree" "trace save $T/m.dot memory" "trace save $T/x.txt" "trace save $T/y.dot 5 2" \
    "trace save $T/z.dot tree 3" 'step' >"$T/save.cmds"
run_capture "$TRAPEZE" debug --stack c,asm -x "$T/save.cmds" programs/traps.s
expect_match out "wrote $T/s.dot: the sequence of 19 traps" "trace save: says what it wrote"
expect_match out "wrote $T/t.dot: the tree of [0-9]+ traps" "trace save tree: the program's latest trap"
expect_match out "wrote $T/m.dot: the memory map" "trace save memory"
expect_match out "'$T/x.txt': the file's name says what to write: .dot \(or .gv\), .svg or .png" "trace save: a name with no format"
expect_match out "the window is empty: 5 is after 2" "trace save: an empty window"
expect_match out "the program took no trap at step 3: its instruction ran directly" "trace save tree at a step without a trap"
expect_match out "L2 0x[0-9a-f]* <puts\+1>" "trace save leaves the session where it was"
e2e_checks=$((e2e_checks + 5))
grep -q '<svg' "$T/s.svg" || fail "trace save s.svg: not an SVG"
for d in s t m; do
    layout=$(sed -n 's|^// render: \([a-z]*\).*|\1|p' "$T/$d.dot" | head -n 1)
    flags=()
    [ "$layout" = neato ] && flags=(-n2)
    "$layout" "${flags[@]}" -Tsvg "$T/$d.dot" -o /dev/null 2>"$T/gv.err" || fail "trace save $d.dot: $layout rejects it"
done
# The same traps, told the same, as `trapeze trace` of the same window.
"$TRAPEZE" trace --stack c,asm --to 40 --dot "$T/same.dot" programs/traps.s
labels() { grep -o 'label="[^"]*"' "$1" | grep -v 'ran \|debug session\|under '; }
cmp -s <(labels "$T/same.dot") <(labels "$T/s.dot") ||
    { fail "trace save: not the traps trapeze trace draws for steps 0..40"; diff <(labels "$T/same.dot") <(labels "$T/s.dot") | head; }

# ---- --trace-file ------------------------------------------------------------------------------
"$TRAPEZE" run --stack c,asm --trace traps programs/traps.s >/dev/null 2>"$T/stderr.trace"
"$TRAPEZE" run --stack c,asm --trace traps --trace-file "$T/file.trace" programs/traps.s >/dev/null 2>"$T/summary"
e2e_checks=$((e2e_checks + 2))
grep '^\[' "$T/stderr.trace" | cmp -s - "$T/file.trace" || fail "--trace-file: not the lines of stderr"
grep -q '^\[' "$T/summary" && fail "--trace-file: trace lines still on stderr"
"$TRAPEZE" run --trace insns --max-steps 5000 programs/sort.s >/dev/null 2>"$T/stderr.insns"
"$TRAPEZE" run --trace insns --max-steps 5000 --trace-file "$T/file.insns" programs/sort.s >/dev/null 2>/dev/null
e2e_checks=$((e2e_checks + 1))
grep '^\[' "$T/stderr.insns" | cmp -s - "$T/file.insns" || fail "--trace insns --trace-file: not the lines of stderr"
"$TRAPEZE" equiv --stack c,asm --trace traps --trace-file "$T/equiv.trace" programs/traps.s >/dev/null 2>&1
e2e_checks=$((e2e_checks + 1))
cmp -s "$T/equiv.trace" "$T/file.trace" || fail "equiv --trace-file: not run's trace"

run_capture "$TRAPEZE" run --trace traps --trace-file /nonexistent/t programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--trace-file unwritable"
expect_match err "--trace-file: cannot write '/nonexistent/t'" "--trace-file unwritable: names it"
run_capture "$TRAPEZE" run --trace-file "$T/t" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--trace-file alone"
expect_match err "give --trace too" "--trace-file alone: says why"
if [ -w /dev/full ]; then
    run_capture "$TRAPEZE" run --vmm te --trace traps --trace-file /dev/full programs/traps.s
    expect_status "$EXIT_BAD_INPUT" "--trace-file on a full disk"
    expect_match err "writing '/dev/full' failed" "--trace-file on a full disk: says so"
fi

# Ctrl-C: the run stops at its next trap, the trace is whole, the summary says so.
cat >"$T/spin.s" <<'EOF'
; rtmr for ever: a trap at every instruction under the C VMM
_start:
        rtmr r2
        beq r0, r0, _start
EOF
"$TRAPEZE" run --vmm te --trace traps --trace-file "$T/spin.trace" "$T/spin.s" >/dev/null 2>"$T/spin.err" &
pid=$!
for _ in $(seq 50); do [ -s "$T/spin.trace" ] && break; sleep 0.1; done
kill -INT "$pid"
wait "$pid"
status=$?
err=$(cat "$T/spin.err")
expect_status "$EXIT_INTERRUPTED" "Ctrl-C during a traced run"
expect_match err "interrupted at pc 0x[0-9a-f]* \(Ctrl-C\): the trace stops there" "Ctrl-C: the summary says so"
e2e_checks=$((e2e_checks + 1))
[ "$(tail -c 1 "$T/spin.trace" | od -An -c | tr -d ' ')" = '\n' ] || fail "Ctrl-C: the trace's last line is cut"

finish
