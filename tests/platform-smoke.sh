#!/usr/bin/env bash
# Platform smoke test: `wash up -d` brings up NATS + wasmCloud host + wadm from the binaries
# scripts/setup.sh placed (no downloads), one host answers with our labels, wadm answers, the
# http-server provider archive starts, and `wash down` leaves nothing running.
#
# Isolation from a user's own `wash up`: its own lattice name, free non-default NATS and NATS
# websocket ports (wash up opens a websocket listener too, 4223 by default), TMPDIR (JetStream store) and a private WASH_DOWNLOADS_DIR. The last one matters: wash keeps
# its pid files, nats.conf and logs in the downloads folder, so sharing it would let this test's
# `wash down` stop the user's host. The private folder links to the placed binaries, so those are
# what is tested. Everything is bounded by timeouts; an EXIT trap cleans up even on failure.
# shellcheck source=../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"
# shellcheck source=../scripts/lib/platform.sh
source "$NEON_ROOT/scripts/lib/platform.sh"
set +e # count failures instead of stopping at the first

placed="$WASH_DOWNLOADS_DIR"
for f in nats-server wadm "v$NEON_HOST_VERSION/wasmcloud_host"; do
    [[ -x "$placed/$f" ]] || die "$placed/$f missing: run scripts/setup.sh first"
done
[[ -s "$NEON_HTTP_SERVER_PAR" ]] || die "$NEON_HTTP_SERVER_PAR missing: run scripts/setup.sh first"
command -v wash >/dev/null || die "wash missing: run scripts/setup.sh first"

# Nothing from the caller's environment may redirect wash or the host elsewhere.
for v in $(compgen -e | grep -E '^(WASMCLOUD_|WADM_|NATS_|WASH_)'); do unset "$v"; done

work="$(mktemp -d "${TMPDIR:-/tmp}/neon-platform-smoke.XXXXXX")"
export TMPDIR="$work/tmp" WASH_DOWNLOADS_DIR="$work/downloads"
mkdir -p "$TMPDIR" "$WASH_DOWNLOADS_DIR/v$NEON_HOST_VERSION"
for f in nats-server wadm "v$NEON_HOST_VERSION/wasmcloud_host"; do
    ln -s "$placed/$f" "$WASH_DOWNLOADS_DIR/$f"
done

lattice="neon-smoke-$$"
port="$(free_port)"
[[ "$port" != 4222 ]] || port="$(free_port)"
ws_port="$(free_port)"
while [[ "$ws_port" == 4223 || "$ws_port" == "$port" ]]; do ws_port="$(free_port)"; done
label_value="smoke-$$"
conn=(--lattice "$lattice" --ctl-host 127.0.0.1 --ctl-port "$port")
passed=0 failed=0

pass() { passed=$((passed + 1)); printf '    ok   %s\n' "$*" >&2; }
fail() { failed=$((failed + 1)); printf '    FAIL %s\n' "$*" >&2; }

# Processes this test started: their command lines hold paths inside $work, which no one else
# uses (the host and wadm run from $work/downloads, NATS gets --pid and --config there).
our_pids() { pgrep -f -- "$work/" || true; }

# wash down (purging this lattice's JetStream state), then wait up to 15 s for our processes.
stop_all() {
    timeout 60 wash down "${conn[@]}" --purge-jetstream all >"$work/down.log" 2>&1
    for _ in $(seq 15); do
        [[ -z "$(our_pids)" ]] && return 0
        sleep 1
    done
    return 1
}

force_kill() {
    local pids
    mapfile -t pids < <(our_pids)
    [[ ${#pids[@]} == 0 ]] && return
    warn "still running, killing: ${pids[*]}"
    kill "${pids[@]}" 2>/dev/null
    sleep 2
    mapfile -t pids < <(our_pids)
    [[ ${#pids[@]} == 0 ]] || kill -9 "${pids[@]}" 2>/dev/null
}
# On any early exit (failure, Ctrl-C) stop everything; logs stay in $work.
trap 'stop_all || force_kill; info "logs in $work"' EXIT

step "platform-smoke: wash up -d on lattice $lattice, NATS port $port"
up=(wash up -d --wasmcloud-version "v$NEON_HOST_VERSION" --wadm-version "v$NEON_WADM_VERSION"
    --nats-version "v$NEON_NATS_VERSION" --nats-port "$port" --nats-websocket-port "$ws_port"
    --lattice "$lattice"
    --label "neon.test=platform-smoke" --label "neon.run=$label_value"
    --host-log-path "$work/host.log")
info "${up[*]}"
if timeout 120 "${up[@]}" >"$work/up.log" 2>&1; then
    if grep -q "Downloading" "$work/up.log"; then
        fail "wash up tried to download something (see $work/up.log)"
    else
        pass "wash up -d (no downloads)"
    fi
else
    fail "wash up -d failed: $(tail -3 "$work/up.log")"
fi

# The host announces itself a moment after wash up returns: poll, bounded.
hosts_ok=0
for _ in $(seq 30); do
    if timeout 15 wash get hosts "${conn[@]}" -o json >"$work/hosts.json" 2>"$work/hosts.err" &&
        python3 - "$work/hosts.json" "$label_value" "$NEON_HOST_VERSION" <<'EOF'; then
import json, sys
path, run, version = sys.argv[1:]
hosts = json.load(open(path)).get("hosts", [])
if len(hosts) != 1:
    sys.exit(f"expected exactly one host, got {len(hosts)}")
h = hosts[0]
labels = h.get("labels", {})
want = {"neon.test": "platform-smoke", "neon.run": run}
missing = {k: v for k, v in want.items() if labels.get(k) != v}
if missing or h.get("version") != version:
    sys.exit(f"host {h.get('id')}: labels {labels}, version {h.get('version')}")
print(f"host {h.get('id')} version {version} labels {labels}", file=sys.stderr)
EOF
        hosts_ok=1
        break
    fi
    sleep 1
done
if [[ $hosts_ok == 1 ]]; then
    pass "wash get hosts: exactly one host, version $NEON_HOST_VERSION, expected labels"
else
    fail "wash get hosts: $(cat "$work/hosts.err" "$work/hosts.json" 2>/dev/null | tail -3)"
fi

if timeout 30 wash app list "${conn[@]}" -o json >"$work/apps.json" 2>"$work/apps.err" &&
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("success") and "applications" in d else 1)' "$work/apps.json"; then
    pass "wash app list answers (wadm is up)"
else
    fail "wash app list: $(tail -3 "$work/apps.err" "$work/apps.json")"
fi

# The provider archive setup.sh packed starts on this host (host 0.27.1 with provider SDK 0.15).
if timeout 60 wash start provider "file://$NEON_HTTP_SERVER_PAR" http-server "${conn[@]}" \
    >"$work/provider.log" 2>&1 &&
    timeout 15 wash get inventory "${conn[@]}" -o json 2>/dev/null | python3 -c '
import json, sys
inv = json.load(sys.stdin).get("inventories", [])
sys.exit(0 if any(p.get("id") == "http-server" for i in inv for p in i.get("providers", [])) else 1)'; then
    pass "http-server provider starts from $(basename "$NEON_HTTP_SERVER_PAR")"
else
    fail "http-server provider: $(tail -2 "$work/provider.log")"
fi

# Stop explicitly (the trap would too) so that "nothing left running" is part of the result.
trap - EXIT
t0=$SECONDS
if stop_all; then
    pass "wash down stopped NATS, host and wadm; nothing left running ($((SECONDS - t0)) s)"
else
    fail "left running after wash down: $(our_pids | tr '\n' ' ')($(tail -2 "$work/down.log"))"
    force_kill
fi

echo "platform-smoke: $passed passed, $failed failed"
if [[ $failed == 0 && "${KEEP_SMOKE:-0}" != 1 ]]; then
    rm -rf "$work"
else
    info "logs in $work"
fi
[[ $failed == 0 ]]
