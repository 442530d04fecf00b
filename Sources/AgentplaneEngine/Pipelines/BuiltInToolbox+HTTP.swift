import AgentplaneCore
import AgentplaneTracing
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension BuiltInToolbox {
    /// The process's one client for requests made on a tenant's behalf (`http.request`, MCP over HTTP): it
    /// follows no redirect, since a redirect could lead past the SSRF check. Its calls are traced by
    /// `OutboundTracing`, not by the client itself (which would record query strings).
    public static let outboundClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout.connect = .seconds(10)
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// `http.request`: `method` (default GET), `url`, `headers`, `json` (a body sent as JSON) or `body` (text),
    /// `timeout_seconds`. The URL's host must resolve to public addresses unless the operator allowed it
    /// (SSRF); redirects are not followed. Answers `status`, `headers`, `body` (text) and `json` when the
    /// answer parses as JSON. A 5xx answer fails the step (retryable); any other status is the tool's output.
    func request(_ input: [String: JSONValue], context: ToolCallContext) async throws -> JSONValue {
        guard let text = input["url"]?.stringValue, let url = URL(string: text),
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { throw ToolFailure("http.request needs an http(s) 'url'", retryable: false) }
        let method = (input["method"]?.stringValue ?? "GET").uppercased()
        guard ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(method) else {
            throw ToolFailure("http.request: method must be GET, POST, PUT, PATCH, DELETE or HEAD", retryable: false)
        }
        do {
            try await outbound.check(url)
        } catch {
            throw ToolFailure("http.request refused: \(error.description)", retryable: false)
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in input["headers"]?.objectValue ?? [:] {
            guard let value = value.stringValue else {
                throw ToolFailure("http.request: header '\(name)' must be a string", retryable: false)
            }
            request.headers.add(name: name, value: value)
        }
        if let json = input["json"] {
            request.headers.replaceOrAdd(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json.jsonText))
        } else if let body = input["body"]?.stringValue {
            request.body = .bytes(ByteBuffer(string: body))
        }
        let timeout = input["timeout_seconds"]?.numberValue.map { Duration.milliseconds(Int64($0 * 1000)) }
        let limit = min(timeout ?? context.timeout, context.timeout)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            let seconds = Int64(max(1, (Double(limit.components.seconds) + 0.999).rounded(.down)))
            response = try await OutboundTracing.withClientSpan("http.request", request) {
                try await Self.outboundClient.execute($0, timeout: .seconds(seconds))
            }
            bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch let error as HTTPClientError {
            throw ToolFailure("http.request to \(url.host ?? "?") failed: \(error)")
        } catch let error as NIOTooManyBytesError {
            throw ToolFailure(
                "http.request: the answer is larger than \(Self.maximumResponseBytes) bytes (\(error))",
                retryable: false)
        }
        let body = String(buffer: bytes)
        if response.status.code >= 500 {
            throw ToolFailure("http.request to \(url.host ?? "?") answered \(response.status.code)")
        }
        var headers: [String: JSONValue] = [:]
        for header in response.headers { headers[header.name.lowercased()] = .string(header.value) }
        var output: [String: JSONValue] = [
            "status": .int(Int64(response.status.code)), "headers": .object(headers), "body": .string(body),
        ]
        if let json = JSONValue(parsing: body) { output["json"] = json }
        return .object(output)
    }
}
