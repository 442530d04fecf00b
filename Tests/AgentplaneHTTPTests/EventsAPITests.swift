import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct EventsAPITests {
    @Test(arguments: TestBackend.allCases)
    func publishedEventsAreReadBackInCloudEventsShape(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let response = try await client.request(
                .post,
                "/api/v1/events",
                json: #"""
                    {"type":"order.shipped","subject":"orders/42","time":"2026-01-31T12:00:00.123456Z",
                     "data":{"order":42,"total":19.99,"note":"größe ✓","big":9223372036854775807},
                     "correlationid":"corr-1"}
                    """#,
                headers: [.requestID: "req-publish-1"]
            )
            #expect(response.status == .created)
            let event = try response.json()
            #expect(event["specversion"] == "1.0")
            #expect(event["type"] == "order.shipped")
            #expect(event["subject"] == "orders/42")
            #expect(event["time"] == "2026-01-31T12:00:00.123456Z")
            #expect(event["source"] == "/tenants/00000000-0000-0000-0000-000000000000")
            #expect(event["datacontenttype"] == "application/json")
            let position = try #require(event["sequence"]?.stringValue)
            #expect(position.count == 32)
            #expect(event["requestid"] == "req-publish-1")
            #expect(event["correlationid"] == "corr-1")
            #expect(event["userid"] == "api_key:testadmn")
            #expect(
                event["data"]
                    == .object([
                        "order": .int(42), "total": .double(19.99), "note": "größe ✓", "big": .int(Int64.max),
                    ])
            )
            // The log starts with the bootstrap key's api_key.created.
            let all = try await client.request(.get, "/api/v1/events").json()
            let bootstrap = try #require(all["events"]?.arrayValue?.first?["sequence"]?.stringValue)
            #expect(all["events"]?.arrayValue?.map { $0["sequence"] } == [.string(bootstrap), .string(position)])
            #expect(bootstrap < position)
            let page = try await client.request(.get, "/api/v1/events?after=\(bootstrap)").json()
            #expect(page["events"] == .array([event]))
            #expect(page["last_sequence"] == .string(position))
            #expect(page["has_more"] == .bool(false))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func pagesFollowAfterAndLimit(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            for index in 1...5 {
                let subject = index % 2 == 0 ? "even" : "odd"
                let response = try await client.request(
                    .post,
                    "/api/v1/events",
                    json: #"{"type":"count.tick","subject":"\#(subject)","data":{"n":\#(index)}}"#
                )
                #expect(response.status == .created)
            }
            let log = try await client.request(.get, "/api/v1/events").json()
            let p = try #require(log["events"]?.arrayValue?.map { $0["sequence"] ?? .null })
            try #require(p.count == 6)  // the bootstrap key's api_key.created, then the five
            #expect(log["last_sequence"] == p[5])
            let first = try await client.request(.get, "/api/v1/events?after=\(p[0].stringValue!)&limit=2").json()
            #expect(first["events"]?.arrayValue?.map { $0["sequence"] } == [p[1], p[2]])
            #expect(first["has_more"] == .bool(true))
            #expect(first["last_sequence"] == p[2])
            let rest = try await client.request(.get, "/api/v1/events?after=\(p[2].stringValue!)&limit=10").json()
            #expect(rest["events"]?.arrayValue?.map { $0["sequence"] } == [p[3], p[4], p[5]])
            #expect(rest["has_more"] == .bool(false))
            let empty = try await client.request(.get, "/api/v1/events?after=\(p[5].stringValue!)").json()
            #expect(empty["events"] == .array([]))
            #expect(empty["last_sequence"] == p[5])
            let invalid = try await client.request(.get, "/api/v1/events?after=6")
            #expect(invalid.status == .badRequest)
            let even = try await client.request(.get, "/api/v1/events?subject=even&type=count.tick").json()
            #expect(even["events"]?.arrayValue?.map { $0["data"]?["n"] } == [.int(2), .int(4)])
            let keys = try await client.request(.get, "/api/v1/events?type=api_key.created").json()
            #expect(keys["events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tenantsHaveSeparateLogs(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let created = try await client.request(.post, "/api/v1/tenants", json: #"{"slug":"acme","name":"Acme"}"#)
            #expect(created.status == .created)
            let tenant = try #require(try created.json()["id"]?.stringValue)
            let unknown = try await client.request(
                .get,
                "/api/v1/events",
                headers: [.tenantID: UUID().uuidString.lowercased()]
            )
            #expect(unknown.status == .notFound)
            let published = try await client.request(
                .post,
                "/api/v1/events",
                json: #"{"type":"tenant_scoped.thing"}"#,
                headers: [.tenantID: tenant]
            )
            #expect(try published.json()["sequence"]?.stringValue?.count == 32)
            #expect(try published.json()["source"] == .string("/tenants/\(tenant)"))
            let own = try await client.request(.get, "/api/v1/events", headers: [.tenantID: tenant]).json()
            #expect(own["events"]?.arrayValue?.map { $0["type"] } == ["tenant.created", "tenant_scoped.thing"])
            let platform = try await client.request(.get, "/api/v1/events?type=tenant_scoped.thing").json()
            #expect(platform["events"] == .array([]))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func clientIDsMakeRetriesSafe(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let body = #"{"id":"evt-1","type":"order.paid"}"#
            #expect(try await client.request(.post, "/api/v1/events", json: body).status == .created)
            let retry = try await client.request(.post, "/api/v1/events", json: body)
            #expect(retry.status == .conflict)
            #expect(try retry.json()["code"] == "EVENT_ID_CONFLICT")
            let log = try await client.request(.get, "/api/v1/events?type=order.paid").json()
            #expect(log["events"]?.arrayValue?.count == 1)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func reservedTypesAreRefused(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            for type in ["instance.created", "agent.updated", "task.fired", "api_key.created"] {
                let response = try await client.request(.post, "/api/v1/events", json: #"{"type":"\#(type)"}"#)
                #expect(response.status == .unprocessableContent)
                #expect(try response.json()["code"] == "RESERVED_EVENT_TYPE")
            }
            let log = try await client.request(.get, "/api/v1/events").json()
            #expect(log["events"]?.arrayValue?.count == 1)
        }
    }

    /// Pages are written from the stored payload text, with the envelope escaped by hand: whatever a
    /// publisher sent reads back exactly as the publish answer shows it.
    @Test(arguments: TestBackend.allCases)
    func pagesWrittenFromStoredTextReadBackExactly(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let response = try await client.request(
                .post,
                "/api/v1/events",
                json: #"""
                    {"id":"quote\"back\\slash/é","type":"odd.chars","subject":"a/\"b\"","source":"/x\\y",
                     "data":{"text":"line\nbreak\ttab \u0001 \"q\" \\ / ✓","list":[1,-2.5e3,true,null,{}],"e":""}}
                    """#
            )
            #expect(response.status == .created)
            let published = try response.json()
            let page = try await client.request(.get, "/api/v1/events?type=odd.chars")
            #expect(page.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try page.json()["events"] == .array([published]))
        }
    }
}
