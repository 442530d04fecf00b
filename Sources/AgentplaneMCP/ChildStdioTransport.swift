import Foundation
import Logging
import MCP

#if canImport(System)
    import System
#else
    @preconcurrency import SystemPackage
#endif

/// The SDK's `StdioTransport` on a child's pipes, counting what it writes, so that after the child's
/// death the pool can tell a request the child never read (still in the pipe: safe to send again) from
/// one it may have acted on.
actor ChildStdioTransport: Transport {
    nonisolated let logger: Logger
    private let inner: StdioTransport
    private let childInput: FileHandle
    private var messages: AsyncThrowingStream<Data, any Error>?
    private var bytesWritten = 0
    /// For each request written and not yet forgotten: the byte offset just past its newline.
    private var requestEnds: [String: Int] = [:]

    /// A transport writing to `process`'s stdin and reading its stdout.
    init(process: StdioServerProcess, logger: Logger) {
        self.logger = logger
        self.childInput = process.input
        self.inner = StdioTransport(
            input: FileDescriptor(rawValue: process.output.fileDescriptor),
            output: FileDescriptor(rawValue: process.input.fileDescriptor), logger: logger)
    }

    func connect() async throws {
        try await inner.connect()
        messages = await inner.receive()
    }

    func disconnect() async {
        await inner.disconnect()
    }

    func send(_ data: Data) async throws {
        // Counted before the write: the reply (and `forget`) may come before this actor runs again.
        bytesWritten += data.count + 1  // the SDK appends the newline
        let id = OutgoingMessage(data).id
        if let id { requestEnds[id] = bytesWritten }
        do {
            try await inner.send(data)
        } catch {
            if let id { requestEnds[id] = nil }
            throw error
        }
    }

    func receive() -> AsyncThrowingStream<Data, any Error> {
        messages ?? AsyncThrowingStream { $0.finish() }
    }

    /// Stops tracking a request that got its answer (or was given up).
    func forget(_ id: ID) {
        requestEnds[RequestIDText(id).text] = nil
    }

    /// The requests the child has not read to the end of their line: (partly) still in its stdin pipe,
    /// which a line-based server cannot have acted on. Meaningful once the child ended, before the
    /// pipe is closed; empty when the pipe cannot be asked.
    func requestsNotRead() -> Set<String> {
        var unread: CInt = 0
        guard ioctl(childInput.fileDescriptor, UInt(FIONREAD), &unread) == 0 else { return [] }
        let consumed = bytesWritten - Int(unread)
        return Set(requestEnds.filter { $0.value > consumed }.keys)
    }
}
