#!/usr/bin/env bash
# The lattice at a glance (`neon status`, ops/src/commands/status.rs): hosts, apps and versions,
# components with their calls/s, errors/s and p50/p99 over the last minute (from the Prometheus
# scripts/up.sh runs beside the lattice), providers, links, and a line for whatever is unhealthy.
#   scripts/status.sh [--nats-port N] [--lattice NAME] [--prometheus-port N]
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

neon status "$@"
