#!/bin/sh
# One-shot job (docker-compose.yml service temporal-setup, image temporalio/admin-tools), run
# once the server answers: creates the namespace our processes use and registers the search
# attributes the order workflow keeps current (common/search-attributes.ts). Idempotent: what
# exists already is left as it is, so `docker compose up` can run it every time.
# Environment: TEMPORAL_ADDRESS (read by the temporal CLI), TEMPORAL_NAMESPACE.
set -eu
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
ATTEMPTS=${SETUP_ATTEMPTS:-60}
PAUSE=${SETUP_RETRY_SECONDS:-2}

# retry DESCRIPTION COMMAND...: runs COMMAND until it succeeds, every PAUSE s, at most ATTEMPTS times.
retry() {
  what=$1
  shift
  i=1
  until "$@"; do
    if [ "$i" -ge "$ATTEMPTS" ]; then
      echo "temporal-setup: gave up on $what after $ATTEMPTS attempts" >&2
      return 1
    fi
    echo "temporal-setup: $what not yet (attempt $i/$ATTEMPTS), retrying in $PAUSE s"
    i=$((i + 1))
    sleep "$PAUSE"
  done
}

cluster_serving() {
  temporal operator cluster health >/dev/null 2>&1
}

ensure_namespace() {
  temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1 \
    || temporal operator namespace create --namespace "$NAMESPACE" --retention 72h
}

# has_attribute NAME: the namespace's search attributes include NAME.
has_attribute() {
  temporal operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null | grep -qw -- "$1"
}

# ensure_attribute NAME TYPE: creating one that exists fails on some server versions ("already
# exists") and succeeds on others, so look first, create if missing, then look again.
ensure_attribute() {
  has_attribute "$1" && return 0
  temporal operator search-attribute create --namespace "$NAMESPACE" --name "$1" --type "$2" || true
  has_attribute "$1"
}

retry 'cluster health' cluster_serving
retry "namespace $NAMESPACE" ensure_namespace
retry 'search attribute OrderStatus' ensure_attribute OrderStatus Keyword
retry 'search attribute CustomerId' ensure_attribute CustomerId Keyword
echo "temporal-setup: namespace $NAMESPACE with search attributes OrderStatus, CustomerId (Keyword)"
