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
    /// Drawn 360 wide for a phone (the legend in two rows), so labels keep their size there.
    var narrow = false

    /// The same map drawn for a phone, with ids of its own so both can be inline on one page.
    var narrowed: OverviewMap {
        var copy = self
        (copy.narrow, copy.id) = (true, id + "n")
        return copy
    }

    var width: Double { narrow ? 360 : 720 }
    var height: Double { narrow ? 440 : 480 }
    var margin: Double { narrow ? 28 : 48 }
    var legendHeight: Double { narrow ? 56 : 36 }

    /// Projects longitude/latitude into the drawing: an equirectangular projection around the
    /// middle latitude (true enough for a district), scaled to fit with the aspect kept.
    struct Projection {
        var minLongitude, maxLatitude, factor, scale, offsetX, offsetY: Double

        init(points: [(Double, Double)], map: OverviewMap) {
            let longitudes = points.map(\.0)
            let latitudes = points.map(\.1)
            let minLongitude = longitudes.min() ?? 0
            let maxLongitude = longitudes.max() ?? 0
            let minLatitude = latitudes.min() ?? 0
            let maxLatitude = latitudes.max() ?? 0
            factor = Swift.max(cos((minLatitude + maxLatitude) / 2 * .pi / 180), 0.01)
            let spanX = Swift.max((maxLongitude - minLongitude) * factor, 0.01)
            let spanY = Swift.max(maxLatitude - minLatitude, 0.01)
            let width = map.width - 2 * map.margin
            let height = map.height - 2 * map.margin - map.legendHeight
            scale = Swift.min(width / spanX, height / spanY)
            offsetX = map.margin + (width - ((maxLongitude - minLongitude) * factor) * scale) / 2
            offsetY = map.margin + (height - (maxLatitude - minLatitude) * scale) / 2
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
            points: placed.compactMap { $0.position.map { ($0.longitude, $0.latitude) } } + outline.flatMap { $0 },
            map: self)
        var description = words.summary(gauges)
        if placed.count < gauges.count { description += " " + words.unplaced(gauges.count - placed.count) }

        let (width, height) = (Int(self.width), Int(self.height))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\""
        svg += " height=\"\(height)\" role=\"img\" aria-labelledby=\"\(id)-title \(id)-desc\""
        svg += " font-family=\"sans-serif\" font-size=\"12\">\n"
        svg += "<title id=\"\(id)-title\">\(SVGText.escape(title))</title>\n"
        svg += "<desc id=\"\(id)-desc\">\(SVGText.escape(description))</desc>\n"
        svg += "<rect width=\"\(width)\" height=\"\(height)\" fill=\"\(theme.background)\"/>\n"
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
                "<text x=\"\(width / 2)\" y=\"\(height / 2 - 20)\" text-anchor=\"middle\" fill=\"\(theme.text)\" font-size=\"15\">\(SVGText.escape(words.nothingPlaced))</text>\n"
        }
        let points = placed.map { gauge in
            gauge.position.map { projection.point($0.longitude, $0.latitude) } ?? (0, 0)
        }
        let labels = labelPlaces(placed, at: points)
        for (index, gauge) in placed.enumerated() {
            let (x, y) = points[index]
            svg += "<g class=\"gauge\"><title>\(SVGText.escape(words.tooltip(gauge)))</title>"
            svg += Self.marker(
                severity: gauge.severity, stale: gauge.isStale || gauge.latest == nil, x: x, y: y, theme: theme)
            if let label = labels[index] {
                let lines = Self.labelLines(gauge, language: language)
                let anchor = label.anchor == "start" ? "" : " text-anchor=\"\(label.anchor)\""
                if let end = label.leaderEnd {
                    svg +=
                        "<line x1=\"\(SVGText.coordinate(x))\" y1=\"\(SVGText.coordinate(end < y ? y - 10 : y + 10))\" x2=\"\(SVGText.coordinate(x))\" y2=\"\(SVGText.coordinate(end))\" stroke=\"\(theme.muted)\"/>"
                }
                svg +=
                    "<text x=\"\(SVGText.coordinate(label.x))\" y=\"\(SVGText.coordinate(label.y))\"\(anchor) fill=\"\(theme.text)\">\(SVGText.escape(lines.place))</text>"
                svg +=
                    "<text x=\"\(SVGText.coordinate(label.x))\" y=\"\(SVGText.coordinate(label.y + 14))\"\(anchor) fill=\"\(theme.muted)\">\(SVGText.escape(lines.value))</text>"
            }
            svg += "</g>\n"
        }
        // The legend: every shape with its meaning.
        let entries = [
            (0, false, words.normal), (1, false, words.warning), (-1, false, words.low), (0, true, words.stale),
        ]
        let perRow = narrow ? 2 : 4
        for (index, (severity, stale, label)) in entries.enumerated() {
            let row = Double(index / perRow)
            let legendY = self.height - legendHeight + (narrow ? 16 + 24 * row : legendHeight / 2)
            let x = (narrow ? 20 : margin) + Double(index % perRow) * 160
            svg += Self.marker(severity: severity, stale: stale, x: x, y: legendY, theme: theme, numbered: false)
            svg +=
                "<text x=\"\(SVGText.coordinate(x + 12))\" y=\"\(SVGText.coordinate(legendY + 4))\" fill=\"\(theme.text)\">\(SVGText.escape(label))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// A label's two lines: where, and the latest value with the level.
    static func labelLines(_ gauge: GaugeStatus, language: ChartLanguage) -> (place: String, value: String) {
        let value =
            gauge.latest.map {
                SVGText.value($0.value, places: 0, language: language) + (gauge.unit.isEmpty ? "" : " " + gauge.unit)
            } ?? "–"
        return (gauge.place.isEmpty ? gauge.name : gauge.place, value + (gauge.level.map { " · " + $0 } ?? ""))
    }

    /// Where a label's first line starts (its baseline) and how it is anchored.
    struct LabelPlace: Equatable {
        var x: Double
        var y: Double
        var anchor: String
        /// The box the two lines cover, for the overlap test.
        var box: Box
        /// Where a thin line from the marker ends, when the label sits away from it.
        var leaderEnd: Double? = nil
    }

    struct Box: Equatable {
        var left, top, right, bottom: Double

        func overlaps(_ other: Box) -> Bool {
            left < other.right && other.left < right && top < other.bottom && other.top < bottom
        }
    }

    /// A place for each gauge's label that overlaps no marker, no other label and no edge: to the
    /// right of its marker, else left, above or below; the most urgent gauges choose first. A label
    /// with no free place is left out (nil): the marker stays, with its tooltip, and the list below
    /// the map names every gauge. Widths are estimated from the characters (0.6 em each), which
    /// errs wide for the proportional fonts browsers use.
    func labelPlaces(_ gauges: [GaugeStatus], at points: [(Double, Double)]) -> [LabelPlace?] {
        let markers = points.map { Box(left: $0.0 - 9, top: $0.1 - 10, right: $0.0 + 9, bottom: $0.1 + 10) }
        let drawing = Box(left: 2, top: 2, right: width - 2, bottom: height - legendHeight)
        var taken: [Box] = []
        var places = [LabelPlace?](repeating: nil, count: gauges.count)
        let order = gauges.indices.sorted { GaugeStatus.isMoreUrgent(gauges[$0], than: gauges[$1]) }
        for index in order {
            let lines = Self.labelLines(gauges[index], language: language)
            let wide = Double(max(lines.place.count, lines.value.count)) * 12 * 0.6
            let (x, y) = points[index]
            // Beside the marker first; then above and below it, further out each time with a thin
            // line to the marker, so the label of a gauge among many still finds a place.
            var candidates = [
                LabelPlace(
                    x: x + 11, y: y - 2, anchor: "start",
                    box: Box(left: x + 10, top: y - 13, right: x + 12 + wide, bottom: y + 16)),
                LabelPlace(
                    x: x - 11, y: y - 2, anchor: "end",
                    box: Box(left: x - 12 - wide, top: y - 13, right: x - 10, bottom: y + 16)),
            ]
            // Centred over or under a gauge near the edge, the label moves inwards to stay whole.
            let centre = min(max(x, drawing.left + wide / 2), drawing.right - wide / 2)
            for away in stride(from: 0.0, through: 90, by: 30) {
                candidates.append(
                    LabelPlace(
                        x: centre, y: y - 27 - away, anchor: "middle",
                        box: Box(
                            left: centre - wide / 2, top: y - 38 - away, right: centre + wide / 2, bottom: y - 10 - away
                        ),
                        leaderEnd: away > 0 ? y - 10 - away : nil))
                candidates.append(
                    LabelPlace(
                        x: centre, y: y + 23 + away, anchor: "middle",
                        box: Box(
                            left: centre - wide / 2, top: y + 11 + away, right: centre + wide / 2, bottom: y + 40 + away
                        ),
                        leaderEnd: away > 0 ? y + 11 + away : nil))
            }
            func leader(_ place: LabelPlace) -> Box? {
                place.leaderEnd.map { Box(left: x - 1, top: min($0, y), right: x + 1, bottom: max($0, y)) }
            }
            let free = candidates.first { candidate in
                candidate.box.left >= drawing.left && candidate.box.right <= drawing.right
                    && candidate.box.top >= drawing.top && candidate.box.bottom <= drawing.bottom
                    && !taken.contains { $0.overlaps(candidate.box) || leader(candidate).map($0.overlaps) == true }
                    && !markers.enumerated().contains { $0.offset != index && $0.element.overlaps(candidate.box) }
            }
            if let free {
                places[index] = free
                taken.append(free.box)
                if let line = leader(free) { taken.append(line) }
            }
        }
        return places
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
                " " + SVGText.value(latest.value, places: gauge.places, language: language)
                + (gauge.unit.isEmpty ? "" : " " + gauge.unit)
            text += ", " + GermanTime.text(latest.time, language: language)
        }
        if let level = gauge.level { text += ", " + level }
        if gauge.isStale { text += ", " + stale }
        return text
    }
}
