import Foundation
import TestSupport
import Testing

/// `datenplattform sensors seed`: each member's synthetic gauges, marked as synthetic, with plausible
/// readings that the SensorThings API and the Pegelonline view serve; loaded once.
@Suite(.serialized) struct SensorSeedTests {
    static let gauges = Fixtures.repositoryRoot.appendingPathComponent("Services/Seed/gauges.json").path

    @Test func kusel_getsItsGaugesOnGlanAndLauter_withADayOfPlausibleReadings() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.70", extra: "pegelonline_view: true")
        defer { sensors.stop() }
        func seed(_ extra: [String]) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(
                "datenplattform", ["sensors", "seed", Self.gauges, "--config", sensors.config.path] + extra,
                in: sensors.root)
        }
        // Another service made its Thing first (as the mobility service does for car parks): the
        // gauges are loaded all the same, and the seed says which Datastream is the first gauge's.
        try await sensors.start()
        let carPark = try await sensors.post(
            "/Things",
            #"{"name": "PH Altstadt", "description": "-", "Datastreams": [{"name": "Freie Stellplätze", "description": "-", "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation", "unitOfMeasurement": {"name": "Stellplatz", "symbol": "Plätze", "definition": "-"}, "Sensor": {"name": "P", "description": "-", "encodingType": "text/plain", "metadata": "-"}, "ObservedProperty": {"name": "Frei", "definition": "urn:f", "description": "-"}}]}"#
        )
        #expect(carPark.status == 201, "\(carPark.text)")
        let loaded = try await seed(["--site", "kusel", "--days", "1", "--only-missing"])
        #expect(loaded.status == 0, "\(loaded.standardError)")
        #expect(
            loaded.standardOutput
                == "loaded 2 synthetic gauge(s) with 194 readings; the first gauge is Datastream 2\n")
        let again = try await seed(["--site", "kusel", "--only-missing"])
        #expect(
            again.standardOutput
                == "loaded 0 synthetic gauge(s) with 0 readings, 2 there already; the first gauge is Datastream 2\n")

        let things = try await sensors.get(
            "/Things", [("$expand", "Datastreams"), ("$filter", "name ne 'PH Altstadt'")]
        )
        .values
        #expect(things.count == 2)
        #expect(things.allSatisfy { ($0["properties"] as? [String: Any])?["synthetic"] as? Bool == true })
        let stations = try await sensors.send(
            .GET,
            sensors.url
                + "/pegelonline/v2/stations.json?includeCurrentMeasurement=true&includeCharacteristicValues=true")
        let list = try #require(stations.json as? [[String: Any]])
        #expect(list.compactMap { $0["shortname"] as? String } == ["KUSEL", "LAUTERECKEN"])
        #expect(list.compactMap { ($0["water"] as? [String: Any])?["shortname"] as? String } == ["GLAN", "LAUTER"])
        // Every reading lies between 80% of MNW and MHW: plausible, and no alarm out of nothing.
        for station in list {
            let series = try #require((station["timeseries"] as? [[String: Any]])?.first)
            let values = Dictionary(
                uniqueKeysWithValues: (series["characteristicValues"] as? [[String: Any]] ?? []).compactMap {
                    item -> (String, Double)? in
                    guard let name = item["shortname"] as? String, let value = (item["value"] as? NSNumber)?.doubleValue
                    else { return nil }
                    return (name, value)
                })
            let name = try #require(station["shortname"] as? String)
            let readings = try #require(
                try await sensors.send(
                    .GET, sensors.url + "/pegelonline/v2/stations/\(name)/W/measurements.json?start=P2D"
                ).json as? [[String: Any]])
            #expect(readings.count == 97, "\(name)")
            let results = readings.compactMap { ($0["value"] as? NSNumber)?.doubleValue }
            let low = try #require(values["MNW"]) * 0.8
            let high = try #require(values["MHW"])
            #expect(
                results.allSatisfy { $0 >= low && $0 <= high }, "\(name): \(results.min() ?? 0)…\(results.max() ?? 0)")
            #expect(Set(results).count > 10, "\(name) should vary")
            #expect((series["currentMeasurement"] as? [String: Any])?["stateMnwMhw"] as? String == "normal")
        }
        // The gauges watch their own MHW and MNW; the latest readings are normal, so nothing is raised.
        try await waitUntil("the alert service went round") {
            SensorsMQTTTests.metric(
                #"sensors_alerts_total{kind="any",outcome="checked"}"#,
                in: try await sensors.send(.GET, sensors.url + "/metrics").text) != nil
        }
        #expect(try await sensors.get(sensors.url + "/alerts").values.isEmpty)
    }

    @Test func unknownSiteOrTooManyDays_isOneLine() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.71")
        defer { sensors.stop() }
        for (arguments, message) in [
            (["--site", "mainz"], "has no gauges of the site 'mainz'; it has bitburg-pruem, kaiserslautern, kusel"),
            (["--site", "kusel", "--days", "99"], "--days 99 is not between 0 and 31"),
        ] {
            let run = try await ProcessRunner.run(
                "datenplattform", ["sensors", "seed", Self.gauges, "--config", sensors.config.path] + arguments,
                in: sensors.root)
            #expect(run.status != 0)
            #expect(run.standardError.contains(message), "\(run.standardError)")
            #expect(run.standardError.split(separator: "\n").count == 1, "\(run.standardError)")
        }
    }
}
