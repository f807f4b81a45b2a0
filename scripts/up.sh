#!/usr/bin/env bash
# The README's run command: Neon on a local wasmCloud lattice.
#   scripts/up.sh                               default wiring (wadm.yaml)
#   scripts/up.sh manifests/composed.wadm.yaml  another wiring (direct, composed)
# Sets up what is missing (seconds when warm), builds what changed, starts NATS + host + wadm
# with `wash up -d` (or uses the lattice already running on 127.0.0.1:4222, NEON_NATS_PORT),
# deploys the manifest, waits until the app is Deployed, sends a sample request and shows its
# log records (`neon up`, ops/src/commands/up.rs).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

"$NEON_ROOT/scripts/setup.sh"
neon up "$@"
