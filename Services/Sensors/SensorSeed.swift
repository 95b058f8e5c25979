import Foundation
import SensorThings

/// Loads the synthetic gauges of one member (`Services/Seed/gauges.json`) into a sensor store: a
/// Thing per gauge with its Pegelonline identity and position, a water-level Datastream with
/// characteristic values and an ingest mapping for its (made-up) LoRaWAN device, and readings every
/// 15 minutes for the last days. Everything is marked `"synthetic": true`: sandboxes and demos get
/// plausible data, and nobody mistakes it for measurements.
package enum SensorSeed {
    package struct Summary: Sendable {
        package var gauges = 0
        package var observations = 0
        /// Gauges whose Thing the store had already, left alone with `onlyMissing`.
        package var present = 0
        /// The water-level Datastream of the site's first gauge, loaded now or before: what a link to
        /// "the site's chart" points to, whatever other services made in the store first.
        package var firstDatastream: Int64?
    }

    /// Minutes between two synthetic readings, as the federal gauges report.
    static let interval: Int64 = 15 * 60_000

    package static func load(
        file: String, site: String, days: Int, onlyMissing: Bool, store: SensorStore,
        configuration: SensorsConfiguration, now: Int64
    ) async throws(SeedError) -> Summary {
        guard (0...31).contains(days) else { throw SeedError("--days \(days) is not between 0 and 31") }
        guard let bytes = FileManager.default.contents(atPath: file) else {
            throw SeedError("cannot read \(file)")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw SeedError("\(file): \(error.description)")
        }
        guard case .array(let all)? = document["gauges"] else { throw SeedError("\(file) has no gauges list") }
        let gauges = all.filter { $0["site"]?.string == site }
        guard !gauges.isEmpty else {
            let sites = Set(all.compactMap { $0["site"]?.string }).sorted().joined(separator: ", ")
            throw SeedError("\(file) has no gauges of the site '\(site)'; it has \(sites)")
        }
        var summary = Summary()
        do {
            let writer = EntityWriter(store: store, configuration: configuration, now: { now })
            func datastream(of thing: Int64) async throws -> Int64 {
                try await store.pool.withConnection { connection in
                    Int64(
                        try connection.execute(
                            "SELECT id FROM datastreams WHERE thing_id = $1 ORDER BY id LIMIT 1", [.integer(thing)]
                        ).first?.integer(0) ?? 0)
                }
            }
            for (index, gauge) in gauges.enumerated() {
                let thing = try thingJSON(gauge)
                if onlyMissing, let name = thing["name"]?.string,
                    let existing = try await store.pool.withConnection({ connection in
                        try connection.execute(
                            "SELECT id FROM things WHERE name = $1 ORDER BY id LIMIT 1", [.text(name)]
                        ).first.map { Int64($0.integer(0)) }
                    })
                {
                    if index == 0 { summary.firstDatastream = try await datastream(of: existing) }
                    summary.present += 1
                    continue
                }
                let created = try await writer.create(thing, at: try ResourcePath.parse(["Things"])).created
                let datastream = try await datastream(of: created.id)
                if index == 0 { summary.firstDatastream = datastream }
                let rows = readings(gauge, index: index, days: days, now: now)
                if !rows.isEmpty {
                    let links = try await writer.createObservations(
                        .array([
                            .object([
                                ("Datastream", .object([("@iot.id", .integer(datastream))])),
                                ("components", .array([.string("phenomenonTime"), .string("result")])),
                                ("dataArray", .array(rows)),
                            ])
                        ]))
                    summary.observations += links.filter { $0 != "error" }.count
                }
                summary.gauges += 1
            }
        } catch let error as SensorsError {
            throw SeedError("\(file): \(error.message)")
        } catch let error as SeedError {
            throw error
        } catch {
            throw SeedError("storing the gauges failed: \(error)")
        }
        return summary
    }

    /// The Thing of one gauge, with its Location, Datastream, Sensor and ObservedProperty inline.
    static func thingJSON(_ gauge: JSONValue) throws(SeedError) -> JSONValue {
        guard let shortname = gauge["shortname"]?.string, let latitude = gauge["latitude"]?.double,
            let longitude = gauge["longitude"]?.double, let low = gauge["MNW"]?.double, let mean = gauge["MW"]?.double,
            let high = gauge["MHW"]?.double, let water = gauge["water"]
        else { throw SeedError("a gauge needs shortname, latitude, longitude, water, MNW, MW and MHW") }
        let longname = gauge["longname"]?.string ?? shortname
        var identity: [(String, JSONValue)] = [
            ("uuid", gauge["uuid"] ?? .null), ("number", gauge["number"] ?? .null), ("shortname", .string(shortname)),
            ("longname", .string(longname)), ("agency", gauge["agency"] ?? .string("")), ("water", water),
        ]
        if let km = gauge["km"] { identity.append(("km", km)) }
        func characteristic(_ name: String, _ long: String, _ value: Double) -> JSONValue {
            .object([
                ("shortname", .string(name)), ("longname", .string(long)), ("unit", .string("cm")),
                ("value", .number(value)),
            ])
        }
        let series: [(String, JSONValue)] = [
            ("shortname", .string("W")), ("longname", .string("WASSERSTAND (SYNTHETISCH)")),
            ("equidistance", .integer(15)),
            (
                "characteristicValues",
                .array([
                    characteristic("MNW", "Mittleres Niedrigwasser", low),
                    characteristic("MW", "Mittelwasser", mean),
                    characteristic("MHW", "Mittleres Hochwasser", high),
                ])
            ),
        ]
        var datastreamProperties: [(String, JSONValue)] = [
            ("pegelonline", .object(series)), ("synthetic", .bool(true)),
            // The gauge's own MHW and MNW, so a sandbox shows what a crossing looks like.
            ("alerts", .object([("levels", .string("characteristic")), ("hysteresis", .integer(2))])),
        ]
        if let device = gauge["device"]?.string {
            datastreamProperties.append(
                (
                    "ingest",
                    .object([
                        ("device", .string(device)), ("field", .string("water_level_cm")), ("min", .integer(0)),
                        ("max", .number(high * 3)), ("max_step", .integer(100)), ("implausible", .string("flag")),
                    ])
                ))
        }
        let name = "Pegel \(longname.capitalized)"
        return .object([
            ("name", .string(name)),
            ("description", .string("Synthetischer Pegel (keine Messwerte) an der \(water["longname"]?.string ?? "")")),
            ("properties", .object([("pegelonline", .object(identity)), ("synthetic", .bool(true))])),
            (
                "Locations",
                .array([
                    .object([
                        ("name", .string(longname.capitalized)),
                        ("description", .string("Pegelstandort (synthetisch)")),
                        ("encodingType", .string("application/geo+json")),
                        (
                            "location",
                            .object([
                                ("type", .string("Point")),
                                ("coordinates", .array([.number(longitude), .number(latitude)])),
                            ])
                        ),
                    ])
                ])
            ),
            (
                "Datastreams",
                .array([
                    .object([
                        ("name", .string("Wasserstand \(longname.capitalized)")),
                        ("description", .string("Wasserstand über Pegelnullpunkt (synthetisch)")),
                        (
                            "observationType",
                            .string("http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement")
                        ),
                        (
                            "unitOfMeasurement",
                            .object([
                                ("name", .string("Zentimeter")), ("symbol", .string("cm")),
                                ("definition", .string("http://unitsofmeasure.org/ucum.html#para-30")),
                            ])
                        ),
                        ("properties", .object(datastreamProperties)),
                        (
                            "Sensor",
                            .object([
                                ("name", .string("Radarpegel \(shortname)")),
                                ("description", .string("Radarsensor (synthetisch)")),
                                ("encodingType", .string("text/plain")), ("metadata", .string("synthetic")),
                            ])
                        ),
                        (
                            "ObservedProperty",
                            .object([
                                ("name", .string("Wasserstand")),
                                ("definition", .string("http://vocab.nerc.ac.uk/collection/P01/current/ASLVZZ01/")),
                                ("description", .string("Wasserstand über Pegelnullpunkt")),
                            ])
                        ),
                    ])
                ])
            ),
        ])
    }

    /// Readings every 15 minutes over the last `days`: a slow wave of five days around the mean
    /// water (between MNW and MHW), a daily ripple and a little deterministic noise. The same
    /// gauge and time give the same value, so seeding twice writes the same data.
    static func readings(_ gauge: JSONValue, index: Int, days: Int, now: Int64) -> [JSONValue] {
        guard let low = gauge["MNW"]?.double, let mean = gauge["MW"]?.double, let high = gauge["MHW"]?.double,
            days > 0
        else { return [] }
        let last = now / interval * interval
        let first = last - Int64(days) * 86_400_000
        var rows: [JSONValue] = []
        var time = first
        while time <= last {
            let hours = Double(time) / 3_600_000
            let phase = Double(index) * 1.7
            // Above the mean the wave reaches towards MHW, below it towards MNW, never past either.
            let wave = sin(2 * .pi * hours / 120 + phase)
            var value = mean + (wave >= 0 ? wave * (high - mean) * 0.3 : wave * (mean - low) * 0.6)
            value += (mean - low) * 0.1 * sin(2 * .pi * hours / 24 + phase * 2)
            value += Double((time / interval &* 2_654_435_761 &+ Int64(index)) % 5) - 2
            value = max(value, low * 0.8).rounded()
            rows.append(.array([.string(SensorTime.text(time)), .number(value)]))
            time += interval
        }
        return rows
    }
}

/// A seed that cannot be loaded: one line saying why.
package struct SeedError: Error, CustomStringConvertible {
    package var description: String
    init(_ description: String) { self.description = description }
}
