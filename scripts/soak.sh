#!/usr/bin/env bash
# Soaks too long or too load-sensitive for scripts/test.sh: the wRPC reply-race stress test,
# run RUNS times in a row (`neon soak`, ops/src/commands/soak.rs).
#   scripts/soak.sh [RUNS]       default 10, about 10 s a run on 2 cores
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
"$NEON_ROOT/scripts/setup.sh"
neon soak "$@"
