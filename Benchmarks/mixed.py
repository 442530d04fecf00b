#!/usr/bin/env python3
"""80/20 read/write load on instances and knowledge bases (issue #4, DESIGN §8).

Usage: Benchmarks/mixed.py BINARY sqlite|postgres [DURATION_S] [TENANTS]
(for postgres, run under scripts/with-postgres: AGENTPLANE_TEST_POSTGRES_URL names the server).

100 concurrent connections: 80 on a read mix (GET one instance, list instances) and 20 on a write
mix (create an instance, add a knowledge-base entry), as two wrk processes at once, so read and
write latencies are reported separately. With TENANTS > 1 (default 1) each request picks one of
that many tenants (each with its own key and 50 instances) at random. MIX_ONLY=read or
MIX_ONLY=write runs one side alone; MIX_READ_CONNECTIONS and MIX_WRITE_CONNECTIONS change the 80 and 20 (to see a side's cost without the other's competition for the
cores). Loopback only; everything started is stopped.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

READ_LUA = """
local keys = {%s}
local ids = {%s}
local n = 0
request = function()
    n = n + 1
    local t = math.random(#keys)
    local id = ids[t][math.random(#ids[t])]
    local headers = {["Authorization"] = "Bearer " .. keys[t], ["Content-Type"] = "application/json"}
    if n %% 2 == 0 then return wrk.format("GET", "/api/v1/instances?limit=20", headers) end
    return wrk.format("GET", "/api/v1/instances/" .. id, headers)
end
"""
WRITE_LUA = """
local keys = {%s}
local ids = {%s}
local agent = "%s"
local n = 0
request = function()
    n = n + 1
    local t = math.random(#keys)
    local headers = {["Authorization"] = "Bearer " .. keys[t], ["Content-Type"] = "application/json"}
    if n %% 2 == 0 then
        return wrk.format("POST", "/api/v1/instances", headers,
            '{"agent_id":"' .. agent .. '","name":"bench ' .. n .. '","config":{"temperature":0.3}}')
    end
    local id = ids[t][math.random(#ids[t])]
    return wrk.format("POST", "/api/v1/instances/" .. id .. "/knowledge-base/entries", headers,
        '{"content":"Refunds are issued within 14 days of purchase, entry ' .. n .. '"}')
end
"""
REPORT = open(os.path.join(os.path.dirname(__file__), "report.lua")).read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, key, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.02)
    return False


def bench(lines):
    for line in lines.splitlines():
        if line.startswith("BENCH "):
            return dict(item.split("=") for item in line.split()[1:])
    raise RuntimeError("no BENCH line:\n" + lines)


def main():
    binary, backend = sys.argv[1], sys.argv[2]
    duration = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    tenant_count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    data_dir = tempfile.mkdtemp(prefix="agentplane-mixed-")
    port = free_port()
    admin = "ap_benchmix_" + "".join(random.choices(string.ascii_letters + string.digits, k=40))
    args = [binary, "serve", "--port", str(port), "--data-dir", data_dir, "--rate-limit", "0"]
    database = None
    if backend == "postgres":
        url = os.environ["AGENTPLANE_TEST_POSTGRES_URL"]
        database = "agentplane_mixed_" + "".join(random.choices(string.ascii_lowercase, k=8))
        subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {database}"], check=True)
        args += ["--database-url", re.sub(r"/[^/?]+(\?|$)", f"/{database}\\1", url, count=1)]
    env = dict(os.environ, AGENTPLANE_BOOTSTRAP_KEY=admin, LOG_LEVEL="warning")
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_ready(port, time.time() + 60):
            raise RuntimeError("server did not become ready")
        agent = call(port, "POST", "/api/v1/agents", admin, {
            "type": "bench-agent", "name": "Bench agent", "category": "bench",
            "default_config": {"model": "m", "temperature": 0.7}})["id"]
        keys, id_lists = [], []
        for t in range(tenant_count):
            tenant = call(port, "POST", "/api/v1/tenants", admin, {
                "slug": f"bench{t}", "name": f"Bench {t}",
                "quotas": {"max_instances": 1000000, "max_kb_entries": 100000000, "requests_per_minute": 10000000},
            })["id"]
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/service-accounts", method="POST",
                data=json.dumps({"name": "bench", "role": "admin"}).encode(),
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json",
                         "X-Tenant-ID": tenant})
            with urllib.request.urlopen(request, timeout=10) as response:
                account = json.loads(response.read())["id"]
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/service-accounts/{account}/keys", method="POST", data=b"{}",
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json",
                         "X-Tenant-ID": tenant})
            with urllib.request.urlopen(request, timeout=10) as response:
                key = json.loads(response.read())["key"]
            keys.append(key)
            id_lists.append([call(port, "POST", "/api/v1/instances", key, {"agent_id": agent, "name": f"seed {i}"})["id"]
                             for i in range(50)])
        quoted_keys = ",".join(f'"{k}"' for k in keys)
        quoted = ",".join("{" + ",".join(f'"{i}"' for i in ids) + "}" for ids in id_lists)
        work = tempfile.mkdtemp(prefix="agentplane-mixed-lua-")
        scripts = {}
        for name, body in [("read", READ_LUA % (quoted_keys, quoted)),
                           ("write", WRITE_LUA % (quoted_keys, quoted, agent))]:
            path = os.path.join(work, f"{name}.lua")
            with open(path, "w") as f:
                f.write(body + "\n" + REPORT)
            scripts[name] = path
        header = []
        base = f"http://127.0.0.1:{port}"
        runs = {}
        for phase, seconds in [("warmup", 3), ("measure", duration)]:
            sides = {"read": int(os.environ.get("MIX_READ_CONNECTIONS", "80")),
                     "write": int(os.environ.get("MIX_WRITE_CONNECTIONS", "20"))}
            only = os.environ.get("MIX_ONLY")
            procs = {
                name: subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
                                        scripts[name]] + header + [base], stdout=subprocess.PIPE, text=True)
                for name, connections in sides.items() if only in (None, name)
            }
            outputs = {name: proc.communicate(timeout=seconds + 60)[0] for name, proc in procs.items()}
            if phase == "measure":
                runs = {name: bench(out) for name, out in outputs.items()}
        rss = 0
        with open(f"/proc/{server.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss = int(line.split()[1]) / 1024
        label = f"{backend}, {tenant_count} tenant{'s' if tenant_count > 1 else ''}"
        titles = {"read": f"reads ({sides['read']} conns: GET instance / list instances)",
                  "write": f"writes ({sides['write']} conns: create instance / add KB entry, one run each)"}
        for name, run in runs.items():
            print(f"| {label} | {titles[name]} | {float(run['rps']):.0f} | {run['p50_ms']} | {run['p95_ms']} "
                  f"| {run['p99_ms']} | {run['non2xx']} / {run['socket_errors']} |")
        print(f"peak RSS {backend}: {rss:.1f} MiB")
        shutil.rmtree(work, ignore_errors=True)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
        if database:
            subprocess.run(["psql", os.environ["AGENTPLANE_TEST_POSTGRES_URL"], "-qc",
                            f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
