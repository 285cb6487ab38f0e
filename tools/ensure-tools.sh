#!/usr/bin/env bash
# Makes the local toolchain available without Docker or internet downloads:
#   temporal              Temporal CLI (dev server + Web UI), built from source with `go install`
#   nats-server           NATS server with JetStream, built from source with `go install`
#   temporal-test-server  Temporal's Java time-skipping test server, fetched from Maven Central
#   schemathesis          API fuzzer, installed from PyPI with pip into a virtualenv (`npm run fuzz`)
#   zipkin                Zipkin server (`npm run dev`'s trace viewer), its executable jar fetched from Maven Central
# Versions are pinned in tools/versions.env (the only place). Everything is cached under
# $ORDERS_TOOLS_DIR (default ~/.cache/order-orchestrator), so only the first run is slow.
#
# Every tool is built into a temporary directory, checked to actually run, and only then moved
# into the cache, so a failed or broken build is never cached. A cached tool is re-checked
# (cheaply) on every run and rebuilt if it no longer runs. Any failure stops the script with a
# message saying what failed and what to do, and a non-zero exit.
#
# Already have the tools? Set TEMPORAL_CLI_BIN, NATS_SERVER_BIN or TEMPORAL_TEST_SERVER_BIN to
# them: they are checked to run and used instead of building (TEMPORAL_TEST_SERVER_BIN=download
# is passed through: @temporalio/testing then downloads its own test server).
#
# Progress and errors go to stderr. stdout carries nothing but, with --print-env, one
# `export NAME='path'` line per tool, which scripts/tools.ts parses.
#
# Usage: tools/ensure-tools.sh [temporal] [nats] [test-server] [schemathesis] [zipkin] [--print-env]
# (no tool named: the first three; schemathesis and zipkin only when asked for)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
: "${TEMPORAL_CLI_VERSION:?missing in tools/versions.env}" "${NATS_SERVER_VERSION:?missing in tools/versions.env}" \
  "${TEMPORAL_TEST_SERVER_VERSION:?missing in tools/versions.env}" "${SCHEMATHESIS_VERSION:?missing in tools/versions.env}" \
  "${ZIPKIN_VERSION:?missing in tools/versions.env}"

tools_dir="${ORDERS_TOOLS_DIR:-$HOME/.cache/order-orchestrator}"
bin_dir="$tools_dir/bin"
check_timeout=60   # seconds a `--version` style check may take (a cold 250 MB binary on a slow disk)
tick_seconds="${ORDERS_TOOLS_TICK_SECONDS:-15}"  # how often a long build reports that it is still going

want=()
print_env=0
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    temporal|nats|test-server|schemathesis|zipkin) want+=("$arg") ;;
    *) echo "ensure-tools: unknown argument '$arg' (expected temporal, nats, test-server, schemathesis, zipkin, --print-env)" >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -eq 0 ] && want=(temporal nats test-server)

log() { echo "[tools] $*" >&2; }

# die <what failed> <command> <what to do> [details…]: the loud failure. Nothing is cached by then:
# builds happen in a temporary directory that the EXIT trap removes.
die() {
  local what="$1" cmd="$2" todo="$3"; shift 3
  {
    echo
    echo "[tools] ERROR: $what"
    [ -n "$cmd" ] && echo "[tools]   command: $cmd"
    local detail
    for detail in "$@"; do printf '%s\n' "$detail" | sed 's/^/[tools]   /'; done
    echo "[tools]   what to do: $todo"
    echo "[tools]   nothing was cached; the next run tries again."
  } >&2
  exit 1
}

# Shell-quotes a value for an `export NAME='value'` line.
squote() { local s="${1//\'/\'\\\'\'}"; printf "'%s'" "$s"; }

exports=()   # export lines, collected in this shell (never in a $(…) subshell) and printed at the end
add_export() { exports+=("export $1=$(squote "$2")"); }

# Temporary build directories live next to the cache (same filesystem: the final `mv` is a rename)
# and are removed on any exit. Leftovers of a killed run (SIGKILL) are swept after a day.
build_dirs=()
bg_pid=""
cleanup() {
  if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
  local d
  for d in ${build_dirs[@]+"${build_dirs[@]}"}; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
new_build_dir() {
  mkdir -p "$tools_dir"
  build_dir="$(mktemp -d "$tools_dir/.build.XXXXXX")"
  build_dirs+=("$build_dir")
}
find "$tools_dir" -maxdepth 1 -name '.build.*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true

with_timeout() {
  if command -v timeout >/dev/null 2>&1; then timeout "$check_timeout" "$@"; else "$@"; fi
}

# check_runs <binary> <args…>: runs it, output in $check_output, status in $check_status.
check_status=0
check_output=""
check_runs() {
  check_status=0
  check_output="$(with_timeout "$@" </dev/null 2>&1)" || check_status=$?
  if [ "$check_status" -eq 124 ] && command -v timeout >/dev/null 2>&1; then
    check_output+=$'\n'"(timed out: no answer within ${check_timeout}s)"
  fi
  [ "$check_status" -eq 0 ]
}

# The test server's only cheap "does it run" mode: with no arguments it prints its usage and exits 0.
check_test_server() {
  check_runs "$1" && [[ "$check_output" == *"Usage:"* ]]
}

# Last lines of a check's or build's output, indented for die().
tail_of() { printf '%s\n' "$1" | tail -n "${2:-15}" | sed 's/^/  /'; }

# resolve_override <VAR> <value>: an executable path, or a command name found on PATH.
resolve_override() {
  local var="$1" value="$2" path
  if [[ "$value" == */* ]]; then
    [ -f "$value" ] && [ -x "$value" ] || die "$var='$value' is not an executable file" "" \
      "point $var at an existing binary, or unset it to let this script build the pinned version"
    path="$value"
  else
    path="$(command -v "$value" 2>/dev/null)" || die "$var='$value' is not on PATH" "" \
      "point $var at an existing binary, or unset it to let this script build the pinned version"
  fi
  resolved="$path"
}

# go_build <label> <binary name> <package@version> <BIN variable>: go install into a fresh build
# directory, showing progress; sets $built to the binary. Any failure ends the script.
go_build() {
  local label="$1" name="$2" pkg="$3" var="$4"
  command -v go >/dev/null 2>&1 || die "Go is needed to build $label, and there is no \`go\` on PATH" "" \
    "install Go (a recent release; the module's go.mod says which), or set $var to an existing $name binary"
  new_build_dir
  local log_file="$build_dir/go-install.log" cmd="go install -v $pkg"
  log "building $label with \`$cmd\` (first time only; can take several minutes, progress every ${tick_seconds}s)"
  local start=$SECONDS next=$((SECONDS + tick_seconds)) status=0
  GOBIN="$build_dir/bin" go install -v "$pkg" >"$log_file" 2>&1 &
  bg_pid=$!
  while kill -0 "$bg_pid" 2>/dev/null; do
    sleep 0.2
    if [ "$SECONDS" -ge "$next" ]; then
      next=$((SECONDS + tick_seconds))
      local downloads packages last
      downloads=$(grep -c '^go: downloading ' "$log_file" || true)
      packages=$(grep -vc '^go: ' "$log_file" || true)
      last=$(grep -v '^go: ' "$log_file" | tail -n 1 || true)
      log "  still building $label… $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s: $downloads modules downloaded, $packages packages compiled${last:+ (last: $last)}"
    fi
  done
  wait "$bg_pid" || status=$?
  bg_pid=""
  if [ "$status" -ne 0 ]; then
    local go_version go_proxy
    go_version="$(go version 2>&1 || echo '(go version failed)')"
    go_proxy="$(go env GOPROXY 2>&1 || echo '(go env failed)')"
    die "building $label failed (go install exited with $status)" "GOBIN=<temp dir> $cmd" \
      "check the Go version against the module's go.mod (a too old Go, or GOTOOLCHAIN=local, refuses it) and that the Go module proxy is reachable (GOPROXY, GOFLAGS, GONOSUMDB/GOPRIVATE, proxy settings); or set $var to an existing $name binary" \
      "Go: $go_version, GOPROXY=$go_proxy" "last lines of the go output:" "$(tail_of "$(cat "$log_file")" 20)"
  fi
  built="$build_dir/bin/$name"
  [ -f "$built" ] && [ -x "$built" ] || die "go install of $label succeeded but produced no $name binary" "GOBIN=<temp dir> $cmd" \
    "check GOFLAGS/GOOS/GOARCH in your environment (a cross-compile installs elsewhere); or set $var to an existing $name binary"
  log "go install of $label finished in $(( (SECONDS - start) / 60 ))m$(( (SECONDS - start) % 60 ))s"
}

# ensure_go_tool <label> <binary name> <package@version> <cache name> <BIN variable>
ensure_go_tool() {
  local label="$1" name="$2" pkg="$3" cache_name="$4" var="$5"
  local override="${!var:-}"
  if [ -n "$override" ]; then
    resolve_override "$var" "$override"
    check_runs "$resolved" --version || die "$var='$override' does not run: \`$resolved --version\` exited with $check_status" "$resolved --version" \
      "point $var at a working $name binary, or unset it to let this script build $label" "$(tail_of "$check_output")"
    log "$label: using $var=$resolved (${check_output%%$'\n'*})"
    add_export "$var" "$resolved"
    return
  fi
  local target="$bin_dir/$cache_name"
  if [ -e "$target" ]; then
    if check_runs "$target" --version; then
      add_export "$var" "$target"
      return
    fi
    log "cached $label at $target does not run (\`--version\` exited with $check_status); rebuilding it"
    [ -z "$check_output" ] || tail_of "$check_output" 5 >&2
    rm -f "$target"
  fi
  go_build "$label" "$name" "$pkg" "$var"
  check_runs "$built" --version || die "built $label, but it does not run: \`$name --version\` exited with $check_status" "$name --version" \
    "check the Go toolchain (GOOS/GOARCH/CGO settings) and try again, or set $var to an existing $name binary" "$(tail_of "$check_output")"
  mkdir -p "$bin_dir"
  mv -f "$built" "$target"
  log "$label ready: $target (${check_output%%$'\n'*})"
  add_export "$var" "$target"
}

ensure_temporal() {
  ensure_go_tool "Temporal CLI $TEMPORAL_CLI_VERSION" temporal "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" \
    "temporal-$TEMPORAL_CLI_VERSION" TEMPORAL_CLI_BIN
}

ensure_nats() {
  ensure_go_tool "nats-server $NATS_SERVER_VERSION" nats-server "github.com/nats-io/nats-server/v2@$NATS_SERVER_VERSION" \
    "nats-server-$NATS_SERVER_VERSION" NATS_SERVER_BIN
}

ensure_test_server() {
  local label="Temporal test server $TEMPORAL_TEST_SERVER_VERSION" var=TEMPORAL_TEST_SERVER_BIN
  local override="${TEMPORAL_TEST_SERVER_BIN:-}"
  if [ "$override" = download ]; then
    log "$label: TEMPORAL_TEST_SERVER_BIN=download, @temporalio/testing downloads its own test server"
    add_export "$var" download
    return
  fi
  if [ -n "$override" ]; then
    resolve_override "$var" "$override"
    check_test_server "$resolved" || die "$var='$override' does not run: run without arguments it should print its usage and exit 0, it exited with $check_status" "$resolved" \
      "point $var at a working test server (or 'download' to let @temporalio/testing download one), or unset it to fetch $label from Maven Central" \
      "$(tail_of "$check_output")"
    log "test server: using $var=$resolved"
    add_export "$var" "$resolved"
    return
  fi

  local dir="$tools_dir/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"
  local wrapper="$dir/temporal-test-server"
  if [ -e "$dir" ]; then
    if [ ! -x "$wrapper" ]; then
      log "cached $label at $dir has no executable $wrapper; fetching it again"
    elif check_test_server "$wrapper"; then
      add_export "$var" "$wrapper"
      return
    else
      log "cached $label at $dir does not run (exit $check_status, expected its usage and exit 0); fetching it again"
      [ -z "$check_output" ] || tail_of "$check_output" 5 >&2
    fi
    rm -rf "$dir"
  fi

  local todo_maven="check that Maven reaches Maven Central (mirrors and proxies in ~/.m2/settings.xml) and that io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION exists; or set $var to an existing test server, or to 'download' to let @temporalio/testing download one"
  command -v mvn >/dev/null 2>&1 || die "Maven is needed to fetch the $label, and there is no \`mvn\` on PATH" "" "install Maven 3.6.1+; or set $var to an existing test server, or to 'download'"
  command -v java >/dev/null 2>&1 || die "Java is needed to run the $label, and there is no \`java\` on PATH" "" "install Java 17+; or set $var to 'download' to let @temporalio/testing download a native test server"
  new_build_dir
  local stage="$build_dir/temporal-test-server-$TEMPORAL_TEST_SERVER_VERSION"
  local pom="$here/temporal-test-server/pom.xml" status=0
  local cmd=(mvn -B --no-transfer-progress -Dstyle.color=never -f "$pom" dependency:copy-dependencies
    "-Dtemporal.test.server.version=$TEMPORAL_TEST_SERVER_VERSION" "-DoutputDirectory=$stage/lib" -DincludeScope=runtime)
  log "fetching io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION and its dependencies from Maven Central…"
  "${cmd[@]}" >&2 </dev/null || status=$?
  [ "$status" -eq 0 ] || die "fetching the $label with Maven failed (mvn exited with $status; its output is above)" "${cmd[*]}" "$todo_maven"

  local main_class=io/temporal/testserver/TestServer.class jar found=""
  for jar in "$stage"/lib/*.jar; do
    [ -f "$jar" ] || continue
    if can_read_jars; then
      jar_entry "$jar" "$main_class" >/dev/null 2>&1 && { found="$jar"; break; }
    else
      found="(unchecked: neither unzip nor ${PYTHON:-python3} on PATH)"; break
    fi
  done
  [ -n "$found" ] || die "Maven finished, but $stage/lib has no jar with io.temporal.testserver.TestServer" "${cmd[*]}" "$todo_maven" \
    "jars fetched: $(ls "$stage/lib" 2>/dev/null | wc -l)"

  # Relocatable (finds lib/ next to itself), so it can be checked here and then moved into the cache.
  # @temporalio/testing runs the executable as `<path> <port> --enable-time-skipping`.
  cat >"$stage/temporal-test-server" <<'WRAP'
#!/usr/bin/env bash
# Temporal's Java time-skipping test server, from Maven Central (tools/ensure-tools.sh).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec java -Xmx512m -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
WRAP
  chmod +x "$stage/temporal-test-server"
  check_test_server "$stage/temporal-test-server" || die "fetched the $label, but it does not start: run without arguments it should print its usage and exit 0, it exited with $check_status" \
    "java -cp '<lib>/*' io.temporal.testserver.TestServer" \
    "check \`java -version\` (Java 17+) and the jars Maven fetched; or set $var to an existing test server, or to 'download'" \
    "$(tail_of "$check_output")"
  if [ -e "$dir" ]; then
    log "another run cached the $label meanwhile; using that one"
  else
    mv "$stage" "$dir"
    log "test server ready: $wrapper"
  fi
  add_export "$var" "$wrapper"
}

# Schemathesis in its own virtualenv, installed with pip into a build directory, checked to run, then
# moved into the cache. A moved virtualenv's scripts name the old path in their #! line, so the
# cached entry point is a wrapper that runs the venv's python (which finds its venv by its own
# location) on schemathesis's CLI.
ensure_schemathesis() {
  local label="Schemathesis $SCHEMATHESIS_VERSION" var=SCHEMATHESIS_BIN
  local override="${SCHEMATHESIS_BIN:-}"
  if [ -n "$override" ]; then
    resolve_override "$var" "$override"
    check_runs "$resolved" --version || die "$var='$override' does not run: \`$resolved --version\` exited with $check_status" "$resolved --version" \
      "point $var at a working schemathesis, or unset it to let this script install $label" "$(tail_of "$check_output")"
    log "schemathesis: using $var=$resolved (${check_output%%$'\n'*})"
    add_export "$var" "$resolved"
    return
  fi
  local dir="$tools_dir/schemathesis-$SCHEMATHESIS_VERSION" wrapper
  wrapper="$dir/schemathesis"
  if [ -e "$dir" ]; then
    if [ -x "$wrapper" ] && check_runs "$wrapper" --version; then
      add_export "$var" "$wrapper"
      return
    fi
    log "cached $label at $dir does not run; installing it again"
    [ -z "$check_output" ] || tail_of "$check_output" 5 >&2
    rm -rf "$dir"
  fi
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null 2>&1 || die "Python 3 is needed for $label, and there is no \`$python\` on PATH" "" "install Python 3.9+ with its venv module (Debian: python3-venv), or set SCHEMATHESIS_BIN to an existing schemathesis"
  new_build_dir
  local stage="$build_dir/schemathesis-$SCHEMATHESIS_VERSION" status=0
  log "installing $label from PyPI into a virtualenv (first time only; about a minute)"
  "$python" -m venv "$stage/venv" >&2 </dev/null || die "\`$python -m venv\` failed" "$python -m venv <dir>" "install Python's venv module (Debian: apt-get install python3-venv), or set SCHEMATHESIS_BIN"
  "$stage/venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 </dev/null || status=$?
  [ "$status" -eq 0 ] || die "pip could not install schemathesis==$SCHEMATHESIS_VERSION (exit $status; its output is above)" \
    "pip install schemathesis==$SCHEMATHESIS_VERSION" "check that PyPI is reachable (pip's index-url and proxy settings) and that this Python is 3.9+; or set SCHEMATHESIS_BIN"
  cat >"$stage/schemathesis" <<'WRAP'
#!/usr/bin/env bash
# Schemathesis from PyPI in the virtualenv next to this file (tools/ensure-tools.sh).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/venv/bin/python" -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "schemathesis"; sys.exit(schemathesis())' "$@"
WRAP
  chmod +x "$stage/schemathesis"
  check_runs "$stage/schemathesis" --version || die "installed $label, but it does not run (exit $check_status)" "schemathesis --version" \
    "check the Python installation, or set SCHEMATHESIS_BIN to an existing schemathesis" "$(tail_of "$check_output")"
  if [ -e "$dir" ]; then
    log "another run cached $label meanwhile; using that one"
  else
    mv "$stage" "$dir"
    log "schemathesis ready: $wrapper"
  fi
  add_export "$var" "$wrapper"
}

# A jar is a zip file: its entries are read with unzip or, without it, Python's zipfile.
# can_read_jars fails when neither is on PATH; the jar checks are then skipped, not required.
can_read_jars() {
  command -v unzip >/dev/null 2>&1 || command -v "${PYTHON:-python3}" >/dev/null 2>&1
}

# Prints one entry of a jar; fails when the jar or the entry is not there.
jar_entry() {
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$1" "$2"
  else
    "${PYTHON:-python3}" -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode("utf-8", "replace"))' "$1" "$2"
  fi
}

# Zipkin server's executable jar from Maven Central (Maven's dependency plugin, no project needed),
# with a relocatable wrapper, checked to be Zipkin's Spring Boot jar (when a jar can be read here),
# then moved into the cache. The wrapper passes its arguments on (scripts/infra/zipkin.ts gives the
# port and address).
check_zipkin() {
  [ -x "$1/zipkin-server" ] && [ -s "$1/zipkin-server.jar" ] || return 1
  can_read_jars || return 0
  check_output="$(jar_entry "$1/zipkin-server.jar" META-INF/MANIFEST.MF 2>&1)" || return 1
  [[ "$check_output" == *"Start-Class: zipkin.server.ZipkinServer"* ]]
}

ensure_zipkin() {
  local label="Zipkin server $ZIPKIN_VERSION" var=ZIPKIN_BIN
  local override="${ZIPKIN_BIN:-}"
  if [ -n "$override" ]; then
    resolve_override "$var" "$override"
    log "zipkin: using $var=$resolved"
    add_export "$var" "$resolved"
    return
  fi
  command -v java >/dev/null 2>&1 || die "Java is needed to run the $label (npm run dev's trace viewer), and there is no \`java\` on PATH" "" "install Java 17+; or start npm run dev with DEV_TRACE_VIEWER=off"
  can_read_jars || log "neither unzip nor ${PYTHON:-python3} on PATH: the $label jar is used without checking its manifest"
  local dir="$tools_dir/zipkin-$ZIPKIN_VERSION"
  if [ -e "$dir" ]; then
    if check_zipkin "$dir"; then
      add_export "$var" "$dir/zipkin-server"
      return
    fi
    log "cached $label at $dir is not a Zipkin server jar with its wrapper; fetching it again"
    rm -rf "$dir"
  fi
  command -v mvn >/dev/null 2>&1 || die "Maven is needed to fetch the $label, and there is no \`mvn\` on PATH" "" "install Maven 3.6.1+; or set $var to an existing Zipkin server, or start npm run dev with DEV_TRACE_VIEWER=off"
  new_build_dir
  local stage="$build_dir/zipkin-$ZIPKIN_VERSION" status=0
  local cmd=(mvn -B --no-transfer-progress -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy
    "-Dartifact=io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" "-DoutputDirectory=$stage")
  log "fetching io.zipkin:zipkin-server:$ZIPKIN_VERSION (executable jar, about 130 MB) from Maven Central…"
  (cd "$build_dir" && "${cmd[@]}") >&2 </dev/null || status=$?
  [ "$status" -eq 0 ] || die "fetching the $label with Maven failed (mvn exited with $status; its output is above)" "${cmd[*]}" \
    "check that Maven reaches Maven Central (mirrors and proxies in ~/.m2/settings.xml); or start npm run dev with DEV_TRACE_VIEWER=off"
  mv "$stage/zipkin-server-$ZIPKIN_VERSION-exec.jar" "$stage/zipkin-server.jar" 2>/dev/null || die "Maven finished, but $stage has no zipkin-server-$ZIPKIN_VERSION-exec.jar" "${cmd[*]}" "try again; or start npm run dev with DEV_TRACE_VIEWER=off"
  cat >"$stage/zipkin-server" <<'WRAP'
#!/usr/bin/env bash
# Zipkin server from Maven Central (tools/ensure-tools.sh), traces in memory.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec java -Xmx256m -jar "$here/zipkin-server.jar" "$@"
WRAP
  chmod +x "$stage/zipkin-server"
  check_zipkin "$stage" || die "fetched the $label, but its jar is not Zipkin's server (no Start-Class zipkin.server.ZipkinServer)" "${cmd[*]}" "try again; or start npm run dev with DEV_TRACE_VIEWER=off" "$(tail_of "$check_output")"
  if [ -e "$dir" ]; then
    log "another run cached the $label meanwhile; using that one"
  else
    mv "$stage" "$dir"
    log "zipkin ready: $dir/zipkin-server"
  fi
  add_export "$var" "$dir/zipkin-server"
}

for tool in "${want[@]}"; do
  case "$tool" in
    temporal) ensure_temporal ;;
    nats) ensure_nats ;;
    test-server) ensure_test_server ;;
    schemathesis) ensure_schemathesis ;;
    zipkin) ensure_zipkin ;;
  esac
done
if [ "$print_env" -eq 1 ]; then printf '%s\n' "${exports[@]}"; fi
exit 0
