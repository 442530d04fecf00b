#!/usr/bin/env bash
# Usage: scripts/with-postgres Benchmarks/pg_one_tenant_writes.sh [SECONDS]
#
# One tenant's concurrent creates at the SQL level (issue #7, item 6): pgbench, 8 clients, each
# transaction creating a row and appending its event, shaped as the stores do it.
#   locked   — before schema 9: lock the tenant row FOR UPDATE, count(*) its rows for the quota,
#              insert, bump the per-tenant event counter row, insert the event
#   lockfree — schema 9: insert, insert the event (position = pg_current_xact_id() + a sequence
#              ordinal), take the quota unit with a conditional counter increment last
#   no-quota — lockfree without the counter, to show what the counter row still costs
# The locked script runs last: its count(*) grows with the rows all three inserted.
# Note: scripts/with-postgres' throwaway server runs with fsync=off; with fsync on, the counter row
# (held from the last statement to the commit) costs more.
set -euo pipefail
url=${AGENTPLANE_TEST_POSTGRES_URL:?run through scripts/with-postgres}
seconds=${1:-10}
s=bench_writes_$RANDOM
t=11111111-1111-1111-1111-111111111111
dir=$(mktemp -d)
trap 'PGOPTIONS="-c client_min_messages=warning" psql "$url" -qc "DROP SCHEMA IF EXISTS $s CASCADE" >/dev/null; rm -rf "$dir"' EXIT
psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
CREATE SCHEMA $s;
CREATE TABLE $s.tenants (id uuid PRIMARY KEY);
INSERT INTO $s.tenants VALUES ('$t');
CREATE TABLE $s.inst (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL, name text);
CREATE INDEX ON $s.inst (tenant_id, id);
CREATE TABLE $s.event_sequences (tenant_id uuid PRIMARY KEY, last_sequence bigint NOT NULL);
CREATE TABLE $s.ev_locked (tenant_id uuid, sequence bigint, data jsonb, PRIMARY KEY (tenant_id, sequence));
CREATE SEQUENCE $s.ords;
CREATE TABLE $s.ev (tenant_id uuid, txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ordinal bigint NOT NULL DEFAULT nextval('$s.ords'), data jsonb, PRIMARY KEY (tenant_id, txid, ordinal));
CREATE TABLE $s.tenant_usage (tenant_id uuid PRIMARY KEY, instances bigint NOT NULL DEFAULT 0);
SQL
cat > "$dir/lockfree.sql" <<SQL
BEGIN;
SELECT set_config('app.tenant_id', '$t', true);
INSERT INTO $s.inst (tenant_id, name) VALUES ('$t', 'x');
INSERT INTO $s.ev (tenant_id, data) VALUES ('$t', '{"a": 1}') RETURNING txid::text, ordinal;
INSERT INTO $s.tenant_usage (tenant_id, instances) VALUES ('$t', 1) ON CONFLICT (tenant_id)
    DO UPDATE SET instances = $s.tenant_usage.instances + 1 WHERE $s.tenant_usage.instances < 100000000 RETURNING instances;
COMMIT;
SQL
grep -v tenant_usage "$dir/lockfree.sql" | grep -v "DO UPDATE" > "$dir/no-quota.sql"
cat > "$dir/locked.sql" <<SQL
BEGIN;
SELECT set_config('app.tenant_id', '$t', true);
SELECT id FROM $s.tenants WHERE id = '$t' FOR UPDATE;
SELECT count(*) FROM $s.inst WHERE tenant_id = '$t';
INSERT INTO $s.inst (tenant_id, name) VALUES ('$t', 'x');
INSERT INTO $s.event_sequences VALUES ('$t', 1) ON CONFLICT (tenant_id)
    DO UPDATE SET last_sequence = $s.event_sequences.last_sequence + 1 RETURNING last_sequence \gset
INSERT INTO $s.ev_locked VALUES ('$t', :last_sequence, '{"a": 1}');
COMMIT;
SQL
for mode in lockfree no-quota locked; do
    printf '%-9s ' "$mode"
    pgbench "$url" -n -M prepared -c 8 -j 2 -T "$seconds" -f "$dir/$mode.sql" 2>&1 \
        | awk '/latency average/ {l=$4} /^tps/ {t=$3} END {printf "%.0f tps, latency average %s ms\n", t, l}'
done
