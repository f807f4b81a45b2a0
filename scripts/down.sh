#!/usr/bin/env bash
# Stops what scripts/up.sh started: undeploys Neon (so wadm does not bring it back on the next
# `wash up`) and stops NATS, the host and wadm with `wash down`, then the policy service and
# Prometheus.
#   scripts/down.sh           keep wadm's stored manifests
#   scripts/down.sh --purge   also delete the lattice's JetStream state (stored manifests)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

neon down "$@"
