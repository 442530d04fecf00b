import Foundation

extension TaskDecisions {
    /// Applies the fields given to `task`, answering every field error; with `scheduleChanged`, the next fire
    /// time is computed again from now.
    static func apply(_ fields: TaskFields, to task: inout AgentTask, context: TaskContext, scheduleChanged: Bool)
        -> [FieldError]
    {
        var errors: [FieldError] = []
        func text(_ value: String?, _ pointer: String, range: ClosedRange<Int>, set: (String) -> Void) {
            guard let value else { return }
            if !range.contains(value.count) || value.contains("\u{0}") {
                errors.append(
                    FieldError(
                        pointer: pointer,
                        message: "must be \(range.lowerBound) to \(range.upperBound) characters without NUL"))
            } else {
                set(value)
            }
        }
        func number(_ value: Int?, _ pointer: String, range: ClosedRange<Int>, set: (Int) -> Void) {
            guard let value else { return }
            if range.contains(value) {
                set(value)
            } else {
                errors.append(
                    FieldError(pointer: pointer, message: "must be between \(range.lowerBound) and \(range.upperBound)")
                )
            }
        }
        text(fields.title, "/title", range: 1...200) { task.title = $0 }
        text(fields.description, "/description", range: 0...10_000) { task.description = $0 }
        text(fields.createdBy, "/created_by", range: 1...200) { task.createdBy = $0 }
        text(fields.dedupeKey, "/dedupe_key", range: 1...200) { task.dedupeKey = $0 }
        text(fields.concurrencyKey, "/concurrency_key", range: 1...200) { task.concurrencyKey = $0 }
        number(fields.priority, "/priority", range: 1...9) { task.priority = $0 }
        number(fields.dedupeWindowSeconds, "/dedupe_window_seconds", range: 0...31_536_000) {
            task.dedupeWindowSeconds = $0
        }
        number(fields.maxRetries, "/max_retries", range: 0...maximumRetries) { task.maxRetries = $0 }
        if let strategy = fields.backoffStrategy {
            if let known = BackoffStrategy(rawValue: strategy) {
                task.backoffStrategy = known
            } else {
                let all = BackoffStrategy.allCases.map(\.rawValue).joined(separator: ", ")
                errors.append(FieldError(pointer: "/backoff_strategy", message: "must be one of \(all)"))
            }
        }
        if let policy = fields.misfirePolicy {
            if let known = MisfirePolicy(rawValue: policy) {
                task.misfirePolicy = known
            } else {
                let all = MisfirePolicy.allCases.map(\.rawValue).joined(separator: ", ")
                errors.append(FieldError(pointer: "/misfire_policy", message: "must be one of \(all)"))
            }
        }
        if let instance = fields.instanceID {
            if let id = UUID(uuidString: instance), context.instance?.id == id {
                task.instanceID = id
            } else {
                errors.append(FieldError(pointer: "/instance_id", message: "is not an instance of the tenant"))
            }
        }
        if let payload = fields.payload {
            task.payload = payload
            errors += EventValidation.dataErrors(.object(payload), pointer: "/payload")
        }
        errors += context.payloadErrors
        if let kind = fields.scheduleKind { task.scheduleKind = kind }
        if let expression = fields.scheduleExpr { task.scheduleExpr = expression }
        if let zone = fields.timezone { task.timezone = zone }
        if scheduleChanged, fields.scheduleKind != nil || !task.scheduleKind.isEmpty {
            do {
                task.nextRunAt = try firstFire(of: task, now: context.now)
                if task.scheduleKind == TaskScheduleKind.once.rawValue, task.nextRunAt == nil {
                    errors.append(
                        FieldError(
                            pointer: ScheduleError.expressionPointer,
                            message: "is more than \(TaskTiming.misfireGraceSeconds) seconds in the past"))
                }
            } catch {
                errors.append(error.fieldError)
            }
        }
        return errors
    }
}
