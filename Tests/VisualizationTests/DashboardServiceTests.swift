import Foundation
import HTTPTransport
import TestSupport
import Testing

/// Dashboards served by a real `datenplattform visualization` over a real sensor service: the shipped
/// dashboards of Kusel over Kusel's seeded gauges, every panel alone as SVG and CSV, and a
/// placeholder in a panel's place — never a broken page — when a datastream or a source is missing.
@Suite(.serialized) struct DashboardServiceTests {
    static let http = VisualizationServiceTests.http

    /// A sensor service holding a member's synthetic gauges with `days` of readings.
    static func seededSensors(
        site: String, host: String, root: URL, days: Int
    ) async throws -> (pid: pid_t, url: String) {
        try await VisualizationServiceTests.startSensors(host: host, root: root) { config in
            let gauges = Fixtures.repositoryRoot.appendingPathComponent("Services/Seed/gauges.json").path
            let seeded = try await ProcessRunner.run(
                "datenplattform",
                ["sensors", "seed", gauges, "--site", site, "--days", String(days), "--config", config.path], in: root)
            guard seeded.status == 0 else { throw TestServerError("sensors seed: \(seeded.standardError)") }
        }
    }

    @Test func shippedKuselDashboards_drawEveryPanelFromTheSeededGauges() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-dashboards")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await Self.seededSensors(
            site: "kusel", host: "127.0.66.7", root: root, days: 31)
        defer { ServiceLauncher.stop(&sensors) }
        let shipped = Fixtures.repositoryRoot.appendingPathComponent("Environments/local-sandbox/dashboards/kusel.yaml")
        var (service, url) = try await VisualizationServiceTests.visualization(
            host: "127.0.66.8", root: root, sensors: sensorsURL,
            extra: "dashboards: \(shipped.path)\nportal_url: http://127.0.90.2:8102", publicPath: "/grafiken")
        defer { ServiceLauncher.stop(&service) }

        // Public under /grafiken (as behind a site's proxy, which takes the path off): links keep it.
        let list = try await Self.http.fetch(url + "/dashboards")
        #expect(list.status == 200)
        #expect(
            list.text.contains("<a href=\"/grafiken/dashboards/pegel\">Pegelstände im Landkreis Kusel</a>"),
            "\(list.text)")
        #expect(list.text.contains("<link rel=\"stylesheet\" href=\"/grafiken/static/visualization.css\">"))
        #expect(list.text.contains("<a href=\"/grafiken/\">Pegelübersicht</a>"))
        let overview = try await Self.http.fetch(url + "/")
        #expect(overview.text.contains("<a href=\"/grafiken/dashboards/pegel\">Pegelstände im Landkreis Kusel</a>"))
        #expect(overview.text.contains("<a href=\"/grafiken/datastreams/"), "\(overview.text)")
        #expect(!overview.text.contains("href=\"/dashboards") && !overview.text.contains("href=\"/datastreams"))

        let page = try await Self.http.fetch(url + "/dashboards/pegel")
        #expect(page.status == 200, "\(page.text.prefix(800))")
        #expect(page.header("Cache-Control") == "public, max-age=60")
        #expect(page.text.contains("<h1>Pegelstände im Landkreis Kusel</h1>"))
        for heading in [
            "Glan – Kusel Glanbrücke", "Lauter – Lauterecken", "Wasserstand Kusel Glanbrücke",
            "Tageshöchstwerte Lauterecken", "Alle Pegel im Landkreis Kusel",
        ] {
            #expect(page.text.contains(">\(heading)</h2>"), "\(heading)")
        }
        #expect(!page.text.contains("nicht erreichbar") && !page.text.contains("nicht gefunden"), "\(page.text)")
        #expect(page.text.contains("<a href=\"http://127.0.90.2:8102/dataset/pegelmessstellen-kusel\">"))
        #expect(page.text.components(separatedBy: "<details>").count == 8)

        let english = try await Self.http.fetch(url + "/dashboards/pegel?lang=en&range=24h")
        #expect(english.text.contains("<h1>Water levels in the district of Kusel</h1>"))
        #expect(english.text.contains("aria-current=\"page\">last 24 hours</a>"))

        for panel in [
            "kusel-jetzt", "lauterecken-jetzt", "kusel", "kusel-tage", "lauterecken", "lauterecken-tage", "karte",
        ] {
            let svg = try await Self.http.fetch(url + "/dashboards/pegel/panel/\(panel).svg")
            #expect(svg.status == 200 && svg.header("Content-Type") == "image/svg+xml; charset=utf-8", "\(panel)")
            try TimeSeriesChartTests.expectWellFormed(svg.text, panel)
            let csv = try await Self.http.fetch(url + "/dashboards/pegel/panel/\(panel).csv")
            #expect(csv.status == 200 && csv.header("Content-Type") == "text/csv; charset=utf-8", "\(panel)")
        }
        // Each chart also comes drawn for a phone: inline beside the wide one, and alone with size=narrow.
        #expect(page.text.components(separatedBy: "<div class=\"narrow\">").count - 1 == 5, "\(page.text.prefix(600))")
        for (panel, size) in [
            ("kusel", "360 374"), ("kusel-tage", "360 374"), ("karte", "360 440"), ("kusel-jetzt", "360 160"),
        ] {
            let narrow = try await Self.http.fetch(url + "/dashboards/pegel/panel/\(panel).svg?size=narrow")
            #expect(narrow.text.contains("viewBox=\"0 0 \(size)\""), "\(panel): \(narrow.text.prefix(300))")
            try TimeSeriesChartTests.expectWellFormed(narrow.text, "\(panel), narrow")
        }
        let tile = try await Self.http.fetch(url + "/dashboards/pegel/panel/kusel-jetzt.svg")
        #expect(tile.text.contains(" cm</text>") && tile.text.contains(">normal</text>"), "\(tile.text)")
        // 31 days of daily peaks: one bar per German calendar day that has readings.
        let bars = try await Self.http.fetch(url + "/dashboards/pegel/panel/kusel-tage.csv")
        let rows = bars.text.split(separator: "\n")
        #expect(rows.first == "start,end,value,readings")
        #expect((31...33).contains(rows.count), "\(rows.count) lines")
        let map = try await Self.http.fetch(url + "/dashboards/pegel/panel/karte.csv")
        #expect(map.text.split(separator: "\n").count == 3, "\(map.text)")
    }

    @Test func missingDatastreamsAndSources_becomePlaceholders_andBadRequestsAreRefused() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-dashboards")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await VisualizationServiceTests.sensors(host: "127.0.66.9", root: root)
        let dashboards = root.appendingPathComponent("dashboards.yaml")
        try Data(
            """
            sources:
              zweite: \(sensorsURL)
              tot: http://127.0.66.12:9
            dashboards:
              - id: test
                title: Test
                panels:
                  - {id: da, type: timeseries, datastream: Wasserstand Kusel, thresholds: [{value: 130, label: Achtung}], dataset: pegel-kusel}
                  - {id: fehlt, type: stat, datastream: Gibt es nicht}
                  - {id: zaehlung, type: bars, datastream: 1, bucket: 1h, aggregate: sum}
                  - {id: verbund, type: overview, sources: [sensors, zweite, tot]}

            """.utf8
        ).write(to: dashboards)
        var (service, url) = try await VisualizationServiceTests.visualization(
            host: "127.0.66.10", root: root, sensors: sensorsURL,
            extra:
                "dashboards: \(dashboards.path)\ncatalog_url: http://127.0.66.12:9\nportal_url: http://127.0.66.12:8102"
        )
        defer { ServiceLauncher.stop(&service) }
        defer { ServiceLauncher.stop(&sensors) }

        let page = try await Self.http.fetch(url + "/dashboards/test")
        #expect(page.status == 200)
        #expect(
            page.text.contains("Einen Datenstrom „Gibt es nicht“ gibt es beim Sensordienst nicht."), "\(page.text)")
        #expect(page.header("Cache-Control") == "public, max-age=5")
        #expect(page.text.contains(">Achtung</text>"))
        // The catalog does not answer: the dataset is still linked, and the page says why it has no title.
        #expect(
            page.text.contains(
                "<a href=\"http://127.0.66.12:8102/dataset/pegel-kusel\">Datensatz „pegel-kusel“ (Katalog derzeit nicht erreichbar)</a>"
            ), "\(page.text)")
        #expect(page.text.contains("<p class=\"note\">Nicht erreichbar: tot</p>"))
        // The same gauge through two sources: twice on the map, once linked (the site's own).
        let overview = try await Self.http.fetch(url + "/dashboards/test/panel/verbund.csv")
        let lines = overview.text.split(separator: "\n")
        #expect(lines.count == 3 && lines.contains { $0.hasPrefix("zweite,1,") }, "\(overview.text)")
        let sums = try await Self.http.fetch(url + "/dashboards/test/panel/zaehlung.csv")
        #expect(sums.text.split(separator: "\n").count >= 24, "\(sums.text)")

        for (path, status, text) in [
            ("/dashboards/test/panel/fehlt.svg?lang=en", 404, "has no datastream called “Gibt es nicht”"),
            ("/dashboards/nichts", 404, "Ein Dashboard nichts gibt es hier nicht."),
            ("/dashboards/test/panel/nichts.svg", 404, "hat kein Feld nichts"),
            ("/dashboards/test/panel/da.png", 400, "PANEL.svg or PANEL.csv"),
            ("/dashboards/test?range=10y", 400, "range must be one of 24h, 7d, 31d"),
            ("/dashboards/test/panel/da.svg?lang=fr", 400, "lang must be de or en"),
            ("/dashboards?lang=xx", 400, "lang must be de or en"),
            ("/dashboards/test/panel/da.svg?size=huge", 400, "size must be wide or narrow"),
        ] {
            let answer = try await Self.http.fetch(url + path)
            #expect(answer.status == status, "\(path): \(answer.status)")
            #expect(answer.text.contains(text), "\(path): \(answer.text.prefix(600))")
            if path.hasSuffix(".svg") || path.contains(".svg?") {
                try TimeSeriesChartTests.expectWellFormed(answer.text, path)
            }
        }

        // The sensor service goes away: the page stands, each panel with a placeholder.
        ServiceLauncher.stop(&sensors)
        let down = try await Self.http.fetch(url + "/dashboards/test?range=7d")
        #expect(down.status == 200 && down.text.components(separatedBy: "Daten derzeit nicht erreichbar").count > 4)
        let panel = try await Self.http.fetch(url + "/dashboards/test/panel/da.svg?range=7d")
        #expect(panel.status == 503)
        try TimeSeriesChartTests.expectWellFormed(panel.text, "panel, source down")
        #expect(try await Self.http.fetch(url + "/health").status == 200)
    }

    @Test func badDashboardFile_stopsTheStart_withEveryProblemAndItsLine() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-dashboards")
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("dashboards:\n  - id: a\n    title: A\n    panels:\n      - {id: x, type: torte}\n".utf8)
            .write(to: root.appendingPathComponent("dashboards.yaml"))
        try Data(
            """
            listen: {host: 127.0.66.11, port: 8103}
            public_url: http://127.0.66.11:8103
            sensors_url: http://127.0.66.11:8104
            dashboards: dashboards.yaml

            """.utf8
        ).write(to: root.appendingPathComponent("visualization.yaml"))
        let started = try await ProcessRunner.run(
            "datenplattform", ["visualization", "--config", "visualization.yaml"], in: root)
        #expect(started.status != 0)
        #expect(
            started.standardError.contains(
                "dashboards.yaml:5:23: error: the type 'torte' of panel 'x' is not one of timeseries, stat, bars, overview"
            ), "\(started.standardError)")
        let checked = try await ProcessRunner.run(
            "datenplattform", ["visualization", "check", "dashboards.yaml"], in: root)
        #expect(checked.status == 1)
        #expect(
            checked.standardError
                == "dashboards.yaml:5:23: error: the type 'torte' of panel 'x' is not one of timeseries, stat, bars, overview\n"
        )
    }
}

/// Extreme and random values in every parameter and path of the visualization service: each is
/// answered with a placeholder or a chart, never 5xx, and the process stays (issue #17, scenario 9).
@Suite(.serialized) struct HostileVisualizationRequestTests {
    @Test func everyEndpoint_answersEveryExtremeValue_withoutFallingOver() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-visualization-hostile")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await VisualizationServiceTests.sensors(host: "127.0.66.13", root: root)
        defer { ServiceLauncher.stop(&sensors) }
        let dashboards = root.appendingPathComponent("dashboards.yaml")
        try Data(
            "dashboards:\n  - id: test\n    title: Test\n    panels:\n      - {id: da, type: bars, datastream: 1}\n"
                .utf8
        ).write(to: dashboards)
        var (service, url) = try await VisualizationServiceTests.visualization(
            host: "127.0.66.14", root: root, sensors: sensorsURL, extra: "dashboards: \(dashboards.path)")
        defer { ServiceLauncher.stop(&service) }
        let seed = UInt64.random(in: 0 ... .max)
        for value in HostileValues.extremes + HostileValues.random(seed: seed) {
            let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            for path in [
                "/datastreams/\(encoded).svg", "/datastreams/\(encoded)", "/datastreams/1.svg?range=\(encoded)",
                "/datastreams/1.csv?from=\(encoded)&to=\(encoded)",
                "/datastreams/1?from=2026-01-01T00:00:00Z&to=\(encoded)",
                "/datastreams/1.svg?lang=\(encoded)", "/overview.svg?lang=\(encoded)", "/dashboards/\(encoded)",
                "/dashboards/test?range=\(encoded)&lang=\(encoded)", "/dashboards/test/panel/\(encoded).svg",
                "/dashboards/test/panel/da.csv?range=\(encoded)",
            ] {
                let answer = try await VisualizationServiceTests.http.fetch(url + path)
                #expect(answer.status < 500, "seed \(seed): \(path): \(answer.status)")
            }
        }
        #expect(try await VisualizationServiceTests.http.fetch(url + "/health").status == 200)
    }
}
