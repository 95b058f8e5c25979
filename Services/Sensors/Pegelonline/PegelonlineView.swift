import Database
import Foundation
import SensorThings

/// The platform's own gauges shaped like Pegelonline's REST API v2 (the federal WSV service), so
/// tools and apps written for it (de-pegel-online, the WSV's own widgets) read the municipal gauges:
/// `stations.json`, `stations/{station}.json`, `stations/{station}/{timeseries}.json`,
/// `stations/{station}/{timeseries}/measurements.json` and `waters.json`, below `/pegelonline/v2`.
///
/// A station is a Thing with `properties.pegelonline` (uuid, number, shortname, longname, km, agency,
/// water); its position is its first Location. A timeseries is a Datastream of that Thing with
/// `properties.pegelonline` (shortname such as `W`, longname, equidistance, gaugeZero,
/// characteristicValues); its unit is the Datastream's unit symbol.
struct PegelonlineView: Sendable {
    let store: SensorStore
    let now: @Sendable () -> Int64

    /// The longest measurement range one request may ask for, as Pegelonline allows.
    static let longestRange: Int64 = 31 * 86_400_000

    /// An error in Pegelonline's shape, `{"status": 404, "msg": "…"}`.
    struct Failure: Error {
        var status: Int
        var message: String

        var body: String {
            JSONValue.object([("status", .integer(Int64(status))), ("msg", .string(message))]).text
        }
    }

    struct Station {
        var thing: Int64
        var uuid: String
        var number: String
        var shortname: String
        var longname: String
        var km: Double?
        var agency: String
        var water: (shortname: String, longname: String)?
        var longitude: Double?
        var latitude: Double?
        var timeseries: [Timeseries] = []

        func matches(_ name: String) -> Bool {
            let wanted = name.lowercased()
            return [uuid, number, shortname].contains { $0.lowercased() == wanted }
        }
    }

    struct Timeseries {
        var datastream: Int64
        var shortname: String
        var longname: String
        var unit: String
        var equidistance: Double?
        var gaugeZero: JSONValue?
        var characteristicValues: [JSONValue]

        /// A characteristic value by its shortname (`MNW`, `MHW`, `HSW`, …).
        func characteristic(_ name: String) -> Double? {
            CharacteristicValues.value(name, in: characteristicValues)
        }
    }

    /// Answers `path` (below `/pegelonline/v2/`) with `query` as JSON text.
    func answer(_ path: String, query: [(String, String)]) async throws -> String {
        func flag(_ name: String) -> Bool { query.last { $0.0 == name }?.1.lowercased() == "true" }
        func value(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        let segments = path.split(separator: "/").map(String.init)
        let stations = try await loadStations()
        switch segments.count {
        case 1 where segments[0] == "stations.json":
            var chosen = stations
            if let ids = value("ids") {
                let wanted = ids.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                chosen = chosen.filter { station in wanted.contains { station.matches($0) } }
            }
            if let waters = value("waters") {
                let wanted = Set(waters.uppercased().split(separator: ",").map(String.init))
                chosen = chosen.filter { wanted.contains(($0.water?.shortname ?? "").uppercased()) }
            }
            if let timeseries = value("timeseries") {
                chosen = chosen.filter {
                    $0.timeseries.contains { $0.shortname.uppercased() == timeseries.uppercased() }
                }
            }
            if let fuzzy = value("fuzzyId")?.lowercased(), !fuzzy.isEmpty {
                chosen = chosen.filter { station in
                    [station.uuid, station.number, station.shortname, station.longname].contains {
                        $0.lowercased().contains(fuzzy)
                    }
                }
            }
            if value("latitude") != nil || value("longitude") != nil || value("radius") != nil {
                guard let latitude = Self.number(value("latitude"), in: -90...90),
                    let longitude = Self.number(value("longitude"), in: -180...180),
                    let radius = Self.number(value("radius"), in: 0...20_000)
                else {
                    throw Failure(
                        status: 400,
                        message: "latitude, longitude and radius (in km) go together, as numbers in their ranges")
                }
                chosen = chosen.filter { station in
                    guard let lat = station.latitude, let lon = station.longitude else { return false }
                    return Self.kilometres(from: (latitude, longitude), to: (lat, lon)) <= radius
                }
            }
            let offset = try Self.count(value("offset"), name: "offset") ?? 0
            let limit = try Self.count(value("limit"), name: "limit") ?? chosen.count
            let page = chosen.dropFirst(offset).prefix(limit)
            var rendered: [JSONValue] = []
            for station in page {
                rendered.append(
                    try await render(
                        station, timeseries: flag("includeTimeseries"), current: flag("includeCurrentMeasurement"),
                        characteristic: flag("includeCharacteristicValues")))
            }
            return JSONValue.array(rendered).text
        case 1 where segments[0] == "waters.json":
            var seen = Set<String>()
            var waters: [JSONValue] = []
            for station in stations {
                guard let water = station.water, seen.insert(water.shortname).inserted else { continue }
                waters.append(
                    .object([("shortname", .string(water.shortname)), ("longname", .string(water.longname))]))
            }
            return JSONValue.array(waters).text
        case 2 where segments[0] == "stations" && segments[1].hasSuffix(".json"):
            let station = try find(String(segments[1].dropLast(5)), in: stations)
            return try await render(
                station, timeseries: flag("includeTimeseries"), current: flag("includeCurrentMeasurement"),
                characteristic: flag("includeCharacteristicValues")
            ).text
        case 3 where segments[0] == "stations" && segments[2].hasSuffix(".json"):
            let station = try find(segments[1], in: stations)
            let timeseries = try find(String(segments[2].dropLast(5)), of: station)
            return try await render(
                timeseries, current: flag("includeCurrentMeasurement"), characteristic: true
            ).text
        case 4 where segments[0] == "stations" && segments[3] == "measurements.json":
            let station = try find(segments[1], in: stations)
            let timeseries = try find(segments[2], of: station)
            return try await measurements(of: timeseries, start: value("start"), end: value("end")).text
        default:
            throw Failure(
                status: 404,
                message:
                    "no resource /\(path); there are stations.json, stations/{station}.json, stations/{station}/{timeseries}.json, stations/{station}/{timeseries}/measurements.json and waters.json"
            )
        }
    }

    private func find(_ name: String, in stations: [Station]) throws(Failure) -> Station {
        guard let station = stations.first(where: { $0.matches(name) }) else {
            throw Failure(status: 404, message: "Station '\(name)' not found")
        }
        return station
    }

    private func find(_ name: String, of station: Station) throws(Failure) -> Timeseries {
        guard let timeseries = station.timeseries.first(where: { $0.shortname.uppercased() == name.uppercased() })
        else {
            throw Failure(status: 404, message: "Timeseries '\(name)' not found for station '\(station.shortname)'")
        }
        return timeseries
    }

    // MARK: Reading

    private func loadStations() async throws -> [Station] {
        try await store.pool.withConnection { connection in
            var stations: [Station] = []
            for row in try connection.execute(
                "SELECT id, name, properties FROM things WHERE properties LIKE '%\"pegelonline\"%' ORDER BY id", [])
            {
                guard let text = row.optionalText(2), let properties = try? JSONParser.parse(Array(text.utf8)),
                    let pegel = properties["pegelonline"], pegel.members != nil
                else { continue }
                let thing = Int64(row.integer(0))
                let shortname = pegel["shortname"]?.string ?? row.text(1).uppercased()
                var station = Station(
                    thing: thing, uuid: pegel["uuid"]?.string ?? "stellwerk-thing-\(thing)",
                    number: pegel["number"]?.string ?? String(thing), shortname: shortname,
                    longname: pegel["longname"]?.string ?? shortname, km: pegel["km"]?.double,
                    agency: pegel["agency"]?.string ?? "",
                    water: pegel["water"].flatMap { water in
                        water["shortname"]?.string.map { ($0, water["longname"]?.string ?? $0) }
                    })
                if let position = try ThingPosition.of(thing: thing, on: connection) {
                    station.latitude = position.latitude
                    station.longitude = position.longitude
                }
                for stream in try connection.execute(
                    "SELECT id, name, unit_of_measurement, properties FROM datastreams WHERE thing_id = $1 ORDER BY id",
                    [.integer(thing)])
                {
                    guard let text = stream.optionalText(3), let properties = try? JSONParser.parse(Array(text.utf8)),
                        let series = properties["pegelonline"], series.members != nil
                    else { continue }
                    let unit = (try? JSONParser.parse(Array(stream.text(2).utf8)))?["symbol"]?.string ?? ""
                    let values: [JSONValue]
                    if case .array(let list)? = series["characteristicValues"] { values = list } else { values = [] }
                    station.timeseries.append(
                        Timeseries(
                            datastream: Int64(stream.integer(0)), shortname: series["shortname"]?.string ?? "W",
                            longname: series["longname"]?.string ?? stream.text(1).uppercased(), unit: unit,
                            equidistance: series["equidistance"]?.double, gaugeZero: series["gaugeZero"],
                            characteristicValues: values))
                }
                stations.append(station)
            }
            return stations
        }
    }

    // MARK: Rendering

    private func render(
        _ station: Station, timeseries: Bool, current: Bool, characteristic: Bool
    ) async throws
        -> JSONValue
    {
        var members: [(String, JSONValue)] = [
            ("uuid", .string(station.uuid)), ("number", .string(station.number)),
            ("shortname", .string(station.shortname)), ("longname", .string(station.longname)),
        ]
        if let km = station.km { members.append(("km", .number(km))) }
        members.append(("agency", .string(station.agency)))
        if let longitude = station.longitude, let latitude = station.latitude {
            members += [("longitude", .number(longitude)), ("latitude", .number(latitude))]
        }
        if let water = station.water {
            members.append(
                ("water", .object([("shortname", .string(water.shortname)), ("longname", .string(water.longname))])))
        }
        if timeseries || current {
            var series: [JSONValue] = []
            for item in station.timeseries {
                series.append(try await render(item, current: current, characteristic: characteristic))
            }
            members.append(("timeseries", .array(series)))
        }
        return .object(members)
    }

    private func render(_ timeseries: Timeseries, current: Bool, characteristic: Bool) async throws -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("shortname", .string(timeseries.shortname)), ("longname", .string(timeseries.longname)),
            ("unit", .string(timeseries.unit)),
        ]
        if let equidistance = timeseries.equidistance { members.append(("equidistance", .number(equidistance))) }
        if current, let measurement = try await currentMeasurement(of: timeseries) {
            members.append(("currentMeasurement", measurement))
        }
        if let gaugeZero = timeseries.gaugeZero { members.append(("gaugeZero", gaugeZero)) }
        if characteristic && !timeseries.characteristicValues.isEmpty {
            members.append(("characteristicValues", .array(timeseries.characteristicValues)))
        }
        return .object(members)
    }

    /// The latest reading with its trend (against the reading an hour before it: 1 rising, -1
    /// falling, 0 steady within one unit) and its state against the characteristic values.
    private func currentMeasurement(of timeseries: Timeseries) async throws -> JSONValue? {
        try await store.pool.withConnection { connection in
            let latestQuery =
                "SELECT phenomenon_time_start, result_number FROM observations WHERE datastream_id = $1"
                + " AND result_number IS NOT NULL AND phenomenon_time_start <= $2"
                + " ORDER BY phenomenon_time_start DESC LIMIT 1"
            guard
                let latest = try connection.execute(latestQuery, [.integer(timeseries.datastream), .integer(now())])
                    .first,
                let value = latest.optionalReal(1)
            else { return nil }
            let time = Int64(latest.integer(0))
            let before = try connection.execute(
                latestQuery, [.integer(timeseries.datastream), .integer(time - 3_600_000)]
            )
            .first?.optionalReal(1)
            let trend: Int64 = before.map { value - $0 > 1 ? 1 : $0 - value > 1 ? -1 : 0 } ?? 0
            return .object([
                ("timestamp", .string(SensorTime.text(time))), ("value", .number(value)), ("trend", .integer(trend)),
                (
                    "stateMnwMhw",
                    .string(
                        Self.state(value, low: timeseries.characteristic("MNW"), high: timeseries.characteristic("MHW"))
                    )
                ),
                (
                    "stateNswHsw",
                    .string(Self.state(value, low: nil, high: timeseries.characteristic("HSW"), needsLow: false))
                ),
            ])
        }
    }

    /// `low`, `normal` or `high` against the limits, `unknown` without them.
    static func state(_ value: Double, low: Double?, high: Double?, needsLow: Bool = true) -> String {
        guard let high, low != nil || !needsLow else { return "unknown" }
        if let low, value <= low { return "low" }
        return value >= high ? "high" : "normal"
    }

    private func measurements(of timeseries: Timeseries, start: String?, end: String?) async throws -> JSONValue {
        let endTime =
            try end.map { text throws(Failure) in
                guard let time = SensorTime.milliseconds(text) else {
                    throw Failure(status: 400, message: "end '\(text)' is not an ISO 8601 time")
                }
                return time
            } ?? now()
        var startTime = endTime - 86_400_000
        if let start {
            if let time = SensorTime.milliseconds(start) {
                startTime = time
            } else if let duration = Self.duration(start) {
                startTime = endTime - duration
            } else {
                throw Failure(
                    status: 400, message: "start '\(start)' is neither an ISO 8601 time nor a duration such as P8D")
            }
        }
        guard startTime <= endTime else { throw Failure(status: 400, message: "start is after end") }
        guard endTime - startTime <= Self.longestRange else {
            throw Failure(status: 400, message: "at most 31 days of measurements at a time")
        }
        let range = (start: startTime, end: endTime)
        let rows = try await store.pool.withConnection { connection in
            try connection.execute(
                "SELECT phenomenon_time_start, result_number FROM observations WHERE datastream_id = $1"
                    + " AND phenomenon_time_start >= $2 AND phenomenon_time_start <= $3 AND result_number IS NOT NULL"
                    + " ORDER BY phenomenon_time_start",
                [.integer(timeseries.datastream), .integer(range.start), .integer(range.end)])
        }
        return .array(
            rows.map { row in
                .object([
                    ("timestamp", .string(SensorTime.text(Int64(row.integer(0))))),
                    ("value", .number(row.optionalReal(1) ?? 0)),
                ])
            })
    }

    // MARK: Parameters

    /// An ISO 8601 duration (`P8D`, `PT12H`, `P1DT6H30M`, `P2W`) in milliseconds, at most a year.
    static func duration(_ text: String) -> Int64? {
        var rest = Substring(text.uppercased())
        guard rest.hasPrefix("P"), rest.count > 1 else { return nil }
        rest = rest.dropFirst()
        var total: Int64 = 0
        var digits = ""
        var inTime = false
        var parts = 0
        var timeParts = 0
        for character in rest {
            if character == "T" {
                guard !inTime, digits.isEmpty else { return nil }
                inTime = true
                continue
            }
            if character.isASCII && character.isNumber {
                guard digits.count < 6 else { return nil }
                digits.append(character)
                continue
            }
            guard let count = Int64(digits) else { return nil }
            digits = ""
            let unit: Int64
            switch (character, inTime) {
            case ("W", false): unit = 7 * 86_400_000
            case ("D", false): unit = 86_400_000
            case ("H", true): unit = 3_600_000
            case ("M", true): unit = 60_000
            case ("S", true): unit = 1000
            default: return nil
            }
            total += count * unit
            parts += 1
            if inTime { timeParts += 1 }
            guard total <= 366 * 86_400_000 else { return nil }
        }
        return digits.isEmpty && parts > 0 && (!inTime || timeParts > 0) ? total : nil
    }

    static func number(_ text: String?, in range: ClosedRange<Double>) -> Double? {
        guard let text, let value = Double(text), value.isFinite, range.contains(value) else { return nil }
        return value
    }

    static func count(_ text: String?, name: String) throws(Failure) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), (0...1_000_000).contains(value) else {
            throw Failure(status: 400, message: "\(name) '\(text)' is not a whole number from 0 to 1000000")
        }
        return value
    }

    /// Great-circle distance in kilometres.
    static func kilometres(from a: (Double, Double), to b: (Double, Double)) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.0 - a.0) * radians
        let dLon = (b.1 - a.1) * radians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.0 * radians) * cos(b.0 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 6371 * 2 * atan2(h.squareRoot(), (1 - h).squareRoot())
    }
}
