import AgentplaneAPI
import AgentplaneCore
import Testing

@testable import AgentplaneHTTP

/// The enums are defined once in AgentplaneCore and mirrored in openapi.yaml: these fail if the two drift.
@Suite struct EnumContractTests {
    static func contractEnum(_ schema: String) throws -> [String] {
        let document = try ContractDocument().document
        let values = document["components"]?["schemas"]?[schema]?["enum"]?.arrayValue ?? []
        return values.compactMap(\.stringValue)
    }

    @Test func instanceStatusMatches() throws {
        #expect(try Self.contractEnum("InstanceStatus") == InstanceStatus.allCases.map(\.rawValue))
    }

    @Test func knowledgeBaseEnumsMatch() throws {
        #expect(try Self.contractEnum("KBEntryStatus") == KBEntryStatus.allCases.map(\.rawValue))
        #expect(try Self.contractEnum("KBDataType") == KBDataType.allCases.map(\.rawValue))
        #expect(try Self.contractEnum("KBLangHint") == KBLangHint.allCases.map(\.rawValue))
    }

    @Test func rolesMatch() throws {
        #expect(try Self.contractEnum("Role") == Role.allCases.filter { $0 != .platformAdmin }.map(\.rawValue))
    }

    @Test func scopesMatch() throws {
        #expect(Set(try Self.contractEnum("ScopeName")) == Set(Scope.catalogue.map(\.scope)))
    }
}
