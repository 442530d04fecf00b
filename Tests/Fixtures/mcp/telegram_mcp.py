"""telegram-mcp: a streamable-HTTP MCP test server (mcp 2.x, pinned in scripts/install-oracles).

Usage: telegram_mcp.py PORT --record PATH [--json-response] [--fail-status CODE]

Listens on 127.0.0.1:PORT (0 = any free port) at /mcp and prints `LISTENING <port>` once ready.
By default it answers POSTs with SSE; --json-response makes it answer with JSON. --fail-status
makes every request to /mcp answer with that HTTP status (error-mapping tests).

Tools:
- send_message(chat_id, text) appends {"chat_id", "text"} as one JSON line to PATH and returns
  {"ok": true, "message_id": n} (n counts from 1);
- slow(seconds) sleeps, then answers.
Every request is appended to PATH + ".requests" as one line "METHOD SESSION-ID PROTOCOL-VERSION"
("-" for a missing header), so tests can check that the client sends the session id back.
"""

import argparse
import asyncio
import json
import socket
import sys
from typing import TypedDict

import uvicorn
from mcp.server.mcpserver import MCPServer

parser = argparse.ArgumentParser()
parser.add_argument("port", type=int)
parser.add_argument("--record", required=True)
parser.add_argument("--json-response", action="store_true")
parser.add_argument("--fail-status", type=int)
options = parser.parse_args()

server = MCPServer("telegram-mcp")
sent = 0


class Sent(TypedDict):
    ok: bool
    message_id: int


@server.tool()
def send_message(chat_id: int, text: str) -> Sent:
    """Sends `text` to the chat `chat_id`."""
    global sent
    sent += 1
    with open(options.record, "a", encoding="utf-8") as record:
        record.write(json.dumps({"chat_id": chat_id, "text": text}) + "\n")
    return {"ok": True, "message_id": sent}


@server.tool()
async def slow(seconds: float) -> str:
    """Sleeps for `seconds`, then answers."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


def recording(app):
    """ASGI middleware: records each request's headers of interest, or answers with --fail-status."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            if options.fail_status:
                await send({"type": "http.response.start", "status": options.fail_status, "headers": []})
                await send({"type": "http.response.body", "body": b"failing on purpose"})
                return
            headers = dict(scope["headers"])
            session = headers.get(b"mcp-session-id", b"-").decode()
            version = headers.get(b"mcp-protocol-version", b"-").decode()
            with open(options.record + ".requests", "a", encoding="utf-8") as requests:
                requests.write(f"{scope['method']} {session} {version}\n")
        await app(scope, receive, send)

    return wrapped


async def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", options.port))
    app = recording(server.streamable_http_app(json_response=options.json_response))
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    original_startup = uvicorn_server.startup

    async def startup(sockets=None):
        await original_startup(sockets=sockets)
        print(f"LISTENING {sock.getsockname()[1]}", flush=True)

    uvicorn_server.startup = startup
    await uvicorn_server.serve(sockets=[sock])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
