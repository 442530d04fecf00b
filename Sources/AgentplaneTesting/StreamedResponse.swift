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
