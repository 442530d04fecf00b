import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listAuditLog(_ input: Operations.ListAuditLog.Input) async throws -> Operations.ListAuditLog.Output {
        let caller = try caller("listAuditLog")
        let limit = try Paging.limit(input.query.limit)
        if let cursor = input.query.cursor, UUID(canonical: cursor) == nil { throw Paging.badCursor }
        let query = AuditQuery(
            before: input.query.cursor?.lowercased(),
            limit: limit,
            operation: input.query.operation,
            outcome: input.query.outcome.flatMap { AuditOutcome(rawValue: $0.rawValue) },
            principalID: input.query.principalId
        )
        let page = try await useCases.listAuditLog(query, tenant: try Self.tenant(input.headers.xTenantID), for: caller)
        return .ok(
            .init(
                body: .json(
                    .init(
                        entries: page.items.map(Components.Schemas.AuditEntry.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil
                    )
                )
            )
        )
    }
}

extension Components.Schemas.AuditEntry {
    init(_ entry: AuditEntry) {
        self.init(
            id: entry.id.lowercasedString,
            tenantId: entry.tenantID.description,
            occurredAt: entry.occurredAt.date,
            principalId: entry.principalID,
            keyPrefix: entry.keyPrefix,
            operation: entry.operation,
            resourceType: entry.resourceType,
            resourceId: entry.resourceID,
            requestId: entry.requestID,
            clientAddress: entry.clientAddress,
            outcome: .init(rawValue: entry.outcome.rawValue) ?? .failure,
            status: entry.status,
            details: (try? OpenAPIObjectContainer(
                unvalidatedValue: entry.details.objectValue?.mapValues(\.anyValue) ?? [:]))
                ?? OpenAPIObjectContainer()
        )
    }
}
