import AgentplaneAPI
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

/// Implements the generated `APIProtocol`: thin translation between the wire types and the store.
struct APIHandler: APIProtocol {
    let store: any Store
    let info: ServiceInfo
    let tokens: AccessTokens
    let passwordHasher: PasswordHasher

    // MARK: Health

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getHealthLive(_ input: Operations.GetHealthLive.Input) async throws -> Operations.GetHealthLive.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getHealthz(_ input: Operations.GetHealthz.Input) async throws -> Operations.GetHealthz.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getHealthReady(_ input: Operations.GetHealthReady.Input) async throws -> Operations.GetHealthReady.Output {
        .ok(.init(body: .json(try await readiness())))
    }

    func getReadyz(_ input: Operations.GetReadyz.Input) async throws -> Operations.GetReadyz.Output {
        .ok(.init(body: .json(try await readiness())))
    }

    private func readiness() async throws -> Components.Schemas.ReadinessStatus {
        guard await databaseAnswers() else {
            throw AgentplaneError(.databaseUnavailable, "The database does not answer.")
        }
        return .init(status: "ready", database: "connected", backend: .init(rawValue: store.capabilities.backendName))
    }

    func getInternalHealth(_ input: Operations.GetInternalHealth.Input) async throws
        -> Operations.GetInternalHealth.Output
    {
        let connected = await databaseAnswers()
        let body = Components.Schemas.InternalHealth(
            status: connected ? .healthy : .unhealthy,
            service: info.service,
            version: info.version,
            database: connected ? .connected : .disconnected
        )
        return connected ? .ok(.init(body: .json(body))) : .serviceUnavailable(.init(body: .json(body)))
    }

    /// Whether the database answers a ping within two seconds.
    private func databaseAnswers() async -> Bool {
        let store = self.store
        return (try? await withDeadline(.seconds(2)) { try await store.ping() }) != nil
    }

    func getVersion(_ input: Operations.GetVersion.Input) async throws -> Operations.GetVersion.Output {
        .ok(
            .init(
                body: .json(
                    .init(
                        service: info.service,
                        version: info.version,
                        apiVersion: info.apiVersion,
                        backend: .init(rawValue: store.capabilities.backendName) ?? .sqlite,
                        schemaVersion: info.schemaVersion
                    )
                )
            )
        )
    }

    // MARK: Events

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let tenant = try await actingTenant(input.headers.xTenantID)
        let requested = input.query.limit ?? EventQuery.defaultLimit
        let query = try EventValidation.query(
            after: input.query.after,
            limit: requested,
            type: input.query._type,
            subject: input.query.subject
        )
        // One extra row tells whether more are waiting without a second query.
        var probe = query
        probe.limit += 1
        let events = try await store.events.list(tenant: tenant, query: probe)
        let page = events.prefix(requested)
        let lastSequence = (page.last?.position ?? query.after).description
        let hasMore = events.count > requested
        if let slot = RawBodySlot.current {
            // The page is written from the stored payload text; the typed body is only a placeholder.
            slot.fill(EventPageBody.render(page, lastSequence: lastSequence, hasMore: hasMore))
            return .ok(.init(body: .json(.init(events: [], lastSequence: lastSequence, hasMore: hasMore))))
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        events: page.map(Components.Schemas.Event.init),
                        lastSequence: lastSequence,
                        hasMore: hasMore
                    )
                )
            )
        )
    }

    func publishEvent(_ input: Operations.PublishEvent.Input) async throws -> Operations.PublishEvent.Output {
        let principal = try RequestScope.requirePrincipal()
        let tenant = try await actingTenant(input.headers.xTenantID)
        guard case .json(let body) = input.body else {
            throw AgentplaneError(.unsupportedMediaType, "Send the event as `application/json`.")
        }
        let scope = RequestScope.current
        let event = NewEvent(
            id: body.id ?? UUIDv7.make().lowercasedString,
            type: body._type,
            subject: body.subject,
            source: body.source,
            time: body.time.map(Timestamp.init) ?? .now(),
            data: body.data.map(JSONValue.init) ?? .object([:]),
            context: EventContext(
                correlationID: body.correlationid ?? scope.requestID,
                causationID: body.causationid,
                requestID: scope.requestID,
                userID: principal.subject
            )
        )
        let subject = Auditing.Subject(
            operation: "publishEvent",
            tenant: tenant,
            resourceType: "event",
            resourceID: event.id
        )
        try EventValidation.validatePublished(event)
        let stored = try await store.events.publish(
            auditing.record(subject, status: 201, events: [event], details: .object(["type": .string(event.type)]))
        )

        return .created(.init(body: .json(.init(stored[0]))))
    }

    /// The tenant the caller acts in (see `Principal.actingTenant`); a platform admin naming another
    /// tenant must name one that exists.
    func actingTenant(_ header: String?) async throws -> TenantID {
        let principal = try RequestScope.requirePrincipal()
        let tenant = try principal.actingTenant(header: header)
        if tenant != principal.tenantID, try await store.tenants.find(id: tenant) == nil {
            throw AgentplaneError(.notFound, "No such tenant.")
        }
        return tenant
    }

    var auditing: Auditing { Auditing(store: store) }
}

/// What the service says about itself in `/version` and `/internal/health`.
package struct ServiceInfo: Sendable {
    /// Service name.
    package var service: String
    /// Release version.
    package var version: String
    /// Contract version (`info.version` of openapi.yaml).
    package var apiVersion: String
    /// Database schema version after migrations.
    package var schemaVersion: Int

    /// Creates the info.
    package init(service: String, version: String, apiVersion: String, schemaVersion: Int) {
        self.service = service
        self.version = version
        self.apiVersion = apiVersion
        self.schemaVersion = schemaVersion
    }
}
