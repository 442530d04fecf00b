import AgentplaneCore
import AgentplaneStore
import Foundation
import Logging
import ServiceLifecycle

/// Settings of the task scheduler.
public struct TaskSchedulerSettings: Sendable {
    /// How long the scheduler lease holds without renewal: another node takes over at most this long
    /// (plus one `leaseCheck`) after the holder died.
    public var leaseTTL: Duration = .seconds(10)
    /// How often the lease is renewed (and, on a node without it, tried).
    public var leaseCheck: Duration = .seconds(2)
    /// The longest sleep between looks at the due tasks (tasks changed on other nodes are seen within it).
    public var poll: Duration = .seconds(1)
    /// Tasks fired per transaction.
    public var batch = 500

    /// The defaults (a 10 s lease renewed every 2 s: a dead holder is replaced within 12 s).
    public init() {}
}

/// Fires due tasks: exactly one active scheduler per database, the holder of the `scheduler` lease (on
/// SQLite, the one node). Each fire is a row keyed by (task, scheduled time) written with its run in one
/// transaction, so a fire is never doubled, not even when two nodes both think they hold the lease.
public final class TaskScheduler: Service, Sendable {
    let store: any Store
    let clock: any WallClock
    let settings: TaskSchedulerSettings
    let wakeup: RunWakeup
    let logger: Logger
    /// This node's name in the lease.
    public let nodeID: String

    /// Creates the scheduler; `wakeup` is rung by this node's task changes.
    public init(
        store: any Store, clock: any WallClock, settings: TaskSchedulerSettings = TaskSchedulerSettings(),
        wakeup: RunWakeup, nodeID: String = "scheduler-\(UUIDv7.make().lowercasedString)", logger: Logger
    ) {
        self.store = store
        self.clock = clock
        self.settings = settings
        self.wakeup = wakeup
        self.nodeID = nodeID
        self.logger = logger
    }

    /// The lease's name.
    public static let leaseName = "scheduler"

    public func run() async throws {
        let holding = await cancelWhenGracefulShutdown { await self.loop() }
        if holding { try? await store.tasks.releaseLease(Self.leaseName, holder: nodeID) }
    }

    /// Rounds until cancelled; answers whether the lease was held at the end.
    func loop() async -> Bool {
        var holding = false
        var leaseCheckedAt = ContinuousClock.now - settings.leaseCheck
        while !Task.isCancelled {
            var sleep = settings.poll
            do {
                if ContinuousClock.now - leaseCheckedAt >= settings.leaseCheck {
                    let held = try await holdLease()
                    if held != holding {
                        logger.notice(
                            held ? "scheduler lease taken" : "scheduler lease lost",
                            metadata: ["node": .string(nodeID)])
                    }
                    holding = held
                    leaseCheckedAt = ContinuousClock.now
                }
                if holding {
                    let fired = try await fireDue()
                    if fired.full {
                        sleep = .zero
                    } else if let next = fired.next {
                        let wait = next.microsecondsSinceEpoch - clock.now().microsecondsSinceEpoch
                        sleep = min(sleep, .microseconds(max(wait, 0)))
                    }
                } else {
                    sleep = settings.leaseCheck
                }
            } catch {
                logger.warning("the scheduler's round failed", metadata: ["error": "\(error)"])
            }
            if sleep > .zero { await wakeup.wait(timeout: sleep) }
        }
        return holding
    }

    /// Takes or renews the lease.
    func holdLease() async throws -> Bool {
        let now = clock.now()
        let ttl = settings.leaseTTL.components
        let until = now.adding(seconds: ttl.seconds)
        return try await store.tasks.holdLease(Self.leaseName, holder: nodeID, until: until, now: now)
    }

    /// One round: fires every due task (in batches); answers whether the last batch was full and the next
    /// fire time after the round.
    public func fireDue() async throws -> (full: Bool, next: Timestamp?) {
        let now = clock.now()
        let due = try await store.tasks.due(now: now, limit: settings.batch)
        if !due.isEmpty {
            let firings = due.map { TaskDecisions.due($0, now: now) }
            let enqueued = try await store.tasks.apply(firings, now: now)
            let skipped = firings.reduce(0) { $0 + $1.skipped }
            if skipped > 0 {
                logger.notice(
                    "missed fire times left out by the tasks' misfire policy",
                    metadata: ["skipped": "\(skipped)", "enqueued": "\(enqueued)"])
            }
        }
        let moreEvents = try await fireEvents()
        if due.count == settings.batch || moreEvents { return (true, nil) }
        return (false, try await store.tasks.nextDue())
    }
}
