import AgentplaneTesting
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct MetricsTests {
    @Test(arguments: TestBackend.allCases)
    func requestsAreCountedAndTimedByRouteAndStatus(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            _ = try await client.request(.get, "/health", key: nil)
            _ = try await client.request(.get, "/api/v1/events")
            _ = try await client.request(.get, "/api/v1/events", key: nil)
            let response = try await client.request(.get, "/metrics", key: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            let lines = text.split(separator: "\n")
            func has(_ fragments: String...) -> Bool {
                lines.contains { line in fragments.allSatisfy { line.contains($0) } }
            }
            #expect(has("agentplane_http_requests_total{", #"route="/health""#, #"status="200""#))
            #expect(has("agentplane_http_requests_total{", #"route="/api/v1/events""#, #"status="401""#))
            #expect(
                has("agentplane_http_request_duration_seconds_bucket{", #"route="/api/v1/events""#, #"status="200""#))
            #expect(text.contains("# TYPE agentplane_http_request_duration_seconds histogram"))
            let alias = try await client.request(.get, "/api/v1/metrics", key: nil)
            #expect(alias.status == .ok)
            #expect(alias.text.contains("agentplane_http_requests_total"))
        }
    }
}
