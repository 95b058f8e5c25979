import ArgumentParser
import Catalog
import Foundation
import HTTPTransport
import TestSupport

/// The catalog under load (issue: `package_search` with text and facets at p95 < 20 ms over
/// 10,000 datasets): a real `datenplattform catalog` process, concurrent HTTP clients, latency
/// percentiles and throughput.
struct CatalogBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "Measure package_search latency and throughput of the catalog over many datasets.",
        discussion: """
            Fills a fresh catalog with synthetic datasets (through the same create action the API runs),
            starts the built `datenplattform catalog`, and lets concurrent clients search with words,
            filters and all five facets.

            Example:
              swift build -c release --product datenplattform --product stellwerk-bench
              .build/release/stellwerk-bench catalog --datasets 10000 --clients 8 --seconds 15
            """)

    @Option(help: "Datasets in the catalog.") var datasets = 10_000
    @Option(help: "Concurrent clients.") var clients = 8
    @Option(help: "Seconds of load.") var seconds = 15
    @Option(
        help: ArgumentHelp("Keep the catalog in this folder and reuse it when it is filled already.", valueName: "DIR"))
    var folder: String?

    func run() async throws {
        let root =
            folder.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "stellwerk-catalog-bench-\(UUID().uuidString)")
        let filled = FileManager.default.fileExists(atPath: root.appendingPathComponent("filled").path)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(at: root) } }
        let port = try FreePort.find()
        let config = root.appendingPathComponent("catalog.yaml")
        try Data(
            """
            listen: {host: 127.0.0.1, port: \(port)}
            public_url: http://127.0.0.1:\(port)
            database: sqlite:\(root.path)/catalog.sqlite
            admin_token: bench
            log_level: error

            """.utf8
        ).write(to: config)
        let products = ProcessRunner.productsFolder
        let binary = products.appendingPathComponent("datenplattform").path
        guard try Spawn.run(binary, ["catalog", "migrate", "--config", config.path]).status == 0 else {
            throw ValidationError(
                "datenplattform catalog migrate failed; build it: swift build -c release --product datenplattform")
        }

        // Fill: through the create action, as an import would.
        let configuration = try CatalogConfiguration.load(config.path)
        let store = try CatalogStore(location: configuration.database, create: false, connections: 1)
        let actions = CatalogActions(store: store, configuration: configuration)
        let words = SyntheticCatalog.words
        let (_, fill) = try await Measurement.secondsAsync {
            if filled { return }
            for organization in 0..<20 {
                _ = try await actions.perform(
                    "organization_create", Parameters(["name": .string("kommune-\(organization)")]), authorized: true)
            }
            for number in 0..<datasets {
                _ = try await actions.perform("package_create", SyntheticCatalog.dataset(number), authorized: true)
            }
        }
        store.close()
        try Data().write(to: root.appendingPathComponent("filled"))
        print("catalog of \(datasets) datasets filled in \(String(format: "%.1f", fill)) s")

        let http = HTTPExchange(idlePerServer: clients)
        let server = try await BenchService.start(
            ["catalog", "--config", config.path], log: root.appendingPathComponent("log"),
            health: "http://127.0.0.1:\(port)/health", http: http)
        defer { BenchService.stop(server) }
        let base = "http://127.0.0.1:\(port)/api/3/action/package_search?"
        let facets = "facet.field=%5B%22organization%22,%22groups%22,%22tags%22,%22res_format%22,%22license_id%22%5D"
        func encoded(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
        }
        let queries: [String] =
            words.map { "q=\(encoded($0))&\(facets)" }
            + words.prefix(8).map { "q=\(encoded($0))&fq=res_format:CSV&\(facets)" }
            + [
                "\(facets)", "\(facets)&fq=tags:\(encoded(words[3]))&sort=metadata_modified%20desc",
                "q=\(encoded(words[1] + " " + words[5]))&rows=20",
            ]

        // Warm up, then load.
        for query in queries {
            _ = try? await http.fetch(base + query, timeout: .seconds(5))
        }
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    var index = client
                    while ContinuousClock.now < deadline {
                        let url = base + queries[index % queries.count]
                        index += clients
                        let begin = ContinuousClock.now
                        let answer = try await http.fetch(url, timeout: .seconds(10), limit: 16 << 20)
                        let elapsed = ContinuousClock.now - begin
                        guard answer.status == 200 else {
                            throw ValidationError("package_search answered HTTP \(answer.status) to \(url)")
                        }
                        mine.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = ContinuousClock.now - started
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print("package_search with text and five facets, \(clients) clients, \(seconds) s, \(latencies.count) requests")
        print("  throughput: \(String(format: "%.0f", Double(latencies.count) / wall)) requests/s")
        print(
            "  p50: \(Measurement.milliseconds(percentile(0.5)))  p95: \(Measurement.milliseconds(percentile(0.95)))  p99: \(Measurement.milliseconds(percentile(0.99)))"
        )
        print("  p95 target < 20 ms  ratio \(String(format: "%.2f", percentile(0.95) / 0.020))")
        print("  catalog RSS: \(Measurement.megabytes(AgentProcess.residentBytes(server)))")
    }
}

/// Synthetic datasets with German words, so searches find realistic shares of the catalog.
enum SyntheticCatalog {
    static let words = [
        "Pegel", "Haushalt", "Verkehr", "Parken", "Radweg", "Schule", "Wahl", "Baum", "Lärm", "Luft", "Wasser",
        "Energie", "Bevölkerung", "Tourismus", "Kita", "Friedhof", "Spielplatz", "Bus", "Strom", "Müll",
    ]
    static let formats = ["CSV", "JSON", "PDF", "GEOJSON", "XLSX"]
    static let licenses = ["dl-by-de/2.0", "dl-zero-de/2.0", "cc-by/4.0"]
    static let themes = ["envi", "tran", "econ", "gove", "soci", "educ"]

    static func dataset(_ number: Int) -> Parameters {
        let first = words[number % words.count]
        let second = words[(number / words.count) % words.count]
        return Parameters([
            "name": .string("datensatz-\(number)"),
            "title": .string("\(first)daten \(second) \(number)"),
            "notes": .string(
                "Messwerte zu \(first) und \(second) aus Kommune \(number % 20), jährlich fortgeschrieben."),
            "owner_org": .string("kommune-\(number % 20)"),
            "license_id": .string(licenses[number % licenses.count]),
            "tags": .array([.object(["name": .string(first)]), .object(["name": .string(second)])]),
            "groups": .array([.object(["name": .string(themes[number % themes.count])])]),
            "resources": .array(
                (0..<(1 + number % 3)).map { index in
                    .object([
                        "url": .string("https://example.org/\(number)/\(index)"),
                        "format": .string(formats[(number + index) % formats.count]),
                    ])
                }),
        ])
    }
}
