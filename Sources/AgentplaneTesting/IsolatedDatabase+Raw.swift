import Foundation
import GRDB
import PostgresNIO

extension IsolatedDatabase {
    /// Every row of `table` as text, read around the application (tests that prove what is, or is not, at rest).
    public func rawText(table: String) async throws -> String {
        switch backend {
        case .sqlite:
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: sqlitePath, configuration: configuration)
            return try await queue.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { row in
                    row.databaseValues.map(\.description).joined(separator: "|")
                }.joined(separator: "\n")
            }
        case .postgres:
            return try await PostgresAdmin.withConnection(url: postgresURL!) { connection in
                try await connection.query("SELECT set_config('app.tenant_id', '*', false)", logger: testLogger())
                var lines: [String] = []
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT t::text FROM \(table) t"), logger: testLogger())
                for try await line in rows.decode(String.self) { lines.append(line) }
                return lines.joined(separator: "\n")
            }
        }
    }
}
