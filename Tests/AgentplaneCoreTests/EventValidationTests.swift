import AgentplaneCore
import Testing

@Suite struct EventValidationTests {
    @Test(arguments: ["order.shipped", "a", "a.b.c_d", "x1.y2"])
    func acceptsWellFormedTypes(type: String) {
        #expect(EventValidation.typeErrors(type).isEmpty)
    }

    @Test(arguments: ["", "Order.Shipped", "a..b", ".a", "a.", "1a", "a-b", "a b", String(repeating: "a", count: 129)])
    func refusesMalformedTypes(type: String) {
        #expect(!EventValidation.typeErrors(type).isEmpty)
    }

    @Test(arguments: EventValidation.reservedTypePrefixes)
    func reservedPrefixesAreRefusedToClients(prefix: String) {
        #expect(throws: AgentplaneError.self) {
            try EventValidation.validatePublished(NewEvent(type: prefix + "anything"))
        }
    }

    @Test func nulCharactersAreFoundAtTheirPointer() {
        let data = JSONValue.object(["a": .array([.string("ok"), .object(["b/c": .string("x\u{0}")])])])
        #expect(EventValidation.dataErrors(data).map(\.pointer) == ["/data/a/1/b~1c"])
    }

    @Test func queriesAreBounded() {
        #expect(throws: AgentplaneError.self) { try EventValidation.validate(EventQuery(limit: 0)) }
        #expect(throws: AgentplaneError.self) {
            try EventValidation.query(after: "-1", limit: 10, type: nil, subject: nil)
        }
        #expect(throws: Never.self) {
            try EventValidation.query(
                after: String(repeating: "0", count: 31) + "5", limit: 1000, type: nil, subject: nil)
        }
    }

    @Test(arguments: ["ap_abcd1234_" + String(repeating: "x", count: 32), APIKeyToken.generate().text])
    func apiKeysParse(text: String) throws {
        let token = try #require(APIKeyToken(parsing: text))
        #expect(token.text == text)
    }

    @Test(arguments: [
        "ap_ABCD1234_" + String(repeating: "x", count: 32), "ap_abcd123_" + String(repeating: "x", count: 32),
        "ap_abcd1234_short", "xx_abcd1234_" + String(repeating: "x", count: 32),
        "ap_abcd1234_" + String(repeating: "-", count: 32),
        "ap_abcd1234", "",
    ])
    func malformedKeysDoNotParse(text: String) {
        #expect(APIKeyToken(parsing: text) == nil)
    }

    @Test(arguments: [
        ("00000000000000000000000000000000", EventPosition.start),
        ("0000000000000a3f0000000000000001", EventPosition(major: 0xa3f, minor: 1)),
        ("ffffffffffffffffffffffffffffffff", EventPosition(major: .max, minor: .max)),
    ])
    func positionsRoundTripTheirTextForm(text: String, position: EventPosition) {
        #expect(EventPosition(text) == position)
        #expect(position.description == text)
    }

    @Test(arguments: [
        "", "0", "-1", "0000000000000A3F0000000000000001", "0000000000000a3f000000000000000g",
        "0000000000000a3f00000000000000001",
    ])
    func malformedPositionsAreRefused(text: String) {
        #expect(EventPosition(text) == nil)
    }

    @Test func textOrderIsLogOrder() {
        let positions = [
            EventPosition(major: 0, minor: 2), EventPosition(major: 1, minor: 0), EventPosition(major: 1, minor: 15),
            EventPosition(major: 1, minor: 16), EventPosition(major: 0x10, minor: 0),
        ]
        #expect(positions.sorted() == positions)
        #expect(positions.map(\.description).sorted() == positions.map(\.description))
    }
}
