import Foundation

/// A run's lifecycle (DESIGN §1): `queued → running → succeeded | failed | cancelled`; a failed run
/// with attempts left waits in `failed` until its backoff has passed and is claimed again (`failed →
/// running`), one without goes to `dead`. `queued | failed → cancelled` directly; `dead | failed →
/// queued` by replay.
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case queued
    case running
    case succeeded
    case failed
    case dead
    case cancelled

    /// The states reachable from this one in one step.
    public var successors: Set<RunStatus> {
        switch self {
        case .queued: [.running, .cancelled]
        case .running: [.succeeded, .failed, .dead, .cancelled, .queued]
        case .failed: [.running, .queued, .cancelled, .dead]
        case .dead: [.queued]
        case .succeeded, .cancelled: []
        }
    }

    /// Whether a worker may claim a run in this state (once its `run_at` has come).
    public var isClaimable: Bool { self == .queued || self == .failed }

    /// Whether the run has ended for good (only a replay brings a `dead` one back).
    public var isFinal: Bool { self == .succeeded || self == .cancelled || self == .dead }
}

/// How long a failed run waits before its next attempt.
public enum BackoffStrategy: String, Sendable, CaseIterable, Codable {
    /// `base · 2^(n−1)`, capped, then a random point in its upper half ("equal jitter": never less
    /// than half the exponential delay, so retries of a burst spread out without retrying at once).
    case exponentialJitter = "exponential_jitter"
    /// `base · 2^(n−1)`, capped.
    case exponential
    /// `base · n`, capped.
    case linear
    /// `base`, always.
    case fixed
}

/// A backoff: the strategy, its base and its cap, in seconds.
public struct Backoff: Sendable, Hashable, Codable {
    /// The strategy.
    public var strategy: BackoffStrategy
    /// The first delay (seconds).
    public var baseSeconds: Double
    /// The longest delay (seconds).
    public var capSeconds: Double

    /// The default: exponential with jitter from 1 s, capped at 1 h.
    public static let `default` = Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 3600)

    /// Creates a backoff.
    public init(strategy: BackoffStrategy, baseSeconds: Double, capSeconds: Double) {
        self.strategy = strategy
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// The delay after failed attempt number `attempt` (1-based), in microseconds; `unit` is a draw
    /// in [0, 1) for the jitter (a parameter, so the computation is pure and testable).
    public func delayMicroseconds(afterAttempt attempt: Int, unit: Double) -> Int64 {
        let n = Double(max(attempt, 1))
        let exponential = baseSeconds * pow(2, min(n - 1, 62))
        let seconds: Double
        switch strategy {
        case .fixed: seconds = min(baseSeconds, capSeconds)
        case .linear: seconds = min(baseSeconds * n, capSeconds)
        case .exponential: seconds = min(exponential, capSeconds)
        case .exponentialJitter:
            let capped = min(exponential, capSeconds)
            seconds = capped / 2 + capped / 2 * min(max(unit, 0), 1)
        }
        return Int64((max(seconds, 0) * 1_000_000).rounded())
    }
}

/// Work to enqueue: what the caller decides; the queue assigns the rest.
public struct NewRun: Sendable, Hashable {
    /// The run's id (UUIDv7); the handler's idempotency key across attempts.
    public var id: UUID
    /// What runs it (a handler registered for this kind).
    public var kind: String
    /// The tenant the work belongs to.
    public var tenantID: TenantID
    /// The handler's input.
    public var arguments: [String: JSONValue]
    /// 1 (highest) … 9.
    public var priority: Int
    /// Not before.
    public var runAt: Timestamp
    /// Attempts allowed before `dead`.
    public var maxAttempts: Int
    /// The delay between attempts.
    public var backoff: Backoff
    /// With `dedupeWindowSeconds`: a second enqueue with this key inside the window returns the
    /// first run instead of a new one.
    public var dedupeKey: String?
    /// How long the dedupe key holds, from the enqueue.
    public var dedupeWindowSeconds: Int
    /// With `concurrencyLimit`: at most that many runs with this key run at once, fleet-wide.
    public var concurrencyKey: String?
    /// The limit of `concurrencyKey` (1 when a key is given without one).
    public var concurrencyLimit: Int
    /// The instance the run is about, if any (a filter of the runs API).
    public var instanceID: UUID?
    /// The task whose fire it is, if any (a filter of the runs API).
    public var taskID: UUID?
    /// Created.
    public var createdAt: Timestamp

    /// The default priority.
    public static let defaultPriority = 5
    /// The default number of attempts.
    public static let defaultMaxAttempts = 5

    /// Creates a run request.
    public init(
        id: UUID = UUIDv7.make(),
        kind: String,
        tenantID: TenantID,
        arguments: [String: JSONValue] = [:],
        priority: Int = NewRun.defaultPriority,
        runAt: Timestamp,
        maxAttempts: Int = NewRun.defaultMaxAttempts,
        backoff: Backoff = .default,
        dedupeKey: String? = nil,
        dedupeWindowSeconds: Int = 0,
        concurrencyKey: String? = nil,
        concurrencyLimit: Int = 1,
        instanceID: UUID? = nil,
        taskID: UUID? = nil,
        createdAt: Timestamp
    ) {
        self.id = id
        self.kind = kind
        self.tenantID = tenantID
        self.arguments = arguments
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.dedupeKey = dedupeKey
        self.dedupeWindowSeconds = dedupeWindowSeconds
        self.concurrencyKey = concurrencyKey
        self.concurrencyLimit = concurrencyLimit
        self.instanceID = instanceID
        self.taskID = taskID
        self.createdAt = createdAt
    }

    /// When the dedupe key stops holding (nil without a key or a window).
    public var dedupeUntil: Timestamp? {
        guard dedupeKey != nil, dedupeWindowSeconds > 0 else { return nil }
        return Timestamp(
            microsecondsSinceEpoch: createdAt.microsecondsSinceEpoch + Int64(dedupeWindowSeconds) * 1_000_000)
    }

    /// Field errors, named by JSON pointer-ish field names (empty when valid).
    public func errors() -> [FieldError] {
        var errors: [FieldError] = []
        if !NewRun.isValidKind(kind) {
            errors.append(FieldError(pointer: "kind", message: "must be 1 to 100 characters of a-z 0-9 . _ -"))
        }
        if !(1...9).contains(priority) {
            errors.append(FieldError(pointer: "priority", message: "must be between 1 and 9"))
        }
        if !(1...1000).contains(maxAttempts) {
            errors.append(FieldError(pointer: "max_attempts", message: "must be between 1 and 1000"))
        }
        if !(0...31_536_000).contains(dedupeWindowSeconds) {
            errors.append(FieldError(pointer: "dedupe_window_seconds", message: "must be between 0 and 31536000"))
        }
        if let key = dedupeKey, key.isEmpty || key.utf8.count > 200 || key.contains("\u{0}") {
            errors.append(FieldError(pointer: "dedupe_key", message: "must be 1 to 200 bytes without NUL"))
        }
        if let key = concurrencyKey, key.isEmpty || key.utf8.count > 200 || key.contains("\u{0}") {
            errors.append(FieldError(pointer: "concurrency_key", message: "must be 1 to 200 bytes without NUL"))
        }
        if !(1...10_000).contains(concurrencyLimit) {
            errors.append(FieldError(pointer: "concurrency_limit", message: "must be between 1 and 10000"))
        }
        if !(backoff.baseSeconds >= 0 && backoff.baseSeconds <= 86_400) {
            errors.append(FieldError(pointer: "backoff_base_seconds", message: "must be between 0 and 86400"))
        }
        if !(backoff.capSeconds >= backoff.baseSeconds && backoff.capSeconds <= 604_800) {
            errors.append(
                FieldError(pointer: "backoff_cap_seconds", message: "must be between the base and 604800"))
        }
        return errors
    }

    /// A run kind: 1–100 characters of `a-z 0-9 . _ -`.
    public static func isValidKind(_ kind: String) -> Bool {
        !kind.isEmpty && kind.utf8.count <= 100
            && kind.utf8.allSatisfy { byte in
                (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E || byte == 0x5F
                    || byte == 0x2D
            }
    }
}

/// A run as stored.
public struct Run: Sendable, Hashable, Identifiable {
    /// What was enqueued.
    public var request: NewRun
    /// Where it is.
    public var status: RunStatus
    /// Attempts started so far, over the run's whole life (attempts are numbered by it).
    public var attempt: Int
    /// Attempts before the current round (a replay starts a new round with the full budget again).
    public var attemptBase: Int
    /// The worker holding it while `running`.
    public var workerID: String?
    /// Until when that worker holds it (extended by heartbeats).
    public var leaseExpiresAt: Timestamp?
    /// A cancel was asked while it ran: the handler is told, and its end is recorded as `cancelled`.
    public var cancelRequested: Bool
    /// What the handler returned on success.
    public var result: JSONValue?
    /// The last attempt's error.
    public var lastError: String?
    /// Last changed.
    public var updatedAt: Timestamp
    /// When it ended for good (succeeded, dead, cancelled).
    public var finishedAt: Timestamp?

    /// The run's id.
    public var id: UUID { request.id }

    /// Attempts started in the current round.
    public var roundAttempts: Int { attempt - attemptBase }

    /// Whether another attempt is allowed after the current one.
    public var hasAttemptsLeft: Bool { roundAttempts < request.maxAttempts }

    /// Creates a stored run value.
    public init(
        request: NewRun, status: RunStatus, attempt: Int, attemptBase: Int = 0, workerID: String?,
        leaseExpiresAt: Timestamp?, cancelRequested: Bool, result: JSONValue?, lastError: String?,
        updatedAt: Timestamp, finishedAt: Timestamp?
    ) {
        self.request = request
        self.status = status
        self.attempt = attempt
        self.attemptBase = attemptBase
        self.workerID = workerID
        self.leaseExpiresAt = leaseExpiresAt
        self.cancelRequested = cancelRequested
        self.result = result
        self.lastError = lastError
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// How one attempt ended.
public enum AttemptOutcome: String, Sendable, CaseIterable, Codable {
    /// Still running.
    case running
    case succeeded
    case failed
    /// The worker stopped heartbeating: the lease expired and the run was rescued.
    case lost
    case cancelled
    /// Given back unfinished at shutdown; it does not count as an attempt.
    case handedBack = "handed_back"
}

/// One attempt of a run.
public struct RunAttempt: Sendable, Hashable {
    /// The attempt's number (1-based).
    public var number: Int
    /// Who ran it.
    public var workerID: String
    /// Started.
    public var startedAt: Timestamp
    /// Ended, once it has.
    public var endedAt: Timestamp?
    /// How.
    public var outcome: AttemptOutcome
    /// The error, for failed and lost attempts.
    public var error: String?

    /// Creates an attempt value.
    public init(
        number: Int, workerID: String, startedAt: Timestamp, endedAt: Timestamp?, outcome: AttemptOutcome,
        error: String?
    ) {
        self.number = number
        self.workerID = workerID
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.outcome = outcome
        self.error = error
    }
}

/// What a worker reports for a run it holds.
public enum RunCompletion: Sendable, Hashable {
    /// The handler returned.
    case succeeded(result: JSONValue)
    /// The handler threw: retried after the backoff while attempts are left, else `dead`.
    /// `retryable: false` sends it to `dead` at once.
    case failed(error: String, retryable: Bool)
    /// The handler saw the cancel and stopped.
    case cancelled
    /// Shutdown: back to the queue, the attempt not counted.
    case handBack
}
