import AgentplaneCore
import AgentplaneStore

extension APIHandler {
    /// Runs a versioned write; a stale version becomes 412 `PRECONDITION_FAILED` naming the current ETag.
    static func checkingVersion<T>(
        of resource: String,
        expected: Int64,
        current: Int64,
        _ write: () async throws -> T
    ) async throws -> T {
        do {
            return try await write()
        } catch let error as StoreError where error.kind == .staleVersion {
            throw AgentplaneError(
                .preconditionFailed,
                "The \(resource) changed since version \(expected); read it again and retry.",
                details: ["current_etag": .string("\"\(current)\"")]
            )
        }
    }

    /// `updated`, plus `status_changed` with `from`/`to` when the status moved.
    static func changeEvents(
        updated: NewEvent,
        statusChanged: @autoclosure () -> NewEvent,
        from: String,
        to: String
    ) -> [NewEvent] {
        guard from != to else { return [updated] }
        var changed = statusChanged()
        if case .object(var data) = changed.data {
            data["from"] = .string(from)
            data["to"] = .string(to)
            changed.data = .object(data)
        }
        return [updated, changed]
    }
}
