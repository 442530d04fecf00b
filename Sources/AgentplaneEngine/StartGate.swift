import ServiceLifecycle
import Synchronization

/// Opened once the database is migrated: the engine's services wait for it, so no worker claims from
/// (or a monitor reads) a schema that is not there yet.
public final class StartGate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Creates a closed gate.
    public init() {}

    /// Opens the gate for every waiter, present and future.
    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// A service that starts once `gate` opens (or ends at once when shutdown comes first).
public struct GatedService: Service {
    let gate: StartGate
    let service: any Service

    /// Wraps `service`.
    public init(_ service: any Service, after gate: StartGate) {
        self.gate = gate
        self.service = service
    }

    public func run() async throws {
        let opened = await cancelWhenGracefulShutdown { () async -> Bool in
            await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    await gate.wait()
                    return true
                }
                group.addTask {
                    // Ends when cancelled (shutdown before the gate opened).
                    let (never, continuation) = AsyncStream<Void>.makeStream()
                    for await _ in never {}
                    continuation.finish()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
        }
        guard opened == true, !Task.isCancelled else { return }
        try await service.run()
    }
}
