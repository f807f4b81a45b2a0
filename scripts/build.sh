#!/usr/bin/env bash
# Builds Neon's components into build/ and composes them (`neon build`, ops/src/build.rs).
#   scripts/build.sh [--cargo]   (--cargo: plain cargo instead of wash build)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
hold_build_lock
neon build "$@"
