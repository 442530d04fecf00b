#!/usr/bin/env python3
"""Sustained read+write load on the embedded default, sampling RSS and the WAL (issue #7, item 11).

Usage: Benchmarks/soak.py BINARY [DURATION_S] [SAMPLE_S] [READERS] [WRITERS]
       (defaults 600 s, samples every 10 s, 40 reader and 10 writer connections)

Starts the server on a fresh SQLite data directory, seeds a tenant with 50 instances, then runs two
wrk processes for DURATION_S: READERS connections cycling GET instance / list instances / an event
page (?limit=50) / a knowledge-base search, and WRITERS connections alternating a published event
and a knowledge-base entry (processed and indexed in the request). Every SAMPLE_S it prints the
server's RSS and the database and WAL file sizes; at the end the wrk summaries and the idle RSS and
WAL 15 s after the load stopped. Loopback only; everything started is stopped.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.dont_write_bytecode = True
import mixed  # noqa: E402  (the server, seeding and wrk helpers)

READ_LUA = """
local ids = {%s}
local n = 0
request = function()
    n = n + 1
    local id = ids[math.random(#ids)]
    local k = n %% 4
    if k == 0 then return wrk.format("GET", "/api/v1/instances?limit=20") end
    if k == 1 then return wrk.format("GET", "/api/v1/events?limit=50") end
    if k == 2 then return wrk.format("GET", "/api/v1/instances/" .. id .. "/knowledge-base/search?q=refunds&limit=10") end
    return wrk.format("GET", "/api/v1/instances/" .. id)
end
"""
WRITE_LUA = """
local ids = {%s}
local n = 0
request = function()
    n = n + 1
    if n %% 2 == 0 then
        return wrk.format("POST", "/api/v1/events", nil,
            '{"type":"soak.tick","subject":"soak/' .. n .. '","data":{"n":' .. n .. ',"note":"sustained load"}}')
    end
    local id = ids[math.random(#ids)]
    return wrk.format("POST", "/api/v1/instances/" .. id .. "/knowledge-base/entries", nil,
        '{"content":"Refunds are issued within 14 days of purchase, entry ' .. n .. '"}')
end
"""


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def size_mib(path):
    try:
        return os.path.getsize(path) / (1 << 20)
    except OSError:
        return 0.0


def main():
    binary = sys.argv[1]
    duration = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    sample = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    readers = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    writers = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    data_dir = tempfile.mkdtemp(prefix="agentplane-soak-")
    db = os.path.join(data_dir, "agentplane.sqlite")
    port = mixed.free_port()
    admin = "ap_soakbnch_" + "".join(__import__("random").choices("abcdefghijklmnopqrstuvwxyz0123456789", k=40))
    env = dict(os.environ, AGENTPLANE_BOOTSTRAP_KEY=admin, LOG_LEVEL="warning")
    server = subprocess.Popen(
        [binary, "serve", "--port", str(port), "--data-dir", data_dir, "--rate-limit", "0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="agentplane-soak-lua-")
    try:
        if not mixed.wait_ready(port, time.time() + 60):
            raise RuntimeError("server did not become ready")
        time.sleep(2)
        idle = rss_mib(server.pid)
        key, ids = seed(port, admin)
        quoted = ",".join(f'"{i}"' for i in ids)
        scripts = {}
        for name, body in [("read", READ_LUA % quoted), ("write", WRITE_LUA % quoted)]:
            path = os.path.join(work, f"{name}.lua")
            with open(path, "w") as f:
                f.write(body + "\n" + mixed.REPORT)
            scripts[name] = path
        header = ["-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json"]
        base = f"http://127.0.0.1:{port}"
        procs = {
            name: subprocess.Popen(["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s",
                                    "-s", scripts[name]] + header + [base], stdout=subprocess.PIPE, text=True)
            for name, conns in [("read", readers), ("write", writers)]
        }
        print(f"idle RSS before load: {idle:.1f} MiB")
        print("| t (s) | RSS (MiB) | database (MiB) | WAL (MiB) |")
        print("| --- | --- | --- | --- |")
        start = time.time()
        while any(p.poll() is None for p in procs.values()):
            time.sleep(sample)
            print(f"| {time.time() - start:.0f} | {rss_mib(server.pid):.1f} | {size_mib(db):.1f} "
                  f"| {size_mib(db + '-wal'):.1f} |", flush=True)
        for name, proc in procs.items():
            result = mixed.bench(proc.communicate()[0])
            print(f"{name}: {float(result['rps']):.0f} req/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
                  f"p99 {result['p99_ms']} ms, errors {result['non2xx']} / {result['socket_errors']}")
        time.sleep(15)
        print(f"15 s after the load: RSS {rss_mib(server.pid):.1f} MiB, WAL {size_mib(db + '-wal'):.1f} MiB, "
              f"database {size_mib(db):.1f} MiB")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


def seed(port, admin):
    """A tenant with large quotas, an admin service-account key and 50 instances of one agent."""
    import json
    import urllib.request

    def post(path, body, key, tenant=None):
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        if tenant:
            headers["X-Tenant-ID"] = tenant
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                         data=json.dumps(body).encode(), headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    tenant = post("/api/v1/tenants", {"slug": "soak", "name": "Soak", "quotas": {
        "max_instances": 1000000, "max_kb_entries": 100000000, "requests_per_minute": 10000000}}, admin)["id"]
    account = post("/api/v1/service-accounts", {"name": "soak", "role": "admin"}, admin, tenant)["id"]
    key = post(f"/api/v1/service-accounts/{account}/keys", {}, admin, tenant)["key"]
    agent = post("/api/v1/agents", {"type": "soak-agent", "name": "Soak agent", "category": "bench",
                                    "default_config": {"model": "m"}}, admin)["id"]
    ids = [post("/api/v1/instances", {"agent_id": agent, "name": f"seed {i}"}, key)["id"] for i in range(50)]
    return key, ids


if __name__ == "__main__":
    main()
