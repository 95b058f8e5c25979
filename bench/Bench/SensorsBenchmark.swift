import ArgumentParser
import Foundation
import HTTPTransport
import SensorThings
import TestSupport

/// The sensor service under load (issue #15): batched ingest through the DataArray extension,
/// single-POST ingest, the latest observation of every datastream, and a 31-day range of one
/// datastream among many millions of observations; a real `datenplattform sensors` process on
/// SQLite, driven over HTTP.
struct SensorsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "Measure ingest rates and query latencies of the sensor service.",
        discussion: """
            Creates the datastreams, uploads observations in DataArray batches until the store holds \
            --observations of them (15 minutes apart within each datastream), posts single \
            observations (a round for each number of --post-clients), then asks for the latest \
            observation of each datastream and for 31-day ranges. Prints rates, percentiles, ratios to the targets, and the service's peak RSS.

            Example:
              swift build -c release --product datenplattform --product stellwerk-bench
              .build/release/stellwerk-bench sensors --observations 10000000
            """)

    @Option(help: "Datastreams.") var datastreams = 1000
    @Option(help: "Observations in the store before the queries are measured.") var observations = 10_000_000
    @Option(help: "Rows per DataArray request.") var batch = 10_000
    @Option(help: "Single POSTs to time.") var posts = 5000
    @Option(help: "Concurrent clients for the queries.") var clients = 4
    @Option(
        help: ArgumentHelp(
            "Concurrent senders of single POSTs, one round each: a few gateways, and a busy hour of many.",
            valueName: "N,N…"))
    var postClients = "4,16"
    @Option(help: ArgumentHelp("Keep the store in this folder and reuse it when it is filled.", valueName: "DIR"))
    var folder: String?

    func validate() throws {
        guard (1...100_000).contains(datastreams) else { throw ValidationError("--datastreams: 1 to 100000") }
        guard (0...1_000_000_000).contains(observations) else { throw ValidationError("--observations: 0 to 10^9") }
        guard (1...200_000).contains(batch) else { throw ValidationError("--batch: 1 to 200000") }
        guard (1...1_000_000).contains(posts) else { throw ValidationError("--posts: 1 to 1000000") }
        guard (1...64).contains(clients) else { throw ValidationError("--clients: 1 to 64") }
        _ = try senders()
    }

    func senders() throws -> [Int] {
        let counts = postClients.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0.map { (1...64).contains($0) } ?? false }) else {
            throw ValidationError("--post-clients: numbers from 1 to 64, separated by commas, not '\(postClients)'")
        }
        return counts.compactMap { $0 }
    }

    func run() async throws {
        let root =
            folder.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                "stellwerk-sensors-bench-\(UUID().uuidString)")
        let filled = FileManager.default.fileExists(atPath: root.appendingPathComponent("filled").path)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { if folder == nil { try? FileManager.default.removeItem(at: root) } }
        let host = "127.0.77.1"
        let port = try FreePort.find(host: host)
        let config = root.appendingPathComponent("sensors.yaml")
        try Data(
            """
            listen: {host: \(host), port: \(port)}
            public_url: http://\(host):\(port)
            database: sqlite:\(root.path)/sensors.sqlite
            admin_token: bench
            max_page_size: 10000
            retention: 36500d
            log_level: error

            """.utf8
        ).write(to: config)
        let binary = ProcessRunner.productsFolder.appendingPathComponent("datenplattform").path
        guard try Spawn.run(binary, ["sensors", "migrate", "--config", config.path]).status == 0 else {
            throw ValidationError(
                "datenplattform sensors migrate failed; build it: swift build -c release --product datenplattform")
        }
        let api = "http://\(host):\(port)/v1.1"
        // One kept connection per client, as gateways that each hold theirs open.
        let senders = try senders()
        let http = HTTPExchange(idlePerServer: max(clients, senders.max() ?? 1))
        let server = try await BenchService.start(
            ["sensors", "--config", config.path], log: root.appendingPathComponent("log"),
            health: "http://\(host):\(port)/health", http: http)
        defer { BenchService.stop(server) }
        let writing = [("Authorization", "Bearer bench"), ("Content-Type", "application/json")]
        var peak = 0
        func sample() { peak = max(peak, AgentProcess.residentBytes(server)) }

        // Datastreams of one gauge each, 15-minute readings from 2020 on.
        let start = Int64(1_577_836_800_000)
        let step = Int64(15 * 60 * 1000)
        let perStream = max(1, observations / datastreams)
        if !filled {
            for number in 0..<datastreams {
                let body = """
                    {"name": "Pegel \(number)", "description": "synthetisch",
                     "Locations": [{"name": "Ort \(number)", "description": "synthetisch", "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [\(6 + Double(number % 100) / 50), \(49 + Double(number / 100) / 50)]}}],
                     "Datastreams": [{"name": "Wasserstand \(number)", "description": "synthetisch",
                       "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                       "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "ucum:cm"},
                       "Sensor": {"name": "Radar", "description": "synthetisch", "encodingType": "text/plain", "metadata": "-"},
                       "ObservedProperty": {"name": "Wasserstand", "definition": "urn:wasserstand", "description": "-"}}]}
                    """
                let answer = try await http.fetch(
                    api + "/Things", method: .POST, headers: writing, body: Data(body.utf8), timeout: .seconds(30))
                guard answer.status == 201 else {
                    throw ValidationError("creating a Thing: HTTP \(answer.status) \(answer.text)")
                }
            }
            // Batched ingest: rows for one datastream at a time, oldest first.
            var uploaded = 0
            let (_, seconds) = try await Measurement.secondsAsync {
                for stream in 1...datastreams {
                    var row = 0
                    while row < perStream {
                        let count = min(batch, perStream - row)
                        var text =
                            #"[{"Datastream": {"@iot.id": \#(stream)}, "components": ["phenomenonTime", "result"], "dataArray": ["#
                        for index in 0..<count {
                            let time = Self.iso(start + Int64(row + index) * step)
                            text += (index > 0 ? "," : "") + "[\"\(time)\",\(100 + (row + index) % 50)]"
                        }
                        text += "]}]"
                        let answer = try await http.fetch(
                            api + "/CreateObservations", method: .POST, headers: writing, body: Data(text.utf8),
                            timeout: .seconds(300), limit: 64 << 20)
                        guard answer.status == 201, !answer.text.contains("\"error\"") else {
                            throw ValidationError(
                                "CreateObservations: HTTP \(answer.status) \(answer.text.prefix(200))")
                        }
                        row += count
                        uploaded += count
                        sample()
                    }
                }
            }
            try Data().write(to: root.appendingPathComponent("filled"))
            let rate = Double(uploaded) / seconds
            print(
                "batched ingest (DataArray, \(batch) rows a request): \(uploaded) observations in \(String(format: "%.1f", seconds)) s"
            )
            print(
                "  \(String(format: "%.0f", rate)) observations/s  target ≥ 20000  ratio \(String(format: "%.2f", rate / 20_000))"
            )
        }

        // Single POSTs, as gateways that send each reading by itself; each round after the last.
        var postStart = start + Int64(perStream + 10) * step
        for clients in senders {
            let roundStart = postStart
            let (_, postSeconds) = try await Measurement.secondsAsync {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<clients {
                        group.addTask {
                            var index = client
                            while index < posts {
                                let stream = 1 + index % datastreams
                                let body =
                                    #"{"phenomenonTime": "\#(Self.iso(roundStart + Int64(index) * 1000))", "result": \#(index % 300)}"#
                                let answer = try await http.fetch(
                                    api + "/Datastreams(\(stream))/Observations", method: .POST, headers: writing,
                                    body: Data(body.utf8), timeout: .seconds(30))
                                guard answer.status == 201 else {
                                    throw ValidationError("POST: HTTP \(answer.status) \(answer.text)")
                                }
                                index += clients
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            postStart += Int64(posts + 10) * 1000
            sample()
            let postRate = Double(posts) / postSeconds
            print(
                "single-POST ingest, \(clients) clients: \(posts) observations in \(String(format: "%.1f", postSeconds)) s"
            )
            print(
                "  \(String(format: "%.0f", postRate)) observations/s  target ≥ 2000  ratio \(String(format: "%.2f", postRate / 2000))"
            )
        }

        // The latest observation of each datastream.
        let latest = try await Self.latencies(http: http, clients: clients, count: datastreams) { index in
            "\(api)/Datastreams(\(1 + index))/Observations?%24orderby=phenomenonTime%20desc&%24top=1"
        }
        sample()
        Self.report("latest observation of each of \(datastreams) datastreams", latest, target: 0.020)

        // 31 days of one datastream (2,976 readings), the whole range in one page.
        let days31 = Int64(31 * 86_400_000)
        let ranges = try await Self.latencies(http: http, clients: 1, count: 50) { index in
            let stream = 1 + (index * 37) % datastreams
            let from = start + Int64((index * 997) % max(1, perStream - 3000)) * step
            return "\(api)/Datastreams(\(stream))/Observations?%24filter="
                + "phenomenonTime%20ge%20\(Self.iso(from))%20and%20phenomenonTime%20lt%20\(Self.iso(from + days31))"
                + "&%24orderby=phenomenonTime&%24top=3000&%24select=phenomenonTime,result"
        }
        sample()
        Self.report(
            "a 31-day range of one datastream among \(perStream * datastreams) observations", ranges, target: 0.050)
        print(
            "  service RSS (peak): \(Measurement.megabytes(peak))  target < 150 MB  ratio \(String(format: "%.2f", Double(peak) / 150_000_000))"
        )
    }

    /// The client's own cost stays small: a formatter per row would cost more than the server's insert.
    static func iso(_ milliseconds: Int64) -> String { SensorTime.text(milliseconds) }

    static func latencies(
        http: HTTPExchange, clients: Int, count: Int, url: @escaping @Sendable (Int) -> String
    ) async throws -> [Double] {
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var mine: [Double] = []
                    var index = client
                    while index < count {
                        let begin = ContinuousClock.now
                        let answer = try await http.fetch(url(index), timeout: .seconds(30), limit: 64 << 20)
                        let elapsed = ContinuousClock.now - begin
                        guard answer.status == 200 else {
                            throw ValidationError("GET: HTTP \(answer.status) \(answer.text)")
                        }
                        mine.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                        index += clients
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
    }

    static func report(_ what: String, _ latencies: [Double], target: Double) {
        guard !latencies.isEmpty else { return }
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print("\(what): \(latencies.count) requests")
        print(
            "  p50: \(Measurement.milliseconds(percentile(0.5)))  p95: \(Measurement.milliseconds(percentile(0.95)))  target < \(Measurement.milliseconds(target))  ratio \(String(format: "%.2f", percentile(0.95) / target))"
        )
    }
}
