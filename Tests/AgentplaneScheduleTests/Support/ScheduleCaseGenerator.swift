import Foundation

/// SplitMix64: a tiny seeded generator, so the differential test asks the same questions on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// Generates schedule questions: cron and RRULE expressions across zones, started near DST transitions.
struct ScheduleCaseGenerator {
    static let zones = [
        "UTC", "Europe/Berlin", "America/New_York", "Europe/Chisinau", "Australia/Lord_Howe", "Asia/Kolkata",
    ]

    var random: SplitMix64
    /// Each zone's offset changes between 2020 and 2045 (epoch seconds), from Foundation.
    let transitions: [String: [Int64]]

    init(seed: UInt64) {
        random = SplitMix64(state: seed)
        var transitions: [String: [Int64]] = [:]
        for zone in Self.zones {
            let timeZone = TimeZone(identifier: zone)!
            var instants: [Int64] = []
            var cursor = Date(timeIntervalSince1970: 1_577_836_800)  // 2020-01-01
            while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor),
                next.timeIntervalSince1970 < 2_366_841_600  // 2045-01-01
            {
                instants.append(Int64(next.timeIntervalSince1970))
                cursor = next
            }
            transitions[zone] = instants
        }
        self.transitions = transitions
    }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func pick<T>(_ options: [T]) -> T { options[int(0...options.count - 1)] }

    /// Mixed upper and lower case, as users type names.
    mutating func anyCase(_ text: String) -> String {
        switch int(0...3) {
        case 0: text.lowercased()
        case 1: text.capitalized
        default: text
        }
    }

    /// `cron` questions followed by `rrule` questions, 50 fire times each.
    mutating func questions(cron: Int, rrule: Int) -> [OracleQuestion] {
        var questions: [OracleQuestion] = []
        for index in 0..<cron + rrule {
            let isCron = index < cron
            let zone = Self.zones[index % Self.zones.count]
            let start = instantNearTransition(zone)
            let expression = isCron ? cronExpression() : rruleExpression(start: start, zone: zone)
            // Far ahead, up to where Python (which expands from the start) stays quick for the frequency.
            let reach = isCron ? 0 : Self.farAheadDays(expression)
            let after = afterInstant(zone: zone, start: start, farAheadDays: chance(0.2) ? reach : 0)
            questions.append(
                OracleQuestion(
                    kind: isCron ? "cron" : "rrule", expr: expression, tz: zone, start: start, after: after, count: 50))
        }
        return questions
    }

    /// Epoch microseconds a few days around one of the zone's transitions (any instant for fixed zones).
    mutating func instantNearTransition(_ zone: String) -> Int64 {
        let candidates = transitions[zone] ?? []
        let anchor = candidates.isEmpty ? Int64(int(1_577_836_800...2_208_988_800)) : pick(candidates)
        var seconds = anchor + Int64(int(-3 * 86_400...86_400))
        if chance(0.5) { seconds -= seconds % 900 }  // on a quarter hour, as people write start times
        let micros = chance(0.2) ? Int64(int(0...999_999)) : 0
        return seconds * 1_000_000 + micros
    }

    /// How many days past the start `after` may lie for an RRULE of this frequency.
    static func farAheadDays(_ expression: String) -> Int {
        let upper = expression.uppercased()
        if upper.contains("MINUTELY") { return 4 }
        if upper.contains("HOURLY") { return 60 }
        if upper.contains("DAILY") { return 3_000 }
        return 7_000
    }

    /// `after`: at, before or shortly after the start, or near a transition up to `farAheadDays` later.
    mutating func afterInstant(zone: String, start: Int64, farAheadDays: Int) -> Int64 {
        if farAheadDays > 0 {
            let end = start + Int64(farAheadDays) * 86_400_000_000
            let later = (transitions[zone] ?? []).filter { $0 * 1_000_000 > start && $0 * 1_000_000 < end }
            if let transition = later.isEmpty ? nil : pick(later) {
                return (transition - Int64(int(0...3 * 86_400))) * 1_000_000
            }
            return start + Int64(int(1...farAheadDays)) * 86_400_000_000
        }
        switch int(0...9) {
        case 0: return start
        case 1: return start - Int64(int(1...7_200)) * 1_000_000
        default: return start + Int64(int(0...4 * 86_400)) * 1_000_000 + Int64(int(0...1)) * 500_000
        }
    }
}
