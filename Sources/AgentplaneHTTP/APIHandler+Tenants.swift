import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation

extension APIHandler {
    func listTenants(_ input: Operations.ListTenants.Input) async throws -> Operations.ListTenants.Output {
        let limit = try Paging.limit(input.query.limit)
        let after = try input.query.cursor.map { cursor in
            guard let tenant = TenantID(uuidString: cursor) else { throw Paging.badCursor }
            return tenant
        }
        let tenants = try await store.tenants.list(after: after, limit: limit + 1)
        let page = tenants.prefix(limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        tenants: page.map(Components.Schemas.Tenant.init),
                        nextCursor: tenants.count > limit ? page.last?.id.description : nil
                    )
                )
            )
        )
    }

    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let quotas = try Self.quotas(body.quotas, base: .defaults)
        var errors = TenantValidation.slugErrors(body.slug) + TenantValidation.nameErrors(body.name)
        errors += quotas.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let now = Timestamp.now()
        let tenant = Tenant(
            id: TenantID(UUIDv7.make(at: now)),
            slug: body.slug,
            name: body.name,
            status: body.status.flatMap { TenantStatus(rawValue: $0.rawValue) } ?? .active,
            quotas: quotas,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        let subject = Auditing.Subject(
            operation: "createTenant",
            tenant: tenant.id,
            resourceType: "tenant",
            resourceID: tenant.id.description
        )
        do {
            try await store.tenants.create(
                tenant,
                record: auditing.record(
                    subject,
                    status: 201,
                    events: [Self.tenantEvent("tenant.created", tenant, context: auditing.eventContext())]
                )
            )
        } catch let error as StoreError where error.kind == .uniqueViolation(constraint: "tenants_slug") {
            throw AgentplaneError(
                .conflict,
                "A tenant with the slug `\(tenant.slug)` already exists.",
                fieldErrors: [FieldError(pointer: "/slug", message: "is taken")]
            )
        }

        return .created(.init(headers: .init(eTag: Self.etag(tenant)), body: .json(.init(tenant))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let tenant = try await visibleTenant(input.path.tenantId)
        return .ok(.init(headers: .init(eTag: Self.etag(tenant)), body: .json(.init(tenant))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let current = try await visibleTenant(input.path.tenantId)
        var updated = current
        if let name = body.name { updated.name = name }
        if let status = body.status { updated.status = TenantStatus(rawValue: status.rawValue) ?? current.status }
        updated.quotas = try Self.quotas(body.quotas, base: current.quotas)
        updated.updatedAt = .now()
        var errors = body.name.map { TenantValidation.nameErrors($0) } ?? []
        errors += updated.quotas.errors()
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        if current.id == .platform, updated.status != .active {
            throw AgentplaneError(.conflict, "The platform tenant cannot be suspended.")
        }
        let expected = try input.headers.ifMatch.map { try Self.version(fromETag: $0) } ?? current.version
        let subject = Auditing.Subject(
            operation: "updateTenant",
            tenant: current.id,
            resourceType: "tenant",
            resourceID: current.id.description
        )
        let saved = try await Self.checkingVersion(of: "tenant", expected: expected, current: current.version) {
            try await store.tenants.update(
                updated,
                expectedVersion: expected,
                record: auditing.record(
                    subject,
                    status: 200,
                    events: [Self.tenantEvent("tenant.updated", updated, context: auditing.eventContext())]
                )
            )
        }
        return .ok(.init(headers: .init(eTag: Self.etag(saved)), body: .json(.init(saved))))
    }

    func deleteTenant(_ input: Operations.DeleteTenant.Input) async throws -> Operations.DeleteTenant.Output {
        let tenant = try await visibleTenant(input.path.tenantId)
        guard tenant.id != .platform else {
            throw AgentplaneError(.conflict, "The platform tenant cannot be deleted.")
        }
        let subject = Auditing.Subject(
            operation: "deleteTenant",
            tenant: tenant.id,
            resourceType: "tenant",
            resourceID: tenant.id.description
        )
        try await store.tenants.delete(
            id: tenant.id,
            at: .now(),
            record: auditing.record(
                subject,
                status: 204,
                events: [Self.tenantEvent("tenant.deleted", tenant, context: auditing.eventContext())]
            )
        )

        return .noContent(.init())
    }

    /// The tenant `id`, when the caller may see it: platform admins see all, others only their own.
    private func visibleTenant(_ id: String) async throws -> Tenant {
        let principal = try RequestScope.requirePrincipal()
        guard let tenantID = TenantID(uuidString: id),
            principal.role == .platformAdmin || tenantID == principal.tenantID,
            let tenant = try await store.tenants.find(id: tenantID)
        else { throw AgentplaneError(.notFound, "No such tenant.") }
        return tenant
    }

    static func quotas(_ patch: Components.Schemas.Quotas?, base: TenantQuotas) throws -> TenantQuotas {
        guard let patch else { return base }
        return TenantQuotas(
            maxInstances: patch.maxInstances ?? base.maxInstances,
            maxTasks: patch.maxTasks ?? base.maxTasks,
            maxKnowledgeBaseEntries: patch.maxKbEntries ?? base.maxKnowledgeBaseEntries,
            requestsPerMinute: patch.requestsPerMinute ?? base.requestsPerMinute
        )
    }

    static func tenantEvent(_ type: String, _ tenant: Tenant, context: EventContext) -> NewEvent {
        NewEvent(
            type: type,
            subject: "tenants/\(tenant.id)",
            data: .object([
                "tenant_id": .string(tenant.id.description),
                "slug": .string(tenant.slug),
                "name": .string(tenant.name),
                "status": .string(tenant.status.rawValue),
            ]),
            context: context
        )
    }

    static var jsonRequired: AgentplaneError {
        AgentplaneError(.unsupportedMediaType, "Send the body as `application/json`.")
    }
}

extension Components.Schemas.Tenant {
    init(_ tenant: Tenant) {
        self.init(
            id: tenant.id.description,
            slug: tenant.slug,
            name: tenant.name,
            status: .init(rawValue: tenant.status.rawValue)!,
            quotas: .init(
                maxInstances: tenant.quotas.maxInstances,
                maxTasks: tenant.quotas.maxTasks,
                maxKbEntries: tenant.quotas.maxKnowledgeBaseEntries,
                requestsPerMinute: tenant.quotas.requestsPerMinute
            ),
            version: tenant.version,
            createdAt: tenant.createdAt.date,
            updatedAt: tenant.updatedAt.date
        )
    }
}
