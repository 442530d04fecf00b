import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct AgentsAPITests {
    static let copywriter = #"""
        {"type":"copywriter","name":"Copywriter","description":"Creates compelling marketing copy",
         "category":"data-driven","default_config":{"model":"claude-3-sonnet","temperature":0.7},
         "content":{"prompt":"You write copy."},"activation_code":"COPY-2024","rate":3}
        """#

    @Test(arguments: TestBackend.allCases)
    func platformAdminsCurateTheCatalogWithVersions(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let created = try await client.request(.post, "/api/v1/agents", json: Self.copywriter)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.headers[.eTag] == "\"1\"")
            let agent = try created.json()
            let id = try #require(agent["id"]?.stringValue)
            #expect(agent["default_config"]?["temperature"] == .double(0.7))
            #expect(agent["activation_code"] == "COPY-2024")

            #expect(try await client.request(.post, "/api/v1/agents", json: Self.copywriter).status == .conflict)
            let invalid = try await client.request(
                .post,
                "/api/v1/agents",
                json: #"{"type":"Bad Type","name":"","category":""}"#
            )
            #expect(invalid.status == .unprocessableContent)
            #expect(try invalid.json()["errors"]?.arrayValue?.count == 3)

            let patched = try await client.request(
                .patch,
                "/api/v1/agents/\(id)",
                json: #"{"default_config":{"model":"claude-3-opus"},"activation_code":"COPY-2025"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(patched.status == .ok)
            #expect(try patched.json()["version"] == .int(2))
            let stale = try await client.request(
                .patch,
                "/api/v1/agents/\(id)",
                json: #"{"name":"Lost"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(stale.status == .preconditionFailed)
            let versions = try await client.request(.get, "/api/v1/agents/\(id)/versions").json()
            #expect(versions["versions"]?.arrayValue?.map { $0["version"] } == [.int(2), .int(1)])
            #expect(versions["versions"]?.arrayValue?.last?["default_config"]?["model"] == "claude-3-sonnet")
            let events = try await client.request(.get, "/api/v1/events?subject=agents/\(id)").json()
            #expect(
                events["events"]?.arrayValue?.map { $0["type"] }
                    == ["agent.created", "agent.updated", "agent.activation_code_changed"]
            )
            #expect(events["events"]?.arrayValue?.first?["data"]?["template_id"] == .string(id))

            let replaced = try await client.request(
                .put,
                "/api/v1/agents/\(id)",
                json: #"{"type":"copywriter","name":"Copywriter II","category":"data-driven"}"#
            )
            #expect(replaced.status == .ok)
            #expect(try replaced.json()["default_config"] == .object([:]))

            #expect(try await client.request(.delete, "/api/v1/agents/\(id)").status == .noContent)
            #expect(try await client.request(.get, "/api/v1/agents/\(id)").status == .notFound)
            #expect(try await client.request(.delete, "/api/v1/agents/\(id)").status == .notFound)
            // The type is free again; the old versions stay readable.
            #expect(try await client.request(.post, "/api/v1/agents", json: Self.copywriter).status == .created)
            let history = try await client.request(.get, "/api/v1/agents/\(id)/versions").json()
            #expect(history["versions"]?.arrayValue?.first?["deleted_at"] != nil)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tenantsReadActiveAgentsOnlyAndTemplatesKeepSeedZerosShape(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let active = try await client.request(.post, "/api/v1/agents", json: Self.copywriter).json()
            let hidden = try await client.request(
                .post,
                "/api/v1/agents",
                json: #"{"type":"draft","name":"Draft","category":"x","is_active":false,"activation_code":"SECRET-1"}"#
            ).json()
            let acme = try await TenantFixture.make(client, slug: "acme")
            let list = try await client.request(.get, "/api/v1/agents", key: acme.adminKey)
            #expect(list.status == .ok)
            #expect(try list.json()["agents"]?.arrayValue?.map { $0["type"] } == ["copywriter"])
            #expect(!list.text.contains("COPY-2024"), "activation codes are for platform admins")
            let hiddenID = try #require(hidden["id"]?.stringValue)
            #expect(
                try await client.request(.get, "/api/v1/agents/\(hiddenID)", key: acme.adminKey).status == .notFound)
            #expect(
                try await client.request(.post, "/api/v1/agents", key: acme.adminKey, json: Self.copywriter).status
                    == .forbidden)
            let all = try await client.request(.get, "/api/v1/agents?include_inactive=true").json()
            #expect(all["agents"]?.arrayValue?.count == 2)

            // Seed 000: GET /api/v1/templates answers with `templates` and `count`, each with these fields.
            let templates = try await client.request(.get, "/api/v1/templates", key: acme.adminKey).json()
            #expect(templates["count"] == .int(1))
            let template = try #require(templates["templates"]?.arrayValue?.first)
            #expect(
                Set(template.objectValue?.keys ?? [:].keys)
                    == ["id", "name", "description", "category", "config", "is_active", "created_at", "updated_at"]
            )
            #expect(template["id"] == active["id"])
            #expect(template["config"] == .object(["model": "claude-3-sonnet", "temperature": .double(0.7)]))
            #expect(template["is_active"] == .bool(true))
        }
    }
}
