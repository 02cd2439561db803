#!/usr/bin/env bash
# "Did you mean": a mistyped mnemonic, label, option or variant name is
# answered with the closest valid one (isa/suggest.h), and a message says
# what is wrong, not something else (a variant name is not a file; a
# missing image is not a source file).  The debugger's commands: test_debug.sh.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

printf '_start: addd r1, r2, r3\n  jmp nowher\nnowhere: addi r1, r0, 100000\n  halt\n' >"$E2E_TMP/typo.s"
run_capture "$TRAPEZE" asm "$E2E_TMP/typo.s" -o "$E2E_TMP/typo.img"
expect_status "$EXIT_BAD_INPUT" "asm typos: status"
expect_match err "typo.s:1:9: error: unknown instruction 'addd'; did you mean 'add'\\?" "asm: a mnemonic"
expect_match err "typo.s:2:7: error: undefined symbol 'nowher'; did you mean 'nowhere'\\?" "asm: a label"
expect_match err "typo.s:3:[0-9]+: error: immediate 100000 out of range for addi .*'li rd, VALUE' loads any 32-bit value" \
    "asm: a too-large immediate suggests li"
printf '_start: frobnicate r1\n  halt\n' >"$E2E_TMP/far.s"
run_capture "$TRAPEZE" asm "$E2E_TMP/far.s" -o "$E2E_TMP/far.img"
expect_match err "unknown instruction 'frobnicate'$" "asm: nothing close, no suggestion"

run_capture "$TRAPEZE" run --isa x86lik programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--isa x86lik: status"
expect_match err "^trapeze run: --isa: no built-in variant 'x86lik'; did you mean 'x86like'\\? \\(built in: pg, hybrid, x86like, x86vt;" \
    "--isa x86lik: a variant name, not a file"
run_capture "$TRAPEZE" check-isa --isa x86
expect_status "$EXIT_BAD_INPUT" "check-isa --isa x86: status"
expect_match err "^trapeze check-isa: --isa: no built-in variant 'x86'; did you mean 'x86vt'\\?" \
    "check-isa --isa x86: the same words as run's"
expect_lines err 1 "check-isa --isa x86: one line"
run_capture "$TRAPEZE" run --isa "$E2E_TMP/none.var" programs/hello.s
expect_match err "none.var: error: cannot read variant file" "--isa PATH: still the file's error"

run_capture "$TRAPEZE" run --tarce traps programs/hello.s
expect_status "$EXIT_BAD_INPUT" "--tarce: status"
expect_match err "unknown option '--tarce'; did you mean '--trace'\\?" "an option"
run_capture "$TRAPEZE" debug --mxa-steps 5 programs/hello.s </dev/null
expect_match err "unknown option '--mxa-steps'; did you mean '--max-steps'\\?" "an option of debug"

run_capture "$TRAPEZE" disasm "$E2E_TMP/nosuch.img"
expect_status "$EXIT_BAD_INPUT" "disasm missing image: status"
expect_match err "nosuch.img: error: no such file \\(a program is a .s source or an image\\)" \
    "disasm: a missing image is named as missing"

finish
