-- wrk report script for Benchmarks/run: at the end of a run, print one
-- machine-readable line that Benchmarks/run parses:
--
--   BENCH rps=<req/s> p50_ms=<ms> p95_ms=<ms> p99_ms=<ms> requests=<n>
--         non2xx=<n> socket_errors=<n> connect=<n> read=<n> write=<n> timeout=<n>
--
-- non2xx is wrk's own status-error counter: responses with status >= 400
-- (wrk does not count 3xx; none of the benchmarked endpoints redirect).
-- Counting in a response() callback instead would make wrk parse every
-- response in Lua and steal CPU from the server on a 2-core machine.
-- wrk reports latency in microseconds and duration in microseconds.

done = function(summary, latency, requests)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    local socket_errors = e.connect + e.read + e.write + e.timeout
    io.write(string.format(
        "BENCH rps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f requests=%d "
            .. "non2xx=%d socket_errors=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests / seconds,
        latency:percentile(50) / 1000,
        latency:percentile(95) / 1000,
        latency:percentile(99) / 1000,
        summary.requests,
        e.status, socket_errors, e.connect, e.read, e.write, e.timeout))
end
