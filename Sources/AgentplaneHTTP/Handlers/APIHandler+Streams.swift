import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import Foundation
import OpenAPIRuntime
import ServiceLifecycle

/// Settings of the event streams.
package struct StreamSettings: Sendable {
    /// The hub pushing events to this node's subscribers (nil: streams and long polls are unavailable).
    package var hub: EventHub?
    /// Silence after which an SSE stream sends a keep-alive comment.
    package var heartbeat: Duration

    /// Creates settings.
    package init(hub: EventHub?, heartbeat: Duration = .seconds(15)) {
        self.hub = hub
        self.heartbeat = heartbeat
    }
}

extension APIHandler {
    func streamEvents(_ input: Operations.StreamEvents.Input) async throws -> Operations.StreamEvents.Output {
        let caller = try caller("streamEvents")
        let tenant = try await useCases.actingTenant(try Self.tenant(input.headers.xTenantID), for: caller)
        let patterns = (input.query._type ?? []).flatMap { $0.split(separator: ",").map(String.init) }
        let filter = try EventFilter(
            types: patterns, subject: input.query.subject, typesPointer: "type", subjectPointer: "subject")
        let resume = try input.headers.lastEventID.map { try Self.position($0, pointer: "Last-Event-ID") }
        let after = try resume ?? input.query.after.map { try Self.position($0, pointer: "after") }
        let format = input.query.format.flatMap { EventFormat(rawValue: $0.rawValue) } ?? .cloudevents
        let subscription = try await hub().subscribe(tenant: tenant, filter: filter, after: after)
        let body = HTTPBody(
            EventStreamBody(subscription: subscription, format: format, heartbeat: streams.heartbeat),
            length: .unknown, iterationBehavior: .single)
        return .ok(.init(headers: .init(cacheControl: "no-cache"), body: .textEventStream(body)))
    }

    func openWebSocket(_ input: Operations.OpenWebSocket.Input) async throws -> Operations.OpenWebSocket.Output {
        let caller = try caller("openWebSocket")
        _ = try await useCases.actingTenant(try Self.tenant(input.headers.xTenantID), for: caller)
        throw AgentplaneError(
            .badRequest,
            "This endpoint speaks WebSocket: send the upgrade request (`Connection: Upgrade`, `Upgrade: websocket`).")
    }

    func createStreamTicket(_ input: Operations.CreateStreamTicket.Input) async throws
        -> Operations.CreateStreamTicket.Output
    {
        let caller = try caller("createStreamTicket")
        let tenant = try await useCases.actingTenant(try Self.tenant(input.headers.xTenantID), for: caller)
        var principal = caller.principal
        principal.tenantID = tenant
        let (ticket, expires) = try await tokens.issueTicket(for: principal)
        return .created(.init(body: .json(.init(ticket: ticket, expiresAt: expires))))
    }

    /// Long poll of `GET /api/v1/events`: waits for a matching event after `query.after`, up to `seconds`.
    func awaitEvents(_ query: EventQuery, tenant named: TenantID?, caller: Caller, seconds: Int) async throws {
        let tenant = try await useCases.actingTenant(named, for: caller)
        let filter = try EventFilter(
            types: query.type.map { [$0] } ?? [], subject: query.subject, typesPointer: "type",
            subjectPointer: "subject")
        _ = try await hub().waitForEvent(
            tenant: tenant, filter: filter, after: query.after, timeout: .seconds(seconds))
    }

    func hub() throws -> EventHub {
        guard let hub = streams.hub else {
            throw AgentplaneError(.shuttingDown, "Event streams are not served by this node.")
        }
        return hub
    }

    static func position(_ text: String, pointer: String) throws -> EventPosition {
        guard let position = EventPosition(text) else {
            throw AgentplaneError.badQuery([
                FieldError(pointer: pointer, message: "must be an event position the API returned (32 hex digits)")
            ])
        }
        return position
    }
}

/// The bytes of an SSE response: a message per event, keep-alive comments in silences, and a last `disconnect`
/// message with the resume point when the subscription ends (slow reader, shutdown). The subscription is removed
/// from the hub when the response ends or the client leaves (the iterator is released).
struct EventStreamBody: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let subscription: EventSubscription
    let format: EventFormat
    let heartbeat: Duration

    func makeAsyncIterator() -> Iterator {
        Iterator(subscription: subscription, format: format, heartbeat: heartbeat)
    }

    struct Iterator: AsyncIteratorProtocol {
        let subscription: EventSubscription
        let format: EventFormat
        let heartbeat: Duration
        var opened = false
        var finished = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            if finished { return nil }
            if !opened {
                opened = true
                return EventStreamBody.opening
            }
            switch try await EventStreamBody.next(subscription, heartbeat: heartbeat) {
            case nil:
                return EventStreamBody.keepAlive
            case .event(let delivered)?:
                return ArraySlice(EventStreamBody.message(delivered, format: format))
            case .end(let reason, let resumeAfter)?:
                finished = true
                subscription.cancel()
                let data = "{\"reason\":\"\(reason.rawValue)\",\"resume_after\":\"\(resumeAfter)\"}"
                return ArraySlice(Array("id: \(resumeAfter)\nevent: disconnect\ndata: \(data)\n\n".utf8))
            }
        }
    }
}

extension EventStreamBody {
    /// Sent at once, so the client knows the subscription is in place.
    static let opening = ArraySlice(Array("retry: 3000\n: subscribed\n\n".utf8))
    /// A comment in a silence.
    static let keepAlive = ArraySlice(Array(": keep-alive\n\n".utf8))

    /// The subscription's next item within `heartbeat` (nil: silence); a graceful shutdown ends it.
    static func next(_ subscription: EventSubscription, heartbeat: Duration) async throws -> SubscriptionItem? {
        try await withGracefulShutdownHandler {
            try await subscription.next(timeout: heartbeat)
        } onGracefulShutdown: {
            subscription.end(.shutdown)
        }
    }

    /// One event as an SSE message: `id:` its position, `event:` its type, `data:` its JSON.
    static func message(_ delivered: DeliveredEvent, format: EventFormat) -> [UInt8] {
        var bytes = Array("id: \(delivered.position)\nevent: \(delivered.event.type)\ndata: ".utf8)
        bytes.append(contentsOf: delivered.json(format))
        bytes.append(contentsOf: "\n\n".utf8)
        return bytes
    }
}
