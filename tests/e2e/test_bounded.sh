#!/usr/bin/env bash
# Every run is bounded by its budget whatever the variant: with a variant
# under which a monitor's own lpsw executes in user mode (the asm VMM above
# the bottom cannot switch to its guest), the monitors run on without the
# program ever taking a step; run, equiv and debug stop all the same, say
# why, and exit with the budget's status.  (Before, stacks with an asm
# level above the bottom ignored --max-steps and never returned.)
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
V=tests/variants/pg_lpsw_exec.var

for spec in asm,asm c,asm,asm asm,asm,asm; do
    run_capture timeout 60 "$TRAPEZE" run --isa "$V" --stack "$spec" programs/hello.s
    expect_status "$EXIT_BUDGET" "run on $spec under $V ends with the budget's status"
    expect_match err '^trapeze: stalled: the monitors ran [0-9]+ steps without a step of the program' \
        "run on $spec: says it stalled"
    run_capture timeout 60 "$TRAPEZE" run --json --isa "$V" --stack "$spec" programs/hello.s
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stalled == true and .stop == "budget"' <<<"$out" >/dev/null ||
        fail "run --json on $spec: no \"stalled\": $(head -c 300 <<<"$out")"
done

run_capture timeout 60 "$TRAPEZE" equiv --isa "$V" --stack asm,asm programs/hello.s
expect_status "$EXIT_NOT_EQUIVALENT" "equiv on asm,asm under $V ends, not equivalent"

printf 'continue\nquit\n' >"$E2E_TMP/cont.cmds"
run_capture timeout 60 "$TRAPEZE" debug --isa "$V" --stack asm,asm programs/hello.s <"$E2E_TMP/cont.cmds"
expect_status 0 "debug on asm,asm under $V: the session ends"
expect_match out 'stopped: the monitors ran [0-9]+ steps without a step of the program' \
    "debug: continue stops and says why"

# The budget is the program's steps, and a budget stop is where its state is
# whole, at every depth.
printf '_start: addi r1, r1, 1\n        b _start\n' >"$E2E_TMP/loop.s"
for spec in bare c c,asm asm,asm; do
    run_capture timeout 60 "$TRAPEZE" run --json --max-steps 5000 --stack "$spec" "$E2E_TMP/loop.s"
    expect_status "$EXIT_BUDGET" "a loop on $spec stops at its budget"
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stop == "budget" and .steps == 5000 and .regs[1] == 2500' <<<"$out" >/dev/null ||
        fail "a loop on $spec: not stopped after exactly 5000 of its steps: $(jq -c '{stop,steps,regs}' <<<"$out")"
done

# ---- Hostile input (issue 17): every file, loop and budget capped ----------------
# A file read whole must be a regular file of bounded size: a FIFO (which
# would block), a device (/dev/zero: the host's memory) or a directory is a
# one-line error naming it, exit 125, at once.
mkfifo "$E2E_TMP/fifo"
check_refused() { # DESCRIPTION REGEX CMD...
    local what=$1 regex=$2
    shift 2
    run_capture timeout 20 "$@"
    expect_status "$EXIT_BAD_INPUT" "$what"
    expect_match err "$regex" "$what: says why"
    expect_lines err 1 "$what: one line"
}
check_refused "a FIFO as the program" "^$E2E_TMP/fifo: error: cannot read the source file: not a regular file \\(a FIFO\\)$" \
    "$TRAPEZE" run "$E2E_TMP/fifo"
check_refused "/dev/zero as the program" "^/dev/zero: error: cannot read the source file: not a regular file \\(a character device\\)$" \
    "$TRAPEZE" run /dev/zero
check_refused "--input /dev/zero" "^trapeze run: --input: cannot open '/dev/zero': not a regular file \\(a character device\\)$" \
    "$TRAPEZE" run --input /dev/zero programs/hello.s
check_refused "--input a FIFO" "--input: cannot open '$E2E_TMP/fifo': not a regular file \\(a FIFO\\)$" \
    "$TRAPEZE" equiv --input "$E2E_TMP/fifo" programs/hello.s
check_refused "--input a directory" "--input: cannot open '$E2E_TMP': is a directory$" \
    "$TRAPEZE" run --input "$E2E_TMP" programs/hello.s
head -c $((1024 * 1024 + 1)) /dev/zero >"$E2E_TMP/big.input"
check_refused "--input over 1 MiB" "--input: cannot open '$E2E_TMP/big.input': larger than 1 MiB$" \
    "$TRAPEZE" run --input "$E2E_TMP/big.input" programs/hello.s
check_refused "--isa a FIFO" "^$E2E_TMP/fifo: error: cannot read variant file: not a regular file \\(a FIFO\\)$" \
    "$TRAPEZE" run --isa "$E2E_TMP/fifo" programs/hello.s
{ echo 'variant big'; head -c 70000 /dev/zero | tr '\0' '#'; echo; } >"$E2E_TMP/big.var"
check_refused "a variant file over 64 KiB" "^$E2E_TMP/big.var: error: cannot read variant file: larger than 64 KiB$" \
    "$TRAPEZE" run --isa "$E2E_TMP/big.var" programs/hello.s
printf 'variant x\nbase /dev/zero\n' >"$E2E_TMP/base.var"
check_refused "a variant based on /dev/zero" "^$E2E_TMP/base.var:2:6: error: cannot read variant file '/dev/zero': not a regular file \\(a character device\\)$" \
    "$TRAPEZE" run --isa "$E2E_TMP/base.var" programs/hello.s
printf '.include "fifo"\n_start: halt\n' >"$E2E_TMP/inc_fifo.s"
run_capture timeout 20 "$TRAPEZE" asm "$E2E_TMP/inc_fifo.s" -o "$E2E_TMP/x.img"
expect_status "$EXIT_BAD_INPUT" "including a FIFO"
expect_match err "inc_fifo.s:1:10: error: cannot open include file '$E2E_TMP/fifo': not a regular file \\(a FIFO\\)" \
    "including a FIFO: says why, where"

# The include fan-out: 16 files of four includes of the next, then a
# 1000-line leaf (4^15 * 1000 lines) ran until the host's memory was gone.
mkdir "$E2E_TMP/fan"
for i in $(seq 0 14); do
    n=$((i + 1))
    printf '.include "f%d.inc"\n.include "f%d.inc"\n.include "f%d.inc"\n.include "f%d.inc"\n' $n $n $n $n \
        >"$E2E_TMP/fan/f$i.inc"
done
seq 1000 | sed 's/^/; leaf line /' >"$E2E_TMP/fan/f15.inc"
printf '.include "f0.inc"\n_start: halt\n' >"$E2E_TMP/fan/main.s"
run_capture timeout 60 "$TRAPEZE" asm "$E2E_TMP/fan/main.s" -o "$E2E_TMP/fan.img"
expect_status "$EXIT_BAD_INPUT" "the include fan-out stops"
expect_match err "^$E2E_TMP/fan/f15.inc:[0-9]+:1: error: the program reads more than 1000000 lines or 64 MiB in all" \
    "the include fan-out: says why, where"

# Images: what the reader cannot stand behind is a file:line error; the
# listing writer used to loop for ever on two line records at one address.
printf 'trapeze-image 1\nentry 0x10\nfile 0 "a.s"\nsegment 0x10 2\n1 2\nline 0x10 0 1\nline 0x10 0 2\nend\n' \
    >"$E2E_TMP/two_lines.img"
check_refused "two line records at one address" "^$E2E_TMP/two_lines.img:7:1: error: a second 'line' record for address 0x10$" \
    "$TRAPEZE" disasm "$E2E_TMP/two_lines.img"
printf 'trapeze-image 1\nentry 0x10\nsegment 0x10 4\n1 2 3 4\nsegment 0x12 1\n5\nend\n' >"$E2E_TMP/overlap.img"
check_refused "overlapping segments" "^$E2E_TMP/overlap.img:5:1: error: segments at 0x10 and 0x12 overlap$" \
    "$TRAPEZE" run "$E2E_TMP/overlap.img"
check_refused "an image that is a FIFO" "not a regular file \\(a FIFO\\)$" "$TRAPEZE" disasm "$E2E_TMP/fifo"
# An 88-byte image whose file record names /dev/zero: the TUI's code pane
# read it until the host's memory ran out (a FIFO: it blocked).  Its source
# is now simply not shown, and q still ends it.
printf 'trapeze-image 1\nentry 0x00000010\nfile 0 "/dev/zero"\nsegment 0x00000010 1\n00000000\nline 0x00000010 0 1\nend\n' \
    >"$E2E_TMP/zero.img"
printf 'trapeze-image 1\nentry 0x00000010\nfile 0 "%s"\nsegment 0x00000010 1\n00000000\nline 0x00000010 0 1\nend\n' \
    "$E2E_TMP/fifo" >"$E2E_TMP/fifo_src.img"
if command -v tmux >/dev/null; then
    sock=trapeze-bounded-$$
    trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
    for img in zero fifo_src; do
        tmux -L "$sock" new-session -d -s "$img" -x 100 -y 30 \
            "$(printf '%q ' timeout --foreground 60 "$TRAPEZE" tui "$E2E_TMP/$img.img"); echo TUI-EXITED-\$?; sleep 600"
        shown=no
        for _ in $(seq 300); do
            tmux -L "$sock" capture-pane -p -t "$img" | grep -q '=>000010' && { shown=yes; break; }
            sleep 0.1
        done
        tmux -L "$sock" send-keys -t "$img" q
        ended=no
        for _ in $(seq 300); do
            tmux -L "$sock" capture-pane -p -t "$img" | grep -q 'TUI-EXITED-0' && { ended=yes; break; }
            sleep 0.1
        done
        e2e_checks=$((e2e_checks + 2))
        [ "$shown" = yes ] || fail "tui on an image whose source is $img: the code pane never showed"
        [ "$ended" = yes ] || fail "tui on an image whose source is $img: q did not end it with 0: $(tmux -L "$sock" capture-pane -p -t "$img" | tail -3)"
    done
else
    fail "tmux is missing (make deps)"
fi

# The real budget: a privileged-instruction loop at --depth 8 (about 3700
# real steps per step of the program) stops at --max-real-steps with the
# budget's status and says so; the default is documented.
printf '_start: rtmr r2\n        b _start\n' >"$E2E_TMP/priv.s"
run_capture timeout 120 "$TRAPEZE" run --depth 8 --max-real-steps 20000000 "$E2E_TMP/priv.s"
expect_status "$EXIT_BUDGET" "a priv loop at --depth 8 stops at the real budget"
expect_match err '^trapeze: stopped: the real budget ran out: the levels ran 20000000 real steps \(--max-real-steps\) for [0-9]+ steps of the program$' \
    "the real budget: says so"
run_capture timeout 120 "$TRAPEZE" run --json --stack asm,asm --max-real-steps 1000000 "$E2E_TMP/priv.s"
expect_status "$EXIT_BUDGET" "run --json on asm,asm stops at the real budget"
e2e_checks=$((e2e_checks + 1))
jq -e '.real_budget == true and .stop == "budget"' <<<"$out" >/dev/null ||
    fail "run --json: no \"real_budget\": $(head -c 300 <<<"$out")"
run_capture "$TRAPEZE" run --help
expect_match out '--max-real-steps N +stop after N steps of the real machine.*\(default 10000000000\)' \
    "run --help documents --max-real-steps and its default"
check_refused "--max-real-steps 0" "expected a number of steps from 1, got '0'" \
    "$TRAPEZE" run --max-real-steps 0 programs/hello.s
run_capture timeout 120 "$TRAPEZE" equiv --depth 3 --max-real-steps 5000000 "$E2E_TMP/priv.s"
expect_status "$EXIT_BUDGET" "equiv of a priv loop at --depth 3 stops at the real budget"
expect_match err '^trapeze equiv: no verdict: the real budget ran out \(--max-real-steps 5000000, all runs of both sides together\) before both runs ended$' \
    "equiv: the real budget, in one line"
# Its bisection is bounded by the same budget: critical.s differs under
# x86like; a budget that the two first runs fit in cuts the bisection.
run_capture timeout 120 "$TRAPEZE" equiv --json --isa x86like programs/critical.s
steps=$(jq '.bare.steps + .vmm.steps' <<<"$out" 2>/dev/null || echo 0)
run_capture timeout 120 "$TRAPEZE" equiv --isa x86like --max-real-steps $((steps + 1)) programs/critical.s
expect_status "$EXIT_BUDGET" "equiv's bisection stops at the real budget"
expect_match err '^trapeze equiv: not equivalent, but the real budget ran out .* while looking for the first difference: it comes after step [0-9]+ and by step [0-9]+$' \
    "equiv's bisection: says what it knows"

# Ctrl-C stops equiv within a fraction of a second (the loop would run
# 10^10 steps a side), with its own status and a line.
"$TRAPEZE" equiv "$E2E_TMP/loop.s" >"$E2E_TMP/int.out" 2>"$E2E_TMP/int.err" &
pid=$!
sleep 2
kill -INT "$pid"
status=none
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || { wait "$pid"; status=$?; break; }; sleep 0.1; done
[ "$status" = none ] && { kill -KILL "$pid"; wait "$pid"; status=999; }
err=$(cat "$E2E_TMP/int.err")
expect_status 130 "equiv stops at Ctrl-C"
expect_match err '^trapeze equiv: no verdict: interrupted \(Ctrl-C\) after [0-9]+ real steps before both runs ended$' \
    "equiv at Ctrl-C: says so"

finish
