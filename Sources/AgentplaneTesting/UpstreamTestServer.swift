import AgentplaneCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// An agent service on a loopback port for gateway tests. Every path echoes the request as JSON (`method`,
/// `path`, `query`, `headers` with lowercased names, `body` as text), except:
/// - `/large?bytes=N`: N bytes of `x`, streamed in 64 KiB chunks without a length;
/// - `/sse`: a `text/event-stream` that sends event `one`, waits for `secondEvent` to open, then sends `two`;
/// - `/hang`: never answers (until the server stops);
/// - `/stall`: sends its head and `partial`, then nothing more (until the server stops).
public final class UpstreamTestServer: Sendable {
    /// Opened by the test to let `/sse` send its second event.
    public let secondEvent = Latch(count: 1)
    /// Counted down when `/sse` has sent its first event.
    public let firstEventSent = Latch(count: 1)
    /// Opened when the server stops, releasing `/hang` and `/stall`.
    let released = Latch(count: 1)

    private init() {}

    /// Runs the server while `body` runs with it and its port on 127.0.0.1.
    public static func run<T: Sendable>(_ body: @Sendable (UpstreamTestServer, Int) async throws -> T)
        async throws -> T
    {
        let server = UpstreamTestServer()
        let router = Router()
        let answer: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            try await server.respond(request)
        }
        for method: HTTPRequest.Method in [.get, .post, .put, .patch, .delete, .head, .options] {
            router.on("/", method: method, use: answer)
            router.on("**", method: method, use: answer)
        }
        let release: @Sendable () -> Void = { server.released.countDown() }
        return try await LoopbackServer.run(router, label: "upstream-test", logLevel: .critical, beforeStop: release) {
            port in try await body(server, port)
        }
    }

    func respond(_ request: Request) async throws -> Response {
        let released = self.released
        switch request.uri.path {
        case "/large":
            let total = Int(request.uri.queryParameters.get("bytes") ?? "0") ?? 0
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody { writer in
                    var left = total
                    while left > 0 {
                        let size = min(left, 65_536)
                        try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: size))
                        left -= size
                    }
                    try await writer.finish(nil)
                })
        case "/sse":
            let (first, second) = (firstEventSent, secondEvent)
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "id: 1\nevent: step\ndata: one\n\n"))
                    first.countDown()
                    try await second.wait(within: .seconds(60))
                    try await writer.write(ByteBuffer(string: "id: 2\nevent: step\ndata: two\n\n"))
                    try await writer.finish(nil)
                })
        case "/hang":
            try? await released.wait(within: .seconds(300))
            return Response(status: .ok)
        case "/stall":
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "partial"))
                    try? await released.wait(within: .seconds(300))
                    try await writer.finish(nil)
                })
        default:
            return try await echo(request)
        }
    }

    private func echo(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 20)
        var headers: [String: JSONValue] = [:]
        for field in request.headers {
            let name = field.name.canonicalName.lowercased()
            if case .string(let earlier)? = headers[name] {
                headers[name] = .string(earlier + ", " + field.value)
            } else {
                headers[name] = .string(field.value)
            }
        }
        let echo: JSONValue = .object([
            "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "query": request.uri.query.map(JSONValue.string) ?? .null, "headers": .object(headers),
            "body": .string(String(buffer: body)), "body_bytes": .int(Int64(body.readableBytes)),
        ])
        return Response(
            status: .ok, headers: [.contentType: "application/json", HTTPField.Name("X-Upstream")!: "echo"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: echo.jsonText)))
    }
}

/// A TCP listener on loopback that answers every connection with bytes that are not HTTP, then closes it.
public enum GarbageServer {
    /// Runs the listener while `body` runs with its port.
    public static func run<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in channel.pipeline.addHandler(GarbageHandler()) }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let result = try await body(channel.localAddress?.port ?? 0)
            try await channel.close()
            return result
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private final class GarbageHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let garbage = ByteBuffer(bytes: Array("\u{1}\u{2}garbage, not HTTP at all\r\n\r\n\u{0}".utf8))
            context.writeAndFlush(wrapOutboundOut(garbage), promise: nil)
            context.close(promise: nil)
        }
    }
}
