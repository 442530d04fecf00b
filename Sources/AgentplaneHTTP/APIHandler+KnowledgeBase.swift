import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func createKnowledgeBaseEntry(_ input: Operations.CreateKnowledgeBaseEntry.Input) async throws
        -> Operations.CreateKnowledgeBaseEntry.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let instance = try await findInstanceForEntries(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        let metadata = body.metadata.map(Self.json) ?? [:]
        let errors = KnowledgeBaseEntry.errors(content: body.content, metadata: metadata)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        guard let tenant = try await store.tenants.find(id: instance.tenantID) else {
            throw AgentplaneError(.notFound, "No such tenant.")
        }
        let now = Timestamp.now()
        let entry = KnowledgeBaseEntry(
            id: UUIDv7.make(at: now),
            tenantID: instance.tenantID,
            instanceID: instance.id,
            content: body.content,
            dataType: body.dataType.flatMap { KBDataType(rawValue: $0.rawValue) } ?? .document,
            langHint: body.langHint.flatMap { KBLangHint(rawValue: $0.rawValue) } ?? .other,
            status: .queued,
            failureReason: nil,
            metadata: metadata,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        try await store.knowledgeBase.create(
            entry,
            maxEntries: tenant.quotas.maxKnowledgeBaseEntries,
            record: auditing.record(
                Self.entrySubject("createKnowledgeBaseEntry", entry),
                status: 201,
                events: [
                    Self.entryEvent("knowledge_base.entry.created", entry, instance, context: auditing.eventContext())
                ]
            )
        )
        let processed = try await process(entry, instance: instance)
        return .created(.init(body: .json(.init(processed))))
    }

    func listKnowledgeBaseEntries(_ input: Operations.ListKnowledgeBaseEntries.Input) async throws
        -> Operations.ListKnowledgeBaseEntries.Output
    {
        let instance = try await findInstanceForEntries(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        let limit = try Paging.limit(input.query.limit)
        let after = try input.query.cursor.map { cursor in
            guard let id = UUID(uuidString: cursor) else { throw Paging.badCursor }
            return id
        }
        let entries = try await store.knowledgeBase.list(
            tenant: instance.tenantID,
            instance: instance.id,
            after: after,
            limit: limit + 1,
            status: input.query.status.flatMap { KBEntryStatus(rawValue: $0.rawValue) }
        )
        let page = entries.prefix(limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        entries: page.map(Components.Schemas.KBEntry.init),
                        nextCursor: entries.count > limit ? page.last?.id.lowercasedString : nil
                    )
                )
            )
        )
    }

    func getKnowledgeBaseEntry(_ input: Operations.GetKnowledgeBaseEntry.Input) async throws
        -> Operations.GetKnowledgeBaseEntry.Output
    {
        let (entry, _) = try await findEntry(input.path.instanceId, input.path.entryId, input.headers.xTenantID)
        return .ok(.init(body: .json(.init(entry))))
    }

    func updateKnowledgeBaseEntry(_ input: Operations.UpdateKnowledgeBaseEntry.Input) async throws
        -> Operations.UpdateKnowledgeBaseEntry.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let (current, instance) = try await findEntry(
            input.path.instanceId, input.path.entryId, input.headers.xTenantID)
        var next = current
        if let content = body.content { next.content = content }
        if let metadata = body.metadata { next.metadata = Self.json(metadata) }
        if let value = body.dataType.flatMap({ KBDataType(rawValue: $0.rawValue) }) { next.dataType = value }
        if let value = body.langHint.flatMap({ KBLangHint(rawValue: $0.rawValue) }) { next.langHint = value }
        let errors = KnowledgeBaseEntry.errors(content: next.content, metadata: next.metadata)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let contentChanged = next.content != current.content
        if contentChanged {
            // New content goes through processing again: back to queued (failed entries via retry).
            guard current.status == .ready || current.status == .failed else {
                throw AgentplaneError(
                    .illegalTransition,
                    "The entry is \(current.status.rawValue); change its content once processing ends.",
                    details: ["from": .string(current.status.rawValue), "to": "queued"]
                )
            }
            next.status = .queued
            next.failureReason = nil
        }
        let expected = try input.headers.ifMatch.map { try Self.version(fromETag: $0) } ?? current.version
        let saved = try await saveEntry(
            next, current: current, instance: instance, expected: expected, operation: "updateKnowledgeBaseEntry")
        let result = contentChanged ? try await process(saved, instance: instance) : saved
        return .ok(.init(body: .json(.init(result))))
    }

    func retryKnowledgeBaseEntry(_ input: Operations.RetryKnowledgeBaseEntry.Input) async throws
        -> Operations.RetryKnowledgeBaseEntry.Output
    {
        let (current, instance) = try await findEntry(
            input.path.instanceId, input.path.entryId, input.headers.xTenantID)
        var next = current
        next.status = try current.status.transition(to: .queued)
        next.failureReason = nil
        let queued = try await saveEntry(
            next, current: current, instance: instance, expected: current.version, operation: "retryKnowledgeBaseEntry")
        return .ok(.init(body: .json(.init(try await process(queued, instance: instance)))))
    }

    func deleteKnowledgeBaseEntry(_ input: Operations.DeleteKnowledgeBaseEntry.Input) async throws
        -> Operations.DeleteKnowledgeBaseEntry.Output
    {
        let (entry, instance) = try await findEntry(input.path.instanceId, input.path.entryId, input.headers.xTenantID)
        try await store.knowledgeBase.delete(
            tenant: entry.tenantID,
            instance: entry.instanceID,
            id: entry.id,
            record: auditing.record(
                Self.entrySubject("deleteKnowledgeBaseEntry", entry),
                status: 204,
                events: [
                    Self.entryEvent("knowledge_base.entry.deleted", entry, instance, context: auditing.eventContext())
                ]
            )
        )
        return .noContent(.init())
    }

    func searchKnowledgeBase(_ input: Operations.SearchKnowledgeBase.Input) async throws
        -> Operations.SearchKnowledgeBase.Output
    {
        let instance = try await findInstanceForEntries(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        let limit = input.query.limit ?? 20
        guard (1...100).contains(limit) else {
            throw AgentplaneError.badQuery([FieldError(pointer: "limit", message: "must be between 1 and 100")])
        }
        guard !input.query.q.trimmingCharacters(in: .whitespaces).isEmpty, input.query.q.count <= 500 else {
            throw AgentplaneError.badQuery([FieldError(pointer: "q", message: "must be 1 to 500 characters")])
        }
        let hits = try await store.knowledgeBase.search(
            tenant: instance.tenantID,
            instance: instance.id,
            query: input.query.q,
            limit: limit
        )
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

    /// Processing, inline until the job engine exists, through the same state machine and store
    /// operation a worker will use: `queued → processing → ready | failed`.
    private func process(_ entry: KnowledgeBaseEntry, instance: Instance) async throws -> KnowledgeBaseEntry {
        var processing = entry
        processing.status = try entry.status.transition(to: .processing)
        let started = try await saveEntry(
            processing, current: entry, instance: instance, expected: entry.version,
            operation: "processKnowledgeBaseEntry")
        var finished = started
        if let reason = KnowledgeBaseEntry.indexingFailure(started.content) {
            finished.status = try started.status.transition(to: .failed)
            finished.failureReason = reason
        } else {
            finished.status = try started.status.transition(to: .ready)
        }
        return try await saveEntry(
            finished, current: started, instance: instance, expected: started.version,
            operation: "processKnowledgeBaseEntry")
    }

    private func saveEntry(
        _ next: KnowledgeBaseEntry,
        current: KnowledgeBaseEntry,
        instance: Instance,
        expected: Int64,
        operation: String
    ) async throws -> KnowledgeBaseEntry {
        var next = next
        next.updatedAt = .now()
        next.version = expected + 1
        let context = auditing.eventContext()
        let events = Self.changeEvents(
            updated: Self.entryEvent("knowledge_base.entry.updated", next, instance, context: context),
            statusChanged: Self.entryEvent("knowledge_base.entry.status_changed", next, instance, context: context),
            from: current.status.rawValue,
            to: next.status.rawValue
        )
        return try await Self.checkingVersion(of: "entry", expected: expected, current: current.version) {
            try await store.knowledgeBase.update(
                next,
                expectedVersion: expected,
                from: current.status,
                record: auditing.record(Self.entrySubject(operation, current), status: 200, events: events)
            )
        }
    }

    private func findInstanceForEntries(_ id: String, tenantHeader: String?) async throws -> Instance {
        let tenant = try await actingTenant(tenantHeader)
        guard let uuid = UUID(uuidString: id), let instance = try await store.instances.find(tenant: tenant, id: uuid)
        else {
            throw AgentplaneError(.notFound, "No such instance.")
        }
        return instance
    }

    private func findEntry(_ instanceID: String, _ entryID: String, _ tenantHeader: String?) async throws
        -> (KnowledgeBaseEntry, Instance)
    {
        let instance = try await findInstanceForEntries(instanceID, tenantHeader: tenantHeader)
        guard let id = UUID(uuidString: entryID),
            let entry = try await store.knowledgeBase.find(tenant: instance.tenantID, instance: instance.id, id: id)
        else { throw AgentplaneError(.notFound, "No such knowledge-base entry.") }
        return (entry, instance)
    }

    static func entrySubject(_ operation: String, _ entry: KnowledgeBaseEntry) -> Auditing.Subject {
        Auditing.Subject(
            operation: operation,
            tenant: entry.tenantID,
            resourceType: "knowledge_base_entry",
            resourceID: entry.id.lowercasedString
        )
    }

    static func entryEvent(_ type: String, _ entry: KnowledgeBaseEntry, _ instance: Instance, context: EventContext)
        -> NewEvent
    {
        var data: [String: JSONValue] = [
            "entry_id": .string(entry.id.lowercasedString),
            "instance_id": .string(instance.id.lowercasedString),
            "agent_id": .string(instance.agentID.lowercasedString),
            "template_id": .string(instance.agentID.lowercasedString),
            "user_id": .string(context.userID ?? instance.ownerUserID),
            "status": .string(entry.status.rawValue),
            "data_type": .string(entry.dataType.rawValue),
            "version": .int(entry.version),
        ]
        if let reason = entry.failureReason { data["failure_reason"] = .string(reason) }
        return NewEvent(
            type: type,
            subject: "instances/\(instance.id.lowercasedString)/knowledge-base/entries/\(entry.id.lowercasedString)",
            data: .object(data),
            context: context
        )
    }
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
