import Foundation
import HTTPTransport
import SensorThings

/// Reads datastreams and their readings through the sensor service's SensorThings API, as any
/// SensorThings client does.
struct SensorSource: Sendable {
    /// The sensor service without `/v1.1`.
    let baseURL: String
    let timeout: Duration
    let http: HTTPExchange

    /// The most readings one chart reads (a year of quarter-hour readings).
    static let readingLimit = 40_000

    enum Failure: Error, Equatable {
        /// No such datastream.
        case notFound(String)
        /// The source did not answer, or not as a SensorThings API does.
        case unavailable(String)
        /// More readings in the range than a chart reads.
        case tooMany(Int)
        /// More than one datastream has the name a dashboard gives.
        case ambiguous(String)
    }

    /// What a chart needs to know about a datastream.
    struct Datastream: Sendable, Equatable {
        var id: Int64
        var name: String
        var thing: String
        var unit: String
        var levels: [TimeSeriesChart.Level]
        var low: TimeSeriesChart.Level?
        /// From the Pegelonline properties (`equidistance` in minutes), when given.
        var expectedInterval: Int64?
        /// Whether its results are counts (`OM_CountObservation`: free spaces, vehicles), shown
        /// without decimals.
        var isCount = false
    }

    func datastream(_ id: Int64) async throws(Failure) -> Datastream {
        let document = try await get("\(baseURL)/v1.1/Datastreams(\(id))?%24expand=Thing(%24select=name)")
        return try Self.datastream(id, from: document)
    }

    /// A Datastream as the API answers it (with its Thing's name expanded).
    static func datastream(_ id: Int64, from document: JSONValue) throws(Failure) -> Datastream {
        guard let name = document["name"]?.string else {
            throw .unavailable("Datastream \(id) has no name: not a SensorThings answer")
        }
        let properties = document["properties"] ?? .null
        let (levels, low) = Self.levels(in: properties)
        var interval: Int64?
        if let minutes = properties["pegelonline"]?["equidistance"]?.double, minutes >= 1, minutes <= 1440 {
            interval = Int64(minutes) * 60_000
        }
        return Datastream(
            id: id, name: name, thing: document["Thing"]?["name"]?.string ?? "",
            unit: document["unitOfMeasurement"]?["symbol"]?.string ?? "", levels: levels, low: low,
            expectedInterval: interval,
            isCount: document["observationType"]?.string?.hasSuffix("OM_CountObservation") == true)
    }

    /// The warning levels a chart shows: the Datastream's alert levels, else MHW and MNW from its
    /// characteristic values.
    static func levels(in properties: JSONValue) -> ([TimeSeriesChart.Level], TimeSeriesChart.Level?) {
        var levels: [TimeSeriesChart.Level] = []
        var low: TimeSeriesChart.Level?
        if case .array(let items)? = properties["alerts"]?["levels"] {
            for item in items.prefix(4) {
                guard let name = item["name"]?.string, let above = item["above"]?.double, above.isFinite else {
                    continue
                }
                levels.append(TimeSeriesChart.Level(name: name, threshold: above))
            }
            if let name = properties["alerts"]?["low"]?["name"]?.string,
                let below = properties["alerts"]?["low"]?["below"]?.double, below.isFinite
            {
                low = TimeSeriesChart.Level(name: name, threshold: below)
            }
        } else if let values = CharacteristicValues.list(in: properties) {
            if let high = CharacteristicValues.value("MHW", in: values) {
                levels.append(TimeSeriesChart.Level(name: "MHW", threshold: high))
            }
            if let mean = CharacteristicValues.value("MNW", in: values) {
                low = TimeSeriesChart.Level(name: "MNW", threshold: mean)
            }
        }
        levels.sort { $0.threshold < $1.threshold }
        return (levels, low)
    }

    /// The numeric readings of a datastream from `start` to `end`, oldest first.
    func readings(_ id: Int64, from start: Int64, to end: Int64) async throws(Failure) -> [TimeSeriesChart.Reading] {
        let filter = "phenomenonTime ge \(SensorTime.text(start)) and phenomenonTime le \(SensorTime.text(end))"
        var components = URLComponents(string: "\(baseURL)/v1.1/Datastreams(\(id))/Observations")
        components?.queryItems = [
            URLQueryItem(name: "$filter", value: filter), URLQueryItem(name: "$orderby", value: "phenomenonTime"),
            URLQueryItem(name: "$select", value: "phenomenonTime,result"), URLQueryItem(name: "$top", value: "10000"),
            URLQueryItem(name: "$count", value: "true"),
            // Rows of values rather than an object per reading: a third of the bytes to send and parse.
            URLQueryItem(name: "$resultFormat", value: "dataArray"),
        ]
        guard var next = components?.url?.absoluteString else { throw .unavailable("bad sensor service address") }
        var readings: [TimeSeriesChart.Reading] = []
        var pages = 0
        while true {
            let page = try await get(next)
            if pages == 0, case .integer(let count)? = page["@iot.count"], count > Self.readingLimit {
                throw .tooMany(Int(count))
            }
            guard case .array(let groups)? = page["value"] else {
                throw .unavailable("the observations are not a SensorThings page")
            }
            for group in groups {
                guard case .array(let components)? = group["components"],
                    let timeColumn = components.firstIndex(of: .string("phenomenonTime")),
                    let resultColumn = components.firstIndex(of: .string("result")),
                    case .array(let rows)? = group["dataArray"]
                else { throw .unavailable("the observations are not a DataArray page") }
                for row in rows {
                    // Phenomenon times may be intervals (hourly aggregates): drawn at their start.
                    guard case .array(let cells) = row, cells.count > max(timeColumn, resultColumn),
                        let text = cells[timeColumn].string, let time = SensorTime.interval(text)?.start,
                        let result = cells[resultColumn].double
                    else { continue }
                    readings.append(TimeSeriesChart.Reading(time: time, value: result))
                }
            }
            pages += 1
            guard let link = page["@iot.nextLink"]?.string, readings.count < Self.readingLimit, pages < 20 else {
                break
            }
            // Only links of the same source are followed.
            guard link.hasPrefix(baseURL + "/") else { break }
            next = link
        }
        return readings
    }

    func get(_ url: String) async throws(Failure) -> JSONValue {
        let answer: HTTPAnswer
        do {
            answer = try await http.fetch(url, timeout: timeout, limit: 16 << 20)
        } catch {
            throw .unavailable("\(error)")
        }
        if answer.status == 404 { throw .notFound("no such datastream") }
        guard answer.status == 200 else { throw .unavailable("HTTP \(answer.status)") }
        do {
            return try JSONParser.parse(Array(answer.body))
        } catch {
            throw .unavailable("the answer is not JSON")
        }
    }
}
