#!/usr/bin/env bash
# The disk units (ISA.md "The disk") through the command line:
#   - --disk FILE on run, equiv, debug and tui: a missing, unreadable,
#     read-only, wrongly sized, too big, non-regular or repeated file, or a
#     fifth disk, is one line naming it, exit status 125;
#   - the file is written through: a completed write is in the file while
#     the program still runs (it survives a kill -9);
#   - every disk program (programs/**/X.s with an X.disk) under the C VMM
#     (hypervisor-direct) prints its .expected, is `equiv`alent (the final
#     disk contents compared too), leaves the same file as its bare run,
#     and counts the same disk commands in --json; with --vms 2 each guest
#     works on its own partition;
#   - under the asm VMM (asm, c,asm, asm,asm, depth 3) disk.s and store.s
#     run as bare (output, disk, counts) and are equivalent; an asm VMM
#     without the disk's words refuses one (one line, 125);
#   - --io passthrough: the same output and disk as bare; with the IOMMU
#     disk_passthrough_escape.s is refused, with --no-iommu it overwrites
#     its neighbour (the escape the suite shows on purpose);
#   - disk_dma_escape.s (tests/attacks) as one of four guests writes only
#     its own partition's last sector: every other sector stays zero;
#   - --io split: split.s (a ring, one kick per batch, event suppression,
#     one interrupt) writes and reads back its sectors, on its own
#     partition with two guests; bare and under other models its hcall is
#     a trap; disk.s and store.s (ports) as bare; split_ring_attack.s next
#     to three guests changes only its own last sector;
#   - trapeze mkdisk: zeroed images, record stores and --list, its errors.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
shopt -s globstar nullglob
T=$E2E_TMP

"$TRAPEZE" mkdisk -o "$T/ok.img" --sectors 4
e2e_checks=$((e2e_checks + 1))
[ "$(stat -c %s "$T/ok.img")" = 4096 ] || fail "mkdisk --sectors 4: not 4096 bytes"

# ---- Bad disk files ------------------------------------------------------------------------------
printf 'abc' >"$T/short.img"
: >"$T/empty.img"
truncate -s 1000 "$T/odd.img"
truncate -s $((65536 * 1024 + 1024)) "$T/big.img"
mkdir "$T/dir.img"
mkfifo "$T/fifo.img"
bad() { # FILE MESSAGE-REGEX DESCRIPTION [CMD]
    local cmd=${4:-run}
    run_capture timeout 20 "$TRAPEZE" "$cmd" --disk "$1" programs/hello.s
    expect_status "$EXIT_BAD_INPUT" "$cmd --disk $3"
    expect_lines err 1 "$cmd --disk $3: one line"
    expect_match err "^trapeze $cmd: --disk: .*$2" "$cmd --disk $3: the message"
}
for cmd in run equiv debug tui; do
    bad "$T/missing.img" "cannot open '$T/missing.img': No such file" "a missing file" "$cmd"
    bad "$T/odd.img" "'$T/odd.img' has 1000 bytes: a disk holds a non-zero multiple of 1024" "a wrong size" "$cmd"
done
bad "$T/short.img" "has 3 bytes" "a short file"
bad "$T/empty.img" "has 0 bytes" "an empty file"
bad "$T/big.img" "has 67109888 bytes.*at most 67108864" "a file past the largest unit"
bad "$T/dir.img" "'$T/dir.img'" "a directory"
bad "$T/fifo.img" "'$T/fifo.img' is not a regular file" "a FIFO"
bad /dev/null "'/dev/null' is not a regular file" "a device"
run_capture "$TRAPEZE" run --disk "$T/ok.img" --disk "$T/ok.img" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "the same file twice"
expect_match err "^trapeze run: --disk: '$T/ok.img' is unit 0 already$" "the same file twice: the message"
for k in 1 2 3 4; do cp "$T/ok.img" "$T/u$k.img"; done
"$TRAPEZE" mkdisk -o "$T/u5.img" --sectors 1
run_capture "$TRAPEZE" run --disk "$T/u1.img" --disk "$T/u2.img" --disk "$T/u3.img" --disk "$T/u4.img" \
    --disk "$T/u5.img" programs/hello.s
expect_status "$EXIT_BAD_INPUT" "a fifth disk"
expect_match err "^trapeze run: --disk: at most 4 disks" "a fifth disk: the message"
run_capture "$TRAPEZE" run --disk "$T/u1.img" --disk "$T/u2.img" --disk "$T/u3.img" --disk "$T/u4.img" \
    programs/hello.s
expect_status 0 "four disks"

# Read-only: as an unprivileged user when the tests run as root (root may write anything).
cp "$T/ok.img" "$T/ro.img"
chmod 444 "$T/ro.img"
chmod 755 "$T"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
run_capture "${as_user[@]}" "$TRAPEZE" run --disk "$T/ro.img" "$ROOT/programs/hello.s"
expect_status "$EXIT_BAD_INPUT" "a read-only file"
expect_match err "^trapeze run: --disk: '$T/ro.img' is read-only \(a disk is written through\)" \
    "a read-only file: the message"
chmod 600 "$T/ro.img"
[ "$(id -u)" = 0 ] && chown 65534 "$T/ro.img" 2>/dev/null
chmod 000 "$T/ro.img"
run_capture "${as_user[@]}" "$TRAPEZE" run --disk "$T/ro.img" "$ROOT/programs/hello.s"
expect_status "$EXIT_BAD_INPUT" "an unreadable file"
expect_match err "^trapeze run: --disk: cannot open '$T/ro.img': Permission denied" "an unreadable file: the message"

# ---- Written through: a completed write is in the file at once ------------------------------------
cat >"$T/write_then_spin.s" <<'EOF'
        .include "lib/machine.inc"
        la r1, data
        out r1, DISK0+DK_ADDR
        li r1, 1
        out r1, DISK0+DK_SECTOR
        li r1, CMD_WRITE
        out r1, DISK0+DK_CMD
spin:   b spin
        .org 0x400
data:   .word 0x600dd15c, 0xfeedface
EOF
"$TRAPEZE" mkdisk -o "$T/through.img" --sectors 2
# $pid is trapeze's own, so kill -9 below hits it (under timeout it hit
# timeout and left trapeze spinning for the rest of make test); the loop
# below bounds the wait.
"$TRAPEZE" run -I programs --max-steps 100000000000 --disk "$T/through.img" \
    "$T/write_then_spin.s" >/dev/null 2>&1 &
pid=$!
written=
for _ in $(seq 1 300); do
    if [ "$(od -A n -t x4 -j 1024 -N 8 "$T/through.img" | tr -s ' ')" = " 600dd15c feedface" ]; then
        written=yes
        break
    fi
    sleep 0.1
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
e2e_checks=$((e2e_checks + 1))
[ -n "$written" ] || fail "the write did not reach the file while the program ran"
e2e_checks=$((e2e_checks + 1))
[ "$(od -A n -t x4 -j 1024 -N 8 "$T/through.img" | tr -s ' ')" = " 600dd15c feedface" ] ||
    fail "after kill -9 the written sector is not in the file"

# debug takes a disk too, written through; going back and on again leaves the same file.
for stack in "" "--vmm te" "--stack asm,asm"; do
    "$TRAPEZE" mkdisk -o "$T/debug.img" --sectors 4
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" debug $stack --disk "$T/debug.img" programs/disk.s <<<$'c\nreverse-step\nc\n'
    expect_status 0 "debug ${stack:-bare} --disk"
    expect_match out '^the program halted, status 0$' "debug ${stack:-bare} --disk: the program halts"
    e2e_checks=$((e2e_checks + 1))
    disk_image "$TRAPEZE" programs/disk "$T/fresh.img"
    "$TRAPEZE" run --disk "$T/fresh.img" programs/disk.s >/dev/null 2>&1
    cmp -s "$T/fresh.img" "$T/debug.img" || fail "debug ${stack:-bare} --disk: the file differs from a run's"
done

# ---- Every disk program: bare, hypervisor-direct, equiv ------------------------------------------
progs=0
for prog in programs/**/*.s; do
    base=${prog%.s}
    [ -f "$base.disk" ] && [ -f "$base.expected" ] || continue
    [ -f "$base.args" ] && continue # needs a monitor (split.s): below
    progs=$((progs + 1))
    disk_image "$TRAPEZE" "$base" "$T/fresh.img"
    cp "$T/fresh.img" "$T/bare.img"
    cp "$T/fresh.img" "$T/te.img"
    "$TRAPEZE" run --json --disk "$T/bare.img" "$prog" >"$T/bare.json" 2>/dev/null
    run_capture "$TRAPEZE" run --vmm te --disk "$T/te.img" "$prog"
    expect_status 0 "$prog under --vmm te"
    e2e_checks=$((e2e_checks + 1))
    [ "$out" = "$(cat "$base.expected")" ] || fail "$prog under --vmm te: output differs: $(diff <(echo "$out") "$base.expected" | head -5)"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$T/bare.img" "$T/te.img" || fail "$prog: the disk after te differs from the disk after the bare run"
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$T/fresh.img" "$T/bare.img" && fail "$prog: wrote nothing to its disk"
    cp "$T/fresh.img" "$T/te.img"
    "$TRAPEZE" run --json --vmm te --disk "$T/te.img" "$prog" >"$T/te.json" 2>/dev/null
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq -c .disk "$T/bare.json")" = "$(jq -c .disk "$T/te.json")" ] && [ "$(jq -c .disk "$T/te.json")" != null ] ||
        fail "$prog: disk counts bare $(jq -c .disk "$T/bare.json"), te $(jq -c .disk "$T/te.json")"
    for mode in te hvm interp; do
        cp "$T/fresh.img" "$T/equiv.img"
        run_capture "$TRAPEZE" equiv --vmm "$mode" --disk "$T/equiv.img" "$prog"
        expect_status 0 "$prog: equiv --vmm $mode"
        expect_match out '^equivalent' "$prog: equiv --vmm $mode says equivalent"
        e2e_checks=$((e2e_checks + 1))
        cmp -s "$T/fresh.img" "$T/equiv.img" || fail "$prog: equiv wrote to the disk file"
    done
    echo "ok   $prog"
done
e2e_checks=$((e2e_checks + 1))
[ "$progs" -ge 1 ] || fail "no disk programs found"

# store.s leaves its records on the disk: the host reads them back.
disk_image "$TRAPEZE" programs/store "$T/store_run.img"
"$TRAPEZE" run --vmm te --disk "$T/store_run.img" programs/store.s >/dev/null 2>&1
run_capture "$TRAPEZE" mkdisk --list "$T/store_run.img"
expect_status 0 "mkdisk --list after store.s"
expect_lines out 3 "store.s: three records on the disk"
expect_match out '^greeting 55:hello from the store, written through to the disk file\\n$' "store.s: its record, on the host"

disk_image "$TRAPEZE" programs/disk "$T/fresh.img"
run_capture "$TRAPEZE" equiv --json --disk "$T/fresh.img" programs/disk.s
expect_status 0 "equiv --json with a disk"
e2e_checks=$((e2e_checks + 1))
[ "$(jq -c '[.bare.disk, .vmm.disk]' <<<"$out")" = '[{"reads":1,"writes":1,"errors":2},{"reads":1,"writes":1,"errors":2}]' ] ||
    fail "equiv --json disk counts: $(jq -c '[.bare.disk, .vmm.disk]' <<<"$out")"

# --vms 2 on one unit of 4 sectors: each guest has 2, its "sector 1" real sector 1 and 3.
"$TRAPEZE" mkdisk -o "$T/two.img" --sectors 4
run_capture "$TRAPEZE" run --vmm te --vms 2 --disk "$T/two.img" programs/disk.s
expect_status 0 "disk.s, two guests"
expect_match out '^\[vm1\] disk: unit 0 has 2$' "two guests: each sees half the unit"
for sector in 1 3; do
    e2e_checks=$((e2e_checks + 1))
    [ "$(od -A n -t x4 -j $((sector * 1024)) -N 4 "$T/two.img" | tr -d ' ')" = 00000073 ] ||
        fail "two guests: real sector $sector does not hold a guest's sector 1"
done
e2e_checks=$((e2e_checks + 1))
[ "$(od -A n -t x4 -j 0 -N 4 "$T/two.img" | tr -d ' ')$(od -A n -t x4 -j 2048 -N 4 "$T/two.img" | tr -d ' ')" = 0000000000000000 ] ||
    fail "two guests: sectors 0 and 2 changed"
"$TRAPEZE" mkdisk -o "$T/one.img" --sectors 1
run_capture "$TRAPEZE" run --vmm te --vms 2 --disk "$T/one.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "one sector for two guests"
expect_match err "cannot be shared by 2 guests" "one sector for two guests: the message"

# ---- The asm VMM: hypervisor-direct at every asm level ------------------------------------------
# disk.s and store.s under asm, c,asm, asm,asm and depth 3 print their
# .expected, leave the disk their bare run leaves, count the same commands
# in --json, and are `equiv`alent (final disk contents compared too).
for prog in programs/disk.s programs/store.s; do
    base=${prog%.s}
    disk_image "$TRAPEZE" "$base" "$T/bare.img"
    cp "$T/bare.img" "$T/fresh.img"
    "$TRAPEZE" run --json --disk "$T/bare.img" "$prog" >"$T/bare.json" 2>/dev/null
    for stack in "--stack asm" "--stack c,asm" "--stack asm,asm" "--depth 3"; do
        # shellcheck disable=SC2086
        disk_as_bare "$prog" "$T/fresh.img" "$T/bare.img" "$T/bare.json" $stack
    done
done
# An asm VMM of its own without the disk's words (vdisk_first, vdisk_size)
# cannot take one: one line, 125.
grep -v '^vdisk_first:\|^vdisk_size:' programs/vmm/vmm.s | sed 's/vdisk_first\|vdisk_size/vd_regs/g' >"$T/nodisk_vmm.s"
mkdir -p "$T/lib" && cp programs/lib/machine.inc "$T/lib/"
sed -i 's|"../lib/machine.inc"|"lib/machine.inc"|' "$T/nodisk_vmm.s"
run_capture "$TRAPEZE" run --stack asm --asm-vmm "$T/nodisk_vmm.s" programs/hello.s
expect_status 0 "an asm VMM without the disk's words still runs a program without a disk"
run_capture "$TRAPEZE" run --stack asm --asm-vmm "$T/nodisk_vmm.s" --disk "$T/fresh.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "an asm VMM without the disk's words, given a disk"
expect_lines err 1 "an asm VMM without the disk's words: one line"
expect_match err "defines no vdisk_first and vdisk_size: it cannot take a disk" \
    "an asm VMM without the disk's words: the message"
# A variant whose user mode executes out would hand the real unit to the guest.
printf 'variant outexec\nbase pg\nuser out exec\n' >"$T/outexec.var"
run_capture "$TRAPEZE" run --isa "$T/outexec.var" --vmm te --disk "$T/fresh.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "--vmm te --disk on a variant whose user mode executes out"
expect_match err "lets user mode execute in or out" "user out exec: the message"

# ---- The DMA attack: only its own partition changes ---------------------------------------------
"$TRAPEZE" mkdisk -o "$T/attack.img" --sectors 8
run_capture "$TRAPEZE" run --vmm te --disk "$T/attack.img" tests/attacks/disk_dma_escape.s programs/hello.s \
    programs/fib.s programs/sort.s
expect_status 0 "disk_dma_escape.s next to three guests"
expect_match out '^\[vm0\] EEEEEEED$' "disk_dma_escape.s: every command fails but its own write"
e2e_checks=$((e2e_checks + 1))
"$TRAPEZE" mkdisk -o "$T/zero8.img" --sectors 8
changed=$(cmp -l "$T/attack.img" "$T/zero8.img" | awk '{print int(($1 - 1) / 1024)}' | sort -u | tr '\n' ' ')
[ "$changed" = "1 " ] || fail "disk_dma_escape.s: sectors changed: '$changed' (expected only 1, its partition's last)"

# ---- Passthrough: whole units handed over, the IOMMU composed; without it, the escape ------------
# as_bare MODEL: disk.s and store.s under --vmm te --io MODEL print what
# they print bare and leave the same disk.
as_bare() {
    local prog
    for prog in programs/disk.s programs/store.s; do
        disk_image "$TRAPEZE" "${prog%.s}" "$T/bare.img"
        cp "$T/bare.img" "$T/model.img"
        "$TRAPEZE" run --disk "$T/bare.img" "$prog" >"$T/bare.out" 2>/dev/null
        run_capture "$TRAPEZE" run --vmm te --io "$1" --disk "$T/model.img" "$prog"
        expect_status 0 "$prog under --io $1"
        e2e_checks=$((e2e_checks + 2))
        [ "$out" = "$(cat "$T/bare.out")" ] || fail "$prog under --io $1: output differs from bare"
        cmp -s "$T/bare.img" "$T/model.img" || fail "$prog under --io $1: the disk differs from bare"
    done
}
as_bare passthrough
"$TRAPEZE" mkdisk -o "$T/pa.img" --sectors 4
"$TRAPEZE" mkdisk -o "$T/pb.img" --sectors 4
run_capture "$TRAPEZE" run --vmm te --io passthrough --disk "$T/pa.img" --disk "$T/pb.img" \
    tests/attacks/disk_passthrough_escape.s programs/hello.s
expect_status 0 "passthrough with the IOMMU: the attack is refused"
expect_match out '^\[vm0\] E$' "passthrough with the IOMMU: the DMA past its memory fails as bare"
expect_match out '^\[vm1\] Hello from Trapeze!$' "passthrough with the IOMMU: the neighbour is intact"
run_capture "$TRAPEZE" run --vmm te --io passthrough --no-iommu --disk "$T/pa.img" --disk "$T/pb.img" \
    tests/attacks/disk_passthrough_escape.s programs/hello.s
expect_status 2 "passthrough without the IOMMU: the escape (the attacker halts with 2)"
expect_match out '^\[vm0\] D$' "passthrough without the IOMMU: the DMA went through"
expect_match err '^\[vm1\] trapeze: unhandled trap ILL value 0x0 at pc 0x10' \
    "passthrough without the IOMMU: the neighbour's code was overwritten (the escape, on purpose)"
run_capture "$TRAPEZE" run --vmm te --io passthrough --vms 2 --disk "$T/pa.img" --disk "$T/pb.img" \
    --disk "$T/fresh.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "passthrough: a third unit for two guests"
expect_match err "disk unit 2 has no guest" "passthrough: a third unit for two guests: the message"
run_capture "$TRAPEZE" run --io passthrough --disk "$T/pa.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "--io on the bare machine"
expect_match err "^trapeze run: the I/O models are the C VMM's" "--io on the bare machine: the message"
run_capture "$TRAPEZE" run --vmm te --no-iommu --disk "$T/pa.img" programs/disk.s
expect_status "$EXIT_BAD_INPUT" "--no-iommu without passthrough"
run_capture "$TRAPEZE" run --vmm te --io ring programs/disk.s
expect_status "$EXIT_BAD_INPUT" "--io ring (no such model)"
expect_match err "expected direct, passthrough or split, got 'ring'" "--io ring: the message"

# ---- The split driver: a ring and one hcall per batch -------------------------------------------
# split.s writes sectors 0..3 in one polled batch and reads them back in one
# batch with one interrupt; two guests work on their own partitions.
"$TRAPEZE" mkdisk -o "$T/split.img" --sectors 8
run_capture "$TRAPEZE" run --json --vmm te --io split --disk "$T/split.img" programs/split.s
expect_status 0 "split.s under --io split"
e2e_checks=$((e2e_checks + 2))
[ "$(jq -j .output <<<"$out")" = "$(cat programs/split.expected)" ] || fail "split.s: output differs from split.expected"
[ "$(jq -c .disk <<<"$out")" = '{"units":1,"reads":4,"writes":4,"errors":1,"split":{"kicks":3,"requests":9,"notifications":1,"suppressed":1}}' ] ||
    fail "split.s: disk counts $(jq -c .disk <<<"$out")"
for k in 0 1 2 3; do
    e2e_checks=$((e2e_checks + 1))
    [ "$(dd if="$T/split.img" bs=1024 skip="$k" count=1 2>/dev/null | od -A n -t x4 -N 4 | tr -d ' ')" = 00000073 ] ||
        fail "split.s: sector $k does not hold its string (first word 's')"
done
for model in "" "--vmm te" "--vmm te --io direct"; do
    # shellcheck disable=SC2086
    run_capture "$TRAPEZE" run $model --disk "$T/split.img" programs/split.s
    expect_status 99 "split.s ${model:-bare}: its hcall is an ordinary trap (halt 99)"
done
"$TRAPEZE" mkdisk -o "$T/split2.img" --sectors 8
run_capture "$TRAPEZE" run --vmm te --vms 2 --io split --disk "$T/split2.img" programs/split.s
expect_status 0 "split.s, two guests"
expect_match out '^\[vm1\] split: read back: sector 0: the front end posts$' "split.s, two guests: guest 1 reads its own"
e2e_checks=$((e2e_checks + 1))
for k in 0 4; do
    [ "$(dd if="$T/split2.img" bs=1024 skip="$k" count=1 2>/dev/null | od -A n -t x4 -N 4 | tr -d ' ')" = 00000073 ] ||
        fail "split.s, two guests: real sector $k (a partition's sector 0) not written"
done
# The port-driven programs under --io split: the unit's ports still work, as bare.
as_bare split
# The attack on the back end: hostile rings, requests, indices and a kick
# flood, next to three guests; only its own last sector changes.
"$TRAPEZE" mkdisk -o "$T/attack.img" --sectors 8
run_capture "$TRAPEZE" run --json --vmm te --io split --disk "$T/attack.img" tests/attacks/split_ring_attack.s \
    programs/hello.s programs/fib.s programs/sort.s
expect_status 0 "split_ring_attack.s next to three guests"
e2e_checks=$((e2e_checks + 2))
[ "$(jq -r '.guests[0].output' <<<"$out")" = RRREEEEEED1RRFRR ] ||
    fail "split_ring_attack.s: not every hostile request refused or failed: $(jq -r '.guests[0].output' <<<"$out")"
changed=$(cmp -l "$T/attack.img" "$T/zero8.img" | awk '{print int(($1 - 1) / 1024)}' | sort -u | tr '\n' ' ')
[ "$changed" = "1 " ] || fail "split_ring_attack.s: sectors changed: '$changed' (expected only 1, its partition's last)"
k=1
for victim in hello fib sort; do
    e2e_checks=$((e2e_checks + 1))
    [ "$(jq -j ".guests[$k].output" <<<"$out")" = "$(cat "programs/$victim.expected")" ] &&
        [ "$(jq -r ".guests[$k].stop + \" \" + (.guests[$k].status|tostring)" <<<"$out")" = "halt 0" ] ||
        fail "split_ring_attack.s: $victim (guest $k) did not run as bare"
    k=$((k + 1))
done

# ---- mkdisk ---------------------------------------------------------------------------------------
printf 'one\ntwo\n' >"$T/alpha"
printf 'x%.0s' $(seq 1 300) >"$T/beta"
run_capture "$TRAPEZE" mkdisk -o "$T/store.img" --sectors 8 "$T/alpha" "$T/beta"
expect_status 0 "mkdisk a store"
run_capture "$TRAPEZE" mkdisk --list "$T/store.img"
expect_status 0 "mkdisk --list"
expect_lines out 2 "mkdisk --list: one line per record"
expect_match out '^alpha 8:one\\ntwo\\n$' "mkdisk --list: the first record"
expect_match out '^beta 300:x{300}$' "mkdisk --list: the second record"
run_capture "$TRAPEZE" mkdisk --list "$T/ok.img"
expect_status "$EXIT_BAD_INPUT" "mkdisk --list of a zeroed image"
expect_match err "holds no record store" "mkdisk --list of a zeroed image: the message"
run_capture "$TRAPEZE" mkdisk -o "$T/small.img" --sectors 2 "$T/alpha" "$T/beta"
expect_status "$EXIT_BAD_INPUT" "mkdisk: records that do not fit"
expect_match err "does not fit in 2 sectors" "mkdisk: records that do not fit: the message"
printf 'x' >"$T/a_name_too_long"
run_capture "$TRAPEZE" mkdisk -o "$T/x.img" "$T/a_name_too_long"
expect_status "$EXIT_BAD_INPUT" "mkdisk: a long name"
expect_match err "a record's name has 1 to 11 characters" "mkdisk: a long name: the message"
run_capture "$TRAPEZE" mkdisk --sectors 4
expect_status "$EXIT_BAD_INPUT" "mkdisk without -o"
run_capture "$TRAPEZE" mkdisk -o "$T/x.img"
expect_status "$EXIT_BAD_INPUT" "mkdisk without --sectors or files"
run_capture "$TRAPEZE" mkdisk -o "$T/x.img" --sectors 0
expect_status "$EXIT_BAD_INPUT" "mkdisk --sectors 0"
finish
