#!/usr/bin/env bash
# The attack suite through the command line: each tests/attacks/X.s, under
# each shadow page table policy of te (--shadow trace, rebuild, lazy),
#   - behaves exactly as on a bare machine (`trapeze equiv` says equivalent:
#     the VMM neither lets it out nor changes what it sees), with the
#     default memory and with one that is not a whole number of pages;
#   - runs as guest 0 next to hello, fib and sort, whose outputs stay
#     exactly their .expected files and which all halt with status 0.
# The unit test vmm_attacks/no_attack_escapes checks the rest (real memory
# outside the guests, the real PSW of every real instruction).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

T=$E2E_TMP
attacks=0 escapes=0
for attack in tests/attacks/*.s; do
    attacks=$((attacks + 1))
    before=$e2e_failures
    disk=() # an attack with an X.disk runs on a disk made from it (lib.sh disk_image)
    if [ -f "${attack%.s}.disk" ]; then
        disk_image "$TRAPEZE" "${attack%.s}" "$T/attack.img" || fail "$attack: cannot make its disk"
        disk=(--disk "$T/attack.img")
    fi
    for policy in trace rebuild lazy; do
        for mem in "" 65443; do
            run_capture "$TRAPEZE" equiv --vmm te --shadow "$policy" ${mem:+--mem "$mem"} \
                --max-steps 300000 "${disk[@]}" "$attack"
            expect_status 0 "$attack: equivalent to its bare run (--shadow $policy${mem:+, --mem $mem})"
        done
        "$TRAPEZE" run --vmm te --shadow "$policy" --json --max-steps 300000 "${disk[@]}" "$attack" \
            programs/hello.s programs/fib.s programs/sort.s >"$T/run.json" 2>/dev/null
        e2e_checks=$((e2e_checks + 1))
        k=1
        for victim in hello fib sort; do
            e2e_checks=$((e2e_checks + 1))
            jq -j ".guests[$k].output" "$T/run.json" >"$T/victim.out" 2>/dev/null
            cmp -s "$T/victim.out" "programs/$victim.expected" ||
                fail "$attack (--shadow $policy): the output of $victim (guest $k) changed"
            [ "$(jq -r ".guests[$k].stop + \" \" + (.guests[$k].status|tostring)" "$T/run.json")" = "halt 0" ] ||
                fail "$attack (--shadow $policy): $victim did not halt with status 0"
            k=$((k + 1))
        done
    done
    [ "$e2e_failures" -eq "$before" ] && echo "ok   $attack" || escapes=$((escapes + 1))
done
echo "$attacks attacks, $escapes escapes"
e2e_checks=$((e2e_checks + 1))
[ "$attacks" -ge 20 ] || fail "only $attacks attacks"
finish
