import AgentplaneCore
import Foundation

/// The webhook receiver of `Tests/Fixtures/webhooks/receiver.py`, run as a real process on a free loopback port
/// (python3 is always present): it verifies every delivery's Standard Webhooks signature against the secrets a
/// test gives it, answers by path (`/ok/…` 200, `/fail/…` 500, `/flaky/N/…` 500 N times then 200,
/// `/status/CODE/…`), and records each request.
public final class WebhookReceiver: Sendable {
    /// Its port on 127.0.0.1.
    public let port: Int
    private let process: AgentplaneProcess
    private let directory: URL

    private init(port: Int, process: AgentplaneProcess, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    /// Runs a receiver for the duration of `body`, then stops it (by its pid).
    public static func with<T: Sendable>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-receiver-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = MCPTestServers.packageRoot.appendingPathComponent("Tests/Fixtures/webhooks/receiver.py").path
        let process = try AgentplaneProcess(
            executable: "/usr/bin/env",
            [
                "python3", script, "0", "--record", directory.appendingPathComponent("received.jsonl").path,
                "--secrets-file", directory.appendingPathComponent("secrets.txt").path,
            ])
        guard let line = await process.firstLine(within: .seconds(30), where: { $0.hasPrefix("LISTENING ") }),
            let port = Int(line.dropFirst("LISTENING ".count).trimmingCharacters(in: .whitespaces))
        else {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            throw TestEnvironmentError("the webhook receiver did not start: \(process.outputText)")
        }
        let receiver = WebhookReceiver(port: port, process: process, directory: directory)
        do {
            let result = try await body(receiver)
            process.signal()
            _ = await process.waitForExit(within: .seconds(10))
            return result
        } catch {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            throw error
        }
    }

    /// A URL of this receiver with `path` (e.g. `/ok/a`).
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// The secrets it verifies signatures against (replacing those given before), by index in `received`.
    public func trust(_ secrets: [String]) throws {
        try Data((secrets.joined(separator: "\n") + "\n").utf8).write(
            to: directory.appendingPathComponent("secrets.txt"), options: .atomic)
    }

    /// Every request it got so far (optionally only those to `path`), in arrival order.
    public func received(path: String? = nil) -> [JSONValue] {
        let file = directory.appendingPathComponent("received.jsonl")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { JSONValue(parsing: String($0)) }.filter {
            path == nil || $0["path"]?.stringValue == path
        }
    }

    /// Waits until the requests to `path` satisfy `done`, then answers them; fails after `timeout`.
    public func awaitReceived(
        path: String? = nil, timeout: Duration = .seconds(30), until done: ([JSONValue]) -> Bool
    ) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let got = received(path: path)
            if done(got) { return got }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw AwaitTimeout(
            description:
                "the receiver did not get the awaited requests\(path.map { " to \($0)" } ?? "") within \(timeout); got \(received(path: path))"
        )
    }
}
