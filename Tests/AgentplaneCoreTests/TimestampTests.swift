import AgentplaneCore
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-26T06:20:59.123456Z", Int64(1_795_674_059_123_456)),
        ("2026-11-26T06:20:59Z", Int64(1_795_674_059_000_000)),
        ("2026-11-26T08:20:59.5+02:00", Int64(1_795_674_059_500_000)),
        ("2026-11-26t06:20:59.1234569z", Int64(1_795_674_059_123_456)),
        ("1969-12-31T23:59:59.999999Z", Int64(-1)),
        ("1970-01-01T00:00:00Z", Int64(0)),
    ])
    func parsesRFC3339(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microsecondsSinceEpoch == micros)
    }

    @Test(arguments: [
        "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-26 06:20:59Z", "2026-11-26T06:20:59",
        "2026-11-26T06:20:59.Z", "2026-11-26T25:00:00Z", "2026-11-26T06:20:59+0200", "",
    ])
    func refusesAnythingElse(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(arguments: [Int64(1_795_674_059_123_456), 0, -1, -1_000_001, 253_402_300_799_999_999])
    func formatsWithMicrosecondsAndParsesBack(micros: Int64) throws {
        let timestamp = Timestamp(microsecondsSinceEpoch: micros)
        let text = timestamp.rfc3339
        #expect(text.hasSuffix("Z"))
        #expect(text.count == 27)
        #expect(Timestamp(rfc3339: text) == timestamp)
        // `Date` is a Double: exact to the microsecond only within about ±142 years of 1970.
        if abs(micros) < 1 << 52 { #expect(Timestamp(timestamp.date) == timestamp) }
    }

    /// The integer calendar arithmetic agrees with Foundation's calendar across the whole range.
    @Test func formattingAgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let seconds = Int64.random(in: -2_208_988_800...253_402_300_799, using: &generator)  // 1900…9999
            let timestamp = Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + 123_456)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            #expect(timestamp.rfc3339 == expected.replacingOccurrences(of: "Z", with: ".123456Z"))
            #expect(Timestamp(rfc3339: timestamp.rfc3339) == timestamp)
        }
    }

    @Test func uuidV7IsTimeOrderedAndVersioned() {
        let earlier = UUIDv7.make(at: Timestamp(microsecondsSinceEpoch: 1_000_000_000))
        let later = UUIDv7.make(at: Timestamp(microsecondsSinceEpoch: 2_000_000_000))
        #expect(earlier.lowercasedString < later.lowercasedString)
        #expect(Array(later.lowercasedString)[14] == "7")
        #expect(["8", "9", "a", "b"].contains(Array(later.lowercasedString)[19]))
    }

    @Test func uuidV7StartsWithItsMillisecondsAndDiffersWithinOne() {
        let at = Timestamp(microsecondsSinceEpoch: 1_733_000_000_123_456)
        let ids = (0..<1000).map { _ in UUIDv7.make(at: at) }
        #expect(Set(ids).count == 1000)
        let millis = String(1_733_000_000_123, radix: 16)
        let prefix = String(repeating: "0", count: 12 - millis.count) + millis
        #expect(ids.allSatisfy { $0.lowercasedString.replacingOccurrences(of: "-", with: "").hasPrefix(prefix) })
    }
}

/// The hand-written hex and UUID text agree with Foundation's.
@Suite struct HexTests {
    @Test func uuidTextMatchesFoundation() {
        for _ in 0..<1000 {
            let uuid = UUID()
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
        }
        #expect(TenantID.platform.description == "00000000-0000-0000-0000-000000000000")
    }

    @Test func hexMatchesFormattedBytes() {
        let bytes: [UInt8] = Array(0...255)
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }
}

/// The hand-written UUID parser reads canonical text as Foundation's does, and refuses the rest.
@Suite struct UUIDParsingTests {
    @Test func agreesWithFoundation() {
        for _ in 0..<1000 {
            let uuid = UUID()
            #expect(UUID(canonical: uuid.uuidString) == uuid)
            #expect(UUID(canonical: uuid.lowercasedString) == uuid)
        }
        let good = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
        let bad = [
            "", "0190a1b2c3d47e5f8a9b0c1d2e3f4a5b", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", good + "0",
            "0190a1b2-c3d4-7e5f-8a9b_0c1d2e3f4a5b", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", " " + good.dropLast(),
            "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5é",
        ]
        #expect(UUID(canonical: good) == UUID(uuidString: good))
        for text in bad {
            // Stricter than Foundation, whose sscanf also takes a short last group.
            #expect(UUID(canonical: text) == nil, "\(text)")
        }
    }
}
