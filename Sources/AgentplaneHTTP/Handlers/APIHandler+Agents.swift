import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listAgents(_ input: Operations.ListAgents.Input) async throws -> Operations.ListAgents.Output {
        let caller = try caller("listAgents")
        let limit = try Paging.limit(input.query.limit)
        let after = try input.query.cursor.map { cursor in
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            return id
        }
        let page = try await useCases.listAgents(
            after: after, limit: limit, includeInactive: input.query.includeInactive == true, for: caller)
        let shows = AgentDecisions.showsActivationCode(to: caller.principal)
        return .ok(
            .init(
                body: .json(
                    .init(
                        agents: page.items.map { Components.Schemas.Agent($0, showActivationCode: shows) },
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil
                    )
                )
            )
        )
    }

    func listTemplates(_ input: Operations.ListTemplates.Input) async throws -> Operations.ListTemplates.Output {
        let templates = try await useCases.allActiveAgents().map { agent in
            Components.Schemas.Template(
                id: agent.id.lowercasedString,
                name: agent.name,
                description: agent.description,
                category: agent.category,
                config: Self.object(agent.defaultConfig),
                isActive: agent.isActive,
                createdAt: agent.createdAt.date,
                updatedAt: agent.updatedAt.date
            )
        }
        return .ok(.init(body: .json(.init(templates: templates, count: templates.count))))
    }

    func createAgent(_ input: Operations.CreateAgent.Input) async throws -> Operations.CreateAgent.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let agent = try await useCases.createAgent(Self.draft(body), by: try caller("createAgent"))
        return .created(
            .init(headers: .init(eTag: Self.etag(agent.version)), body: .json(.init(agent, showActivationCode: true))))
    }

    func getAgent(_ input: Operations.GetAgent.Input) async throws -> Operations.GetAgent.Output {
        let caller = try caller("getAgent")
        let agent = try await useCases.agent(try Self.id(input.path.agentId, "agent"), for: caller)
        let shows = AgentDecisions.showsActivationCode(to: caller.principal)
        return .ok(
            .init(headers: .init(eTag: Self.etag(agent.version)), body: .json(.init(agent, showActivationCode: shows))))
    }

    func updateAgent(_ input: Operations.UpdateAgent.Input) async throws -> Operations.UpdateAgent.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let patch = AgentPatch(
            type: body._type, name: body.name, description: body.description, category: body.category,
            defaultConfig: body.defaultConfig.map(Self.json), content: body.content.map(JSONValue.init),
            activationCode: body.activationCode, rate: body.rate, isActive: body.isActive)
        let saved = try await useCases.updateAgent(
            try Self.id(input.path.agentId, "agent"), .patch(patch),
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:)), by: try caller("updateAgent"))
        return .ok(
            .init(headers: .init(eTag: Self.etag(saved.version)), body: .json(.init(saved, showActivationCode: true))))
    }

    func replaceAgent(_ input: Operations.ReplaceAgent.Input) async throws -> Operations.ReplaceAgent.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let saved = try await useCases.updateAgent(
            try Self.id(input.path.agentId, "agent"), .replace(Self.draft(body)),
            expectedVersion: try input.headers.ifMatch.map(Self.version(fromETag:)), by: try caller("replaceAgent"))
        return .ok(
            .init(headers: .init(eTag: Self.etag(saved.version)), body: .json(.init(saved, showActivationCode: true))))
    }

    /// Every field of an agent, as `POST` and `PUT` send them (one schema, `NewAgent`).
    private static func draft(_ body: Components.Schemas.NewAgent) -> AgentDraft {
        AgentDraft(
            type: body._type, name: body.name, description: body.description, category: body.category,
            defaultConfig: body.defaultConfig.map(json), content: body.content.map(JSONValue.init),
            activationCode: body.activationCode, rate: body.rate, isActive: body.isActive)
    }

    func deleteAgent(_ input: Operations.DeleteAgent.Input) async throws -> Operations.DeleteAgent.Output {
        try await useCases.deleteAgent(try Self.id(input.path.agentId, "agent"), by: try caller("deleteAgent"))
        return .noContent(.init())
    }

    func listAgentVersions(_ input: Operations.ListAgentVersions.Input) async throws
        -> Operations.ListAgentVersions.Output
    {
        let versions = try await useCases.agentVersions(try Self.id(input.path.agentId, "agent"))
        return .ok(.init(body: .json(.init(versions: versions.map { .init($0, showActivationCode: true) }))))
    }

    static func json(_ container: OpenAPIObjectContainer) -> [String: JSONValue] {
        container.value.mapValues { value in
            (try? OpenAPIValueContainer(unvalidatedValue: value)).map(JSONValue.init) ?? .null
        }
    }

    static func object(_ members: [String: JSONValue]) -> OpenAPIObjectContainer {
        (try? OpenAPIObjectContainer(unvalidatedValue: members.mapValues(\.anyValue))) ?? OpenAPIObjectContainer()
    }
}

extension Components.Schemas.Agent {
    init(_ agent: Agent, showActivationCode: Bool) {
        self.init(
            id: agent.id.lowercasedString,
            _type: agent.type,
            name: agent.name,
            description: agent.description,
            category: agent.category,
            defaultConfig: APIHandler.object(agent.defaultConfig),
            content: agent.content.container,
            activationCode: showActivationCode ? agent.activationCode : nil,
            rate: agent.rate,
            isActive: agent.isActive,
            version: agent.version,
            createdAt: agent.createdAt.date,
            updatedAt: agent.updatedAt.date,
            deletedAt: agent.deletedAt?.date
        )
    }
}
