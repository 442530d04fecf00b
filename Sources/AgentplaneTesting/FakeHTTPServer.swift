import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A real HTTP server on a loopback port standing in for something outside the platform (a tenant's
/// agent service): it answers every request with the status `respond` picks (which may take its time)
/// and counts the requests.
public final class FakeHTTPServer: Sendable {
    private let count = Mutex(0)
    /// Counted down by the first request, as it arrives.
    public let firstRequest = Latch(count: 1)

    /// Requests received so far.
    public var requests: Int { count.withLock { $0 } }

    private init() {}

    /// Runs a server answering `respond(n)` to its n-th request (1-based) while `body` runs with its port.
    public static func run<T: Sendable>(
        respond: @escaping @Sendable (Int) async -> HTTPResponse.Status = { _ in .ok },
        _ body: @Sendable (FakeHTTPServer, Int) async throws -> T
    ) async throws -> T {
        let server = FakeHTTPServer()
        let router = Router()
        let answer: @Sendable (Request, BasicRequestContext) async throws -> Response = { _, _ in
            let n = server.count.withLock { count in
                count += 1
                return count
            }
            server.firstRequest.countDown()
            return Response(status: await respond(n), body: .init(byteBuffer: .init(string: "fake")))
        }
        router.get("/", use: answer)
        router.get("**", use: answer)
        return try await LoopbackServer.run(router, label: "fake-http") { port in try await body(server, port) }
    }
}
