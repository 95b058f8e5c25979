/// Values that break parsers that trust their input: numbers past every integer and floating-point
/// range, signs and exponents, empty and JSON-looking text, quotes, wildcards and very long runs; and
/// random ones from a seed a failing test prints, so the failure can be replayed.
package enum HostileValues {
    package static let extremes = [
        "1e20", "-1e20", "1e300", "-1e300", "1e400", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "NaN", "inf", "-0", "0x10", "", " ", "[]", "{}", "[1e400]",
        "null", "true", "%00", "\u{0}", "'", "\"", "*:*", "name:*", String(repeating: "9", count: 400),
        String(repeating: "a(", count: 300),
    ]

    /// Twelve random values: integers of any size, doubles across their range, printable text, and
    /// numbers with huge exponents.
    package static func random(seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        return (0..<12).map { _ in
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: String(Int64.random(in: .min ... .max, using: &generator))
            case 1: String(Double.random(in: -1e300...1e300, using: &generator))
            case 2:
                String(
                    (0..<Int.random(in: 1...40, using: &generator)).map { _ in
                        Character(UnicodeScalar(UInt8.random(in: 32...126, using: &generator)))
                    })
            default:
                "-" + String(UInt64.random(in: 0 ... .max, using: &generator)) + "e"
                    + String(Int.random(in: 0...999, using: &generator))
            }
        }
    }
}
