import SensorThings

/// Clock time in Germany (CET, and CEST from the last Sunday of March to the last Sunday of
/// October, switching at 01:00 UTC), computed rather than read from the system's time zone data:
/// a chart must come out the same on every machine, with or without tzdata installed.
enum GermanTime {
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000

    /// What to add to a UTC instant for the clock time in Germany.
    static func offset(at utc: Int64) -> Int64 {
        let (year, _, _) = SensorTime.civil(daysSinceEpoch: Int(floorDivide(utc, day)))
        let summerStart = Int64(lastSunday(year: year, month: 3)) * day + hour
        let summerEnd = Int64(lastSunday(year: year, month: 10)) * day + hour
        return utc >= summerStart && utc < summerEnd ? 2 * hour : hour
    }

    /// The clock time in Germany of a UTC instant, as milliseconds since 1970 of that wall time.
    static func local(_ utc: Int64) -> Int64 { utc + offset(at: utc) }

    /// The UTC instant of a German wall time (the earlier one where the clock repeats an hour).
    static func utc(ofLocal local: Int64) -> Int64 {
        // An hour back is within the hour of the real instant, which has the same offset but for the
        // hour right after a switch.
        local - offset(at: local - hour)
    }

    struct Parts: Equatable {
        var year, month, day, hour, minute: Int
    }

    static func parts(_ utc: Int64) -> Parts {
        let local = local(utc)
        let days = floorDivide(local, day)
        let (year, month, dayOfMonth) = SensorTime.civil(daysSinceEpoch: Int(days))
        let minutes = Int((local - days * day) / 60_000)
        return Parts(year: year, month: month, day: dayOfMonth, hour: minutes / 60, minute: minutes % 60)
    }

    /// `06.12.2026, 11:15` (German) or `6 Dec 2026, 11:15` (English), in German clock time.
    static func text(_ utc: Int64, language: ChartLanguage) -> String {
        let time = parts(utc)
        switch language {
        case .de: return "\(two(time.day)).\(two(time.month)).\(time.year), \(two(time.hour)):\(two(time.minute))"
        case .en:
            return "\(time.day) \(monthNames[time.month - 1]) \(time.year), \(two(time.hour)):\(two(time.minute))"
        }
    }

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor != 0 && value < 0 ? quotient - 1 : quotient
    }

    /// Days since 1970 of the last Sunday of a month (1970-01-01 was a Thursday).
    private static func lastSunday(year: Int, month: Int) -> Int {
        let last = SensorTime.days(year: year, month: month + 1, day: 1) - 1
        let weekday = ((last + 4) % 7 + 7) % 7
        return last - weekday
    }
}

/// The languages charts speak: German first, English second, like the portal.
package enum ChartLanguage: String, Sendable {
    case de, en
}
