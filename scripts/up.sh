#!/usr/bin/env bash
# The README's run command: Neon on a local wasmCloud lattice.
#   scripts/up.sh                               default wiring (wadm.yaml)
#   scripts/up.sh manifests/composed.wadm.yaml  another wiring (direct, composed)
# Sets up what is missing (seconds when warm), builds what changed, starts NATS + host + wadm
# with `wash up -d` (or uses the lattice already running on 127.0.0.1:4222), deploys the
# manifest, waits until the app is Deployed, sends a sample request and shows its log records.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$NEON_ROOT/scripts/lib/lattice.sh"

manifest="${1:-$NEON_ROOT/wadm.yaml}"
[[ "$manifest" = /* ]] || manifest="$PWD/$manifest"
[[ -f "$manifest" ]] || die "no manifest at $manifest"
# Image paths in the manifests are relative to the repository root: work from there.
cd "$NEON_ROOT"

app="$(manifest_field "$manifest" name)"
version="$(manifest_field "$manifest" version)"
http_addr="$(manifest_field "$manifest" http_address)"
log_file="$NEON_LOG_DIR/$(manifest_field "$manifest" file_path)"

"$NEON_ROOT/scripts/setup.sh"

step "lattice on 127.0.0.1:$NEON_NATS_PORT"
if lattice_answers 127.0.0.1 "$NEON_NATS_PORT"; then
    info "already running, using it"
else
    port_free "$NEON_NATS_PORT" ||
        die "port $NEON_NATS_PORT is taken by something that is not a wasmCloud lattice: $(port_owner "$NEON_NATS_PORT"). Stop it, or run NEON_NATS_PORT=<port> scripts/up.sh"
    wash_up_local
fi

step "deploy $app $version from ${manifest#"$NEON_ROOT"/}"
# A deployed version of this app owns the HTTP port itself: deploying another wiring replaces it.
if [[ -z "$(deployed_version "$app")" ]]; then
    port_free "${http_addr##*:}" ||
        die "HTTP address $http_addr is taken: $(port_owner "${http_addr##*:}"). Free it or change the address in the manifest"
fi
deploy_manifest "$manifest" "$app" "$version"
wait_deployed "$app" "$version" 180

step "sample request"
before=$(line_count "$log_file")
# Retries: the host launcher re-delivers provider links right after a deploy (see
# platform/host/src/link_redelivery.rs), which restarts the HTTP listener once.
response="$(curl -sS --max-time 10 --retry 5 --retry-delay 1 --retry-all-errors -X POST --data 'hello from neon' "http://$http_addr/process" -w ' [%{http_code}]')" ||
    die "no answer from http://$http_addr/process: see wash app status $app"
info "POST /process 'hello from neon' -> $response"
wait_for_lines "$log_file" $((before + 1)) 10
info "log records it produced ($log_file):"
tail -n +$((before + 1)) "$log_file" 2>/dev/null | sed 's/^/      /' >&2

cat >&2 <<EOF

Neon is up ($app $version).
  try it:    curl -X POST --data 'hello' http://$http_addr/process
  health:    curl http://$http_addr/healthz
  logs:      tail -f $log_file
  status:    wash app status $app
  stop:      scripts/down.sh   (undeploys and runs wash down)
EOF
