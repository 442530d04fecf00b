import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct InstancesAPITests {
    static func agent(_ client: any TestClientProtocol, active: Bool = true) async throws -> String {
        let response = try await client.request(
            .post,
            "/api/v1/agents",
            json: #"""
                {"type":"copywriter-\#(UUID().uuidString.prefix(8).lowercased())","name":"Copywriter","category":"data-driven",
                 "is_active":\#(active),"default_config":{"model":"claude-3-sonnet","temperature":0.7,"limits":{"tokens":1000}}}
                """#
        )
        return try #require(try response.json()["id"]?.stringValue)
    }

    @Test(arguments: TestBackend.allCases)
    func instancesMergeConfigFollowTheLifecycleAndEmitEvents(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let agent = try await Self.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            let created = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json:
                    #"{"template_id":"\#(agent)","title":"My Marketing Assistant","project_id":"p-1","config":{"custom_prompt":"B2B","temperature":0.2,"limits":{"rpm":5}}}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let instance = try created.json()
            let id = try #require(instance["id"]?.stringValue)
            #expect(instance["status"] == "pending")
            #expect(instance["name"] == "My Marketing Assistant")
            #expect(
                instance["config"]
                    == .object([
                        "model": "claude-3-sonnet", "temperature": .double(0.2), "custom_prompt": "B2B",
                        "limits": .object(["tokens": .int(1000), "rpm": .int(5)]),
                    ])
            )
            let explained = try await client.request(
                .get, "/api/v1/instances/\(id)/config?explain=true", key: acme.adminKey)
            #expect(try explained.json()["explain"]?["model"] == "agent")
            #expect(try explained.json()["explain"]?["limits.rpm"] == "override")

            // pending → stopped is not a user transition: 409 naming both states, nothing changes.
            let illegal = try await client.request(.post, "/api/v1/instances/\(id)/stop", key: acme.adminKey)
            #expect(illegal.status == .conflict)
            #expect(try illegal.json()["code"] == "ILLEGAL_TRANSITION")
            #expect(try illegal.json()["details"] == .object(["from": "pending", "to": "stopped"]))
            #expect(
                try await client.request(.get, "/api/v1/instances/\(id)", key: acme.adminKey).json()["version"]
                    == .int(1))

            let renamed = try await client.request(
                .patch,
                "/api/v1/instances/\(id)",
                key: acme.adminKey,
                json: #"{"name":"Renamed","config":{"custom_prompt":null}}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(renamed.status == .ok)
            #expect(try renamed.json()["config"]?["custom_prompt"] == nil)
            let stale = try await client.request(
                .patch,
                "/api/v1/instances/\(id)",
                key: acme.adminKey,
                json: #"{"name":"Lost"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(stale.status == .preconditionFailed)

            let listed = try await client.request(
                .get, "/api/v1/instances?status=pending&project_id=p-1", key: acme.adminKey)
            #expect(try listed.json()["instances"]?.arrayValue?.count == 1)
            let events = try await client.request(.get, "/api/v1/events?subject=instances/\(id)", key: acme.adminKey)
                .json()
            let types = events["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
            #expect(types == ["instance.created", "instance.updated"])
            let data = try #require(events["events"]?.arrayValue?.first?["data"])
            #expect(data["instance_id"] == .string(id))
            #expect(data["agent_id"] == .string(agent))
            #expect(data["template_id"] == .string(agent))
            #expect(data["user_id"]?.stringValue?.hasPrefix("api_key:") == true)
            let kb = try await client.request(.get, "/api/v1/events?type=knowledge_base.created", key: acme.adminKey)
                .json()
            #expect(kb["events"]?.arrayValue?.count == 1)

            #expect(
                try await client.request(.delete, "/api/v1/instances/\(id)", key: acme.adminKey).status == .noContent)
            #expect(
                try await client.request(.delete, "/api/v1/instances/\(id)", key: acme.adminKey).status == .notFound)
            let deleted = try await client.request(.get, "/api/v1/events?type=instance.deleted", key: acme.adminKey)
                .json()
            #expect(deleted["events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func seedZerosCreateInstanceExampleAnswersInItsShape(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let agent = try await Self.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            // The request body printed in seed 000, with a real template id.
            let response = try await client.request(
                .post,
                "/api/v1/personas/instances",
                key: acme.adminKey,
                json: #"""
                    {"template_id":"\#(agent)","name":"My Marketing Assistant","project_id":"project-uuid",
                     "config":{"custom_prompt":"Focus on B2B technology companies"}}
                    """#
            )
            #expect(response.status == .created)
            let body = try response.json()
            #expect(
                Set(body.objectValue?.keys ?? [:].keys)
                    == [
                        "id", "template_id", "name", "owner_user_id", "config", "is_active", "created_at", "updated_at",
                    ]
            )
            #expect(
                body["config"]
                    == .object([
                        "model": "claude-3-sonnet", "temperature": .double(0.7),
                        "custom_prompt": "Focus on B2B technology companies", "limits": .object(["tokens": .int(1000)]),
                    ])
            )
            #expect(body["is_active"] == .bool(true))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func inactiveAgentsAndQuotasRefuseNewInstances(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let inactive = try await Self.agent(client, active: false)
            let active = try await Self.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            let refused = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json: #"{"agent_id":"\#(inactive)","name":"x"}"#
            )
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.json()["code"] == "AGENT_UNAVAILABLE")
            let unknown = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json: #"{"agent_id":"\#(UUID().uuidString)","name":"x"}"#
            )
            // Unknown and inactive agents are indistinguishable to a tenant.
            #expect(try unknown.json()["detail"] == refused.json()["detail"])
            #expect(try unknown.json()["errors"] == refused.json()["errors"])
            _ = try await client.request(.patch, "/api/v1/tenants/\(acme.id)", json: #"{"quotas":{"max_instances":3}}"#)
            // Eight concurrent creates against a quota of three: exactly three succeed.
            let port = try #require(client.port)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/instances")!)
                        request.httpMethod = "POST"
                        request.httpBody = Data(#"{"agent_id":"\#(active)","name":"n\#(index)"}"#.utf8)
                        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                        request.setValue("Bearer \(acme.adminKey)", forHTTPHeaderField: "Authorization")
                        let (_, response) = try await URLSession.shared.data(for: request)
                        return (response as? HTTPURLResponse)?.statusCode ?? 0
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 403 }.count == 5, "\(statuses)")
            let quota = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json: #"{"agent_id":"\#(active)","name":"one more"}"#
            )
            #expect(try quota.json()["code"] == "QUOTA_EXCEEDED")
            #expect(try quota.json()["details"]?["limit"] == .int(3))
            let list = try await client.request(.get, "/api/v1/instances", key: acme.adminKey).json()
            #expect(list["instances"]?.arrayValue?.count == 3)
            // Sorted by name, two at a time: the cursor carries on in that order.
            let firstPage = try await client.request(.get, "/api/v1/instances?sort=name&limit=2", key: acme.adminKey)
                .json()
            let cursor = try #require(firstPage["next_cursor"]?.stringValue)
            let secondPage = try await client.request(
                .get,
                "/api/v1/instances?sort=name&limit=2&cursor=\(cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                key: acme.adminKey
            ).json()
            let names = ((firstPage["instances"]?.arrayValue ?? []) + (secondPage["instances"]?.arrayValue ?? []))
                .compactMap { $0["name"]?.stringValue }
            #expect(names.count == 3)
            #expect(names == names.sorted())
        }
    }
}
