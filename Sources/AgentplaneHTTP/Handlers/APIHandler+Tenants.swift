import AgentplaneAPI
import AgentplaneApp
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
        let page = try await useCases.listTenants(after: after, limit: limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        tenants: page.items.map(Components.Schemas.Tenant.init),
                        nextCursor: page.hasMore ? page.items.last?.id.description : nil
                    )
                )
            )
        )
    }

    func createTenant(_ input: Operations.CreateTenant.Input) async throws -> Operations.CreateTenant.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = CreateTenant(
            slug: body.slug,
            name: body.name,
            status: body.status.flatMap { TenantStatus(rawValue: $0.rawValue) },
            quotas: body.quotas.map(QuotaPatch.init)
        )
        let tenant = try await useCases.createTenant(command, by: try caller("createTenant"))
        return .created(.init(headers: .init(eTag: Self.etag(tenant.version)), body: .json(.init(tenant))))
    }

    func getTenant(_ input: Operations.GetTenant.Input) async throws -> Operations.GetTenant.Output {
        let tenant = try await useCases.tenant(try Self.tenantID(input.path.tenantId), for: try caller("getTenant"))
        return .ok(.init(headers: .init(eTag: Self.etag(tenant.version)), body: .json(.init(tenant))))
    }

    func updateTenant(_ input: Operations.UpdateTenant.Input) async throws -> Operations.UpdateTenant.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = UpdateTenant(
            name: body.name,
            status: body.status.flatMap { TenantStatus(rawValue: $0.rawValue) },
            quotas: body.quotas.map(QuotaPatch.init),
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:))
        )
        let saved = try await useCases.updateTenant(
            try Self.tenantID(input.path.tenantId), command, by: try caller("updateTenant"))
        keyCache.removeAll()
        return .ok(.init(headers: .init(eTag: Self.etag(saved.version)), body: .json(.init(saved))))
    }

    func deleteTenant(_ input: Operations.DeleteTenant.Input) async throws -> Operations.DeleteTenant.Output {
        try await useCases.deleteTenant(try Self.tenantID(input.path.tenantId), by: try caller("deleteTenant"))
        keyCache.removeAll()
        return .noContent(.init())
    }

    /// A tenant path id; one that is not a UUID names no tenant (404).
    private static func tenantID(_ text: String) throws -> TenantID {
        guard let id = TenantID(uuidString: text) else { throw AgentplaneError(.notFound, "No such tenant.") }
        return id
    }

    static var jsonRequired: AgentplaneError {
        AgentplaneError(.unsupportedMediaType, "Send the body as `application/json`.")
    }
}

extension QuotaPatch {
    init(_ quotas: Components.Schemas.Quotas) {
        self.init(
            maxInstances: quotas.maxInstances,
            maxTasks: quotas.maxTasks,
            maxKnowledgeBaseEntries: quotas.maxKbEntries,
            requestsPerMinute: quotas.requestsPerMinute
        )
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
