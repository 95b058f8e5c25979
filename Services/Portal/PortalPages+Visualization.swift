/// What the portal shows from the site's visualization service: the map of the site's gauges on
/// the home page, and a sensor dataset's chart on its page. Images only, from the service's own
/// address; the page that explains them in words (tables) is one link away.
extension PortalPages {
    /// The extra by which a dataset names its chart: `SITE/DASHBOARD/PANEL`, a panel of a dashboard of
    /// the visualization service of SITE.
    static let panelExtra = "visualization_panel"

    func gaugeOverview() -> String {
        guard let visualization = configuration.visualizationURL else { return "" }
        let german = language == .de
        let suffix = german ? "" : "?lang=en"
        let narrow = Self.narrowQuery(german: german)
        let alt =
            german
            ? "Karte der Pegel mit dem Stand jeder Messstelle; die Liste steht auf der Seite der Pegelübersicht."
            : "Map of the gauges with the state of each; the list is on the gauge overview page."
        return """
            <section aria-labelledby="gauges"><h2 id="gauges">\(german ? "Pegelstände" : "Water levels")</h2>
            <p><a href="\(escape(visualization))/\(suffix)"><picture>\
            <source media="(max-width: 600px)" srcset="\(escape(visualization))/overview.svg\(narrow)" width="360" height="440">\
            <img src="\(escape(visualization))/overview.svg\(suffix)" alt="\(alt)" width="720" height="480" class="chart">\
            </picture></a></p>
            <p><a href="\(escape(visualization))/\(suffix)">\(german ? "Pegelübersicht" : "Gauge overview")</a> · \
            <a href="\(escape(visualization))/dashboards\(suffix)">Dashboards</a></p></section>
            """
    }

    /// The chart a dataset of this portal's own site names in its `visualization_panel` extra.
    func chart(of package: CKANDataset) -> String {
        guard let visualization = configuration.visualizationURL,
            let (dashboard, panel) = Self.panel(package.extras[Self.panelExtra], site: configuration.site)
        else { return "" }
        let german = language == .de
        let suffix = german ? "" : "?lang=en"
        let base = "\(escape(visualization))/dashboards/\(dashboard)"
        let narrow = Self.narrowQuery(german: german)
        let alt =
            german
            ? "Diagramm der aktuellen Messwerte zu „\(escape(package.title))“; die Werte als Tabelle stehen auf der Seite des Dashboards."
            : "Chart of the current readings of “\(escape(package.title))”; the values as a table are on the dashboard's page."
        return """
            <section aria-labelledby="chart"><h2 id="chart">\(german ? "Aktuelle Messwerte" : "Current readings")</h2>
            <figure><picture><source media="(max-width: 600px)" srcset="\(base)/panel/\(panel).svg\(narrow)" \
            width="360" height="374"><img src="\(base)/panel/\(panel).svg\(suffix)" alt="\(alt)" width="720" height="340" \
            class="chart"></picture>
            <figcaption><a href="\(base)\(suffix)">\(german ? "Zum Dashboard mit Tabelle" : "To the dashboard, with a table")</a> · \
            <a href="\(base)/panel/\(panel).csv">\(german ? "Daten als CSV" : "Data as CSV")</a></figcaption></figure></section>
            """
    }

    /// The query of a chart drawn for a phone (the visualization service's `size=narrow`).
    static func narrowQuery(german: Bool) -> String {
        german ? "?size=narrow" : "?lang=en&amp;size=narrow"
    }

    /// The dashboard and panel of `value` when it names a panel of `site`; ids as the visualization
    /// service allows them (lowercase letters, digits, `-`), so nothing else reaches an address.
    static func panel(_ value: String?, site: String) -> (String, String)? {
        guard let parts = value?.split(separator: "/", omittingEmptySubsequences: false), parts.count == 3,
            !site.isEmpty, parts[0] == site,
            parts.dropFirst().allSatisfy({ part in
                (1...60).contains(part.count)
                    && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
            })
        else { return nil }
        return (String(parts[1]), String(parts[2]))
    }
}
