#!/usr/bin/env bash
# Stops what scripts/up.sh started: undeploys Neon (so wadm does not bring it back on the next
# `wash up`) and stops NATS, the host and wadm with `wash down`.
#   scripts/down.sh           keep wadm's stored manifests
#   scripts/down.sh --purge   also delete the lattice's JetStream state (stored manifests)
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$NEON_ROOT/scripts/lib/lattice.sh"

if lattice_answers 127.0.0.1 "$NEON_NATS_PORT"; then
    step "undeploy neon"
    timeout 30 wash app undeploy neon "${LATTICE_CONN[@]}" >/dev/null 2>&1 || info "not deployed"
fi
step "wash down"
purge=()
[[ "${1:-}" == "--purge" ]] && purge=(--purge-jetstream all)
timeout 60 wash down "${LATTICE_CONN[@]}" "${purge[@]}" || die "wash down failed"
