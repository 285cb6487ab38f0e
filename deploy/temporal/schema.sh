#!/bin/sh
# One-shot job (docker-compose.yml service temporal-schema, image temporalio/admin-tools):
# creates Temporal's two databases on our Postgres and brings their schemas to the version the
# admin-tools image ships, which is the server's version (keep both image tags equal).
# Safe to run again: `create` skips an existing database, `setup-schema -v 0.0` leaves a
# versioned schema alone, `update-schema` applies only the missing versions.
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool).
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the Postgres host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" "$@"
}

for db in temporal:temporal temporal_visibility:visibility; do
  name=${db%%:*}
  dir=${db#*:}
  echo "temporal-schema: database $name"
  sql --db "$name" create
  sql --db "$name" setup-schema -v 0.0
  sql --db "$name" update-schema -d "$SCHEMA_DIR/$dir/versioned"
done
echo 'temporal-schema: done'
