#!/usr/bin/env bash
# Where the CPU goes while wrk drives one variant on a private lattice: a system-wide
# `perf record` during the load, reported by process, kernel entry point and function, with
# the NATS messages and subscription changes each request cost (nats-server's own counters).
#   scripts/profile.sh [--symbols] [VARIANT] [CLIENTS] [SECONDS]
#     VARIANT    composed (default), linked, direct, python-logger, or hello (the platform's ceiling)
#     --symbols  run the host built with its symbols and frame pointers (cargo profile
#                `profiling`), so its own functions show by name and under their callers;
#                the first such build takes ~10 min on 2 cores.
# Writes build/bench/profile-VARIANT.json (and the perf.data beside it). Figures only.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

symbols=0
if [[ "${1:-}" == "--symbols" ]]; then
    symbols=1
    shift
fi
variant="${1:-composed}"
clients="${2:-64}"
seconds="${3:-12}"

"$NEON_ROOT/scripts/setup.sh"

# perf and wrk are Debian's packages.
ensure_debian_packages perf=linux-perf wrk=wrk

cd "$NEON_ROOT"
if ((symbols)); then
    step "cargo build --profile profiling: the host with its symbols (cold ~10 min on 2 cores)"
    started=$SECONDS
    # Frame pointers, so perf's call graphs walk through the host's own frames (this profile
    # is built only here, always with them: nothing rebuilds twice).
    RUSTFLAGS="-C force-frame-pointers=yes" \
        cargo build --quiet --profile profiling -p neon-wasmcloud-host
    info "took $((SECONDS - started)) s"
    export NEON_HOST_BINARY="$CARGO_TARGET_DIR/profiling/wasmcloud_host"
fi
step "cargo build --release: neon-bench"
cargo build --quiet --release -p neon-bench --bins
"$CARGO_TARGET_DIR/release/neon-bench" profile --out "$NEON_BUILD/bench" \
    --variant "$variant" --clients "$clients" --duration "$seconds"
