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
#     the three ways it gets there;
#   - every attack of tests/attacks/ is exact under the asm VMM (the disk
#     attacks on their disks, final contents compared), but for those that
#     use a page table past SHADOW_MAX entries: there the asm VMM gives up
#     (E_SHADOW) and says so.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
G=tests/guests
STACKS=("--stack asm" "--stack c,asm" "--stack asm,asm")

# ---- The bare runs ---------------------------------------------------------------
# The stop each guest's bare run ends with: its exit status, by name.
bare_status() {
    case $1 in
    new_psw_past_memory | shadow_edge_new_psw) echo "$EXIT_CRASHED" ;;
    shadow_limit_load) echo 42 ;; # the guest's r1 at halt
    user_compute) echo 56 ;;      # its sum's low six bits
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
# ---- The shadow's limit: the VMM gives up ----------------------------------------------
# Each guest uses page 0x1800 of a 0x1801-entry table: the C VMM runs it
# exactly; the asm VMM that sees the guest's own table (the top one) gives
# up with E_SHADOW, which the run reports, and nothing below it does.
# Levels count from the real machine: the top asm VMM is L0 alone, L1 on c or asm.
top_asm_level() { [ "$1" = "--stack asm" ] && echo 0 || echo 1; }
msg="the guest's page table is longer than the shadow table"
for name in shadow_limit_new_psw shadow_limit_lpsw shadow_limit_load; do
    prog=$G/$name.s
    run_capture "$TRAPEZE" equiv "$prog"
    expect_status 0 "equiv $prog under the C VMM"
    expect_match out '^equivalent' "equiv $prog under the C VMM: equivalent"
    first=$(head -n 1 "$G/$name.expected")
    # What the guest has when the VMM gives up: a delivered trap (the svc,
    # its new PSW now the guest's) or none at all.
    case $name in
    shadow_limit_new_psw) traps='{"SVC": 1}' psw='{"flags": 5, "pc": 1572864, "base": 4096, "bound": 6145, "timer": 0}' ;;
    *) traps='{}' psw='{"flags": 5, "pc": 2, "base": 4096, "bound": 6145, "timer": 0}' ;;
    esac
    for st in "${STACKS[@]}"; do
        lvl=$(top_asm_level "$st")
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" run --json $st "$prog"
        expect_status "$EXIT_CRASHED" "run --json $st $name: the VMM gave up"
        e2e_checks=$((e2e_checks + 1))
        jq -e --argjson lvl "$lvl" --arg msg "$msg" --arg first "$first" \
              --argjson traps "$traps" --argjson psw "$psw" '
            .stop == "unhandled-trap" and .vmm_error == {level: $lvl, message: $msg}
            and .output == $first + "\n" and .psw == $psw
            and ([.traps | to_entries[] | select(.value > 0)] | from_entries) == $traps' \
            <<<"$out" >/dev/null ||
            fail "run --json $st $name: $(jq -c '{stop, vmm_error, psw, traps}' <<<"$out" 2>&1 | head -c 400)"
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" run $st "$prog"
        expect_status "$EXIT_CRASHED" "run $st $name"
        expect_match err "^trapeze: the asm VMM at L$lvl gave up: $msg\$" "run $st $name: the stop line says so"
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" equiv $st "$prog"
        expect_status "$EXIT_NOT_EQUIVALENT" "equiv $st $name: not equivalent"
        expect_match out "^the asm VMM at L$lvl gave up: $msg\$" "equiv $st $name: names the VMM that gave up"
    done
done
# A new pc just past a table of exactly SHADOW_MAX entries is past the
# guest's own table: its machine check, as on the bare machine.
for st in "${STACKS[@]}"; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" equiv $st "$G/shadow_edge_new_psw.s"
    expect_status 0 "equiv $st shadow_edge_new_psw"
    expect_match out '^equivalent: .* machine-check' "equiv $st shadow_edge_new_psw: the same machine check"
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" run --json $st "$G/shadow_edge_new_psw.s"
    e2e_checks=$((e2e_checks + 1))
    jq -e '.stop == "machine-check" and has("vmm_error") == false' <<<"$out" >/dev/null ||
        fail "run --json $st shadow_edge_new_psw: $(jq -c '{stop, vmm_error}' <<<"$out")"
done
# ---- The attack suite, on the asm VMM ----------------------------------------------------
# Every attack of tests/attacks/ (test_vmm_attacks.sh runs them on the C
# VMM) sees exactly its bare machine under the asm VMM too, but for those
# that use their page table past SHADOW_MAX entries on purpose (the C VMM's
# capacity, a bound of 0xffffffff): the asm VMM gives up there, as with the
# shadow_limit guests above.
past_shadow_max=" shadow_past_capacity shadow_table_past_memory "
attacks=0
for attack in tests/attacks/*.s; do
    attacks=$((attacks + 1))
    name=$(basename "$attack" .s)
    disk=() # an attack with an X.disk runs on a disk made from it: hypervisor-direct at each asm level
    if [ -f "${attack%.s}.disk" ]; then
        disk_image "$TRAPEZE" "${attack%.s}" "$E2E_TMP/attack.img" || fail "$attack: cannot make its disk"
        disk=(--disk "$E2E_TMP/attack.img")
    fi
    for st in "${STACKS[@]}"; do
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" equiv --max-steps 300000 $st "${disk[@]}" "$attack"
        if [[ $past_shadow_max == *" $name "* ]]; then
            expect_status "$EXIT_NOT_EQUIVALENT" "equiv $st $attack: the asm VMM gives up"
            expect_match out "^the asm VMM at L$(top_asm_level "$st") gave up: $msg\$" \
                "equiv $st $attack: names the VMM that gave up"
        else
            expect_status 0 "equiv $st $attack"
            expect_match out '^equivalent' "equiv $st $attack: equivalent"
        fi
    done
done
e2e_checks=$((e2e_checks + 1))
[ "$attacks" -ge 12 ] || fail "only $attacks attacks"
finish
