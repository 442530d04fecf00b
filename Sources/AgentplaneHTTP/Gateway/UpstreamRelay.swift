import AsyncHTTPClient
import Hummingbird
import NIOCore
import Synchronization

/// Copies an upstream response body to the caller as it arrives (an SSE event reaches the caller when the
/// upstream sends it), one chunk in flight at a time. Ends the copy, by throwing, when the body passes `limit`
/// bytes or the upstream stays silent for `idle` while the copy waits on it (a slow caller does not count).
enum UpstreamRelay {
    /// The upstream sent nothing for the idle timeout.
    struct IdleTimeout: Error {}
    /// The body passed the response limit.
    struct TooLarge: Error {}

    /// Since when the reader has been waiting on the upstream (nil: it holds a chunk the caller has not taken).
    private final class Waiting: Sendable {
        let since = Mutex<ContinuousClock.Instant?>(nil)
    }

    static func copy(
        _ body: HTTPClientResponse.Body, limit: Int, idle: Duration, to writer: inout any ResponseBodyWriter
    ) async throws {
        let (chunks, chunkSink) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let (taken, takenSink) = AsyncStream<Void>.makeStream()
        let waiting = Waiting()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var acknowledgements = taken.makeAsyncIterator()
                do {
                    var iterator = body.makeAsyncIterator()
                    while true {
                        waiting.since.withLock { $0 = .now }
                        guard let chunk = try await iterator.next() else { break }
                        waiting.since.withLock { $0 = nil }
                        chunkSink.yield(chunk)
                        guard await acknowledgements.next() != nil else { return }
                    }
                    chunkSink.finish()
                } catch {
                    chunkSink.finish(throwing: error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    let since = waiting.since.withLock { $0 }
                    if let since, ContinuousClock.now - since >= idle {
                        chunkSink.finish(throwing: IdleTimeout())
                        return
                    }
                    try? await Task.sleep(until: (since ?? .now) + idle)
                }
            }
            defer {
                takenSink.finish()
                group.cancelAll()
            }
            var total = 0
            for try await chunk in chunks {
                total += chunk.readableBytes
                guard total <= limit else { throw TooLarge() }
                try await writer.write(chunk)
                takenSink.yield()
            }
        }
    }
}
