#!/usr/bin/env bash
# The manual page cannot go stale: every subcommand that `trapeze --help`
# lists has its section in tui/trapeze.1, and every option that
# `trapeze CMD --help` prints is described there (in the command's section,
# or in RUN OPTIONS for a command whose section refers to them), and such a
# section names each run option its command does not take.  The page
# is linted with groff and man when they are installed.  --version is the
# Makefile's VERSION.
. "$(dirname "$0")/lib.sh"
PAGE=$ROOT/tui/trapeze.1

e2e_checks=$((e2e_checks + 1))
[ -f "$PAGE" ] || { fail "no $PAGE"; finish; }

# The roff text of a section: from the line ".SS NAME" or ".SH NAME" to the
# next .SS/.SH (or, for an .SH, to the next .SH).
section() { # KIND NAME
    awk -v kind="$1" -v name="$2" '
        $0 == kind " " name || $0 == kind " \"" name "\"" { on = 1; next }
        on && (/^\.SH/ || (kind == ".SS" && /^\.SS/)) { exit }
        on { print }' "$PAGE"
}
# How an option or a command is spelt in roff: every - as \-.
roff() { sed 's/-/\\-/g' <<<"$1"; }

run_capture "$TRAPEZE" --help
expect_status 0 "trapeze --help"
commands=$(sed -n '/^commands:$/,/^$/p' <<<"$out" | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
e2e_checks=$((e2e_checks + 1))
[ "$(wc -w <<<"$commands")" -ge 7 ] || fail "trapeze --help lists too few commands: $commands"
run_options=$(section .SH "RUN OPTIONS")
e2e_checks=$((e2e_checks + 1))
[ -n "$run_options" ] || fail "the page has no RUN OPTIONS section"
# option lines of a --help: indented, starting with -x or --name, maybe "-h, --help"
help_options() { grep -E '^[[:space:]]+-' | sed -E 's/^[[:space:]]+(-[-A-Za-z]+)(, (-[-A-Za-z]+))?.*/\1 \3/'; }
all_run_options=$("$TRAPEZE" run --help | help_options)
e2e_checks=$((e2e_checks + 1))
[ -n "$all_run_options" ] || fail "trapeze run --help shows no options"

for cmd in $commands; do
    text=$(section .SS "$(roff "$cmd")")
    e2e_checks=$((e2e_checks + 1))
    if [ -z "$text" ]; then
        fail "trapeze.1 has no section '.SS $(roff "$cmd")' for the command $cmd"
        continue
    fi
    own=$text
    grep -q 'RUN OPTIONS' <<<"$text" && text="$text
$run_options"
    run_capture "$TRAPEZE" "$cmd" --help
    expect_status 0 "trapeze $cmd --help"
    options=$(help_options <<<"$out")
    if grep -q 'RUN OPTIONS' <<<"$own"; then
        # the run options this command refuses are named in its own section
        for opt in $all_run_options; do
            grep -qxF -- "$opt" <<<"$(tr ' ' '\n' <<<"$options")" && continue
            e2e_checks=$((e2e_checks + 1))
            grep -qF -- "$(roff "$opt")" <<<"$own" ||
                fail "the section of $cmd does not say that it does not take $opt (write it as $(roff "$opt"))"
        done
    fi
    e2e_checks=$((e2e_checks + 1))
    [ -n "$options" ] || fail "trapeze $cmd --help shows no options: ${out:0:300}"
    for opt in $options; do
        e2e_checks=$((e2e_checks + 1))
        grep -qF -- "$(roff "$opt")" <<<"$text" ||
            fail "trapeze.1 does not describe $opt of trapeze $cmd (write it as $(roff "$opt"))"
    done
done
for opt in --version -V --help -h; do
    e2e_checks=$((e2e_checks + 1))
    section .SH SYNOPSIS | grep -qF -- "$(roff "$opt")" || fail "the SYNOPSIS lacks $opt"
done
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
    e2e_checks=$((e2e_checks + 1))
    grep -qx "\.SH \"*$sec\"*" "$PAGE" || fail "trapeze.1 has no $sec section"
done

# --version prints the Makefile's VERSION, the one definition
version=$(sed -n 's/^VERSION *= *//p' "$ROOT/Makefile")
run_capture "$TRAPEZE" --version
expect_status 0 "--version"
expect_match out "^trapeze ${version//./\\.}\$" "--version prints the Makefile's VERSION ($version)"
expect_lines out 1 "--version is one line"
run_capture "$TRAPEZE" -V
expect_status 0 "-V"
expect_match out "^trapeze ${version//./\\.}\$" "-V is --version"
run_capture "$TRAPEZE" --help
expect_match out "--version" "trapeze --help mentions --version"

# lint, where the tools are there
if command -v groff >/dev/null; then
    run_capture groff -man -ww -z "$PAGE"
    expect_status 0 "groff -man -ww accepts the page"
    expect_lines err 0 "groff -man -ww warns of nothing"
else
    echo "note: groff is not installed; the page is not linted"
fi
if command -v man >/dev/null && man --help 2>&1 | grep -q -- --warnings; then
    MANWIDTH=80 run_capture man --warnings -l "$PAGE"
    expect_status 0 "man -l renders the page"
    expect_lines err 0 "man --warnings warns of nothing"
    expect_match out "trapeze asm FILE\.s" "the rendered page shows the asm synopsis"
fi

finish
