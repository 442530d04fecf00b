import AgentplaneCore
import AgentplaneMCP
import AgentplaneStore
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The `http` runtime: posts a run to an external agent service (`endpoint` + `run_path`) and reads its
/// answer — JSON (the output), text, or a `text/event-stream` whose events are streamed out as they come.
struct AgentServiceClient: Sendable {
    let outbound: OutboundPolicy

    /// The most bytes of an agent's answer a run keeps.
    static let maximumResponseBytes = 4 << 20

    func call(instance: Instance, runtime: InstanceRuntime, input: JSONValue, run: Run, _ output: RunOutputWriter)
        async throws -> [String: JSONValue]
    {
        guard let endpoint = runtime.endpoint else { throw PermanentRunFailure("config.endpoint is not set") }
        let url = InstanceRuntime.url(endpoint, path: instance.config["run_path"])
        do {
            try await outbound.check(url)
        } catch {
            throw PermanentRunFailure("config.endpoint refused: \(error.description)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json, text/event-stream")
        request.headers.add(name: "user-agent", value: "agentplane")
        request.headers.add(name: "x-agentplane-run-id", value: run.id.lowercasedString)
        request.headers.add(name: "x-agentplane-instance-id", value: instance.id.lowercasedString)
        let body: JSONValue = [
            "input": input, "run_id": .string(run.id.lowercasedString),
            "instance_id": .string(instance.id.lowercasedString),
        ]
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let host = url.host ?? "?"
        let response: HTTPClientResponse
        do {
            response = try await OutboundTracing.withClientSpan("agent.run", request) {
                try await BuiltInToolbox.outboundClient.execute($0, timeout: .hours(1))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Refused connections, TLS failures and answers that are not HTTP alike.
            throw ToolFailure("the agent service at \(host) did not answer (over HTTP): \(error)")
        }
        let status = response.status.code
        guard (200..<300).contains(status) else {
            let snippet = String(buffer: (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer())
            let text = "the agent service at \(host) answered HTTP \(status): \(snippet.prefix(500))"
            if status == 429 || status >= 500 { throw ToolFailure(text) }
            throw PermanentRunFailure(text)
        }
        let type = response.headers.first(name: "content-type")?.lowercased() ?? ""
        if type.hasPrefix("text/event-stream") {
            return ["output": .string(try await stream(response, host: host, output))]
        }
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch is NIOTooManyBytesError {
            throw PermanentRunFailure("the agent service's answer is larger than \(Self.maximumResponseBytes) bytes")
        }
        let text = String(buffer: bytes)
        if type.contains("json") || type.isEmpty {
            guard let json = JSONValue(parsing: text) else {
                throw PermanentRunFailure(
                    "the agent service at \(host) answered something that is not JSON: \(text.prefix(200))")
            }
            return ["output": json, "usage": json["usage"]?.objectValue.map(JSONValue.object) ?? .null]
        }
        return ["output": .string(text)]
    }

    /// Reads an SSE answer event by event, handing each event's text to `output` at once.
    func stream(_ response: HTTPClientResponse, host: String, _ output: RunOutputWriter) async throws -> String {
        var parser = ServerSentEventParser()
        var text = ""
        var received = 0
        for try await chunk in response.body {
            received += chunk.readableBytes
            guard received <= Self.maximumResponseBytes else {
                throw PermanentRunFailure(
                    "the agent service's stream is longer than \(Self.maximumResponseBytes) bytes")
            }
            for event in parser.feed(chunk.readableBytesView) {
                guard let delta = Self.delta(of: event) else { continue }
                text += delta
                await output.append(delta)
            }
        }
        return text
    }

    /// The text of one event: a JSON object's `delta`, `content`, `text` or `output` string, else the data as
    /// it is (`[DONE]` and empty data carry none).
    static func delta(of event: ServerSentEvent) -> String? {
        let data = event.data
        guard !data.isEmpty, data != "[DONE]" else { return nil }
        if let json = JSONValue(parsing: data), case .object(let members) = json {
            for key in ["delta", "content", "text", "output"] {
                if case .string(let text)? = members[key] { return text }
            }
        }
        return data
    }
}
