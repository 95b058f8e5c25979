import ServiceSupport

/// Text and numbers as the charts write them: escaped for XML, and formatted without a locale or
/// `String(format:)`, so the same data gives the same bytes everywhere.
enum SVGText {
    static func escape(_ text: String) -> String { MarkupText.escape(text) }

    /// A coordinate to a tenth of a pixel: `12.5`, `-3`, `100`.
    static func coordinate(_ value: Double) -> String {
        decimal(value, places: 1, separator: ".")
    }

    /// A measured value for people: `142,5` in German, `142.5` in English.
    static func value(_ value: Double, places: Int, language: ChartLanguage) -> String {
        decimal(value, places: places, separator: language == .de ? "," : ".")
    }

    /// `value` rounded to `places` decimals (0 to 6), trailing zeros kept so columns line up.
    static func decimal(_ value: Double, places: Int, separator: String) -> String {
        guard value.isFinite else { return "–" }
        let places = min(max(places, 0), 6)
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        // Past 2^53 there are no fractions left to show; the charts never draw such values.
        guard scaled < 9e15 else { return value < 0 ? "-∞" : "∞" }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        let fraction = units % Int64(scale)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard places > 0 else { return sign + String(whole) }
        let digits = String(fraction)
        return sign + String(whole) + separator + String(repeating: "0", count: places - digits.count) + digits
    }
}
