#!/usr/bin/env bash
# Builds Neon's components in release, composes processor + logger into one component, and
# packs the logging provider:
#
#   build/processor.wasm  build/logger.wasm  build/gateway.wasm  build/processor-composed.wasm
#   build/gateway-fused.wasm (the gateway built with its `fused` feature)
#   build/pipeline-composed.wasm (gateway-fused + processor + logger by components/pipeline.wac:
#   what the composed wiring runs)
#   build/hello.wasm (the benchmark's platform ceiling)
#   build/neon-logging-provider.par.gz
#
# With wash on PATH each component is built by `wash build --skip-fetch` (what a wasmCloud user
# runs; --skip-fetch because every WIT dependency is vendored in wit/ and nothing may be
# fetched); without it, by plain cargo. Both write the same paths.
# Usage: scripts/build.sh [--cargo]   (--cargo: skip wash even when present)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

COMPONENTS=(processor logger gateway hello)
use_wash=1
[[ "${1:-}" == "--cargo" ]] && use_wash=0
command -v wash >/dev/null 2>&1 || use_wash=0

mkdir -p "$NEON_BUILD"

# True when $1 exists and no file under the other paths changed since it was built: a warm
# build then skips the step (set NEON_REBUILD=1 to force).
up_to_date() {
    local artifact="$1"
    shift
    [[ -z "${NEON_REBUILD:-}" && -f "$artifact" ]] &&
        [[ -z "$(find "$@" -newer "$artifact" -type f -not -path '*/target/*' -not -path '*/build/*' -print -quit)" ]]
}

# The provider is a native crate: it builds in the shared native target dir (common.sh).
step "wash build --skip-fetch: logging provider -> neon-logging-provider.par.gz"
command -v wash >/dev/null 2>&1 || die "wash not found: run scripts/setup.sh (installs wash $NEON_WASH_VERSION)"
if up_to_date "$NEON_BUILD/neon-logging-provider.par.gz" "$NEON_ROOT/providers/logging" \
    "$NEON_ROOT/wit/system" "$NEON_ROOT/Cargo.lock" "$NEON_ROOT/patches"; then
    info "up to date, skipped"
else
    log="$CARGO_TARGET_DIR/wash-build-logging-provider.log"
    mkdir -p "$CARGO_TARGET_DIR"
    if ! (cd "$NEON_ROOT/providers/logging" && wash build --skip-fetch >"$log" 2>&1); then
        cat "$log" >&2
        die "wash build failed for the logging provider (rerun: cd providers/logging && wash build --skip-fetch)"
    fi
fi

cd "$NEON_ROOT/components"
# Components keep their own small target dir (components/target), where their wasmcloud.toml
# files point wash; the shared native target dir is for the heavy native crates.
export CARGO_TARGET_DIR="$NEON_ROOT/components/target"
mkdir -p "$CARGO_TARGET_DIR"

if ((use_wash)); then
    for component in "${COMPONENTS[@]}"; do
        step "wash build --skip-fetch: $component"
        if up_to_date "$NEON_BUILD/$component.wasm" "$component" guest-rt Cargo.toml Cargo.lock \
            "$NEON_ROOT/wit"; then
            info "up to date, skipped"
            continue
        fi
        # wash 0.43 is chatty (debug lines, signing notes): keep its output for when it fails.
        log="$CARGO_TARGET_DIR/wash-build-$component.log"
        if ! (cd "$component" && wash build --skip-fetch >"$log" 2>&1); then
            cat "$log" >&2
            die "wash build failed for $component (rerun: cd components/$component && wash build --skip-fetch)"
        fi
    done
else
    step "cargo build --release --target wasm32-wasip2 (${COMPONENTS[*]})"
    cargo build --release --target wasm32-wasip2 --quiet
    for component in "${COMPONENTS[@]}"; do
        cp "target/wasm32-wasip2/release/$component.wasm" "$NEON_BUILD/$component.wasm"
    done
fi

# The pipeline's gateway brackets each request with the logger's `batch` (cargo feature `fused`).
step "cargo build --features fused: gateway -> gateway-fused.wasm"
if up_to_date "$NEON_BUILD/gateway-fused.wasm" gateway guest-rt Cargo.toml Cargo.lock "$NEON_ROOT/wit"; then
    info "up to date, skipped"
else
    cargo build --release --target wasm32-wasip2 --quiet -p gateway --features fused
    # Same output path as the plain gateway: cargo rebuilds whichever the features ask for.
    cp target/wasm32-wasip2/release/gateway.wasm "$NEON_BUILD/gateway-fused.wasm"
fi

step "wac plug: processor + logger -> processor-composed.wasm"
command -v wac >/dev/null 2>&1 ||
    die "wac not found: run scripts/setup.sh (installs wac-cli $NEON_WAC_VERSION)"
wac plug "$NEON_BUILD/processor.wasm" --plug "$NEON_BUILD/logger.wasm" \
    -o "$NEON_BUILD/processor-composed.wasm"
# The whole request path in one component (the composed wiring deploys this): HTTP in, the
# processor and logger as function calls, one `sink.write` per request the only call that
# leaves it.
step "wac compose components/pipeline.wac -> pipeline-composed.wasm"
wac compose "$NEON_ROOT/components/pipeline.wac" \
    --dep "neon:logger=$NEON_BUILD/logger.wasm" \
    --dep "neon:processor=$NEON_BUILD/processor.wasm" \
    --dep "neon:fused-gateway=$NEON_BUILD/gateway-fused.wasm" \
    -o "$NEON_BUILD/pipeline-composed.wasm"

for artifact in "${COMPONENTS[@]/%/.wasm}" gateway-fused.wasm processor-composed.wasm pipeline-composed.wasm \
    neon-logging-provider.par.gz; do
    info "$(printf '%-30s %8d bytes' "$artifact" "$(stat -c %s "$NEON_BUILD/$artifact")")"
done
