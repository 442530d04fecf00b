import AgentplaneCore
import AgentplaneStore
import Foundation

extension Fixtures {
    /// A one-step pipeline payload (the built-in `log`).
    public static let logPipeline: [String: JSONValue] = [
        "pipeline": .array([["id": "say", "uses": "log", "with": ["message": "hello"]]])
    ]

    /// A new active task of `tenant` made by the create decision at `now` (not stored): a `*/1` cron in UTC
    /// unless `change` says otherwise.
    public static func task(
        _ tenant: TenantID, at now: Timestamp = .now(), caller: String = "test",
        _ change: (inout TaskFields) -> Void = { _ in }
    ) throws -> AgentTask {
        var fields = TaskFields(
            title: "Task", scheduleKind: "cron", scheduleExpr: "*/1 * * * *", timezone: "UTC", payload: logPipeline)
        change(&fields)
        let context = TaskContext(caller: caller, events: EventContext(), now: now, defaultTimezone: "UTC")
        return try TaskDecisions.create(fields, tenant: tenant, context: context).0
    }

    /// Creates a task of `tenant` in `store` (see `task(_:at:caller:_:)`).
    @discardableResult
    public static func createTask(
        in store: any Store, _ tenant: TenantID, at now: Timestamp = .now(), caller: String = "test",
        _ change: (inout TaskFields) -> Void = { _ in }
    ) async throws -> AgentTask {
        let task = try task(tenant, at: now, caller: caller, change)
        try await store.tasks.create(task, record: record(tenant))
        return task
    }

    /// The runs of `task`, every page.
    public static func runs(of task: AgentTask, in store: any Store) async throws -> [Run] {
        var all: [Run] = []
        var before: UUID?
        while true {
            let page = try await store.runs.list(
                tenant: task.tenantID, query: RunQuery(taskID: task.id, before: before, limit: 200))
            all += page
            guard page.count == 200, let last = page.last else { return all }
            before = last.id
        }
    }
}
