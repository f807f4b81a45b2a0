#!/usr/bin/env bash
# Neon spread across an edge lattice on this machine: a hub and N edge nodes, each a network
# namespace with a NATS leaf node and a wasmCloud host (`neon edge`, ops/src/edge/).
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

case "${1:-}" in
test) shift; exec "$NEON_ROOT/scripts/test.sh" "$@" edge ;;
up) [[ "${NEON_EDGE_NO_SETUP:-}" == 1 ]] || "$NEON_ROOT/scripts/setup.sh" ;;
esac
neon edge "$@"
