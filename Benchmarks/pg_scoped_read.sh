#!/usr/bin/env bash
# Usage: scripts/with-postgres Benchmarks/pg_scoped_read.sh [SECONDS]
#
# What sending the row-level-security setting WITH the query saves (issue #7, item 7): pgbench, 8
# clients, prepared statements, against a throwaway schema holding a 1,001-row RLS-protected table
# shaped like `instances`. "transaction" is what every store read used to send (BEGIN;
# set_config; SELECT; COMMIT: four round trips); "scoped" is PostgresClient.withScopedRead's single
# statement (set_config in a one-row subquery the SELECT depends on laterally: one round trip).
set -euo pipefail
url=${AGENTPLANE_TEST_POSTGRES_URL:?run through scripts/with-postgres}
seconds=${1:-10}
schema=bench_scoped_$RANDOM
dir=$(mktemp -d)
trap 'PGOPTIONS="-c client_min_messages=warning" psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null; rm -rf "$dir"' EXIT
tenant=11111111-1111-1111-1111-111111111111
row=22222222-2222-2222-2222-222222222222
psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
CREATE SCHEMA $schema;
CREATE FUNCTION $schema.visible(t uuid) RETURNS boolean LANGUAGE sql STABLE
    AS \$\$ SELECT coalesce(current_setting('app.tenant_id', true), '') IN ('*', t::text) \$\$;
CREATE TABLE $schema.inst (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text, config jsonb);
CREATE INDEX ON $schema.inst (tenant_id, id);
INSERT INTO $schema.inst SELECT gen_random_uuid(), '$tenant', 'n' || g, '{"a": 1}' FROM generate_series(1, 1000) g;
INSERT INTO $schema.inst VALUES ('$row', '$tenant', 'x', '{}');
ALTER TABLE $schema.inst ENABLE ROW LEVEL SECURITY;
ALTER TABLE $schema.inst FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON $schema.inst USING ($schema.visible(tenant_id)) WITH CHECK ($schema.visible(tenant_id));
SQL
select="SELECT id, name, config::text FROM $schema.inst WHERE tenant_id = '$tenant' AND id = '$row'"
printf 'BEGIN;\nSELECT set_config(%s, %s, true);\n%s;\nCOMMIT;\n' "'app.tenant_id'" "'$tenant'" "$select" > "$dir/transaction.sql"
printf "SELECT r.* FROM (SELECT set_config('app.tenant_id', '%s', true) AS t) s CROSS JOIN LATERAL (SELECT * FROM (%s) i WHERE s.t IS NOT NULL OFFSET 0) r;\n" "$tenant" "$select" > "$dir/scoped.sql"
for mode in transaction scoped; do
    printf '%-12s ' "$mode"
    pgbench "$url" -n -M prepared -c 8 -j 2 -T "$seconds" -f "$dir/$mode.sql" 2>&1 \
        | awk '/latency average/ {l=$4} /^tps/ {t=$3} END {printf "%.0f tps, latency average %s ms\n", t, l}'
done
