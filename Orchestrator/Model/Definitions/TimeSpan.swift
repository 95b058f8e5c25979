/// A length of time written the way operators write it: `30s`, `5m`, `1h30m`, `7d`.
package struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    package var seconds: Int

    package static let syntaxHint =
        "write a number with a unit, such as 30s, 5m, 1h30m or 7d (units d, h, m, s, largest first)"

    package init(seconds: Int) {
        self.seconds = seconds
    }

    /// Parses `1h30m`-style text: units from largest to smallest, each at most once; `nil` when it is
    /// not one. A bare `0` is zero.
    package init?(parsing text: String) {
        if text == "0" {
            seconds = 0
            return
        }
        var total = 0
        var number: Int?
        var previousUnit = Int.max
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let value = (number ?? 0) * 10 + digit
                guard value < 1_000_000_000 else { return nil }
                number = value
                continue
            }
            guard let value = number else { return nil }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            // 1m1m or 30s1h are more likely typos than meant.
            guard unit < previousUnit else { return nil }
            previousUnit = unit
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            total += product
            guard total < 100 * 365 * 86400 else { return nil }
            number = nil
        }
        guard previousUnit != Int.max, number == nil else { return nil }
        seconds = total
    }

    /// The shortest canonical form: `90s` reads back as `1m30s`.
    package var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, symbol) in [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(symbol)"
            rest %= unit
        }
        return text
    }

    package static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }
}
