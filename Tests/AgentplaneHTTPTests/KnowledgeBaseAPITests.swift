import AgentplaneCore
import AgentplaneServer
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct KnowledgeBaseAPITests {
    @Test(arguments: TestBackend.allCases)
    func entriesAreProcessedIndexedAndSearchable(backend: TestBackend) async throws {
        try await withLiveServer(backend, engine: EngineSettings()) { client, _ in
            let agent = try await InstancesAPITests.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            let instance = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json: #"{"agent_id":"\#(agent)","name":"Support bot"}"#
            )
            let id = try #require(try instance.json()["id"]?.stringValue)
            let base = "/api/v1/instances/\(id)/knowledge-base"
            /// The entry once its processing run has settled it.
            func settled(_ id: String) async throws -> JSONValue {
                try await client.awaitJSON("\(base)/entries/\(id)", key: acme.adminKey) {
                    $0["status"] == "ready" || $0["status"] == "failed"
                }
            }
            // Each entry answers `queued` at once; a run processes it.
            func add(_ content: String, extra: String = "") async throws -> JSONValue {
                let response = try await client.request(
                    .post,
                    "\(base)/entries",
                    key: acme.adminKey,
                    json: #"{"content":"\#(content)","lang_hint":"en"\#(extra)}"#
                )
                #expect(response.status == .created, "\(response.text)")
                #expect(try response.json()["status"] == "queued")
                return try await settled(try #require(try response.json()["id"]?.stringValue))
            }
            let refunds = try await add(
                "Refunds are issued within 14 days. Refunds need the order number.",
                extra: #","data_type":"document","metadata":{"source":"faq"}"#
            )
            #expect(refunds["status"] == "ready")
            #expect(refunds["metadata"]?["source"] == "faq")
            _ = try await add("Shipping takes 3 to 5 days; refunds for damaged goods are immediate.")
            _ = try await add("Our office is closed on Sundays.")
            let failed = try await add("!!! ??? ...")
            #expect(failed["status"] == "failed")
            #expect(failed["failure_reason"] == "the content has no words to index")

            let search = try await client.request(.get, "\(base)/search?q=refunds%20order", key: acme.adminKey)
            #expect(search.status == .ok)
            let results = try #require(try search.json()["results"]?.arrayValue)
            #expect(results.count == 1)
            #expect(results.first?["entry_id"] == refunds["id"])
            #expect(results.first?["snippet"]?.stringValue?.contains("[") == true)
            let broad = try await client.request(.get, "\(base)/search?q=refunds", key: acme.adminKey).json()
            #expect(broad["results"]?.arrayValue?.count == 2)
            // The first hit is the entry that says "refunds" twice.
            #expect(broad["results"]?.arrayValue?.first?["entry_id"] == refunds["id"])
            let operators = try await client.request(.get, "\(base)/search?q=%22OR%20NEAR(%29*", key: acme.adminKey)
            #expect(operators.status == .ok, "search text is never query syntax")

            // Retry: failed → queued → processed again (still no words: failed again); a ready entry cannot retry.
            let failedID = try #require(failed["id"]?.stringValue)
            let retried = try await client.request(.post, "\(base)/entries/\(failedID)/retry", key: acme.adminKey)
            #expect(try retried.json()["status"] == "queued")
            #expect(try await settled(failedID)["status"] == "failed")
            let refundsID = try #require(refunds["id"]?.stringValue)
            let illegal = try await client.request(.post, "\(base)/entries/\(refundsID)/retry", key: acme.adminKey)
            #expect(illegal.status == .conflict)
            #expect(try illegal.json()["details"] == .object(["from": "ready", "to": "queued"]))

            // New content is processed and indexed again.
            let fixed = try await client.request(
                .patch,
                "\(base)/entries/\(failedID)",
                key: acme.adminKey,
                json: #"{"content":"Gift cards never expire."}"#
            )
            #expect(try fixed.json()["status"] == "queued")
            #expect(try await settled(failedID)["status"] == "ready")
            let gift = try await client.request(.get, "\(base)/search?q=gift", key: acme.adminKey).json()
            #expect(gift["results"]?.arrayValue?.count == 1)

            let ready = try await client.request(.get, "\(base)/entries?status=ready", key: acme.adminKey).json()
            #expect(ready["entries"]?.arrayValue?.count == 4)
            let history = try await client.request(
                .get,
                "/api/v1/events?subject=instances/\(id)/knowledge-base/entries/\(refundsID)",
                key: acme.adminKey
            ).json()
            let statuses = history["events"]?.arrayValue?.filter { $0["type"] == "knowledge_base.entry.status_changed" }
                .compactMap { $0["data"]?["to"]?.stringValue }
            #expect(statuses == ["processing", "ready"])
            // The run that processed it names the entry and its outcome. The entry is committed `ready`
            // by the handler and the run completed by the worker's next batch, so the run is awaited.
            let isRefunds: @Sendable (JSONValue) -> Bool = { $0["arguments"]?["entry_id"] == .string(refundsID) }
            let runs = try await client.awaitJSON(
                "/api/v1/runs?kind=kb.process&instance_id=\(id)&status=succeeded&limit=100", key: acme.adminKey
            ) { $0["runs"]?.arrayValue?.contains(where: isRefunds) == true }
            let processed = runs["runs"]?.arrayValue?.first(where: isRefunds)
            #expect(processed?["result"]?["status"] == "ready")

            #expect(
                try await client.request(.delete, "\(base)/entries/\(refundsID)", key: acme.adminKey).status
                    == .noContent)
            let after = try await client.request(.get, "\(base)/search?q=order", key: acme.adminKey).json()
            #expect(after["results"] == .array([]))
            let invalid = try await client.request(
                .post, "\(base)/entries", key: acme.adminKey, json: #"{"content":"   "}"#)
            #expect(invalid.status == .unprocessableContent)
            // Deleting the instance removes its knowledge base with it.
            #expect(
                try await client.request(.delete, "/api/v1/instances/\(id)", key: acme.adminKey).status == .noContent)
            #expect(try await client.request(.get, "\(base)/entries", key: acme.adminKey).status == .notFound)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func theEntryQuotaIsEnforced(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let agent = try await InstancesAPITests.agent(client)
            let acme = try await TenantFixture.make(client, slug: "acme")
            _ = try await client.request(
                .patch, "/api/v1/tenants/\(acme.id)", json: #"{"quotas":{"max_kb_entries":2}}"#)
            let instance = try await client.request(
                .post,
                "/api/v1/instances",
                key: acme.adminKey,
                json: #"{"agent_id":"\#(agent)","name":"Bot"}"#
            )
            let id = try #require(try instance.json()["id"]?.stringValue)
            var statuses: [Int] = []
            for index in 0..<3 {
                let response = try await client.request(
                    .post,
                    "/api/v1/instances/\(id)/knowledge-base/entries",
                    key: acme.adminKey,
                    json: #"{"content":"entry number \#(index)"}"#
                )
                statuses.append(Int(response.status.code))
                if index == 2 {
                    #expect(try response.json()["code"] == "QUOTA_EXCEEDED")
                    #expect(try response.json()["details"]?["limit"] == .int(2))
                }
            }
            #expect(statuses == [201, 201, 403])
        }
    }
}
