import SensorThings

/// What a chart request asks for: a datastream, a time range (a preset or `from`/`to`), a
/// language; refused with a message naming the parameter when it does not fit.
struct ChartRequest: Equatable {
    enum Format: String {
        case svg, csv, html
    }

    var datastream: Int64
    var format: Format
    var start: Int64
    var end: Int64
    /// The preset (`24h`, `7d`, `31d`), or nil for an explicit range.
    var preset: String?
    var language: ChartLanguage
    var frame: ChartFrame

    static let presets: [(name: String, milliseconds: Int64)] = [
        ("24h", 86_400_000), ("7d", 7 * 86_400_000), ("31d", 31 * 86_400_000),
    ]
    /// The longest explicit range: a year of quarter-hour readings is what a chart reads.
    static let longestRange: Int64 = 366 * 86_400_000

    struct Refusal: Error, Equatable {
        var message: String
    }

    /// `file` is the last path segment (`12.svg`, `12.csv`, `12`); `query` the decoded pairs.
    init(file: String, query: [(String, String)], now: Int64) throws(Refusal) {
        let (name, format): (Substring, Format) =
            file.hasSuffix(".svg")
            ? (file.dropLast(4), .svg) : file.hasSuffix(".csv") ? (file.dropLast(4), .csv) : (Substring(file), .html)
        guard name.count <= 18, let id = Int64(name), id > 0 else {
            throw Refusal(message: "'\(file.prefix(40))' is not a datastream id (a positive number, then .svg or .csv)")
        }
        datastream = id
        self.format = format
        func value(_ key: String) -> String? { query.last { $0.0 == key }?.1 }
        language = try Self.language(in: query)
        frame = try Self.frame(in: query)
        if value("from") != nil || value("to") != nil {
            guard let start = value("from").flatMap({ SensorTime.milliseconds($0) }) else {
                throw Refusal(message: "from must be an ISO 8601 time such as 2026-12-01T00:00:00Z")
            }
            let to = value("to")
            guard let end = to.map({ SensorTime.milliseconds($0) }) ?? now else {
                throw Refusal(message: "to must be an ISO 8601 time such as 2026-12-06T00:00:00Z")
            }
            guard start < end else { throw Refusal(message: "from must be before to") }
            guard end - start <= Self.longestRange else { throw Refusal(message: "a range is at most 366 days") }
            (self.start, self.end, preset) = (start, end, nil)
        } else {
            let name = try Self.preset(in: query, or: " (or give from and to)") ?? "24h"
            let milliseconds = Self.presets.first { $0.name == name }?.milliseconds ?? 86_400_000
            (self.start, self.end, self.preset) = (now - milliseconds, now, name)
        }
    }

    /// `lang` of a query: `de` (the default) or `en`.
    static func language(in query: [(String, String)]) throws(Refusal) -> ChartLanguage {
        switch query.last(where: { $0.0 == "lang" })?.1 ?? "de" {
        case "de": return .de
        case "en": return .en
        default: throw Refusal(message: "lang must be de or en")
        }
    }

    /// `size` of a query: `wide` (the default) or `narrow` (drawn for a phone).
    static func frame(in query: [(String, String)]) throws(Refusal) -> ChartFrame {
        guard let frame = ChartFrame.named(query.last(where: { $0.0 == "size" })?.1) else {
            throw Refusal(message: "size must be wide or narrow")
        }
        return frame
    }

    /// `range` of a query, when it has one: a preset's name; `alternative` ends the refusal.
    static func preset(in query: [(String, String)], or alternative: String = "") throws(Refusal) -> String? {
        guard let name = query.last(where: { $0.0 == "range" })?.1 else { return nil }
        guard presets.contains(where: { $0.name == name }) else {
            throw Refusal(message: "range must be one of 24h, 7d, 31d\(alternative)")
        }
        return name
    }

    /// A preset as titles and links say it: `letzte 7 Tage`.
    static func presetName(_ preset: String, language: ChartLanguage) -> String {
        switch (preset, language) {
        case ("7d", .de): "letzte 7 Tage"
        case ("31d", .de): "letzte 31 Tage"
        case ("7d", .en): "last 7 days"
        case ("31d", .en): "last 31 days"
        case (_, .de): "letzte 24 Stunden"
        case (_, .en): "last 24 hours"
        }
    }

    /// The range as the chart's title says it.
    var rangeName: String {
        guard let preset else {
            return "\(GermanTime.text(start, language: language)) – \(GermanTime.text(end, language: language))"
        }
        return Self.presetName(preset, language: language)
    }
}
