#!/usr/bin/env bash
# The records Neon wrote (`neon logs`, ops/src/commands/logs.rs), from the app's file sink or
# from the JetStream stream with the log-reader credentials.
#   scripts/logs.sh [--request ID] [--level warn] [--since 15m] [--follow] [--json]
#                   [--file PATH | --stream [NAME]]
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

neon logs "$@"
