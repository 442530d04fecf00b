import Foundation

extension ScheduleCaseGenerator {
    static let weekdayCodes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]

    /// An RRULE over every FREQ with BY parts, BYSETPOS, ordinals, COUNT or UNTIL. A few are refused by both
    /// sides (BYHOUR or BYMINUTE that no step of the interval reaches from the start, BYSETPOS=0). Rules whose
    /// occurrences are decades apart are kept rare: Python expands them period by period up to the horizon.
    mutating func rruleExpression(start: Int64, zone: String) -> String {
        let frequency = pick(
            [
                "YEARLY", "YEARLY", "MONTHLY", "MONTHLY", "MONTHLY", "WEEKLY", "WEEKLY", "DAILY", "DAILY", "HOURLY",
                "HOURLY", "MINUTELY",
            ])
        var parts = ["FREQ=\(frequency)"]
        let coarse = frequency == "YEARLY" || frequency == "MONTHLY"
        switch frequency {
        case "MINUTELY": parts.append("INTERVAL=\(pick([5, 10, 15, 20, 30, 45, 90, 120]))")
        // Not 7 hours: its steps meet each hour on one weekday only, so with BYDAY most rules never fire.
        case "HOURLY": if chance(0.5) { parts.append("INTERVAL=\(pick([2, 3, 5, 12]))") }
        default: if chance(0.35) { parts.append("INTERVAL=\(int(2...4))") }
        }
        var months: Int?
        if chance(frequency == "YEARLY" ? 0.5 : 0.15) {
            let list = list(1...12, count: int(1...3))
            months = list.split(separator: ",").count
            parts.append("BYMONTH=" + list)
        }
        // Days one period can select, to keep BYSETPOS within reach (Python expands a rule that never fires
        // period by period up to the horizon, a second or more each).
        var days = frequency == "YEARLY" ? months ?? 1 : 1
        var monthDays = 0
        if chance(coarse ? 0.35 : 0.1) {
            let list = Set((0..<int(1...3)).map { _ in chance(0.3) ? -int(1...5) : int(1...31) }).sorted()
            monthDays = list.count
            days = frequency == "YEARLY" ? list.count * (months ?? 12) : frequency == "MONTHLY" ? list.count : 1
            parts.append("BYMONTHDAY=" + list.map(String.init).joined(separator: ","))
        }
        if coarse, chance(monthDays > 0 ? 0.05 : 0.4) {
            let limit = frequency == "MONTHLY" || months != nil ? 4 : 53
            let entries = (0..<int(1...2)).map { _ -> String in
                let ordinal = chance(0.35) ? -int(1...2) : int(1...limit)
                return (chance(0.2) && ordinal > 0 ? "+" : "") + "\(ordinal)\(pick(Self.weekdayCodes))"
            }
            days = monthDays > 0 ? 1 : entries.count * (frequency == "YEARLY" ? months ?? 1 : 1)
            parts.append("BYDAY=" + entries.joined(separator: ","))
        } else if chance(monthDays > 0 ? 0.05 : 0.3) {
            let list = Set((0..<int(1...4)).map { _ in pick(Self.weekdayCodes) }).sorted()
            switch frequency {
            case "YEARLY": days = monthDays > 0 ? 1 : list.count * 4 * (months ?? 12)
            case "MONTHLY": days = monthDays > 0 ? 1 : list.count * 4
            case "WEEKLY": days = list.count
            default: break
            }
            parts.append("BYDAY=" + list.joined(separator: ","))
        }
        var times = 1  // times of day per selected day
        if chance(frequency == "HOURLY" || frequency == "MINUTELY" ? 0.4 : 0.5) {
            let hours = chance(0.7) ? list(0...4, count: int(1...3)) : list(0...23, count: int(1...3))
            if frequency != "HOURLY", frequency != "MINUTELY" { times *= hours.split(separator: ",").count }
            parts.append("BYHOUR=" + hours)
        }
        if frequency != "MINUTELY", chance(0.4) {
            let minutes = pick(["0", "30", "0,30", "15,45", "0,15,30,45", "5", "59"])
            times *= minutes.split(separator: ",").count
            parts.append("BYMINUTE=" + minutes)
        } else if frequency == "MINUTELY", chance(0.15) {
            parts.append("BYMINUTE=" + list(0...59, count: int(1...4)))
        }
        if chance(0.1) {
            let seconds = pick(["0", "30", "0,30", "15", "59"])
            times *= seconds.split(separator: ",").count
            parts.append("BYSECOND=" + seconds)
        }
        if chance(0.2) {
            let size = max(1, days * times)
            let positions = Set((0..<int(1...2)).map { _ in (chance(0.5) ? -1 : 1) * int(1...size) })
            let written = positions.sorted().map { $0 > 0 && chance(0.2) ? "+\($0)" : String($0) }
            parts.append("BYSETPOS=" + (chance(0.03) ? "0" : written.joined(separator: ",")))
        }
        if frequency == "WEEKLY", chance(0.3) { parts.append("WKST=" + pick(Self.weekdayCodes)) }
        if chance(0.3) {
            parts.append("COUNT=\(int(1...60))")
        } else if chance(0.25) {
            parts.append("UNTIL=" + untilText(start: start, zone: zone, utc: chance(0.5)))
        }
        // The order of the parts does not matter; shuffle some, keeping the generator deterministic.
        if chance(0.3) { parts.shuffle(using: &random) }
        let rule = parts.joined(separator: ";")
        return (chance(0.05) ? "RRULE:" : "") + (chance(0.05) ? rule.lowercased() : rule)
    }

    /// A sorted list of distinct values.
    mutating func list(_ range: ClosedRange<Int>, count: Int) -> String {
        Set((0..<count).map { _ in int(range) }).sorted().map(String.init).joined(separator: ",")
    }

    /// UNTIL a few days to a year after the start, in UTC (`Z`) or as a local date-time of the zone.
    mutating func untilText(start: Int64, zone: String, utc: Bool) -> String {
        let seconds = start / 1_000_000 + Int64(int(1...400)) * 86_400 + Int64(int(-7_200...7_200))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: utc ? "UTC" : zone)!
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
        let minute = chance(0.5) ? 0 : parts.minute!
        let text = String(
            format: "%04d%02d%02dT%02d%02d%02d", parts.year!, parts.month!, parts.day!, parts.hour!, minute,
            chance(0.8) ? 0 : parts.second!)
        return utc ? text + "Z" : text
    }
}
