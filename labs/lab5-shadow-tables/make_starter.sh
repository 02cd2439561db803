#!/usr/bin/env bash
# Makes Lab 5's starter/vmm.s: the asm VMM with rebuild (from "; ---- The
# shadow page table" up to "; ---- Data") replaced by rebuild_removed.s
# (labs/cut_starter.sh does the cutting).
#
#   bash make_starter.sh [OUT]      (default: starter/vmm.s beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../cut_starter.sh" '^; ---- The shadow page table' '^; ---- Data' \
    "$here/rebuild_removed.s" "${1:-$here/starter/vmm.s}"
