#!/usr/bin/env bash
# Where the CPU goes while wrk drives one variant on a private lattice: a system-wide
# `perf record` during the load, reported by process, kernel entry point and function.
#   scripts/profile.sh [VARIANT] [CLIENTS] [SECONDS]
#     VARIANT  composed (default), linked, direct, python-logger, or hello (the platform's ceiling)
# Writes build/bench/profile-VARIANT.json (and the perf.data beside it). Figures only.
# The host's own functions show as addresses: the shipped host is built without symbols.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

variant="${1:-composed}"
clients="${2:-64}"
seconds="${3:-12}"

"$NEON_ROOT/scripts/setup.sh"

# perf and wrk are Debian's packages.
ensure_debian_packages perf=linux-perf wrk=wrk

cd "$NEON_ROOT"
step "cargo build --release: neon-bench"
cargo build --quiet --release -p neon-bench --bins
"$CARGO_TARGET_DIR/release/neon-bench" profile --out "$NEON_BUILD/bench" \
    --variant "$variant" --clients "$clients" --duration "$seconds"
