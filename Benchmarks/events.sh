#!/usr/bin/env bash
# Usage: Benchmarks/events.sh sqlite|postgres
#
# Event delivery benchmarks of issue #10 against release servers started here (docs/benchmarks.md):
#   - append (POST /api/v1/events) → SSE delivery with 100 subscribers, p50/p99 (runs-bench sse-latency)
#   - server RSS idle, then with 1,000 idle SSE subscribers (runs-bench sse-idle)
#   - webhook deliveries per second to a receiver in the benchmark process (runs-bench webhooks)
#   - postgres only: two nodes on one database, published on A → received on B (runs-bench fanout)
# Build first: swift build -c release --scratch-path .build-release --product agentplane (and --product runs-bench).
# PostgreSQL: run under scripts/with-postgres; a fresh database per run. Everything started here is stopped by pid.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
backend=${1:?sqlite or postgres}
bin=.build-release/release
export AGENTPLANE_BOOTSTRAP_KEY="ap_benchadm_$(printf 'K3y%.0s' {1..14})"
work=$(mktemp -d)
# Nodes are started in command substitutions (subshells), so their pids live in files.
cleanup() {
  for file in "$work"/pid*; do [ -f "$file" ] && kill "$(cat "$file")" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

database_args=()
if [ "$backend" = postgres ]; then
  admin=${AGENTPLANE_TEST_POSTGRES_ADMIN_URL:?run under scripts/with-postgres}
  name=events_bench_$RANDOM$RANDOM
  psql "$admin" -qc "CREATE DATABASE $name"
  database_args=(--database-url "${admin%/*}/$name")
fi

# Starts a node; prints its address.
start() {
  local log=$work/node$1.log
  AGENTPLANE_OUTBOUND_ALLOW=127.0.0.1 "$bin/agentplane" serve --port 0 --data-dir "$work/data" --log-level notice "${database_args[@]}" >"$log" 2>&1 &
  echo $! >"$work/pid$1"
  for _ in $(seq 1 300); do
    if grep -q "agentplane is ready" "$log"; then
      grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1
      return
    fi
    sleep 0.1
  done
  echo "node $1 did not start" >&2; cat "$log" >&2; exit 1
}
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$1/status"; }

a=$(start 1)
pid=$(cat "$work/pid1")
echo "backend=$backend commit=$(git rev-parse --short HEAD) date=$(date -u +%Y-%m-%dT%H:%MZ)"
sleep 2
echo "idle RSS, 2 s after ready: $(rss "$pid")"
"$bin/runs-bench" sse-idle "$a" 1000 15 >"$work/idle.out" &
idle=$!
for _ in $(seq 1 600); do grep -q "streams open" "$work/idle.out" && break; sleep 0.1; done
echo "RSS with 1,000 idle SSE subscribers: $(rss "$pid")"
wait $idle
echo "RSS right after they left (a stream whose client left is noticed at its next keep-alives): $(rss "$pid")"
"$bin/runs-bench" sse-latency "$a" 100 1000
"$bin/runs-bench" webhooks "$a" 5000
if [ "$backend" = postgres ]; then
  b=$(start 2)
  "$bin/runs-bench" fanout "$a" "$b" 500
fi
