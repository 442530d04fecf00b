#!/usr/bin/env python3
"""Small helpers for Benchmarks/run (stdlib only, loopback only, bounded loops).

  bench.py free-port
  bench.py wait-ready PORT STARTED_FILE PID_FILE TIMEOUT_S
  bench.py seed PORT KEY COUNT THREADS
  bench.py stop PID TIMEOUT_S
"""

import http.client
import json
import os
import signal
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def free_port() -> None:
    with socket.socket() as s:
        s.bind((HOST, 0))
        print(s.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie (exited but not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may contain spaces.
    return stat[stat.rindex(")") + 2] != "Z"


def wait_ready(port: int, started_file: str, pid_file: str, timeout_s: float) -> int:
    """Poll GET /health/ready as tightly as is sensible and print the wall-clock
    time (time.time()) of the first 200. Started before the server is spawned;
    STARTED_FILE tells the caller we are polling, PID_FILE (written by the caller
    after spawning) lets us stop early if the server dies."""
    open(started_file, "w").close()
    deadline = time.monotonic() + timeout_s
    pid = None
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/health/ready")
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                print(f"{time.time():.6f}")
                return 0
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        if pid is None:
            try:
                with open(pid_file) as f:
                    pid = int(f.read().strip() or "0") or None
            except (OSError, ValueError):
                pid = None
        if pid is not None and not pid_alive(pid):
            print(f"server pid {pid} exited before it was ready", file=sys.stderr)
            return 1
        # 1 ms between attempts: precise enough, and leaves the CPU to the server.
        time.sleep(0.001)
    print(f"server not ready after {timeout_s}s", file=sys.stderr)
    return 1


def seed(port: int, key: str, count: int, threads: int) -> int:
    """POST COUNT events over THREADS keep-alive connections, then check that
    the list endpoint answers 200. Prints one JSON line with the outcome."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lock = threading.Lock()
    next_n = [0]
    ok = [0]
    failed = [0]
    first_error: list[str] = []

    def take() -> int | None:
        with lock:
            if next_n[0] >= count:
                return None
            next_n[0] += 1
            return next_n[0]

    def worker() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        while (n := take()) is not None:
            # bytes, so http.client sends headers and body in one write (a separate
            # small write for the body stalls on Nagle + delayed ACK, ~40 ms each).
            body = json.dumps({"type": "bench.seeded", "subject": f"bench/{n}", "data": {"n": n}}).encode()
            try:
                conn.request("POST", "/api/v1/events", body=body, headers=headers)
                resp = conn.getresponse()
                text = resp.read()
                good = 200 <= resp.status < 300
                err = f"HTTP {resp.status}: {text[:300]!r}"
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=10)
                good, err = False, repr(e)
            with lock:
                if good:
                    ok[0] += 1
                else:
                    failed[0] += 1
                    if not first_error:
                        first_error.append(err)
        conn.close()

    start = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.monotonic() - start

    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/api/v1/events?limit=50", headers={"Authorization": headers["Authorization"]})
        resp = conn.getresponse()
        list_status = resp.status
        list_body = resp.read()
    except (OSError, http.client.HTTPException) as e:
        list_status, list_body = 0, repr(e).encode()
    finally:
        conn.close()

    print(json.dumps({
        "ok": ok[0],
        "failed": failed[0],
        "seconds": round(seconds, 3),
        "first_error": first_error[0] if first_error else None,
        "list_status": list_status,
        "list_body_head": None if list_status == 200 else list_body[:300].decode("utf-8", "replace"),
    }))
    return 0 if failed[0] == 0 and list_status == 200 else 1


def stop(pid: int, timeout_s: float) -> int:
    """SIGTERM pid, poll every millisecond until it is gone, SIGKILL after
    TIMEOUT_S. Prints '<ms> graceful' or '<ms> killed'."""
    start = time.monotonic()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print("0.0 gone")
        return 0
    while time.monotonic() - start < timeout_s:
        if not pid_alive(pid):
            print(f"{(time.monotonic() - start) * 1000:.1f} graceful")
            return 0
        time.sleep(0.001)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    print(f"{(time.monotonic() - start) * 1000:.1f} killed")
    return 0


def main(argv: list[str]) -> int:
    cmd, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    if cmd == "free-port" and not args:
        free_port()
        return 0
    if cmd == "wait-ready" and len(args) == 4:
        return wait_ready(int(args[0]), args[1], args[2], float(args[3]))
    if cmd == "seed" and len(args) == 4:
        return seed(int(args[0]), args[1], int(args[2]), int(args[3]))
    if cmd == "stop" and len(args) == 2:
        return stop(int(args[0]), float(args[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
