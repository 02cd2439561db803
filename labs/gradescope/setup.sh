#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source (this zip,
# unpacked): the Debian packages Trapeze needs (the Makefile's one list,
# through make deps), then the optimized trapeze.
set -eu
cd "$(dirname "$0")"
apt-get update -qq
make deps
make trapeze
