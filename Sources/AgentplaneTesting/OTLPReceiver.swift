import AgentplaneCore
import Foundation
import Synchronization

/// The OTLP/HTTP trace receiver of `Tests/Fixtures/otel/receiver.py`, run as a real process on a free loopback
/// port with the interpreter of `scripts/install-oracles` (it decodes the protobuf exports with
/// `opentelemetry-proto`). It prints a line per export, per span and per other request (`hit`), and a test waits
/// on those lines as they arrive, never on a timer.
public final class OTLPReceiver: Sendable {
    /// Its port on 127.0.0.1.
    public let port: Int
    private let process: AgentplaneProcess
    private let seen = Mutex(Received())

    /// What it got so far.
    public struct Received: Sendable {
        /// The exports' paths and (lowercased) headers, in arrival order.
        public var exports: [JSONValue] = []
        /// Every span exported.
        public var spans: [ReceivedSpan] = []
        /// Every other request: `method`, `path`, `headers`, `body`.
        public var hits: [JSONValue] = []
    }

    private init(port: Int, process: AgentplaneProcess) {
        self.port = port
        self.process = process
    }

    /// Runs a receiver for the duration of `body`, then stops it (by its pid).
    public static func with<T: Sendable>(_ body: (OTLPReceiver) async throws -> T) async throws -> T {
        let script = MCPTestServers.packageRoot.appendingPathComponent("Tests/Fixtures/otel/receiver.py").path
        let process = try AgentplaneProcess(executable: try MCPTestServers.requirePython(), [script, "0"])
        guard let line = await process.firstLine(within: .seconds(60), where: { $0.hasPrefix("LISTENING ") }),
            let port = Int(line.dropFirst("LISTENING ".count).trimmingCharacters(in: .whitespaces))
        else {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            throw TestEnvironmentError("the OTLP receiver did not start: \(process.outputText)")
        }
        let receiver = OTLPReceiver(port: port, process: process)
        defer { process.signal(SIGKILL) }
        return try await body(receiver)
    }

    /// The base URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT` (exports go to `/v1/traces` under it).
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// A URL of this receiver standing in for another service (its requests are recorded as hits).
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// What it got so far (the lines read up to now).
    public var received: Received { seen.withLock { $0 } }

    /// Waits until what it got satisfies `done`, reading its lines as they come; fails after `timeout`.
    @discardableResult
    public func awaitReceived(
        within timeout: Duration = .seconds(60), until done: @escaping @Sendable (Received) -> Bool
    ) async throws -> Received {
        if done(received) { return received }
        let line = await process.firstLine(within: timeout) { line in
            self.seen.withLock { state in
                Self.ingest(line, into: &state)
                return done(state)
            }
        }
        guard line != nil else {
            throw AwaitTimeout(description: "the OTLP receiver did not get what was awaited; got \(received)")
        }
        return received
    }

    private static func ingest(_ line: String, into state: inout Received) {
        guard let space = line.firstIndex(of: " "), let record = JSONValue(parsing: String(line[space...])) else {
            return
        }
        switch line[..<space] {
        case "EXPORT": state.exports.append(record)
        case "SPAN": state.spans.append(ReceivedSpan(record))
        case "HIT": state.hits.append(record)
        default: break
        }
    }
}

/// One span as the receiver decoded it.
public struct ReceivedSpan: Sendable, CustomStringConvertible {
    /// Lowercase hex.
    public var traceID: String
    /// Lowercase hex.
    public var spanID: String
    /// Lowercase hex; empty for a root span.
    public var parentSpanID: String
    /// The span's name.
    public var name: String
    /// `SERVER`, `CLIENT`, `INTERNAL`, `CONSUMER`, `PRODUCER`.
    public var kind: String
    /// `UNSET`, `OK`, `ERROR`.
    public var status: String
    /// Its attributes.
    public var attributes: [String: JSONValue]
    /// The resource's `service.name`.
    public var serviceName: String

    init(_ record: JSONValue) {
        traceID = record["trace_id"]?.stringValue ?? ""
        spanID = record["span_id"]?.stringValue ?? ""
        parentSpanID = record["parent_span_id"]?.stringValue ?? ""
        name = record["name"]?.stringValue ?? ""
        kind = record["kind"]?.stringValue ?? ""
        status = record["status"]?.stringValue ?? ""
        attributes = record["attributes"]?.objectValue ?? [:]
        serviceName = record["service_name"]?.stringValue ?? ""
    }

    public var description: String { "\(kind) \(name) \(traceID)/\(spanID)<-\(parentSpanID) \(attributes)" }
}
