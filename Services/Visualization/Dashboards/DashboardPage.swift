/// A dashboard as a page: its panels in order, each with its chart inline, its own SVG and CSV
/// addresses (for `<img>` on other sites), the data as a table behind a disclosure, and the
/// catalog's dataset where the panel names one. No script; one stylesheet.
struct DashboardPage {
    var dashboard: Dashboard
    /// Each panel as drawn, or the placeholder that stands in its place.
    var panels: [(panel: Panel, rendered: RenderedPanel)]
    /// The preset the visitor chose for every panel; nil shows each panel's own.
    var range: String?
    var language: ChartLanguage
    var portalURL: String?
    /// What the catalog said about each linked dataset, by name.
    var datasets: [String: DatasetTitles.Answer] = [:]
    /// The path links start with (`VisualizationConfiguration.pathPrefix`).
    var prefix: String

    func html() -> String {
        let german = language == .de
        let title = german ? dashboard.title : dashboard.titleEnglish ?? dashboard.title
        let base = "\(prefix)/dashboards/\(dashboard.id)"
        let english = german ? "" : "lang=en"
        func query(_ pairs: String?...) -> String {
            let items = pairs.compactMap { $0 }.filter { !$0.isEmpty }
            return items.isEmpty ? "" : "?" + items.joined(separator: "&amp;")
        }
        var html = VisualizationPage.head(title: title, language: language.rawValue, prefix: prefix)
        html += "<main>\n<h1>\(SVGText.escape(title))</h1>\n"
        if let description = dashboard.description { html += "<p>\(SVGText.escape(description))</p>\n" }
        html += "<nav aria-label=\"\(german ? "Zeitraum und Sprache" : "Period and language")\"><ul class=\"periods\">"
        for (preset, _) in ChartRequest.presets {
            let current = range == preset ? " aria-current=\"page\"" : ""
            html +=
                "<li><a href=\"\(base)\(query("range=\(preset)", english))\"\(current)>\(ChartRequest.presetName(preset, language: language))</a></li>"
        }
        html +=
            german
            ? "<li><a href=\"\(base)\(query(range.map { "range=\($0)" }, "lang=en"))\" hreflang=\"en\" lang=\"en\">English</a></li>"
            : "<li><a href=\"\(base)\(query(range.map { "range=\($0)" }))\" hreflang=\"de\" lang=\"de\">Deutsch</a></li>"
        html += "</ul></nav>\n"
        for (index, entry) in panels.enumerated() {
            let panel = entry.panel
            let heading = "p\(index)-heading"
            let address = "\(base)/panel/\(panel.id)"
            let rangeQuery = panel.kind == .timeseries || panel.kind == .bars ? range.map { "range=\($0)" } : nil
            html += "<section class=\"panel panel-\(panel.kind.rawValue)\" aria-labelledby=\"\(heading)\">\n"
            html +=
                "<h2 id=\"\(heading)\">\(SVGText.escape(panel.title ?? Self.kindName(panel.kind, german: german)))</h2>\n"
            html += VisualizationPage.figure(entry.rendered.svg, narrow: entry.rendered.narrowSVG)
            html += "<details><summary>\(german ? "Daten als Tabelle" : "Data as a table")</summary>\n"
            html += entry.rendered.table + "</details>\n"
            html += "<p class=\"downloads\"><a href=\"\(address).svg\(query(rangeQuery, english))\">SVG</a> · "
            html += "<a href=\"\(address).csv\(query(rangeQuery))\">\(german ? "Daten als CSV" : "Data as CSV")</a>"
            if let dataset = panel.dataset { html += datasetLink(dataset, german: german) }
            html += "</p>\n</section>\n"
        }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    /// The link to a panel's dataset on the portal, named by its title in the catalog; without a
    /// link when the catalog has no such dataset, and saying so when the catalog does not answer.
    func datasetLink(_ name: String, german: Bool) -> String {
        let label: String
        switch datasets[name] {
        case .title(let title)?: label = (german ? "Datensatz: " : "Dataset: ") + SVGText.escape(title)
        case .missing?:
            return german
                ? " · Datensatz „\(name)“ steht nicht im Katalog" : " · Dataset “\(name)” is not in the catalogue"
        case .unavailable?:
            label =
                german
                ? "Datensatz „\(name)“ (Katalog derzeit nicht erreichbar)"
                : "Dataset “\(name)” (catalogue not answering)"
        case nil: label = german ? "Datensatz im Datenportal" : "Dataset on the data portal"
        }
        guard let portalURL else { return " · " + label }
        return " · <a href=\"\(SVGText.escape(portalURL))/dataset/\(name)\">\(label)</a>"
    }

    static func kindName(_ kind: Panel.Kind, german: Bool) -> String {
        switch kind {
        case .timeseries: german ? "Verlauf" : "Time series"
        case .stat: german ? "Aktueller Wert" : "Current value"
        case .bars: german ? "Balken" : "Bars"
        case .overview: german ? "Übersicht" : "Overview"
        }
    }

    /// The site's dashboards, linked.
    static func list(_ dashboards: [Dashboard], language: ChartLanguage, prefix: String) -> String {
        let german = language == .de
        let suffix = german ? "" : "?lang=en"
        var html = VisualizationPage.head(title: "Dashboards", language: language.rawValue, prefix: prefix)
        html += "<main>\n<h1>Dashboards</h1>\n<ul>\n"
        for dashboard in dashboards {
            let title = german ? dashboard.title : dashboard.titleEnglish ?? dashboard.title
            html += "<li><a href=\"\(prefix)/dashboards/\(dashboard.id)\(suffix)\">\(SVGText.escape(title))</a></li>\n"
        }
        html += "</ul>\n"
        if dashboards.isEmpty {
            html +=
                german
                ? "<p>Für diesen Standort sind keine Dashboards eingerichtet.</p>\n"
                : "<p>This site has no dashboards.</p>\n"
        }
        html += "<p><a href=\"\(prefix)/\(suffix)\">\(german ? "Pegelübersicht" : "Gauge overview")</a></p>\n"
        return html + "</main>\n</body>\n</html>\n"
    }
}
