import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// A tenant made through the API, with an admin service account and its key.
struct TenantFixture: Sendable {
    var id: String
    var slug: String
    var adminAccountID: String
    var adminKey: String
    var adminKeyID: String

    /// Creates tenant `slug` as the platform admin, plus an admin service account with a key.
    static func make(_ client: any TestClientProtocol, slug: String, role: String = "admin", scopes: [String]? = nil)
        async throws -> TenantFixture
    {
        let tenant = try await client.request(.post, "/api/v1/tenants", json: #"{"slug":"\#(slug)","name":"\#(slug)"}"#)
        #expect(tenant.status == .created)
        let id = try #require(try tenant.json()["id"]?.stringValue)
        let scopeList = scopes.map { ",\"scopes\":[" + $0.map { "\"\($0)\"" }.joined(separator: ",") + "]" } ?? ""
        let account = try await client.request(
            .post,
            "/api/v1/service-accounts",
            json: #"{"name":"\#(slug)-admin","role":"\#(role)"\#(scopeList)}"#,
            headers: [.tenantID: id]
        )
        #expect(account.status == .created, "\(account.text)")
        let accountID = try #require(try account.json()["id"]?.stringValue)
        let key = try await client.request(
            .post,
            "/api/v1/service-accounts/\(accountID)/keys",
            json: "{}",
            headers: [.tenantID: id]
        )
        #expect(key.status == .created, "\(key.text)")
        let body = try key.json()
        return TenantFixture(
            id: id,
            slug: slug,
            adminAccountID: accountID,
            adminKey: try #require(body["key"]?.stringValue),
            adminKeyID: try #require(body["api_key"]?["id"]?.stringValue)
        )
    }
}
