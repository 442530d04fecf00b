import AgentplaneAPI
import AgentplaneCore
import Testing

@Suite struct ScopeContractTests {
    /// The contract's security scheme and `ScopeName` enum list exactly the scopes the server knows.
    @Test func contractListsEveryScope() {
        for (scope, _) in Scope.catalogue {
            #expect(OpenAPIDocument.yaml.contains("`\(scope)`"), "security scheme lacks \(scope)")
            #expect(OpenAPIDocument.yaml.contains("'\(scope)'"), "ScopeName lacks \(scope)")
        }
    }
}
