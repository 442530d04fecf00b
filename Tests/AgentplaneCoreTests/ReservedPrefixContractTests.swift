import AgentplaneAPI
import AgentplaneCore
import Testing

@Suite struct ReservedPrefixContractTests {
    /// openapi.yaml spells the reserved prefixes out in a pattern; it must list exactly the ones the
    /// validation refuses.
    @Test func contractPatternNamesEveryReservedPrefix() throws {
        let line = try #require(OpenAPIDocument.yaml.split(separator: "\n").first { $0.contains("pattern: '^(?!(") })
        let inner = try #require(line.split(separator: "(").dropFirst(2).first?.split(separator: ")").first)
        let contract = Set(inner.split(separator: "|").map { "\($0)." })
        #expect(contract == Set(EventValidation.reservedTypePrefixes))
    }
}
