#!/usr/bin/env bash
# Makes the local toolchain available without Docker or internet downloads:
#   temporal           Temporal CLI (dev server + Web UI), built from source with `go install`
#   nats-server        NATS server with JetStream, built from source with `go install`
#   temporal-test-server  Temporal's Java time-skipping test server, fetched from Maven Central
# Everything is cached under $ORDERS_TOOLS_DIR (default ~/.cache/order-orchestrator), so only the
# first run is slow. Prints nothing but progress on stderr; `--print-env` prints export lines.
#
# Usage: tools/ensure-tools.sh [temporal] [nats] [test-server] [--print-env]
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1          # later tags carry a `replace` directive that `go install` refuses
NATS_SERVER_VERSION=v2.12.1
TEMPORAL_TEST_SERVER_VERSION=1.38.0  # keep in step with tools/temporal-test-server/pom.xml

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/order-orchestrator}"
bin_dir="$tools_dir/bin"
mkdir -p "$bin_dir"

want=()
print_env=0
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    temporal|nats|test-server) want+=("$arg") ;;
    *) echo "ensure-tools: unknown argument '$arg' (expected temporal, nats, test-server, --print-env)" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && want=(temporal nats test-server)

log() { echo "[tools] $*" >&2; }

need_go() {
  command -v go >/dev/null 2>&1 || { log "Go is required to build $1 (install Go >= 1.24, or set the matching *_BIN variable to an existing binary)"; exit 1; }
}

ensure_temporal() {
  local target="$bin_dir/temporal-$TEMPORAL_CLI_VERSION"
  if [ ! -x "$target" ]; then
    need_go temporal
    log "building Temporal CLI $TEMPORAL_CLI_VERSION with go install (first time only, takes several minutes)..."
    local tmp; tmp="$(mktemp -d)"
    GOBIN="$tmp" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
    mv "$tmp/temporal" "$target"; rmdir "$tmp"
  fi
  echo "export TEMPORAL_CLI_BIN='$target'"
}

ensure_nats() {
  local target="$bin_dir/nats-server-$NATS_SERVER_VERSION"
  if [ ! -x "$target" ]; then
    need_go nats-server
    log "building nats-server $NATS_SERVER_VERSION with go install (first time only)..."
    local tmp; tmp="$(mktemp -d)"
    GOBIN="$tmp" go install "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION"
    mv "$tmp/nats-server" "$target"; rmdir "$tmp"
  fi
  echo "export NATS_SERVER_BIN='$target'"
}

ensure_test_server() {
  local dir="$tools_dir/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"
  local wrapper="$dir/temporal-test-server"
  if [ ! -x "$wrapper" ]; then
    command -v mvn >/dev/null 2>&1 || { log "Maven is required to fetch the Temporal test server (or unset TEMPORAL_TEST_SERVER_BIN to let the SDK download it)"; exit 1; }
    command -v java >/dev/null 2>&1 || { log "Java 17+ is required to run the Temporal test server"; exit 1; }
    log "fetching io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION from Maven Central..."
    mvn -q -B -f "$here/temporal-test-server/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$dir/lib" -DincludeScope=runtime >&2
    # @temporalio/testing runs the executable as `<path> <port> --enable-time-skipping`.
    cat > "$wrapper.tmp" <<WRAP
#!/usr/bin/env bash
exec java -Xmx512m -cp '$dir/lib/*' io.temporal.testserver.TestServer "\$@"
WRAP
    chmod +x "$wrapper.tmp"; mv "$wrapper.tmp" "$wrapper"
  fi
  echo "export TEMPORAL_TEST_SERVER_BIN='$wrapper'"
}

out=""
for tool in "${want[@]}"; do
  case "$tool" in
    temporal) out+="$(ensure_temporal)"$'\n' ;;
    nats) out+="$(ensure_nats)"$'\n' ;;
    test-server) out+="$(ensure_test_server)"$'\n' ;;
  esac
done
[ "$print_env" -eq 1 ] && printf '%s' "$out"
exit 0
