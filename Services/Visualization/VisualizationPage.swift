import SensorThings

/// A datastream's page: the chart inline, links to the other periods, the SVG and the CSV, and a
/// table of the latest readings as the chart's text alternative. No script; one stylesheet.
struct VisualizationPage {
    var request: ChartRequest
    var datastream: SensorSource.Datastream
    var chart: TimeSeriesChart
    /// The path links start with (`VisualizationConfiguration.pathPrefix`).
    var prefix: String

    static let tableRows = 96

    func html() -> String {
        let german = request.language == .de
        let base = "\(prefix)/datastreams/\(request.datastream)"
        let language = german ? "" : "&lang=en"
        var html = Self.head(
            title: "\(datastream.name) – \(chart.rangeName)", language: request.language.rawValue, prefix: prefix)
        html += "<main>\n<h1>\(SVGText.escape(datastream.name))</h1>\n"
        if !datastream.thing.isEmpty { html += "<p class=\"place\">\(SVGText.escape(datastream.thing))</p>\n" }
        html += "<nav aria-label=\"\(german ? "Zeitraum" : "Period")\"><ul class=\"periods\">"
        for (preset, _) in ChartRequest.presets {
            let label =
                german
                ? ["24h": "24 Stunden", "7d": "7 Tage", "31d": "31 Tage"][preset]!
                : ["24h": "24 hours", "7d": "7 days", "31d": "31 days"][preset]!
            let current = request.preset == preset ? " aria-current=\"page\"" : ""
            html += "<li><a href=\"\(base)?range=\(preset)\(language)\"\(current)>\(label)</a></li>"
        }
        html += "</ul></nav>\n"
        html += Self.figure(chart.svg(), narrow: chart.narrowed.svg(), caption: chart.rangeName)
        let query =
            request.preset.map { "range=\($0)" }
            ?? "from=\(SensorTime.text(request.start))&amp;to=\(SensorTime.text(request.end))"
        html += "<p class=\"downloads\"><a href=\"\(base).svg?\(query)\(language)\">SVG</a> · "
        html += "<a href=\"\(base).csv?\(query)\">\(german ? "Daten als CSV" : "Data as CSV")</a></p>\n"
        html += PanelRenderer.readingsTable(chart.drawable.readings, unit: datastream.unit, language: request.language)
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// A gauge on a wave: the service's icon, drawn here like everything else.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b4f8a"/>\
        <path d="M4 20q6-6 12 0t12 0v8H4z" fill="#ffffff"/><rect x="14" y="4" width="4" height="18" fill="#ffb35c"/></svg>

        """

    /// A chart in a figure, in both sizes when there are two: the stylesheet shows the narrow one
    /// on a phone and the wide one elsewhere (the hidden one is hidden from screen readers too).
    static func figure(_ svg: String, narrow: String?, caption: String? = nil) -> String {
        var html = "<figure>\n"
        if let narrow {
            html += "<div class=\"wide\">\n\(svg)</div>\n<div class=\"narrow\">\n\(narrow)</div>\n"
        } else {
            html += svg
        }
        if let caption { html += "<figcaption>\(SVGText.escape(caption))</figcaption>\n" }
        return html + "</figure>\n"
    }

    static func head(title: String, language: String, prefix: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(language)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(SVGText.escape(title))</title>
        <link rel="stylesheet" href="\(prefix)/static/visualization.css">
        <link rel="icon" href="\(prefix)/static/icon.svg" type="image/svg+xml">
        </head>
        <body>

        """
    }

    /// A page that says why there is no chart.
    static func message(title: String, text: String, prefix: String) -> String {
        head(title: title, language: "de", prefix: prefix)
            + "<main>\n<h1>\(SVGText.escape(title))</h1>\n<p>\(SVGText.escape(text))</p>\n</main>\n</body>\n</html>\n"
    }

    static let stylesheet = """
        body { margin: 0; font-family: system-ui, sans-serif; color: #1b1f23; background: #fff; line-height: 1.5; }
        main { max-width: 760px; margin: 0 auto; padding: 1rem; }
        h1 { font-size: 1.5rem; margin: 0.5rem 0 0; }
        .place { margin: 0 0 1rem; color: #4a535c; }
        .periods { list-style: none; display: flex; gap: 1rem; padding: 0; flex-wrap: wrap; }
        .periods a { color: #0b4f8a; }
        .periods a[aria-current] { font-weight: bold; color: #1b1f23; }
        figure { margin: 0; }
        svg { max-width: 100%; height: auto; }
        figcaption { color: #4a535c; font-size: 0.9rem; }
        a { color: #0b4f8a; }
        a:focus { outline: 3px solid #a33b00; outline-offset: 2px; }
        .table { overflow-x: auto; }
        table { border-collapse: collapse; margin-top: 1rem; width: 100%; }
        td, th { overflow-wrap: anywhere; }
        caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
        th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #d5dade; }
        td:last-child, th:last-child { text-align: right; }
        details { margin: 0.5rem 0; }
        .note { color: #4a535c; }
        /* Charts come in two sizes: on a phone the one drawn 360 units wide, so words keep their size. */
        .narrow { display: none; }
        @media (max-width: 600px) {
          .wide { display: none; }
          .narrow { display: block; }
        }

        """
}
