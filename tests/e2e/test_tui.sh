#!/usr/bin/env bash
# trapeze tui, driven in tmux: the panes tell the story of a privileged
# instruction (trap, level, handling, virtual vs real PSW), reverse-step
# undoes it, continue runs to the end, it fits 80x24 and a bigger terminal,
# and q gives the terminal back.  Nothing waits on the clock: every check
# polls the screen until its text appears, a bounded number of times.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
command -v tmux >/dev/null || { echo "tmux is missing (make deps)"; exit 1; }

sock=trapeze-test-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$E2E_TMP"' EXIT

screen() { tm capture-pane -p -t "$1"; }

# wait_for SESSION REGEX DESCRIPTION: polls the screen until it matches.
wait_for() {
    e2e_checks=$((e2e_checks + 1))
    local i
    for ((i = 0; i < 300; i++)); do
        screen "$1" | grep -Eq -- "$2" && return 0
        sleep 0.1
    done
    fail "$3: the screen never showed /$2/:"
    screen "$1" | sed 's/^/    | /'
    return 1
}

# start NAME COLS ROWS ARGS...: a session running trapeze tui ARGS; the
# pane stays after the program exits, to be inspected.
start() {
    local name=$1 cols=$2 rows=$3
    shift 3
    tm new-session -d -s "$name" -x "$cols" -y "$rows" \
        "$(printf '%q ' "$TRAPEZE" tui "$@"); echo TUI-EXITED-\$?; sleep 600"
}

# ---- 80x24: the story under the C VMM ------------------------------------------------
start story 80 24 --vmm te programs/traps.s
wait_for story 'Trap log \(0\)' "startup: the trap log pane"
wait_for story '>\[L1 guest: traps.s\]' "startup: the level stack, L1 running and shown"
wait_for story ' L0 C VMM \(te\) \| ' "startup: the C VMM level, below it"
wait_for story '>runs  \[shown\]' "startup: the bar's legend"
wait_for story '=>000010 _start' "startup: the code pane at the entry"
tm send-keys -t story t
wait_for story 'Trap log \(1\)' "t: one trap logged"
wait_for story '  1 PRIV +srr +L1S 000017->L0 emulated' "t: the trap, its level and its handling"
wait_for story 'flags  M=S -- -- -- +M=U IE -- --' "t: virtual supervisor, real user side by side"
wait_for story 'step 8' "t: stopped after the trap"
wait_for story '^<_start\+7> *$' "t: the status line too long for 80 columns wraps onto a second row"
wait_for story 'pc 18 -> L1 18 -> real 118 *$' "t: the f-map's pc line fits its pane, no number cut"
wait_for story '^LnS/U: M=1/M=0 \| emulated: by the monitor \| reflected, delivered: to its handler' \
    "t: the legend line, at 80 columns"
tm send-keys -t story r
wait_for story 'Trap log \(0\)' "r: the trap is undone"
wait_for story '=>000017 +srr r2, r3' "r: back at the privileged instruction"
wait_for story 'back 1 step, at step 7' "r: the status line says so"
tm send-keys -t story '>'
wait_for story 'Registers & PSW  L1' "> at the top stays at L1"
tm send-keys -t story '<'
wait_for story 'host code: no registers' "<: the C VMM level"
wait_for story ' >L1 guest: traps.s ' "<: the bar marks the running level apart from the shown one"
tm send-keys -t story '<'
wait_for story 'Registers & PSW  L0 C VMM' "< at the bottom stays at L0"
tm send-keys -t story '>' c
wait_for story 'the program halted, status 0' "c: runs to the end"
wait_for story 'done: 12 traps handled' "c: the console pane shows the output"
tm send-keys -t story f '-out' Enter
wait_for story 'Trap log \([0-9]+\)  f: -out' "f: the trap log is filtered"
wait_for story 'PRIV +halt +L1S' "f: what the filter keeps"
e2e_checks=$((e2e_checks + 1))
screen story | grep -Eq 'PRIV +out +L1S' && fail "f -out: an out trap is still in the log"
tm send-keys -t story f 'nosuch' Enter
wait_for story "error: filter: 'nosuch' is not a cause" "f: a bad filter says why"
tm send-keys -t story f Enter
wait_for story 'the trap log shows every trap' "f with nothing: every trap again"
tm send-keys -t story q
wait_for story 'TUI-EXITED-0' "q: exits with status 0"
e2e_checks=$((e2e_checks + 1))
[ "$(tm display -p -t story '#{alternate_on}')" = 0 ] || fail "q: the alternate screen is still on"
e2e_checks=$((e2e_checks + 1))
screen story | grep -q 'Trap log' && fail "q: the TUI's panes are still on the screen"

# ---- Breakpoints, help and a command from the prompt, on the bare machine ------------
start bare 80 24 programs/traps.s
wait_for bare '>\[L0 program: traps.s\]' "bare: one level"
wait_for bare 'on the real machine: no f-map *$' "bare: the f-map pane's words fit it"
tm send-keys -t bare ':' 'break at_svc' Enter
wait_for bare 'breakpoint 1 at L0 0x000024 <at_svc>' "bare: :break shows what it did"
tm send-keys -t bare c
wait_for bare 'breakpoint 1' "bare: c stops at the breakpoint"
wait_for bare 'B=>000024 at_svc +svc 66' "bare: the code pane marks the breakpoint and pc"
tm send-keys -t bare s
wait_for bare 'SVC +svc +L0S 000025->L0 hardware' "bare: s steps into the trap"
tm send-keys -t bare Down Down b
wait_for bare 'breakpoint 2 at L0 0x0000b5 <handler\+2>' "b: a breakpoint at the code cursor"
wait_for bare 'B  0000b5' "b: the code pane marks it"
tm send-keys -t bare b
wait_for bare 'deleted breakpoint 2' "b again: deleted"
tm send-keys -t bare Escape
tm send-keys -t bare '?'
wait_for bare 'keys \(each is a command' "?: the help page"
wait_for bare 'reverse-continue' "?: generated from the command table"
wait_for bare 'Esc or q closes; other keys act' "?: says which keys close it"
tm send-keys -t bare q
wait_for bare 'Trap log \(1\)' "help closes with q"
tm send-keys -t bare '?'
wait_for bare 'keys \(each is a command' "?: the help page again"
tm send-keys -t bare s
wait_for bare 'L0 0x0000b4 <handler\+1>' "?: a key that is not the help's own closes it and acts (s steps)"
tm send-keys -t bare g '0' Enter
wait_for bare 'Memory L0 @000000' "g: the memory pane moves"
tm send-keys -t bare q
wait_for bare 'TUI-EXITED-0' "bare: q"

# ---- N: reverse-next, back over the handler that next ran through -------------------------
start rnext 80 24 programs/traps.s
wait_for rnext 'Trap log \(0\)' "rnext: startup"
tm send-keys -t rnext ':' 'break at_svc' Enter
wait_for rnext 'breakpoint 1 at L0 0x000024 <at_svc>' "rnext: a breakpoint at the svc"
tm send-keys -t rnext c
wait_for rnext 'B=>000024 at_svc +svc 66' "rnext: c stops at the svc"
tm send-keys -t rnext n
wait_for rnext '=>000025 +lui r1, 0' "rnext: n runs the svc's handler through"
tm send-keys -t rnext N
wait_for rnext 'back 655 steps, at step 735' "N: back over the handler in one key"
wait_for rnext 'B=>000024 at_svc +svc 66' "N: at the svc again"
tm send-keys -t rnext '?'
wait_for rnext "N +reverse-next +back one step, over a trap into its own handler" "?: the help page has N"
tm send-keys -t rnext q q
wait_for rnext 'TUI-EXITED-0' "rnext: q"

# ---- The demo (no PROGRAM): toyos on the C VMM and the asm VMM ------------------------
# The story of the issue: pressing t, a guest's privileged instruction
# traps, is passed up by the C VMM (L1) to the asm VMM (L2), which emulates
# it, its own privileged instructions being emulated by L1, and the guest
# runs again.  How many traps come first depends on vmm.s, so t is pressed
# until each part of the story is on the screen (a bounded number of times).

traps_on_screen() { screen "$1" | sed -n 's/.*Trap log (\([0-9]*\)).*/\1/p' | head -n 1; }

# press_until SESSION REGEX MAX DESCRIPTION: presses t (waiting for each trap
# to be logged) until the screen matches.
press_until() {
    e2e_checks=$((e2e_checks + 1))
    local i j n
    for ((i = 0; i < $3; i++)); do
        screen "$1" | grep -Eq -- "$2" && return 0
        n=$(traps_on_screen "$1")
        tm send-keys -t "$1" t
        for ((j = 0; j < 300; j++)); do
            [ "$(traps_on_screen "$1")" != "$n" ] && break
            sleep 0.1
        done
    done
    screen "$1" | grep -Eq -- "$2" && return 0
    fail "$4: /$2/ never showed after $3 presses of t:"
    screen "$1" | sed 's/^/    | /'
}

start demo 80 24
wait_for demo 'demo: toyos.s under --stack c,asm' "demo: toyos on the stack"
wait_for demo 'L0 C VMM \(te\) \| >L1 asm VMM \|  \[L2 guest: toyos.s\]' "demo: the level stack; the asm VMM starts first"
wait_for demo '\.\.000010 _start' "demo: the guest is not started: where it will start"
wait_for demo 'not started: L1 starts it' "demo: ... and it says so"
press_until demo 'PRIV +[a-z]+ +L2S [0-9a-f]+->L1 emulated' 40 "demo: a guest's privileged instruction"
wait_for demo 'trap [0-9]+: PRIV [a-z]+.* at L2 guest, supervisor -> emulated by L1 asm' "demo: the status line: the guest's trap, emulated by L1"
wait_for demo '[a-z]+ +L1S [0-9a-f]+->L0 emulated' "demo: the asm VMM's own traps, emulated by L0, during its handling"
wait_for demo '>\[L2 guest: toyos.s\]' "demo: stopped where the guest runs again"
tm send-keys -t demo '<'
wait_for demo 'Registers & PSW  L1 asm VMM \(L2.s regs\)' "demo: < shows the asm VMM, waiting"
wait_for demo 'waiting: L2 runs' "demo: ... and says so"
tm send-keys -t demo q
wait_for demo 'TUI-EXITED-0' "demo: q"

# ---- The page tables, live: a paged process under the C VMM and the asm VMM -------------
# Stopped one step into a process, p shows its table, the asm VMM's
# shadow and the C VMM's (the one the hardware walks, marked '>'), the
# last change marked '*' with its reason; p again gives the f-map back.
start pages 80 24 --depth 2 programs/toyos/toyos_paged.s
wait_for pages 'Trap log \(0\)' "pages: startup"
tm send-keys -t pages ':' 'break mode' Enter
wait_for pages 'breakpoint 1 when L2 changes mode' "pages: a breakpoint where the process starts"
tm send-keys -t pages c
wait_for pages 'breakpoint 1 \(mode of L2 changed\)' "pages: c stops where the process starts"
tm send-keys -t pages s
wait_for pages 'step 15642' "pages: one step into the process"
tm send-keys -t pages p
wait_for pages 'Pages L2: own\.\.real' "p: the page-table pane"
wait_for pages 'vpn L2 own +L1 shadow >L0 sh' "p: one column per table, the hardware's marked"
wait_for pages ' f VW 00004f VW 00006f\*VW 000070' "p: a table row, the last change marked"
wait_for pages '\*L0 shadow: vpn 0xf, rebuild' "p: the last change and its reason"
tm send-keys -t pages p
wait_for pages 'F-map L2' "p again: the f-map is back"
tm send-keys -t pages q
wait_for pages 'TUI-EXITED-0' "pages: q"

# ---- A bigger terminal ----------------------------------------------------------------
start big 132 43 --vmm te programs/traps.s
wait_for big 'L0 C VMM \(te\)' "big: under the C VMM"
tm send-keys -t big t t
wait_for big 'Trap log \(2\)' "big: two traps"
wait_for big 'trap 2: PRIV out r2, 0 at L1 guest, supervisor -> emulated by L0 c; pc 0x0006d9 <puts\+2>' \
    "big: the full trap line fits"
wait_for big 'p pages N rnext' "big: the help bar has room for N"
tm send-keys -t big q
wait_for big 'TUI-EXITED-0' "big: q"

# ---- A run that never ends: c redraws while it runs, and any key stops it -------------
printf '_start: addi r1, r1, 1\n        b _start\n' >"$E2E_TMP/loop.s"
start loop 80 24 "$E2E_TMP/loop.s"
wait_for loop 'Trap log \(0\)' "loop: startup"
tm send-keys -t loop c
wait_for loop 'running\.\.\. \(any key or Ctrl-C stops\)' "loop: c runs"
wait_for loop 'step [1-9][0-9]{5,}' "loop: the step count moves while it runs"
tm send-keys -t loop x
wait_for loop 'interrupted at step [0-9]+' "loop: a key stops it"
tm send-keys -t loop c
wait_for loop 'running\.\.\. \(any key or Ctrl-C stops\)' "loop: c runs again"
tm send-keys -t loop C-c
wait_for loop 'interrupted' "loop: Ctrl-C stops it too"
tm send-keys -t loop s
wait_for loop 'Trap log \(0\)' "loop: and the TUI goes on"
tm send-keys -t loop q
wait_for loop 'TUI-EXITED-0' "loop: q"

# ---- Typed input: i sends keys to the program, recorded, so going back replays them ------
start typing 80 24 programs/echo.s
wait_for typing 'Trap log \(0\)' "typing: startup"
tm send-keys -t typing s s i
wait_for typing 'typing to the program' "i: typing mode says so"
tm send-keys -t typing h i Enter Escape
wait_for typing 'typed 1 byte at step 2' "typing: each key is an input command"
tm send-keys -t typing c
wait_for typing 'echo: 1 lines, 3 bytes' "typing: the program read what was typed"
wait_for typing 'output \(28 bytes\)' "typing: ... and echoed it"
tm send-keys -t typing r r r r r c
wait_for typing 'the program halted, status 0' "typing: back and forth"
wait_for typing 'echo: 1 lines, 3 bytes' "typing: the replay reads the same input"
tm send-keys -t typing q
wait_for typing 'TUI-EXITED-0' "typing: q"

# ---- Too small a terminal: says so, and grows into the panes ----------------------------
start small 60 20 programs/hello.s
wait_for small 'trapeze tui needs 80x24' "small: says what it needs"
tm resize-window -t small -x 80 -y 24
wait_for small 'Trap log \(0\)' "small: the panes once it is big enough"
tm send-keys -t small q
wait_for small 'TUI-EXITED-0' "small: q"

# ---- Not a terminal --------------------------------------------------------------------
run_capture "$TRAPEZE" tui programs/hello.s </dev/null
expect_status "$EXIT_BAD_INPUT" "no terminal"
expect_match err 'needs a terminal' "no terminal: message"

# ---- D: the last traps drawn with graphviz, into the working folder ------------------------
mkdir -p "$E2E_TMP/draw"
tm new-session -d -s draw -x 100 -y 30 -c "$E2E_TMP/draw" \
    "$(printf '%q ' "$TRAPEZE" tui --stack c,asm "$ROOT/programs/traps.s"); echo TUI-EXITED-\$?; sleep 600"
wait_for draw 'Trap log \(0\)' "D: startup"
tm send-keys -t draw t
wait_for draw 'Trap log \(1\)' "D: a trap first"
tm send-keys -t draw D
wait_for draw 'wrote trapeze-trace.svg: the sequence of 1 trap' "D: the status line names the file and what it holds"
e2e_checks=$((e2e_checks + 1))
grep -q '<svg' "$E2E_TMP/draw/trapeze-trace.svg" 2>/dev/null || fail "D: no SVG in the working folder"
tm send-keys -t draw q
wait_for draw 'TUI-EXITED-0' "D: q leaves"

# ---- The hybrid build: its kernel interpreted, shown live ------------------------------------
start hybrid 100 30 --isa hybrid --stack asm --asm-vmm programs/vmm/vmm_hybrid.s programs/critical.s
wait_for hybrid '\[L1 guest: critical.s\]' "hybrid: startup"
tm send-keys -t hybrid ':' 'break work' Enter
tm send-keys -t hybrid c
wait_for hybrid 'breakpoint 1 \(L1\)' "hybrid: a breakpoint in interpreted code hits"
wait_for hybrid 'interpreted by L0, step 341' "hybrid: the level is shown interpreted, at the bare run's step"
wait_for hybrid 'r3 +00000005' "hybrid: its registers live, the bare run's"
tm send-keys -t hybrid s
wait_for hybrid 'interpreted by L0, step 342' "hybrid: s steps the interpreted level"
wait_for hybrid 'r3 +00000004' "hybrid: the step's result shown at once"
tm send-keys -t hybrid q
wait_for hybrid 'TUI-EXITED-0' "hybrid: q"

# ---- A disk under asm levels: written through, the same file as a bare run ------------------
disk_image "$TRAPEZE" programs/disk "$E2E_TMP/tui-disk.img"
cp "$E2E_TMP/tui-disk.img" "$E2E_TMP/bare-disk.img"
"$TRAPEZE" run --disk "$E2E_TMP/bare-disk.img" programs/disk.s >/dev/null 2>&1
start disk 100 30 --stack asm,asm --disk "$E2E_TMP/tui-disk.img" programs/disk.s
wait_for disk '>L0 asm VMM \| +L1 asm VMM \| +\[L2 guest: disk.s\]' "disk: startup under asm,asm, three levels"
tm send-keys -t disk c
wait_for disk 'the program halted, status 0' "disk: c runs disk.s to its end under asm,asm"
wait_for disk 'completion interrupts: 4' "disk: its console output, the completions included"
tm send-keys -t disk q
wait_for disk 'TUI-EXITED-0' "disk: q"
e2e_checks=$((e2e_checks + 1))
cmp -s "$E2E_TMP/tui-disk.img" "$E2E_TMP/bare-disk.img" || fail "disk: the file the TUI wrote through differs from a bare run's"

finish
