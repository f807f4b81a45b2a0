# shellcheck shell=bash
# An edge lattice on one machine: a hub (NATS with JetStream, wadm, a wasmCloud host labelled
# zone=hub) and N edge nodes, each a NATS leaf node plus a host labelled zone=edge-<i>. Source
# after common.sh. scripts/edge.sh is the command line; tests/edge drives it.
#
# Each edge node is its own network namespace with its own address on a bridge, so cutting a
# node off is a real link going down. Without the privilege to make namespaces, the nodes are
# plain processes on loopback ports ("loopback mode"): everything but the partition still works.
#
# Everything an edge lattice is lives in $EDGE_DIR: its settings (edge.env), pid files, logs,
# NATS configs and JetStream store. `edge_down` stops what the pid files name, then anything
# whose command line mentions $EDGE_DIR, then removes the namespaces and the bridge.

# Settings; edge.env in $EDGE_DIR keeps the ones an `up` chose, for later commands.
EDGE_DIR="${NEON_EDGE_DIR:-$NEON_ROOT/.neon/edge}"
EDGE_NAME="${NEON_EDGE_NAME:-ne}"                # prefix of namespaces and interfaces (<= 6 chars)
EDGE_SUBNET="${NEON_EDGE_SUBNET:-10.213.0}"      # /24 of the bridge: hub .1, edge i .(10+i)
EDGE_NATS_PORT="${NEON_EDGE_NATS_PORT:-4222}"    # hub's client port on 127.0.0.1
EDGE_LEAF_PORT="${NEON_EDGE_LEAF_PORT:-7422}"    # hub's leaf node port
EDGE_HTTP_PORT="${NEON_EDGE_HTTP_PORT:-8000}"    # the app's HTTP address on 127.0.0.1
EDGE_LATTICE="${NEON_EDGE_LATTICE:-default}"
EDGE_MODE="${NEON_EDGE_MODE:-auto}"              # auto | netns | loopback
# Edge hosts heartbeat every 5 s and wadm forgets a host after 15 s of silence (wadm's default
# is 70 s for 30 s heartbeats): a dead edge node's share moves within seconds, not minutes.
EDGE_HEARTBEAT_S="${NEON_EDGE_HEARTBEAT_S:-5}"
EDGE_CLEANUP_S="${NEON_EDGE_CLEANUP_S:-15}"
EDGE_APP="neon-edge"
EDGE_MANIFEST="$NEON_ROOT/manifests/edge.wadm.yaml"

EDGE_NATS_BIN="$WASH_DOWNLOADS_DIR/nats-server"
EDGE_WADM_BIN="$WASH_DOWNLOADS_DIR/wadm"
EDGE_HOST_BIN="$WASH_DOWNLOADS_DIR/v$NEON_HOST_VERSION/wasmcloud_host"

edge_env_file() { echo "$EDGE_DIR/edge.env"; }

# Loads the settings of the edge lattice that is up (fails when none is).
edge_load() {
    [[ -f "$(edge_env_file)" ]] || die "no edge lattice is up (in $EDGE_DIR): run scripts/edge.sh up"
    # shellcheck disable=SC1090
    source "$(edge_env_file)"
}

edge_save() {
    cat >"$(edge_env_file)" <<EOF
EDGE_N=$EDGE_N
EDGE_MODE=$EDGE_MODE
EDGE_NAME=$EDGE_NAME
EDGE_SUBNET=$EDGE_SUBNET
EDGE_NATS_PORT=$EDGE_NATS_PORT
EDGE_LEAF_PORT=$EDGE_LEAF_PORT
EDGE_HTTP_PORT=$EDGE_HTTP_PORT
EDGE_LATTICE=$EDGE_LATTICE
EOF
}

# `wash` against the edge lattice (through the hub's NATS).
edge_wash() {
    timeout 60 wash "$@" --ctl-host 127.0.0.1 --ctl-port "$EDGE_NATS_PORT" --lattice "$EDGE_LATTICE"
}

edge_ns() { echo "$EDGE_NAME-edge-$1"; }
edge_veth() { echo "${EDGE_NAME}v$1"; }
edge_bridge() { echo "${EDGE_NAME}br"; }
edge_ring() { if (($1 % 2)); then echo a; else echo b; fi; }

# The client port of edge node i's leaf: the same port in every namespace (each has its own
# loopback); distinct ports in loopback mode.
edge_leaf_client_port() {
    if [[ "$EDGE_MODE" == netns ]]; then echo "$EDGE_NATS_PORT"; else echo $((EDGE_NATS_PORT + $1)); fi
}

# Where leaf nodes reach the hub.
edge_hub_leaf_addr() {
    if [[ "$EDGE_MODE" == netns ]]; then echo "$EDGE_SUBNET.1:$EDGE_LEAF_PORT"; else echo "127.0.0.1:$EDGE_LEAF_PORT"; fi
}

# Runs a command on edge node i: inside its namespace, or plainly in loopback mode.
edge_exec() {
    local i="$1"
    shift
    if [[ "$EDGE_MODE" == netns ]]; then ip netns exec "$(edge_ns "$i")" "$@"; else "$@"; fi
}

# The same as a command prefix, in EDGE_ON (for edge_spawn, which cannot run shell functions).
edge_on() {
    if [[ "$EDGE_MODE" == netns ]]; then EDGE_ON=(ip netns exec "$(edge_ns "$1")"); else EDGE_ON=(); fi
}

# Starts a long-running process of the edge lattice in its own session (so its children, the
# providers a host starts, can be stopped with it), logging to logs/<name>.log.
edge_spawn() {
    local name="$1"
    shift
    setsid "$@" >"$EDGE_DIR/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$EDGE_DIR/pids/$name"
}

edge_pid() { cat "$EDGE_DIR/pids/$1" 2>/dev/null || true; }

# Stops a process started by edge_spawn and everything in its session: TERM, then KILL.
edge_stop() {
    local name="$1" signal="${2:-TERM}" pid waited=0
    pid="$(edge_pid "$name")"
    [[ -n "$pid" ]] || return 0
    pkill "-$signal" -s "$pid" 2>/dev/null || true
    kill "-$signal" "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((waited < 50)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    pkill -KILL -s "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$EDGE_DIR/pids/$name"
}

# --- network ---------------------------------------------------------------------------------

# Decides netns or loopback mode. auto: netns when a namespace can be made here.
edge_pick_mode() {
    case "$EDGE_MODE" in
    netns | loopback) return ;;
    auto) ;;
    *) die "NEON_EDGE_MODE must be auto, netns or loopback (got $EDGE_MODE)" ;;
    esac
    local probe="${EDGE_NAME}-probe-$$"
    if command -v ip >/dev/null && ip netns add "$probe" 2>/dev/null; then
        ip netns del "$probe"
        EDGE_MODE=netns
    else
        EDGE_MODE=loopback
        warn "cannot create network namespaces here (needs root or CAP_NET_ADMIN, and iproute2)"
        warn "LOOPBACK MODE: edge nodes are plain processes on 127.0.0.1 ports; they cannot be cut off"
        warn "from the hub, so the partition test is skipped. Host and leaf failures still work."
    fi
}

edge_net_up() {
    [[ "$EDGE_MODE" == netns ]] || return 0
    local br i ns veth
    br="$(edge_bridge)"
    ip link show "$br" >/dev/null 2>&1 &&
        die "interface $br exists: another edge lattice is up (scripts/edge.sh down, or set NEON_EDGE_NAME)"
    ip link add "$br" type bridge
    ip addr add "$EDGE_SUBNET.1/24" dev "$br"
    ip link set "$br" up
    for ((i = 1; i <= EDGE_N; i++)); do
        ns="$(edge_ns "$i")"
        veth="$(edge_veth "$i")"
        ip netns add "$ns"
        ip link add "$veth" type veth peer name eth0 netns "$ns"
        ip link set "$veth" master "$br"
        ip link set "$veth" up
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$EDGE_SUBNET.$((10 + i))/24" dev eth0
        ip -n "$ns" link set eth0 up
    done
}

edge_net_down() {
    local i
    for ((i = 1; i <= ${EDGE_N:-0}; i++)); do
        ip netns del "$(edge_ns "$i")" 2>/dev/null || true
        ip link del "$(edge_veth "$i")" 2>/dev/null || true
    done
    ip link del "$(edge_bridge)" 2>/dev/null || true
}

# Cuts edge node i off the hub (its link goes down) or heals it.
edge_cut() {
    [[ "$EDGE_MODE" == netns ]] || die "cut needs netns mode (this edge lattice runs in loopback mode)"
    ip link set "$(edge_veth "$1")" down
}
edge_heal() {
    [[ "$EDGE_MODE" == netns ]] || die "heal needs netns mode (this edge lattice runs in loopback mode)"
    ip link set "$(edge_veth "$1")" up
}

# --- NATS ------------------------------------------------------------------------------------

# Pings every 2 s, 3 missed = gone: a cut leaf connection is noticed in about 6 s (NATS's
# default is 2 minutes), so calls stop going to a node that cannot answer.
edge_nats_common() {
    cat <<EOF
ping_interval: "2s"
ping_max: 3
EOF
}

edge_hub_nats_start() {
    local conf="$EDGE_DIR/nats/hub.conf" listen
    if [[ "$EDGE_MODE" == netns ]]; then listen="$EDGE_SUBNET.1:$EDGE_LEAF_PORT"; else listen="127.0.0.1:$EDGE_LEAF_PORT"; fi
    {
        echo "server_name: neon-hub"
        echo "listen: 127.0.0.1:$EDGE_NATS_PORT"
        edge_nats_common
        # The hub alone has JetStream, in domain "hub": wadm's state, the hosts' config and data
        # buckets, and the logging provider's NEON_LOGS stream all live here.
        echo "jetstream { domain: hub, store_dir: \"$EDGE_DIR/nats/hub-js\" }"
        echo "leafnodes { listen: \"$listen\" }"
    } >"$conf"
    edge_spawn nats-hub "$EDGE_NATS_BIN" -c "$conf"
}

edge_leaf_start() {
    local i="$1" conf="$EDGE_DIR/nats/edge-$1.conf"
    {
        echo "server_name: neon-edge-$i"
        echo "listen: 127.0.0.1:$(edge_leaf_client_port "$i")"
        edge_nats_common
        # No JetStream here: plain JetStream API requests (the logging provider's) are mapped
        # to the hub's domain, so a client on the edge needs no domain setting.
        echo 'mappings: { "$JS.API.>": "$JS.hub.API.>" }'
        echo "leafnodes { reconnect: \"1s\", remotes: [ { url: \"nats-leaf://$(edge_hub_leaf_addr)\" } ] }"
    } >"$conf"
    edge_on "$i"
    edge_spawn "nats-edge-$i" "${EDGE_ON[@]}" "$EDGE_NATS_BIN" -c "$conf"
}

# --- wasmCloud -------------------------------------------------------------------------------

# A wasmCloud host: $1 name, $2 NATS port, then labels. TMPDIR of its own, since hosts unpack
# provider archives into their temp dir.
edge_host_args() {
    local port="$1"
    shift
    local args=(--nats-host 127.0.0.1 --nats-port "$port" --lattice "$EDGE_LATTICE" --js-domain hub
        --allow-file-load --heartbeat-interval-seconds "$EDGE_HEARTBEAT_S")
    local label
    for label in "$@"; do args+=(--label "$label"); done
    printf '%s\n' "${args[@]}"
}

edge_hub_host_start() {
    mkdir -p "$EDGE_DIR/tmp/hub"
    local args
    mapfile -t args < <(edge_host_args "$EDGE_NATS_PORT" zone=hub neon.edge=hub)
    TMPDIR="$EDGE_DIR/tmp/hub" edge_spawn host-hub "$EDGE_HOST_BIN" "${args[@]}"
}

edge_host_start() {
    local i="$1" args
    mkdir -p "$EDGE_DIR/tmp/edge-$i"
    mapfile -t args < <(edge_host_args "$(edge_leaf_client_port "$i")" "zone=edge-$i" "ring=$(edge_ring "$i")" neon.edge=edge)
    edge_on "$i"
    TMPDIR="$EDGE_DIR/tmp/edge-$i" edge_spawn "host-edge-$i" "${EDGE_ON[@]}" "$EDGE_HOST_BIN" "${args[@]}"
}

edge_wadm_start() {
    edge_spawn wadm "$EDGE_WADM_BIN" --nats-server "127.0.0.1:$EDGE_NATS_PORT" \
        --cleanup-interval "$EDGE_CLEANUP_S"
}

# Waits until a TCP port answers, inside edge node i's namespace or (i = hub) here.
edge_wait_port() {
    local where="$1" port="$2" limit="$3" deadline=$((SECONDS + $3))
    local probe='import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)'
    while true; do
        if [[ "$where" == hub ]]; then
            python3 -c "$probe" "$port" && return 0
        else
            edge_exec "$where" python3 -c "$probe" "$port" && return 0
        fi
        ((SECONDS < deadline)) || die "nothing listens on port $port ($where) after $limit s; see $EDGE_DIR/logs"
        sleep 0.2
    done
}

# Hosts of the lattice as "zone<TAB>host id" lines.
edge_hosts() {
    edge_wash get hosts -o json 2>/dev/null | python3 -c '
import json, sys
for h in json.load(sys.stdin).get("hosts", []):
    print(h.get("labels", {}).get("zone", "?"), h.get("id", ""), sep="\t")'
}

edge_wait_hosts() {
    local want="$1" limit="$2" deadline=$((SECONDS + $2)) have
    while true; do
        have="$(edge_hosts | wc -l)"
        ((have >= want)) && return 0
        ((SECONDS < deadline)) || die "$have of $want hosts joined the lattice within $limit s; see $EDGE_DIR/logs"
        sleep 1
    done
}

# Writes the manifest of a version (v1 is manifests/edge.wadm.yaml) into $EDGE_DIR with this
# lattice's HTTP port and absolute image paths; prints its path. v2 changes the logger's config
# (source neon-edge-v2) under a new config name: wadm deletes the configs of the version it
# replaces, so a changed config needs a name of its own.
edge_render() {
    local version="$1" out="$EDGE_DIR/manifests/edge.$1.yaml"
    mkdir -p "$EDGE_DIR/manifests"
    sed -e "s|file://\.\./build/|file://$NEON_BUILD/|" \
        -e "s|address: 127.0.0.1:8000|address: 127.0.0.1:$EDGE_HTTP_PORT|" \
        -e "s|^    version: v1$|    version: $version|" \
        -e "s|neon-edge-logger-v1|neon-edge-logger-$version|" \
        -e "s|source: neon-edge-v1|source: neon-edge-$version|" \
        "$EDGE_MANIFEST" >"$out"
    grep -q "version: $version" "$out" || die "could not render version $version of $EDGE_MANIFEST"
    echo "$out"
}

# Placement: one line per host with its zone and what runs there.
edge_placement() {
    local zone id
    while IFS=$'\t' read -r zone id; do
        edge_wash get inventory "$id" -o json 2>/dev/null | python3 -c '
import json, sys
zone = sys.argv[1]
inv = json.load(sys.stdin).get("inventories", [{}])[0]
def named(d):
    return d.get("name") or d.get("id") or "?"
comps = sorted("%s x%s" % (named(c), c.get("max_instances", "?")) for c in inv.get("components", []))
provs = sorted(named(p) for p in inv.get("providers", []))
print("    %-8s components: %-44s providers: %s" % (zone, ", ".join(comps) or "-", ", ".join(provs) or "-"))' "$zone"
    done < <(edge_hosts | sort)
}
