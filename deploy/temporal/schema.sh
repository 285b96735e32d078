#!/bin/sh
# Temporal's databases on PostgreSQL: creates `temporal` and `temporal_visibility` and brings
# their schemas to the version this admin-tools image ships. Safe to run on every start: an
# existing database is kept and only newer schema versions are applied.
set -eu
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"  # the tool reads SQL_PASSWORD
SCHEMAS=/etc/temporal/schema/postgresql/v12

sql() {
    temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" \
        -u "$POSTGRES_USER" "$@"
}

sql --db temporal create
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d "$SCHEMAS/temporal/versioned"

sql --db temporal_visibility create
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d "$SCHEMAS/visibility/versioned"
