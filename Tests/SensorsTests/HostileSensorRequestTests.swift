import Foundation
import TestSupport
import Testing

/// Extreme and random values in every query option, id and reading of the sensor service: each is
/// answered (never 5xx) and the process is still there afterwards (issue #17, scenario 9).
@Suite(.serialized) struct HostileSensorRequestTests {
    @Test func sensorThingsAndPegelonline_answerEveryExtremeValue_withoutFallingOver() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.95", extra: "pegelonline_view: true")
        defer { sensors.stop() }
        try await sensors.start()
        #expect(try await sensors.post("/Things", PegelonlineViewTests.station(readings: [100, 110])).status == 201)
        let seed = UInt64.random(in: 0 ... .max)
        for value in HostileValues.extremes + HostileValues.random(seed: seed) {
            var requests: [(String, [(String, String)])] = [
                ("/Things(\(value))", []), ("/Datastreams(\(value))/Observations", []),
                ("/Observations", [("$top", value)]), ("/Observations", [("$skip", value)]),
                ("/Datastreams(1)/Observations", [("$filter", "result gt \(value)")]),
                ("/Observations", [("$filter", "phenomenonTime ge \(value) and id lt \(value)")]),
                ("/Observations", [("$filter", "result add \(value) mul \(value) div \(value) gt 1")]),
                ("/Things", [("$filter", "substring(name, \(value), \(value)) eq 'a'")]),
                ("/Things", [("$expand", "Datastreams($top=\(value);$skip=\(value))")]),
                ("/Datastreams", [("$orderby", value), ("$select", value), ("$count", value)]),
                ("/Observations", [("$resultFormat", value)]),
            ]
            for (path, query) in requests {
                let reply = try await sensors.get(path, query)
                #expect(reply.status < 500, "seed \(seed): \(path) \(query): \(reply.status) \(reply.text.prefix(200))")
            }
            requests = [
                ("\(sensors.url)/pegelonline/v2/stations.json", [("timeseries", value), ("limit", value)]),
                ("\(sensors.url)/pegelonline/v2/stations/\(value).json", []),
                (
                    "\(sensors.url)/pegelonline/v2/stations.json",
                    [("latitude", value), ("longitude", value), ("radius", value)]
                ),
                ("\(sensors.url)/alerts", [("limit", value)]),
            ]
            for (address, query) in requests {
                let reply = try await sensors.get(address, query)
                #expect(
                    reply.status < 500, "seed \(seed): \(address) \(query): \(reply.status) \(reply.text.prefix(200))")
            }
            let measurements = try await sensors.get(
                "\(sensors.url)/pegelonline/v2/stations/KUSEL/W/measurements.json", [("start", value), ("end", value)])
            #expect(measurements.status < 500, "seed \(seed): measurements start=\(value): \(measurements.status)")
            // Numbers as written in JSON, not as text: past every range too.
            if Double(value) != nil || value.hasPrefix("-") {
                let posted = try await sensors.post(
                    "/Datastreams(1)/Observations", #"{"phenomenonTime": "2026-12-06T10:00:00Z", "result": \#(value)}"#)
                #expect(
                    posted.status < 500, "seed \(seed): result \(value): \(posted.status) \(posted.text.prefix(200))")
            }
        }
        #expect(try await sensors.get("\(sensors.url)/health").status == 200)
    }
}
