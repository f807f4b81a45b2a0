#!/usr/bin/env bash
# The README's test command: sets up what is missing (scripts/setup.sh: pinned, idempotent,
# seconds when warm), then runs every check and test Neon has (`neon test`, ops/src/commands/test.rs).
#   scripts/test.sh                 everything
#   scripts/test.sh --no-setup      skip set-up (you just ran it)
#   scripts/test.sh [--no-setup] SUITE...   only these (lint components harness ops host provider lattice bench edge)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

if [[ "${1:-}" == "--no-setup" ]]; then shift; else "$NEON_ROOT/scripts/setup.sh"; fi
neon test "$@"
