import AgentplaneCore
import AgentplaneStore
import Foundation
import Synchronization

/// What a WebSocket received, read with deadlines (a lost message fails the test, it never hangs it).
public final class SocketInbox: Sendable {
    private let messages = Mutex<[JSONValue]>([])
    private let arrived = RunWakeup()

    /// An empty inbox.
    public init() {}

    /// Records a received text message.
    public func add(_ text: String) {
        messages.withLock { $0.append(JSONValue(parsing: text) ?? .string(text)) }
        arrived.signal()
    }

    /// The next message, waiting up to `timeout`.
    public func next(timeout: Duration = .seconds(10)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let message = messages.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return message }
            guard ContinuousClock.now < deadline else {
                throw AwaitTimeout(description: "no WebSocket message within \(timeout)")
            }
            await arrived.wait(timeout: deadline - .now)
        }
    }

    /// Everything received and not read yet, at once.
    public func drain() -> [JSONValue] {
        messages.withLock { messages in
            defer { messages = [] }
            return messages
        }
    }
}
