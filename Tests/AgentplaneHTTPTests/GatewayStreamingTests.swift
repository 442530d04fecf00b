import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The gateway's streams and limits against an agent service on loopback that streams, hangs, stalls, or
/// answers garbage: every failure is a problem or an ended stream, never a hung connection or a 500.
@Suite(.timeLimit(.minutes(4))) struct GatewayStreamingTests {
    /// Small limits, so the tests stay small: 64 KiB up, 4 MiB down.
    static let configure: @Sendable (inout ServerConfiguration) -> Void = {
        $0.gatewayMaximumRequestBytes = 64 << 10
        $0.gatewayMaximumResponseBytes = 4 << 20
    }

    /// An active `http` instance at `endpoint`; answers its gateway path.
    static func activeRoute(
        _ client: any TestClientProtocol, key: String, agent: String, endpoint: String, timeout: Int? = nil
    ) async throws -> String {
        let id = try await GatewayTests.runningInstance(
            client, key: key, agent: agent, endpoint: endpoint, timeout: timeout)
        let activated = try await client.request(.post, "/api/v1/instances/\(id)/activate", key: key)
        #expect(activated.status == .ok, "\(activated.text)")
        return "/gateway/instances/\(id)"
    }

    @Test(arguments: TestBackend.allCases)
    func streamsPassUnbufferedAndLimitsAndTimeoutsAnswerProblems(backend: TestBackend) async throws {
        try await UpstreamTestServer.run { upstream, port in
            try await withLiveServer(backend, engine: GatewayTests.engine, configure: Self.configure) { client, _ in
                let agent = try await InstancesAPITests.agent(client)
                let acme = try await TenantFixture.make(client, slug: "acme")
                let key = acme.adminKey
                let gateway = try await Self.activeRoute(
                    client, key: key, agent: agent, endpoint: "http://127.0.0.1:\(port)")

                // SSE: the first event reaches the caller while the upstream still holds the second back.
                let serverPort = try #require(client.port)
                let stream = try await EventStreamClient.open(
                    port: serverPort, path: "\(gateway)/sse", headers: [("Authorization", "Bearer \(key)")])
                #expect(stream.status == 200, "\(stream.problem ?? "")")
                #expect(stream.contentType == "text/event-stream")
                let first = try await stream.nextEvent()
                #expect(first.data == "one" && first.id == "1" && first.event == "step")
                #expect(upstream.secondEvent.remaining == 1)
                upstream.secondEvent.countDown()
                let second = try await stream.nextEvent()
                #expect(second.data == "two" && second.id == "2")
                #expect(try await stream.next() == nil)

                // A large body streams down whole; one past the response limit is cut.
                let large = try await client.request(.get, "\(gateway)/large?bytes=3000000", key: key)
                #expect(large.status == .ok)
                #expect(large.body.readableBytes == 3_000_000)
                // (Read on a connection of its own: the cut closes the connection.)
                let tooLong = try await StreamedResponse.get(
                    port: serverPort, path: "\(gateway)/large?bytes=6000000", key: key)
                #expect(tooLong.status == 200)
                #expect(!tooLong.completed && tooLong.bytes <= 4 << 20)

                // A request body past the limit: 413, before the upstream is asked.
                let big = String(repeating: "y", count: 100_000)
                let refused = try await client.request(
                    .post, "\(gateway)/upload", key: key, json: big, headers: [.contentType: "text/plain"])
                #expect(refused.status == .contentTooLarge)
                #expect(GatewayTests.problemCode(refused) == "PAYLOAD_TOO_LARGE")
                let small = try await client.request(
                    .post, "\(gateway)/upload", key: key, json: String(repeating: "y", count: 60_000),
                    headers: [.contentType: "text/plain"])
                #expect(try small.json()["body_bytes"] == .int(60_000))
                // Chunked, with no length declared: refused where it crosses the limit, 413; under it, streamed up
                // whole (still chunked).
                let chunked = try await ChunkedUpload.post(
                    port: serverPort, path: "\(gateway)/upload", key: key, chunks: 13, chunkSize: 8192)
                #expect(chunked.status == 413, "\(chunked.text)")
                #expect(JSONValue(parsing: chunked.text)?["code"] == "PAYLOAD_TOO_LARGE", "\(chunked.text)")
                let chunkedSmall = try await ChunkedUpload.post(
                    port: serverPort, path: "\(gateway)/upload", key: key, chunks: 7, chunkSize: 8192)
                #expect(chunkedSmall.status == 200, "\(chunkedSmall.text)")
                let echoed = JSONValue(parsing: chunkedSmall.text)
                #expect(echoed?["body_bytes"] == .int(57_344))
                #expect(echoed?["headers"]?["transfer-encoding"] == "chunked", "\(chunkedSmall.text.prefix(500))")

                // An upstream that never answers: 504 within the instance's timeout (1 s); one that stalls
                // mid-body has its stream ended.
                let slow = try await Self.activeRoute(
                    client, key: key, agent: agent, endpoint: "http://127.0.0.1:\(port)", timeout: 1)
                let started = ContinuousClock.now
                let hung = try await client.request(.get, "\(slow)/hang", key: key)
                #expect(hung.status == .gatewayTimeout)
                #expect(GatewayTests.problemCode(hung) == "UPSTREAM_TIMEOUT")
                #expect(ContinuousClock.now - started < .seconds(20))
                let stalled = try await StreamedResponse.get(port: serverPort, path: "\(slow)/stall", key: key)
                #expect(stalled.status == 200)
                #expect(!stalled.completed && stalled.prefix == "partial")
                #expect(ContinuousClock.now - started < .seconds(40))
                // The cuts left the server serving.
                #expect(try await client.request(.get, "\(gateway)/after", key: key).status == .ok)
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anUpstreamThatAnswersGarbageOrRefusesIsABadGateway(backend: TestBackend) async throws {
        try await GarbageServer.run { garbagePort in
            try await UpstreamTestServer.run { _, port in
                try await withLiveServer(backend, engine: GatewayTests.engine) { client, _ in
                    let agent = try await InstancesAPITests.agent(client)
                    let acme = try await TenantFixture.make(client, slug: "acme")
                    let gateway = try await Self.activeRoute(
                        client, key: acme.adminKey, agent: agent, endpoint: "http://127.0.0.1:\(port)")
                    let id = String(gateway.split(separator: "/").last!)
                    // Repointed while running (provisioning probed the working endpoint).
                    for (endpoint, fragment) in [
                        ("http://127.0.0.1:\(garbagePort)/", "not HTTP"), ("http://127.0.0.1:1/", "127.0.0.1:1"),
                    ] {
                        let patched = try await client.request(
                            .patch, "/api/v1/instances/\(id)", key: acme.adminKey,
                            json: #"{"config":{"endpoint":"\#(endpoint)"}}"#)
                        #expect(patched.status == .ok, "\(patched.text)")
                        let failed = try await client.request(
                            .post, "\(gateway)/x", key: acme.adminKey, json: #"{"a":1}"#,
                            headers: [HTTPField.Name("X-Secret-Header")!: "s3cr3t"])
                        #expect(failed.status == .badGateway, "\(endpoint): \(failed.text)")
                        #expect(GatewayTests.problemCode(failed) == "UPSTREAM_FAILED")
                        let detail = try failed.json()["detail"]?.stringValue ?? ""
                        #expect(detail.contains(fragment), "\(detail)")
                        #expect(!detail.contains("s3cr3t") && !detail.contains(acme.adminKey))
                    }
                    // A host nobody allowed (SSRF): refused without a request.
                    let patched = try await client.request(
                        .patch, "/api/v1/instances/\(id)", key: acme.adminKey,
                        json: #"{"config":{"endpoint":"http://10.20.30.40/"}}"#)
                    #expect(patched.status == .ok)
                    let refused = try await client.request(.get, "\(gateway)/x", key: acme.adminKey)
                    #expect(refused.status == .badGateway)
                    #expect(try refused.json()["detail"]?.stringValue?.contains("not a public address") == true)
                }
            }
        }
    }
}
