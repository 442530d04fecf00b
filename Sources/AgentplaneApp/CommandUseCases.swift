import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// Accepts a command: checks it as the matching route would check its request (bad data is a 422 naming
    /// `/data/...`, nothing stored), then stores it with `command.accepted`, the audit row and its processing
    /// run in one transaction. A request id the tenant already used answers the first command (`created`
    /// false) and stores nothing.
    public func submitCommand(_ submit: SubmitCommand, tenant named: TenantID?, by caller: Caller) async throws
        -> (command: Command, created: Bool)
    {
        let tenant = try await actingTenant(named, for: caller)
        // The submitter must be allowed to do the action itself: the worker acts as it.
        guard Scope.allows(caller.principal.scopes, "instances:write") else {
            throw AgentplaneError(
                .insufficientScope, "A command acts on instances: it needs the scope `instances:write` too.",
                details: ["required_scopes": .array(["instances:write"])])
        }
        let (action, input) = try CommandDecisions.check(submit, tenant: tenant)
        let now = clock.now()
        if case .create(let create) = input {
            // The route's own decision, run dry: the agent must be able to back the instance now.
            var agent: Agent?
            if let id = create.agentUUID { agent = try await store.agents.find(id: id, includeDeleted: true) }
            do {
                _ = try InstanceDecisions.create(
                    create, agent: agent, tenant: tenant, owner: caller.principal.subject, context: EventContext(),
                    now: now)
            } catch {
                throw AgentplaneError(
                    error.code, error.detail, fieldErrors: CommandDecisions.prefixed(error.fieldErrors),
                    details: error.details)
            }
        }
        let requestID = submit.requestID ?? ""
        let command = Command(
            id: UUIDv7.make(at: now), tenantID: tenant, action: action, data: submit.data, requestID: requestID,
            correlationID: submit.correlationID ?? requestID, clientID: submit.clientID ?? tenant.description,
            userID: submit.userID, runID: UUIDv7.make(at: now), principal: caller.principal, createdAt: now,
            updatedAt: now)
        var context = caller.eventContext
        context.correlationID = command.correlationID
        let record = caller.record(
            Self.resource(command), status: 202,
            events: [Events.command(.commandAccepted, command, context: context, at: now)],
            runs: [Command.processRun(command.id, tenant: tenant, run: command.runID, at: now)], at: now)
        return try await store.commands.submit(command, record: record)
    }

    /// One command of the acting tenant (else 404).
    public func command(_ id: UUID, tenant named: TenantID?, for caller: Caller) async throws -> Command {
        let tenant = try await actingTenant(named, for: caller)
        guard let command = try await store.commands.find(tenant: tenant, id: id) else {
            throw AgentplaneError(.notFound, "No such command.")
        }
        return command
    }

    /// The tenant's commands matching `query`, newest first (asked with one extra row).
    public func listCommands(_ query: CommandQuery, tenant named: TenantID?, for caller: Caller) async throws
        -> Page<Command>
    {
        let tenant = try await actingTenant(named, for: caller)
        var probe = query
        probe.limit += 1
        return Page(fetched: try await store.commands.list(tenant: tenant, query: probe), limit: query.limit)
    }

    /// `dead → accepted` with a fresh processing run; any other state is 409 `ILLEGAL_TRANSITION`.
    public func replayCommand(_ id: UUID, tenant named: TenantID?, by caller: Caller) async throws -> Command {
        let current = try await command(id, tenant: named, for: caller)
        guard current.status == .dead else {
            throw AgentplaneError(
                .illegalTransition, "Only a dead command can be replayed; this one is \(current.status.rawValue).",
                details: ["from": .string(current.status.rawValue), "to": .string(CommandStatus.accepted.rawValue)])
        }
        let now = clock.now()
        var next = current
        next.status = .accepted
        next.error = nil
        next.finishedAt = nil
        next.runID = UUIDv7.make(at: now)
        next.updatedAt = now
        var context = caller.eventContext
        context.correlationID = current.correlationID
        context.causationID = current.id.lowercasedString
        do {
            try await store.commands.replay(
                tenant: current.tenantID, id: current.id, run: next.runID, at: now,
                record: caller.record(
                    Self.resource(current), status: 200,
                    events: [Events.command(.commandReplayed, next, context: context, at: now)],
                    runs: [Command.processRun(current.id, tenant: current.tenantID, run: next.runID, at: now)], at: now)
            )
        } catch let error as StoreError where error.kind == .staleVersion {
            throw AgentplaneError(.illegalTransition, "The command is no longer dead.")
        }
        return next
    }

    static func resource(_ command: Command) -> AuditedResource {
        AuditedResource(tenant: command.tenantID, type: "command", id: command.id.lowercasedString)
    }
}
