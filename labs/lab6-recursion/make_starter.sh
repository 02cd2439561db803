#!/usr/bin/env bash
# Lab 6's starter/vmm.s is lab 2's (the interpreter routines cut out):
# students bring their lab 2 VMM and make it host itself at depth 3.
#
#   bash make_starter.sh [OUT]      (default: starter/vmm.s beside this)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../lab2-trap-and-emulate/make_starter.sh" "${1:-$here/starter/vmm.s}"
