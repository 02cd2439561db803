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
run --vmm te --vms 2 $H $H|2|^trapeze run: --vms runs copies of one PROGRAM; got 2 programs$
run --depth 1 $H $H|2|^trapeze run: expected one PROGRAM, got 2
run --depth 2 --vmm te $H|2|^trapeze run: --stack and --depth run one guest on their own monitors
run --vmm te --trace insns $H|2|^trapeze run: --trace insns is not available with --vmm \(use --trace traps\)$
run --depth 1 --trace insns $H|2|^trapeze run: --trace insns is not available with --stack \(use --trace traps\)$
run --vmm te --out-dir /dev/null/sub $H|2|^trapeze run: --out-dir: cannot create '/dev/null/sub'
equiv --vms 2 $H|2|^trapeze equiv: expected one PROGRAM and no --vms, --out-dir or --json
debug --json $H|2|^trapeze debug: --json is for trapeze run
debug --vmm te --depth 2 $H|2|^trapeze debug: --stack and --depth run one guest on their own monitors
debug $H -x|2|^trapeze debug: -x needs a value \(FILE\)$
debug -x $T/missing.cmds $H|2|^trapeze debug: -x: cannot open '$T/missing.cmds'
tui $H|2|^trapeze tui: needs a terminal
check-isa --explain popf --markdown|2|^trapeze check-isa: --explain prints text or --json$
check-isa --explain popf --confirm pg|2|^trapeze check-isa: --explain, --replay and --confirm cannot be combined$
check-isa --replay priv:x --markdown|2|^trapeze check-isa: --replay prints text only$
EOF2

# At most VMM_MAX_GUESTS (64) guests.
many=()
for _ in $(seq 65); do many+=("$H"); done
run_capture "$TRAPEZE" run --vmm te "${many[@]}"
expect_status 2 "65 guests"
expect_match err '^trapeze run: at most 64 guests, got 65 programs$' "65 guests: message"

# The assembler: an image is not source, and -o may not overwrite the source.
"$TRAPEZE" asm "$H" -o "$T/hello.img" >/dev/null 2>&1
run_capture "$TRAPEZE" asm "$T/hello.img"
expect_status 2 "asm of an image"
expect_match err "^$T/hello.img: error: this is an image, not assembly source \(try trapeze disasm\)$" "asm of an image: message"
cp "$H" "$T/self.s"
run_capture "$TRAPEZE" asm "$T/self.s" -o "$T/self.s"
expect_status 2 "asm -o onto the source"
expect_match err "would overwrite the source" "asm -o onto the source: message"
cmp -s "$H" "$T/self.s" || fail "asm -o onto the source changed the source"

# Outputs that cannot be written (/dev/full): an error, not silence.
run_capture "$TRAPEZE" asm "$H" -o /dev/full
expect_status 2 "image to /dev/full"
expect_match err "^/dev/full: error: cannot write the image" "image to /dev/full: message"
"$TRAPEZE" asm --listing "$H" -o "$T/l.img" >/dev/full 2>"$T/err"
st=$?
e2e_checks=$((e2e_checks + 1))
[ $st -eq 2 ] && grep -q '^trapeze asm: cannot write the listing$' "$T/err" ||
    fail "listing to /dev/full: $(cat "$T/err")"
"$TRAPEZE" disasm "$T/hello.img" >/dev/full 2>"$T/err"
st=$?
e2e_checks=$((e2e_checks + 1))
[ $st -eq 2 ] && grep -q '^trapeze disasm: cannot write the disassembly$' "$T/err" ||
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
expect_status 3 "a monitor that gives up"
expect_match err '^trapeze: the asm VMM at level 1 gave up: the guest.s page table is longer than the shadow table$' "gave up: message"
run_capture "$TRAPEZE" run --json --stack asm,asm "$T/bigpt.s"
e2e_checks=$((e2e_checks + 1))
jq -e '.vmm_error.level == 1 and .stop == "unhandled-trap"' <<<"$out" >/dev/null || fail "gave up: --json vmm_error: $out"
run_capture "$TRAPEZE" equiv --stack asm,asm "$T/bigpt.s"
expect_status 1 "equiv when a monitor gives up"
expect_match out '^the asm VMM at level 1 gave up' "equiv names the monitor that gave up"

finish
