import Foundation

/// The UTC offsets of one IANA zone around the instants a computation visits, loaded lazily from Foundation's
/// `TimeZone` (transition by transition, never second by second) and read the way Python's `zoneinfo` reads
/// them, so that both oracles and this engine agree on every gap and fold:
///
/// - a wall time with `fold == false` that is *ambiguous* (repeated by a backward transition) means its first
///   occurrence; with `fold == true`, its second;
/// - a wall time that is *imaginary* (skipped by a forward transition) takes, with `fold == false`, the offset
///   from before the gap (02:30 in a 02:00→03:00 gap is 03:30 after the gap: RFC 5545 §3.3.5), and with
///   `fold == true` the offset from after it.
///
/// A value of this type is a cache for one computation: it is created per call and never shared.
struct ZoneTable {
    private struct Transition {
        var instant: Int64
        var offsetBefore: Int64
        var offsetAfter: Int64
        /// The first wall time that reads the new offset for `fold == false` and for `fold == true`.
        var wallForFold0: Int64 { instant + max(offsetBefore, offsetAfter) }
        var wallForFold1: Int64 { instant + min(offsetBefore, offsetAfter) }
    }

    /// Wall and instant differ by less than this (offsets stay within ±15 h, gaps within a day).
    private static let margin: Int64 = 3 * LocalCalendar.secondsPerDay

    private let timeZone: TimeZone
    /// Transitions are known for the instants in `low...high`.
    private var low: Int64 = .max
    private var high: Int64 = .min
    /// The offset in effect at `low`.
    private var initialOffset: Int64 = 0
    private var transitions: [Transition] = []

    init(_ timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// The UTC offset in seconds at an instant (seconds since the epoch).
    mutating func offset(at instant: Int64) -> Int64 {
        cover(instant, instant)
        guard let index = lastTransition(atOrBefore: instant) else { return initialOffset }
        return transitions[index].offsetAfter
    }

    /// The instant of a wall time; `fold` picks the occurrence as Python's `datetime.fold` does.
    mutating func instant(wall: Int64, fold: Bool = false) -> Int64 {
        cover(wall - Self.margin, wall + Self.margin)
        // The last transition whose wall time for this fold is at or before `wall` (`bisect_right - 1`).
        var lower = 0
        var upper = transitions.count
        while lower < upper {
            let middle = (lower + upper) / 2
            let edge = fold ? transitions[middle].wallForFold1 : transitions[middle].wallForFold0
            if edge <= wall { lower = middle + 1 } else { upper = middle }
        }
        let offset = lower == 0 ? initialOffset : transitions[lower - 1].offsetAfter
        return wall - offset
    }

    /// The wall time of an instant and whether it is the second occurrence of a repeated wall time.
    mutating func local(_ instant: Int64) -> (wall: Int64, fold: Bool) {
        cover(instant, instant)
        guard let index = lastTransition(atOrBefore: instant) else { return (instant + initialOffset, false) }
        let transition = transitions[index]
        let fold = transition.offsetBefore - transition.offsetAfter > instant - transition.instant
        return (instant + transition.offsetAfter, fold)
    }

    /// Whether a wall time does not exist (a forward transition skips it): Python's `is_imaginary`.
    mutating func isImaginary(wall: Int64) -> Bool {
        local(instant(wall: wall)).wall != wall
    }

    private func lastTransition(atOrBefore instant: Int64) -> Int? {
        var lower = 0
        var upper = transitions.count
        while lower < upper {
            let middle = (lower + upper) / 2
            if transitions[middle].instant <= instant { lower = middle + 1 } else { upper = middle }
        }
        return lower == 0 ? nil : lower - 1
    }

    /// Makes sure the transitions of `from...to` (plus the margin) are loaded.
    private mutating func cover(_ from: Int64, _ to: Int64) {
        if from < low {
            low = from - Self.margin
            high = low
            transitions.removeAll(keepingCapacity: true)
            initialOffset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(low))))
        }
        let target = to + Self.margin
        while high < target {
            guard let next = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: Double(high)))
            else {
                high = .max
                return
            }
            let instant = max(Int64(next.timeIntervalSince1970.rounded(.up)), high + 1)
            let before = transitions.last?.offsetAfter ?? initialOffset
            let after = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
            if after != before {
                transitions.append(Transition(instant: instant, offsetBefore: before, offsetAfter: after))
            }
            high = instant
        }
    }
}
