#!/usr/bin/env bash
# make install PREFIX=... (and DESTDIR=...), then the installed trapeze from a
# directory with no programs/ in sight: --version, asm -I, every installed
# program against its .expected, and the built-in asm VMM; make uninstall
# removes everything again.
. "$(dirname "$0")/lib.sh" || exit 1
[ -d "${E2E_TMP:-}" ] || exit 1 # every path below is under it

# ---- The lead's changes these checks waited for (both in) -------------------------
#   EMBEDDED_VMM: the run layer (vmm/run) assembles the asm VMM built into
#     the binary, so --stack asm needs no file.
#   RUN_INCLUDE_DIRS: run, equiv, debug and tui pass run_options.include_dirs
#     to the assembler, so -I DIR reaches it.
EMBEDDED_VMM=1
RUN_INCLUDE_DIRS=1

T=$E2E_TMP
P=$T/usr          # PREFIX
D=$P/share/trapeze/programs
# The make under test, not the one running `make test` (its jobserver).
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" "$@"; }

# What install must copy: the programs with their expected results, the READMEs.
mapfile -t shipped < <(cd "$ROOT" && find programs -type f \( -name '*.s' -o -name '*.inc' \
    -o -name '*.expected' -o -name '*.input' -o -name '*.status' -o -name '*.disk' -o -name '*.txt' \
    -o -name '*.md' -o -name '*.isa' -o -name '*.args' \) | sort)

run_capture mk install PREFIX="$P"
expect_status 0 "make install PREFIX=..."
e2e_checks=$((e2e_checks + 1))
[ -x "$P/bin/trapeze" ] || fail "no executable $P/bin/trapeze"
e2e_checks=$((e2e_checks + 1))
cmp -s "$P/bin/trapeze" "$ROOT/trapeze" || fail "bin/trapeze is not the release binary ./trapeze"
e2e_checks=$((e2e_checks + 1))
[ "${#shipped[@]}" -gt 20 ] || fail "found only ${#shipped[@]} program files in the tree"
for f in "${shipped[@]}"; do
    e2e_checks=$((e2e_checks + 1))
    cmp -s "$ROOT/$f" "$P/share/trapeze/$f" || fail "make install did not copy $f"
done
e2e_checks=$((e2e_checks + 1))
n=$(find "$P" -type f | wc -l)
[ "$n" -eq $((${#shipped[@]} + 2)) ] || fail "make install wrote $n files, expected ${#shipped[@]} programs + 2"

# the man page: version and PREFIX filled in, and it renders
version=$(sed -n 's/^VERSION *= *//p' "$ROOT/Makefile")
MAN=$P/share/man/man1/trapeze.1
e2e_checks=$((e2e_checks + 1))
grep -q "^\.TH TRAPEZE 1 .*\"trapeze $version\"" "$MAN" || fail "the installed page has no version $version"
e2e_checks=$((e2e_checks + 1))
grep -qF -e '@VERSION@' -e '\fIPREFIX\fP' "$MAN" && fail "the installed page has a placeholder left"
e2e_checks=$((e2e_checks + 1))
grep -qF "$P/share/trapeze/programs/" "$MAN" || fail "the installed page does not name $P/share/trapeze/programs/"
if command -v man >/dev/null; then
    MANWIDTH=80 run_capture man -l "$MAN"
    expect_status 0 "man -l of the installed page"
    expect_match out "trapeze $version" "the installed page shows the version"
fi

# ---- From a directory with no programs/ -------------------------------------------------
W=$T/elsewhere
mkdir -p "$W/inc" "$W/src"
cd "$W" || exit 1
TZ=$P/bin/trapeze

run_capture "$TZ" --version
expect_status 0 "installed --version"
expect_match out "^trapeze ${version//./\\.}\$" "installed --version prints $version"

# an include found only through -I
printf '.equ ANSWER, 42\n' >inc/answer.inc
printf '        .include "answer.inc"\n_start: li r1, ANSWER\n        halt\n' >src/prog.s
run_capture "$TZ" asm src/prog.s
expect_status "$EXIT_BAD_INPUT" "asm without -I: the include is missing"
expect_match err "^src/prog\.s:1:18: error: cannot open include file 'src/answer\.inc': No such file or directory$" \
    "the missing include names file:line:col and where it looked"
run_capture "$TZ" asm -I nowhere -I inc src/prog.s -o prog.img
expect_status 0 "asm -I nowhere -I inc"
expect_lines err 0 "asm -I is silent"
run_capture "$TZ" run prog.img
expect_status 42 "the image assembled with -I runs"
run_capture "$TZ" asm -I nowhere -I also-nowhere src/prog.s -o prog.img
expect_status "$EXIT_BAD_INPUT" "asm with -I directories that lack the file"
expect_match err "^src/prog\.s:1:18: error: cannot find include file 'answer\.inc': looked for 'src/answer\.inc', 'nowhere/answer\.inc', 'also-nowhere/answer\.inc'" \
    "the message lists every place, in order"
run_capture "$TZ" disasm -I inc src/prog.s
expect_status 0 "disasm -I of a source"
expect_match out "addi r1, r0, 42" "disasm -I assembled through the include"
for cmd in asm disasm; do
    run_capture "$TZ" $cmd src/prog.s -I
    expect_status "$EXIT_BAD_INPUT" "$cmd -I without a directory"
    expect_match err "^trapeze $cmd: -I needs a directory \(see trapeze $cmd --help\)$" "$cmd -I: message"
    run_capture "$TZ" $cmd -I '' src/prog.s
    expect_status "$EXIT_BAD_INPUT" "$cmd -I ''"
    expect_match err "^trapeze $cmd: -I needs a directory, got an empty name" "$cmd -I '': message"
done
for cmd in run equiv debug tui; do
    run_capture "$TZ" $cmd src/prog.s -I
    expect_status "$EXIT_BAD_INPUT" "$cmd -I without a directory"
    expect_match err "^trapeze $cmd: -I needs a value \(DIR\)$" "$cmd -I: message"
    run_capture "$TZ" $cmd -I= src/prog.s
    expect_status "$EXIT_BAD_INPUT" "$cmd -I with an empty directory"
    expect_match err "^trapeze $cmd: -I: expected a directory$" "$cmd -I '': message"
done
if [ "$RUN_INCLUDE_DIRS" = 1 ]; then
    run_capture "$TZ" run -I inc src/prog.s
    expect_status 42 "run -I inc"
    run_capture "$TZ" equiv -I inc src/prog.s
    expect_status 0 "equiv -I inc"
    run_capture "$TZ" debug -I inc src/prog.s <<<c
    expect_status 0 "debug -I inc"
    expect_match out '^the program halted, status 42$' "debug -I inc: the include was found"
fi

# every installed program, run where it was installed, gives its .expected
check_expected "$TZ" "$D"
e2e_checks=$((e2e_checks + 1))
[ "$checked_programs" -ge 10 ] || fail "ran only $checked_programs installed programs"
run_capture "$TZ" run "$D/hello.s"
expect_status 0 "run the installed hello.s"
e2e_checks=$((e2e_checks + 1))
[ "$out" = "$(cat "$D/hello.expected")" ] || fail "hello.s: $out"

# the built-in asm VMM: no programs/vmm/vmm.s near the binary or here
if [ "$EMBEDDED_VMM" = 1 ]; then
    run_capture "$TZ" run --stack asm "$D/hello.s"
    expect_status 0 "run --stack asm from a directory with no programs/"
    e2e_checks=$((e2e_checks + 1))
    [ "$out" = "$(cat "$D/hello.expected")" ] || fail "hello.s under the embedded asm VMM: $out"
    run_capture "$TZ" equiv --depth 3 "$D/hello.s"
    expect_status 0 "equiv --depth 3 with the embedded asm VMM"
fi
cd "$ROOT" || exit 1

# ---- DESTDIR: staged under it, configured for PREFIX ----------------------------------
S=$T/stage
run_capture mk install DESTDIR="$S" PREFIX=/opt/trapeze
expect_status 0 "make install DESTDIR=... PREFIX=/opt/trapeze"
e2e_checks=$((e2e_checks + 1))
[ -x "$S/opt/trapeze/bin/trapeze" ] && [ -f "$S/opt/trapeze/share/man/man1/trapeze.1" ] &&
    [ -f "$S/opt/trapeze/share/trapeze/programs/vmm/vmm.s" ] || fail "DESTDIR install is incomplete"
e2e_checks=$((e2e_checks + 1))
grep -qF "/opt/trapeze/share/trapeze/programs/" "$S/opt/trapeze/share/man/man1/trapeze.1" &&
    ! grep -qF "$S" "$S/opt/trapeze/share/man/man1/trapeze.1" ||
    fail "the staged page names PREFIX, not DESTDIR"
run_capture mk uninstall DESTDIR="$S" PREFIX=/opt/trapeze
expect_status 0 "make uninstall DESTDIR=..."
e2e_checks=$((e2e_checks + 1))
left=$(find "$S" -type f)
[ -z "$left" ] || fail "uninstall DESTDIR left files: ${left:0:300}"

# ---- uninstall: everything install wrote is gone -----------------------------------------
touch "$P/share/man/man1/other.1" # not ours: stays, and so does its folder
run_capture mk uninstall PREFIX="$P"
expect_status 0 "make uninstall PREFIX=..."
e2e_checks=$((e2e_checks + 1))
left=$(find "$P" -type f)
[ "$left" = "$P/share/man/man1/other.1" ] || fail "uninstall left (or took) files: ${left:0:300}"
e2e_checks=$((e2e_checks + 1))
[ ! -e "$P/share/trapeze" ] || fail "uninstall left $P/share/trapeze: $(find "$P/share/trapeze" | head -5)"
run_capture mk uninstall PREFIX="$P"
expect_status 0 "make uninstall when nothing is installed"

finish
