import AgentplaneApp
import AgentplaneCore
import AgentplaneServer
import AgentplaneStore
import AgentplaneTesting
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import Synchronization
import Testing

@testable import AgentplaneHTTP

/// Local users, access tokens and refresh tokens, and every way a token must be refused.
@Suite struct AuthTokenTests {
    static let password = "correct horse battery staple"

    /// Tenants `acme` and `beta`; Ada is admin in acme and viewer in beta, Bob only in acme.
    static func seed(_ store: any Store) async throws -> (acme: TenantID, beta: TenantID) {
        var ids: [TenantID] = []
        for slug in ["acme", "beta"] { ids.append(try await Fixtures.createTenant(in: store, slug: slug).id) }
        // Ada: admin in acme, viewer in beta.
        let ada = User(
            id: UUIDv7.make(),
            email: "ada@example.com",
            name: "Ada",
            passwordHash: try await PasswordHasher(cost: 4).hash(password),
            isPlatformAdmin: false,
            createdAt: .now()
        )
        try await store.identity.createUser(
            ada,
            memberships: [
                Membership(userID: ada.id, tenantID: ids[0], role: .admin),
                Membership(userID: ada.id, tenantID: ids[1], role: .viewer),
            ],
            event: NewEvent(type: "user.created")
        )
        _ = try await OperatorUsers.create(
            store: store, email: "bob@example.com", name: "Bob", password: password, tenantSlug: "acme", role: .member,
            platformAdmin: false, bcryptCost: 4
        )
        return (ids[0], ids[1])
    }

    static func seedOnly(_ store: any Store) async throws { _ = try await seed(store) }

    static func signIn(
        _ client: any TestClientProtocol, email: String, password: String = password, tenant: String? = nil
    )
        async throws -> TestResponse
    {
        let tenantMember = tenant.map { #","tenant_id":"\#($0)""# } ?? ""
        return try await client.request(
            .post,
            "/api/v1/auth/token",
            key: nil,
            json: #"{"grant_type":"password","email":"\#(email)","password":"\#(password)"\#(tenantMember)}"#
        )
    }

    @Test(arguments: TestBackend.allCases)
    func passwordSignInGivesATokenThatActsInTheTenant(backend: TestBackend) async throws {
        try await withLiveServer(backend, prepare: Self.seedOnly) { client, _ in
            // Ada belongs to two tenants: she must name one.
            let ambiguous = try await Self.signIn(client, email: "ADA@example.com")
            #expect(ambiguous.status == .unprocessableContent)
            let tenants = try await client.request(.get, "/api/v1/tenants").json()
            let ids = Dictionary(
                uniqueKeysWithValues: (tenants["tenants"]?.arrayValue ?? []).compactMap { tenant in
                    tenant["slug"]?.stringValue.flatMap { slug in tenant["id"]?.stringValue.map { (slug, $0) } }
                }
            )
            let acme = try #require(ids["acme"])
            let beta = try #require(ids["beta"])
            let response = try await Self.signIn(client, email: "ADA@example.com", tenant: acme)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(body["token_type"] == "Bearer")
            #expect(body["role"] == "admin")
            #expect(body["expires_in"] == .int(900))
            let token = try #require(body["access_token"]?.stringValue)
            let events = try await client.request(.get, "/api/v1/events", key: token)
            #expect(events.status == .ok)
            #expect(try events.json()["events"] == .array([]))
            let published = try await client.request(.post, "/api/v1/events", key: token, json: #"{"type":"a.b"}"#)
            #expect(try published.json()["userid"]?.stringValue?.hasPrefix("user:") == true)
            // Users cannot manage tenants (platform-admin only).
            #expect(try await client.request(.get, "/api/v1/tenants", key: token).status == .forbidden)
            // x-org-id switches to another tenant Ada belongs to, with her role there (viewer).
            _ = try await client.request(
                .post, "/api/v1/events", json: #"{"type":"beta.news"}"#, headers: [.tenantID: beta])
            let inBeta = try await client.request(.get, "/api/v1/events", key: token, headers: [.orgID: beta])
            #expect(inBeta.status == .ok)
            #expect(inBeta.text.contains("beta.news"))
            #expect(!(try await client.request(.get, "/api/v1/events", key: token).text.contains("beta.news")))
            let betaPublish = try await client.request(
                .post,
                "/api/v1/events",
                key: token,
                json: #"{"type":"a.b"}"#,
                headers: [.orgID: beta]
            )
            #expect(betaPublish.status == .forbidden)
            // A tenant she does not belong to does not exist for her.
            let elsewhere = try await client.request(
                .get,
                "/api/v1/events",
                key: token,
                headers: [.tenantID: UUID().uuidString.lowercased()]
            )
            #expect(elsewhere.status == .notFound)

            #expect(
                try await Self.signIn(client, email: "ada@example.com", password: "wrong password!!").status
                    == .unauthorized)
            #expect(try await Self.signIn(client, email: "nobody@example.com").status == .unauthorized)
            let missing = try await client.request(
                .post, "/api/v1/auth/token", key: nil, json: #"{"grant_type":"password"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect(try missing.json()["errors"]?.arrayValue?.count == 2)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func refreshTokensRotateAndReuseRevokesTheFamily(backend: TestBackend) async throws {
        try await withLiveServer(backend, prepare: Self.seedOnly) { client, _ in
            let first = try await Self.signIn(client, email: "bob@example.com").json()
            let refresh1 = try #require(first["refresh_token"]?.stringValue)
            func exchange(_ token: String) async throws -> TestResponse {
                try await client.request(
                    .post,
                    "/api/v1/auth/token",
                    key: nil,
                    json: #"{"grant_type":"refresh_token","refresh_token":"\#(token)"}"#
                )
            }
            let second = try await exchange(refresh1)
            #expect(second.status == .ok)
            let refresh2 = try #require(try second.json()["refresh_token"]?.stringValue)
            #expect(refresh2 != refresh1)
            #expect(try second.json()["role"] == "member")
            // Replaying the used token: refused, and the whole family with it.
            #expect(try await exchange(refresh1).status == .unauthorized)
            #expect(try await exchange(refresh2).status == .unauthorized)
            #expect(try await exchange("rt_made_up").status == .unauthorized)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func forgedExpiredAndForeignTokensAreRefused(backend: TestBackend) async throws {
        try await withLiveServer(backend, prepare: Self.seedOnly) { client, _ in
            let signIn = try await Self.signIn(client, email: "bob@example.com").json()
            let tenant = try #require(signIn["tenant_id"]?.stringValue)
            let good = try #require(signIn["access_token"]?.stringValue)
            #expect(try await client.request(.get, "/api/v1/events", key: good).status == .ok)

            func forge(secret: String = testJWTSecret, issuer: String = "agentplane", exp: Date, nbf: Date? = nil)
                async throws -> String
            {
                let keys = JWTKeyCollection()
                await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "agentplane")
                return try await keys.sign(
                    AccessClaims(
                        sub: .init(value: UUID().uuidString), tenantID: tenant, orgID: nil, role: "admin", scopes: nil,
                        exp: .init(value: exp), iat: .init(value: Date()), nbf: nbf.map { .init(value: $0) }, jti: nil,
                        iss: .init(value: issuer), aud: nil
                    ),
                    kid: "agentplane"
                )
            }
            let hour: TimeInterval = 3600
            let valid = try await forge(exp: Date().addingTimeInterval(hour))
            #expect(try await client.request(.get, "/api/v1/events", key: valid).status == .ok)
            let refused = [
                try await forge(exp: Date().addingTimeInterval(-hour)),  // expired
                // Not yet valid, then signed with another key.
                try await forge(exp: Date().addingTimeInterval(hour), nbf: Date().addingTimeInterval(hour / 2)),
                try await forge(secret: String(repeating: "x", count: 48), exp: Date().addingTimeInterval(hour)),
                try await forge(issuer: "someone-else", exp: Date().addingTimeInterval(hour)),  // wrong issuer
                Self.unsigned(tenant: tenant),  // alg: none
                String(good.dropLast(3)) + "abc",  // tampered signature
                "not.a.jwt", "a.b", String(repeating: "x", count: 9000),
            ]
            for token in refused {
                let response = try await client.request(.get, "/api/v1/events", key: token)
                #expect(response.status == .unauthorized, "\(token.prefix(40))")
                #expect(response.headers[.wwwAuthenticate] != nil)
            }
            // A suspended tenant's users get 403.
            _ = try await client.request(.patch, "/api/v1/tenants/\(tenant)", json: #"{"status":"suspended"}"#)
            let suspended = try await client.request(.get, "/api/v1/events", key: good)
            #expect(suspended.status == .forbidden)
            #expect(try suspended.json()["code"] == "TENANT_SUSPENDED")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func externalOIDCTokensAreVerifiedByJWKSIssuerAndAudience(backend: TestBackend) async throws {
        let signing = P256.Signing.PrivateKey()
        let raw = signing.publicKey.rawRepresentation
        let jwks = #"""
            {"keys":[{"kty":"EC","crv":"P-256","kid":"idp-1","alg":"ES256","use":"sig","x":"\#(Self.base64URL(raw.prefix(32)))","y":"\#(Self.base64URL(raw.suffix(32)))"}]}
            """#
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        try jwks.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let oidc = try OIDCConfiguration(jwksPath: path, issuer: "https://idp.example", audience: "agentplane")
        let tenants = TenantBox()
        @Sendable func prepare(_ store: any Store) async throws { tenants.value = try await Self.seed(store) }
        try await withLiveServer(backend, oidc: oidc, prepare: prepare) { client, _ in
            let acme = try #require(tenants.value).acme
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: try ES256PrivateKey(pem: signing.pemRepresentation), kid: "idp-1")
            func token(issuer: String = "https://idp.example", audience: String = "agentplane") async throws -> String {
                try await keys.sign(
                    AccessClaims(
                        sub: .init(value: "external-user-7"), tenantID: nil, orgID: acme.description, role: "viewer",
                        scopes: nil, exp: .init(value: Date().addingTimeInterval(600)), iat: .init(value: Date()),
                        nbf: nil, jti: nil, iss: .init(value: issuer), aud: .init(value: [audience])
                    ),
                    kid: "idp-1"
                )
            }
            let accepted = try await client.request(.get, "/api/v1/events", key: try await token())
            #expect(accepted.status == .ok, "\(accepted.text)")
            // A viewer from the IdP reads but cannot publish.
            let publish = try await client.request(
                .post, "/api/v1/events", key: try await token(), json: #"{"type":"a.b"}"#)
            #expect(publish.status == .forbidden)
            #expect(
                try await client.request(.get, "/api/v1/events", key: try await token(audience: "other")).status
                    == .unauthorized)
            #expect(
                try await client.request(.get, "/api/v1/events", key: try await token(issuer: "https://evil")).status
                    == .unauthorized)
        }
    }

    static func unsigned(tenant: String) -> String {
        let header = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let exp = Int(Date().addingTimeInterval(3600).timeIntervalSince1970)
        let payload = base64URL(
            Data(#"{"sub":"x","tenant_id":"\#(tenant)","role":"admin","exp":\#(exp),"iss":"agentplane"}"#.utf8)
        )
        return "\(header).\(payload)."
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }
}

extension HTTPField.Name {
    static let orgID = Self("x-org-id")!
}

/// Carries the seeded tenant ids from the `prepare` closure into the test body.
final class TenantBox: Sendable {
    private let storage = Mutex<(acme: TenantID, beta: TenantID)?>(nil)
    var value: (acme: TenantID, beta: TenantID)? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
