#!/usr/bin/env bash
# Makes Lab 3's starter: starter/vmm_hybrid.s, the hybrid asm VMM with its
# interpreter (from "; ---- The interpreter" up to "; ---- Data") replaced
# by interpreter_removed.s (labs/cut_starter.sh does the cutting), and
# starter/vmm.s, the trap-and-emulate VMM it includes, as it is.
#
#   bash make_starter.sh [OUT]      (default: starter/vmm_hybrid.s beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/starter/vmm_hybrid.s}
bash "$here/../cut_starter.sh" '^; ---- The interpreter ---' '^; ---- Data ---' \
    "$here/interpreter_removed.s" "$out" vmm_hybrid.s
cp "$here/../../programs/vmm/vmm.s" "$(dirname "$out")/vmm.s"
