#!/usr/bin/env bash
# The command-line error paths the other scripts do not reach: option
# combinations each command refuses, outputs that cannot be written, and a
# monitor of a stack that gives up.  Each is one line and a non-zero exit,
# never a crash.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP
H=programs/hello.s

# args|expected status|regex on stderr: every case is one line
while IFS='|' read -r args want pattern; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" $args </dev/null
    expect_status "$want" "trapeze $args"
    expect_match err "$pattern" "trapeze $args: message"
    expect_lines err 1 "trapeze $args: one line"
done <<EOF2
run --vmm te --vms 2 $H $H|$EXIT_BAD_INPUT|^trapeze run: --vms runs copies of one PROGRAM; got 2 programs$
run --depth 2 $H $H|$EXIT_BAD_INPUT|^trapeze run: expected one PROGRAM, got 2
run --stack asm --vmm te $H|$EXIT_BAD_INPUT|^trapeze run: --vmm sets the C VMM's mode, and the stack 'asm' has no C VMM \(c\)$
run --depth 0 --vmm te $H|$EXIT_BAD_INPUT|^trapeze run: --vmm sets the C VMM's mode, and the stack 'bare' has no C VMM \(c\)$
run --stack c,asm --vms 2 $H|$EXIT_BAD_INPUT|^trapeze run: --vms needs the C VMM alone \(--vmm MODE\)$
run --stack asm --out-dir $T/od $H|$EXIT_BAD_INPUT|^trapeze run: --out-dir needs the C VMM alone \(--vmm MODE\)$
run --vmm te --trace insns $H|$EXIT_BAD_INPUT|^trapeze run: --trace insns is for the bare machine \(use --trace traps\)$
run --depth 1 --trace insns $H|$EXIT_BAD_INPUT|^trapeze run: --trace insns is for the bare machine \(use --trace traps\)$
run --vmm te --out-dir /dev/null/sub $H|$EXIT_BAD_INPUT|^trapeze run: --out-dir: cannot create '/dev/null/sub'
equiv --vms 2 $H|$EXIT_BAD_INPUT|^trapeze equiv: unknown option '--vms' \(see trapeze equiv --help\)$
equiv --out-dir $T/od $H|$EXIT_BAD_INPUT|^trapeze equiv: unknown option '--out-dir' \(see trapeze equiv --help\)$
equiv $H $H|$EXIT_BAD_INPUT|^trapeze equiv: expected one PROGRAM, got 2
equiv --trace insns $H|$EXIT_BAD_INPUT|^trapeze equiv: --trace: expected 'traps', got 'insns'$
equiv --stack asm --vmm te $H|$EXIT_BAD_INPUT|^trapeze equiv: --vmm sets the C VMM's mode, and the stack 'asm' has no C VMM \(c\)$
debug --json $H|$EXIT_BAD_INPUT|^trapeze debug: unknown option '--json' \(see trapeze debug --help\)$
debug --trace traps $H|$EXIT_BAD_INPUT|^trapeze debug: unknown option '--trace' \(see trapeze debug --help\)$
debug --vms 2 $H|$EXIT_BAD_INPUT|^trapeze debug: unknown option '--vms' \(see trapeze debug --help\)$
debug --out-dir $T/od $H|$EXIT_BAD_INPUT|^trapeze debug: unknown option '--out-dir' \(see trapeze debug --help\)$
debug --vmm te --stack asm $H|$EXIT_BAD_INPUT|^trapeze debug: --vmm sets the C VMM's mode, and the stack 'asm' has no C VMM \(c\)$
debug $H -x|$EXIT_BAD_INPUT|^trapeze debug: -x needs a value \(FILE\)$
debug -x $T/missing.cmds $H|$EXIT_BAD_INPUT|^trapeze debug: -x: cannot open '$T/missing.cmds'
tui $H|$EXIT_BAD_INPUT|^trapeze tui: needs a terminal
tui --json $H|$EXIT_BAD_INPUT|^trapeze tui: unknown option '--json' \(see trapeze tui --help\)$
tui --trace traps $H|$EXIT_BAD_INPUT|^trapeze tui: unknown option '--trace' \(see trapeze tui --help\)$
tui --vms 2 $H|$EXIT_BAD_INPUT|^trapeze tui: unknown option '--vms' \(see trapeze tui --help\)$
tui --out-dir $T/od $H|$EXIT_BAD_INPUT|^trapeze tui: unknown option '--out-dir' \(see trapeze tui --help\)$
tui --vmm te --stack asm $H|$EXIT_BAD_INPUT|^trapeze tui: --vmm sets the C VMM's mode, and the stack 'asm' has no C VMM \(c\)$
check-isa --explain popf --markdown|$EXIT_BAD_INPUT|^trapeze check-isa: --explain prints text or --json$
check-isa --explain popf --confirm pg|$EXIT_BAD_INPUT|^trapeze check-isa: --explain, --replay and --confirm cannot be combined$
check-isa --replay priv:x --markdown|$EXIT_BAD_INPUT|^trapeze check-isa: --replay prints text only$
EOF2

# Each --help lists only the options its command takes.
help_has() { # CMD OPTION: trapeze CMD --help lists OPTION
    "$TRAPEZE" "$1" --help | grep -Eq -- "^ +$2( |\$)"
}
for opt in --isa --mem --max-steps --input --json --trace --vmm --vms --out-dir --stack --depth -I; do
    e2e_checks=$((e2e_checks + 1))
    help_has run "$opt" || fail "run --help does not list $opt"
done
for opt in --isa --mem --max-steps --input --json --trace --vmm --stack --depth -I; do
    e2e_checks=$((e2e_checks + 1))
    help_has equiv "$opt" || fail "equiv --help does not list $opt"
done
for opt in --vms --out-dir; do
    e2e_checks=$((e2e_checks + 1))
    ! help_has equiv "$opt" || fail "equiv --help lists $opt, which it does not take"
done
e2e_checks=$((e2e_checks + 1))
"$TRAPEZE" equiv --help | grep -E -- '^ +--trace ' | grep -qv insns ||
    fail "equiv --help offers --trace insns, which it refuses: $("$TRAPEZE" equiv --help | grep -E -- '^ +--trace ')"
for cmd in debug tui; do
    for opt in --isa --mem --max-steps --input --vmm --stack --depth -I; do
        e2e_checks=$((e2e_checks + 1))
        help_has $cmd "$opt" || fail "$cmd --help does not list $opt"
    done
    for opt in --json --trace --vms --out-dir; do
        e2e_checks=$((e2e_checks + 1))
        ! help_has $cmd "$opt" || fail "$cmd --help lists $opt, which it does not take"
    done
done

# At most VMM_MAX_GUESTS (64) guests.
many=()
for _ in $(seq 65); do many+=("$H"); done
run_capture "$TRAPEZE" run --vmm te "${many[@]}"
expect_status $EXIT_BAD_INPUT "65 guests"
expect_match err '^trapeze run: at most 64 guests, got 65 programs$' "65 guests: message"

# The assembler: an image is not source, and -o may not overwrite the source.
"$TRAPEZE" asm "$H" -o "$T/hello.img" >/dev/null 2>&1
run_capture "$TRAPEZE" asm "$T/hello.img"
expect_status $EXIT_BAD_INPUT "asm of an image"
expect_match err "^$T/hello.img: error: this is an image, not assembly source \(try trapeze disasm\)$" "asm of an image: message"
cp "$H" "$T/self.s"
run_capture "$TRAPEZE" asm "$T/self.s" -o "$T/self.s"
expect_status $EXIT_BAD_INPUT "asm -o onto the source"
expect_match err "would overwrite the source" "asm -o onto the source: message"
cmp -s "$H" "$T/self.s" || fail "asm -o onto the source changed the source"

# Outputs that cannot be written (/dev/full): an error, not silence.
run_capture "$TRAPEZE" asm "$H" -o /dev/full
expect_status $EXIT_BAD_INPUT "image to /dev/full"
expect_match err "^/dev/full: error: cannot write the image" "image to /dev/full: message"
"$TRAPEZE" asm --listing "$H" -o "$T/l.img" >/dev/full 2>"$T/err"
st=$?
e2e_checks=$((e2e_checks + 1))
[ $st -eq $EXIT_BAD_INPUT ] && grep -q '^trapeze asm: cannot write the listing$' "$T/err" ||
    fail "listing to /dev/full: $(cat "$T/err")"
"$TRAPEZE" disasm "$T/hello.img" >/dev/full 2>"$T/err"
st=$?
e2e_checks=$((e2e_checks + 1))
[ $st -eq $EXIT_BAD_INPUT ] && grep -q '^trapeze disasm: cannot write the disassembly$' "$T/err" ||
    fail "disassembly to /dev/full: $(cat "$T/err")"

# A guest whose page table outgrows the asm VMM's shadow table: the VMM
# gives up, and run and equiv say so (this once crashed the reporter).
cat >"$T/bigpt.s" <<'S'
_start: li r1, 4
        st r1, psw(r0)
        li r1, 0x180000         ; page 0x1800: beyond a 4096-entry shadow table
        lpsw psw(r0)
psw:    .word 0, 0x20, 0x400, 0x10000, 0
        .org 0x20
        ld r2, 0(r1)
        halt
        .org 0x400
        .word 1                 ; page 0 -> frame 0, read-only
S
run_capture "$TRAPEZE" run --stack asm,asm "$T/bigpt.s"
expect_status $EXIT_CRASHED "a monitor that gives up"
expect_match err '^trapeze: the asm VMM at L1 gave up: the guest.s page table is longer than the shadow table$' "gave up: message"
run_capture "$TRAPEZE" run --json --stack asm,asm "$T/bigpt.s"
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm_error.level == 1 and .stop == "unhandled-trap"' <<<"$out" >/dev/null || fail "gave up: --json vmm_error: $out"
run_capture "$TRAPEZE" equiv --stack asm,asm "$T/bigpt.s"
expect_status $EXIT_NOT_EQUIVALENT "equiv when a monitor gives up"
expect_match out '^the asm VMM at L1 gave up' "equiv names the monitor that gave up"
run_capture "$TRAPEZE" equiv --json --stack asm,asm "$T/bigpt.s"
expect_status $EXIT_NOT_EQUIVALENT "equiv --json when a monitor gives up"
e2e_checks=$((e2e_checks + 1))
jq -e '.equivalent == false and .vmm_error.level == 1 and (.vmm_error.message | test("shadow table"))' <<<"$out" >/dev/null ||
    fail "gave up: equiv --json vmm_error: $out"
# Levels count from the real machine: alone, the asm VMM is L0.
run_capture "$TRAPEZE" run --json --stack asm "$T/bigpt.s"
expect_status $EXIT_CRASHED "a lone monitor that gives up"
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm_error.level == 0' <<<"$out" >/dev/null || fail "a lone monitor gave up: --json vmm_error: $out"
run_capture "$TRAPEZE" run --stack asm "$T/bigpt.s"
expect_match err '^trapeze: the asm VMM at L0 gave up: ' "a lone monitor gave up: message"

finish
