#!/usr/bin/env bash
# The edge tests (tests/edge): a private hub + edge lattice per run, torn down at the end.
# `scripts/edge.sh test` runs this; scripts/test.sh runs the same cargo test. Netns mode needs
# root; elsewhere (or with NEON_EDGE_MODE=loopback) the tests run in loopback mode and say what
# they skipped.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ "${1:-}" == "--no-setup" ]] || "$NEON_ROOT/scripts/setup.sh"
cd "$NEON_ROOT"
# --nocapture: the figures (recovery times, failed requests, records lost) are the point.
cargo test --release -p neon-edge-tests -- --nocapture
