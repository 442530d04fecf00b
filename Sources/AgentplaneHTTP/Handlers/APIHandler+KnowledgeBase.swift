import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func createKnowledgeBaseEntry(_ input: Operations.CreateKnowledgeBaseEntry.Input) async throws
        -> Operations.CreateKnowledgeBaseEntry.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = CreateEntry(
            content: body.content,
            dataType: body.dataType.flatMap { KBDataType(rawValue: $0.rawValue) },
            langHint: body.langHint.flatMap { KBLangHint(rawValue: $0.rawValue) },
            metadata: body.metadata.map(Self.json) ?? [:]
        )
        let entry = try await useCases.createEntry(
            command, instance: try Self.id(input.path.instanceId, "instance"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createKnowledgeBaseEntry"))
        return .created(.init(body: .json(Self.body(entry))))
    }

    func listKnowledgeBaseEntries(_ input: Operations.ListKnowledgeBaseEntries.Input) async throws
        -> Operations.ListKnowledgeBaseEntries.Output
    {
        let limit = try Paging.limit(input.query.limit)
        let after = try input.query.cursor.map { cursor in
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            return id
        }
        let page = try await useCases.listEntries(
            instance: try Self.id(input.path.instanceId, "instance"), after: after, limit: limit,
            status: input.query.status.flatMap { KBEntryStatus(rawValue: $0.rawValue) },
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listKnowledgeBaseEntries"))
        let cursor = page.hasMore ? page.items.last?.id.lowercasedString : nil
        return .ok(.init(body: .json(Self.body(page.items, nextCursor: cursor))))
    }

    func getKnowledgeBaseEntry(_ input: Operations.GetKnowledgeBaseEntry.Input) async throws
        -> Operations.GetKnowledgeBaseEntry.Output
    {
        let (entry, _) = try await useCases.entry(
            try Self.entryID(input.path.entryId), instance: try Self.id(input.path.instanceId, "instance"),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getKnowledgeBaseEntry"))
        return .ok(.init(body: .json(Self.body(entry))))
    }

    func updateKnowledgeBaseEntry(_ input: Operations.UpdateKnowledgeBaseEntry.Input) async throws
        -> Operations.UpdateKnowledgeBaseEntry.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = UpdateEntry(
            content: body.content,
            metadata: body.metadata.map(Self.json),
            dataType: body.dataType.flatMap { KBDataType(rawValue: $0.rawValue) },
            langHint: body.langHint.flatMap { KBLangHint(rawValue: $0.rawValue) },
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:))
        )
        let entry = try await useCases.updateEntry(
            try Self.entryID(input.path.entryId), instance: try Self.id(input.path.instanceId, "instance"), command,
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("updateKnowledgeBaseEntry"))
        return .ok(.init(body: .json(Self.body(entry))))
    }

    func retryKnowledgeBaseEntry(_ input: Operations.RetryKnowledgeBaseEntry.Input) async throws
        -> Operations.RetryKnowledgeBaseEntry.Output
    {
        let entry = try await useCases.retryEntry(
            try Self.entryID(input.path.entryId), instance: try Self.id(input.path.instanceId, "instance"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("retryKnowledgeBaseEntry"))
        return .ok(.init(body: .json(Self.body(entry))))
    }

    func deleteKnowledgeBaseEntry(_ input: Operations.DeleteKnowledgeBaseEntry.Input) async throws
        -> Operations.DeleteKnowledgeBaseEntry.Output
    {
        try await useCases.deleteEntry(
            try Self.entryID(input.path.entryId), instance: try Self.id(input.path.instanceId, "instance"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("deleteKnowledgeBaseEntry"))
        return .noContent(.init())
    }

    func searchKnowledgeBase(_ input: Operations.SearchKnowledgeBase.Input) async throws
        -> Operations.SearchKnowledgeBase.Output
    {
        let hits = try await useCases.searchKnowledgeBase(
            instance: try Self.id(input.path.instanceId, "instance"), query: input.query.q,
            limit: input.query.limit ?? 20, tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("searchKnowledgeBase"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        // `rank` is the 1-based position: raw scores (bm25 on SQLite) depend on statistics
                        // of the whole index, which other tenants' entries would shift.
                        results: hits.enumerated().map { position, hit in
                            .init(
                                entryId: hit.entryID.lowercasedString, rank: Double(position + 1), snippet: hit.snippet)
                        }
                    )
                )
            )
        )
    }

    private static func entryID(_ text: String) throws -> UUID { try id(text, "knowledge-base entry") }
}

extension Components.Schemas.KBEntry {
    init(_ entry: KnowledgeBaseEntry) {
        self.init(
            id: entry.id.lowercasedString,
            instanceId: entry.instanceID.lowercasedString,
            content: entry.content,
            dataType: .init(rawValue: entry.dataType.rawValue)!,
            langHint: .init(rawValue: entry.langHint.rawValue)!,
            status: .init(rawValue: entry.status.rawValue)!,
            failureReason: entry.failureReason,
            metadata: APIHandler.object(entry.metadata),
            version: entry.version,
            createdAt: entry.createdAt.date,
            updatedAt: entry.updatedAt.date
        )
    }
}
