#!/usr/bin/env bash
# The Temporal CLI this project uses (built and cached by tools/ensure-tools.sh), for commands
# such as `npm run temporal -- workflow list --query 'OrderStatus="CONFIRMED"'`.
# It talks to 127.0.0.1:7233 (the dev server) unless given --address or TEMPORAL_ADDRESS.
set -euo pipefail
exports="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-tools.sh" temporal --print-env)"
eval "$exports"
exec "$TEMPORAL_CLI_BIN" "$@"
