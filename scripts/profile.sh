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
need=()
command -v perf >/dev/null 2>&1 || need+=(linux-perf)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if ((${#need[@]})); then
    step "apt-get install ${need[*]}"
    { apt-get install -y "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update >/dev/null && apt-get install -y "${need[@]}" >/dev/null; }; } ||
        die "needed for the profile: apt-get install ${need[*]}"
fi

cd "$NEON_ROOT"
step "cargo build --release: neon-bench"
cargo build --quiet --release -p neon-bench --bins
"$CARGO_TARGET_DIR/release/neon-bench" profile --out "$NEON_BUILD/bench" \
    --variant "$variant" --clients "$clients" --duration "$seconds"
