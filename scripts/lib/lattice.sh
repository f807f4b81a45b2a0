# shellcheck shell=bash
# Driving a wasmCloud lattice with wash: bring one up (the user's, or a private one for tests),
# deploy a manifest, wait for it, take it down. Source after common.sh.

NEON_NATS_PORT="${NEON_NATS_PORT:-4222}"
# The logging provider's default state_dir: <temp dir>/neon-logs. The host clears the provider's
# environment, so its temp dir is /tmp whatever TMPDIR says here.
NEON_LOG_DIR="${NEON_LOG_DIR:-/tmp/neon-logs}"

# `wash` against the current lattice: the user's default, or a private one (lattice_start_private).
LATTICE_CONN=(--ctl-host 127.0.0.1 --ctl-port "$NEON_NATS_PORT")

# The platform versions wash must use (with them it looks up nothing online), and the host's
# execution limit: an invocation, with the calls it makes, fails after 5 s and gives its instance
# slot back (wash's own default is 10 minutes, during which a hung call holds its slot).
WASH_UP_VERSIONS=(--wasmcloud-version "v$NEON_HOST_VERSION" --wadm-version "v$NEON_WADM_VERSION"
    --nats-version "v$NEON_NATS_VERSION" --max-execution-time-ms "$NEON_MAX_EXECUTION_TIME_MS")

# One value from a manifest: name, version, http_address (the http-server link's address),
# file_path (the logging sink's file). Plain text search: the manifests are ours and flat.
manifest_field() {
    local manifest="$1" field="$2" key
    case "$field" in
    name) key="name" ;;
    version) key="version" ;;
    http_address) key="address" ;;
    file_path) key="file_path" ;;
    *) die "manifest_field: unknown field $field" ;;
    esac
    if [[ "$field" == name ]]; then
        # metadata.name: the first `name:` at two spaces of indent.
        sed -n 's/^  name: *//p' "$manifest" | head -1
    else
        sed -n "s/^ *$key: *//p" "$manifest" | head -1 | tr -d '"'
    fi
}

# True when a wasmCloud host answers on host:port (any lattice name: wash asks the default).
lattice_answers() {
    timeout 15 wash get hosts --ctl-host "$1" --ctl-port "$2" -o json 2>/dev/null |
        python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get("success") and d.get("hosts") else 1)' \
            2>/dev/null
}

# True when nothing listens on 127.0.0.1:port.
port_free() {
    ! python3 -c 'import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)' "$1"
}

# Who listens on a port, for error messages.
port_owner() {
    local owner
    owner="$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\),pid=\([0-9]*\).*/\1 (pid \2)/p' | head -1)"
    echo "${owner:-an unknown process}"
}

# `wash up -d` for the user: default lattice and downloads folder, NATS on $NEON_NATS_PORT.
wash_up_local() {
    local log="$NEON_CACHE/wash-up.log"
    mkdir -p "$NEON_CACHE"
    info "wash up -d ${WASH_UP_VERSIONS[*]} --nats-port $NEON_NATS_PORT"
    timeout 120 wash up -d "${WASH_UP_VERSIONS[@]}" --nats-port "$NEON_NATS_PORT" >"$log" 2>&1 ||
        die "wash up failed: $(grep -v '^ *[0-9]*:\|^ *at ' "$log" | tail -5)"
    wait_for_host 60
}

# A host announces itself a moment after wash up returns.
wait_for_host() {
    local deadline=$((SECONDS + $1))
    until timeout 15 wash get hosts "${LATTICE_CONN[@]}" -o json 2>/dev/null |
        python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin).get("hosts") else 1)' 2>/dev/null; do
        ((SECONDS < deadline)) || die "no wasmCloud host answered within $1 s"
        sleep 1
    done
}

# The deployed version of an app, or nothing.
deployed_version() {
    timeout 20 wash app list "${LATTICE_CONN[@]}" -o json 2>/dev/null | python3 -c '
import json, sys
for app in json.load(sys.stdin).get("applications", []):
    if app.get("name") == sys.argv[1]:
        print(app.get("deployed_version") or "")' "$1" 2>/dev/null
}

app_is_deployed() { [[ "$(deployed_version "$1")" == "$2" ]]; }

# Deploys a manifest file. A version wadm already stores is deployed as stored (wadm refuses to
# store it twice): edits to a manifest need a new version to take effect.
deploy_manifest() {
    local manifest="$1" app="$2" version="$3" out
    if app_is_deployed "$app" "$version"; then
        info "$app $version is already deployed"
        return
    fi
    if out="$(timeout 60 wash app deploy "$manifest" "${LATTICE_CONN[@]}" 2>&1)"; then
        info "deployed"
    elif [[ "$out" == *"already exists"* ]]; then
        warn "wadm already stores $app $version: deploying the stored copy (bump metadata.annotations.version to deploy edits)"
        timeout 60 wash app deploy "$app" "$version" "${LATTICE_CONN[@]}" >/dev/null 2>&1 ||
            die "wash app deploy $app $version failed"
    else
        die "wash app deploy failed: $(grep -v '^ *[0-9]*:\|^ *at \|Old configuration' <<<"$out" | tail -5)"
    fi
}

# Status of an app as "type<TAB>message".
app_status() {
    timeout 20 wash app status "$1" "${LATTICE_CONN[@]}" -o json 2>/dev/null | python3 -c '
import json, sys
info = json.load(sys.stdin).get("status", {}).get("status", {})
print(info.get("type", "unknown"), info.get("message", "") or "", sep="\t")' 2>/dev/null
}

# Waits until this version of the app is Deployed, printing each change of status; fails with
# wadm's reason. (Right after a deploy the status may still describe the version it replaces.)
wait_deployed() {
    local app="$1" version="$2" limit="$3" start=$SECONDS last="" now type message
    while true; do
        now="$(app_status "$app")"
        type="${now%%$'\t'*}"
        message="${now#*$'\t'}"
        if [[ "$now" != "$last" ]]; then
            info "$app: $type${message:+ ($message)}"
            last="$now"
        fi
        # wash app status does not say which version it describes; wash app list does.
        [[ "$type" == deployed ]] && app_is_deployed "$app" "$version" && return 0
        # `failed` is not final: wadm keeps reconciling (a component can start before its named
        # config is stored); only the time limit ends the wait.
        if ((SECONDS - start >= limit)); then
            die "$app is not deployed after $((SECONDS - start)) s: ${type}${message:+: $message} (see: wash app status $app)"
        fi
        sleep 1
    done
}

line_count() { [[ -f "$1" ]] && wc -l <"$1" || echo 0; }

# Waits (bounded) until a file has at least n lines: the provider answers after writing.
wait_for_lines() {
    local file="$1" want="$2" deadline=$((SECONDS + $3))
    while (($(line_count "$file") < want && SECONDS < deadline)); do sleep 0.2; done
}
