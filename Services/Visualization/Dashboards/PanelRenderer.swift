import SensorThings
import ServiceSupport

/// One panel drawn from its sources: the SVG, the CSV of exactly the data drawn, and a table of
/// the same data for the page (the chart's text alternative).
struct RenderedPanel: Sendable {
    var svg: String
    var csv: String
    var table: String
    /// The same drawn for a phone; nil where the panel is narrow already (a tile, a placeholder).
    var narrowSVG: String? = nil
}

/// Draws the panels of dashboards from the sensor services they read.
struct PanelRenderer: Sendable {
    var sources: [String: ChartSource]
    var outline: [[(Double, Double)]]
    var theme: ChartTheme
    /// The path links start with (`VisualizationConfiguration.pathPrefix`).
    var prefix: String

    /// `range` overrides the panel's own preset; `id` prefixes the ids inside the SVG.
    func render(
        _ panel: Panel, range: String?, language: ChartLanguage, now: Int64, id: String
    ) async throws(SensorSource.Failure) -> RenderedPanel {
        let preset = ChartRequest.presets.first { $0.name == (range ?? panel.range) } ?? ChartRequest.presets[0]
        let start = now - preset.milliseconds
        let rangeName = ChartRequest.presetName(preset.name, language: language)
        switch panel.kind {
        case .overview:
            return try await overview(panel, language: language, now: now, id: id)
        case .timeseries, .stat, .bars:
            guard let query = panel.datastream, let source = sources[panel.source] else {
                throw .unavailable("panel \(panel.id) has no source")
            }
            var datastream = try await source.datastream(query)
            switch panel.thresholds {
            case .datastream: break
            case .none: (datastream.levels, datastream.low) = ([], nil)
            case .given(let levels): (datastream.levels, datastream.low) = (levels, nil)
            }
            let title = panel.title ?? datastream.name
            switch panel.kind {
            case .stat:
                // The week before is enough to see the latest reading, or that it is stale.
                let readings = try await source.readings(datastream.id, from: now - 7 * 86_400_000, to: now, now: now)
                let status = GaugeStatus(datastream: datastream, position: nil, recent: readings.suffix(12), now: now)
                let tile = StatTile(title: title, status: status, language: language, theme: theme, id: id)
                let latest = status.latest.map { [$0] } ?? []
                return RenderedPanel(
                    svg: tile.svg(), csv: Self.readingsCSV(latest),
                    table: Self.readingsTable(latest, unit: datastream.unit, language: language))
            case .bars:
                let readings = try await source.readings(datastream.id, from: start, to: now, now: now)
                let chart = BarChart(
                    title: title, unit: datastream.unit,
                    bars: BarChart.bars(
                        readings, bucket: panel.bucket, aggregate: panel.aggregate, start: start, end: now),
                    thresholds: datastream.levels, start: start, end: now, rangeName: rangeName,
                    aggregateName: Self.aggregateName(panel, language: language), language: language, theme: theme,
                    id: id)
                return RenderedPanel(
                    svg: chart.svg(), csv: chart.csv(), table: Self.barsTable(chart, language: language),
                    narrowSVG: chart.narrowed.svg())
            default:
                let readings = try await source.readings(datastream.id, from: start, to: now, now: now)
                let chart = TimeSeriesChart(
                    series: TimeSeriesChart.Series(
                        title: title, unit: datastream.unit, readings: readings, levels: datastream.levels,
                        low: datastream.low, expectedInterval: datastream.expectedInterval),
                    start: start, end: now, rangeName: rangeName, now: now, language: language, theme: theme, id: id)
                return RenderedPanel(
                    svg: chart.svg(), csv: chart.csv(),
                    table: Self.readingsTable(chart.drawable.readings, unit: datastream.unit, language: language),
                    narrowSVG: chart.narrowed.svg())
            }
        }
    }

    /// Every gauge of the panel's sources; a source that does not answer is named under the map
    /// rather than blanking the whole overview, unless none answers.
    private func overview(
        _ panel: Panel, language: ChartLanguage, now: Int64, id: String
    ) async throws(SensorSource.Failure) -> RenderedPanel {
        var gauges: [GaugeStatus] = []
        var silent: [String] = []
        var lastFailure: SensorSource.Failure?
        for name in panel.sources {
            guard let source = sources[name] else { continue }
            do {
                var found = try await source.sensors.gauges(now: now)
                for index in found.indices { found[index].source = name }
                gauges += found
            } catch {
                silent.append(name)
                lastFailure = error
            }
        }
        if silent.count == panel.sources.count, let lastFailure { throw lastFailure }
        let map = OverviewMap(
            gauges: gauges, outline: outline, title: panel.title ?? (language == .de ? "Pegelübersicht" : "Gauges"),
            language: language, theme: theme, id: id)
        var table = OverviewPage.table(gauges, language: language, prefix: prefix)
        if !silent.isEmpty {
            table +=
                "<p class=\"note\">"
                + (language == .de ? "Nicht erreichbar: " : "Not answering: ")
                + MarkupText.escape(silent.joined(separator: ", ")) + "</p>\n"
        }
        var csv = "source,datastream,name,phenomenonTime,result,level,stale\n"
        for gauge in GaugeStatus.ordered(gauges) {
            csv += "\(gauge.source),\(gauge.datastream),\(Self.csvField(gauge.name)),"
            csv += gauge.latest.map { "\(SensorTime.text($0.time)),\(CSVNumber.text($0.value))" } ?? ","
            csv += ",\(Self.csvField(gauge.level ?? "")),\(gauge.isStale)\n"
        }
        return RenderedPanel(svg: map.svg(), csv: csv, table: table, narrowSVG: map.narrowed.svg())
    }

    static func aggregateName(_ panel: Panel, language: ChartLanguage) -> String {
        let per =
            panel.bucket >= 86_400_000
            ? (language == .de ? "je Tag" : "per day") : (language == .de ? "je Stunde" : "per hour")
        let what: String
        switch (panel.aggregate, language) {
        case (.max, .de): what = "Höchstwert"
        case (.min, .de): what = "Tiefstwert"
        case (.mean, .de): what = "Mittelwert"
        case (.sum, .de): what = "Summe"
        case (.max, .en): what = "Highest"
        case (.min, .en): what = "Lowest"
        case (.mean, .en): what = "Mean"
        case (.sum, .en): what = "Sum"
        }
        return "\(what) \(per)"
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func readingsCSV(_ readings: [TimeSeriesChart.Reading]) -> String {
        "phenomenonTime,result\n"
            + readings.map { "\(SensorTime.text($0.time)),\(CSVNumber.text($0.value))\n" }.joined()
    }

    /// The newest readings first, at most a page's worth.
    static func readingsTable(_ readings: [TimeSeriesChart.Reading], unit: String, language: ChartLanguage) -> String {
        let german = language == .de
        let rows = VisualizationPage.tableRows
        var html = "<div class=\"table\"><table>\n<caption>\(german ? "Die letzten Messwerte" : "The latest readings")"
        if readings.count > rows {
            html +=
                german
                ? " (\(rows) von \(readings.count); alle im CSV)" : " (\(rows) of \(readings.count); all in the CSV)"
        }
        let unit = unit.isEmpty ? "" : " (\(MarkupText.escape(unit)))"
        html += "</caption>\n<thead><tr><th scope=\"col\">\(german ? "Zeit" : "Time")</th>"
        html += "<th scope=\"col\">\(german ? "Wert" : "Value")\(unit)</th></tr></thead>\n<tbody>\n"
        for reading in readings.suffix(rows).reversed() {
            html += "<tr><td>\(GermanTime.text(reading.time, language: language))</td>"
            html += "<td>\(SVGText.value(reading.value, places: 1, language: language))</td></tr>\n"
        }
        if readings.isEmpty {
            html += "<tr><td colspan=\"2\">\(Words(language: language).noReadings)</td></tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    static func barsTable(_ chart: BarChart, language: ChartLanguage) -> String {
        let german = language == .de
        let unit = chart.unit.isEmpty ? "" : " (\(MarkupText.escape(chart.unit)))"
        var html = "<div class=\"table\"><table>\n<caption>\(MarkupText.escape(chart.aggregateName))</caption>\n"
        html += "<thead><tr><th scope=\"col\">\(german ? "Ab" : "From")</th>"
        html += "<th scope=\"col\">\(german ? "Wert" : "Value")\(unit)</th>"
        html += "<th scope=\"col\">\(german ? "Messwerte" : "Readings")</th></tr></thead>\n<tbody>\n"
        for bar in chart.bars.reversed() {
            html += "<tr><td>\(GermanTime.text(bar.start, language: language))</td>"
            html += "<td>\(SVGText.value(bar.value, places: 1, language: language))</td><td>\(bar.readings)</td></tr>\n"
        }
        if chart.bars.isEmpty {
            html += "<tr><td colspan=\"3\">\(Words(language: language).noReadings)</td></tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }
}
