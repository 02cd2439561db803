#!/usr/bin/env bash
# Makes Lab 2's starter/vmm.s: the asm VMM with its interpreter routines
# (from "; ---- The interpreter routines" up to "emu_unknown:") replaced by
# routines_removed.s (labs/cut_starter.sh does the cutting).
#
#   bash make_starter.sh [OUT]      (default: starter/vmm.s beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../cut_starter.sh" '^; ---- The interpreter routines' '^emu_unknown:' \
    "$here/routines_removed.s" "${1:-$here/starter/vmm.s}"
