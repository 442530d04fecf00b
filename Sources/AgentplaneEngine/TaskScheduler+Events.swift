import AgentplaneApp
import AgentplaneCore
import AgentplaneStore
import Foundation

extension TaskScheduler {
    /// The cursor of a tenant's event log, as the scheduler stores it.
    public static func eventCursor(_ tenant: TenantID) -> String { UseCases.eventCursorName(tenant) }

    /// Fires the event tasks of every tenant that has some: each event after the tenant's cursor, in log order,
    /// fires each active event task it matches (at most once per task and event, by the fire key). Answers
    /// whether a tenant had more events than one page.
    func fireEvents() async throws -> Bool {
        var more = false
        for tenant in try await store.tasks.eventTenants() {
            let name = Self.eventCursor(tenant)
            guard let text = try await store.tasks.cursor(name), let after = EventPosition(text) else {
                // Creating a tenant's first event task sets the cursor; this is the fallback (a task stored otherwise).
                try await store.tasks.setCursor(
                    name, to: try await store.events.latestPosition(tenant: tenant).description)
                continue
            }
            let events = try await store.events.list(
                tenant: tenant, query: EventQuery(after: after, limit: settings.batch))
            guard let last = events.last else { continue }
            let tasks = try await store.tasks.eventTasks(tenant: tenant).compactMap {
                task -> (AgentTask, EventTrigger)? in
                guard
                    case .event(let trigger)? = try? TaskTrigger.parse(
                        kind: task.scheduleKind, expression: task.scheduleExpr, timeZone: task.timezone,
                        start: task.scheduleStart)
                else { return nil }
                return (task, trigger)
            }
            let now = clock.now()
            var fires: [(task: AgentTask, fire: TaskFire)] = []
            for event in events {
                for (task, trigger) in tasks
                where Self.mayTrigger(event, task: task) && trigger.matches(type: event.type, data: event.data) {
                    fires.append(
                        (
                            task,
                            TaskDecisions.fire(
                                task, key: "event:\(event.id)", scheduledAt: event.time, now: now,
                                trigger: [
                                    "event": TaskDecisions.eventJSON(event),
                                    "depth": .int(Int64(Self.depth(of: event) + 1)),
                                ])
                        ))
                }
            }
            _ = try await store.tasks.fire(fires, now: now)
            try await store.tasks.setCursor(name, to: last.position.description)
            more = more || events.count == settings.batch
        }
        return more
    }

    /// A task never fires on what its own runs caused (its `task.*` and `run.*` events, and the events its
    /// pipelines publish): that would be a loop.
    static func mayTrigger(_ event: Event, task: AgentTask) -> Bool {
        let id = task.id.lowercasedString
        if event.data["task_id"]?.stringValue == id { return false }
        if let cause = event.context.causationID, cause.hasPrefix("task:\(id)") { return false }
        // Tasks that trigger each other (A publishes what B matches, B what A matches) stop after a few hops.
        return depth(of: event) < maximumDepth
    }

    /// How many event-triggered pipeline runs lie behind an event a pipeline published (0: not published by
    /// one); events.publish writes it into the causation id, `task:<id>:run:<id>:depth:<n>`.
    static func depth(of event: Event) -> Int {
        guard let cause = event.context.causationID, cause.hasPrefix("task:"),
            let range = cause.range(of: ":depth:"), let depth = Int(cause[range.upperBound...])
        else { return 0 }
        return depth
    }

    /// The longest chain of tasks triggering tasks through the events their pipelines publish.
    public static let maximumDepth = 8
}
