import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// What a handler gets: the run (its id is the idempotency key of the work: delivery is at least
/// once) and a way to see a cancel asked while it runs.
public struct RunContext: Sendable {
    /// The claimed run (`running`, this attempt's number in `attempt`).
    public let run: Run
    private let flags: RunFlags

    init(run: Run, flags: RunFlags) {
        self.run = run
        self.flags = flags
    }

    /// Whether a cancel was asked (the handler's task is also cancelled, for handlers that await).
    public var isCancelRequested: Bool { flags.cancelRequested }
}

/// A handler's failure that retrying cannot fix (bad arguments): the run goes to `dead` at once.
public struct PermanentRunFailure: Error, CustomStringConvertible {
    /// Why.
    public var description: String

    /// Creates the failure.
    public init(_ description: String) { self.description = description }
}

/// The work of one run kind: returns the run's result, or throws (retried with backoff while attempts
/// are left; `PermanentRunFailure` sends it to `dead`).
public typealias RunHandler = @Sendable (RunContext) async throws -> JSONValue

/// What a kind does when one of its runs ends `dead` (its last error given), so that what the run
/// was moving does not stay half-way (an instance left `provisioning`). Called by the worker that
/// reported the last failure, or by the one that rescued the run's last lost attempt.
public typealias DeadRunHandler = @Sendable (Run, String) async throws -> Void

/// How a worker runs.
public struct RunWorkerSettings: Sendable {
    /// This worker's id (on the run and its attempts); unique per process.
    public var workerID: String
    /// Runs in flight at most.
    public var concurrency: Int
    /// How long a claim holds without a heartbeat.
    public var lease: Duration
    /// How often leases are extended (well inside the lease).
    public var heartbeatInterval: Duration
    /// How long an idle worker waits for a wake-up before it looks anyway.
    public var pollInterval: Duration
    /// How often expired leases are looked for.
    public var rescueInterval: Duration
    /// At shutdown, how long runs in flight may take to finish before they are handed back.
    public var shutdownGrace: Duration
    /// How long one attempt may run: past it, its handler is cancelled and the attempt fails (retried
    /// while attempts are left).
    public var runTimeout: Duration
    /// How long a cancelled handler may take to stop before the worker gives up waiting for it and frees
    /// its slot (a handler stuck where cancellation does not reach must not hold the worker forever).
    public var abandonAfter: Duration
    /// Whether each attempt is a span (`RunTracing`): on when the process bootstrapped a tracer.
    public var traced = false

    /// Creates settings; the defaults are DESIGN §5's (30 s leases, heartbeats every 10 s, a poll
    /// of at most 1 s).
    public init(
        workerID: String = "worker-\(UUIDv7.make().lowercasedString.suffix(12))", concurrency: Int = 8,
        lease: Duration = .seconds(30), heartbeatInterval: Duration? = nil, pollInterval: Duration = .seconds(1),
        rescueInterval: Duration = .seconds(5), shutdownGrace: Duration = .seconds(10),
        runTimeout: Duration = .seconds(15 * 60), abandonAfter: Duration = .seconds(10)
    ) {
        self.workerID = workerID
        self.concurrency = max(concurrency, 1)
        self.lease = lease
        self.heartbeatInterval = heartbeatInterval ?? lease / 3
        self.pollInterval = pollInterval
        self.rescueInterval = rescueInterval
        self.shutdownGrace = shutdownGrace
        self.runTimeout = runTimeout
        self.abandonAfter = abandonAfter
    }
}

/// A run's shared flags between the worker and its handler.
final class RunFlags: Sendable {
    private let state = Mutex(false)
    var cancelRequested: Bool { state.withLock { $0 } }
    func requestCancel() { state.withLock { $0 = true } }
}

/// Claims runs of the kinds it has handlers for and runs them (DESIGN §5): up to `concurrency` at once,
/// heartbeats their leases, passes cancels on, rescues runs whose worker died, and on graceful
/// shutdown stops claiming, lets runs in flight finish within the grace, and hands the rest back
/// without spending their attempt.
public final class RunWorker: Service, Sendable {
    let store: any Store
    let handlers: [String: RunHandler]
    let deadHandlers: [String: DeadRunHandler]
    let settings: RunWorkerSettings
    let clock: any WallClock
    let logger: Logger

    private struct InFlight {
        var run: Run
        var task: Task<Void, Never>?
        var flags: RunFlags
        var started = ContinuousClock.now
        /// When the handler was told to stop, and what it reports if it never does.
        var stopping: (since: ContinuousClock.Instant, completion: RunCompletion)?
    }
    private struct Finished {
        var run: Run
        var completion: RunCompletion
        var took: Duration
    }
    private struct State {
        var inFlight: [UUID: InFlight] = [:]
        var finished: [UUID: Finished] = [:]
        var handingBack: Set<UUID> = []
    }
    private let state = Mutex(State())
    /// Rung when a handler finishes (a slot is free, a completion waits).
    private let slotFreed = RunWakeup()

    /// Creates a worker for `handlers` (keyed by run kind).
    public init(
        store: any Store, handlers: [String: RunHandler], deadHandlers: [String: DeadRunHandler] = [:],
        settings: RunWorkerSettings = RunWorkerSettings(), clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.handlers = handlers
        self.deadHandlers = deadHandlers
        self.settings = settings
        self.clock = clock
        self.logger = logger
    }

    /// Runs in flight now.
    public var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    public func run() async throws {
        guard !handlers.isEmpty else { return }
        RunMetrics.prepare(kinds: handlers.keys)
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeats() }
            group.addTask { await self.rescues() }
            group.addTask { await self.supervise() }
            await cancelWhenGracefulShutdown { await self.claimLoop() }
            await self.drain()
            group.cancelAll()
        }
    }

    // MARK: Claiming

    /// One round per turn: the finished runs reported and new runs claimed in one call (one transaction),
    /// then a wait for work or a free slot.
    private func claimLoop() async {
        let kinds = Set(handlers.keys)
        while !Task.isCancelled {
            let batch = takeFinished()
            let free = settings.concurrency - inFlightCount
            var claimed: [Run] = []
            if free > 0 || !batch.isEmpty {
                do {
                    let request = ClaimRequest(
                        workerID: settings.workerID, kinds: kinds, limit: max(free, 0),
                        leaseMicroseconds: Self.micros(settings.lease), now: clock.now())
                    let completions = batch.mapValues(\.completion)
                    // Bounded by the lease: past it the runs are rescued anyway.
                    let (applied, runs) = try await withDeadline(settings.lease) {
                        try await self.store.runs.completeAndClaim(completions, request)
                    }
                    claimed = runs
                    await reported(batch, applied: applied)
                } catch {
                    logger.warning(
                        "claiming runs failed", metadata: ["error": "\(error)", "finished runs": "\(batch.count)"])
                    putBack(batch)
                }
            }
            for run in claimed {
                RunMetrics.started(run.request.kind).increment()
                start(run)
            }
            if claimed.isEmpty || claimed.count == free {
                // Idle, or full: wait for new work or a free slot (whichever comes), at most the poll.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.store.runWakeup.wait(timeout: self.settings.pollInterval) }
                    group.addTask { await self.slotFreed.wait(timeout: self.settings.pollInterval) }
                    await group.next()
                    group.cancelAll()
                }
                await gatherFinished()
            }
        }
    }

    /// Runs started together tend to finish together: after the first one frees a slot, waits a moment
    /// (at most 2 ms) while others are about to finish, so that one round reports and refills many
    /// slots instead of one transaction per run.
    private func gatherFinished() async {
        let deadline = ContinuousClock.now + .milliseconds(2)
        while ContinuousClock.now < deadline {
            let (running, finished) = state.withLock { ($0.inFlight.count, $0.finished.count) }
            if finished == 0 || running == 0 || finished * 2 >= settings.concurrency { return }
            await slotFreed.wait(timeout: deadline - ContinuousClock.now)
        }
    }

    private func takeFinished() -> [UUID: Finished] {
        state.withLock { state in
            defer { state.finished = [:] }
            return state.finished
        }
    }

    /// A batch that could not be reported goes back, to be reported with the next round (runs whose
    /// lease runs out meanwhile are rescued; reporting them later then applies nothing).
    private func putBack(_ batch: [UUID: Finished]) {
        state.withLock { state in state.finished.merge(batch) { _, newer in newer } }
    }

    /// Metrics and dead-run handlers for the finished runs the queue applied.
    private func reported(_ batch: [UUID: Finished], applied: Set<UUID>) async {
        for id in applied {
            guard let finished = batch[id], let outcome = RunMetrics.outcome(of: finished.completion, for: finished.run)
            else { continue }
            let kind = finished.run.request.kind
            RunMetrics.finished(kind, outcome).increment()
            RunMetrics.duration(kind, outcome).recordNanoseconds(Self.nanoseconds(finished.took))
            if outcome == "dead", case .failed(let error, _) = finished.completion {
                await whenDead(finished.run, error)
            }
        }
    }

    private func start(_ run: Run) {
        guard let handler = handlers[run.request.kind] else { return }
        let flags = RunFlags()
        let context = RunContext(run: run, flags: flags)
        // In flight before the handler starts, so that even an instant finish is recorded.
        state.withLock { $0.inFlight[run.id] = InFlight(run: run, task: nil, flags: flags) }
        let task = Task {
            let completion = await RunTracing.attempt(run, traced: self.settings.traced) {
                do {
                    return .succeeded(result: try await handler(context))
                } catch let failure as PermanentRunFailure {
                    return .failed(error: failure.description, retryable: false)
                } catch {
                    return flags.cancelRequested ? .cancelled : .failed(error: "\(error)", retryable: true)
                }
            }
            self.finish(run.id, completion)
        }
        state.withLock { state in
            state.inFlight[run.id]?.task = task
            // A cancel or hand-back that came before the task existed.
            if state.handingBack.contains(run.id) || flags.cancelRequested { task.cancel() }
        }
    }

    private func finish(_ id: UUID, _ completion: RunCompletion) {
        state.withLock { state in
            guard let running = state.inFlight.removeValue(forKey: id) else { return }
            var reported = completion
            // A handler stopped by a timeout fails with what stopped it, not with its CancellationError.
            if case .failed = completion, let stopping = running.stopping { reported = stopping.completion }
            state.finished[id] = Finished(
                run: running.run, completion: state.handingBack.contains(id) ? .handBack : reported,
                took: ContinuousClock.now - running.started)
        }
        slotFreed.signal()
    }

    /// Reports every finished run in one batch (at shutdown).
    private func flushCompletions() async {
        let batch = takeFinished()
        guard !batch.isEmpty else { return }
        do {
            // Bounded by the lease: past it the runs are rescued anyway, and a database that is gone
            // must not hold the worker (at shutdown nothing else would cancel the call).
            let completions = batch.mapValues(\.completion)
            let applied = try await withDeadline(settings.lease) {
                try await self.store.runs.complete(worker: self.settings.workerID, completions, now: self.clock.now())
            }
            await reported(batch, applied: applied)
        } catch {
            // Not reported: the leases run out and the runs are rescued (at least once, never lost).
            logger.warning(
                "reporting finished runs failed", metadata: ["error": "\(error)", "runs": "\(batch.count)"])
        }
    }

    // MARK: Leases

    private func heartbeats() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.heartbeatInterval)
            let ids = state.withLock { Array($0.inFlight.keys) }
            guard !ids.isEmpty else { continue }
            let now = clock.now()
            do {
                let held = try await store.runs.heartbeat(
                    worker: settings.workerID, ids: ids,
                    leaseUntil: Timestamp(
                        microsecondsSinceEpoch: now.microsecondsSinceEpoch + Self.micros(settings.lease)),
                    now: now)
                state.withLock { state in
                    for id in ids {
                        guard let running = state.inFlight[id] else { continue }
                        if held[id] == true {
                            running.flags.requestCancel()
                            Self.stop(&state.inFlight[id]!, reporting: .cancelled)
                        } else if held[id] == nil {
                            // The lease was lost (rescued elsewhere): stop; nothing this worker says counts.
                            Self.stop(&state.inFlight[id]!, reporting: .failed(error: "lease lost", retryable: true))
                        }
                    }
                }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Asks a handler to stop (once), remembering what to report should it never finish.
    private static func stop(_ running: inout InFlight, reporting completion: RunCompletion) {
        guard running.stopping == nil else { return }
        running.stopping = (ContinuousClock.now, completion)
        running.task?.cancel()
    }

    /// Every second: cancels attempts past the run timeout, and frees the slots of handlers that did
    /// not stop within `abandonAfter` of being cancelled (their tasks are left to end on their own;
    /// whatever they report later is ignored). Not at shutdown: `drain` hands those runs back.
    private func supervise() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = ContinuousClock.now
            let abandoned = state.withLock { state -> [(UUID, InFlight)] in
                var abandoned: [(UUID, InFlight)] = []
                for (id, running) in state.inFlight where !state.handingBack.contains(id) {
                    if let stopping = running.stopping {
                        guard now - stopping.since >= settings.abandonAfter else { continue }
                        state.inFlight.removeValue(forKey: id)
                        state.finished[id] = Finished(
                            run: running.run, completion: stopping.completion, took: now - running.started)
                        abandoned.append((id, running))
                    } else if now - running.started >= settings.runTimeout {
                        Self.stop(
                            &state.inFlight[id]!,
                            reporting: .failed(
                                error: "timed out after \(settings.runTimeout)",
                                retryable: true))
                    }
                }
                return abandoned
            }
            for (id, running) in abandoned {
                logger.error(
                    "a handler did not stop after it was cancelled; its slot is freed",
                    metadata: ["run": "\(id.lowercasedString)", "kind": "\(running.run.request.kind)"])
            }
            if !abandoned.isEmpty { slotFreed.signal() }
        }
    }

    private func rescues() async {
        while !Task.isCancelled {
            do {
                let rescued = try await store.runs.rescueExpired(now: clock.now())
                if !rescued.isEmpty {
                    logger.info("rescued runs whose worker stopped", metadata: ["count": "\(rescued.count)"])
                }
                for run in rescued {
                    RunMetrics.finished(run.request.kind, "lost").increment()
                    guard run.status == .dead else { continue }
                    RunMetrics.finished(run.request.kind, "dead").increment()
                    await whenDead(run, run.lastError ?? "its worker stopped")
                }
            } catch {
                logger.warning("rescuing expired runs failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: settings.rescueInterval)
        }
    }

    /// Runs the kind's dead handler; a failure is logged (the run stays `dead`, replayable).
    private func whenDead(_ run: Run, _ error: String) async {
        guard let handler = deadHandlers[run.request.kind] else { return }
        do {
            try await withDeadline(settings.lease) { try await handler(run, error) }
        } catch {
            logger.error(
                "the dead-run handler failed",
                metadata: ["run": "\(run.id.lowercasedString)", "kind": "\(run.request.kind)", "error": "\(error)"])
        }
    }

    // MARK: Shutdown

    /// After claiming stopped: waits up to the grace for runs in flight, hands the rest back.
    private func drain() async {
        let deadline = ContinuousClock.now + settings.shutdownGrace
        while inFlightCount > 0, ContinuousClock.now < deadline {
            await slotFreed.wait(timeout: .milliseconds(50))
        }
        let rest = state.withLock { state -> [UUID: InFlight] in
            for id in state.inFlight.keys { state.handingBack.insert(id) }
            return state.inFlight
        }
        for (_, running) in rest { running.task?.cancel() }
        // Handlers that ignore cancellation are not waited for beyond a moment: their runs stay
        // held until the lease expires, and are rescued then (never lost).
        let handBackDeadline = ContinuousClock.now + .seconds(2)
        while inFlightCount > 0, ContinuousClock.now < handBackDeadline {
            await slotFreed.wait(timeout: .milliseconds(50))
        }
        await flushCompletions()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    static func micros(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
