import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct TenantsAPITests {
    @Test(arguments: TestBackend.allCases)
    func platformAdminsManageTenantsWithOptimisticConcurrency(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let created = try await client.request(
                .post,
                "/api/v1/tenants",
                json: #"{"slug":"acme","name":"Acme Corp","quotas":{"max_instances":5}}"#
            )
            #expect(created.status == .created)
            #expect(created.headers[.eTag] == "\"1\"")
            let tenant = try created.json()
            let id = try #require(tenant["id"]?.stringValue)
            #expect(tenant["status"] == "active")
            #expect(tenant["quotas"]?["max_instances"] == .int(5))
            #expect(tenant["quotas"]?["max_tasks"] == .int(1000))

            let duplicate = try await client.request(.post, "/api/v1/tenants", json: #"{"slug":"acme","name":"Again"}"#)
            #expect(duplicate.status == .conflict)
            let badSlug = try await client.request(.post, "/api/v1/tenants", json: #"{"slug":"Acme Corp!","name":""}"#)
            #expect(badSlug.status == .unprocessableContent)
            #expect(try badSlug.json()["errors"]?.arrayValue?.count == 2)

            let renamed = try await client.request(
                .patch,
                "/api/v1/tenants/\(id)",
                json: #"{"name":"Acme Inc"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(renamed.status == .ok)
            #expect(renamed.headers[.eTag] == "\"2\"")
            let stale = try await client.request(
                .patch,
                "/api/v1/tenants/\(id)",
                json: #"{"name":"Lost update"}"#,
                headers: [.ifMatch: "\"1\""]
            )
            #expect(stale.status == .preconditionFailed)
            #expect(try await client.request(.get, "/api/v1/tenants/\(id)").json()["name"] == "Acme Inc")

            let page = try await client.request(.get, "/api/v1/tenants?limit=1").json()
            #expect(page["tenants"]?.arrayValue?.count == 1)
            let next = try #require(page["next_cursor"]?.stringValue)
            let second = try await client.request(.get, "/api/v1/tenants?limit=10&cursor=\(next)").json()
            #expect(second["tenants"]?.arrayValue?.map { $0["slug"] } == ["acme"])

            #expect(try await client.request(.delete, "/api/v1/tenants/\(id)").status == .noContent)
            #expect(try await client.request(.get, "/api/v1/tenants/\(id)").status == .notFound)
            #expect(try await client.request(.delete, "/api/v1/tenants/\(id)").status == .notFound)
            let platform = "00000000-0000-0000-0000-000000000000"
            #expect(try await client.request(.delete, "/api/v1/tenants/\(platform)").status == .conflict)
            // The slug is free again once its tenant is gone.
            let reused = try await client.request(.post, "/api/v1/tenants", json: #"{"slug":"acme","name":"Acme 2"}"#)
            #expect(reused.status == .created)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func tenantCredentialsAreScopedRoleCappedAndSuspendable(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            // A tenant admin acts in its own tenant only and may not manage tenants.
            let events = try await client.request(.get, "/api/v1/events", key: acme.adminKey).json()
            #expect(events["events"]?.arrayValue?.first?["type"] == "tenant.created")
            #expect(try await client.request(.get, "/api/v1/tenants", key: acme.adminKey).status == .forbidden)
            #expect(try await client.request(.get, "/api/v1/tenants/\(acme.id)", key: acme.adminKey).status == .ok)

            // A viewer key reads but cannot publish; a member cannot be given admin scopes.
            let viewer = try await client.request(
                .post,
                "/api/v1/service-accounts",
                key: acme.adminKey,
                json: #"{"name":"dashboard","role":"viewer"}"#
            )
            let viewerID = try #require(try viewer.json()["id"]?.stringValue)
            #expect(
                try viewer.json()["scopes"]?.arrayValue?.allSatisfy { $0.stringValue?.hasSuffix(":read") == true }
                    == true)
            let viewerKey = try #require(
                try await client.request(
                    .post, "/api/v1/service-accounts/\(viewerID)/keys", key: acme.adminKey, json: "{}"
                )
                .json()["key"]?.stringValue
            )
            #expect(try await client.request(.get, "/api/v1/events", key: viewerKey).status == .ok)
            let publish = try await client.request(.post, "/api/v1/events", key: viewerKey, json: #"{"type":"a.b"}"#)
            #expect(publish.status == .forbidden)
            #expect(try publish.json()["code"] == "INSUFFICIENT_SCOPE")
            let escalate = try await client.request(
                .post,
                "/api/v1/service-accounts",
                key: acme.adminKey,
                json: #"{"name":"sneaky","role":"member","scopes":["admin:*"]}"#
            )
            #expect(escalate.status == .unprocessableContent)
            // A credential can hand on only scopes it holds: a publisher cannot mint an audit reader.
            let publisher = try await client.request(
                .post,
                "/api/v1/service-accounts",
                key: acme.adminKey,
                json: #"{"name":"minter","role":"member","scopes":["service_accounts:read","events:publish"]}"#
            )
            #expect(publisher.status == .created, "\(publisher.text)")
            let minterID = try #require(try publisher.json()["id"]?.stringValue)
            let narrow = try await client.request(
                .post,
                "/api/v1/service-accounts/\(minterID)/keys",
                key: acme.adminKey,
                json: #"{"scopes":["events:publish"]}"#
            )
            #expect(narrow.status == .created)
            let tooWide = try await client.request(
                .post,
                "/api/v1/service-accounts/\(minterID)/keys",
                key: acme.adminKey,
                json: #"{"scopes":["events:read"]}"#
            )
            #expect(tooWide.status == .unprocessableContent, "a key may not exceed its account's scopes")
            let unknownScope = try await client.request(
                .post,
                "/api/v1/service-accounts",
                key: acme.adminKey,
                json: #"{"name":"typo","scopes":["events:reed"]}"#
            )
            #expect(unknownScope.status == .badRequest || unknownScope.status == .unprocessableContent)

            // Suspension: every credential of the tenant gets 403, and works again after.
            let suspend = try await client.request(
                .patch, "/api/v1/tenants/\(acme.id)", json: #"{"status":"suspended"}"#)
            #expect(suspend.status == .ok)
            let refused = try await client.request(.get, "/api/v1/events", key: viewerKey)
            #expect(refused.status == .forbidden)
            #expect(try refused.json()["code"] == "TENANT_SUSPENDED")
            _ = try await client.request(.patch, "/api/v1/tenants/\(acme.id)", json: #"{"status":"active"}"#)
            #expect(try await client.request(.get, "/api/v1/events", key: viewerKey).status == .ok)

            // Revoked keys and deleted accounts stop working at once.
            let keys = try await client.request(.get, "/api/v1/service-accounts/\(viewerID)/keys", key: acme.adminKey)
            let keyID = try #require(try keys.json()["keys"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(!keys.text.contains(String(viewerKey.split(separator: "_")[2])))
            #expect(
                try await client.request(
                    .delete, "/api/v1/service-accounts/\(viewerID)/keys/\(keyID)", key: acme.adminKey
                )
                .status == .noContent
            )
            #expect(try await client.request(.get, "/api/v1/events", key: viewerKey).status == .unauthorized)
            #expect(
                try await client.request(.delete, "/api/v1/service-accounts/\(acme.adminAccountID)", key: acme.adminKey)
                    .status == .noContent
            )
            #expect(try await client.request(.get, "/api/v1/events", key: acme.adminKey).status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func mutationsAreAuditedWithTheirOutcome(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            _ = try await client.request(
                .post,
                "/api/v1/service-accounts",
                key: acme.adminKey,
                json: #"{"name":"bot"}"#,
                headers: [.requestID: "audit-1"]
            )
            _ = try await client.request(
                .post, "/api/v1/service-accounts", key: acme.adminKey, json: #"{"name":"bot"}"#)
            // Refusals are audited too: a validation failure and a missing scope.
            _ = try await client.request(.post, "/api/v1/service-accounts", key: acme.adminKey, json: #"{"name":""}"#)
            _ = try await client.request(
                .post, "/api/v1/tenants", key: acme.adminKey, json: #"{"slug":"x1","name":"x"}"#)
            let log = try await client.request(.get, "/api/v1/audit-log", key: acme.adminKey)
            #expect(log.status == .ok)
            let entries = try #require(try log.json()["entries"]?.arrayValue)
            let operations = entries.compactMap { $0["operation"]?.stringValue }
            #expect(operations.filter { $0 == "createServiceAccount" }.count == 4)
            let refusals = entries.filter { $0["outcome"] == "failure" }.compactMap { $0["status"] }
            #expect(Set(refusals) == [.int(409), .int(422), .int(403)])
            let failure = try #require(entries.first { $0["outcome"] == "failure" && $0["status"] == .int(409) })
            #expect(failure["status"] == .int(409))
            #expect(failure["details"]?["code"] == "CONFLICT")
            let audited = try #require(entries.first { $0["request_id"] == "audit-1" })
            #expect(audited["outcome"] == "success")
            #expect(audited["key_prefix"] == .string(String(acme.adminKey.split(separator: "_")[1])))
            #expect(audited["client_address"]?.stringValue == "127.0.0.1")
            // Another tenant sees none of it; the platform admin sees all tenants.
            let other = try await TenantFixture.make(client, slug: "other")
            let otherLog = try await client.request(.get, "/api/v1/audit-log", key: other.adminKey).json()
            #expect(otherLog["entries"]?.arrayValue?.allSatisfy { $0["tenant_id"] == .string(other.id) } == true)
            let all = try await client.request(.get, "/api/v1/audit-log?operation=createTenant&outcome=success").json()
            #expect(all["entries"]?.arrayValue?.count == 2)
            // Secrets never reach the audit log.
            let text = try await client.request(.get, "/api/v1/audit-log?limit=1000").text
            #expect(!text.contains(String(acme.adminKey.split(separator: "_")[2])))
        }
    }

    /// Seed 002's `x-org-id` works for API keys exactly as `X-Tenant-ID` does (it once did for users only).
    @Test(arguments: TestBackend.allCases)
    func xOrgIDNamesTheTenantForKeysAsXTenantIDDoes(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let acme = try await TenantFixture.make(client, slug: "acme")
            let other = try await TenantFixture.make(client, slug: "other")
            for header in [HTTPField.Name.tenantID, .orgID] {
                let listed = try await client.request(.get, "/api/v1/service-accounts", headers: [header: acme.id])
                #expect(listed.status == .ok)
                let names = try listed.json()["service_accounts"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
                #expect(names == ["acme-admin"], "\(header)")
                // A tenant's key naming another tenant: 404, whichever header names it.
                let foreign = try await client.request(
                    .get, "/api/v1/service-accounts", key: acme.adminKey, headers: [header: other.id])
                #expect(foreign.status == .notFound, "\(header)")
            }
            // A write made with x-org-id lands in the tenant it names.
            let made = try await client.request(
                .post, "/api/v1/service-accounts", json: #"{"name":"via-org-id"}"#, headers: [.orgID: acme.id])
            #expect(made.status == .created)
            #expect(try made.json()["tenant_id"] == .string(acme.id))
            // The two headers naming different tenants are refused, and nothing is written.
            let both = try await client.request(
                .post, "/api/v1/service-accounts", json: #"{"name":"ambiguous"}"#,
                headers: [.tenantID: acme.id, .orgID: other.id])
            #expect(both.status == .badRequest)
            #expect(try both.json()["errors"]?.arrayValue?.first?["pointer"] == "x-org-id")
            let same = try await client.request(
                .get, "/api/v1/service-accounts", headers: [.tenantID: acme.id, .orgID: acme.id])
            #expect(try same.json()["service_accounts"]?.arrayValue?.count == 2)
        }
    }
}

extension HTTPField.Name {
    static let ifMatch = Self("If-Match")!
}
