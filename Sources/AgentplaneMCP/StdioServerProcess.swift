import Foundation
import Synchronization

/// A stdio MCP server's child process: started only from an allow-listed absolute path, with a minimal
/// environment; its stdin and stdout are pipes for the SDK's `StdioTransport`, its stderr is kept as a
/// bounded tail for error messages.
final class StdioServerProcess: Sendable {
    /// The parent variables a child inherits; nothing else of the parent's environment (its secrets) does.
    static let inheritedVariables = ["PATH", "HOME", "LANG"]
    /// How much of the child's stderr is kept.
    static let stderrTailBytes = 8 * 1024

    /// The child's process id.
    let pid: Int32
    /// The read end of the child's stdout.
    let output: FileHandle
    /// The write end of the child's stdin.
    let input: FileHandle
    private let process: Process
    private let stderr: FileHandle
    private let stderrTail: BoundedTail
    private let exit: ExitSignal
    private let stderrClosed: ExitSignal

    /// Refuses a command that is not exactly one of `allowList`'s absolute paths, else starts it.
    init(command: String, arguments: [String], environment: [String: String], allowList: Set<String>) throws {
        guard command.hasPrefix("/"), allowList.contains(command) else {
            throw MCPError.commandNotAllowed(command: command)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command)
        process.arguments = arguments
        process.environment = Self.childEnvironment(environment, parent: ProcessInfo.processInfo.environment)
        let stdinPipe = Pipe()
        let stdoutPipe = Pipe()
        let stderrPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let exit = ExitSignal()
        process.terminationHandler = { finished in exit.fire(finished.terminationStatus) }
        let tail = BoundedTail(limit: Self.stderrTailBytes)
        let stderrClosed = ExitSignal()
        stderrPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                stderrClosed.fire(0)
            } else {
                tail.append(data)
            }
        }
        do {
            try process.run()
        } catch {
            stderrPipe.fileHandleForReading.readabilityHandler = nil
            throw MCPError.serverExited(status: -1, stderrTail: "cannot start \(command): \(error)")
        }
        // Foundation closes the child's ends in the parent on launch; closing again is a no-op on a
        // FileHandle, and makes sure a dead child's stdin gives EPIPE instead of filling a buffer.
        try? stdinPipe.fileHandleForReading.close()
        try? stdoutPipe.fileHandleForWriting.close()
        try? stderrPipe.fileHandleForWriting.close()
        self.process = process
        self.exit = exit
        self.stderrTail = tail
        self.stderrClosed = stderrClosed
        self.pid = process.processIdentifier
        self.input = stdinPipe.fileHandleForWriting
        self.output = stdoutPipe.fileHandleForReading
        self.stderr = stderrPipe.fileHandleForReading
    }

    /// The child's environment: PATH, HOME and LANG from the parent, then the spec's variables.
    static func childEnvironment(_ configured: [String: String], parent: [String: String]) -> [String: String] {
        var environment = parent.filter { inheritedVariables.contains($0.key) }
        environment.merge(configured) { _, configured in configured }
        return environment
    }

    /// The exit status, once the child has ended (a signal's number when it was killed by one).
    var exitStatus: Int32? { exit.value }

    /// Waits for the child's end; nil if `timeout` passes first.
    func waitForExit(within timeout: Duration) async -> Int32? {
        await exit.wait(within: timeout)
    }

    /// The last bytes the child wrote to stderr, as text; waits briefly for the pipe to drain when the
    /// child has ended.
    func stderrText() async -> String {
        if exitStatus != nil { _ = await stderrClosed.wait(within: .milliseconds(500)) }
        return stderrTail.text
    }

    /// Waits for the child's end, until the task is cancelled (then nil).
    func waitForExit() async -> Int32? {
        await exit.wait()
    }

    /// Ends the child: SIGTERM, then SIGKILL if it is still there after `grace`; closes the pipes.
    func terminate(grace: Duration = .seconds(2)) async {
        if exitStatus == nil {
            kill(pid, SIGTERM)
            if await waitForExit(within: grace) == nil {
                kill(pid, SIGKILL)
                _ = await waitForExit(within: .seconds(10))
            }
        }
        try? input.close()
        try? output.close()
        _ = await stderrClosed.wait(within: .milliseconds(500))
        stderr.readabilityHandler = nil
        try? stderr.close()
    }
}

/// The last `limit` bytes of a stream, appended to from the pipe's reader thread.
final class BoundedTail: Sendable {
    let limit: Int
    private let bytes = Mutex(Data())

    init(limit: Int) { self.limit = limit }

    func append(_ data: Data) {
        bytes.withLock { bytes in
            bytes.append(data)
            if bytes.count > limit { bytes = Data(bytes.suffix(limit)) }
        }
    }

    /// The bytes as text (a cut UTF-8 sequence at the start becomes a replacement character).
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

/// A value set once (an exit status), that any number of tasks can wait for with a time limit.
final class ExitSignal: Sendable {
    private struct State {
        var value: Int32?
        var waiters: [UUID: CheckedContinuation<Int32?, Never>] = [:]
    }
    private let state = Mutex(State())

    /// The value, once fired.
    var value: Int32? { state.withLock { $0.value } }

    /// Sets the value (the first time only) and wakes every waiter.
    func fire(_ value: Int32) {
        let waiters = state.withLock { state -> [CheckedContinuation<Int32?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, waiting for it at most `timeout`; nil when the time passes or the task is cancelled.
    func wait(within timeout: Duration) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }

    /// The value, waiting for it until the task is cancelled (then nil).
    func wait() async -> Int32? {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let current = state.withLock { state -> Int32?? in
                    if let value = state.value { return .some(value) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let current { continuation.resume(returning: current) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
