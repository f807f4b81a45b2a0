#!/usr/bin/env bash
# The README's test command: sets up what is missing (scripts/setup.sh: pinned, idempotent,
# seconds when warm), builds everything, then runs every check and test Neon has.
#   scripts/test.sh            everything
#   scripts/test.sh --no-setup skip setup (you just ran it)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

[[ "${1:-}" == "--no-setup" ]] || "$NEON_ROOT/scripts/setup.sh"

passed=()
failed=()
suite() {
    local name="$1"
    shift
    step "test: $name"
    if "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

# The components workspace builds in its own target dir (see scripts/build.sh).
components() { (cd "$NEON_ROOT/components" && CARGO_TARGET_DIR="$NEON_ROOT/components/target" "$@"); }

lint() {
    (cd "$NEON_ROOT" && cargo fmt --all --check) &&
        components cargo fmt --all --check &&
        components cargo clippy --quiet --release --target wasm32-wasip2 -- -D warnings &&
        components cargo clippy --quiet --lib --tests -- -D warnings &&
        (cd "$NEON_ROOT" && cargo clippy --quiet --release --workspace --all-targets -- -D warnings)
}

component_unit_tests() {
    # --lib: the cdylib itself only links for wasm; unit tests of the pure logic run natively.
    components cargo test --quiet --lib
}

harness_tests() {
    # Release: Cranelift compiling components at opt-level 0 makes debug runs crawl, and the
    # release dependencies are shared with the platform build.
    (cd "$NEON_ROOT" && cargo test --release -p neon-harness)
}

suite "lint (fmt, clippy -D warnings)" lint
suite "component unit tests" component_unit_tests
suite "components in Wasmtime + capability audit" harness_tests
provider_tests() {
    # Unit tests, and the provider binary against a real nats-server over wRPC.
    (cd "$NEON_ROOT" && cargo test --release -p neon-logging-provider)
}

ops_tests() {
    # The crate that operates lattices: pinned versions, manifest rendering, waits, and the
    # platform smoke test (`wash up` on a private lattice: the pinned host answers with our
    # label, wadm answers, the http-server provider starts, `wash down` leaves nothing running).
    (cd "$NEON_ROOT" && cargo test --release -p neon-ops)
}

platform_unit_tests() {
    (cd "$NEON_ROOT" && cargo test --release -p neon-wasmcloud-host)
}

lattice_tests() {
    # Each wiring on its own private `wash up` lattice: HTTP through the host's built-in server
    # (and once through the http-server provider), records in the logging provider's sink,
    # undeploy/redeploy, 1000 sequential requests, 2 x 60 s of 64 clients, a frozen sink, a
    # killed logging provider. (The wRPC reply-race stress test is a soak: scripts/soak.sh.)
    (cd "$NEON_ROOT" && cargo test --release -p neon-lattice-tests)
}

bench_tools_tests() {
    # The report generator and the native anchors (figures are scripts/bench.sh's, not tests';
    # the wrk parser's tests run with the lattice crate's).
    (cd "$NEON_ROOT" && cargo test --quiet --release -p neon-native -p neon-bench)
}

edge_tests() {
    # A hub and three edge nodes (network namespaces, or loopback processes where they cannot be
    # made), rollout/rollback under traffic, host kill, partition, leaf restart, JetStream count.
    (cd "$NEON_ROOT" && cargo test --release -p neon-edge-tests -- --nocapture)
}

suite "ops crate + platform smoke (wash up: NATS + host + wadm)" ops_tests
suite "host launcher unit tests" platform_unit_tests
suite "logging provider (unit + real nats-server)" provider_tests
suite "end to end on a real lattice (every wiring, both ingresses)" lattice_tests
suite "benchmark tools (parsers, native anchors)" bench_tools_tests
suite "edge: hub + 3 edge nodes over NATS leaf nodes" edge_tests

echo
for name in "${passed[@]}"; do echo "  ok    $name"; done
for name in "${failed[@]}"; do echo "  FAIL  $name"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
