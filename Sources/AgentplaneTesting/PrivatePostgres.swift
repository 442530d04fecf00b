import Foundation
import Synchronization

/// A PostgreSQL server of a test's own (its cluster in a temporary directory, on a free loopback
/// port), so that a test can restart it under load without disturbing the shared test server.
/// Like `scripts/with-postgres`: the server runs as the unprivileged user `agentplane-pg` (initdb
/// refuses root), listens on 127.0.0.1 only, and is stopped by pid and deleted at the end.
public final class PrivatePostgres: Sendable {
    static let user = "agentplane-pg"
    /// The application's URL (role `agentplane`, database `agentplane_test`, as with-postgres has it).
    public let url: String
    let port: Int
    let directory: String
    let bindir: String
    private let server: Mutex<AgentplaneProcess?>

    /// Runs `body` with a fresh server, stopped and removed afterwards.
    public static func run<T: Sendable>(_ body: (PrivatePostgres) async throws -> T) async throws -> T {
        let postgres = try await PrivatePostgres()
        do {
            let result = try await body(postgres)
            await postgres.tearDown()
            return result
        } catch {
            await postgres.tearDown()
            throw error
        }
    }

    private init() async throws {
        guard getuid() == 0 else {
            throw TestEnvironmentError("a private PostgreSQL server needs root (its cluster runs as \(Self.user))")
        }
        bindir = try Self.serverBindir()
        guard let account = getpwnam(Self.user) else {
            throw TestEnvironmentError("the system user \(Self.user) is missing: scripts/with-postgres creates it")
        }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        directory = "/tmp/agentplane-pg-private-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        guard chown(directory, uid, gid) == 0 else { throw TestEnvironmentError("chown \(directory) failed") }
        try FileManager.default.createDirectory(atPath: "\(directory)/app", withIntermediateDirectories: false)
        port = try Self.freePort()
        url = "postgres://agentplane:agentplane@127.0.0.1:\(port)/agentplane_test"
        server = Mutex(nil)
        let initdb = try asUser(
            "\(bindir)/initdb",
            [
                "-D", "\(directory)/data", "-U", "postgres", "--auth-local=trust", "--auth-host=trust", "-E", "UTF8",
                "--locale=C", "--no-sync",
            ])
        guard await initdb.waitForExit(within: .seconds(60)) == 0 else {
            throw TestEnvironmentError("initdb failed: \(initdb.outputText.suffix(2000))")
        }
        try await start()
        try await PostgresAdmin.execute(
            url: "postgres://postgres@127.0.0.1:\(port)/postgres",
            "CREATE ROLE agentplane LOGIN PASSWORD 'agentplane' CREATEDB CREATEROLE",
            "CREATE DATABASE agentplane_test OWNER agentplane")
    }

    /// Starts the server; returns once it accepts connections (its own log line says so).
    public func start() async throws {
        let process = try asUser(
            "\(bindir)/postgres",
            [
                "-D", "\(directory)/data", "-c", "listen_addresses=127.0.0.1", "-p", "\(port)", "-k", directory,
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ])
        server.withLock { $0 = process }
        guard
            await process.firstLine(within: .seconds(60), where: { $0.contains("ready to accept connections") })
                != nil
        else {
            throw TestEnvironmentError("PostgreSQL did not start: \(process.outputText.suffix(2000))")
        }
    }

    /// Stops the server with a fast shutdown (SIGINT: every client disconnected at once, as a restart
    /// by an operator does) and waits for it to exit.
    public func stop() async {
        guard
            let process = server.withLock({ current in
                defer { current = nil }
                return current
            })
        else { return }
        process.signal(SIGINT)
        _ = await process.waitForExit(within: .seconds(30))
    }

    /// Stops the server, then starts it again on the same port after `downtime`.
    public func restart(downtime: Duration = .seconds(2)) async throws {
        await stop()
        try await Task.sleep(for: downtime)
        try await start()
    }

    /// The server's database as a test database (the application's data folder inside the cluster's).
    public var database: IsolatedDatabase {
        IsolatedDatabase(backend: .postgres, directory: "\(directory)/app", postgresURL: url, schema: nil)
    }

    /// What the server logged (for a failure's message).
    public var log: String { server.withLock { $0?.outputText ?? "" } }

    private func tearDown() async {
        await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `executable arguments…` as the cluster's user (setpriv execs in place, so the pid is the server's).
    private func asUser(_ executable: String, _ arguments: [String]) throws -> AgentplaneProcess {
        try AgentplaneProcess(
            executable: "/usr/bin/setpriv",
            ["--reuid=\(Self.user)", "--regid=\(Self.user)", "--init-groups", executable] + arguments,
            environment: ["HOME": directory, "LC_ALL": "C"], directory: directory)
    }

    /// The newest installed PostgreSQL with a server (initdb and postgres).
    static func serverBindir() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let sorted = versions.sorted { $0.compare($1, options: .numeric) == .orderedDescending }
        for version in sorted {
            let bin = "\(root)/\(version)/bin"
            if FileManager.default.isExecutableFile(atPath: "\(bin)/initdb"),
                FileManager.default.isExecutableFile(atPath: "\(bin)/postgres")
            {
                return bin
            }
        }
        throw TestEnvironmentError("no PostgreSQL server under \(root): scripts/with-postgres installs it")
    }

    /// A loopback port free when asked (the kernel picks it).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestEnvironmentError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else { throw TestEnvironmentError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
