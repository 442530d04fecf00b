import AgentplaneCore
import AgentplaneServer
import AgentplaneStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore

/// The platform-admin key every live test server is bootstrapped with.
public let testAdminKey = "ap_testadmn_" + String(repeating: "K3y", count: 14)

/// Runs `body` against a real server on a loopback port, backed by an isolated database. The server
/// runs no worker unless `engine` asks for one (queued work then stays queued, for tests of the API's
/// own answers).
public func withLiveServer<T: Sendable>(
    _ backend: TestBackend,
    maximumBodyBytes: Int = ServerConfiguration.defaultMaximumBodyBytes,
    requestsPerMinutePerCredential: Int = ServerConfiguration.defaultRequestsPerMinutePerCredential,
    oidc: OIDCConfiguration? = nil,
    clock: any WallClock = SystemWallClock(),
    engine: EngineSettings = .noWorker,
    streamHeartbeat: Duration = .seconds(15),
    configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
    prepare: (any Store) async throws -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol, IsolatedDatabase) async throws -> T
) async throws -> T {
    try await withIsolatedDatabase(backend) { database in
        try await withLiveServer(
            on: database, maximumBodyBytes: maximumBodyBytes,
            requestsPerMinutePerCredential: requestsPerMinutePerCredential, oidc: oidc, clock: clock, engine: engine,
            streamHeartbeat: streamHeartbeat, configure: configure, prepare: prepare, body)
    }
}

/// As `withLiveServer(_:…)`, on a database the caller holds: a second call on the same database is the same
/// deployment restarted.
public func withLiveServer<T: Sendable>(
    on database: IsolatedDatabase,
    maximumBodyBytes: Int = ServerConfiguration.defaultMaximumBodyBytes,
    requestsPerMinutePerCredential: Int = ServerConfiguration.defaultRequestsPerMinutePerCredential,
    oidc: OIDCConfiguration? = nil,
    clock: any WallClock = SystemWallClock(),
    engine: EngineSettings = .noWorker,
    streamHeartbeat: Duration = .seconds(15),
    configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
    prepare: (any Store) async throws -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol, IsolatedDatabase) async throws -> T
) async throws -> T {
    // Seed the database directly first (the store is closed again before the server opens it).
    try await withRunningStore(try database.openStore()) { store in
        _ = try await store.migrate()
        try await prepare(store)
    }
    var configuration = try database.serverConfiguration(
        maximumBodyBytes: maximumBodyBytes,
        bootstrapKey: testAdminKey,
        requestsPerMinutePerCredential: requestsPerMinutePerCredential,
        oidc: oidc
    )
    configuration.engine = engine
    configuration.streamHeartbeat = streamHeartbeat
    configure(&configuration)
    let app = try AgentplaneApplication.build(
        configuration: configuration,
        logger: testLogger(),
        clock: clock,
        announce: { _ in }
    )
    return try await app.test(.live) { client in try await body(client, database) }
}

extension TestClientProtocol {
    /// A request with the test admin key (or `key`) as bearer credential.
    public func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String? = testAdminKey,
        json: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestClientProtocol {
    /// GETs `uri` until `done` holds for its JSON body (the state a worker moves it to), and answers
    /// that body; fails after `timeout` (a lost step fails the test, it never hangs it).
    public func awaitJSON(
        _ uri: String, key: String? = testAdminKey, timeout: Duration = .seconds(20),
        until done: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            last = try await request(.get, uri, key: key).json()
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw AwaitTimeout(description: "\(uri) did not reach the awaited state within \(timeout); last: \(last)")
    }
}

extension TestClientProtocol {
    /// GETs `uri` (without a credential) until `done` holds for its text body, and answers that body; fails after
    /// `timeout` (`/metrics` gauges a test waits on).
    public func awaitText(_ uri: String, timeout: Duration = .seconds(10), until done: (String) -> Bool)
        async throws -> String
    {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await request(.get, uri, key: nil).text
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw AwaitTimeout(description: "\(uri) did not reach the awaited state within \(timeout)")
    }
}

/// A state a test awaited did not come in time.
public struct AwaitTimeout: Error, CustomStringConvertible {
    /// What was awaited, and the last state seen.
    public var description: String

    /// Creates the error.
    public init(description: String) { self.description = description }
}

extension TestResponse {
    /// The body parsed as JSON; throws when it is not JSON.
    public func json() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
    }

    /// The body as text.
    public var text: String { String(buffer: body) }
}
