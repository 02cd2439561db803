#!/usr/bin/env bash
# soak_stack.sh: the full equivalence matrix of the stacks, too slow for
# `make test` (which runs a sample: tests/e2e/test_stack.sh,
# tests/e2e/test_toyos.sh, tests/e2e/test_asm_vmm.sh).
#
# Every program with an .expected file (and programs/vmm/attack.s) runs
# under `trapeze equiv` at depths 0 to 4 and under asm, asm,asm and
# asm,asm,asm, with its .input when it has one; each must be equivalent to
# its bare run.  Then toyos's amplification table.
#
#   TRAPEZE=./trapeze bash tests/e2e/soak_stack.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

shopt -s globstar nullglob
stacks=("--depth 0" "--depth 1" "--depth 2" "--depth 3" "--depth 4"
        "--stack asm" "--stack asm,asm" "--stack asm,asm,asm")
for prog in programs/**/*.s; do
    base=${prog%.s}
    [ -f "$base.expected" ] || continue
    [ -f "$base.disk" ] && continue # disk programs: tests/e2e/test_disk.sh runs them under the asm stacks
    [ -f "$base.isa" ] && continue  # a variant of its own (the hypervisor)
    args=(--max-steps 2000000000)
    [ -f "$base.input" ] && args+=(--input "$base.input")
    line=$(printf '%-32s' "$prog")
    for st in "${stacks[@]}"; do
        # shellcheck disable=SC2086
        run_capture "$TRAPEZE" equiv "${args[@]}" $st "$prog"
        e2e_checks=$((e2e_checks + 1))
        if [ "$status" -eq 0 ] && grep -q '^equivalent' <<<"$out"; then
            line+=" ok"
        else
            line+=" FAIL"
            fail "$prog $st: $(head -n 5 <<<"$out$err")"
        fi
    done
    echo "$line"
done

echo
echo "toyos: machine instructions per guest privileged instruction"
for build in toyos toyos_paged; do
    for d in 0 1 2 3 4; do
        "$TRAPEZE" run --json --depth $d "programs/toyos/$build.s" 2>/dev/null |
            jq -r --arg b "$build" --arg d "$d" \
               '"\($b) depth \($d): real \(.real.instructions // .instructions) instructions, " +
                "guest \(.instructions), amplification \(.levels[-1].amplification // 0)"'
    done
done
finish
