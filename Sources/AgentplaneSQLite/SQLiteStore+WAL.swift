import AgentplaneStore
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// How the embedded store keeps its write-ahead log bounded.
///
/// SQLite's automatic checkpoint (every 1,000 pages) copies the WAL into the database but can only
/// start the log over when no reader still uses it; under continuous overlapping readers that
/// moment never comes and the file grows without end (1.35 GB beside a 100 MB database after 5
/// minutes of 40 readers and 10 writers). So the store looks at the WAL's size every `interval`
/// and, once it passes `truncateAboveBytes`, runs a TRUNCATE checkpoint: it waits (through the busy
/// timeout, 10 s at most) for the readers that started before it to finish — readers that start
/// meanwhile read the database file and do not hold it up — then empties the file. Writers wait
/// during that short pause.
public struct WALPolicy: Sendable {
    /// How often the size is looked at.
    public var interval: Duration
    /// The WAL size above which a truncating checkpoint runs (also the `journal_size_limit`).
    public var truncateAboveBytes: Int

    /// Every second, above 64 MiB.
    public init(interval: Duration = .seconds(1), truncateAboveBytes: Int = 64 << 20) {
        self.interval = interval
        self.truncateAboveBytes = truncateAboveBytes
    }
}

extension SQLiteStore {
    /// The current size of the WAL file in bytes (0 when there is none).
    public func walSize() -> Int {
        var info = stat()
        guard stat(path + "-wal", &info) == 0 else { return 0 }
        return Int(info.st_size)
    }

    /// Runs a truncating checkpoint when the WAL has passed the policy's size; returns whether it ran
    /// to completion (false when it was not needed, or readers kept it from finishing in time).
    @discardableResult
    public func checkpointIfNeeded() async throws -> Bool {
        guard walSize() > walPolicy.truncateAboveBytes else { return false }
        return try await checkpoint()
    }

    /// Runs a truncating checkpoint now; returns whether it completed (the WAL is then empty).
    @discardableResult
    public func checkpoint() async throws -> Bool {
        do {
            try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            return true
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return false
        }
    }
}
