import Foundation
import HTTPTransport
import SensorThings

/// A sensor service as the charts read it: its datastreams, found by id or by name, and their
/// readings through a cache of their own.
struct ChartSource: Sendable {
    let name: String
    let sensors: SensorSource
    let readings: ReadingCache

    init(name: String, url: String, timeout: Duration, cacheMilliseconds: Int64) {
        self.name = name
        sensors = SensorSource(baseURL: url, timeout: timeout, http: HTTPExchange())
        readings = ReadingCache(lifetime: cacheMilliseconds)
    }

    /// The datastream a panel names.
    func datastream(_ query: Panel.DatastreamQuery) async throws(SensorSource.Failure) -> SensorSource.Datastream {
        switch query {
        case .id(let id): return try await sensors.datastream(id)
        case .name(let name): return try await sensors.datastream(try await sensors.datastreamID(named: name))
        }
    }

    /// The readings of `id` from `start` to `end`, refused when there are more than a chart reads.
    func readings(
        _ id: Int64, from start: Int64, to end: Int64, now: Int64
    ) async throws(SensorSource.Failure)
        -> [TimeSeriesChart.Reading]
    {
        let sensors = self.sensors
        let readings = try await readings.readings(id, from: start, to: end, now: now) {
            (start, end) async throws(SensorSource.Failure) in
            try await sensors.readings(id, from: start, to: end)
        }
        guard readings.count <= SensorSource.readingLimit else { throw .tooMany(readings.count) }
        return readings
    }
}

extension SensorSource {
    /// The id of the one datastream called `name`; not found when there is none, and refused when
    /// the name is not unique, since a dashboard must not show a chart picked at random.
    func datastreamID(named name: String) async throws(Failure) -> Int64 {
        var components = URLComponents(string: "\(baseURL)/v1.1/Datastreams")
        let quoted = name.replacingOccurrences(of: "'", with: "''")
        components?.queryItems = [
            URLQueryItem(name: "$filter", value: "name eq '\(quoted)'"), URLQueryItem(name: "$select", value: "id"),
            URLQueryItem(name: "$top", value: "2"),
        ]
        guard let url = components?.url?.absoluteString else { throw .unavailable("bad sensor service address") }
        guard case .array(let values)? = try await get(url)["value"] else {
            throw .unavailable("the datastreams are not a SensorThings page")
        }
        guard values.count < 2 else { throw .ambiguous(name) }
        guard case .integer(let id)? = values.first?["@iot.id"] else {
            throw .notFound("no datastream is called '\(name)'")
        }
        return id
    }
}
