#!/usr/bin/env bash
# Views that are always true: at every step of the program, what
# `trapeze debug` shows for it (its step count, its registers, its pc and
# flags, its state) is what it shows for the same program on the bare
# machine, whatever monitors it runs under.  toyos (a kernel with relocated
# processes and a timer), paging.s (a paging guest) and timer.s (a timer
# guest), at depths 0 to 3 and on asm,asm,asm, stepped one step of the
# program at a time from its first to past its halt.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

# regs_of FILE: the program's `info regs` blocks, without the level's name
# (L0 program / L3 guest), one step after the other.
regs_of() {
    awk '/^L[0-9]+ [a-z]+: [^ ]+, step [0-9]+/ { sub(/^L[0-9]+ [a-z]+: /, ""); n = 6 }
         n > 0 { print; n-- }' "$1"
}

for prog in programs/toyos/toyos.s programs/paging.s programs/timer.s; do
    name=$(basename "$prog" .s)
    input=${prog%.s}.input
    in_args=()
    [ -f "$input" ] && in_args=(--input "$input")
    steps=$("$TRAPEZE" run --json "${in_args[@]}" "$prog" 2>/dev/null | jq .steps)
    e2e_checks=$((e2e_checks + 1))
    [ -n "$steps" ] && [ "$steps" -gt 100 ] || { fail "$name: no step count from run --json"; continue; }
    for spec in bare c c,asm c,asm,asm asm,asm,asm; do
        level=$(awk -F, -v s="$spec" 'BEGIN { print s == "bare" ? 0 : split(s, a, ",") }')
        { echo "level $level"; for ((i = 0; i < steps + 2; i++)); do echo step; echo 'info regs'; done; } \
            >"$T/$name.cmds"
        "$TRAPEZE" debug --stack "$spec" "${in_args[@]}" "$prog" <"$T/$name.cmds" >"$T/$name.$spec.out" 2>&1
        regs_of "$T/$name.$spec.out" >"$T/$name.$spec.regs"
        e2e_checks=$((e2e_checks + 1))
        blocks=$(grep -c ', step ' "$T/$name.$spec.regs")
        [ "$blocks" -eq $((steps + 2)) ] ||
            fail "$name on $spec: $blocks views of the program, expected $((steps + 2))"
        [ "$spec" = bare ] && continue
        e2e_checks=$((e2e_checks + 1))
        if ! cmp -s "$T/$name.bare.regs" "$T/$name.$spec.regs"; then
            fail "$name on $spec: the debugger shows the program otherwise than on the bare machine:"
            diff "$T/$name.bare.regs" "$T/$name.$spec.regs" | head -n 16 | sed 's/^/    /'
        fi
    done
    e2e_checks=$((e2e_checks + 1))
    grep -q "(stopped: halt)" "$T/$name.bare.regs" || fail "$name: the steps did not reach the halt"
done

finish
