import AgentplaneCore
import AgentplaneStore

/// Builds the audit rows and change records of mutations, from the request scope.
struct Auditing: Sendable {
    let store: any Store

    /// What one mutation is about.
    struct Subject: Sendable {
        var operation: String
        var tenant: TenantID
        var resourceType: String
        var resourceID: String?
    }

    /// The change record of a successful mutation (status `status`) with its events.
    func record(_ subject: Subject, status: Int, events: [NewEvent], details: JSONValue = .object([:])) -> ChangeRecord
    {
        ChangeRecord(events: events, audit: entry(subject, outcome: .success, status: status, details: details))
    }

    /// The event context of the current request.
    func eventContext() -> EventContext {
        let scope = RequestScope.current
        return EventContext(
            correlationID: scope.requestID,
            requestID: scope.requestID,
            userID: scope.principal?.subject
        )
    }

    private func entry(_ subject: Subject, outcome: AuditOutcome, status: Int, details: JSONValue) -> AuditEntry {
        let scope = RequestScope.current
        return AuditEntry(
            tenantID: subject.tenant,
            principalID: scope.principal?.subject ?? "anonymous",
            keyPrefix: scope.principal?.keyPrefix,
            operation: subject.operation,
            resourceType: subject.resourceType,
            resourceID: subject.resourceID,
            requestID: scope.requestID,
            clientAddress: scope.clientAddress,
            outcome: outcome,
            status: status,
            details: details
        )
    }
}
