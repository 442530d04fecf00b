import Foundation
import Synchronization

/// The real `agentplane` binary (or another program), run as a child process (CLI tests talk to it
/// like an operator).
public final class AgentplaneProcess: Sendable {
    private let process: Process
    private let output = SharedText()
    private let lines: AsyncStream<String>
    /// Yields the exit status once, when the process ends (no polling).
    private let exits: AsyncStream<Int32>

    /// The built binary: `AGENTPLANE_BINARY`, else `.build/debug/agentplane` in this package.
    public static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["AGENTPLANE_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/agentplane").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestEnvironmentError("\(path) is missing: build first (scripts/test does)")
        }
        return path
    }

    /// Starts `agentplane arguments…` with `environment` added to a minimal environment.
    public convenience init(_ arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(executable: try Self.binaryPath(), arguments, environment: environment)
    }

    /// Starts `executable arguments…` (another real process a test drives: a database server) with
    /// `environment` added to a minimal environment, in `directory` when given.
    public init(
        executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var base = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        base.merge(environment) { _, new in new }
        process.environment = base
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        self.lines = lines
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
        self.exits = exits
        process.terminationHandler = { finished in
            exited.yield(finished.terminationStatus)
            exited.finish()
        }
        self.process = process
        let output = self.output
        let buffer = SharedText()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            output.value.withLock { $0 += text }
            let complete = buffer.value.withLock { pending -> [String] in
                pending += text
                var parts = pending.components(separatedBy: "\n")
                pending = parts.removeLast()
                return parts
            }
            for line in complete { continuation.yield(line) }
        }
        try process.run()
    }

    /// Everything the process wrote so far (stdout and stderr together).
    public var outputText: String { output.value.withLock { $0 } }

    /// Waits for the first output line satisfying `predicate`; nil if the process ends first or the
    /// deadline passes.
    public func firstLine(
        within timeout: Duration = .seconds(30), where predicate: @escaping @Sendable (String) -> Bool
    )
        async -> String?
    {
        await Self.first(of: lines, where: predicate, within: timeout)
    }

    /// The first element of `stream` satisfying `predicate`, or nil when the stream ends or the
    /// deadline passes first.
    private static func first<Element: Sendable>(
        of stream: AsyncStream<Element>,
        where predicate: @escaping @Sendable (Element) -> Bool = { _ in true },
        within timeout: Duration
    ) async -> Element? {
        await withTaskGroup(of: Element?.self) { group in
            group.addTask {
                for await element in stream where predicate(element) { return element }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// Sends `signal` (SIGTERM by default).
    public func signal(_ signal: Int32 = SIGTERM) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for exit and returns the status; kills the process if it outlives `timeout`.
    public func waitForExit(within timeout: Duration = .seconds(30)) async -> Int32 {
        if let status = await Self.first(of: exits, within: timeout) { return status }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return -1
    }

    /// Runs to completion and returns status and output.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (
        status: Int32, output: String
    ) {
        let process = try AgentplaneProcess(arguments, environment: environment)
        let status = await process.waitForExit()
        // Let the pipe drain: the reader finishes at end of file.
        _ = await process.firstLine(within: .seconds(2)) { _ in false }
        return (status, process.outputText)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Text shared between the pipe's reader and the test.
final class SharedText: Sendable {
    let value = Mutex<String>("")
}
