import Hummingbird
import Logging
import ServiceLifecycle

/// A Hummingbird server on a free 127.0.0.1 port in a service group of its own: how the tests' stand-ins for
/// outside servers (agent services, model endpoints, upstreams) start and stop.
public struct LoopbackServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts `router` on a free loopback port; answers once it listens.
    public static func start(
        _ router: Router<BasicRequestContext>, label: String, logLevel: Logger.Level = .warning
    ) async throws -> LoopbackServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: app)], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw TestEnvironmentError("the \(label) server did not start")
        }
        return LoopbackServer(port: port, group: group, task: task)
    }

    /// Shuts it down gracefully (in-flight requests finish).
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }

    /// Runs `body` with the port of `router`'s server, then stops it — also when `body` throws; `beforeStop`
    /// runs first either way (to release requests the server holds).
    public static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, label: String, logLevel: Logger.Level = .warning,
        beforeStop: @Sendable () -> Void = {}, _ body: (Int) async throws -> T
    ) async throws -> T {
        let server = try await start(router, label: label, logLevel: logLevel)
        do {
            let result = try await body(server.port)
            beforeStop()
            try await server.stop()
            return result
        } catch {
            beforeStop()
            _ = try? await server.stop()
            throw error
        }
    }
}
