/// The start page: every gauge on the map and in a list, most urgent first, each linked to its chart.
struct OverviewPage {
    var gauges: [GaugeStatus]
    var map: OverviewMap
    var language: ChartLanguage
    /// Links to the site's dashboards, when it has any.
    var dashboards: [Dashboard] = []
    /// The path links start with (`VisualizationConfiguration.pathPrefix`).
    var prefix: String

    func html() -> String {
        let suffix = language == .de ? "" : "?lang=en"
        var html = VisualizationPage.head(title: map.title, language: language.rawValue, prefix: prefix)
        html += "<main>\n<h1>\(SVGText.escape(map.title))</h1>\n"
        if !dashboards.isEmpty {
            html += "<nav aria-label=\"Dashboards\"><ul class=\"periods\">"
            for dashboard in dashboards {
                let title = language == .en ? dashboard.titleEnglish ?? dashboard.title : dashboard.title
                html +=
                    "<li><a href=\"\(prefix)/dashboards/\(dashboard.id)\(suffix)\">\(SVGText.escape(title))</a></li>"
            }
            html += "</ul></nav>\n"
        }
        html += VisualizationPage.figure(map.svg(), narrow: map.narrowed.svg())
        html += "<p class=\"downloads\"><a href=\"\(prefix)/overview.svg\(suffix)\">SVG</a></p>\n"
        html += Self.table(gauges, language: language, prefix: prefix)
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// Every gauge, most urgent first; those of the site's own sensor service link to their chart.
    static func table(_ gauges: [GaugeStatus], language: ChartLanguage, prefix: String) -> String {
        let german = language == .de
        let suffix = german ? "" : "?lang=en"
        var html =
            "<div class=\"table\"><table>\n<caption>\(german ? "Alle Messstellen, die dringendsten zuerst" : "Every gauge, most urgent first")</caption>\n"
        html +=
            "<thead><tr><th scope=\"col\">\(german ? "Messstelle" : "Gauge")</th><th scope=\"col\">\(german ? "Wert" : "Value")</th>"
        html +=
            "<th scope=\"col\">\(german ? "Zeit" : "Time")</th><th scope=\"col\">Trend</th><th scope=\"col\">\(german ? "Stand" : "State")</th></tr></thead>\n<tbody>\n"
        let words = Words(language: language)
        for gauge in GaugeStatus.ordered(gauges) {
            let name = SVGText.escape(gauge.place.isEmpty ? gauge.name : "\(gauge.place) – \(gauge.name)")
            html +=
                gauge.source == DashboardFile.ownSource
                ? "<tr><td><a href=\"\(prefix)/datastreams/\(gauge.datastream)\(suffix)\">\(name)</a></td>"
                : "<tr><td>\(name)</td>"
            html +=
                "<td>\(gauge.latest.map { SVGText.value($0.value, places: gauge.places, language: language) + (gauge.unit.isEmpty ? "" : " " + SVGText.escape(gauge.unit)) } ?? "–")</td>"
            html += "<td>\(gauge.latest.map { GermanTime.text($0.time, language: language) } ?? "–")</td>"
            html += "<td>\(gauge.trend.map { words.trend($0) } ?? "–")</td>"
            var state = gauge.level ?? "normal"
            if gauge.latest == nil { state = german ? "keine Messwerte" : "no readings" }
            if gauge.isStale && gauge.latest != nil { state += german ? ", veraltet" : ", stale" }
            html += "<td>\(SVGText.escape(state))</td></tr>\n"
        }
        if gauges.isEmpty {
            html +=
                "<tr><td colspan=\"5\">\(german ? "Der Sensordienst hat keine Datenströme." : "The sensor service has no datastreams.")</td></tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }
}
