#!/usr/bin/env bash
# The VMM in the toy ISA (programs/vmm/vmm.s) on the regression guests of
# tests/guests/, through the real binary:
#   - each guest's bare run prints exactly its .expected file;
#   - MEM details through page-table entries past memory are the bare
#     machine's under every stack with an asm level (`equiv` says
#     equivalent, and the guest's own report of the trap area's cause word
#     is the bare one);
#   - a guest that uses its page table beyond the shadow's SHADOW_MAX
#     entries makes the asm VMM give up (vm_error E_SHADOW), whichever of
#     the three ways it gets there.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
G=tests/guests
STACKS=("--stack asm" "--stack c,asm" "--stack asm,asm")

# ---- The bare runs ---------------------------------------------------------------
# The stop each guest's bare run ends with: its exit status, by name.
bare_status() {
    case $1 in
    new_psw_past_memory) echo "$EXIT_CRASHED" ;;
    shadow_limit_load) echo 42 ;; # the guest's r1 at halt
    *) echo 0 ;;
    esac
}
for prog in "$G"/*.s; do
    name=$(basename "$prog" .s)
    run_capture "$TRAPEZE" run "$prog"
    expect_status "$(bare_status "$name")" "$prog: its bare run's status"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$E2E_TMP/out" "$G/$name.expected" ||
        fail "$prog: output differs from $G/$name.expected: $(diff "$G/$name.expected" "$E2E_TMP/out" | head -n 10)"
done

# ---- MEM details through entries past memory -----------------------------------------
# pte_past_memory.s reports the cause word of each trap: a store through a
# valid, read-only entry whose frame is past memory is write-protect (0x202),
# not physical, at every depth and under the C VMM's interpreter too.
for st in "--vmm te" "--vmm interp" "${STACKS[@]}" "--stack asm,asm,asm" "--depth 4"; do
    for prog in "$G/pte_past_memory.s" "$G/new_psw_past_memory.s" tests/attacks/forged_page_table.s; do
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" equiv $st "$prog"
        expect_status 0 "equiv $st $prog"
        expect_match out '^equivalent' "equiv $st $prog: equivalent"
    done
done
for st in "${STACKS[@]}"; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" run --json $st "$G/pte_past_memory.s"
    expect_status 0 "run $st pte_past_memory"
    e2e_checks=$((e2e_checks + 1))
    jq -e --rawfile want "$G/pte_past_memory.expected" '
        (.output | split("\n")) as $l | .output == $want
        and $l[1] == "cause 0x00000202 value 0x00000100"
        and $l[2] == "cause 0x00000302 value 0x00000101"
        and $l[6] == "cause 0x00000202 value 0x00000305"' <<<"$out" >/dev/null ||
        fail "run $st pte_past_memory: the cause words differ: $(jq -r .output <<<"$out" | head -n 8)"
    # The trap whose new pc lies in such a page: the same machine check.
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" run $st "$G/new_psw_past_memory.s"
    expect_status "$EXIT_CRASHED" "run $st new_psw_past_memory"
    expect_match err 'machine check: trap SVC value 0x1 at pc 0x[0-9a-f]+, and the new PSW.s pc 0x180 does not translate' \
        "run $st new_psw_past_memory: the guest's machine check"
done
finish
