import AsyncHTTPClient
import Foundation
import NIOCore

/// A response read to its end on a connection of its own (the test client keeps one connection, which a server
/// that cuts a stream closes): its status, how many body bytes came, and whether the body ended cleanly.
public struct StreamedResponse: Sendable {
    /// The status.
    public var status: Int
    /// Body bytes received.
    public var bytes: Int
    /// The body's first 64 KiB.
    public var prefix: String
    /// Whether the body ended normally (false: the connection was cut).
    public var completed: Bool

    /// GETs `http://127.0.0.1:<port><path>` with `key` as bearer credential.
    public static func get(port: Int, path: String, key: String, timeout: Duration = .seconds(60)) async throws
        -> StreamedResponse
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout.components.seconds))
        var result = StreamedResponse(status: Int(response.status.code), bytes: 0, prefix: "", completed: false)
        do {
            for try await chunk in response.body {
                if result.prefix.utf8.count < 65_536 { result.prefix += String(buffer: chunk) }
                result.bytes += chunk.readableBytes
            }
            result.completed = true
        } catch {
            result.completed = false
        }
        return result
    }
}

/// A request body sent without a declared length (chunked), and the answer read whole.
public enum ChunkedUpload {
    /// POSTs `chunks` chunks of `chunkSize` bytes of `z` to `http://127.0.0.1:<port><path>` with `key` as bearer
    /// credential, on a connection of its own; answers the status and the body as text.
    public static func post(port: Int, path: String, key: String, chunks: Int, chunkSize: Int) async throws
        -> (status: Int, text: String)
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "text/plain")
        let (body, continuation) = AsyncStream<ByteBuffer>.makeStream()
        for _ in 0..<chunks { continuation.yield(ByteBuffer(repeating: UInt8(ascii: "z"), count: chunkSize)) }
        continuation.finish()
        request.body = .stream(body, length: .unknown)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), text)
    }
}
