import Foundation

/// Finds where a JSON document stops being valid, as `line L, column C`, for 400 answers.
enum JSONErrorLocator {
    /// The reason and position of the first syntax error, or nil when `bytes` parse.
    static func locate(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return nil
        } catch {
            let message = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? ""
            let offset: Int
            if let range = message.range(of: #"character \d+"#, options: .regularExpression),
                let value = Int(message[range].dropFirst("character ".count))
            {
                offset = min(value, bytes.count)
            } else {
                offset = bytes.count
            }
            let reason = message.components(separatedBy: " around ").first?
                .trimmingCharacters(in: CharacterSet(charactersIn: ". ")) ?? "invalid JSON"
            return "\(reason.isEmpty ? "invalid JSON" : reason) at \(position(of: offset, in: bytes))"
        }
    }

    /// 1-based line and column of byte `offset`.
    static func position(of offset: Int, in bytes: [UInt8]) -> String {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return "line \(line), column \(column) (byte \(offset))"
    }
}
