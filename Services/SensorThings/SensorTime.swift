/// Instants as SensorThings writes them (ISO 8601, `2026-12-06T02:13:11.250Z` or with an offset),
/// kept as milliseconds since 1970 UTC: the store indexes them as integers, and civil-date
/// arithmetic avoids any calendar or time-zone database.
package enum SensorTime {
    /// An instant (`2026-12-06T10:15:00Z`, `…+01:00`, or a date for its midnight UTC) in
    /// milliseconds; nil when the text is not one. The same reader as `$filter` literals.
    package static func milliseconds(_ text: some StringProtocol) -> Int64? {
        try? DateTimeText.milliseconds(String(text))
    }

    /// `2026-12-06T02:13:11Z`, with `.250` when there are milliseconds.
    package static func text(_ milliseconds: Int64) -> String {
        let seconds = milliseconds.floorDivided(by: 1000)
        let fraction = Int(milliseconds - seconds * 1000)
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSinceEpoch: Int(days))
        guard (0...9999).contains(year) else {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            var text = "\(year)-\(two(month))-\(two(day))"
            text += "T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
            if fraction > 0 { text += "." + String(String(fraction + 1000).dropFirst()) }
            return text + "Z"
        }
        // Written digit by digit: every answer of observations carries one or two of these per row.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func put(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            func digits(_ value: Int, _ count: Int) {
                var divisor = 1
                for _ in 1..<count { divisor *= 10 }
                while divisor > 0 {
                    put(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                    divisor /= 10
                }
            }
            digits(year, 4)
            put(UInt8(ascii: "-"))
            digits(month, 2)
            put(UInt8(ascii: "-"))
            digits(day, 2)
            put(UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2)
            if fraction > 0 {
                put(UInt8(ascii: "."))
                digits(fraction, 3)
            }
            put(UInt8(ascii: "Z"))
            return index
        }
    }

    /// An instant or an interval `start/end` (ISO 8601 with two instants); end is nil for an instant.
    package static func interval(_ text: some StringProtocol) -> (start: Int64, end: Int64?)? {
        if !text.utf8.contains(UInt8(ascii: "/")) { return milliseconds(text).map { ($0, nil) } }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return milliseconds(parts[0]).map { ($0, nil) }
        case 2:
            guard let start = milliseconds(parts[0]), let end = milliseconds(parts[1]), start <= end else { return nil }
            return (start, end)
        default: return nil
        }
    }

    package static func intervalText(start: Int64, end: Int64?) -> String {
        guard let end else { return text(start) }
        return "\(text(start))/\(text(end))"
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
    package static func days(year: Int, month: Int, day: Int) -> Int {
        Int(DateTimeText.daysSince1970(year: Int64(year), month: Int64(month), day: Int64(day)))
    }

    /// Year, month and day of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days).
    package static func civil(daysSinceEpoch days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
