#!/usr/bin/env bash
# Neon without a lattice: builds the components, composes processor + logger, and pushes a
# payload through the composed component in an embedded Wasmtime, printing the result and the
# log records that reached the sink. (The README's run command, on a lattice, is scripts/up.sh.)
#   scripts/run.sh ["payload"] [--linked] [--config key=value]...
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$NEON_ROOT/scripts/build.sh"
step "neon-run: payload through the pipeline"
cd "$NEON_ROOT"
cargo build --quiet --release -p neon-harness --bin neon-run
args=("$@")
((${#args[@]})) || args=("hello, nano-services")
exec "$CARGO_TARGET_DIR/release/neon-run" "${args[@]}"
