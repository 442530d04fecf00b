import AgentplaneCore
import Foundation

/// Who asks a use case for something, and through which door: the principal plus what the audit
/// log and events record about the request (the HTTP operation, the CLI command, the worker).
public struct Caller: Sendable {
    /// The authenticated principal.
    public var principal: Principal
    /// The operation, as the audit log names it (the OpenAPI operationId, or `cli.keys.create`).
    public var operation: String
    /// The request id (`X-Request-ID`), when there is a request.
    public var requestID: String?
    /// The client's address, when there is one.
    public var clientAddress: String?
    /// What the caller's events name as their cause (a command's id), when something caused the request.
    public var causationID: String?
    /// The correlation the caller's events carry (default: the request id).
    public var correlationID: String?
    /// Who the caller acts for, as its events' `userid` (default: the principal; a command names its user).
    public var onBehalfOf: String?
    /// The command the caller processes: the change it records completes it, in the same transaction.
    public var completing: Command?

    /// Creates a caller.
    public init(principal: Principal, operation: String, requestID: String? = nil, clientAddress: String? = nil) {
        self.principal = principal
        self.operation = operation
        self.requestID = requestID
        self.clientAddress = clientAddress
    }

    /// The operator at the command line.
    public static func operatorCLI(_ operation: String) -> Caller {
        Caller(principal: .operatorCLI, operation: operation)
    }

    /// What the caller's events carry: the request (also as correlation) and the principal.
    public var eventContext: EventContext {
        EventContext(
            correlationID: correlationID ?? requestID, causationID: causationID, requestID: requestID,
            userID: onBehalfOf ?? principal.subject)
    }

    /// The audit row and events a successful mutation commits with its change, and the runs it causes (each
    /// carrying the active trace, when there is one: `RunTrace`).
    public func record(
        _ resource: AuditedResource, status: Int, events: [NewEvent], details: JSONValue = .object([:]),
        runs: [NewRun] = [], at time: Timestamp
    ) -> ChangeRecord {
        var events = events
        var completion: CommandCompletion?
        if let command = completing {
            // What the command did, named as the route's answer would name it.
            var result: [String: JSONValue] = ["http_status": .int(Int64(status))]
            if let id = resource.id { result["\(resource.type)_id"] = .string(id) }
            events.append(Events.commandSucceeded(command, result: .object(result), context: eventContext, at: time))
            completion = CommandCompletion(
                tenantID: command.tenantID, commandID: command.id, result: .object(result), finishedAt: time)
        }
        return ChangeRecord(
            events: events, audit: audit(resource, outcome: .success, status: status, details: details, at: time),
            runs: RunTrace.stamped(runs), commandCompletion: completion)
    }

    /// A platform worker performing `run` (its events carry the run's id as request and correlation).
    public static func worker(_ operation: String, run id: UUID) -> Caller {
        Caller(principal: .system, operation: operation, requestID: id.lowercasedString)
    }

    /// An audit row for this caller.
    public func audit(
        _ resource: AuditedResource, outcome: AuditOutcome, status: Int, details: JSONValue = .object([:]),
        at time: Timestamp
    ) -> AuditEntry {
        AuditEntry(
            id: UUIDv7.make(at: time),
            tenantID: resource.tenant,
            occurredAt: time,
            principalID: principal.subject,
            keyPrefix: principal.keyPrefix,
            operation: operation,
            resourceType: resource.type,
            resourceID: resource.id,
            requestID: requestID,
            clientAddress: clientAddress,
            outcome: outcome,
            status: status,
            details: details
        )
    }
}

/// What a mutation is about, for the audit log.
public struct AuditedResource: Sendable, Hashable {
    /// The tenant it happened in.
    public var tenant: TenantID
    /// The kind of resource, e.g. `instance`.
    public var type: String
    /// Its id, when known.
    public var id: String?

    /// Creates the description.
    public init(tenant: TenantID, type: String, id: String?) {
        self.tenant = tenant
        self.type = type
        self.id = id
    }
}
