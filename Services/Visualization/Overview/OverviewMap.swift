import Foundation

/// The gauges of a site (or the cluster) on a map drawn on the server: positions projected from
/// their coordinates, an optional outline of the municipality from a GeoJSON file, no map tiles
/// from elsewhere. Each gauge's state is its marker's shape (circle, triangle up for a warning level,
/// triangle down for low water, dashed square for stale readings) and its label, not its colour alone.
struct OverviewMap {
    var gauges: [GaugeStatus]
    /// Rings of longitude/latitude pairs.
    var outline: [[(Double, Double)]] = []
    var title: String
    var language: ChartLanguage = .de
    var theme = ChartTheme.named("hell")
    var id = "overview"

    static let width = 720.0
    static let height = 480.0
    static let margin = 48.0
    static let legendHeight = 36.0

    /// Projects longitude/latitude into the drawing: an equirectangular projection around the
    /// middle latitude (true enough for a district), scaled to fit with the aspect kept.
    struct Projection {
        var minLongitude, maxLatitude, factor, scale, offsetX, offsetY: Double

        init(points: [(Double, Double)]) {
            let longitudes = points.map(\.0)
            let latitudes = points.map(\.1)
            let minLongitude = longitudes.min() ?? 0
            let maxLongitude = longitudes.max() ?? 0
            let minLatitude = latitudes.min() ?? 0
            let maxLatitude = latitudes.max() ?? 0
            factor = Swift.max(cos((minLatitude + maxLatitude) / 2 * .pi / 180), 0.01)
            let spanX = Swift.max((maxLongitude - minLongitude) * factor, 0.01)
            let spanY = Swift.max(maxLatitude - minLatitude, 0.01)
            let width = OverviewMap.width - 2 * OverviewMap.margin
            let height = OverviewMap.height - 2 * OverviewMap.margin - OverviewMap.legendHeight
            scale = Swift.min(width / spanX, height / spanY)
            offsetX = OverviewMap.margin + (width - ((maxLongitude - minLongitude) * factor) * scale) / 2
            offsetY = OverviewMap.margin + (height - (maxLatitude - minLatitude) * scale) / 2
            self.minLongitude = minLongitude
            self.maxLatitude = maxLatitude
        }

        func point(_ longitude: Double, _ latitude: Double) -> (Double, Double) {
            (offsetX + (longitude - minLongitude) * factor * scale, offsetY + (maxLatitude - latitude) * scale)
        }
    }

    func svg() -> String {
        let words = OverviewWords(language: language)
        let placed = gauges.filter { $0.position != nil }
        let projection = Projection(
            points: placed.compactMap { $0.position.map { ($0.longitude, $0.latitude) } } + outline.flatMap { $0 })
        var description = words.summary(gauges)
        if placed.count < gauges.count { description += " " + words.unplaced(gauges.count - placed.count) }

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 480\" width=\"720\" height=\"480\""
        svg += " role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\" font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<title id=\"\(id)-title\">\(SVGText.escape(title))</title>\n"
        svg += "<desc id=\"\(id)-desc\">\(SVGText.escape(description))</desc>\n"
        svg += "<rect width=\"720\" height=\"480\" fill=\"\(theme.background)\"/>\n"
        if !outline.isEmpty {
            var path = ""
            for ring in outline where ring.count >= 3 {
                for (index, point) in ring.enumerated() {
                    let (x, y) = projection.point(point.0, point.1)
                    path += (index == 0 ? "M" : "L") + SVGText.coordinate(x) + " " + SVGText.coordinate(y)
                }
                path += "Z"
            }
            svg +=
                "<path class=\"outline\" d=\"\(path)\" fill=\"none\" stroke=\"\(theme.muted)\" stroke-width=\"1.5\"/>\n"
        }
        if placed.isEmpty {
            svg +=
                "<text x=\"360\" y=\"220\" text-anchor=\"middle\" fill=\"\(theme.text)\" font-size=\"15\">\(SVGText.escape(words.nothingPlaced))</text>\n"
        }
        for gauge in placed {
            guard let position = gauge.position else { continue }
            let (x, y) = projection.point(position.longitude, position.latitude)
            svg += "<g class=\"gauge\"><title>\(SVGText.escape(words.tooltip(gauge)))</title>"
            svg += Self.marker(
                severity: gauge.severity, stale: gauge.isStale || gauge.latest == nil, x: x, y: y, theme: theme)
            let value =
                gauge.latest.map {
                    SVGText.value($0.value, places: 0, language: language)
                        + (gauge.unit.isEmpty ? "" : " " + gauge.unit)
                } ?? "–"
            svg +=
                "<text x=\"\(SVGText.coordinate(x + 11))\" y=\"\(SVGText.coordinate(y - 2))\" fill=\"\(theme.text)\">\(SVGText.escape(gauge.place.isEmpty ? gauge.name : gauge.place))</text>"
            svg +=
                "<text x=\"\(SVGText.coordinate(x + 11))\" y=\"\(SVGText.coordinate(y + 12))\" fill=\"\(theme.muted)\">\(SVGText.escape(value))\(gauge.level.map { " · " + SVGText.escape($0) } ?? "")</text></g>\n"
        }
        // The legend: every shape with its meaning.
        let legendY = Self.height - Self.legendHeight / 2
        var x = Self.margin
        for (severity, stale, label) in [
            (0, false, words.normal), (1, false, words.warning), (-1, false, words.low), (0, true, words.stale),
        ] {
            svg += Self.marker(severity: severity, stale: stale, x: x, y: legendY, theme: theme, numbered: false)
            svg +=
                "<text x=\"\(SVGText.coordinate(x + 12))\" y=\"\(SVGText.coordinate(legendY + 4))\" fill=\"\(theme.text)\">\(SVGText.escape(label))</text>\n"
            x += 170
        }
        svg += "</svg>\n"
        return svg
    }

    /// A gauge's marker: its shape says its state (with the level's number when `numbered`).
    static func marker(
        severity: Int, stale: Bool, x: Double, y: Double, theme: ChartTheme, numbered: Bool = true
    ) -> String {
        let cx = SVGText.coordinate(x)
        let cy = SVGText.coordinate(y)
        if stale {
            return
                "<rect x=\"\(SVGText.coordinate(x - 6))\" y=\"\(SVGText.coordinate(y - 6))\" width=\"12\" height=\"12\" fill=\"\(theme.background)\" stroke=\"\(theme.stale)\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/>"
        }
        if severity > 0 {
            let points = [(x, y - 9), (x + 8, y + 6), (x - 8, y + 6)].map {
                SVGText.coordinate($0.0) + "," + SVGText.coordinate($0.1)
            }
            var marker =
                "<polygon points=\"\(points.joined(separator: " "))\" fill=\"\(theme.level)\" stroke=\"\(theme.text)\" stroke-width=\"1\"/>"
            if numbered {
                marker +=
                    "<text x=\"\(cx)\" y=\"\(SVGText.coordinate(y + 4.5))\" text-anchor=\"middle\" font-size=\"9\" font-weight=\"bold\" fill=\"\(theme.background)\">\(severity)</text>"
            }
            return marker
        }
        if severity < 0 {
            let points = [(x, y + 9), (x + 8, y - 6), (x - 8, y - 6)].map {
                SVGText.coordinate($0.0) + "," + SVGText.coordinate($0.1)
            }
            return
                "<polygon points=\"\(points.joined(separator: " "))\" fill=\"\(theme.background)\" stroke=\"\(theme.level)\" stroke-width=\"2\"/>"
        }
        return "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"6\" fill=\"\(theme.line)\"/>"
    }
}

/// The overview's words, in German and English.
struct OverviewWords {
    var language: ChartLanguage

    var normal: String { language == .de ? "normal" : "normal" }
    var warning: String { language == .de ? "Warnstufe (Nummer)" : "warning level (number)" }
    var low: String { language == .de ? "Niedrigwasser" : "low water" }
    var stale: String { language == .de ? "veraltet / keine Daten" : "stale / no data" }
    var nothingPlaced: String {
        language == .de ? "Keine Messstelle mit bekanntem Ort." : "No gauge with a known position."
    }

    func unplaced(_ count: Int) -> String {
        language == .de
            ? "\(count) ohne bekannten Ort (nur in der Liste)."
            : "\(count) without a known position (in the list only)."
    }

    func summary(_ gauges: [GaugeStatus]) -> String {
        let warning = gauges.filter { $0.severity > 0 }.map {
            "\($0.place.isEmpty ? $0.name : $0.place) (\($0.level ?? ""))"
        }
        let low = gauges.filter { $0.severity < 0 }.map { $0.place.isEmpty ? $0.name : $0.place }
        let stale = gauges.filter(\.isStale).map { $0.place.isEmpty ? $0.name : $0.place }
        var text =
            language == .de
            ? (gauges.count == 1 ? "1 Messstelle." : "\(gauges.count) Messstellen.")
            : (gauges.count == 1 ? "1 gauge." : "\(gauges.count) gauges.")
        if !warning.isEmpty {
            text +=
                (language == .de ? " In einer Warnstufe: " : " At a warning level: ") + warning.joined(separator: ", ")
                + "."
        }
        if !low.isEmpty {
            text += (language == .de ? " Niedrigwasser: " : " Low water: ") + low.joined(separator: ", ") + "."
        }
        if !stale.isEmpty {
            text += (language == .de ? " Veraltet: " : " Stale: ") + stale.joined(separator: ", ") + "."
        }
        if warning.isEmpty && low.isEmpty && stale.isEmpty {
            text += language == .de ? " Alle im normalen Bereich." : " All within the normal range."
        }
        return text
    }

    func tooltip(_ gauge: GaugeStatus) -> String {
        var text = gauge.place.isEmpty ? gauge.name : "\(gauge.place): \(gauge.name)"
        if let latest = gauge.latest {
            text +=
                " " + SVGText.value(latest.value, places: 1, language: language)
                + (gauge.unit.isEmpty ? "" : " " + gauge.unit)
            text += ", " + GermanTime.text(latest.time, language: language)
        }
        if let level = gauge.level { text += ", " + level }
        if gauge.isStale { text += ", " + stale }
        return text
    }
}
