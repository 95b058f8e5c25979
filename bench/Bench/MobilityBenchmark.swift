import ArgumentParser
import Foundation
import HTTPTransport
import Mobility
import TestSupport

/// The mobility service's timetable (issue #21: import 5,000 stops and 1 million stop times in
/// < 30 s with RSS < 500 MB; departures for a stop at p95 < 10 ms): a synthetic feed of that size
/// imported by a real `datenplattform mobility import` process, then departure boards asked of the
/// running service over HTTP.
struct MobilityBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mobility",
        abstract: "Measure GTFS import time and memory, and departure board latency.",
        discussion: """
            Example:
              swift build -c release --product datenplattform --product stellwerk-bench
              .build/release/stellwerk-bench mobility --stops 5000 --stop-times 1000000
            """)

    @Option(help: "Stops in the feed.") var stops = 5000
    @Option(help: "Stop times in the feed (rounded to whole trips).") var stopTimes = 1_000_000
    @Option(help: "Departure boards asked for.") var requests = 2000

    func run() async throws {
        guard (100...100_000).contains(stops), (10_000...10_000_000).contains(stopTimes),
            (10...100_000).contains(requests)
        else {
            throw ValidationError(
                "--stops (100–100000), --stop-times (10000–10000000) or --requests (10–100000) is out of range")
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "stellwerk-mobility-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // 25 stops a trip, weekday trips and a third as many at weekends, both directions.
        let routes = 200
        let tripsPerDirection = max(3, stopTimes / (routes * 25 * 2) * 3 / 4)
        let feed = SyntheticFeed(stops: stops, routes: routes, stopsPerTrip: 25, tripsPerDirection: tripsPerDirection)
        let zip = root.appendingPathComponent("feed.zip")
        let (_, written) = try Measurement.seconds { try feed.write(to: zip) }
        let size = (try FileManager.default.attributesOfItem(atPath: zip.path)[.size] as? Int) ?? 0
        print("synthetic feed written in \(Measurement.duration(written)): \(Measurement.megabytes(size)) zipped")

        let port = try FreePort.find()
        let config = root.appendingPathComponent("mobility.yaml")
        try Data(
            """
            listen: {host: 127.0.0.1, port: \(port)}
            public_url: http://127.0.0.1:\(port)
            database: sqlite:\(root.path)/mobility.sqlite
            feeds_folder: \(root.path)/gtfs
            log_level: error

            """.utf8
        ).write(to: config)
        let binary = ProcessRunner.productsFolder.appendingPathComponent("datenplattform").path
        guard try Spawn.run(binary, ["mobility", "migrate", "--config", config.path]).status == 0 else {
            throw ValidationError(
                "datenplattform mobility migrate failed; build it: swift build -c release --product datenplattform")
        }
        let output = root.appendingPathComponent("import.out")
        let ((status, anonymous), seconds) = try Measurement.seconds {
            try Spawn.runSamplingMemory(
                binary, ["mobility", "import", zip.path, "--config", config.path], standardOutput: output.path,
                standardError: output.path)
        }
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ValidationError("the import failed: \(printed)") }
        // The largest child this process waited for: the import.
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        let peak = usage.ru_maxrss * 1024
        print(printed.trimmingCharacters(in: .whitespacesAndNewlines))
        print("import: \(Measurement.duration(seconds))  target < 30 s  ratio \(String(format: "%.2f", seconds / 30))")
        print(
            "  peak RSS \(Measurement.megabytes(peak)) (anonymous \(Measurement.megabytes(anonymous)))  target < 500 MB  ratio \(String(format: "%.2f", Double(peak) / 500e6))"
        )

        let http = HTTPExchange(idlePerServer: 1)
        let server = try await BenchService.start(
            ["mobility", "--config", config.path], log: root.appendingPathComponent("log"),
            health: "http://127.0.0.1:\(port)/health", http: http)
        defer { BenchService.stop(server) }
        // Boards at random stops, on weekdays and weekends of the feed's year, at any hour.
        var generator = SystemRandomNumberGenerator()
        var latencies: [Double] = []
        var departures = 0
        for index in 0..<(requests + 50) {
            let stop = "s\(Int.random(in: 0..<stops, using: &generator))"
            let day = Int.random(in: 1...28, using: &generator)
            let hour = Int.random(in: 0...23, using: &generator)
            let at = String(
                format: "2026-11-%02dT%02d:%02d:00%%2B01:00", day, hour, Int.random(in: 0...59, using: &generator))
            let url = "http://127.0.0.1:\(port)/api/stops/\(stop)/departures?at=\(at)&hours=2&limit=20"
            let begin = ContinuousClock.now
            let answer = try await http.fetch(url, timeout: .seconds(10))
            let elapsed = ContinuousClock.now - begin
            guard answer.status == 200 else {
                throw ValidationError("\(url) answered \(answer.status): \(answer.text)")
            }
            // The first ones warm the caches.
            guard index >= 50 else { continue }
            latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            departures += answer.text.components(separatedBy: "\"trip_id\"").count - 1
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print(
            "departure boards over HTTP (\(latencies.count), two hours each, \(String(format: "%.1f", Double(departures) / Double(latencies.count))) departures on average):"
        )
        print(
            "  p50: \(Measurement.milliseconds(percentile(0.5)))  p95: \(Measurement.milliseconds(percentile(0.95)))  p99: \(Measurement.milliseconds(percentile(0.99)))"
        )
        print("  p95 target < 10 ms  ratio \(String(format: "%.2f", percentile(0.95) / 0.010))")
        print("  service RSS: \(Measurement.megabytes(AgentProcess.residentBytes(server)))")
    }
}
