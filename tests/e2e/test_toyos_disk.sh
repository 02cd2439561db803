#!/usr/bin/env bash
# toyos's disk driver (programs/toyos/disk.inc) and the record store as a
# toyos process (toyos_store.s, toyos_store_paged.s), through the binary:
#   - bare: the .expected output, one completion interrupt per command,
#     the store's records on the disk read back on the host, and the very
#     disk store.s (the same store on the bare machine) leaves;
#   - the scheduling around disk waits: an IO interrupt taken in user mode
#     (another process runs while the store waits) and one in the idle loop
#     (nobody else is ready);
#   - bad system-call arguments (a buffer past the space, one that wraps,
#     a sector past the disk, sector -1; a read over the process's own
#     code under paging) are refused and the kernel goes on; with no disk
#     at all every call is refused and every process still ends;
#   - under --vmm te with --io direct, passthrough and split (run and
#     equiv), and under the asm VMM (--stack asm, asm,asm; run and equiv):
#     the output, the final disk and the disk counts equal the bare run's;
#   - two guests (--vms 2) on partitions of one unit: one formats its own.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
T=$E2E_TMP

disk_image "$TRAPEZE" programs/store "$T/store.img"
"$TRAPEZE" run --disk "$T/store.img" programs/store.s >/dev/null 2>&1

for build in toyos_store toyos_store_paged; do
    prog=programs/toyos/$build.s
    base=${prog%.s}
    disk_image "$TRAPEZE" "$base" "$T/fresh.img"
    cp "$T/fresh.img" "$T/bare.img"
    run_capture "$TRAPEZE" run --json --disk "$T/bare.img" "$prog"
    expect_status 0 "$build bare"
    bare_json=$out
    printf '%s\n' "$out" >"$T/bare.json"
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq -j .output <<<"$bare_json")" = "$(cat "$base.expected")" ] || fail "$build: output differs from $build.expected"
    commands=$(jq -j .output <<<"$bare_json" | sed -n 's/^toyos: disk: \([0-9]*\) commands, \([0-9]*\) completion interrupts, .*/\1 \2/p')
    e2e_checks=$((e2e_checks + 1))
    [ -n "$commands" ] && [ "$(jq '.traps.IO' <<<"$bare_json") $(jq '.traps.IO' <<<"$bare_json")" = "$commands" ] &&
        [ "$(jq '.disk.reads + .disk.writes' <<<"$bare_json")" = "${commands%% *}" ] ||
        fail "$build: commands and interrupts '$commands', traps $(jq -c .traps <<<"$bare_json"), disk $(jq -c .disk <<<"$bare_json")"
    run_capture "$TRAPEZE" mkdisk --list "$T/bare.img"
    expect_lines out 3 "$build: three records on the disk"
    expect_match out '^numbers 47:1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987\\n$' "$build: its record, on the host"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$T/bare.img" "$T/store.img" || fail "$build: the disk differs from the one store.s leaves (the same layout)"

    # The scheduling around disk waits.
    cp "$T/fresh.img" "$T/trace.img"
    run_capture "$TRAPEZE" run --trace traps --disk "$T/trace.img" "$prog"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: SVC svc 7 at L0 program, user' "$build: a disk read system call"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: SVC svc 8 at L0 program, user' "$build: a disk write system call"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: IO at L0 program, user -> ' \
        "$build: a completion interrupts another process (it ran while the store waited)"
    expect_match err '^\[ *[0-9]+\] trap [0-9]+: IO at L0 program, supervisor -> .*<idle_loop>$' \
        "$build: a completion in the idle loop (nobody else was ready)"
    expect_match out '^\[2\] count 1$' "$build: the counter runs"

    # Bad arguments: refused, and the kernel goes on.
    for probe in "a buffer past my space" "a buffer that wraps around" "sector 16 of 16" "sector -1"; do
        expect_match out "^\[3\] prober: $probe: refused$" "$build: $probe"
    done
    expect_match out '^toyos: pid 3 \(prober\) exited with status 0$' "$build: the prober ends normally"
    expect_match out '^toyos: all done after [0-9]+ ticks: 3 exited, 0 killed$' "$build: the kernel goes on to the end"
    run_capture "$TRAPEZE" run "$prog"
    expect_status 0 "$build without a disk"
    expect_match out '^toyos: pid 1 \(store\) exited with status 3$' "$build without a disk: the store's error exit"
    expect_match out '^toyos: disk: 0 commands, 0 completion interrupts, 7 calls refused$' \
        "$build without a disk: every call refused"
    expect_match out '^toyos: all done after [0-9]+ ticks: 3 exited, 0 killed$' "$build without a disk: the end"

    # Under the C VMM's three I/O models, and the asm VMM.
    for stack in "--vmm te --io direct" "--vmm te --io passthrough" "--vmm te --io split" "--stack asm" \
        "--stack asm,asm"; do
        # shellcheck disable=SC2086
        disk_as_bare "$prog" "$T/fresh.img" "$T/bare.img" "$T/bare.json" $stack
        expect_match out "^equivalent: $prog under $stack \\(--isa pg\\): halt, status 0" \
            "$build: equiv $stack names the model it checked"
    done
    echo "ok   $build"
done

# Two toyos guests, each on its own 16-sector partition of one unit: the
# first finds the host's record, the second finds no directory and formats
# its partition (store.inc's other way to mount), and each partition ends
# as a store of its own.
"$TRAPEZE" mkdisk -o "$T/two.img" --sectors 32 programs/store/motd.txt
run_capture "$TRAPEZE" run --vmm te --vms 2 --disk "$T/two.img" programs/toyos/toyos_store.s
expect_status 0 "two toyos_store guests"
e2e_checks=$((e2e_checks + 1))
[ "$(sed -n 's/^\[vm0\] //p' <<<"$out")" = "$(cat programs/toyos/toyos_store.expected)" ] ||
    fail "two guests: guest 0 does not print toyos_store.expected"
expect_match out '^\[vm1\] \[1\] store: no directory on the disk: formatted$' "two guests: guest 1 formats its partition"
expect_match out '^\[vm1\] \[1\] store: get motd.txt: not found$' "two guests: guest 1 has no record of the host's"
dd if="$T/two.img" of="$T/second.img" bs=1024 skip=16 2>/dev/null
run_capture "$TRAPEZE" mkdisk --list "$T/second.img"
expect_lines out 2 "two guests: the second partition holds guest 1's two records"
expect_match out '^greeting 55:' "two guests: the second partition's first record"
run_capture "$TRAPEZE" mkdisk --list "$T/two.img"
expect_lines out 3 "two guests: the first partition holds three records"

# The paging build refuses the read over the prober's own (read-only) code;
# relocation cannot.
expect_file_line() { # FILE LINE DESCRIPTION
    e2e_checks=$((e2e_checks + 1))
    grep -qxF "$2" "$1" || fail "$3"
}
expect_file_line programs/toyos/toyos_store.expected "[3] prober: a read over my code: done" \
    "relocation: the read over the prober's code is done"
expect_file_line programs/toyos/toyos_store_paged.expected "[3] prober: a read over my code: refused" \
    "paging: the read over the prober's code is refused"

# --io on equiv needs the C VMM at the bottom, as on run.
run_capture "$TRAPEZE" equiv --stack asm --io direct programs/hello.s
expect_status "$EXIT_BAD_INPUT" "equiv --stack asm --io direct"
expect_match err "the I/O models are the C VMM's" "equiv --stack asm --io direct: the message"
finish
