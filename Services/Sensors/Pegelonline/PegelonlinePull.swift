import Database
import Foundation
import HTTPTransport
import Logging
import NIOSSL
import SensorThings
import ServiceLifecycle
import Telemetry

/// Pulls readings from sources that speak Pegelonline's REST API v2 (the federal WSV service, a
/// mirror, or another member's Pegelonline view) into the Datastreams whose `properties.pull` names
/// a station and timeseries there:
///
/// ```json
/// "properties": {"pull": {"source": "https://www.pegelonline.wsv.de/webservices/rest-api/v2",
///                         "station": "593647aa-9fea-43ec-a7d6-6476a76ae868", "timeseries": "W"}}
/// ```
///
/// Resumable (each round asks only for what is newer than the Datastream's latest observation, so a
/// restart picks up where it stopped), polite (one request per Datastream per interval, a timeout,
/// doubling back-off per source after a failure) and without duplicates. Only sources the
/// configuration allows are asked: a write token must not be a way to make the service call anywhere.
struct PegelonlinePull: Service {
    let store: SensorStore
    let configuration: SensorsConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64
    let ingestor: Ingestor
    /// Requests and readings, by outcome, for `/metrics`.
    let counts: Counters

    /// What one Datastream asks for.
    struct Assignment: Equatable {
        var datastream: Int64
        var source: String
        var station: String
        var timeseries: String
    }

    func run() async throws {
        let http = HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration()))
        var failures: [String: Int] = [:]
        var resting: [String: Int64] = [:]
        var refused = Set<Int64>()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                for assignment in try await assignments() {
                    guard Self.isAllowed(assignment.source, by: configuration.pullSources) else {
                        if refused.insert(assignment.datastream).inserted {
                            logger.warning(
                                "pull: Datastream \(assignment.datastream) asks \(assignment.source), which pull.sources does not allow"
                            )
                        }
                        continue
                    }
                    if let until = resting[assignment.source], now() < until { continue }
                    do {
                        let stored = try await pull(assignment, with: http)
                        counts.add(["request", "ok"])
                        if stored > 0 { counts.add(["readings", "stored"], stored) }
                        failures[assignment.source] = nil
                        resting[assignment.source] = nil
                    } catch {
                        counts.add(["request", "failed"])
                        let count = (failures[assignment.source] ?? 0) + 1
                        failures[assignment.source] = count
                        let pause = min(Int64(configuration.pullIntervalSeconds) * 1000 << min(count, 6), 3_600_000)
                        resting[assignment.source] = now() + pause
                        if count == 1 || count.isMultiple(of: 10) {
                            logger.warning("pull: \(assignment.source): \(error); trying again in \(pause / 1000) s")
                        }
                    }
                }
            } catch {
                logger.error("pull: cannot read the Datastreams to pull: \(error)")
            }
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .seconds(configuration.pullIntervalSeconds))
            }
        }
        http.closeIdleConnections()
    }

    /// Whether `source` starts with one of the allowed prefixes (whole URLs, so `https://a.example`
    /// does not allow `https://a.example.evil`).
    static func isAllowed(_ source: String, by prefixes: [String]) -> Bool {
        prefixes.contains { prefix in
            source == prefix || source.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
        }
    }

    private func assignments() async throws -> [Assignment] {
        let rows = try await store.pool.withConnection { connection in
            try connection.execute(
                "SELECT id, properties FROM datastreams WHERE properties LIKE '%\"pull\"%' ORDER BY id", [])
        }
        return rows.compactMap { row in
            guard let text = row.optionalText(1), let properties = try? JSONParser.parse(Array(text.utf8)),
                let pull = properties["pull"], let source = pull["source"]?.string,
                let station = pull["station"]?.string, !station.isEmpty
            else { return nil }
            return Assignment(
                datastream: Int64(row.integer(0)), source: source.hasSuffix("/") ? String(source.dropLast()) : source,
                station: station, timeseries: pull["timeseries"]?.string ?? "W")
        }
    }

    /// One round for one Datastream: what is newer than its latest observation; the count stored.
    private func pull(_ assignment: Assignment, with http: HTTPExchange) async throws -> Int {
        let latest = try await store.pool.withConnection { connection in
            try connection.execute(
                "SELECT MAX(phenomenon_time_start) FROM observations WHERE datastream_id = $1",
                [.integer(assignment.datastream)]
            ).first?.optionalInteger(0).map(Int64.init)
        }
        // Pegelonline keeps 31 days: a gauge that was away longer starts 30 days back.
        let earliest = now() - 30 * 86_400_000
        let start = max((latest ?? earliest) + 1, earliest)
        let url =
            "\(assignment.source)/stations/\(EntityReader.percentEncoded(assignment.station))/"
            + "\(EntityReader.percentEncoded(assignment.timeseries))/measurements.json?start="
            + EntityReader.percentEncoded(SensorTime.text(start))
        let answer = try await http.fetch(url, timeout: .seconds(10), limit: 8 << 20)
        guard answer.status == 200 else {
            throw PullError("HTTP \(answer.status) for station \(assignment.station)")
        }
        guard case .array(let items) = try JSONParser.parse(answer.body, maximumDepth: 8) else {
            throw PullError("the answer is not a list of measurements")
        }
        var rows: [JSONValue] = []
        var seen = Set<Int64>()
        for item in items {
            guard let text = item["timestamp"]?.string, let time = SensorTime.milliseconds(text),
                let value = item["value"]?.double, value.isFinite
            else {
                counts.add(["readings", "malformed"])
                continue
            }
            // Only what is newer than what is stored, once: no duplicates on overlapping answers.
            guard time > (latest ?? Int64.min), seen.insert(time).inserted else { continue }
            rows.append(.array([.string(SensorTime.text(time)), .number(value)]))
        }
        guard !rows.isEmpty else { return 0 }
        let writer = EntityWriter(
            store: store, configuration: configuration, now: now, mqtt: ingestor.mqtt, changed: nil)
        let links = try await writer.createObservations(
            .array([
                .object([
                    ("Datastream", .object([("@iot.id", .integer(assignment.datastream))])),
                    ("components", .array([.string("phenomenonTime"), .string("result")])),
                    ("dataArray", .array(rows)),
                ])
            ]))
        return links.filter { $0 != "error" }.count
    }
}

struct PullError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
