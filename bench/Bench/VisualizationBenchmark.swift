import ArgumentParser
import Foundation
import HTTPTransport
import SensorThings
import TestSupport
import Visualization

/// The visualization service under load (issue #16): a 31-day panel of about 9,000 readings and
/// the overview of 50 gauges, rendered cold (each request a new period, so nothing is cached) and
/// from the cache; real `datenplattform sensors` and `datenplattform visualization` processes.
struct VisualizationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualization",
        abstract: "Measure chart and overview render times of the visualization service.",
        discussion: """
            Creates --gauges gauges in a sensor service, the first with 31 days of readings every \
            5 minutes (8,928) and the others with a day, then times the first gauge's 31-day chart \
            and the overview map cold and from the cache. Prints percentiles, ratios to the targets, \
            and the visualization service's peak RSS.

            Example:
              swift build -c release --product datenplattform --product stellwerk-bench
              .build/release/stellwerk-bench visualization
            """)

    @Option(help: "Gauges in the overview.") var gauges = 50
    @Option(help: "Requests to time per measurement.") var requests = 100

    func validate() throws {
        guard (1...500).contains(gauges) else { throw ValidationError("--gauges: 1 to 500") }
        guard (10...100_000).contains(requests) else { throw ValidationError("--requests: 10 to 100000") }
    }

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-visualization-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let host = "127.0.77.2"
        let sensorsPort = try FreePort.find(host: host)
        let chartsPort = try FreePort.find(host: host)
        let sensorsConfig = root.appendingPathComponent("sensors.yaml")
        try Data(
            """
            listen: {host: \(host), port: \(sensorsPort)}
            public_url: http://\(host):\(sensorsPort)
            database: sqlite:\(root.path)/sensors.sqlite
            admin_token: bench
            max_page_size: 10000
            log_level: error

            """.utf8
        ).write(to: sensorsConfig)
        let chartsConfig = root.appendingPathComponent("visualization.yaml")
        try Data(
            """
            listen: {host: \(host), port: \(chartsPort)}
            public_url: http://\(host):\(chartsPort)
            sensors_url: http://\(host):\(sensorsPort)
            cache_for: 1h
            log_level: error

            """.utf8
        ).write(to: chartsConfig)
        let binary = ProcessRunner.productsFolder.appendingPathComponent("datenplattform").path
        guard try Spawn.run(binary, ["sensors", "migrate", "--config", sensorsConfig.path]).status == 0 else {
            throw ValidationError(
                "datenplattform sensors migrate failed; build it: swift build -c release --product datenplattform")
        }
        let http = HTTPExchange()
        let sensors = try await BenchService.start(
            ["sensors", "--config", sensorsConfig.path], log: root.appendingPathComponent("sensors.log"),
            health: "http://\(host):\(sensorsPort)/health", http: http)
        defer { BenchService.stop(sensors) }
        let charts = try await BenchService.start(
            ["visualization", "--config", chartsConfig.path], log: root.appendingPathComponent("visualization.log"),
            health: "http://\(host):\(chartsPort)/health", http: http)
        defer { BenchService.stop(charts) }

        let api = "http://\(host):\(sensorsPort)/v1.1"
        let writing = [("Authorization", "Bearer bench"), ("Content-Type", "application/json")]
        let now = Int64(Date().timeIntervalSince1970 * 1000) / 60_000 * 60_000
        for number in 0..<gauges {
            let body = """
                {"name": "Pegel \(number)", "description": "synthetisch",
                 "Locations": [{"name": "Ort", "description": "-", "encodingType": "application/geo+json",
                   "location": {"type": "Point", "coordinates": [\(7 + Double(number % 10) / 20), \(49.4 + Double(number / 10) / 20)]}}],
                 "Datastreams": [{"name": "Wasserstand \(number)", "description": "synthetisch",
                   "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                   "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "-"},
                   "properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 180}, {"name": "Meldestufe 2", "above": 220}]}},
                   "Sensor": {"name": "Radar", "description": "-", "encodingType": "text/plain", "metadata": "-"},
                   "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "-"}}]}
                """
            let created = try await http.fetch(api + "/Things", method: .POST, headers: writing, body: Data(body.utf8))
            guard created.status == 201 else { throw ValidationError("creating a gauge: HTTP \(created.status)") }
            // The first gauge 31 days every 5 minutes, the others a day every 15.
            let (count, step): (Int, Int64) = number == 0 ? (8_928, 300_000) : (96, 900_000)
            var text =
                #"[{"Datastream": {"@iot.id": \#(number + 1)}, "components": ["phenomenonTime", "result"], "dataArray": ["#
            for index in 0..<count {
                let time = now - Int64(count - 1 - index) * step
                text +=
                    (index > 0 ? "," : "")
                    + "[\"\(SensorTime.text(time))\",\(String(format: "%.2f", Self.level(index)))]"
            }
            text += "]}]"
            let stored = try await http.fetch(
                api + "/CreateObservations", method: .POST, headers: writing, body: Data(text.utf8),
                timeout: .seconds(120))
            guard stored.status == 201 else { throw ValidationError("uploading readings: HTTP \(stored.status)") }
        }

        // The drawing alone, in this process: the same 8,928 readings into SVG.
        let readings = (0..<8_928).map { index in
            TimeSeriesChart.Reading(time: now - Int64(8_927 - index) * 300_000, value: Self.level(index))
        }
        var drawing: [Double] = []
        for round in 0..<requests {
            let chart = TimeSeriesChart(
                series: TimeSeriesChart.Series(
                    title: "Wasserstand 0", unit: "cm", readings: readings,
                    levels: [.init(name: "Meldestufe 1", threshold: 180), .init(name: "Meldestufe 2", threshold: 220)]),
                start: now - 31 * 86_400_000, end: now, rangeName: "letzte 31 Tage", now: now + Int64(round))
            let (_, seconds) = Measurement.seconds { _ = chart.svg() }
            drawing.append(seconds)
        }
        SensorsBenchmark.report(
            "31-day chart of 8,928 readings, drawn (SVG only, in process)", drawing.sorted(), target: 0.030)

        let base = "http://\(host):\(chartsPort)"
        var peak = 0
        func sample() { peak = max(peak, AgentProcess.residentBytes(charts)) }
        // Cold: every request a period one minute further back, so none is in the cache.
        let cold = try await SensorsBenchmark.latencies(http: http, clients: 1, count: requests) { index in
            let end = now - Int64(index) * 60_000
            return "\(base)/datastreams/1.svg?from=\(SensorTime.text(end - 31 * 86_400_000))&to=\(SensorTime.text(end))"
        }
        sample()
        SensorsBenchmark.report(
            "31-day chart of 8,928 readings, read from the sensor service and drawn (cold)", cold, target: 0.030)
        let cached = try await SensorsBenchmark.latencies(http: http, clients: 1, count: requests) { _ in
            "\(base)/datastreams/1.svg?range=31d"
        }
        SensorsBenchmark.report("the same chart from the cache", Array(cached.dropFirst()), target: 0.002)
        let overviewCold = try await SensorsBenchmark.latencies(http: http, clients: 1, count: requests) { index in
            "\(base)/overview.svg?n=\(index)"
        }
        sample()
        SensorsBenchmark.report("overview of \(gauges) gauges, rendered (cold)", overviewCold, target: 0.030)
        let overviewCached = try await SensorsBenchmark.latencies(http: http, clients: 1, count: requests) { _ in
            "\(base)/overview.svg"
        }
        sample()
        SensorsBenchmark.report("the overview from the cache", Array(overviewCached.dropFirst()), target: 0.002)
        print(
            "  visualization RSS (peak): \(Measurement.megabytes(peak))  target < 100 MB  ratio \(String(format: "%.2f", Double(peak) / 100_000_000))"
        )
    }

    /// A synthetic water level: a slow wave with a little deterministic noise.
    static func level(_ index: Int) -> Double {
        let wave = 30 * sin(Double(index) / 40)
        let noise = Double((index * 7919) % 13) / 4
        return 140 + wave + noise
    }
}
