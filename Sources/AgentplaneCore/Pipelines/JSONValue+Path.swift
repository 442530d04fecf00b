// Helpers shared by templates, conditions and event filters: path lookup and JSON equality with numbers
// compared by value (`1 == 1.0`), as JSON itself does not distinguish integers from decimals.

extension JSONValue {
    /// The value at a path of object keys and array indexes, or nil when a segment is missing.
    ///
    /// A segment on an object is a key; on an array it must be a decimal index without sign (`0`, `12`).
    func value(at path: some Sequence<String>) -> JSONValue? {
        var current = self
        for segment in path {
            switch current {
            case .object(let members):
                guard let member = members[segment] else { return nil }
                current = member
            case .array(let elements):
                guard let index = JSONValue.arrayIndex(segment), index < elements.count else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    /// A segment as an array index: decimal digits only, no sign, no leading zero except `0` itself.
    static func arrayIndex(_ segment: String) -> Int? {
        guard !segment.isEmpty, segment.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            segment == "0" || segment.utf8.first != 0x30
        else { return nil }
        return Int(segment)
    }

    /// The number as a Double, for integers and decimals alike.
    public var numberValue: Double? {
        switch self {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    /// Structural equality where numbers compare by value (`3 == 3.0`) and integers exactly.
    func jsonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let left), .int(let right)):
            return left == right
        case (.int, .double), (.double, .int), (.double, .double):
            return numberValue == other.numberValue
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.jsonEquals($1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count
                && left.allSatisfy { key, value in right[key].map { value.jsonEquals($0) } ?? false }
        default:
            return self == other
        }
    }

    /// Compact JSON text with members sorted by key, as interpolated into a longer string.
    var compactText: String {
        if case .string(let text) = self { return text }
        return JSONWriter.text(of: self)
    }
}
