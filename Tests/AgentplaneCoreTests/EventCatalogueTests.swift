import AgentplaneCore
import Foundation
import Testing

/// `docs/events.md` documents exactly the types the catalogue defines.
@Suite struct EventCatalogueTests {
    @Test func docsListEveryTypeAndNoOther() throws {
        let docs = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/events.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        guard let start = text.range(of: "## Types emitted today") else {
            Issue.record("docs/events.md has no 'Types emitted today' section")
            return
        }
        let section = text[start.upperBound...].prefix { _ in true }
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        let documented = Set(
            section[..<end].split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("| `") else { return nil }
                return line.dropFirst(3).split(separator: "`").first.map(String.init)
            })
        let defined = Set(EventType.allCases.map(\.rawValue))
        #expect(defined.subtracting(documented).isEmpty, "undocumented: \(defined.subtracting(documented).sorted())")
        #expect(
            documented.subtracting(defined).isEmpty, "not in the catalogue: \(documented.subtracting(defined).sorted())"
        )
    }
}
