import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func createInstance(_ input: Operations.CreateInstance.Input) async throws -> Operations.CreateInstance.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let instance = try await newInstance(body, tenantHeader: input.headers.xTenantID, operation: "createInstance")
        return .created(.init(headers: .init(eTag: "\"\(instance.version)\""), body: .json(.init(instance))))
    }

    func createPersonaInstance(_ input: Operations.CreatePersonaInstance.Input) async throws
        -> Operations.CreatePersonaInstance.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let instance = try await newInstance(
            body, tenantHeader: input.headers.xTenantID, operation: "createPersonaInstance")
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
        let tenant = try await actingTenant(input.headers.xTenantID)
        let limit = try Paging.limit(input.query.limit)
        let sort = input.query.sort.flatMap { InstanceSort(rawValue: $0.rawValue) } ?? .createdAt
        // The cursor is the last instance's id; sorted by name it is also its name (`<id>:<name>`).
        var after: UUID?
        var afterName: String?
        if let cursor = input.query.cursor {
            let parts = cursor.split(separator: ":", maxSplits: 1).map(String.init)
            guard let id = parts.first.flatMap(UUID.init(uuidString:)),
                sort == .name ? parts.count == 2 : parts.count == 1
            else { throw Paging.badCursor }
            after = id
            afterName = sort == .name ? String(parts[1]) : nil
        }
        var agent: UUID?
        if let text = input.query.agentId {
            guard let id = UUID(uuidString: text) else {
                throw AgentplaneError(
                    .badRequest, "agent_id must be a UUID.",
                    fieldErrors: [FieldError(pointer: "agent_id", message: "must be a UUID")])
            }
            agent = id
        }
        let instances = try await store.instances.list(
            tenant: tenant,
            query: InstanceQuery(
                sort: sort,
                after: after,
                afterName: afterName,
                limit: limit + 1,
                status: input.query.status.flatMap { InstanceStatus(rawValue: $0.rawValue) },
                agentID: agent,
                projectID: input.query.projectId,
                ownerUserID: input.query.ownerUserId
            )
        )
        let page = instances.prefix(limit)
        return .ok(
            .init(
                body: .json(
                    .init(
                        instances: page.map(Components.Schemas.Instance.init),
                        nextCursor: instances.count > limit
                            ? page.last.map {
                                sort == .name ? "\($0.id.lowercasedString):\($0.name)" : $0.id.lowercasedString
                            }
                            : nil
                    )
                )
            )
        )
    }

    func getInstance(_ input: Operations.GetInstance.Input) async throws -> Operations.GetInstance.Output {
        let instance = try await findInstance(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        return .ok(.init(headers: .init(eTag: "\"\(instance.version)\""), body: .json(.init(instance))))
    }

    func getInstanceConfig(_ input: Operations.GetInstanceConfig.Input) async throws
        -> Operations.GetInstanceConfig.Output
    {
        let instance = try await findInstance(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        var explain: Components.Schemas.InstanceConfig.ExplainPayload?
        if input.query.explain == true {
            let agent = try await store.agents.find(id: instance.agentID, includeDeleted: true)
            let origins = ConfigMerge.explain(defaults: agent?.defaultConfig ?? [:], overrides: instance.userConfig)
            explain = .init(additionalProperties: origins.mapValues { .init(rawValue: $0.rawValue)! })
        }
        return .ok(.init(body: .json(.init(config: Self.object(instance.config), explain: explain))))
    }

    func updateInstance(_ input: Operations.UpdateInstance.Input) async throws -> Operations.UpdateInstance.Output {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let current = try await findInstance(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        var next = current
        var errors: [FieldError] = []
        if let name = body.name {
            next.name = name
            errors += TenantValidation.nameErrors(name)
        }
        if let project = body.projectId {
            next.projectID = project
            if project.unicodeScalars.contains("\u{0}") {
                errors.append(FieldError(pointer: "/project_id", message: "must not contain the NUL character"))
            }
        }
        if let config = body.config {
            next.userConfig = ConfigMerge.merge(defaults: current.userConfig, overrides: Self.json(config))
            errors += EventValidation.dataErrors(.object(next.userConfig), pointer: "/config")
        }
        if let pipeline = body.pipelineConfig {
            next.pipelineConfig = JSONValue(pipeline)
            errors += EventValidation.dataErrors(next.pipelineConfig, pointer: "/pipeline_config")
        }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        let agent = try await store.agents.find(id: current.agentID, includeDeleted: true)
        next.config = ConfigMerge.merge(defaults: agent?.defaultConfig ?? [:], overrides: next.userConfig)
        let expected = try input.headers.ifMatch.map { try Self.version(fromETag: $0) } ?? current.version
        let saved = try await saveInstance(next, current: current, expected: expected, operation: "updateInstance")
        return .ok(.init(headers: .init(eTag: "\"\(saved.version)\""), body: .json(.init(saved))))
    }

    func stopInstance(_ input: Operations.StopInstance.Input) async throws -> Operations.StopInstance.Output {
        let saved = try await transition(input.path.instanceId, tenantHeader: input.headers.xTenantID, to: .stopped)
        return .ok(.init(body: .json(.init(saved))))
    }

    func startInstance(_ input: Operations.StartInstance.Input) async throws -> Operations.StartInstance.Output {
        let saved = try await transition(input.path.instanceId, tenantHeader: input.headers.xTenantID, to: .pending)
        return .ok(.init(body: .json(.init(saved))))
    }

    func deleteInstance(_ input: Operations.DeleteInstance.Input) async throws -> Operations.DeleteInstance.Output {
        let instance = try await findInstance(input.path.instanceId, tenantHeader: input.headers.xTenantID)
        let subject = Self.instanceSubject("deleteInstance", instance)
        try await store.instances.delete(
            tenant: instance.tenantID,
            id: instance.id,
            record: auditing.record(
                subject,
                status: 204,
                events: [Self.instanceEvent("instance.deleted", instance, context: auditing.eventContext())]
            )
        )
        return .noContent(.init())
    }

    /// A new instance's `project_id` is 1 to 255 characters without NUL (PostgreSQL cannot store one).
    static func projectErrors(_ project: String) -> [FieldError] {
        guard !project.isEmpty, project.unicodeScalars.count <= 255, !project.unicodeScalars.contains("\u{0}") else {
            return [FieldError(pointer: "/project_id", message: "must be 1 to 255 characters without NUL")]
        }
        return []
    }

    /// Creates an instance from either request shape: validation, agent availability, quota.
    private func newInstance(_ body: Components.Schemas.NewInstance, tenantHeader: String?, operation: String)
        async throws -> Instance
    {
        let principal = try RequestScope.requirePrincipal()
        let tenantID = try await actingTenant(tenantHeader)
        var errors: [FieldError] = []
        let agentText = body.agentId ?? body.templateId ?? body.botId
        let agentID = agentText.flatMap(UUID.init(uuidString:))
        if agentID == nil {
            errors.append(
                FieldError(pointer: "/agent_id", message: agentText == nil ? "is required" : "must be a UUID"))
        }
        let name = body.name ?? body.title ?? ""
        errors += TenantValidation.nameErrors(name)
        let overrides = body.config.map(Self.json) ?? [:]
        errors += EventValidation.dataErrors(.object(overrides), pointer: "/config")
        let pipeline = body.pipelineConfig.map(JSONValue.init) ?? .object([:])
        errors += EventValidation.dataErrors(pipeline, pointer: "/pipeline_config")
        if let project = body.projectId { errors += Self.projectErrors(project) }
        if !errors.isEmpty { throw AgentplaneError.validation(errors) }
        // One answer for unknown, inactive and deleted agents: tenants may not learn of hidden agents.
        guard let agent = try await store.agents.find(id: agentID!, includeDeleted: true), agent.isActive,
            agent.deletedAt == nil
        else {
            throw AgentplaneError(
                .agentUnavailable,
                "No such agent, or it cannot back new instances.",
                fieldErrors: [FieldError(pointer: "/agent_id", message: "is not available")]
            )
        }
        guard let tenant = try await store.tenants.find(id: tenantID) else {
            throw AgentplaneError(.notFound, "No such tenant.")
        }
        let now = Timestamp.now()
        let instance = Instance(
            id: UUIDv7.make(at: now),
            tenantID: tenantID,
            agentID: agent.id,
            ownerUserID: principal.subject,
            projectID: body.projectId,
            name: name,
            userConfig: overrides,
            config: ConfigMerge.merge(defaults: agent.defaultConfig, overrides: overrides),
            pipelineConfig: pipeline,
            status: .pending,
            version: 1,
            createdAt: now,
            updatedAt: now
        )
        let context = auditing.eventContext()
        try await store.instances.create(
            instance,
            maxInstances: tenant.quotas.maxInstances,
            record: auditing.record(
                Self.instanceSubject(operation, instance),
                status: 201,
                events: [
                    Self.instanceEvent("instance.created", instance, context: context),
                    NewEvent(
                        type: "knowledge_base.created",
                        subject: "instances/\(instance.id.lowercasedString)/knowledge-base",
                        data: .object([
                            "instance_id": .string(instance.id.lowercasedString),
                            "agent_id": .string(agent.id.lowercasedString),
                            "template_id": .string(agent.id.lowercasedString),
                            "user_id": .string(instance.ownerUserID),
                        ]),
                        context: context
                    ),
                ]
            )
        )
        return instance
    }

    private func transition(_ id: String, tenantHeader: String?, to status: InstanceStatus) async throws -> Instance {
        let current = try await findInstance(id, tenantHeader: tenantHeader)
        var next = current
        next.status = try current.status.transition(to: status)
        return try await saveInstance(
            next, current: current, expected: current.version,
            operation: "\(status == .stopped ? "stop" : "start")Instance")
    }

    /// Stores a change, with `instance.updated` and, for a status change, `instance.status_changed`.
    private func saveInstance(_ next: Instance, current: Instance, expected: Int64, operation: String) async throws
        -> Instance
    {
        var next = next
        next.updatedAt = .now()
        next.version = expected + 1  // events name the version the change creates
        let context = auditing.eventContext()
        let events = Self.changeEvents(
            updated: Self.instanceEvent("instance.updated", next, context: context),
            statusChanged: Self.instanceEvent("instance.status_changed", next, context: context),
            from: current.status.rawValue,
            to: next.status.rawValue
        )
        return try await Self.checkingVersion(of: "instance", expected: expected, current: current.version) {
            try await store.instances.update(
                next,
                expectedVersion: expected,
                from: current.status,
                record: auditing.record(Self.instanceSubject(operation, current), status: 200, events: events)
            )
        }
    }

    private func findInstance(_ id: String, tenantHeader: String?) async throws -> Instance {
        let tenant = try await actingTenant(tenantHeader)
        guard let uuid = UUID(uuidString: id), let instance = try await store.instances.find(tenant: tenant, id: uuid)
        else {
            throw AgentplaneError(.notFound, "No such instance.")
        }
        return instance
    }

    static func instanceSubject(_ operation: String, _ instance: Instance) -> Auditing.Subject {
        Auditing.Subject(
            operation: operation,
            tenant: instance.tenantID,
            resourceType: "instance",
            resourceID: instance.id.lowercasedString
        )
    }

    static func instanceEvent(_ type: String, _ instance: Instance, context: EventContext) -> NewEvent {
        NewEvent(
            type: type,
            subject: "instances/\(instance.id.lowercasedString)",
            data: .object([
                "instance_id": .string(instance.id.lowercasedString),
                "agent_id": .string(instance.agentID.lowercasedString),
                "template_id": .string(instance.agentID.lowercasedString),
                "user_id": .string(instance.ownerUserID),
                "name": .string(instance.name),
                "status": .string(instance.status.rawValue),
                "version": .int(instance.version),
            ]),
            context: context
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
            isActive: instance.isActive,
            version: instance.version,
            createdAt: instance.createdAt.date,
            updatedAt: instance.updatedAt.date
        )
    }
}
