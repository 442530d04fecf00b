import AgentplaneCore
import Foundation
import Testing

@Suite struct ErrorCatalogueTests {
    /// docs/errors.md is the client's reference: every code must be documented there.
    @Test func everyCodeIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let errors = try String(contentsOf: root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        for code in ErrorCode.allCases {
            #expect(errors.contains("`\(code.rawValue)`"), "docs/errors.md lacks \(code.rawValue)")
        }
    }

    @Test func codesAreUniqueAndStatusesAreErrors() {
        #expect(Set(ErrorCode.allCases.map(\.rawValue)).count == ErrorCode.allCases.count)
        #expect(Set(ErrorCode.allCases.map(\.typeURI)).count == ErrorCode.allCases.count)
        #expect(ErrorCode.allCases.allSatisfy { (400..<600).contains($0.status) })
    }
}
