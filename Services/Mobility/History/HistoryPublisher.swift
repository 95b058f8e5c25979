import Foundation
import HTTPTransport
import Logging
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Keeps the history of what the mobility service takes in as SensorThings Datastreams in the
/// sensor service: each car park's free spaces, and each counting station's counts per mode with the
/// sensor service's privacy minimum in their properties (counts below it are stored suppressed
/// there). When a source gave new data, and once a minute, it sends what the sensor service does
/// not have yet, as DataArray rows in
/// one request; Things, Locations, Sensors, ObservedProperties and Datastreams are made when
/// missing and found again by their `properties.mobility` key after a restart, so nothing is sent
/// twice. A sensor service that cannot be reached is asked again the next minute; the readings wait
/// (parking: the newest; counts: as long as their source keeps them).
struct HistoryPublisher: Service {
    let configuration: MobilityConfiguration
    let sensors: MobilityConfiguration.Sensors
    let parking: ParkingFeeds?
    let counts: CountFeeds?
    let status: HistoryStatus
    let logger: Logger
    /// Rung when a source gave new data, so it reaches the sensor service at once.
    let news: Bell

    func run() async throws {
        let writer = SensorThingsWriter(
            baseURL: sensors.url, token: sensors.token,
            http: HTTPExchange(tls: try? NIOSSLContext(configuration: .makeClientConfiguration())))
        var known: [String: Known] = [:]
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await publish(series(at: Date()), with: writer, known: &known)
                status.succeeded()
                if failures > 0 { logger.info("history: \(sensors.url) takes readings again") }
                failures = 0
            } catch {
                if let failure = error as? SensorThingsWriter.Failure, failure.datastreamMissing {
                    // Someone deleted a Datastream: find (or make) them all again.
                    known = [:]
                }
                failures += 1
                status.failed("\(error)")
                if failures == 1 || failures.isMultiple(of: 10) {
                    logger.warning("history: the readings could not be sent to \(sensors.url): \(error)")
                }
            }
            await wait(.seconds(sensors.interval), orUntil: news)
        }
    }

    /// What the publisher knows about one of its Datastreams.
    struct Known {
        var id: Int64
        /// The start of the newest reading the sensor service has.
        var newest: Date?
    }

    /// Every series with its current readings.
    func series(at now: Date) -> [HistorySeries] {
        var series: [HistorySeries] = []
        if let parking {
            series += parking.sites(at: now).map { HistorySeries(site: $0, synthetic: configuration.parking.synthetic) }
        }
        if let counts {
            let byStationAndMode = Dictionary(grouping: counts.counts()) { "\($0.station)/\($0.mode.rawValue)" }
            for station in counts.stations.values.sorted(by: { $0.id < $1.id }) {
                for mode in station.modes {
                    series.append(
                        HistorySeries(
                            station: station, mode: mode,
                            counts: byStationAndMode["\(station.id)/\(mode.rawValue)"] ?? [],
                            minimumCount: configuration.counts.minimumCount, synthetic: configuration.counts.synthetic))
                }
            }
        }
        return series
    }

    /// Sends the readings of `series` that the sensor service does not have yet.
    func publish(_ series: [HistorySeries], with writer: SensorThingsWriter, known: inout [String: Known]) async throws
    {
        var groups: [(datastream: Int64, rows: [[Any]])] = []
        var newest: [String: Date] = [:]
        var resolved: [String: Int64] = [:]
        for item in series where !item.readings.isEmpty {
            if known[item.key] == nil {
                let id = try await datastream(for: item, with: writer, resolved: &resolved)
                known[item.key] = Known(id: id, newest: try await writer.newestTime(of: id))
            }
            guard let entry = known[item.key] else { continue }
            let fresh = item.readings.filter { reading in entry.newest.map { reading.start > $0 } ?? true }
            guard let last = fresh.map(\.start).max() else { continue }
            groups.append((entry.id, fresh.map { [$0.phenomenonTime, $0.value] }))
            newest[item.key] = last
        }
        status.record(datastreams: known.count)
        guard !groups.isEmpty else { return }
        let refused = try await writer.createObservations(groups)
        for (key, date) in newest { known[key]?.newest = date }
        let rows = groups.reduce(0) { $0 + $1.rows.count }
        status.sent(rows: rows, refused: refused)
        if refused > 0 { logger.warning("history: the sensor service refused \(refused) of \(rows) readings") }
    }

    /// The id of the series' Datastream, with its Thing, Sensor and ObservedProperty made when missing;
    /// a Datastream made before gets the series' current properties (a changed privacy minimum).
    private func datastream(
        for item: HistorySeries, with writer: SensorThingsWriter, resolved: inout [String: Int64]
    ) async throws -> Int64 {
        func ensure(
            _ collection: String, _ filter: String, _ entity: () -> [String: Any]
        ) async throws -> Int64 {
            if let id = resolved["\(collection) \(filter)"] { return id }
            let id = try await writer.ensure(collection, where: filter, entity)
            resolved["\(collection) \(filter)"] = id
            return id
        }
        let key = "properties/mobility eq \(SensorThingsWriter.literal(item.key))"
        if let id = try await writer.id(in: "Datastreams", where: key) {
            try await writer.update(datastream: id, properties: item.datastreamProperties)
            return id
        }
        let thing = try await ensure("Things", "properties/mobility eq \(SensorThingsWriter.literal(item.thingKey))") {
            item.thing()
        }
        let sensor = try await ensure("Sensors", "name eq \(SensorThingsWriter.literal(item.sensorName))") {
            [
                "name": item.sensorName, "description": item.sensorDescription, "encodingType": "text/plain",
                "metadata": item.sensorDescription,
            ]
        }
        let property = try await ensure(
            "ObservedProperties", "name eq \(SensorThingsWriter.literal(item.observedProperty))"
        ) {
            [
                "name": item.observedProperty, "description": item.observedProperty,
                "definition": item.observedPropertyDefinition,
            ]
        }
        let id = try await writer.create(
            "Datastreams", item.datastream(thing: thing, sensor: sensor, observedProperty: property))
        logger.info("history: made Datastream \(id) (\(item.name)) in \(sensors.url)")
        return id
    }
}

/// What the history publisher did, for `/api/history`.
final class HistoryStatus: Sendable {
    struct Snapshot: Codable, Sendable {
        var sensors: String
        var datastreams = 0
        var readingsSent = 0
        var readingsRefused = 0
        var lastSentAt: String?
        var lastError: String?
        var lastErrorAt: String?
    }

    private let state: Mutex<Snapshot>

    init(sensors: String) { state = Mutex(Snapshot(sensors: sensors)) }

    var snapshot: Snapshot { state.withLock { $0 } }

    func record(datastreams: Int) { state.withLock { $0.datastreams = datastreams } }

    func sent(rows: Int, refused: Int) {
        state.withLock {
            $0.readingsSent += rows - refused
            $0.readingsRefused += refused
            $0.lastSentAt = Date().formatted(.iso8601)
        }
    }

    func succeeded() { state.withLock { $0.lastError = nil } }

    func failed(_ reason: String) {
        state.withLock {
            $0.lastError = String(reason.prefix(500))
            $0.lastErrorAt = Date().formatted(.iso8601)
        }
    }
}
