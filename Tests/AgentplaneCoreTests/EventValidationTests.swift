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
        #expect(throws: AgentplaneError.self) { try EventValidation.validate(EventQuery(after: -1)) }
        #expect(throws: Never.self) { try EventValidation.validate(EventQuery(after: 5, limit: 1000)) }
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
}
