import Foundation
import TestSupport
import Testing

@testable import SensorThings
@testable import Sensors

/// The privacy rules, applied before anything is stored: fields dropped, identifiers replaced by
/// keyed pseudonyms, positions on a grid, small counts suppressed, raw readings reduced to hourly
/// aggregates — checked in what the store then holds, through the API.
@Suite(.serialized) struct SensorsPrivacyTests {
    static let key = "pseudonym-schluessel-0123456789"

    static let counter = """
        {"name": "Zählstelle Marktplatz", "description": "Personenzähler",
         "properties": {"device_id": "AA:BB:CC:01", "owner": "Erika Mustermann", "street": "Marktplatz"},
         "Locations": [{"name": "Marktplatz", "description": "Mast", "encodingType": "application/geo+json",
                        "location": {"type": "Point", "coordinates": [7.39812, 49.53807]}}],
         "Datastreams": [{"name": "Passanten", "description": "Personen je Viertelstunde",
           "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
           "unitOfMeasurement": {"name": "Anzahl", "symbol": "1", "definition": "-"},
           "properties": {"privacy": {"min_count": 5, "raw_days": 1},
                          "ingest": {"device": "eui-counter-0001", "field": "people", "device_pseudonym": true}},
           "Sensor": {"name": "Zähler", "description": "-", "encodingType": "text/plain", "metadata": "-"},
           "ObservedProperty": {"name": "Personen", "definition": "urn:p", "description": "-"}}]}
        """

    @Test func rulesApplyBeforeStoring_andOldRawReadingsBecomeHourlyAggregates() async throws {
        try await Self.rulesApply(host: "127.0.64.90", database: "sqlite:data/sensors.sqlite")
    }

    @Test(.enabled(if: PostgresServer.shouldRun, "PostgreSQL is not installed"))
    func rulesApply_onPostgreSQL() async throws {
        try await Self.rulesApply(host: "127.0.64.92", database: try await PostgresServer.shared().createDatabase())
    }

    static func rulesApply(host: String, database: String) async throws {
        let ingestToken = "ingest-token-privacy"
        let sensors = try await SensorsProcess(
            host: host, database: database,
            extra: """
                personal_fields: owner
                ingest_token: \(ingestToken)
                privacy:
                  pseudonym_fields: device_id
                  pseudonym_key: \(Self.key)
                  location_grid: 250
                """)
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post("/Things", Self.counter)
        try #require(created.status == 201, "\(created.text)")

        // The Thing: the owner dropped, the device a pseudonym, the position in the middle of its 250 m cell.
        let thing = try await sensors.get("/Things(1)", [("$expand", "Locations")]).object
        let properties = try #require(thing["properties"] as? [String: Any])
        #expect(properties["owner"] == nil && properties["street"] as? String == "Marktplatz")
        let pseudonym = ServicePrivacy(pseudonymKey: Self.key).pseudonym(of: "AA:BB:CC:01")
        #expect(properties["device_id"] as? String == pseudonym && pseudonym?.hasPrefix("psn:") == true)
        let location = (thing["Locations"] as? [[String: Any]])?.first?["location"] as? [String: Any]
        let coordinates = try #require(location?["coordinates"] as? [Double])
        let expected = ServicePrivacy.snap(longitude: 7.39812, latitude: 49.53807, grid: 250)
        #expect(coordinates == [expected.0, expected.1])
        #expect(!created.text.contains("7.39812") && !created.text.contains("Mustermann"))

        // Counts of 1 to 4 are not kept (the result is null, left out of answers); 0 and 5 and more are.
        func post(_ count: Int, hoursAgo: Double) async throws -> Int {
            let time = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-hoursAgo * 3600))
            let reply = try await sensors.post(
                "/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(time)", "result": \#(count)}"#)
            try #require(reply.status == 201, "\(reply.text)")
            return try #require(reply.object["@iot.id"] as? Int)
        }
        let small = try await post(3, hoursAgo: 0.5)
        let zero = try await post(0, hoursAgo: 0.4)
        let seven = try await post(7, hoursAgo: 0.3)
        func observation(_ id: Int) async throws -> [String: Any] {
            try await sensors.get("/Observations(\(id))").object
        }
        let suppressed = try await observation(small)
        #expect(suppressed["result"] == nil, "\(suppressed)")
        #expect(suppressed["resultQuality"] as? String == "suppressed")
        #expect((try await observation(zero)["result"] as? NSNumber)?.intValue == 0)
        #expect((try await observation(seven)["result"] as? NSNumber)?.intValue == 7)
        // Neither by DataArray nor by a later PATCH.
        let time = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-600))
        let array = try await sensors.post(
            "/CreateObservations",
            #"[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "dataArray": [["\#(time)", 2]]}]"#
        )
        let link = try #require((array.json as? [String])?.first)
        let arrayID = try #require(Int(link.split(separator: "(").last?.dropLast() ?? ""))
        #expect(try await observation(arrayID)["result"] == nil)
        #expect(try await sensors.send(.PATCH, "/Observations(\(seven))", body: #"{"result": 4}"#).status == 200)
        #expect(try await observation(seven)["result"] == nil)

        // A reading through the LoRaWAN webhook carries the device only as its pseudonym.
        let uplink = """
            {"end_device_ids": {"device_id": "eui-counter-0001", "dev_eui": "70B3D57ED0000001"},
             "received_at": "\(ISO8601DateFormatter().string(from: Date().addingTimeInterval(-300)))",
             "uplink_message": {"decoded_payload": {"people": 12}, "rx_metadata": [{"gateway_ids": {"gateway_id": "rathaus"}}]}}
            """
        let ingested = try await sensors.send(
            .POST, sensors.url + "/ingest/ttn", body: uplink, authorization: "Bearer \(ingestToken)", authorized: false)
        #expect(ingested.text.contains(#""stored""#), "\(ingested.text)")
        let latest = try await sensors.get(
            "/Datastreams(1)/Observations", [("$orderby", "phenomenonTime desc"), ("$top", "1")])
        let parameters = try #require(latest.values.first?["parameters"] as? [String: Any])
        #expect(
            parameters["device"] as? String == ServicePrivacy(pseudonymKey: Self.key).pseudonym(of: "eui-counter-0001"))
        #expect(!latest.text.contains("eui-counter-0001") && !latest.text.contains("rathaus"))

        // Readings older than raw_days (1): two hours three days ago, 10/20/30 and 40, become two
        // hourly means with their count, minimum and maximum after a restart.
        let hour = (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 72 * 3600
        for (offset, value) in [(0.0, 10), (1200.0, 20), (2400.0, 30), (3600.0 + 60, 40)] {
            let time = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: hour + offset))
            try #require(
                try await sensors.post(
                    "/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(time)", "result": \#(value)}"#
                )
                .status == 201)
        }
        let before =
            try await sensors.get("/Datastreams(1)/Observations", [("$count", "true")]).object["@iot.count"] as? Int
        sensors.stopProcess()
        try await sensors.start()
        sensors.stopProcess()
        try await sensors.start()
        let after = try await sensors.get(
            "/Datastreams(1)/Observations", [("$orderby", "phenomenonTime"), ("$count", "true")])
        #expect(after.object["@iot.count"] as? Int == (before ?? 0) - 2, "\(after.text)")
        let aggregates = after.values.prefix(2)
        #expect(aggregates.compactMap { ($0["result"] as? NSNumber)?.doubleValue } == [20, 40])
        let first = try #require(aggregates.first?["parameters"] as? [String: Any])
        #expect(first["aggregate"] as? String == "hour" && (first["count"] as? NSNumber)?.intValue == 3)
        #expect((first["min"] as? NSNumber)?.doubleValue == 10 && (first["max"] as? NSNumber)?.doubleValue == 30)
        let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: hour))
        let end = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: hour + 3600))
        #expect(aggregates.first?["phenomenonTime"] as? String == "\(start)/\(end)")
        // The recent readings are untouched.
        #expect(after.values.dropFirst(2).count == (before ?? 0) - 4)

        // With after_raw: delete, old raw readings go and the aggregates stay.
        let changed = try await sensors.send(
            .PATCH, "/Datastreams(1)",
            body:
                #"{"properties": {"privacy": {"min_count": 5, "raw_days": 1, "after_raw": "delete"}, "ingest": {"device": "eui-counter-0001", "field": "people", "device_pseudonym": true}}}"#
        )
        #expect(changed.status == 200, "\(changed.text)")
        let older = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: hour - 7_200))
        try #require(
            try await sensors.post("/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(older)", "result": 9}"#)
                .status == 201)
        sensors.stopProcess()
        try await sensors.start()
        let remaining = try await sensors.get("/Datastreams(1)/Observations", [("$orderby", "phenomenonTime")]).values
        #expect(!remaining.contains { $0["phenomenonTime"] as? String == older }, "\(remaining.prefix(3))")
        #expect(remaining.prefix(2).compactMap { ($0["result"] as? NSNumber)?.doubleValue } == [20, 40])
        #expect(remaining.count == after.values.count)
    }

    @Test func wrongRulesInADatastream_areRefusedWhenWritten() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.91")
        defer { sensors.stop() }
        try await sensors.start()
        for (rules, message) in [
            (#""privacy": {"min_count": 1}"#, "min_count must be a whole number from 2"),
            (#""privacy": {"raw_days": 2, "after_raw": "weekly"}"#, #"after_raw must be "hourly" or "delete""#),
            (#""privacy": {"minimum": 5}"#, "unknown member 'minimum'"),
            (
                #""ingest": {"device": "d", "field": "f", "device_pseudonym": "ja"}"#,
                "device_pseudonym must be true or false"
            ),
            (#""alerts": {"levels": [{"name": "x"}]}"#, "levels[0] needs a name and a number above"),
        ] {
            let body = Self.counter.replacingOccurrences(
                of: #""privacy": {"min_count": 5, "raw_days": 1},"#, with: rules + ","
            )
            .replacingOccurrences(
                of: #""ingest": {"device": "eui-counter-0001", "field": "people", "device_pseudonym": true}"#,
                with: #""note": "-""#)
            let reply = try await sensors.post("/Things", body)
            #expect(reply.status == 400, "\(rules): \(reply.text)")
            #expect(reply.message.contains(message), "\(reply.message)")
        }
        // Nothing of the refused Things was stored.
        #expect(try await sensors.get("/Things").values.isEmpty)
        #expect(try await sensors.get("/Sensors").values.isEmpty)
    }

    @Test func pseudonyms_areKeyed_andTheGridKeepsNeighboursTogether() {
        let one = ServicePrivacy(pseudonymKey: "first-key-0123456789")
        let other = ServicePrivacy(pseudonymKey: "other-key-0123456789")
        #expect(one.pseudonym(of: "eui-1") == one.pseudonym(of: "eui-1"))
        #expect(one.pseudonym(of: "eui-1") != one.pseudonym(of: "eui-2"))
        #expect(one.pseudonym(of: "eui-1") != other.pseudonym(of: "eui-1"))
        #expect(ServicePrivacy().pseudonym(of: "eui-1") == nil)
        // 30 m apart in one 250 m cell: the same position; in the next cell: another, 250 m away.
        let a = ServicePrivacy.snap(longitude: 7.39812, latitude: 49.53807, grid: 250)
        let b = ServicePrivacy.snap(longitude: 7.39812, latitude: 49.53807 + 0.00027, grid: 250)
        let c = ServicePrivacy.snap(longitude: 7.39812, latitude: 49.53807 + 0.0023, grid: 250)
        #expect(a == b || abs(a.1 - b.1) > 0.002)
        #expect(abs(c.1 - a.1) > 0.002 && abs(c.1 - a.1) < 0.0025)
        // Polygons and features are coarsened point by point; other members stay.
        let polygon = JSONValue.object([
            ("type", .string("Polygon")),
            (
                "coordinates",
                .array([.array([.array([.number(7.1), .number(49.1)]), .array([.number(7.2), .number(49.2)])])])
            ),
        ])
        let coarse = ServicePrivacy.coarsen(polygon, grid: 1000)
        #expect(coarse["type"] == .string("Polygon"))
        #expect(coarse.text != polygon.text)
    }
}
