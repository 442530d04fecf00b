/// An instance's lifecycle (seed 001): `pending → provisioning → running | failed`,
/// `running → stopped` (user), `running → failed` (health monitoring: too many failed probes),
/// `stopped | failed → pending` (user: start / retry; health monitoring: recovery).
public enum InstanceStatus: String, Sendable, CaseIterable, Codable {
    case pending
    case provisioning
    case running
    case failed
    case stopped

    /// The states reachable from this one in one step.
    public var successors: Set<InstanceStatus> {
        switch self {
        case .pending: [.provisioning]
        case .provisioning: [.running, .failed]
        case .running: [.stopped, .failed]
        case .stopped, .failed: [.pending]
        }
    }

    /// Whether `next` may follow this state.
    public func canTransition(to next: InstanceStatus) -> Bool { successors.contains(next) }

    /// `next`, or the 409 error naming both states.
    public func transition(to next: InstanceStatus) throws(AgentplaneError) -> InstanceStatus {
        guard canTransition(to: next) else {
            throw AgentplaneError(
                .illegalTransition,
                "An instance cannot go from \(rawValue) to \(next.rawValue).",
                details: ["from": .string(rawValue), "to": .string(next.rawValue)]
            )
        }
        return next
    }
}

/// A knowledge-base entry's lifecycle: `queued → processing → ready | failed`, `failed → queued` (retry).
public enum KBEntryStatus: String, Sendable, CaseIterable, Codable {
    case queued
    case processing
    case ready
    case failed

    /// The states reachable from this one in one step.
    public var successors: Set<KBEntryStatus> {
        switch self {
        case .queued: [.processing]
        case .processing: [.ready, .failed]
        case .ready: []
        case .failed: [.queued]
        }
    }

    /// `next`, or the 409 error naming both states.
    public func transition(to next: KBEntryStatus) throws(AgentplaneError) -> KBEntryStatus {
        guard successors.contains(next) else {
            throw AgentplaneError(
                .illegalTransition,
                "A knowledge-base entry cannot go from \(rawValue) to \(next.rawValue).",
                details: ["from": .string(rawValue), "to": .string(next.rawValue)]
            )
        }
        return next
    }
}

/// What a knowledge-base entry holds (seed 001).
public enum KBDataType: String, Sendable, CaseIterable, Codable {
    case document
    case video
    case other
}

/// The language hint of a knowledge-base entry (seed 001).
public enum KBLangHint: String, Sendable, CaseIterable, Codable {
    case en
    case es
    case other
}
