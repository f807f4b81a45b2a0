# Shared settings and helpers for every script in scripts/. Source it; do not run it.
# Every path a script uses is decided here once, so the scripts agree with each other.

set -euo pipefail

NEON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export NEON_ROOT

# Pinned platform versions (see README "Platform versions"), shared with the neon-ops crate.
# shellcheck source=../../ops/platform.env
source "$NEON_ROOT/ops/platform.env"
NEON_MAX_EXECUTION_TIME_MS="${NEON_MAX_EXECUTION_TIME_MS:-$NEON_DEFAULT_MAX_EXECUTION_TIME_MS}"

# Native builds (platform launchers, provider, test harness) share one target directory outside
# the checkout, so a fresh clone on a warm machine reuses what was compiled before: the
# wasmCloud host alone is 15+ minutes cold on 2 cores. Override with CARGO_TARGET_DIR.
NEON_CACHE="${NEON_CACHE:-$HOME/.cache/neon}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$NEON_CACHE/target}"

# Where wash 0.43 looks for nats-server, wadm and v<host>/wasmcloud_host. The default is wash's
# own default, so a user's plain `wash up` finds the same binaries the scripts installed.
export WASH_DOWNLOADS_DIR="${WASH_DOWNLOADS_DIR:-$HOME/.local/share/wash/downloads}"

# Tools installed by setup.sh land here; put them first so the pinned versions win.
NEON_BIN="${NEON_BIN:-$HOME/.local/share/neon/bin}"
export PATH="$NEON_BIN:$HOME/.cargo/bin:$PATH"

# Built components and provider archives: build/ in the checkout, what manifests reference.
NEON_BUILD="$NEON_ROOT/build"

# Run rustc/cargo with the pinned toolchain whatever the caller's default is.
export RUSTUP_TOOLCHAIN="$NEON_RUST_TOOLCHAIN"

step() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
    printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
    exit 1
}

# The `neon` command (ops/): what the scripts call once set-up has built it.
NEON_CLI="$CARGO_TARGET_DIR/release/neon"
neon() {
    [[ -x "$NEON_CLI" ]] || die "$NEON_CLI missing: run scripts/setup.sh"
    "$NEON_CLI" "$@"
}

# Two set-ups or builds at once would race on cargo installs, placed binaries and build/ (a
# composition half-written by one while the other signs it). Every script that writes them holds
# this lock until it exits.
hold_build_lock() {
    mkdir -p "$NEON_CACHE"
    exec 9>"$NEON_CACHE/setup.lock"
    flock -n 9 || { info "another set-up or build is running; waiting for it"; flock 9; }
}

# Debian packages a script needs (wrk, perf): "COMMAND=PACKAGE" pairs, each package installed
# only when its command is missing; apt-get update only if the first install cannot find one.
ensure_debian_packages() {
    local pair need=()
    for pair in "$@"; do
        command -v "${pair%%=*}" >/dev/null 2>&1 || need+=("${pair#*=}")
    done
    ((${#need[@]})) || return 0
    step "apt-get install ${need[*]}"
    { apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        { apt-get update >/dev/null &&
            apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }; } ||
        die "needed here: apt-get install ${need[*]}"
}
