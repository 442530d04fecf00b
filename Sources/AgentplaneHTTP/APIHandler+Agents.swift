import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listAgents(_ input: Operations.ListAgents.Input) async throws -> Operations.ListAgents.Output {
        let admin = try RequestScope.requirePrincipal().role == .platformAdmin
        let limit = try Paging.limit(input.query.limit)
        let after = try input.query.cursor.map { cursor in
            guard let id = UUID(uuidString: cursor) else { throw Paging.badCursor }
            return id
        }
        let agents = try await store.agents.list(
            after: after,
            limit: limit + 1,
            includeInactive: admin && input.query.includeInactive == true
        )
        let page = agents.prefix(limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        agents: page.map { Components.Schemas.Agent($0, showActivationCode: admin) },
                        nextCursor: agents.count > limit ? page.last?.id.lowercasedString : nil
                    )
                )
            )
        )
    }

    func listTemplates(_ input: Operations.ListTemplates.Input) async throws -> Operations.ListTemplates.Output {
        var agents: [Agent] = []
        var after: UUID?
        // Seed 000's shape has no paging: every active agent, bounded by the catalog's size.
        repeat {
            let page = try await store.agents.list(after: after, limit: 500, includeInactive: false)
            agents += page
            after = page.count == 500 ? page.last?.id : nil
        } while after != nil && agents.count < 10_000
        let templates = agents.map { agent in
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
        let now = Timestamp.now()
        let agent = Agent(
            id: UUIDv7.make(at: now),
            type: body._type,
            name: body.name,
            description: body.description ?? "",
            category: body.category,
            defaultConfig: body.defaultConfig.map(Self.json) ?? [:],
            content: body.content.map(JSONValue.init) ?? .object([:]),
            activationCode: body.activationCode,
            rate: body.rate ?? 0,
            isActive: body.isActive ?? true,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        let errors = AgentValidation.errors(agent)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let subject = Self.agentSubject("createAgent", agent.id)
        try await Self.mapConflicts {
            try await store.agents.create(
                agent,
                record: auditing.record(
                    subject,
                    status: 201,
                    events: [Self.agentEvent("agent.created", agent, context: auditing.eventContext())]
                )
            )
        }
        return .created(
            .init(headers: .init(eTag: "\"\(agent.version)\""), body: .json(.init(agent, showActivationCode: true))))
    }

    func getAgent(_ input: Operations.GetAgent.Input) async throws -> Operations.GetAgent.Output {
        let agent = try await visibleAgent(input.path.agentId)
        let admin = try RequestScope.requirePrincipal().role == .platformAdmin
        return .ok(
            .init(headers: .init(eTag: "\"\(agent.version)\""), body: .json(.init(agent, showActivationCode: admin))))
    }

    func updateAgent(_ input: Operations.UpdateAgent.Input) async throws -> Operations.UpdateAgent.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let current = try await visibleAgent(input.path.agentId)
        var next = current
        if let value = body._type { next.type = value }
        if let value = body.name { next.name = value }
        if let value = body.description { next.description = value }
        if let value = body.category { next.category = value }
        if let value = body.defaultConfig { next.defaultConfig = Self.json(value) }
        if let value = body.content { next.content = JSONValue(value) }
        if let value = body.activationCode { next.activationCode = value }
        if let value = body.rate { next.rate = value }
        if let value = body.isActive { next.isActive = value }
        let saved = try await save(next, current: current, ifMatch: input.headers.ifMatch, operation: "updateAgent")
        return .ok(
            .init(headers: .init(eTag: "\"\(saved.version)\""), body: .json(.init(saved, showActivationCode: true))))
    }

    func replaceAgent(_ input: Operations.ReplaceAgent.Input) async throws -> Operations.ReplaceAgent.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let current = try await visibleAgent(input.path.agentId)
        var next = current
        next.type = body._type
        next.name = body.name
        next.description = body.description ?? ""
        next.category = body.category
        next.defaultConfig = body.defaultConfig.map(Self.json) ?? [:]
        next.content = body.content.map(JSONValue.init) ?? .object([:])
        next.activationCode = body.activationCode
        next.rate = body.rate ?? 0
        next.isActive = body.isActive ?? true
        let saved = try await save(next, current: current, ifMatch: input.headers.ifMatch, operation: "replaceAgent")
        return .ok(
            .init(headers: .init(eTag: "\"\(saved.version)\""), body: .json(.init(saved, showActivationCode: true))))
    }

    func deleteAgent(_ input: Operations.DeleteAgent.Input) async throws -> Operations.DeleteAgent.Output {
        let agent = try await visibleAgent(input.path.agentId)
        let subject = Self.agentSubject("deleteAgent", agent.id)
        try await store.agents.delete(
            id: agent.id,
            at: .now(),
            record: auditing.record(
                subject,
                status: 204,
                events: [Self.agentEvent("agent.deleted", agent, context: auditing.eventContext())]
            )
        )
        return .noContent(.init())
    }

    func listAgentVersions(_ input: Operations.ListAgentVersions.Input) async throws
        -> Operations.ListAgentVersions.Output
    {
        guard let id = UUID(uuidString: input.path.agentId),
            try await store.agents.find(id: id, includeDeleted: true) != nil
        else { throw AgentplaneError(.notFound, "No such agent.") }
        let versions = try await store.agents.versions(id: id)
        return .ok(.init(body: .json(.init(versions: versions.map { .init($0, showActivationCode: true) }))))
    }

    /// Validates and stores a new version, with `agent.updated` and, when the code changed,
    /// `agent.activation_code_changed`.
    private func save(_ next: Agent, current: Agent, ifMatch: String?, operation: String) async throws -> Agent {
        var next = next
        next.updatedAt = .now()
        let errors = AgentValidation.errors(next)
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let expected = try ifMatch.map { try Self.version(fromETag: $0) } ?? current.version
        next.version = expected + 1  // events name the version the change creates
        var events = [Self.agentEvent("agent.updated", next, context: auditing.eventContext())]
        if next.activationCode != current.activationCode {
            events.append(Self.agentEvent("agent.activation_code_changed", next, context: auditing.eventContext()))
        }
        let record = auditing.record(Self.agentSubject(operation, current.id), status: 200, events: events)
        return try await Self.mapConflicts {
            try await Self.checkingVersion(of: "agent", expected: expected, current: current.version) {
                try await store.agents.update(next, expectedVersion: expected, record: record)
            }
        }
    }

    /// The agent, when the caller may see it: tenant credentials see active, live agents only.
    private func visibleAgent(_ id: String) async throws -> Agent {
        let admin = try RequestScope.requirePrincipal().role == .platformAdmin
        guard let uuid = UUID(uuidString: id), let agent = try await store.agents.find(id: uuid, includeDeleted: false),
            admin || agent.isActive
        else { throw AgentplaneError(.notFound, "No such agent.") }
        return agent
    }

    private static func mapConflicts<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StoreError {
            switch error.kind {
            case .uniqueViolation(constraint: "agents_type"):
                throw AgentplaneError(
                    .conflict,
                    "An agent with this type already exists.",
                    fieldErrors: [FieldError(pointer: "/type", message: "is taken")]
                )
            case .uniqueViolation(constraint: "agents_activation_code"):
                throw AgentplaneError(
                    .conflict,
                    "Another agent uses this activation code.",
                    fieldErrors: [FieldError(pointer: "/activation_code", message: "is taken")]
                )
            default:
                throw error
            }
        }
    }

    static func agentSubject(_ operation: String, _ id: UUID) -> Auditing.Subject {
        Auditing.Subject(
            operation: operation, tenant: .platform, resourceType: "agent", resourceID: id.lowercasedString)
    }

    static func agentEvent(_ type: String, _ agent: Agent, context: EventContext) -> NewEvent {
        NewEvent(
            type: type,
            subject: "agents/\(agent.id.lowercasedString)",
            data: .object([
                "agent_id": .string(agent.id.lowercasedString),
                "template_id": .string(agent.id.lowercasedString),
                "type": .string(agent.type),
                "version": .int(agent.version),
                "is_active": .bool(agent.isActive),
            ]),
            context: context
        )
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
