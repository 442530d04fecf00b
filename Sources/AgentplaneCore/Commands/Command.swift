import Foundation

/// What a command asks (seed 000's `system.personas.commands` actions).
public enum CommandAction: String, Sendable, CaseIterable, Codable {
    case createInstance = "create_instance"
    case updateInstance = "update_instance"
    case deleteInstance = "delete_instance"
}

/// A command's lifecycle: `accepted → processing → succeeded | dead`; `dead → accepted` by replay.
///
/// `processing` is set when a worker starts an attempt (an infrastructure failure keeps it there while the
/// run retries). `dead` is final until a replay: a domain failure (unknown instance, illegal transition,
/// invalid data against the current state) at once, an infrastructure failure when the run's attempts are
/// spent. The command's `error` holds the problem either way.
public enum CommandStatus: String, Sendable, CaseIterable, Codable {
    case accepted
    case processing
    case succeeded
    case dead

    /// Whether the command has ended (only a replay brings a `dead` one back).
    public var isFinal: Bool { self == .succeeded || self == .dead }
}

/// An asynchronous request to change state (DESIGN §4), processed exactly once per (tenant, `request_id`)
/// by a `command.process` run that goes through the same use cases as the HTTP routes.
public struct Command: Sendable, Hashable {
    /// UUIDv7.
    public var id: UUID
    /// The tenant it acts in.
    public var tenantID: TenantID
    /// What it asks.
    public var action: CommandAction
    /// The action's input (checked at submit).
    public var data: JSONValue
    /// The client's id for the request: at most one command per tenant and request id.
    public var requestID: String
    /// Carried by every event the command causes (default: the request id).
    public var correlationID: String
    /// Seed 000's client: the tenant's id.
    public var clientID: String
    /// The user the command acts for (its events' `userid`), when given.
    public var userID: String?
    /// Where it is.
    public var status: CommandStatus
    /// What it did, once it succeeded (`instance_id`, the HTTP status the route would have answered).
    public var result: JSONValue?
    /// The problem it ended `dead` with.
    public var error: JSONValue?
    /// The run that processes it (a replay enqueues a new one).
    public var runID: UUID
    /// Attempts started, over every replay.
    public var attempts: Int
    /// Who submitted it: the worker acts as this principal (audit rows name it).
    public var principal: Principal
    /// Submitted.
    public var createdAt: Timestamp
    /// Last changed.
    public var updatedAt: Timestamp
    /// Ended (succeeded or dead), if it has.
    public var finishedAt: Timestamp?

    /// Creates a command.
    public init(
        id: UUID, tenantID: TenantID, action: CommandAction, data: JSONValue, requestID: String,
        correlationID: String, clientID: String, userID: String?, status: CommandStatus = .accepted,
        result: JSONValue? = nil, error: JSONValue? = nil, runID: UUID, attempts: Int = 0, principal: Principal,
        createdAt: Timestamp, updatedAt: Timestamp, finishedAt: Timestamp? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.action = action
        self.data = data
        self.requestID = requestID
        self.correlationID = correlationID
        self.clientID = clientID
        self.userID = userID
        self.status = status
        self.result = result
        self.error = error
        self.runID = runID
        self.attempts = attempts
        self.principal = principal
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }

    /// The run kind that processes commands.
    public static let runKind = "command.process"

    /// The run that processes `command` (a fresh one per replay).
    public static func processRun(_ id: UUID, tenant: TenantID, run: UUID, at now: Timestamp) -> NewRun {
        NewRun(
            id: run, kind: runKind, tenantID: tenant, arguments: ["command_id": .string(id.lowercasedString)],
            priority: 3, runAt: now, maxAttempts: 5,
            backoff: Backoff(strategy: .exponentialJitter, baseSeconds: 1, capSeconds: 60), createdAt: now)
    }
}

/// A command's success, committed by the store in the same transaction as the change the command caused:
/// the change and the status cannot part, so a crash between them can never apply a command twice. The
/// store writes it only while the command is not final, and otherwise fails the whole transaction.
public struct CommandCompletion: Sendable, Hashable {
    /// The command's tenant.
    public var tenantID: TenantID
    /// The command.
    public var commandID: UUID
    /// Its result.
    public var result: JSONValue
    /// When.
    public var finishedAt: Timestamp

    /// Creates a completion.
    public init(tenantID: TenantID, commandID: UUID, result: JSONValue, finishedAt: Timestamp) {
        self.tenantID = tenantID
        self.commandID = commandID
        self.result = result
        self.finishedAt = finishedAt
    }
}

extension Principal {
    /// The principal as stored with a command (no secret: the credential's id, role, scopes and names).
    public var snapshot: JSONValue {
        .object([
            "id": .string(id.lowercasedString), "tenant_id": .string(tenantID.description),
            "role": .string(role.rawValue), "scopes": .array(scopes.map(JSONValue.string)),
            "key_prefix": keyPrefix.map(JSONValue.string) ?? .null, "subject": .string(subject),
        ])
    }

    /// A principal from its `snapshot`; nil when the JSON is not one.
    public init?(snapshot: JSONValue) {
        guard case .string(let id)? = snapshot["id"], let uuid = UUID(uuidString: id),
            case .string(let tenant)? = snapshot["tenant_id"], let tenantID = TenantID(uuidString: tenant),
            case .string(let roleText)? = snapshot["role"], let role = Role(rawValue: roleText),
            case .string(let subject)? = snapshot["subject"]
        else { return nil }
        let scopes = snapshot["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.init(
            id: uuid, tenantID: tenantID, role: role, scopes: scopes, keyPrefix: snapshot["key_prefix"]?.stringValue,
            subject: subject, tenantRequestsPerMinute: .max)
    }
}
