import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation
import OpenAPIRuntime

/// Implements the generated `APIProtocol`: translates the wire types to use-case commands and the
/// results back, nothing more.
struct APIHandler: APIProtocol {
    let useCases: UseCases
    let info: ServiceInfo
    let tokens: AccessTokens
    /// Verified API keys; cleared when this node changes what a verification depends on.
    let keyCache: VerifiedKeyCache
    /// The event hub and stream settings.
    let streams: StreamSettings

    var store: any Store { useCases.store }

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
        let query = try EventValidation.query(
            after: input.query.after,
            limit: input.query.limit ?? EventQuery.defaultLimit,
            type: input.query._type,
            subject: input.query.subject
        )
        if let wait = input.query.wait, !(0...60).contains(wait) {
            throw AgentplaneError.badQuery([FieldError(pointer: "wait", message: "must be 0 to 60 seconds")])
        }
        let tenant = try Self.tenant(input.headers.xTenantID)
        let caller = try caller("listEvents")
        var page = try await useCases.listEvents(query, tenant: tenant, for: caller)
        if page.items.isEmpty, let wait = input.query.wait, wait > 0 {
            try await awaitEvents(query, tenant: tenant, caller: caller, seconds: wait)
            page = try await useCases.listEvents(query, tenant: tenant, for: caller)
        }
        let lastSequence = (page.items.last?.position ?? query.after).description
        if let slot = RawBodySlot.current {
            // The page is written from the stored payload text; the typed body is only a placeholder.
            slot.fill(EventPageBody.render(page.items, lastSequence: lastSequence, hasMore: page.hasMore))
            return .ok(.init(body: .json(.init(events: [], lastSequence: lastSequence, hasMore: page.hasMore))))
        }
        return .ok(
            .init(
                body: .json(
                    .init(
                        events: page.items.map(Components.Schemas.Event.init),
                        lastSequence: lastSequence,
                        hasMore: page.hasMore
                    )
                )
            )
        )
    }

    func publishEvent(_ input: Operations.PublishEvent.Input) async throws -> Operations.PublishEvent.Output {
        let caller = try caller("publishEvent")
        guard case .json(let body) = input.body else {
            throw AgentplaneError(.unsupportedMediaType, "Send the event as `application/json`.")
        }
        let command = PublishEvent(
            id: body.id,
            type: body._type,
            subject: body.subject,
            source: body.source,
            time: body.time.map(Timestamp.init),
            data: body.data.map(JSONValue.init),
            correlationID: body.correlationid,
            causationID: body.causationid
        )
        let stored = try await useCases.publishEvent(
            command, tenant: try Self.tenant(input.headers.xTenantID), by: caller)
        return .created(.init(body: .json(.init(stored))))
    }

    // MARK: Translation helpers

    /// The use-case caller of the request being handled; 401 without a principal.
    func caller(_ operation: String) throws -> Caller {
        let scope = RequestScope.current
        let principal = try RequestScope.requirePrincipal()
        return Caller(
            principal: principal, operation: operation, requestID: scope.requestID,
            clientAddress: scope.clientAddress)
    }

    /// The tenant an `X-Tenant-ID` header names; 400 naming the header when it is not a UUID.
    static func tenant(_ header: String?) throws -> TenantID? {
        guard let header else { return nil }
        guard let tenant = TenantID(uuidString: header) else {
            throw AgentplaneError(
                .badRequest,
                "X-Tenant-ID must be a UUID.",
                fieldErrors: [FieldError(pointer: "X-Tenant-ID", message: "must be a UUID")]
            )
        }
        return tenant
    }

    /// A path id; one that is not a UUID names no resource (404, like an unknown one).
    static func id(_ text: String, _ resource: String) throws -> UUID {
        guard let id = UUID(canonical: text) else { throw AgentplaneError(.notFound, "No such \(resource).") }
        return id
    }
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
