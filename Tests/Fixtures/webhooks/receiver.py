#!/usr/bin/env python3
"""A webhook receiver for Agentplane's tests (Python 3 standard library only).

Usage: receiver.py PORT --record FILE [--secrets-file FILE] [--secret whsec_...]...

Listens on 127.0.0.1:PORT (0: a free port) and prints `LISTENING <port>`. Every POST is verified as a
Standard Webhooks receiver would: `webhook-signature` holds space-separated `v1,<base64>` signatures of
"<webhook-id>.<webhook-timestamp>.<body>" (HMAC-SHA256 with the base64 key after `whsec_`), the timestamp must
be within 5 minutes. The secrets are those given with --secret plus the lines of --secrets-file, read again on
each request (tests write it once the server has shown the secret). A request no secret verifies answers 401.

What a verified request answers depends on its path:
  /ok/...            200
  /fail/...          500
  /flaky/N/...       500 for the first N requests to that exact path, then 200
  /status/CODE/...   CODE

Every request is appended to the --record file as one JSON line: path, the webhook headers, the body (parsed
JSON), whether it verified, which secrets (by index) matched, and the status answered. `GET /received` answers
the same records as a JSON array.
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def secrets(args):
    found = list(args.secret)
    if args.secrets_file:
        try:
            with open(args.secrets_file, encoding="utf-8") as handle:
                found += [line.strip() for line in handle if line.strip()]
        except FileNotFoundError:
            pass
    return found


def signature(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    content = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def verify(known, msg_id, timestamp, header, body):
    """Which of the known secrets signed the body (indexes); empty when none did or the timestamp is stale."""
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return []
    except (TypeError, ValueError):
        return []
    sent = [part.split(",", 1)[1] for part in (header or "").split(" ") if part.startswith("v1,")]
    matched = []
    for index, secret in enumerate(known):
        expected = signature(secret, msg_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in sent):
            matched.append(index)
    return matched


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--record", required=True)
    parser.add_argument("--secrets-file")
    parser.add_argument("--secret", action="append", default=[])
    args = parser.parse_args()
    lock = threading.Lock()
    counts = {}
    records = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", "application/json" if text.startswith(("{", "[")) else "text/plain")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.startswith("/received"):
                with lock:
                    self.answer(200, json.dumps(records))
            else:
                self.answer(404, "not found")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            msg_id = self.headers.get("webhook-id")
            timestamp = self.headers.get("webhook-timestamp")
            header = self.headers.get("webhook-signature")
            matched = verify(secrets(args), msg_id, timestamp, header, body)
            parts = [part for part in self.path.split("/") if part]
            status = 200
            if not matched:
                status = 401
            elif parts and parts[0] == "fail":
                status = 500
            elif parts and parts[0] == "status" and len(parts) > 1 and parts[1].isdigit():
                status = int(parts[1])
            elif parts and parts[0] == "flaky" and len(parts) > 1 and parts[1].isdigit():
                with lock:
                    counts[self.path] = counts.get(self.path, 0) + 1
                    if counts[self.path] <= int(parts[1]):
                        status = 500
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            record = {
                "path": self.path,
                "webhook_id": msg_id,
                "webhook_timestamp": timestamp,
                "webhook_signature": header,
                "content_type": self.headers.get("content-type"),
                "user_agent": self.headers.get("user-agent"),
                "body": parsed,
                "verified": bool(matched),
                "matched_secrets": matched,
                "status": status,
            }
            with lock:
                records.append(record)
                with open(args.record, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
            self.answer(status, json.dumps({"received": msg_id, "status": status}))

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
