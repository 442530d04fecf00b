import AgentplaneAPI
import AgentplaneCore
import AgentplaneTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct OpenAPIDocsTests {
    @Test func contractIsServedAsJSONAndYAML() async throws {
        try await withLiveServer(.sqlite) { client, _ in
            let json = try await client.request(.get, "/openapi.json", key: nil)
            #expect(json.status == .ok)
            #expect(json.headers[.contentType] == "application/json")
            let document = try json.json()
            #expect(document["openapi"] == "3.1.0")
            #expect(document["paths"]?["/api/v1/events"]?["get"]?["operationId"] == "listEvents")
            // Quoted YAML scalars stay strings.
            #expect(
                document["components"]?["schemas"]?["Event"]?["properties"]?["specversion"]?["enum"] == .array(["1.0"]))
            let yaml = try await client.request(.get, "/openapi.yaml", key: nil)
            #expect(yaml.text == OpenAPIDocument.yaml)
        }
    }

    /// Generated from the contract: every documented operation is routed (never a 404 or 405), so the
    /// spec and the server cannot drift apart silently.
    @Test(arguments: TestBackend.allCases)
    func everyDocumentedOperationIsServed(backend: TestBackend) async throws {
        try await withLiveServer(backend) { client, _ in
            let document = try await client.request(.get, "/openapi.json", key: nil).json()
            let paths = try #require(document["paths"]?.objectValue)
            var checked = 0
            for (path, item) in paths {
                for method in ["get", "post", "put", "patch", "delete"] where item[method] != nil {
                    var uri = path.replacingOccurrences(
                        of: #"\{[^}]+\}"#, with: UUID().uuidString, options: .regularExpression)
                    // A stream never ends: ask it something it refuses, which shows it is served all the same.
                    if item[method]?["responses"]?["200"]?["content"]?["text/event-stream"] != nil { uri += "?after=x" }
                    let response = try await client.request(
                        HTTPRequest.Method(method.uppercased())!,
                        uri,
                        json: method == "get" ? nil : "{}"
                    )
                    // A missing resource (NOT_FOUND) is fine; a missing route or method is not.
                    #expect(response.status.code != 405, "\(method.uppercased()) \(path)")
                    if response.status.code == 404 {
                        #expect(try response.json()["code"] == "NOT_FOUND", "\(method.uppercased()) \(path)")
                    }
                    #expect(response.status.code < 500, "\(method.uppercased()) \(path)")
                    checked += 1
                }
            }
            #expect(checked >= 25)
        }
    }

    @Test func docsPageIsSelfContainedAndListsEveryOperation() async throws {
        try await withLiveServer(.sqlite) { client, _ in
            let response = try await client.request(.get, "/docs", key: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = response.text
            for operation in ["listEvents", "publishEvent", "getInternalHealth", "getHealthReady", "getMetrics"] {
                #expect(html.contains(operation), "\(operation)")
            }
            #expect(!html.contains("src=\"http"))
            #expect(!html.contains("href=\"http"))
        }
    }
}
