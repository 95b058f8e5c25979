/// Reads the ISO 8601 forms a filter writes times in, without Foundation's parsers (which accept
/// more than ISO 8601 and depend on the locale): `2026-03-01`, `2026-03-01T12:30:00.250Z`,
/// `2026-03-01T13:30+01:00`, and times of day `12:30:00.250`.
enum DateTimeText {
    /// Milliseconds since 1970 (UTC) of a date (its midnight UTC) or a date-time with `Z` or an
    /// offset; fractions of a second beyond milliseconds are cut off.
    static func milliseconds(_ text: String) throws(LiteralSyntaxError) -> Int64 {
        var reader = Reader(bytes: Array(text.utf8))
        let year = try reader.digits(4, "a four-digit year")
        try reader.expect("-")
        let month = try reader.digits(2, "a two-digit month")
        try reader.expect("-")
        let day = try reader.digits(2, "a two-digit day")
        guard (1...12).contains(month) else { throw LiteralSyntaxError("month \(month) is not 1 to 12") }
        guard (1...daysIn(month: month, year: year)).contains(day) else {
            throw LiteralSyntaxError("day \(day) does not exist in \(year)-\(month < 10 ? "0" : "")\(month)")
        }
        let midnight = daysSince1970(year: year, month: month, day: day) * 86_400_000
        if reader.atEnd { return midnight }
        guard reader.take("T") || reader.take("t") else {
            throw LiteralSyntaxError("expected 'T' and a time after the date")
        }
        let time = try reader.time()
        let offsetMinutes: Int64
        if reader.take("Z") || reader.take("z") {
            offsetMinutes = 0
        } else if let sign: Int64 = reader.take("+") ? 1 : reader.take("-") ? -1 : nil {
            let hours = try reader.digits(2, "a two-digit offset hour")
            try reader.expect(":")
            let minutes = try reader.digits(2, "two-digit offset minutes")
            guard hours <= 23, minutes <= 59 else { throw LiteralSyntaxError("the offset is out of range") }
            offsetMinutes = sign * (hours * 60 + minutes)
        } else {
            throw LiteralSyntaxError("a date-time needs a time zone: Z or an offset such as +01:00")
        }
        guard reader.atEnd else { throw LiteralSyntaxError("unexpected text after the time zone") }
        return midnight + time - offsetMinutes * 60_000
    }

    /// Milliseconds since midnight of `hh:mm`, `hh:mm:ss` or `hh:mm:ss.fff`.
    static func timeOfDay(_ text: String) throws(LiteralSyntaxError) -> Int64 {
        var reader = Reader(bytes: Array(text.utf8))
        let time = try reader.time()
        guard reader.atEnd else { throw LiteralSyntaxError("unexpected text after the time") }
        return time
    }

    private static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`), exact for every four-digit year.
    static func daysSince1970(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Reads bytes, not Characters: every byte of a valid date-time is ASCII, and this runs once
    /// for every observation a bulk upload carries.
    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func expect(_ character: Unicode.Scalar) throws(LiteralSyntaxError) {
            guard take(character) else { throw LiteralSyntaxError("expected '\(character)' at character \(index + 1)") }
        }

        /// The digit at the reading position, if it is one.
        var digit: Int64? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            return Int64(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int, _ what: String) throws(LiteralSyntaxError) -> Int64 {
            var value: Int64 = 0
            for _ in 0..<count {
                guard let digit else { throw LiteralSyntaxError("expected \(what)") }
                value = value * 10 + digit
                index += 1
            }
            return value
        }

        /// `hh:mm[:ss[.fraction]]` in milliseconds.
        mutating func time() throws(LiteralSyntaxError) -> Int64 {
            let hour = try digits(2, "a two-digit hour")
            try expect(":")
            let minute = try digits(2, "two-digit minutes")
            var second: Int64 = 0
            var milliseconds: Int64 = 0
            if take(":") {
                second = try digits(2, "two-digit seconds")
                if take(".") {
                    var scale: Int64 = 100
                    var count = 0
                    while let digit {
                        milliseconds += digit * scale
                        scale /= 10
                        count += 1
                        index += 1
                    }
                    guard (1...9).contains(count) else {
                        throw LiteralSyntaxError("a fraction of a second needs one to nine digits")
                    }
                }
            }
            guard hour <= 23, minute <= 59, second <= 59 else {
                throw LiteralSyntaxError("the time \(hour):\(minute):\(second) is out of range")
            }
            return ((hour * 60 + minute) * 60 + second) * 1000 + milliseconds
        }
    }
}
