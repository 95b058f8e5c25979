import Foundation
import TestSupport
import Testing

@testable import Sensors

/// The Pegelonline-shaped view of the platform's own gauges: read by de-pegel-online (the generated
/// client of Pegelonline's REST API v2) as it reads the federal service, with Pegelonline's errors.
@Suite(.serialized) struct PegelonlineViewTests {
    /// A station as a Thing with its Pegelonline identity, and its W timeseries as a Datastream with
    /// characteristic values; readings every 15 minutes up to a quarter of an hour ago.
    static func station(readings: [Double]) -> String {
        let formatter = ISO8601DateFormatter()
        let last = Date().addingTimeInterval(-900)
        let observations = readings.enumerated().map { index, value in
            let time = last.addingTimeInterval(Double(index - readings.count + 1) * 900)
            return #"{"phenomenonTime": "\#(formatter.string(from: time))", "result": \#(value)}"#
        }.joined(separator: ", ")
        return """
            {
              "name": "Pegel Kusel", "description": "Radarpegel an der Glanbrücke",
              "properties": {"pegelonline": {"uuid": "8f3c2a1e-5b6d-4c7e-9f00-1a2b3c4d5e6f", "number": "2640010",
                "shortname": "KUSEL", "longname": "KUSEL GLANBRÜCKE", "km": 12.4, "agency": "Kreisverwaltung Kusel",
                "water": {"shortname": "GLAN", "longname": "GLAN"}}},
              "Locations": [{"name": "Glanbrücke", "description": "Brücke", "encodingType": "application/geo+json",
                             "location": {"type": "Point", "coordinates": [7.398, 49.538]}}],
              "Datastreams": [{
                "name": "Wasserstand Kusel", "description": "W",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
                "properties": {"pegelonline": {"shortname": "W", "longname": "WASSERSTAND ROHDATEN", "equidistance": 15,
                  "gaugeZero": {"unit": "m. ü. NHN", "value": 231.5, "validFrom": "2020-01-01"},
                  "characteristicValues": [
                    {"shortname": "MNW", "longname": "Mittleres Niedrigwasser", "unit": "cm", "value": 40},
                    {"shortname": "MHW", "longname": "Mittleres Hochwasser", "unit": "cm", "value": 130}]}},
                "Sensor": {"name": "Radar", "description": "Radar", "encodingType": "text/plain", "metadata": "-"},
                "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "W"},
                "Observations": [\(observations)]
              }]
            }
            """
    }

    @Test(.enabled(if: SensorsInteropTests.available || SensorsInteropTests.required))
    func dePegelOnline_readsStationsTimeseriesMeasurementsAndWaters() async throws {
        try #require(SensorsInteropTests.available, "the Python clients are missing: run scripts/python-clients")
        let sensors = try await SensorsProcess(host: "127.0.64.50", extra: "pegelonline_view: true")
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post(
            "/Things", Self.station(readings: [100, 105, 110, 120, 130, 135, 138, 140]))
        try #require(created.status == 201, "\(created.text)")
        // A Thing without a Pegelonline identity is no station.
        #expect(try await sensors.post("/Things", #"{"name": "Wetterstation", "description": "x"}"#).status == 201)

        let output = sensors.root.appendingPathComponent("pegel.out").path
        let status = try await offloaded {
            try Spawn.run(
                SensorsInteropTests.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/pegelonline_client.py").path,
                    sensors.url + "/pegelonline/v2",
                ], standardOutput: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)\n\(sensors.logText)")
        #expect(printed.hasSuffix("ok\n"), "\(printed)")

        let waters = try await sensors.send(.GET, sensors.url + "/pegelonline/v2/waters.json")
        #expect(waters.text == #"[{"shortname":"GLAN","longname":"GLAN"}]"#)
    }

    @Test func badRequests_getPegelonlinesErrorShape() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.51", extra: "pegelonline_view: true")
        defer { sensors.stop() }
        try await sensors.start()
        #expect(try await sensors.post("/Things", Self.station(readings: [100])).status == 201)
        let base = sensors.url + "/pegelonline/v2"
        for (path, status, message) in [
            ("/stations/KUSEL/W/measurements.json?start=P32D", 400, "at most 31 days"),
            ("/stations/KUSEL/W/measurements.json?start=gestern", 400, "start 'gestern'"),
            ("/stations/KUSEL/Q/measurements.json", 404, "Timeseries 'Q' not found"),
            ("/stations.json?latitude=49.5&longitude=7.4", 400, "latitude, longitude and radius"),
            ("/stations.json?limit=-1", 400, "limit '-1'"),
            ("/stations.json?latitude=1e999&longitude=7&radius=5", 400, "latitude, longitude and radius"),
            ("/pegel.json", 404, "no resource /pegel.json"),
        ] {
            let reply = try await sensors.send(.GET, base + path)
            #expect(reply.status == status, "\(path): \(reply.text)")
            #expect(reply.object["status"] as? Int == status, "\(path): \(reply.text)")
            #expect((reply.object["msg"] as? String)?.contains(message) == true, "\(path): \(reply.text)")
        }
        let measurements = try await sensors.send(.GET, base + "/stations/KUSEL/W/measurements.json?start=PT1H")
        #expect((measurements.json as? [[String: Any]])?.count == 1, "\(measurements.text)")
    }

    @Test func viewOff_isA404SayingSo() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.52")
        defer { sensors.stop() }
        try await sensors.start()
        let reply = try await sensors.send(.GET, sensors.url + "/pegelonline/v2/stations.json")
        #expect(reply.status == 404)
        #expect(reply.object["msg"] as? String == "the Pegelonline view is off (pegelonline_view)")
    }

    @Test func durationsAndStates() {
        #expect(PegelonlineView.duration("P8D") == Int64(8 * 86_400_000))
        #expect(PegelonlineView.duration("PT1H30M") == 5_400_000)
        #expect(PegelonlineView.duration("P1DT6H") == 108_000_000)
        #expect(PegelonlineView.duration("P2W") == Int64(14 * 86_400_000))
        for bad in ["P", "8D", "PT", "P1H", "PT1D", "P999999999D", "P1.5D", "P1DT"] {
            #expect(PegelonlineView.duration(bad) == nil, "\(bad)")
        }
        #expect(PegelonlineView.state(30, low: 40, high: 130) == "low")
        #expect(PegelonlineView.state(90, low: 40, high: 130) == "normal")
        #expect(PegelonlineView.state(140, low: 40, high: 130) == "high")
        #expect(PegelonlineView.state(140, low: nil, high: 130) == "unknown")
        #expect(PegelonlineView.state(140, low: nil, high: nil, needsLow: false) == "unknown")
    }
}
