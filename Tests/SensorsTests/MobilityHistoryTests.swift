import Foundation
import TestSupport
import Testing

/// The mobility service keeps the history of car park occupancy and traffic counts in a real sensor
/// service, through its SensorThings API: each car park and counting station a Thing at its place,
/// each series a Datastream, counts below the minimum suppressed there, no counter identifier
/// anywhere in the sensor service, nothing twice after a restart, and a sensor service that was away
/// catching up.
@Suite(.serialized) struct MobilityHistoryTests {
    static let parkingSites = """
        sites:
          - uid: kl-ph-altstadt
            name: PH Altstadt (synthetisch)
            type: CAR_PARK
            lat: 49.4469741
            lon: 7.7724651
            capacity: 285
          - uid: kl-p-messeplatz
            name: P Messeplatz (synthetisch)
            type: OFF_STREET_PARKING_GROUND
            lat: 49.4380
            lon: 7.7790
            capacity: 400

        """

    static let stations = """
        stations:
          - id: kl-fackelrondell
            name: Fackelrondell (synthetisch)
            lat: 49.4431
            lon: 7.7662
            modes: [cars, bicycles, pedestrians]
          - id: kl-lautertalradweg
            name: Lautertal-Radweg (synthetisch)
            lat: 49.4521
            lon: 7.7548
            modes: [bicycles]

        """

    @Test func occupancyAndCounts_becomeDatastreams_withTheirPrivacy_onceEach() async throws {
        let sensors = try await SensorsProcess(host: "127.0.67.80")
        defer { sensors.stop() }
        try await sensors.start()
        let mobility = try await MobilityProcess(
            host: "127.0.67.81",
            extra: """
                parking:
                  kaiserslautern_xml: {url}/synthetic/parking/kaiserslautern.xml
                  sites: parking-sites.yaml
                  interval: 10s
                  synthetic: true
                counts:
                  stations: counting-stations.yaml
                  sources: {url}/synthetic/counts.csv
                  interval: 10s
                  min_count: 5
                  synthetic: true
                sensors:
                  url: \(sensors.url)
                  token: \(sensors.token)
                  interval: 5s
                """,
            files: ["parking-sites.yaml": Self.parkingSites, "counting-stations.yaml": Self.stations])
        defer { mobility.stop() }
        try await mobility.start()

        // Two car parks and four count series (three modes at one station, one at the other).
        try await waitUntil("the sensor service has the six series with readings", within: .seconds(60)) {
            let streams = try await sensors.get("/Datastreams", [("$expand", "Observations($top=1)")]).values
            return streams.count == 6 && streams.allSatisfy { !(($0["Observations"] as? [Any]) ?? []).isEmpty }
        }
        let things = try await sensors.get("/Things", [("$expand", "Locations"), ("$orderby", "id")]).values
        #expect(things.count == 4)
        let altstadt = try #require(
            things.first { ($0["properties"] as? [String: Any])?["mobility"] as? String == "parking/kl-ph-altstadt" })
        #expect(altstadt["name"] as? String == "PH Altstadt (synthetisch)")
        let location = (altstadt["Locations"] as? [[String: Any]])?.first?["location"] as? [String: Any]
        #expect(location?["coordinates"] as? [Double] == [7.7724651, 49.4469741])
        #expect(try await sensors.get("/ObservedProperties").values.count == 4)
        #expect(try await sensors.get("/Sensors").values.count == 2)

        let free = try await sensors.get(
            "/Datastreams",
            [("$filter", "properties/mobility eq 'parking/kl-ph-altstadt'"), ("$expand", "Observations")]
        ).values
        let freeSpaces = try #require(free.first)
        #expect(freeSpaces["name"] as? String == "Freie Stellplätze PH Altstadt (synthetisch)")
        let readings = (freeSpaces["Observations"] as? [[String: Any]]) ?? []
        #expect(readings.allSatisfy { (0...285).contains(($0["result"] as? Int) ?? -1) }, "\(readings)")

        // Counts: the privacy minimum in the Datastream, small counts stored suppressed, none kept.
        let walking = try #require(
            try await sensors.get(
                "/Datastreams", [("$filter", "properties/mobility eq 'counts/kl-fackelrondell/pedestrians'")]
            ).values.first)
        let id = try #require(walking["@iot.id"] as? Int)
        let properties = walking["properties"] as? [String: Any] ?? [:]
        #expect((properties["privacy"] as? [String: Any])?["min_count"] as? Int == 5)
        #expect(properties["overview"] as? Bool == false)
        #expect(walking["name"] as? String == "Fußverkehr Fackelrondell (synthetisch)")
        let counts = try await sensors.get(
            "/Datastreams(\(id))/Observations", [("$top", "200"), ("$select", "phenomenonTime,result,resultQuality")]
        ).values
        #expect(counts.count == 96, "a day of quarter hours")
        let suppressed = counts.filter { $0["resultQuality"] as? String == "suppressed" }
        #expect(!suppressed.isEmpty && suppressed.allSatisfy { $0["result"] == nil || $0["result"] is NSNull })
        #expect(counts.allSatisfy { (1..<5).contains(($0["result"] as? Int) ?? 0) == false })
        #expect(counts.allSatisfy { ($0["phenomenonTime"] as? String)?.contains("/") == true }, "intervals")
        // The feed's counter serials never reached the sensor service.
        let feed = try await mobility.send(.GET, "/synthetic/counts.csv")
        #expect(feed.text.contains(",SN-"))
        for file in ["sensors.sqlite", "sensors.sqlite-wal"] {
            let data = (try? Data(contentsOf: sensors.root.appendingPathComponent("data/\(file)"))) ?? Data()
            #expect(data.range(of: Data(",SN-".utf8)) == nil && data.range(of: Data("counter_serial".utf8)) == nil)
        }
        let history = try await mobility.send(.GET, "/api/history")
        #expect(history.object["datastreams"] as? Int == 6)
        #expect((history.object["readings_sent"] as? Int ?? 0) >= 4 * 96 + 2, "\(history.text)")

        // A restart finds its Datastreams again: nothing made twice, no reading sent twice.
        mobility.stopProcess()
        try await mobility.start()
        try await waitUntil("the restarted service has sent again", within: .seconds(30)) {
            (try await mobility.send(.GET, "/api/history")).object["last_sent_at"] is String
        }
        #expect(try await sensors.get("/Datastreams").values.count == 6)
        #expect(try await sensors.get("/Things").values.count == 4)
        let again = try await sensors.get(
            "/Datastreams(\(id))/Observations", [("$top", "200"), ("$select", "phenomenonTime")]
        ).values.compactMap { $0["phenomenonTime"] as? String }
        #expect(again.count == Set(again).count && again.count >= 96, "\(again.count) readings")

        // A Datastream deleted by an operator is made again with the next reading.
        let parkingID = try #require(freeSpaces["@iot.id"] as? Int)
        let deleted = try await sensors.send(.DELETE, "/Datastreams(\(parkingID))")
        #expect(deleted.status == 200)
        do {
            try await waitUntil("the car park has a Datastream again", within: .seconds(120)) {
                let found = try await sensors.get(
                    "/Datastreams", [("$filter", "properties/mobility eq 'parking/kl-ph-altstadt'")]
                ).ids
                return found.count == 1 && found != [parkingID]
            }
        } catch {
            let history = try await mobility.send(.GET, "/api/history").text
            let sources = try await mobility.send(.GET, "/api/parking/sources").text
            Issue.record("\(error); history: \(history); parking: \(sources); log: \(mobility.logText.suffix(3000))")
            return
        }

        // A sensor service that is away: the operator sees why, and the readings follow once it is back.
        sensors.stopProcess()
        try await waitUntil("the history says it cannot send", within: .seconds(30)) {
            (try await mobility.send(.GET, "/api/history")).object["last_error"] is String
        }
        let metrics = try await mobility.send(.GET, "/metrics")
        #expect(metrics.text.contains("mobility_history_failing 1"), "\(metrics.text)")
        let sentBefore = (try await mobility.send(.GET, "/api/history")).object["readings_sent"] as? Int ?? 0
        try await sensors.start()
        try await waitUntil("the history sends again", within: .seconds(60)) {
            let state = try await mobility.send(.GET, "/api/history").object
            return state["last_error"] is NSNull || state["last_error"] == nil
                ? (state["readings_sent"] as? Int ?? 0) > sentBefore : false
        }
        #expect(try await sensors.get("/Datastreams").values.count == 6, "\(mobility.logText)")
    }
}
