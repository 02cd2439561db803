#!/usr/bin/env bash
# `trapeze asm` and `trapeze disasm` end to end: output names, the listing,
# the image, the disassembly round trip, errors (file:line:col, the bad-input status) and
# every command-line mistake.
. "$(dirname "$0")/lib.sh"
T=$E2E_TMP

mkdir -p "$T/lib"
cat >"$T/lib/io.s" <<'S'
; print the zero-terminated string at r2
puts:   ld r3, 0(r2)
        beqz r3, puts_done
        out r3, 0
        addi r2, r2, 1
        b puts
puts_done: ret
S
cat >"$T/prog.s" <<'S'
        .include "lib/io.s"
        .equ EXIT, 7
        .macro print str
        la r2, \str
        call puts
        .endm
_start: print msg
        li r1, EXIT
        halt
msg:    .string "hi\n"
        .org 0x100
table:  .word msg, -1, 'x', table+2
S

# default output name, silent success
run_capture "$TRAPEZE" asm "$T/prog.s"
expect_status 0 "asm succeeds"
expect_lines out 0 "asm prints nothing without --listing"
e2e_checks=$((e2e_checks + 1))
[ -f "$T/prog.img" ] || fail "asm writes prog.img beside prog.s"
e2e_checks=$((e2e_checks + 1))
head -n 1 "$T/prog.img" | grep -qx 'trapeze-image 1' || fail "the image starts with its magic line"

# -o and --listing
run_capture "$TRAPEZE" asm "$T/prog.s" -o "$T/other.img" --listing
expect_status 0 "asm -o --listing"
e2e_checks=$((e2e_checks + 1))
cmp -s "$T/prog.img" "$T/other.img" || fail "-o writes the same image"
expect_match out '^00000010  [0-9a-f]{8}  .*/lib/io.s:2  puts:   ld r3, 0\(r2\)$' "listing shows included lines"
expect_match out '^[0-9a-f]{8}  [0-9a-f]{8}  .*/prog.s:7  _start: print msg$' "listing credits a macro's words to its invocation"
expect_match out '^00000100  [0-9a-f]{8}  .*/prog.s:12  table:' "listing follows .org"

# a file without .s gets .img appended
cp "$T/prog.s" "$T/noext"
run_capture "$TRAPEZE" asm "$T/noext"
expect_status 0 "asm of a file without .s"
e2e_checks=$((e2e_checks + 1))
[ -f "$T/noext.img" ] || fail "asm writes noext.img"

# disasm: of the image and of the source; the output assembles to the same image
run_capture "$TRAPEZE" disasm "$T/prog.img"
expect_status 0 "disasm of an image"
expect_match out '^\.entry _start$' "disasm names the entry"
expect_match out '^\.org 0x10$' "disasm places segments with .org"
expect_match out '^\.org 0x100$' "disasm places every segment"
expect_match out 'beq r3, r0, puts_done' "disasm shows branch targets as labels"
expect_match out '^\.equ EXIT, 0x7$' "disasm keeps .equ names"
printf '%s\n' "$out" >"$T/round.s"
run_capture "$TRAPEZE" disasm "$T/prog.s"
expect_status 0 "disasm of a source file"
e2e_checks=$((e2e_checks + 1))
diff <(printf '%s\n' "$out") "$T/round.s" >/dev/null || fail "disasm of the source equals disasm of its image"
run_capture "$TRAPEZE" asm "$T/round.s" -o "$T/round.img"
expect_status 0 "the disassembly assembles"
e2e_checks=$((e2e_checks + 1))
diff <(grep -Ev '^(file|line) ' "$T/prog.img") <(grep -Ev '^(file|line) ' "$T/round.img") >"$T/diff" ||
    fail "asm(disasm(image)) has the same entry, symbols and words: $(head -c 400 "$T/diff")"

# the image runs like its source (when `run` exists)
if "$TRAPEZE" run --help >/dev/null 2>&1; then
    run_capture "$TRAPEZE" run "$T/round.img"
    expect_status 7 "the reassembled image runs"
    expect_match out '^hi$' "and prints"
fi

# errors: file:line:col, the line and a caret, several per run, bad input
cat >"$T/bad.s" <<'S'
        nop
        add r1, r2
        jmp nowhere
        addi r1, r0, 70000
S
run_capture "$TRAPEZE" asm "$T/bad.s"
expect_status $EXIT_BAD_INPUT "errors are bad input"
expect_match err "^$T/bad.s:2:19: error: missing operand: 'add' expects rd, rs, rt$" "missing operand"
expect_match err "^$T/bad.s:3:13: error: undefined symbol 'nowhere'$" "undefined symbol"
expect_match err "^$T/bad.s:4:22: error: immediate 70000 out of range for addi \(-32768\.\.32767\); 'li rd, VALUE' loads any 32-bit value$" "range, and li suggested"
expect_match err '^        add r1, r2$' "the line is echoed"
expect_match err '^                  \^$' "a caret marks the column"
e2e_checks=$((e2e_checks + 1))
[ ! -e "$T/bad.img" ] || fail "no image is written after errors"
run_capture "$TRAPEZE" disasm "$T/bad.s"
expect_status $EXIT_BAD_INPUT "disasm of a bad source is bad input"
expect_match err "bad.s:2:19: error:" "disasm reports source errors"

# hostile input: never a crash
head -c 5000 /dev/urandom >"$T/garbage.s"
run_capture "$TRAPEZE" asm "$T/garbage.s"
expect_status $EXIT_BAD_INPUT "binary garbage is bad input"
expect_match err "garbage.s:[0-9]+:[0-9]+: error: " "garbage gets located errors"
: >"$T/empty.s"
run_capture "$TRAPEZE" asm "$T/empty.s"
expect_status 0 "an empty file assembles"
run_capture "$TRAPEZE" disasm "$T/empty.img"
expect_status 0 "and disassembles"
awk 'BEGIN { printf "nop "; for (i = 0; i < 200000; i++) printf "x"; print "" }' >"$T/long.s"
run_capture "$TRAPEZE" asm "$T/long.s"
expect_status $EXIT_BAD_INPUT "a huge line is an error"
expect_match err "long.s:1:5: error: extra operand" "located"
e2e_checks=$((e2e_checks + 1))
[ "${#err}" -lt 2000 ] || fail "the echo of a huge line is cut (${#err} bytes)"
for i in $(seq 1 80); do echo "bad$i"; done >"$T/many.s"
run_capture "$TRAPEZE" asm "$T/many.s"
expect_status $EXIT_BAD_INPUT "many errors are bad input"
expect_match err "many.s: error: too many errors; stopped after 50$" "errors are capped"

# malformed images
head -n 5 "$T/prog.img" >"$T/trunc.img"
run_capture "$TRAPEZE" disasm "$T/trunc.img"
expect_status $EXIT_BAD_INPUT "a truncated image is bad input"
expect_match err "^$T/trunc.img:[0-9]+:1: error: truncated image" "truncated image message"
expect_lines err 1 "one line"
printf 'trapeze-image 1\nentry 0x10\nsegment 0x10 1\nzzzz\nend\n' >"$T/garbled.img"
run_capture "$TRAPEZE" disasm "$T/garbled.img"
expect_status $EXIT_BAD_INPUT "a garbled image is bad input"
expect_match err "^$T/garbled.img:4:1: error: bad word 'zzzz'" "garbled image message"
run_capture "$TRAPEZE" asm "$T/prog.img"
expect_status $EXIT_BAD_INPUT "asm refuses an image"
expect_match err "prog.img: error: this is an image, not assembly source" "asm names the mistake"

# the command line
for cmd in asm disasm; do
    run_capture "$TRAPEZE" $cmd --help
    expect_status 0 "$cmd --help"
    expect_match out "^usage: trapeze $cmd " "$cmd --help shows usage"
    run_capture "$TRAPEZE" $cmd
    expect_status $EXIT_BAD_INPUT "$cmd without a file"
    expect_lines err 1 "$cmd usage error is one line"
    run_capture "$TRAPEZE" $cmd --bogus "$T/prog.s"
    expect_status $EXIT_BAD_INPUT "$cmd with an unknown option"
    expect_match err "^trapeze $cmd: unknown option '--bogus'" "$cmd names the option"
    expect_lines err 1 "one line"
    run_capture "$TRAPEZE" $cmd "$T/prog.s" "$T/prog.s"
    expect_status $EXIT_BAD_INPUT "$cmd with two files"
    expect_lines err 1 "one line"
    run_capture "$TRAPEZE" $cmd "$T/does-not-exist.s"
    expect_status $EXIT_BAD_INPUT "$cmd of a missing file"
    expect_match err "does-not-exist.s: error: cannot read the source file: No such file or directory" "missing file"
done
run_capture "$TRAPEZE" asm "$T/prog.s" -o
expect_status $EXIT_BAD_INPUT "-o without a name"
expect_match err "^trapeze asm: -o needs a file name" "-o message"
run_capture "$TRAPEZE" asm "$T/prog.s" -o "$T/prog.s"
expect_status $EXIT_BAD_INPUT "-o onto the source"
expect_match err "would overwrite the source" "refuses to overwrite"
run_capture "$TRAPEZE" asm "$T/prog.s" -o "$T/no-such-dir/x.img"
expect_status $EXIT_BAD_INPUT "unwritable output"
expect_match err "x.img: error: cannot write the image" "write error"

finish
