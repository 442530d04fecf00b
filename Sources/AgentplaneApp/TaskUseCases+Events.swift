import AgentplaneCore
import AgentplaneStore
import Foundation

extension UseCases {
    /// The name of a tenant's cursor in the event log, as the scheduler keeps it.
    public static func eventCursorName(_ tenant: TenantID) -> String { "events:\(tenant.description)" }

    /// Before a tenant's first event task is stored: starts the scheduler's cursor of the tenant's log at the
    /// log's end, so every event committed after the task sees it (the scheduler may look later).
    func startEventCursor(for task: AgentTask) async throws {
        guard task.scheduleKind == TaskScheduleKind.event.rawValue else { return }
        let name = Self.eventCursorName(task.tenantID)
        guard try await store.tasks.cursor(name) == nil else { return }
        try await store.tasks.setCursor(
            name, to: try await store.events.latestPosition(tenant: task.tenantID).description)
    }
}
