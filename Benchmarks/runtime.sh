#!/usr/bin/env bash
# Usage: Benchmarks/runtime.sh sqlite|postgres
#
# Agent runtime benchmarks of issue #11 against a release server started here (docs/benchmarks.md):
#   - instance runs per second in `wait` mode: a one-step pipeline, and a chat on a fake model (runs-bench instance-runs)
#   - time from a `stream` run's POST to its first `run.output` event (runs-bench first-chunk)
#   - gateway overhead against calling the upstream directly, at 100 connections and at 1 (runs-bench gateway)
# Build first: swift build -c release --scratch-path .build-release --product agentplane (and --product runs-bench).
# PostgreSQL: run under scripts/with-postgres; a fresh database per run. Everything started here is stopped by pid.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
backend=${1:?sqlite or postgres}
bin=.build-release/release
export AGENTPLANE_BOOTSTRAP_KEY="ap_benchadm_$(printf 'K3y%.0s' {1..14})"
work=$(mktemp -d)
cleanup() {
  [ -f "$work/pid" ] && kill "$(cat "$work/pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

database_args=()
if [ "$backend" = postgres ]; then
  admin=${AGENTPLANE_TEST_POSTGRES_ADMIN_URL:?run under scripts/with-postgres}
  name=runtime_bench_$RANDOM$RANDOM
  psql "$admin" -qc "CREATE DATABASE $name"
  database_args=(--database-url "${admin%/*}/$name")
fi

log=$work/node.log
AGENTPLANE_OUTBOUND_ALLOW=127.0.0.1 "$bin/agentplane" serve --port 0 --data-dir "$work/data" --log-level notice \
  --worker-concurrency 32 --rate-limit 0 "${database_args[@]}" >"$log" 2>&1 &
echo $! >"$work/pid"
for _ in $(seq 1 300); do grep -q "agentplane is ready" "$log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
[ -n "$url" ] || { echo "the server did not start" >&2; cat "$log" >&2; exit 1; }
echo "backend=$backend commit=$(git rev-parse --short HEAD) date=$(date -u +%Y-%m-%dT%H:%MZ)"
"$bin/runs-bench" instance-runs "$url" 2000 32 noop
"$bin/runs-bench" instance-runs "$url" 1000 32 llm
"$bin/runs-bench" first-chunk "$url" 200
"$bin/runs-bench" gateway "$url" 100 20000
"$bin/runs-bench" gateway "$url" 1 3000
