#!/usr/bin/env bash
# seeds.sh TARGET DIR TRAPEZE: writes the seed corpus of fuzz target TARGET
# into DIR, from the programs and tests of the tree, with the trapeze binary
# TRAPEZE (for images and witness lines).  Run from the root of the tree.
set -u
target=$1 dir=$2 trapeze=$3
mkdir -p "$dir"
sources() { find programs tests -name '*.s' -o -name '*.inc' | sort; }
images() { # each assembled program as DIR/NAME.img
    local f n
    while IFS= read -r f; do
        n=$(tr / _ <<<"${f%.s}")
        "$trapeze" asm "$f" -o "$dir/$n.img" >/dev/null 2>&1 || rm -f "$dir/$n.img"
    done < <(find programs tests -name '*.s' | sort)
}
case $target in
asm)
    while IFS= read -r f; do cp "$f" "$dir/$(tr / _ <<<"$f")"; done < <(sources) ;;
image)
    images ;;
variant)
    for f in isa/variants/*.var tests/variants/*.var; do cp "$f" "$dir/$(tr / _ <<<"$f")"; done ;;
witness)
    for v in pg hybrid x86like; do
        "$trapeze" check-isa --isa "$v" --json | jq -r '.. | .replay? // empty' |
            awk -v d="$dir" -v v="$v" '{ f = d "/" v "-" NR; printf "%s", $0 > f; close(f) }'
    done ;;
machine|vmm|stack)
    # guest.h's format: variant pg, a choice, the entry, no input, the
    # words from address 0 (at most 0x2000).
    images
    i=0
    for img in "$dir"/*.img; do
        [ -e "$img" ] || continue
        perl -e '
            my ($choice) = @ARGV; my (@mem, $entry, $at, $left) = ();
            while (<STDIN>) {
                if (/^entry 0x([0-9a-f]+)/) { $entry = hex $1; next }
                if (/^segment 0x([0-9a-f]+) (\d+)/) { ($at, $left) = (hex $1, $2); next }
                next unless $left;
                for my $w (split) { $mem[$at++] = hex $w if $at < 0x2000; $left--; }
            }
            $mem[$_] //= 0 for 0 .. $#mem;
            binmode STDOUT;
            print pack("CCNC", 0, $choice, $entry // 16, 0), pack("N*", @mem);
        ' $((i % 256)) <"$img" >"${img%.img}.guest"
        rm -f "$img"
        i=$((i + 1))
    done ;;
debugger)
    # fuzz_debugger.c's format: a program, a stack and variant, the script;
    # each debug test's script on program 0 (traps.s) bare and on c.
    for f in tests/debug/*.cmds; do
        n=$(basename "$f" .cmds)
        { printf '\000\000'; cat "$f"; } >"$dir/$n-bare"
        { printf '\000\001'; cat "$f"; } >"$dir/$n-c"
    done ;;
disk)
    # fuzz_disk.c's format: a program and side, how the file is made (bit
    # 0: padded to 1 + bits 1-4 sectors), its bytes; each disk program's
    # own disk (its .disk: mkdisk's arguments, from its folder) under
    # every side, trailing zeros cut (the padding puts them back).
    i=0 t=$(realpath "$trapeze")
    for prog in programs/disk.s programs/store.s programs/toyos/toyos_store.s \
                programs/toyos/toyos_store_paged.s; do
        img=$(mktemp)
        # shellcheck disable=SC2046 # the .disk file is mkdisk's words
        (cd "$(dirname "$prog")" && "$t" mkdisk -o "$img" $(cat "$(basename "$prog" .s).disk")) ||
            { echo "seeds.sh: cannot make the disk of $prog" >&2; exit 1; }
        sectors=$(( $(stat -c %s "$img") / 1024 ))
        for side in 0 1 2 3 4; do
            perl -e 'local $/; my $d = <STDIN>; $d =~ s/\0+\z//; binmode STDOUT;
                     print pack("CC", $ARGV[0], 1 | (($ARGV[1] - 1) & 15) << 1), $d' \
                $((i + 4 * side)) "$sectors" <"$img" >"$dir/$(basename "$prog" .s)-$side"
        done
        rm -f "$img"
        i=$((i + 1))
    done ;;
lab)
    # fuzz_lab.c's format: "LAB/FILE", a newline, the file's bytes; every
    # file of every lab's starter and reference.
    for f in labs/*/starter/* labs/*/solution/*; do
        [ -f "$f" ] || continue
        lab=${f#labs/} lab=${lab%%/*} side=${f%/*} side=${side##*/}
        { printf '%s/%s\n' "$lab" "$(basename "$f")"; cat "$f"; } >"$dir/$lab-$side-$(basename "$f")"
    done ;;
*)
    echo "seeds.sh: unknown target '$target'" >&2; exit 1 ;;
esac
