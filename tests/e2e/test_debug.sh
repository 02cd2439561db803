#!/usr/bin/env bash
# trapeze debug: the scripted sessions of tests/debug/ (commands on stdin,
# echoed; stdout compared with NAME.expected), -x FILE, and bad command
# lines.  See tests/debug/README.md.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

for cmds in tests/debug/*.cmds; do
    name=${cmds%.cmds}
    base=$(basename "$name")
    read -r -a args <"$name.args"
    want_status=0
    [ -f "$name.status" ] && want_status=$(cat "$name.status")
    run_capture "$TRAPEZE" debug "${args[@]}" <"$cmds"
    expect_status "$want_status" "debug session $base"
    e2e_checks=$((e2e_checks + 1))
    if ! diff -u "$name.expected" "$E2E_TMP/out" >"$E2E_TMP/diff"; then
        fail "debug session $base: output differs from $name.expected:"
        head -n 40 "$E2E_TMP/diff"
    fi
done

# The story the issue asks for, checked line by line so that a failure
# says which part broke: a guest's privileged instruction traps, the level
# it arose at and the level that emulated it are named, and reverse-step
# returns to the instruction itself.
story=$'until-trap\nreverse-step\ninfo traps\nstep\n'
run_capture "$TRAPEZE" debug --vmm te programs/traps.s <<<"$story"
expect_status 0 "story: status"
expect_match out '^trap 1: PRIV srr r2, r3 at L1 guest, supervisor -> emulated by L0 c; pc 0x000017 <_start\+7>$' \
    "story: the trap, where it arose and how it was handled"
expect_match out '^back 1 step, at step 7$' "story: reverse-step goes back one step"
expect_match out '^L1 0x000017 <_start\+7>: srr r2, r3' "story: back at the privileged instruction"
expect_match out $'\\(trapeze\\) info traps\nno traps yet' "story: the trap is undone with it"

# `step N` goes without looking at every boundary while the level is far
# from its end, bare and under monitors, and an address breakpoint on the
# real machine is a fetch stop; each must land exactly where the checked
# path lands (a watchpoint on a word never written forces that path),
# traps and all, and so must going back from there.
plain=$'step 5000\ninfo registers\ninfo traps 3\nstep 333\ninfo registers\nreverse-step 200\ninfo registers\n'
# (continue with no breakpoint goes in whole pieces, under the C VMM a cut
# of its own: compared only where a breakpoint is set)
more=$'continue\ninfo registers\nreverse-step 3\ninfo registers\n'
for stack in bare asm c c,asm; do
    run_capture "$TRAPEZE" debug --max-steps 30000 --stack "$stack" programs/timer.s <<<"$plain"
    fast=$(grep -v '^(trapeze) *$' <<<"$out")
    run_capture "$TRAPEZE" debug --max-steps 30000 --stack "$stack" programs/timer.s <<<$'watch 0xfff0\n'"$plain"
    checked=$(grep -v '^(trapeze) *$' <<<"$out" | sed '/atchpoint 1\|watch 0xfff0/d')
    e2e_checks=$((e2e_checks + 1))
    [ "$fast" = "$checked" ] && grep -q 'r1' <<<"$fast" ||
        fail "step N on $stack: the fast path and the checked one differ: $(diff <(echo "$fast") <(echo "$checked") | head -5)"
    run_capture "$TRAPEZE" debug --max-steps 30000 --stack "$stack" programs/timer.s <<<$'break 0xfffff0\n'"$plain$more"
    stops=$(grep -v '^(trapeze) *$' <<<"$out" | sed '/reakpoint 1\|break 0xfffff0/d')
    run_capture "$TRAPEZE" debug --max-steps 30000 --stack "$stack" programs/timer.s <<<$'watch 0xfff0\n'"$plain$more"
    checked=$(grep -v '^(trapeze) *$' <<<"$out" | sed '/atchpoint 1\|watch 0xfff0/d')
    e2e_checks=$((e2e_checks + 1))
    [ "$stops" = "$checked" ] ||
        fail "$stack: a breakpoint never hit changes the run: $(diff <(echo "$stops") <(echo "$checked") | head -5)"
done

# Under the C VMM an address breakpoint is a fetch stop too, on the real
# machine, on a guest's interpreter and in bt's translated blocks: each
# hit lands where the checked path lands, hit counts
# both ways included (the trap logs may differ: the checked path goes one
# step a call, so the VMM's own timer is never absorbed); and a breakpoint
# never hit leaves the run as it is with none, traps and all.
hits=$'continue\ncontinue\ncontinue\ninfo registers\ncontinue\ncontinue\ninfo breakpoints\nreverse-continue\nreverse-continue\ninfo b\ninfo registers\nstep 3000\ninfo breakpoints\ninfo registers\n'
no_traps() { grep -v '^(trapeze) *$\|^trap [0-9]*:\|^\.\.\. [0-9]* traps' <<<"$out"; }
while read -r prog opts; do
    read -r -a opt <<<"$opts"
    run_capture "$TRAPEZE" debug "${opt[@]}" "programs/toyos/$prog" <<<$'break tick\nbreak sys_write\n'"$hits"
    stops=$(no_traps)
    run_capture "$TRAPEZE" debug "${opt[@]}" "programs/toyos/$prog" <<<$'break tick\nbreak sys_write\nwatch 0xfff0\n'"$hits"
    checked=$(no_traps | sed '/atchpoint 3\|watch 0xfff0/d')
    e2e_checks=$((e2e_checks + 1))
    [ "$stops" = "$checked" ] && [ "$(grep -c '^breakpoint [12] (L' <<<"$stops")" -ge 6 ] &&
        grep -q 'hit [0-9]* times' <<<"$stops" ||
        fail "$prog $opts: breakpoints hit elsewhere than on the checked path: $(diff <(echo "$stops") <(echo "$checked") | head -5)"
done <<'EOF_MODES'
toyos.s --vmm te
toyos_paged.s --vmm te
toyos.s --vmm hvm
toyos_paged.s --vmm interp
toyos_paged.s --stack c,asm
toyos_pv_paged.s --isa x86like --vmm pv
toyos.s --isa x86like --vmm hw
toyos_paged.s --isa x86like --vmm hw-slt
toyos.s --isa x86like --vmm bt
EOF_MODES
never=$'continue\ninfo registers\ninfo traps 6\nreverse-step 3\ninfo registers\n'
for opts in "--vmm te programs/toyos/toyos_paged.s" "--stack c,asm programs/toyos/toyos.s" \
    "--isa x86like --vmm hw-slt programs/toyos/toyos_paged.s"; do
    read -r -a opt <<<"$opts"
    run_capture "$TRAPEZE" debug --max-steps 30000 "${opt[@]}" <<<"$never"
    plain=$out
    run_capture "$TRAPEZE" debug --max-steps 30000 "${opt[@]}" <<<$'break 0x7000\n'"$never"
    e2e_checks=$((e2e_checks + 1))
    [ "$plain" = "$(sed '/reakpoint 1\|break 0x7000/d' <<<"$out")" ] && grep -q 'r1' <<<"$plain" ||
        fail "$opts: a breakpoint never hit changes the run: $(diff <(echo "$plain") <(sed '/reakpoint 1\|break 0x7000/d' <<<"$out") | head -5)"
done

# The hybrid asm VMM (programs/vmm/vmm_hybrid.s) interprets its kernel:
# no word of it is ever fetched.  A breakpoint there still hits, and
# where its interpreter stands between two instructions the level is shown
# whole, live: every stop below (breakpoints, step, reverse-step,
# reverse-continue, next) at the step and with the registers of the bare
# run; stopped inside the interpreter, the level is shown as at its last
# trap, saying so; and the gate's faults are told as the interpreter's.
hybrid=$'break work\ncontinue\ncontinue\ninfo registers\nstep\ninfo registers\nstep 2\ninfo registers\nreverse-step\ninfo registers\nreverse-continue\ninfo registers\nnext\ninfo registers\ninfo breakpoints\ndelete\nbreak next_round+10\nbreak handler\ncontinue\ncontinue\ncontinue\ninfo registers\ncontinue\ncontinue\ninfo registers\ninfo breakpoints\ndelete\nstep 2000\ninfo registers\nreverse-step 1500\ninfo registers\nreverse-step 7\ninfo registers\n'
states() { grep -A5 '^L[0-9] [a-z]*: critical.s, step' <<<"$out" | sed 's/^L[0-9] [a-z]*: critical.s, \(step [0-9]*\).*/\1/'; }
run_capture "$TRAPEZE" debug --isa hybrid programs/critical.s <<<"$hybrid"
bare_states=$(states)
bare_hits=$(grep -c '^breakpoint [0-9] (L0)' <<<"$out")
bare_counts=$(grep 'hit [0-9]* time' <<<"$out" | sed 's/ at L[0-9] / at /')
for stack in asm c,asm; do
    run_capture "$TRAPEZE" debug --isa hybrid --stack $stack --asm-vmm programs/vmm/vmm_hybrid.s programs/critical.s <<<"$hybrid"
    level=$(( ${#stack} > 3 ? 2 : 1 ))
    e2e_checks=$((e2e_checks + 1))
    [ "$(states | sed 's/^L[0-9] [a-z]*: critical.s, //')" = "$bare_states" ] && [ "$(wc -l <<<"$bare_states")" -ge 70 ] ||
        fail "hybrid on $stack: stops or registers differ from the bare run's: $(diff <(echo "$bare_states") <(states) | head -6)"
    e2e_checks=$((e2e_checks + 1))
    [ "$(grep -c "^breakpoint [0-9] (L$level)" <<<"$out")" = "$bare_hits" ] &&
        [ "$(grep 'hit [0-9]* time' <<<"$out" | sed 's/ at L[0-9] / at /')" = "$bare_counts" ] ||
        fail "hybrid on $stack: the breakpoints hit $(grep -c "^breakpoint [0-9] (L$level)" <<<"$out") times, bare $bare_hits"
    expect_match out "^L$level guest: critical.s, step [0-9]+ \(interpreted by L$((level - 1)) asm VMM, at its step [0-9]+\)$" \
        "hybrid on $stack: the level is shown interpreted"
    expect_match out "^trap [0-9]+: MEM/bound .* at L$level guest, supervisor -> emulated by L$((level - 1)) asm" \
        "hybrid on $stack: the gate's fault is the interpreter's, not reflected"
done
run_capture "$TRAPEZE" debug --isa hybrid --stack asm --asm-vmm programs/vmm/vmm_hybrid.s programs/critical.s \
    <<<$'break work\ncontinue\nlevel 0\nstepi 3\nlevel 1\ninfo registers\n'
expect_match out '^L1 guest: critical.s, step [0-9]+ \(suspended: L0 asm VMM is handling its trap; shown as at its step [0-9]+\)$' \
    "hybrid: inside the interpreter the level is shown as at its last trap, and says so"

# The same story on a stack, the C VMM under the asm VMM (programs/vmm):
# the guest (L2) traps, the C VMM (L0) passes it up to the asm VMM (L1),
# which emulates it; the asm VMM's own privileged instructions are emulated
# by L0; the guest goes on; reverse-step at L2 goes back to its srr.
# Checked by pattern: the traps before it depend on vmm.s.
story=$'break _start+8\ncontinue\ninfo traps 8\ninfo levels\nreverse-step\n'
run_capture "$TRAPEZE" debug --stack c,asm programs/traps.s <<<"$story"
expect_status 0 "stack story: status"
expect_match out '^breakpoint 1 at L2 0x000018 <_start\+8>' "stack story: a breakpoint at the guest's level"
expect_match out '^trap [0-9]+: PRIV srr r2, r3 at L2 guest, supervisor -> emulated by L1 asm, passed up by L0 c; pc 0x000017 <_start\+7>$' \
    "stack story: the guest's srr, passed up by L0, emulated by L1"
expect_match out '^trap [0-9]+: PRIV [a-z]+.* at L1 asm, supervisor -> emulated by L0 c; pc .*' \
    "stack story: the asm VMM's own privileged instructions, emulated by L0"
expect_match out '^L2 0x000018 <_start\+8>: st r2, 10\(r0\)' "stack story: the guest goes on"
expect_match out '^\*> L2 guest: traps.s +step [0-9]+ +pc 0x000018 supervisor running$' "stack story: the guest runs"
expect_match out '^   L1 asm VMM +step [0-9]+ .* waiting: L2 guest: traps.s runs$' "stack story: its monitor waits"
expect_match out '^L2 0x000017 <_start\+7>: srr r2, r3' "stack story: reverse-step goes back to the srr"

# The issue's example: at depth 2, stopped where the guest's first system
# call is handled, the guest's registers are its own (the bare run's at that
# step), not a stale copy in the asm VMM's save area; while the monitors
# handle a trap the guest is shown suspended, as it was before the trap.
story=$'break trap SVC\ncontinue\ninfo regs\n'
run_capture "$TRAPEZE" debug --depth 2 programs/toyos/toyos.s <<<"$story"
steps=$(sed -n 's/^L2 guest: toyos.s, step \([0-9]*\)$/\1/p' <<<"$out")
e2e_checks=$((e2e_checks + 1))
if [ -z "$steps" ]; then
    fail "depth 2: no step count for the guest: ${out:0:400}"
else
    guest_regs=$(sed -n '/^L2 guest: toyos.s, step/,/^  pc/p' <<<"$out" | tail -n +2)
    bare=$("$TRAPEZE" debug programs/toyos/toyos.s <<<$'step '"$steps"$'\ninfo regs\n' 2>/dev/null)
    bare_regs=$(sed -n '/^L0 program: toyos.s, step/,/^  pc/p' <<<"$bare" | tail -n +2)
    [ -n "$guest_regs" ] && [ "$guest_regs" = "$bare_regs" ] ||
        fail "depth 2: the guest's registers at step $steps differ from the bare run's: $guest_regs vs $bare_regs"
fi
story=$'break trap SVC\ncontinue\ndelete\nlevel 0\nstep\nlevel 2\ninfo regs\n'
run_capture "$TRAPEZE" debug --depth 2 programs/toyos/toyos.s <<<"$story"
expect_match out '^L2 guest: toyos.s, step [0-9]+ \(suspended: L[01] [a-zA-Z ()]+ is handling its trap; shown as at its step [0-9]+\)$' \
    "depth 2: a guest whose trap a monitor handles is suspended"

# -x FILE reads the commands from a file and echoes them.
printf 'step 3\ninfo regs\n' >"$E2E_TMP/script"
run_capture "$TRAPEZE" debug -x "$E2E_TMP/script" programs/hello.s </dev/null
expect_status 0 "-x: status"
expect_match out '^\(trapeze\) step 3$' "-x: the command is echoed"
expect_match out '^L0 program: hello.s, step 3$' "-x: the commands ran"

# Errors on the command line: one line, the bad-input status.
run_capture "$TRAPEZE" debug
expect_status "$EXIT_BAD_INPUT" "no program"
expect_match err 'expected one PROGRAM' "no program: message"
run_capture "$TRAPEZE" debug --vmm nosuch programs/hello.s
expect_status "$EXIT_BAD_INPUT" "bad --vmm"
expect_match err -- '--vmm: expected te, hvm, interp, bt, hw, hw-slt or pv' "bad --vmm: message"
run_capture "$TRAPEZE" debug --json programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--json is not for debug"
expect_match err "unknown option '--json'" "--json is not for debug: message"
run_capture "$TRAPEZE" debug --help
e2e_checks=$((e2e_checks + 1))
grep -Eq -- '--json|--trace|--vms|--out-dir' <<<"$out" && fail "debug --help lists options debug refuses"
run_capture "$TRAPEZE" debug -x "$E2E_TMP/missing" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "missing -x file"
printf '_start: bogus r1\n' >"$E2E_TMP/bad.s"
run_capture "$TRAPEZE" debug "$E2E_TMP/bad.s" </dev/null
expect_status "$EXIT_BAD_INPUT" "bad source"
expect_match err 'bad.s:1:[0-9]+: error' "bad source: file:line:col message"
run_capture "$TRAPEZE" debug --help
expect_status 0 "--help"
expect_match out '\-x FILE' "--help names -x"

# Interactive, in tmux: tab completion of commands, info topics and
# labels, and the history.  Polls the screen, never the clock.  tmux is a
# dependency (make deps): without it these checks fail rather than vanish.
command -v tmux >/dev/null || fail "tmux is missing (make deps): the interactive checks did not run"
if command -v tmux >/dev/null; then
    sock=trapeze-test-$$
    tm() { tmux -L "$sock" "$@"; }
    trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$E2E_TMP"' EXIT
    wait_for() {
        e2e_checks=$((e2e_checks + 1))
        local i
        for ((i = 0; i < 300; i++)); do
            tm capture-pane -p -t "$pane" | grep -Eq -- "$1" && return 0
            sleep 0.1
        done
        fail "$2: the screen never showed /$1/:"
        tm capture-pane -p -t "$pane" | sed 's/^/    | /'
    }
    pane=dbg
    tm new-session -d -s dbg -x 100 -y 30 \
        "$(printf '%q ' "$TRAPEZE" debug programs/traps.s); echo DBG-EXITED; sleep 600"
    wait_for '^\(trapeze\)' "interactive: the prompt"
    tm send-keys -t dbg 'brea' Tab 'at_s' Tab Enter
    wait_for 'breakpoint 1 at L0 0x000024 <at_svc>' "interactive: completed 'break at_svc'"
    tm send-keys -t dbg 'info re' Tab Enter
    wait_for 'L0 program: traps.s, step 0' "interactive: completed 'info regs'"
    tm send-keys -t dbg Up Up Enter
    wait_for 'breakpoint 1 is already there' "interactive: the history recalls 'break at_svc'"
    tm send-keys -t dbg 'quit' Enter
    wait_for 'DBG-EXITED' "interactive: quit"

    # Ctrl-C stops an endless continue, then a long search back, and the
    # session goes on where it was (tests/debug/loop.s counts for ever).
    pane=ctl # a session of its own: the first one's server stays up
    tm new-session -d -s ctl -x 100 -y 30 \
        "$(printf '%q ' "$TRAPEZE" debug tests/debug/loop.s); echo DBG-EXITED; sleep 600"
    wait_for '^\(trapeze\)' "ctrl-c: the prompt"
    tm send-keys -t ctl 'continue' Enter
    wait_for '^\(trapeze\) continue' "ctrl-c: continue typed"
    sleep 0.5 # let it run; the check below is of what it says, not of when
    tm send-keys -t ctl C-c
    wait_for 'interrupted \(Ctrl-C\)' "ctrl-c: continue interrupted"
    tm send-keys -t ctl 'print $r1 > 1000' Enter
    wait_for '^\$r1 > 1000 = 0x00000001' "ctrl-c: the session is usable, and it ran"
    tm send-keys -t ctl 'break _start' Enter 'reverse-continue' Enter
    wait_for '^\(trapeze\) reverse-continue' "ctrl-c: reverse-continue typed"
    sleep 0.5
    tm send-keys -t ctl C-c
    wait_for 'back 0 steps, at step [0-9]+: interrupted \(Ctrl-C\)' "ctrl-c: the search back interrupted, where it began"
    tm send-keys -t ctl 'quit' Enter
    wait_for 'DBG-EXITED' "ctrl-c: quit"
fi

finish
