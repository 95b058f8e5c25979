/// A datastream's current state as a tile: the latest value large, when it was measured, its trend
/// and the level it is in (as words, and hatched when in a warning level), and "stale" when the
/// readings stopped. For a dashboard's first row and for `<img>` on a municipal start page.
struct StatTile {
    var title: String
    var status: GaugeStatus
    var language: ChartLanguage
    var theme: ChartTheme
    var id: String

    static let width = 360
    static let height = 160

    func svg() -> String {
        let words = Words(language: language)
        let german = language == .de
        let unit = status.unit.isEmpty ? "" : " " + status.unit
        let value =
            status.latest.map { SVGText.value($0.value, places: status.places, language: language) + unit } ?? "–"
        var facts: [String] = []
        if let latest = status.latest {
            facts.append(GermanTime.text(latest.time, language: language))
        }
        if let trend = status.trend { facts.append(words.trend(trend)) }
        var state = status.level ?? (status.latest == nil ? (german ? "keine Messwerte" : "no readings") : "normal")
        if status.isStale { state += german ? ", veraltet" : ", stale" }
        let description =
            "\(title): \(value)" + (facts.isEmpty ? "" : " (\(facts.joined(separator: ", ")))") + ". "
            + (german ? "Stand: " : "State: ") + state + "."
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Self.width) \(Self.height)\""
        svg += " width=\"\(Self.width)\" height=\"\(Self.height)\" role=\"img\""
        svg += " aria-labelledby=\"\(id)-title \(id)-desc\" font-family=\"sans-serif\" font-size=\"13\">\n"
        svg += "<title id=\"\(id)-title\">\(SVGText.escape(title))</title>\n"
        svg += "<desc id=\"\(id)-desc\">\(SVGText.escape(description))</desc>\n"
        if status.severity != 0 {
            svg +=
                "<defs><pattern id=\"\(id)-hatch\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" patternTransform=\"rotate(45)\">"
            svg +=
                "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"\(theme.level)\" stroke-width=\"2\"/></pattern></defs>\n"
        }
        svg += "<rect width=\"\(Self.width)\" height=\"\(Self.height)\" fill=\"\(theme.background)\"/>\n"
        svg +=
            "<rect x=\"1\" y=\"1\" width=\"\(Self.width - 2)\" height=\"\(Self.height - 2)\" rx=\"6\" fill=\"none\" stroke=\"\(theme.grid)\"/>\n"
        if status.severity != 0 {
            svg += "<rect x=\"1\" y=\"1\" width=\"14\" height=\"\(Self.height - 2)\" fill=\"url(#\(id)-hatch)\"/>\n"
        }
        svg +=
            "<text x=\"24\" y=\"30\" fill=\"\(theme.text)\" font-size=\"15\" font-weight=\"bold\">\(SVGText.escape(Self.shortened(title, to: 40)))</text>\n"
        svg +=
            "<text x=\"24\" y=\"80\" fill=\"\(theme.text)\" font-size=\"36\" font-weight=\"bold\">\(SVGText.escape(value))</text>\n"
        if !facts.isEmpty {
            svg +=
                "<text x=\"24\" y=\"110\" fill=\"\(theme.muted)\">\(SVGText.escape(facts.joined(separator: " · ")))</text>\n"
        }
        let stateColour = status.isStale ? theme.stale : status.severity != 0 ? theme.level : theme.text
        svg +=
            "<text x=\"24\" y=\"138\" fill=\"\(stateColour)\" font-weight=\"bold\">\(SVGText.escape(state))</text>\n"
        svg += "</svg>\n"
        return svg
    }

    /// `text` cut to `count` characters with an ellipsis, so a long name stays on the tile.
    static func shortened(_ text: String, to count: Int) -> String {
        text.count <= count ? text : String(text.prefix(count - 1)) + "…"
    }
}
