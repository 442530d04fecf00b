import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// The catalog page the caller sees: tenants see active agents only.
    public func listAgents(after: UUID?, limit: Int, includeInactive: Bool, for caller: Caller) async throws
        -> Page<Agent>
    {
        let agents = try await store.agents.list(
            after: after,
            limit: limit + 1,
            includeInactive: AgentDecisions.listsInactive(requested: includeInactive, by: caller.principal)
        )
        return Page(fetched: agents, limit: limit)
    }

    /// Every active agent (seed 000's templates have no paging), bounded by the catalog's size.
    public func allActiveAgents() async throws -> [Agent] {
        var agents: [Agent] = []
        var after: UUID?
        repeat {
            let page = try await store.agents.list(after: after, limit: 500, includeInactive: false)
            agents += page
            after = page.count == 500 ? page.last?.id : nil
        } while after != nil && agents.count < 10_000
        return agents
    }

    /// Adds an agent to the catalog (platform admins).
    public func createAgent(_ draft: AgentDraft, by caller: Caller) async throws -> Agent {
        let now = clock.now()
        let (agent, events) = try AgentDecisions.create(draft, context: caller.eventContext, now: now)
        try await mappingAgentConflicts {
            try await store.agents.create(
                agent, record: caller.record(Self.resource(agent.id), status: 201, events: events, at: now))
        }
        return agent
    }

    /// The agent, when the caller may see it (else 404).
    public func agent(_ id: UUID, for caller: Caller) async throws -> Agent {
        guard let agent = try await store.agents.find(id: id, includeDeleted: false),
            AgentDecisions.isVisible(agent, to: caller.principal)
        else { throw AgentplaneError(.notFound, "No such agent.") }
        return agent
    }

    /// Stores the agent's next version.
    public func updateAgent(_ id: UUID, _ change: AgentChange, expectedVersion: Int64?, by caller: Caller)
        async throws -> Agent
    {
        let current = try await agent(id, for: caller)
        let now = clock.now()
        let decided = try AgentDecisions.update(
            change, current: current, expectedVersion: expectedVersion, context: caller.eventContext, now: now)
        let record = caller.record(Self.resource(id), status: 200, events: decided.events, at: now)
        return try await mappingAgentConflicts {
            try await checkingVersion(of: "agent", expected: decided.expectedVersion, current: current.version) {
                try await store.agents.update(decided.state, expectedVersion: decided.expectedVersion, record: record)
            }
        }
    }

    /// Soft-deletes the agent: instances made from it keep working; no new ones.
    public func deleteAgent(_ id: UUID, by caller: Caller) async throws {
        let current = try await agent(id, for: caller)
        let now = clock.now()
        let events = AgentDecisions.delete(current, context: caller.eventContext, now: now)
        try await store.agents.delete(
            id: id, at: now, record: caller.record(Self.resource(id), status: 204, events: events, at: now))
    }

    /// Every version of an agent, deleted ones included (platform admins).
    public func agentVersions(_ id: UUID) async throws -> [Agent] {
        guard try await store.agents.find(id: id, includeDeleted: true) != nil else {
            throw AgentplaneError(.notFound, "No such agent.")
        }
        return try await store.agents.versions(id: id)
    }

    private func mappingAgentConflicts<T>(_ write: () async throws -> T) async throws -> T {
        try await mappingConflicts(
            [
                .agentType: ("An agent with this type already exists.", "/type"),
                .agentActivationCode: ("Another agent uses this activation code.", "/activation_code"),
            ],
            write
        )
    }

    static func resource(_ agent: UUID) -> AuditedResource {
        AuditedResource(tenant: .platform, type: "agent", id: agent.lowercasedString)
    }
}
