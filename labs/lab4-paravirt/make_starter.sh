#!/usr/bin/env bash
# Makes Lab 4's starter/: toyos's native port, the one the paravirtual
# port replaces.  starter/paravirt.inc is programs/toyos/native.inc (the
# instructions themselves) and starter/pv_console.inc is
# programs/lib/console.inc (`out`), each under a header saying what to do:
# --vmm pv refuses both (the first instruction is not hcall PV_HELLO; a
# kernel that executes lpsw or out is stopped), so the starter scores 0.
# Made, never kept (labs/.gitignore), so it cannot drift from the kernel;
# the reference, solution/, is links to the tree's paravirt.inc and
# pv_console.inc.
#
#   bash make_starter.sh [DIR]      (default: starter/ beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
programs=$here/../../programs
out=${1:-$here/starter}
mkdir -p "$out"
{
    cat <<'HEAD'
; paravirt.inc: your paravirtual port of toyos's kernel (Lab 4, ../README.md).
;
; What follows is native.inc, the macros of a kernel that owns the machine:
; the instructions themselves.  Under --vmm pv on x86like they are refused
; (the first instruction must be hcall PV_HELLO; srr is a critical
; instruction; lpsw and halt from the kernel stop it).  Rewrite each body
; with the hypercalls of ../lib/pv.inc and a shared area; keep the macros'
; names and arguments, which kernel.inc uses.  You may include only
; "../lib/pv.inc" and "../lib/machine.inc".

        .include "../lib/pv.inc"

HEAD
    cat "$programs/toyos/native.inc"
} >"$out/paravirt.inc"
{
    cat <<'HEAD'
; pv_console.inc: your console routines for the paravirtual kernel (Lab 4,
; ../README.md), included after the kernel from lib/.
;
; What follows is console.inc: con_out is `out`, which a PV kernel must not
; execute.  Make con_out ask the vmm instead (hcall PV_CONSOLE, the byte in
; r1), keeping every register but the ones console_routines.inc expects to
; change (none: save what you use).  You may include only
; "console_routines.inc" and "pv.inc".

HEAD
    cat "$programs/lib/console.inc"
} >"$out/pv_console.inc"
