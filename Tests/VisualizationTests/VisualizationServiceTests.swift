import Foundation
import HTTPTransport
import TestSupport
import Testing

/// `datenplattform visualization` against a real sensor service: a gauge's chart as SVG, CSV and
/// page, answered again from the cache with the same ETag (and 304 for a browser that has it), and a
/// placeholder — never a 500 or a broken SVG — for an unknown datastream, a bad range or a sensor
/// service that is down.
@Suite(.serialized) struct VisualizationServiceTests {
    static let http = HTTPExchange()
    static let token = "visualization-test-token"

    /// A migrated sensor service, started after `prepare` ran with its configuration file.
    static func startSensors(
        host: String, root: URL, prepare: (URL) async throws -> Void = { _ in }
    ) async throws -> (pid: pid_t, url: String) {
        let port = try FreePort.find(host: host)
        let config = root.appendingPathComponent("sensors.yaml")
        try Data(
            """
            listen: {host: \(host), port: \(port)}
            public_url: http://\(host):\(port)
            database: sqlite:data/sensors.sqlite
            admin_token: \(token)
            log_level: warning

            """.utf8
        ).write(to: config)
        let migrated = try await ProcessRunner.run(
            "datenplattform", ["sensors", "migrate", "--config", config.path], in: root)
        guard migrated.status == 0 else { throw TestServerError("sensors migrate: \(migrated.standardError)") }
        try await prepare(config)
        let url = "http://\(host):\(port)"
        let pid = try await ServiceLauncher.start(
            ["sensors", "--config", config.path], in: root, log: root.appendingPathComponent("sensors.log"),
            marker: config.path
        ) { (try? await http.fetch(url + "/health"))?.status == 200 }
        return (pid, url)
    }

    /// A running sensor service with one gauge and a day of readings.
    static func sensors(host: String, root: URL) async throws -> (pid: pid_t, url: String) {
        let (pid, url) = try await startSensors(host: host, root: root)
        let formatter = ISO8601DateFormatter()
        let observations = (0..<96).map { index in
            let time = formatter.string(from: Date().addingTimeInterval(-Double(95 - index) * 900 - 60))
            return #"{"phenomenonTime": "\#(time)", "result": \#(120 + index / 2)}"#
        }.joined(separator: ", ")
        let gauge = """
            {"name": "Pegel Kusel", "description": "Glanbrücke",
             "Locations": [{"name": "Glanbrücke", "description": "-", "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [7.398, 49.538]}}],
             "Datastreams": [{"name": "Wasserstand Kusel", "description": "W",
               "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
               "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "-"},
               "properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 150}]},
                              "pegelonline": {"equidistance": 15}},
               "Sensor": {"name": "Radar", "description": "-", "encodingType": "text/plain", "metadata": "-"},
               "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "-"},
               "Observations": [\(observations)]}]}
            """
        let created = try await http.fetch(
            url + "/v1.1/Things", method: .POST,
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: Data(gauge.utf8))
        guard created.status == 201 else { throw TestServerError("creating the gauge: \(created.text)") }
        return (pid, url)
    }

    /// A running visualization service over `sensors`; `extra` adds lines to its configuration, and
    /// `publicPath` is the path of its public address (behind a proxy that takes it off again).
    static func visualization(
        host: String, root: URL, sensors: String, extra: String = "", publicPath: String = ""
    ) async throws -> (pid: pid_t, url: String) {
        let port = try FreePort.find(host: host)
        let config = root.appendingPathComponent("visualization.yaml")
        try Data(
            """
            listen: {host: \(host), port: \(port)}
            public_url: http://\(host):\(port)\(publicPath)
            sensors_url: \(sensors)
            source_timeout: 2s
            cache_for: 1m
            log_level: warning
            \(extra)

            """.utf8
        ).write(to: config)
        let url = "http://\(host):\(port)"
        let pid = try await ServiceLauncher.start(
            ["visualization", "--config", config.path], in: root, log: root.appendingPathComponent("visualization.log"),
            marker: config.path
        ) { (try? await http.fetch(url + "/health"))?.status == 200 }
        return (pid, url)
    }

    @Test func gaugeChart_asSVGCSVAndPage_cachedWithAnETag() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-visualization")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await Self.sensors(host: "127.0.66.1", root: root)
        defer { ServiceLauncher.stop(&sensors) }
        var (service, url) = try await Self.visualization(host: "127.0.66.2", root: root, sensors: sensorsURL)
        defer { ServiceLauncher.stop(&service) }

        let svg = try await Self.http.fetch(url + "/datastreams/1.svg?range=24h")
        #expect(svg.status == 200, "\(svg.text)")
        #expect(svg.header("Content-Type") == "image/svg+xml; charset=utf-8")
        #expect(svg.header("Cache-Control") == "public, max-age=60")
        #expect(svg.text.contains("<title id=\"ds1-title\">Wasserstand Kusel (cm), letzte 24 Stunden</title>"))
        #expect(svg.text.contains("96 Messwerte zwischen 120 cm und 167 cm"), "\(svg.text.prefix(1500))")
        #expect(svg.text.contains(">Meldestufe 1</text>"))
        try TimeSeriesChartTests.expectWellFormed(svg.text, "served chart")

        // Again: from the cache, the same bytes and ETag; a browser that has it gets 304.
        let etag = try #require(svg.header("ETag"))
        let again = try await Self.http.fetch(url + "/datastreams/1.svg?range=24h")
        #expect(again.text == svg.text && again.header("ETag") == etag)
        let revalidated = try await Self.http.fetch(
            url + "/datastreams/1.svg?range=24h", headers: [("If-None-Match", etag)])
        #expect(revalidated.status == 304 && revalidated.body.isEmpty)

        // The data drawn, as CSV.
        let csv = try await Self.http.fetch(url + "/datastreams/1.csv?range=24h")
        let lines = csv.text.split(separator: "\n")
        #expect(lines.first == "phenomenonTime,result" && lines.count == 97, "\(csv.text.prefix(300))")
        #expect(lines.last?.hasSuffix(",167") == true)

        // The page: the chart inline, the periods, a table; English on request.
        let page = try await Self.http.fetch(url + "/datastreams/1?range=7d&lang=en")
        #expect(page.status == 200)
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        #expect(page.text.contains("<html lang=\"en\">") && page.text.contains("<svg"))
        #expect(page.text.contains("aria-current=\"page\">7 days</a>"))
        // Both sizes inline, with ids of their own, so the stylesheet can show the one that fits.
        #expect(page.text.contains("<div class=\"wide\">\n<svg") && page.text.contains("<div class=\"narrow\">\n<svg"))
        #expect(page.text.contains("id=\"ds1-title\"") && page.text.contains("id=\"ds1n-title\""))
        let narrow = try await Self.http.fetch(url + "/datastreams/1.svg?range=7d&size=narrow")
        #expect(narrow.status == 200 && narrow.text.contains("viewBox=\"0 0 360 374\""))
        #expect(
            narrow.header("ETag") != (try await Self.http.fetch(url + "/datastreams/1.svg?range=7d")).header("ETag"))
        #expect(
            page.text.contains("<caption>The latest readings (96 of 96")
                || page.text.contains("<caption>The latest readings</caption>"))

        // A car park's free spaces (as the mobility service keeps them): no gauge, so off the overview.
        let carPark = """
            {"name": "PH Altstadt", "description": "-",
             "Locations": [{"name": "PH Altstadt", "description": "-", "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [7.772, 49.447]}}],
             "Datastreams": [{"name": "Freie Stellplätze PH Altstadt", "description": "-",
               "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
               "unitOfMeasurement": {"name": "Stellplatz", "symbol": "Plätze", "definition": "-"},
               "properties": {"overview": false, "mobility": "parking/ph-altstadt"},
               "Sensor": {"name": "Parkleitsystem", "description": "-", "encodingType": "text/plain", "metadata": "-"},
               "ObservedProperty": {"name": "Freie Stellplätze", "definition": "urn:p", "description": "-"},
               "Observations": [{"result": 112}]}]}
            """
        let created = try await Self.http.fetch(
            sensorsURL + "/v1.1/Things", method: .POST,
            headers: [("Authorization", "Bearer \(Self.token)"), ("Content-Type", "application/json")],
            body: Data(carPark.utf8))
        #expect(created.status == 201, "\(created.text)")

        // The overview: the gauge on the map and in the list, linked to its chart; the car park is not.
        let overview = try await Self.http.fetch(url + "/")
        #expect(!overview.text.contains("Freie Stellplätze"))
        #expect(overview.status == 200, "\(overview.text.prefix(500))")
        #expect(overview.text.contains("<h1>Pegelübersicht</h1>"))
        #expect(
            overview.text.contains("<a href=\"/datastreams/1\">Pegel Kusel – Wasserstand Kusel</a>"), "\(overview.text)"
        )
        #expect(overview.text.contains("1 Messstelle. In einer Warnstufe: Pegel Kusel (Meldestufe 1)."))
        let map = try await Self.http.fetch(url + "/overview.svg?lang=en")
        #expect(map.status == 200 && map.text.contains("<g class=\"gauge\">"))
        let narrowMap = try await Self.http.fetch(url + "/overview.svg?size=narrow")
        #expect(narrowMap.status == 200 && narrowMap.text.contains("viewBox=\"0 0 360 440\""))
        try TimeSeriesChartTests.expectWellFormed(map.text, "overview map")

        let metrics = try await Self.http.fetch(url + "/metrics")
        #expect(
            metrics.text.contains(#"visualization_charts_total{format="svg",status="200",cache="hit"} 2"#),
            "\(metrics.text)")
    }

    @Test func placeholders_standInForWhatCannotBeDrawn() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-visualization")
        defer { try? FileManager.default.removeItem(at: root) }
        var (sensors, sensorsURL) = try await Self.sensors(host: "127.0.66.3", root: root)
        var (service, url) = try await Self.visualization(host: "127.0.66.4", root: root, sensors: sensorsURL)
        defer { ServiceLauncher.stop(&service) }
        defer { ServiceLauncher.stop(&sensors) }

        for (path, status, text) in [
            ("/datastreams/99.svg", 404, "Datenstrom nicht gefunden"),
            ("/datastreams/abc.svg", 400, "is not a datastream id"),
            ("/datastreams/99999999999999999999999.svg", 400, "is not a datastream id"),
            ("/datastreams/1.svg?range=10y", 400, "range must be one of 24h, 7d, 31d"),
            (
                "/datastreams/1.svg?from=2016-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", 400,
                "a range is at most 366 days"
            ),
            ("/datastreams/1.svg?from=gestern", 400, "from must be an ISO 8601 time"),
            ("/datastreams/1.svg?lang=fr", 400, "lang must be de or en"),
            ("/datastreams/1.svg?size=0", 400, "size must be wide or narrow"),
            ("/overview.svg?size=narrower", 400, "size must be wide or narrow"),
        ] {
            let answer = try await Self.http.fetch(url + path)
            #expect(answer.status == status, "\(path): \(answer.status)")
            #expect(answer.text.contains(text), "\(path): \(answer.text.prefix(600))")
            #expect(answer.header("Cache-Control") == "no-store")
            try TimeSeriesChartTests.expectWellFormed(answer.text, path)
        }
        // An explicit range with no readings is a chart that says so, not an error.
        let empty = try await Self.http.fetch(
            url + "/datastreams/1.svg?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")
        #expect(empty.status == 200 && empty.text.contains("Keine Messwerte in diesem Zeitraum."))

        // The sensor service goes away: a placeholder, and the service stays healthy.
        ServiceLauncher.stop(&sensors)
        let down = try await Self.http.fetch(url + "/datastreams/1.svg?range=7d")
        #expect(down.status == 503 && down.text.contains("Daten derzeit nicht erreichbar"), "\(down.text.prefix(400))")
        try TimeSeriesChartTests.expectWellFormed(down.text, "source down")
        let page = try await Self.http.fetch(url + "/datastreams/1?range=7d")
        #expect(page.status == 503 && page.text.contains("<h1>Daten derzeit nicht erreichbar</h1>"))
        let overview = try await Self.http.fetch(url + "/overview.svg")
        #expect(overview.status == 503 && overview.text.contains("Daten derzeit nicht erreichbar"))
        try TimeSeriesChartTests.expectWellFormed(overview.text, "overview, source down")
        #expect(try await Self.http.fetch(url + "/health").status == 200)
    }
}
