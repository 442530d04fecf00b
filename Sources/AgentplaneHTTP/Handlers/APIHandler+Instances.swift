import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func createInstance(_ input: Operations.CreateInstance.Input) async throws -> Operations.CreateInstance.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let instance = try await useCases.createInstance(
            Self.command(body), tenant: try Self.tenant(input.headers.xTenantID), by: try caller("createInstance"))
        return .created(.init(headers: .init(eTag: Self.etag(instance.version)), body: .json(Self.body(instance))))
    }

    func createPersonaInstance(_ input: Operations.CreatePersonaInstance.Input) async throws
        -> Operations.CreatePersonaInstance.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let instance = try await useCases.createInstance(
            Self.command(body), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("createPersonaInstance"))
        return .created(
            .init(
                body: .json(
                    .init(
                        id: instance.id.lowercasedString,
                        templateId: instance.agentID.lowercasedString,
                        name: instance.name,
                        ownerUserId: instance.ownerUserID,
                        config: Self.object(instance.config),
                        isActive: instance.isActive,
                        createdAt: instance.createdAt.date,
                        updatedAt: instance.updatedAt.date
                    )
                )
            )
        )
    }

    func listInstances(_ input: Operations.ListInstances.Input) async throws -> Operations.ListInstances.Output {
        let limit = try Paging.limit(input.query.limit)
        let sort = input.query.sort.flatMap { InstanceSort(rawValue: $0.rawValue) } ?? .createdAt
        // The cursor is the last instance's id; sorted by name it is also its name (`<id>:<name>`).
        var after: UUID?
        var afterName: String?
        if let cursor = input.query.cursor {
            let parts = cursor.split(separator: ":", maxSplits: 1).map(String.init)
            guard let id = parts.first.flatMap(UUID.init(canonical:)),
                sort == .name ? parts.count == 2 : parts.count == 1
            else { throw Paging.badCursor }
            after = id
            afterName = sort == .name ? String(parts[1]) : nil
        }
        var agent: UUID?
        if let text = input.query.agentId {
            guard let id = UUID(canonical: text) else {
                throw AgentplaneError(
                    .badRequest, "agent_id must be a UUID.",
                    fieldErrors: [FieldError(pointer: "agent_id", message: "must be a UUID")])
            }
            agent = id
        }
        let query = InstanceQuery(
            sort: sort,
            after: after,
            afterName: afterName,
            limit: limit,
            status: input.query.status.flatMap { InstanceStatus(rawValue: $0.rawValue) },
            agentID: agent,
            projectID: input.query.projectId,
            ownerUserID: input.query.ownerUserId
        )
        let page = try await useCases.listInstances(
            query, tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listInstances"))
        let next = page.hasMore ? page.items.last : nil
        let cursor = next.map { sort == .name ? "\($0.id.lowercasedString):\($0.name)" : $0.id.lowercasedString }
        return .ok(.init(body: .json(Self.body(page.items, nextCursor: cursor))))
    }

    func getInstance(_ input: Operations.GetInstance.Input) async throws -> Operations.GetInstance.Output {
        let instance = try await useCases.instance(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getInstance"))
        return .ok(.init(headers: .init(eTag: Self.etag(instance.version)), body: .json(Self.body(instance))))
    }

    func getInstanceConfig(_ input: Operations.GetInstanceConfig.Input) async throws
        -> Operations.GetInstanceConfig.Output
    {
        let instance = try await useCases.instance(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            for: try caller("getInstanceConfig"))
        var explain: Components.Schemas.InstanceConfig.ExplainPayload?
        if input.query.explain == true {
            let origins = try await useCases.explainConfig(of: instance)
            explain = .init(additionalProperties: origins.mapValues { .init(rawValue: $0.rawValue)! })
        }
        return .ok(.init(body: .json(.init(config: Self.object(instance.config), explain: explain))))
    }

    func updateInstance(_ input: Operations.UpdateInstance.Input) async throws -> Operations.UpdateInstance.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let command = UpdateInstance(
            name: body.name,
            projectID: body.projectId,
            config: body.config.map(Self.json),
            pipelineConfig: body.pipelineConfig.map(JSONValue.init),
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:))
        )
        let saved = try await useCases.updateInstance(
            try Self.id(input.path.instanceId, "instance"), command, tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("updateInstance"))
        return .ok(.init(headers: .init(eTag: Self.etag(saved.version)), body: .json(Self.body(saved))))
    }

    func stopInstance(_ input: Operations.StopInstance.Input) async throws -> Operations.StopInstance.Output {
        let saved = try await useCases.transitionInstance(
            try Self.id(input.path.instanceId, "instance"), to: .stopped,
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("stopInstance"))
        return .ok(.init(body: .json(Self.body(saved))))
    }

    func startInstance(_ input: Operations.StartInstance.Input) async throws -> Operations.StartInstance.Output {
        let saved = try await useCases.transitionInstance(
            try Self.id(input.path.instanceId, "instance"), to: .pending,
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("startInstance"))
        return .ok(.init(body: .json(Self.body(saved))))
    }

    func deleteInstance(_ input: Operations.DeleteInstance.Input) async throws -> Operations.DeleteInstance.Output {
        try await useCases.deleteInstance(
            try Self.id(input.path.instanceId, "instance"), tenant: try Self.tenant(input.headers.xTenantID),
            by: try caller("deleteInstance"))
        return .noContent(.init())
    }

    /// Either request shape, as one command (seed 000 names the agent `template_id` or `bot_id`).
    private static func command(_ body: Components.Schemas.NewInstance) -> CreateInstance {
        CreateInstance(
            agentID: body.agentId ?? body.templateId ?? body.botId,
            name: body.name ?? body.title ?? "",
            projectID: body.projectId,
            config: body.config.map(json) ?? [:],
            pipelineConfig: body.pipelineConfig.map(JSONValue.init) ?? .object([:])
        )
    }
}

extension Components.Schemas.Instance {
    init(_ instance: Instance) {
        self.init(
            id: instance.id.lowercasedString,
            tenantId: instance.tenantID.description,
            agentId: instance.agentID.lowercasedString,
            templateId: instance.agentID.lowercasedString,
            ownerUserId: instance.ownerUserID,
            projectId: instance.projectID,
            name: instance.name,
            config: APIHandler.object(instance.config),
            userConfig: APIHandler.object(instance.userConfig),
            pipelineConfig: instance.pipelineConfig.container,
            status: .init(rawValue: instance.status.rawValue)!,
            statusReason: instance.statusReason,
            isActive: instance.isActive,
            version: instance.version,
            createdAt: instance.createdAt.date,
            updatedAt: instance.updatedAt.date
        )
    }
}
