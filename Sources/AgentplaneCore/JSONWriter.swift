/// Writes JSON text straight into bytes: no intermediate tree, no `Encoder`, no dynamic casts.
///
/// It writes what Foundation's `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes
/// for the same values: object members in sorted key order, integral doubles without `.0`, strings with
/// quotes, backslashes and control characters escaped and everything else as UTF-8. Callers writing an
/// object by hand give its keys in sorted order themselves.
///
/// Commas are placed without a stack: a value sets `needsComma`, and the next key or element writes the
/// comma first; opening an object or array clears it, closing one sets it for the parent.
public struct JSONWriter: Sendable {
    /// The text written so far.
    public private(set) var bytes: [UInt8]
    private var needsComma = false

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The JSON text of `value` (members sorted by key).
    public static func text(of value: JSONValue) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `{`
    public mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// `}`
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// `[`
    public mutating func beginArray() {
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// `]`
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// An array of `items`, each written by `write`.
    public mutating func array<Items: Sequence>(_ items: Items, _ write: (Items.Element, inout JSONWriter) -> Void) {
        beginArray()
        for item in items {
            element()
            write(item, &self)
        }
        endArray()
    }

    /// Before an array element: the comma if one is due.
    public mutating func element() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = false
    }

    /// A member's key (and the comma before it if one is due); its value follows.
    public mutating func key(_ name: StaticString) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: #"":"#.utf8)
        needsComma = false
    }

    /// A member whose value is a string, left out when nil (as `encodeIfPresent` does).
    public mutating func field(_ name: StaticString, _ text: String?) {
        guard let text else { return }
        key(name)
        string(text)
    }

    /// A member whose value is JSON text already valid (stored payloads), written as it is.
    public mutating func rawField(_ name: StaticString, _ json: some StringProtocol) {
        key(name)
        bytes.append(contentsOf: json.utf8)
        needsComma = true
    }

    /// A member holding `value`.
    public mutating func field(_ name: StaticString, _ value: JSONValue) {
        key(name)
        self.value(value)
    }

    /// A member holding an integer.
    public mutating func field(_ name: StaticString, _ number: Int64) {
        key(name)
        int(number)
    }

    /// A member holding a Boolean.
    public mutating func field(_ name: StaticString, _ flag: Bool) {
        key(name)
        bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        needsComma = true
    }

    /// An integer.
    public mutating func int(_ number: Int64) {
        bytes.append(contentsOf: String(number).utf8)
        needsComma = true
    }

    /// Any JSON value; object members in sorted key order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null:
            bytes.append(contentsOf: "null".utf8)
            needsComma = true
        case .bool(let flag):
            bytes.append(contentsOf: (flag ? "true" : "false").utf8)
            needsComma = true
        case .int(let number):
            int(number)
        case .double(let number):
            double(number)
        case .string(let text):
            string(text)
        case .array(let elements):
            beginArray()
            for element in elements {
                self.element()
                self.value(element)
            }
            endArray()
        case .object(let members):
            object(members)
        }
    }

    /// An object of `members`, in sorted key order.
    public mutating func object(_ members: [String: JSONValue]) {
        beginObject()
        for name in members.keys.sorted() {
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            string(name)
            bytes.append(UInt8(ascii: ":"))
            value(members[name]!)
        }
        endObject()
    }

    /// A double as `JSONEncoder` writes it (its shortest round-trip text, `.0` dropped); a value JSON
    /// cannot hold (infinite, NaN, which no parsed input produces) is written as `null`.
    public mutating func double(_ number: Double) {
        guard number.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            needsComma = true
            return
        }
        var text = number.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as UTF-8.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
                case 0x0A: bytes.append(contentsOf: #"\n"#.utf8)
                case 0x0D: bytes.append(contentsOf: #"\r"#.utf8)
                case 0x09: bytes.append(contentsOf: #"\t"#.utf8)
                case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
                case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
                default:
                    bytes.append(contentsOf: #"\u00"#.utf8)
                    bytes.append(Self.hex[Int(byte >> 4)])
                    bytes.append(Self.hex[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }
}

extension JSONValue {
    /// The JSON text of this value (members sorted by key): what the stores keep.
    public var jsonText: String { JSONWriter.text(of: self) }
}
