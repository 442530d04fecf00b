import AgentplaneAPI
import AgentplaneApp
import AgentplaneCore
import AgentplaneEngine
import AgentplaneStore
import Foundation
import OpenAPIRuntime
import ServiceLifecycle

extension APIHandler {
    func createInstanceRun(_ input: Operations.CreateInstanceRun.Input) async throws
        -> Operations.CreateInstanceRun.Output
    {
        guard case .json(let body) = input.body else { throw APIHandler.jsonRequired }
        let caller = try caller("createInstanceRun")
        let request = StartInstanceRun(
            input: body.input.map(JSONValue.init) ?? .object([:]),
            mode: body.mode.flatMap { InstanceRunMode(rawValue: $0.rawValue) } ?? .wait,
            maxAttempts: body.maxAttempts, timeoutSeconds: body.timeoutSeconds)
        let instanceID = try Self.id(input.path.instanceId, "instance")
        let run = try await useCases.startInstanceRun(
            instanceID, request, tenant: try Self.tenant(input.headers.xTenantID), by: caller)
        let tenant = run.request.tenantID
        let location = "/api/v1/instances/\(instanceID.lowercasedString)/runs/\(run.id.lowercasedString)"
        switch request.mode {
        case .background:
            return .accepted(.init(headers: .init(location: location), body: .json(.init(run))))
        case .stream:
            let body = try await runStream(run, tenant: tenant, after: nil)
            return .ok(.init(body: .textEventStream(body)))
        case .wait:
            let ended = try await hub().awaitEnd(of: run, timeout: InstanceRuns.waitLimit(of: run))
            guard ended.status.isFinal else {
                return .accepted(.init(headers: .init(location: location), body: .json(.init(ended))))
            }
            let (_, attempts, steps) = try await useCases.run(ended.id, tenant: tenant, for: caller)
            return .ok(.init(body: .json(Self.runDetail(ended, attempts: attempts, steps: steps))))
        }
    }

    func listInstanceRuns(_ input: Operations.ListInstanceRuns.Input) async throws
        -> Operations.ListInstanceRuns.Output
    {
        var before: UUID?
        if let cursor = input.query.cursor {
            guard let id = UUID(canonical: cursor) else { throw Paging.badCursor }
            before = id
        }
        let query = RunQuery(
            status: input.query.status.flatMap { RunStatus(rawValue: $0.rawValue) }, before: before,
            limit: try Paging.limit(input.query.limit))
        let page = try await useCases.instanceRuns(
            try Self.id(input.path.instanceId, "instance"), query: query,
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("listInstanceRuns"))
        return .ok(
            .init(
                body: .json(
                    .init(
                        runs: page.items.map(Components.Schemas.Run.init),
                        nextCursor: page.hasMore ? page.items.last?.id.lowercasedString : nil))))
    }

    func getInstanceRun(_ input: Operations.GetInstanceRun.Input) async throws -> Operations.GetInstanceRun.Output {
        let (run, attempts, steps) = try await useCases.instanceRun(
            try Self.id(input.path.instanceId, "instance"), run: try Self.id(input.path.runId, "run"),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("getInstanceRun"))
        return .ok(.init(body: .json(Self.runDetail(run, attempts: attempts, steps: steps))))
    }

    func cancelInstanceRun(_ input: Operations.CancelInstanceRun.Input) async throws
        -> Operations.CancelInstanceRun.Output
    {
        let run = try await useCases.cancelInstanceRun(
            try Self.id(input.path.instanceId, "instance"), run: try Self.id(input.path.runId, "run"),
            tenant: try Self.tenant(input.headers.xTenantID), by: try caller("cancelInstanceRun"))
        return .ok(.init(body: .json(.init(run))))
    }

    func streamInstanceRun(_ input: Operations.StreamInstanceRun.Input) async throws
        -> Operations.StreamInstanceRun.Output
    {
        let (run, _, _) = try await useCases.instanceRun(
            try Self.id(input.path.instanceId, "instance"), run: try Self.id(input.path.runId, "run"),
            tenant: try Self.tenant(input.headers.xTenantID), for: try caller("streamInstanceRun"))
        let resume = try input.headers.lastEventID.map { try Self.position($0, pointer: "Last-Event-ID") }
        let after = try resume ?? input.query.after.map { try Self.position($0, pointer: "after") }
        let body = try await runStream(run, tenant: run.request.tenantID, after: after)
        return .ok(.init(headers: .init(cacheControl: "no-cache"), body: .textEventStream(body)))
    }

    /// The SSE body of a run's events (see `RunStreamBody.open`).
    func runStream(_ run: Run, tenant: TenantID, after: EventPosition?) async throws -> HTTPBody {
        let stream = try await RunStreamBody.open(
            run, tenant: tenant, after: after, hub: try hub(), heartbeat: streams.heartbeat, useCases: useCases)
        return HTTPBody(stream, length: .unknown, iterationBehavior: .single)
    }

    static func runDetail(_ run: Run, attempts: [RunAttempt], steps: [AgentplaneCore.StepLog])
        -> Components.Schemas.RunDetail
    {
        .init(
            value1: .init(run),
            value2: .init(
                attempts: attempts.map(Components.Schemas.RunAttempt.init),
                steps: steps.map(Components.Schemas.StepLog.init)))
    }
}

/// The bytes of a run's SSE stream: each `run.*` and `run.output` event as a message (`id:` its position), keep-
/// alive comments in silences, and `event: end` after the event that ends the run for good — or, should that
/// event no longer be in the log (retention), at the first silence once the run has ended.
struct RunStreamBody: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let subscription: EventSubscription
    let heartbeat: Duration
    let hasEnded: @Sendable () async throws -> Bool

    func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    /// The stream of a run's events after `after` (default: the log position taken before the run was enqueued,
    /// so the stream starts with its `run.queued`).
    static func open(
        _ run: Run, tenant: TenantID, after: EventPosition?, hub: EventHub, heartbeat: Duration, useCases: UseCases
    ) async throws -> RunStreamBody {
        let start =
            after ?? run.request.arguments["stream_after"]?.stringValue.flatMap(EventPosition.init) ?? .start
        let filter = try EventFilter(types: [], subject: "runs/\(run.id.lowercasedString)")
        let subscription = try await hub.subscribe(tenant: tenant, filter: filter, after: start)
        return RunStreamBody(
            subscription: subscription, heartbeat: heartbeat,
            hasEnded: { try await useCases.store.runs.find(tenant: tenant, id: run.id)?.status.isFinal ?? true })
    }

    struct Iterator: AsyncIteratorProtocol {
        let body: RunStreamBody
        var opened = false
        var finished = false

        mutating func next() async throws -> ArraySlice<UInt8>? {
            if finished { return nil }
            if !opened {
                opened = true
                return EventStreamBody.opening
            }
            switch try await EventStreamBody.next(body.subscription, heartbeat: body.heartbeat) {
            case nil:
                if try await body.hasEnded() { return end("{\"reason\":\"ended\"}") }
                return EventStreamBody.keepAlive
            case .event(let delivered)?:
                var bytes = EventStreamBody.message(delivered, format: .cloudevents)
                if InstanceRuns.endsStream(delivered.event.type) {
                    let status = delivered.event.data["status"]?.stringValue ?? ""
                    bytes.append(contentsOf: end("{\"reason\":\"ended\",\"status\":\"\(status)\"}"))
                }
                return ArraySlice(bytes)
            case .end(let reason, let resumeAfter)?:
                let data = "{\"reason\":\"\(reason.rawValue)\",\"resume_after\":\"\(resumeAfter)\"}"
                return end(data, event: "disconnect", id: resumeAfter.description)
            }
        }

        private mutating func end(_ data: String, event: String = "end", id: String? = nil) -> ArraySlice<UInt8> {
            finished = true
            body.subscription.cancel()
            return ArraySlice(Array(((id.map { "id: \($0)\n" } ?? "") + "event: \(event)\ndata: \(data)\n\n").utf8))
        }
    }
}
