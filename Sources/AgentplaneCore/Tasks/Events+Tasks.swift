import Foundation

extension Events {
    /// A `task.*` event: the task's state after the change.
    public static func task(_ type: EventType, _ task: AgentTask, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: type.rawValue,
            subject: "tasks/\(task.id.lowercasedString)",
            time: time,
            data: [
                "task_id": .string(task.id.lowercasedString),
                "title": .string(task.title),
                "schedule_kind": .string(task.scheduleKind),
                "status": .string(task.status.rawValue),
                "next_run_at": task.nextRunAt.map { .string($0.rfc3339) } ?? .null,
                "created_by": .string(task.createdBy),
                "version": .int(task.version),
            ],
            context: context
        )
    }

    /// `task.fired`: a fire of the task enqueued its run.
    public static func taskFired(_ task: AgentTask, _ fire: TaskFire, context: EventContext, at time: Timestamp)
        -> NewEvent
    {
        NewEvent(
            type: EventType.taskFired.rawValue,
            subject: "tasks/\(task.id.lowercasedString)",
            time: time,
            data: [
                "task_id": .string(task.id.lowercasedString),
                "run_id": .string(fire.run.id.lowercasedString),
                "fire_key": .string(fire.key),
                "scheduled_at": .string(fire.scheduledAt.rfc3339),
            ],
            context: context
        )
    }
}
