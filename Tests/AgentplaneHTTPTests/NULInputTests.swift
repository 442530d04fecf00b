import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Schemathesis found it: PostgreSQL cannot store or compare text holding NUL (`\u0000`), so such
/// input answered 500 there. Every such field and filter is refused on both backends alike.
@Suite struct NULInputTests {
    static func pointers(_ response: TestResponse) throws -> [String] {
        try response.json()["errors"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? []
    }

    @Test(arguments: TestBackend.allCases)
    func textWithNULIsAClientErrorOnBothBackends(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let agent = try await client.request(
                .post, "/api/v1/agents", json: #"{"type":"nul-agent","name":"N","category":"c"}"#)
            let agentID = try #require(try agent.json()["id"]?.stringValue)
            for field in ["description", "category", "activation_code"] {
                let made = try await client.request(
                    .post, "/api/v1/agents",
                    json: #"{"type":"nul-\#(field.prefix(3))","name":"N","category":"c","\#(field)":"ab\u0000cd"}"#
                        .replacingOccurrences(of: #""category":"c","category""#, with: #""category""#))
                let problem = try ProblemTests.expectProblem(
                    made, status: .unprocessableContent, code: "VALIDATION_FAILED")
                #expect(problem["errors"]?.arrayValue?.first?["pointer"] == .string("/\(field)"))
                let changed = try await client.request(
                    .patch, "/api/v1/agents/\(agentID)", json: #"{"\#(field)":"ab\u0000cd"}"#)
                #expect(changed.status == .unprocessableContent, "\(field)")
            }
            let account = try await client.request(
                .post, "/api/v1/service-accounts", json: #"{"name":"nul","description":"a\u0000b"}"#)
            #expect(account.status == .unprocessableContent)
            #expect(try Self.pointers(account) == ["/description"])

            let acme = try await TenantFixture.make(client, slug: "acme")
            let instance = try await client.request(
                .post, "/api/v1/instances", key: acme.adminKey,
                json: #"{"agent_id":"\#(agentID)","name":"i","project_id":"a\u0000b"}"#)
            #expect(instance.status == .unprocessableContent)
            #expect(try Self.pointers(instance) == ["/project_id"])
            let made = try await client.request(
                .post, "/api/v1/instances", key: acme.adminKey, json: #"{"agent_id":"\#(agentID)","name":"i"}"#)
            let instanceID = try #require(try made.json()["id"]?.stringValue)
            let patched = try await client.request(
                .patch, "/api/v1/instances/\(instanceID)", key: acme.adminKey, json: #"{"project_id":"a\u0000b"}"#)
            #expect(patched.status == .unprocessableContent)

            // A sign-in with such an email is a wrong credential, like any unknown email.
            let token = try await client.request(
                .post, "/api/v1/auth/token", key: nil,
                json: #"{"grant_type":"password","email":"a\u0000b@example.com","password":"whatever it is"}"#)
            _ = try ProblemTests.expectProblem(token, status: .unauthorized, code: "UNAUTHENTICATED")

            // Filters: a 400 naming the parameter.
            for uri in [
                "/api/v1/instances?project_id=a%00b", "/api/v1/instances?owner_user_id=a%00b",
                "/api/v1/audit-log?operation=a%00b", "/api/v1/audit-log?principal_id=a%00b",
                "/api/v1/instances/\(instanceID)/knowledge-base/search?q=a%00b",
            ] {
                let response = try await client.request(.get, uri, key: acme.adminKey)
                _ = try ProblemTests.expectProblem(response, status: .badRequest, code: "BAD_REQUEST")
                #expect(try Self.pointers(response).count == 1, "\(uri)")
            }
            #expect(
                try await client.request(.get, "/api/v1/instances?project_id=a%01b", key: acme.adminKey).status == .ok)
        }
    }
}
