#!/usr/bin/env bash
# Fuzzes the logging provider's config parsing and record encoding (`neon fuzz`): cargo fuzz on
# a nightly toolchain, each target for SECONDS (default 60). Not part of scripts/test.sh.
#   scripts/fuzz.sh [SECONDS]
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
"$NEON_ROOT/scripts/setup.sh"
neon fuzz "$@"
