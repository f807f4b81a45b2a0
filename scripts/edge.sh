#!/usr/bin/env bash
# Neon spread across an edge lattice on this machine (see scripts/lib/edge.sh for the layout).
#
#   scripts/edge.sh up [N]          hub + N edge nodes (default 3), deploy manifests/edge.wadm.yaml
#   scripts/edge.sh status          where everything landed, and the app's status
#   scripts/edge.sh rollout         deploy v2 (logger source neon-edge-v2) in place of v1
#   scripts/edge.sh rollback        deploy v1 again
#   scripts/edge.sh test            the edge failure tests (3 nodes), on a private edge lattice of their own
#   scripts/edge.sh down            stop everything, remove the namespaces
# Fault injection, on the edge lattice that is up:
#   scripts/edge.sh kill-host I     SIGKILL edge node I's wasmCloud host (and its providers)
#   scripts/edge.sh start-host I    start it again
#   scripts/edge.sh cut I | heal I  take edge node I's link down / up again (netns mode only)
#   scripts/edge.sh restart-leaf I  restart edge node I's NATS leaf node
#
# Settings (environment): NEON_EDGE_NATS_PORT (4222), NEON_EDGE_HTTP_PORT (8000),
# NEON_EDGE_LEAF_PORT (7422), NEON_EDGE_LATTICE (default), NEON_EDGE_MODE (auto|netns|loopback),
# NEON_EDGE_DIR (.neon/edge), NEON_EDGE_NAME (ne: prefix of namespaces and interfaces),
# NEON_EDGE_SUBNET (10.213.0). Namespaces need root (or CAP_NET_ADMIN).
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/lattice.sh
source "$NEON_ROOT/scripts/lib/lattice.sh"
# shellcheck source=lib/edge.sh
source "$NEON_ROOT/scripts/lib/edge.sh"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# lattice.sh's deploy and wait helpers, pointed at the edge lattice.
edge_point_wash() {
    LATTICE_CONN=(--ctl-host 127.0.0.1 --ctl-port "$EDGE_NATS_PORT" --lattice "$EDGE_LATTICE")
}

edge_alive() { [[ -f "$(edge_env_file)" ]] && kill -0 "$(edge_pid nats-hub)" 2>/dev/null; }

# Waits until the app answers POST /process three times in a row (the HTTP listener restarts
# once shortly after a deploy, see platform/host/src/link_redelivery.rs).
wait_serving() {
    local limit="$1" deadline=$((SECONDS + $1)) streak=0 out
    while ((streak < 3)); do
        if out="$(curl -sS --max-time 5 -X POST --data 'hello edge' "http://127.0.0.1:$EDGE_HTTP_PORT/process" 2>/dev/null)" &&
            [[ "$out" == "HELLO EDGE" ]]; then
            streak=$((streak + 1))
        else
            streak=0
            ((SECONDS < deadline)) || die "the app does not answer on 127.0.0.1:$EDGE_HTTP_PORT after $limit s (scripts/edge.sh status)"
            sleep 0.3
        fi
    done
}

cmd_up() {
    EDGE_N="${1:-3}"
    [[ "$EDGE_N" =~ ^[1-9][0-9]?$ ]] || die "N must be a number of edge nodes from 1 to 99 (got $EDGE_N)"
    ((EDGE_N >= 2)) || warn "with 1 edge node, ring b has no host: the processor's second spread cannot be placed"
    edge_alive && die "an edge lattice is already up (in $EDGE_DIR): scripts/edge.sh down first"
    [[ "${NEON_EDGE_NO_SETUP:-}" == 1 ]] || "$NEON_ROOT/scripts/setup.sh"

    local port
    for port in "$EDGE_NATS_PORT" "$EDGE_HTTP_PORT" "$EDGE_LEAF_PORT"; do
        port_free "$port" || die "port $port is taken by $(port_owner "$port") (set NEON_EDGE_NATS_PORT / NEON_EDGE_HTTP_PORT / NEON_EDGE_LEAF_PORT)"
    done
    edge_pick_mode
    if [[ "$EDGE_MODE" == loopback ]]; then
        for ((i = 1; i <= EDGE_N; i++)); do
            port="$(edge_leaf_client_port "$i")"
            port_free "$port" || die "port $port (edge $i's leaf) is taken by $(port_owner "$port")"
        done
    fi

    rm -rf "$EDGE_DIR"
    mkdir -p "$EDGE_DIR"/{pids,logs,nats}
    edge_save
    trap 'warn "edge up failed: tearing down (logs kept in $EDGE_DIR/logs)"; edge_teardown' ERR

    step "edge lattice: hub + $EDGE_N edge nodes ($EDGE_MODE mode, lattice $EDGE_LATTICE)"
    edge_net_up
    edge_hub_nats_start
    edge_wait_port hub "$EDGE_NATS_PORT" 20
    for ((i = 1; i <= EDGE_N; i++)); do edge_leaf_start "$i"; done
    for ((i = 1; i <= EDGE_N; i++)); do edge_wait_port "$i" "$(edge_leaf_client_port "$i")" 20; done
    info "NATS: hub 127.0.0.1:$EDGE_NATS_PORT (JetStream domain hub), $EDGE_N leaf nodes"
    edge_wadm_start
    edge_hub_host_start
    for ((i = 1; i <= EDGE_N; i++)); do edge_host_start "$i"; done
    edge_wait_hosts $((EDGE_N + 1)) 90
    info "hosts: hub + $EDGE_N edge ($(edge_hosts | cut -f1 | sort | tr '\n' ' '))"

    edge_deploy v1
    trap - ERR
    step "placement"
    edge_placement
    step "sample request"
    info "POST /process 'hello edge' -> $(curl -sS --max-time 10 -X POST --data 'hello edge' "http://127.0.0.1:$EDGE_HTTP_PORT/process")"
    cat >&2 <<EOF

Neon is spread over $EDGE_N edge nodes. Try:
  curl -X POST --data hello http://127.0.0.1:$EDGE_HTTP_PORT/process
  scripts/edge.sh status                    # where everything landed
  scripts/edge.sh rollout | rollback        # v2 / v1 under traffic
  scripts/edge.sh kill-host 1               # lose an edge node; wadm moves its share
  wash app status $EDGE_APP --ctl-port $EDGE_NATS_PORT --lattice $EDGE_LATTICE
Log records: JetStream stream NEON_LOGS on the hub (127.0.0.1:$EDGE_NATS_PORT, domain hub).
Process logs: $EDGE_DIR/logs. Stop: scripts/edge.sh down
EOF
}

# Deploys a version of the edge app and waits until it is Deployed and serving.
edge_deploy() {
    local version="$1" manifest
    edge_point_wash
    manifest="$(edge_render "$version")"
    step "deploy $EDGE_APP $version"
    deploy_manifest "$manifest" "$EDGE_APP" "$version"
    wait_deployed "$EDGE_APP" "$version" 180
    wait_serving 60
    info "$EDGE_APP $version is serving on 127.0.0.1:$EDGE_HTTP_PORT"
}

# Stops every process, then the network; keeps the logs.
edge_teardown() {
    local name pid
    for name in host-hub wadm; do edge_stop "$name"; done
    for pid in "$EDGE_DIR"/pids/host-edge-*; do [[ -e "$pid" ]] && edge_stop "$(basename "$pid")"; done
    for pid in "$EDGE_DIR"/pids/*; do [[ -e "$pid" ]] && edge_stop "$(basename "$pid")"; done
    # Anything that escaped its session (a provider re-parented elsewhere) but names our dir.
    pkill -KILL -f "$EDGE_DIR/" 2>/dev/null || true
    edge_net_down
    rm -f "$(edge_env_file)"
}

cmd_down() {
    if [[ ! -f "$(edge_env_file)" ]]; then
        info "no edge lattice is up (in $EDGE_DIR)"
        return
    fi
    edge_load
    step "edge lattice down ($EDGE_MODE mode, $EDGE_N edge nodes)"
    edge_teardown
    info "stopped; logs kept in $EDGE_DIR/logs"
}

cmd_status() {
    edge_load
    edge_point_wash
    step "$EDGE_APP: $(app_status "$EDGE_APP" | tr '\t' ' ') (version $(deployed_version "$EDGE_APP"))"
    step "placement ($EDGE_MODE mode)"
    edge_placement
}

edge_node_arg() {
    [[ "${1:-}" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= EDGE_N)) || die "give an edge node number from 1 to $EDGE_N"
}

case "${1:-}" in
up) shift; cmd_up "$@" ;;
down) cmd_down ;;
status) cmd_status ;;
rollout) edge_load; edge_deploy v2 ;;
rollback) edge_load; edge_deploy v1 ;;
kill-host) edge_load; edge_node_arg "${2:-}"; edge_stop "host-edge-$2" KILL; info "edge $2's host killed" ;;
start-host) edge_load; edge_node_arg "${2:-}"; edge_host_start "$2"; info "edge $2's host started" ;;
cut) edge_load; edge_node_arg "${2:-}"; edge_cut "$2"; info "edge $2 cut off" ;;
heal) edge_load; edge_node_arg "${2:-}"; edge_heal "$2"; info "edge $2 reconnected" ;;
restart-leaf)
    edge_load
    edge_node_arg "${2:-}"
    edge_stop "nats-edge-$2"
    edge_leaf_start "$2"
    edge_wait_port "$2" "$(edge_leaf_client_port "$2")" 20
    info "edge $2's leaf node restarted"
    ;;
test)
    shift
    exec "$NEON_ROOT/scripts/test-edge.sh" "$@"
    ;;
-h | --help | help) usage ;;
*) usage; exit 2 ;;
esac
