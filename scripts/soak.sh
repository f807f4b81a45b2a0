#!/usr/bin/env bash
# Soaks too long or too load-sensitive for scripts/test.sh: the wRPC reply-race stress test
# (tests/lattice/tests/wrpc_reply_race.rs: 200,000 calls from 64 callers while every core is
# busy), run RUNS times in a row. Prints each run's count of hung calls and a summary; exits
# non-zero if any run had one.
#   scripts/soak.sh [RUNS]       default 10, about 40 s a run on 2 cores
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

runs="${1:-10}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "usage: scripts/soak.sh [RUNS] (a positive number, got '$runs')"

"$NEON_ROOT/scripts/setup.sh"
cd "$NEON_ROOT"
step "build the reply-race test"
cargo test --release -p neon-lattice-tests --test wrpc_reply_race --no-run

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
clean=0
for run in $(seq 1 "$runs"); do
    step "reply-race soak: run $run of $runs"
    if cargo test --release -p neon-lattice-tests --test wrpc_reply_race -- --ignored --nocapture \
        >"$log" 2>&1; then
        clean=$((clean + 1))
    fi
    # The run's figures, or what stopped it.
    grep -E "wRPC calls|panicked|never answered" "$log" || tail -n 20 "$log"
done
info "reply-race soak: $clean of $runs runs without a hung, failed or wrong call"
((clean == runs))
