#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for Agentplane's tracing tests (standard library + `opentelemetry-proto`).

Usage: receiver.py PORT

Listens on 127.0.0.1:PORT (0: a free port) and prints `LISTENING <port>`. Then, one line per event on stdout
(flushed at once, so a test waits on the lines instead of polling):

  EXPORT {"path", "headers"}   a POST with `Content-Type: application/x-protobuf`, decoded as an OTLP
                               `ExportTraceServiceRequest` (answered with an empty `ExportTraceServiceResponse`),
  SPAN {...}                   then each span it held: `trace_id`, `span_id`, `parent_span_id` (lowercase hex, ""
                               for a root), `name`, `kind` (SERVER, CLIENT, INTERNAL, ...), `status` (UNSET, OK,
                               ERROR), `attributes` (an object), `service_name` (the resource's `service.name`),
  HIT {"method", "path", "headers", "body"}
                               any other request: it stands in for a service the platform calls (`http.request`),
                               and is answered 200 with `{"ok": true}`.

Header names are lowercased.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status


def emit(kind, record):
    sys.stdout.write(f"{kind} {json.dumps(record, sort_keys=True)}\n")
    sys.stdout.flush()


def value(any_value):
    """An OTLP AnyValue as plain JSON."""
    which = any_value.WhichOneof("value")
    if which == "array_value":
        return [value(item) for item in any_value.array_value.values]
    if which == "kvlist_value":
        return {item.key: value(item.value) for item in any_value.kvlist_value.values}
    if which == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, which) if which else None


def attributes(pairs):
    return {pair.key: value(pair.value) for pair in pairs}


def spans(request):
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                    "status": Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_"),
                    "attributes": attributes(span.attributes),
                    "service_name": resource.get("service.name"),
                }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def headers_record(self):
        return {name.lower(): value for name, value in self.headers.items()}

    def answer(self, status, content_type, payload):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        body = self.body()
        if (self.headers.get("Content-Type") or "").startswith("application/x-protobuf"):
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            emit("EXPORT", {"path": self.path, "headers": self.headers_record()})
            for span in spans(request):
                emit("SPAN", span)
            self.answer(200, "application/x-protobuf", ExportTraceServiceResponse().SerializeToString())
        else:
            self.hit(body)

    def do_GET(self):
        self.hit(b"")

    def hit(self, body):
        emit(
            "HIT",
            {
                "method": self.command,
                "path": self.path,
                "headers": self.headers_record(),
                "body": body.decode("utf-8", "replace"),
            },
        )
        self.answer(200, "application/json", b'{"ok": true}')


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    emit("LISTENING", server.server_address[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
