import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging

/// Turns the text a runtime streams into `run.output` events, in order: the first piece at once, then at most
/// one event per `interval` holding everything that arrived meanwhile. Appending never waits for the store.
/// Past `maximumBytes` of output the rest is not streamed (the run's result still has all of it). An event the
/// store refuses is logged and not retried: the run's result keeps the text, and the run goes on.
actor RunOutputWriter {
    let store: any Store
    let tenant: TenantID
    let run: UUID
    let instance: UUID
    let clock: any WallClock
    let interval: Duration
    let logger: Logger

    /// The most text a run streams as events.
    static let maximumBytes = 1 << 20

    private var pending = ""
    private var index = 0
    private var streamed = 0
    private var flusher: Task<Void, Never>?
    private var lastFlush: ContinuousClock.Instant?

    init(
        store: any Store, tenant: TenantID, run: UUID, instance: UUID, clock: any WallClock, logger: Logger,
        interval: Duration = .milliseconds(50)
    ) {
        self.store = store
        self.tenant = tenant
        self.run = run
        self.instance = instance
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    /// Queues `delta` for the next event.
    func append(_ delta: String) {
        guard !delta.isEmpty, streamed < Self.maximumBytes else { return }
        pending += delta
        streamed += delta.utf8.count
        if flusher == nil { flusher = Task { await self.drain() } }
    }

    /// Writes what is queued; answers once every piece appended so far is in the log.
    func finish() async {
        while let flusher { await flusher.value }
    }

    private func drain() async {
        while !pending.isEmpty {
            if let last = lastFlush {
                let wait = last + interval - ContinuousClock.now
                if wait > .zero { try? await Task.sleep(for: wait) }
            }
            let text = pending
            pending = ""
            let event = Events.runOutput(
                run: run, instance: instance, index: index, delta: text, step: nil, at: clock.now())
            index += 1
            lastFlush = ContinuousClock.now
            do {
                _ = try await store.events.append([event], tenant: tenant)
            } catch {
                logger.warning(
                    "a run.output event was not appended; the run's result keeps its text",
                    metadata: [
                        "run_id": "\(run.lowercasedString)", "tenant_id": "\(tenant)", "index": "\(index - 1)",
                        "error": "\(error)",
                    ])
            }
        }
        flusher = nil
    }
}
