import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle

/// `GET /api/v1/ws`: upgrades authenticated requests holding `events:read` to the event WebSocket. Anything else
/// is not upgraded and goes on to the router, which answers the problem (401, 403, or 400 for a plain GET).
package struct EventSocketEndpoint: Sendable {
    let authenticator: BearerAuthenticator
    let useCases: UseCases
    let hub: EventHub
    let logger: Logger
    /// The path served.
    package static let path = "/api/v1/ws"
    /// Subscriptions one socket may hold.
    static let maximumSubscriptions = 20

    /// The WebSocket configuration: frames up to 64 KiB, a ping every 15 s.
    package static var configuration: WebSocketServerConfiguration {
        WebSocketServerConfiguration(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(15)))
    }

    /// Decides an upgrade request.
    package func shouldUpgrade(_ request: HTTPRequest) async -> ShouldUpgradeResult<
        WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
    > {
        let uri = URLComponents(string: request.path ?? "")
        guard let uri, uri.path == Self.path, let principal = await principal(of: request, uri: uri),
            principal.scopes.contains("events:read") || principal.scopes.contains("admin:*")
        else { return .dontUpgrade }
        let named = request.headerFields[HTTPField.Name("X-Tenant-ID")!].flatMap(TenantID.init(uuidString:))
        let caller = Caller(principal: principal, operation: "openWebSocket")
        guard let tenant = try? await useCases.actingTenant(named, for: caller) else { return .dontUpgrade }
        let hub = self.hub
        let logger = self.logger
        return .upgrade([:]) { inbound, outbound, _ in
            let session = EventSocketSession(tenant: tenant, hub: hub, outbound: outbound, logger: logger)
            await session.run(inbound.messages(maxSize: 1 << 16))
        }
    }

    private func principal(of request: HTTPRequest, uri: URLComponents) async -> Principal? {
        if let authorization = request.headerFields[.authorization] {
            return try? await authenticator.authenticate(
                authorization: authorization, tenantHeader: request.headerFields[HTTPField.Name("X-Tenant-ID")!])
        }
        guard let ticket = uri.queryItems?.first(where: { $0.name == "ticket" })?.value else { return nil }
        return try? await authenticator.authenticate(ticket: ticket)
    }
}

/// One socket: subscriptions by the client's ids, each forwarding its events as `event` messages; writes go out
/// one at a time. Ends when the client closes (every subscription is removed from the hub).
actor EventSocketSession {
    let tenant: TenantID
    let hub: EventHub
    let outbound: WebSocketOutboundWriter
    let logger: Logger
    private var subscriptions: [String: (subscription: EventSubscription, task: Task<Void, Never>)] = [:]

    init(tenant: TenantID, hub: EventHub, outbound: WebSocketOutboundWriter, logger: Logger) {
        self.tenant = tenant
        self.hub = hub
        self.outbound = outbound
        self.logger = logger
    }

    func run(_ messages: WebSocketInboundMessageStream) async {
        do {
            try await withGracefulShutdownHandler {
                for try await message in messages {
                    guard case .text(let text) = message else {
                        await send(Self.error(nil, AgentplaneError(.badRequest, "Send JSON text messages.")))
                        continue
                    }
                    await handle(text)
                }
            } onGracefulShutdown: {
                Task { await self.closeForShutdown() }
            }
        } catch {
            logger.debug("event socket closed", metadata: ["error": "\(error)"])
        }
        for (_, entry) in subscriptions {
            entry.task.cancel()
            entry.subscription.cancel()
        }
        subscriptions = [:]
    }

    /// Shutdown: every subscription ends with its resume point (`end`, reason `shutdown`), then the socket closes
    /// with 1001 (going away).
    private func closeForShutdown() async {
        let entries = Array(subscriptions.values)
        for entry in entries { entry.subscription.end(.shutdown) }
        for entry in entries { await entry.task.value }
        try? await outbound.close(.goingAway, reason: "shutting down")
    }

    private func handle(_ text: String) async {
        guard let message = JSONValue(parsing: text), case .object(let fields) = message else {
            return await send(Self.error(nil, AgentplaneError(.malformedJSON, "A message is one JSON object.")))
        }
        let id = fields["id"]?.stringValue
        switch fields["type"]?.stringValue {
        case "subscribe": await subscribe(fields, id: id)
        case "unsubscribe":
            guard let id, let entry = subscriptions.removeValue(forKey: id) else {
                return await send(
                    Self.error(id, AgentplaneError(.notFound, "No subscription with this id on this socket.")))
            }
            entry.task.cancel()
            entry.subscription.cancel()
            await send(["type": "unsubscribed", "id": .string(id)])
        case "ping": await send(["type": "pong"])
        default:
            await send(
                Self.error(
                    id,
                    AgentplaneError.validation([
                        FieldError(pointer: "/type", message: "must be `subscribe`, `unsubscribe` or `ping`")
                    ])))
        }
    }

    private func subscribe(_ fields: [String: JSONValue], id: String?) async {
        do {
            guard let id, (1...100).contains(id.utf8.count) else {
                throw AgentplaneError.validation([
                    FieldError(pointer: "/id", message: "is required: 1 to 100 characters")
                ])
            }
            guard subscriptions[id] == nil else {
                throw AgentplaneError(
                    .conflict, "This socket already has a subscription with this id.",
                    fieldErrors: [FieldError(pointer: "/id", message: "is taken")])
            }
            guard subscriptions.count < EventSocketEndpoint.maximumSubscriptions else {
                throw AgentplaneError(
                    .quotaExceeded, "A socket holds at most \(EventSocketEndpoint.maximumSubscriptions) subscriptions.")
            }
            let (filter, after, format) = try Self.parse(fields)
            let subscription = try await hub.subscribe(tenant: tenant, filter: filter, after: after)
            let start = after ?? subscription.start
            await send(["type": "subscribed", "id": .string(id), "after": .string(start.description)])
            let task = Task { await self.forward(subscription, id: id, format: format) }
            subscriptions[id] = (subscription, task)
        } catch {
            await send(Self.error(id, error))
        }
    }

    private func forward(_ subscription: EventSubscription, id: String, format: EventFormat) async {
        while !Task.isCancelled {
            guard let item = try? await subscription.next(timeout: .seconds(60)) else {
                if Task.isCancelled { return }
                continue
            }
            switch item {
            case .event(let delivered):
                var out = JSONWriter(capacity: 600)
                out.beginObject()
                out.rawField("event", String(decoding: delivered.json(format), as: UTF8.self))
                out.field("id", id)
                out.field("type", "event" as String)
                out.endObject()
                await write(String(decoding: out.bytes, as: UTF8.self))
            case .end(let reason, let resumeAfter):
                subscriptions[id] = nil
                subscription.cancel()
                return await send([
                    "type": "end", "id": .string(id), "reason": .string(reason.rawValue),
                    "resume_after": .string(resumeAfter.description),
                ])
            }
        }
    }

    static func parse(_ fields: [String: JSONValue]) throws -> (EventFilter, EventPosition?, EventFormat) {
        var errors: [FieldError] = []
        var types: [String] = []
        switch fields["event_types"] {
        case nil, .null?: break
        case .array(let items)?:
            for (index, item) in items.enumerated() {
                if let text = item.stringValue {
                    types.append(text)
                } else {
                    errors.append(FieldError(pointer: "/event_types/\(index)", message: "must be a string"))
                }
            }
        default: errors.append(FieldError(pointer: "/event_types", message: "must be an array of type patterns"))
        }
        var subject: String?
        switch fields["subject"] {
        case nil, .null?: break
        case .string(let text)?: subject = text
        default: errors.append(FieldError(pointer: "/subject", message: "must be a string"))
        }
        var after: EventPosition?
        switch fields["after"] {
        case nil, .null?: break
        case .string(let text)?:
            after = EventPosition(text)
            if after == nil { errors.append(FieldError(pointer: "/after", message: "must be an event position")) }
        default: errors.append(FieldError(pointer: "/after", message: "must be an event position"))
        }
        var format = EventFormat.cloudevents
        switch fields["format"] {
        case nil, .null?: break
        case .string(let text)? where EventFormat(rawValue: text) != nil: format = EventFormat(rawValue: text)!
        default: errors.append(FieldError(pointer: "/format", message: "must be `cloudevents` or `seed000`"))
        }
        errors += EventFilter.problems(types: types, subject: subject)
        guard errors.isEmpty else { throw AgentplaneError.validation(errors) }
        return (try EventFilter(types: types, subject: subject), after, format)
    }

    static func error(_ id: String?, _ error: any Error) -> JSONValue {
        let problem = error as? AgentplaneError ?? AgentplaneError(.internalError, "The subscription failed.")
        return [
            "type": "error", "id": id.map(JSONValue.string) ?? .null, "code": .string(problem.code.rawValue),
            "status": .int(Int64(problem.code.status)), "detail": .string(problem.detail),
            "errors": .array(
                problem.fieldErrors.map { ["pointer": .string($0.pointer), "message": .string($0.message)] }),
        ]
    }

    private func send(_ message: JSONValue) async {
        await write(JSONWriter.text(of: message))
    }

    private func write(_ text: String) async {
        do {
            try await outbound.write(.text(text))
        } catch {
            logger.debug("event socket write failed", metadata: ["error": "\(error)"])
        }
    }
}
