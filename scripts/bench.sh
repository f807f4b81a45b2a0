#!/usr/bin/env bash
# Neon's benchmark: every figure in one run on this machine, then the report.
#   scripts/bench.sh            full run (about 11 min warm on 2 cores)
#   scripts/bench.sh --quick    fewer, shorter runs: checks the pipeline end to end
# Writes build/bench/*.json, then docs/benchmarks.md and docs/benchmarks.svg from them.
# Figures only: nothing here passes or fails on a timing.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

"$NEON_ROOT/scripts/setup.sh"

# wrk drives the HTTP figures; Debian packages it (the one registry besides crates.io we use).
ensure_debian_packages wrk=wrk

start=$SECONDS
out="$NEON_BUILD/bench"
mkdir -p "$out"
cd "$NEON_ROOT"

step "cargo build --release: neon-bench, neon-native"
cargo build --quiet --release -p neon-bench -p neon-native --bins
bin="$CARGO_TARGET_DIR/release"

if ((quick)); then
    coldstart=(--runs 1000 --native-runs 50 --rounds 5)
    callcost=(--calls 20000 --rounds 5)
    lattice=(--duration 2 --repeats 1)
else
    coldstart=()
    callcost=()
    lattice=(--duration 5 --repeats 3)
fi

step "machine, sizes"
"$bin/neon-bench" machine --out "$out"
"$bin/neon-bench" sizes --out "$out"
step "cold start: Wasmtime instantiate + first process() vs spawning the native pipeline"
"$bin/neon-bench" coldstart --out "$out" "${coldstart[@]}"
step "call cost: one log call inside the composed component"
"$bin/neon-bench" callcost --out "$out" "${callcost[@]}"
step "on a private lattice: HTTP (wrk at 1/16/64 clients), deploy-to-ready, linked log call"
"$bin/neon-bench" lattice --out "$out" "${lattice[@]}"
step "report"
"$bin/neon-bench" report --out "$out"
info "figures in $out; report in docs/benchmarks.md and docs/benchmarks.svg ($((SECONDS - start)) s)"
