#!/usr/bin/env bash
# The asm VMM's hybrid build (programs/vmm/vmm_hybrid.s, Theorem 3) on the
# `hybrid` variant, through the real binary:
#   - critical.s, whose kernel trusts popf: equivalent under the hybrid
#     build (asm, c,asm, asm,asm), not under the plain trap-and-emulate
#     vmm.s, whose kernel's popf runs in real user mode and is ignored;
#   - every program of programs/ that runs under the asm VMM on pg is
#     equivalent under the hybrid build on hybrid (with its input and disk),
#     and a few on pg too;
#   - budget stops mid-kernel are whole (the run's yield_request);
#   - the counts: the kernel's instructions are interpreted (n_interpreted),
#     the processes' run directly, the guest's are the bare run's;
#   - the build ends below SHADOW, and the four words it writes at start
#     are the ones vmm.s labels.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
H=programs/vmm/vmm_hybrid.s
HYB=(--isa hybrid --asm-vmm "$H")

# ---- popf: the hybrid build is exact, trap-and-emulate is not ---------------------
for st in asm c,asm asm,asm; do
    run_capture "$TRAPEZE" equiv "${HYB[@]}" --stack "$st" programs/critical.s
    expect_status 0 "equiv --stack $st, the hybrid build: critical.s"
    expect_match out '^equivalent' "critical.s under the hybrid build ($st)"
done
run_capture "$TRAPEZE" equiv --isa hybrid --stack asm programs/critical.s
expect_status "$EXIT_NOT_EQUIVALENT" "equiv --stack asm, plain vmm.s on hybrid: critical.s"
expect_match out 'popf r0' "the plain VMM: the first difference is the kernel's popf"
run_capture "$TRAPEZE" equiv --isa hybrid --stack asm --asm-vmm programs/vmm/vmm.s programs/critical.s
expect_status "$EXIT_NOT_EQUIVALENT" "equiv --asm-vmm vmm.s on hybrid: critical.s"

# ---- Every program that runs under the asm VMM --------------------------------------
# (those with an .args or .isa sidecar need a C VMM or another variant)
for prog in programs/*.s programs/toyos/*.s programs/vmm/attack.s; do
    base=${prog%.s}
    [ -f "$base.expected" ] || continue
    { [ -f "$base.args" ] || [ -f "$base.isa" ]; } && continue
    args=()
    [ -f "$base.input" ] && args+=(--input "$base.input")
    if [ -f "$base.disk" ]; then
        disk_image "$TRAPEZE" "$base" "$E2E_TMP/disk.img" || fail "$prog: cannot make its disk"
        args+=(--disk "$E2E_TMP/disk.img")
    fi
    run_capture "$TRAPEZE" equiv "${HYB[@]}" --stack asm --max-steps 50000000 "${args[@]}" "$prog"
    expect_status 0 "equiv, the hybrid build on hybrid: $prog"
    expect_match out '^equivalent' "$prog under the hybrid build"
done
for prog in programs/traps.s programs/paging.s programs/toyos/toyos_paged.s; do
    run_capture "$TRAPEZE" equiv --asm-vmm "$H" --stack asm "$prog"
    expect_match out '^equivalent' "$prog under the hybrid build on pg"
done

# ---- Budget stops: the run asks the interpreter to yield (yield_request) -----------
# A kernel spinning in virtual supervisor mode, and toyos cut mid-kernel:
# the guest is whole at the step the budget ends, as on the bare machine.
for steps in 3000 3001 5555; do
    for prog in tests/attacks/interrupts_off_forever.s programs/toyos/toyos.s; do
        run_capture "$TRAPEZE" equiv "${HYB[@]}" --stack c,asm --max-steps "$steps" "$prog"
        expect_match out "^equivalent: .*budget after $steps steps" "$prog cut at $steps steps, hybrid build"
    done
done

# ---- The counts ---------------------------------------------------------------------
bare=$("$TRAPEZE" run --json programs/toyos/toyos.s 2>/dev/null)
run_capture "$TRAPEZE" run --json "${HYB[@]}" --stack asm programs/toyos/toyos.s
expect_status 1 "toyos under the hybrid build: status = processes killed"
e2e_checks=$((e2e_checks + 1))
jq -e --argjson bare "$bare" '
    .steps == $bare.steps and .output == $bare.output and .regs == $bare.regs
    and .levels[1].instructions == $bare.instructions
    and .levels[0].interpreted > 0 and .levels[0].interpreted < .levels[0].emulated
    and .levels[0].emulated < $bare.instructions
    and .levels[0].reflected == ($bare.traps | add)' <<<"$out" >/dev/null ||
    fail "toyos under the hybrid build: counts: $(jq -c '{steps, levels}' <<<"$out" | head -c 400)"
# critical.s is all kernel: every instruction it completes is interpreted or emulated.
run_capture "$TRAPEZE" run --json "${HYB[@]}" --stack asm programs/critical.s
e2e_checks=$((e2e_checks + 1))
jq -e '.levels[0].emulated == .levels[1].instructions and .levels[0].interpreted > 0' <<<"$out" >/dev/null ||
    fail "critical.s under the hybrid build: $(jq -c '.levels' <<<"$out" | head -c 400)"

# ---- The image ----------------------------------------------------------------------
"$TRAPEZE" asm "$H" -o "$E2E_TMP/h.img" 2>"$E2E_TMP/err" || fail "vmm_hybrid.s does not assemble: $(cat "$E2E_TMP/err")"
sym() { awk -v n="$1" '$1 == "symbol" && $4 == n { print $2 }' "$E2E_TMP/h.img"; }
e2e_checks=$((e2e_checks + 1))
[ $(($(sym hybrid_end))) -le $(($(sym SHADOW))) ] || fail "vmm_hybrid.s ends at $(sym hybrid_end), past SHADOW"
# The words hy_start replaces are each an `lpsw rpsw(r0)`, and reflect_mem's SAVE34.
"$TRAPEZE" asm "$H" --listing -o "$E2E_TMP/h2.img" >"$E2E_TMP/listing" 2>/dev/null
for label in resume_reset resume_loaded resume_reflected; do
    e2e_checks=$((e2e_checks + 1))
    grep -Eq "^0*$(printf %x $(($(sym "$label")))) .*${label}: lpsw rpsw\(r0\)" "$E2E_TMP/listing" ||
        fail "vmm.s's $label is not an 'lpsw rpsw(r0)'"
done
finish
