import Foundation
import TestSupport
import Testing

/// The SensorThings API 1.1 over real HTTP, as a client such as FROST's would use it: a gauge
/// created in one deep insert, read back through every kind of path and query option, changed,
/// deleted, and refused clearly when the request is bad.
@Suite(.serialized) struct SensorThingsAPITests {
    /// A Pegel with its location, one datastream of water levels and three readings, in one request.
    static let gauge = """
        {
          "name": "Pegel Kusel", "description": "Radarpegel an der Glanbrücke",
          "properties": {"gewaesser": "Glan", "betreiber": "Landkreis Kusel", "device_id": "lora-00af"},
          "Locations": [{
            "name": "Glanbrücke Kusel", "description": "Brückengeländer, flussabwärts",
            "encodingType": "application/geo+json",
            "location": {"type": "Point", "coordinates": [7.398, 49.538]}
          }],
          "Datastreams": [{
            "name": "Wasserstand Kusel", "description": "Wasserstand über Pegelnullpunkt",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
            "Sensor": {"name": "VEGAPULS C 11", "description": "Radarsensor", "encodingType": "application/pdf", "metadata": "https://example.org/vegapuls.pdf"},
            "ObservedProperty": {"name": "Wasserstand", "definition": "http://vocab.nerc.ac.uk/collection/P01/current/ASLVZZ01/", "description": "Wasserstand"},
            "Observations": [
              {"phenomenonTime": "2026-12-01T10:00:00Z", "result": 112},
              {"phenomenonTime": "2026-12-01T10:15:00Z", "result": 118.5},
              {"phenomenonTime": "2026-12-01T10:30:00+01:00", "result": 97, "parameters": {"vehicle_plate": "KUS-X 1", "qualitaet": "gut"}}
            ]
          }]
        }
        """

    @Test func deepInsert_readThroughPathsAndOptions_changeAndDelete_onSQLite() async throws {
        try await Self.lifecycle(database: "sqlite:data/sensors.sqlite", host: "127.0.64.1")
    }

    @Test(.enabled(if: PostgresServer.shouldRun, "PostgreSQL is not installed"))
    func deepInsert_readThroughPathsAndOptions_changeAndDelete_onPostgreSQL() async throws {
        try await Self.lifecycle(database: try await PostgresServer.shared().createDatabase(), host: "127.0.64.2")
    }

    static func lifecycle(database: String, host: String) async throws {
        let sensors = try await SensorsProcess(
            host: host, database: database, extra: "personal_fields: device_id,vehicle_plate")
        defer { sensors.stop() }
        try await sensors.start()

        // The service document lists the eight entity sets and what the service conforms to.
        let document = try await sensors.get("")
        #expect(
            document.values.compactMap { $0["name"] as? String }.sorted() == [
                "Datastreams", "FeaturesOfInterest", "HistoricalLocations", "Locations", "Observations",
                "ObservedProperties", "Sensors", "Things",
            ])
        let conformance = (document.object["serverSettings"] as? [String: Any])?["conformance"] as? [String]
        #expect(conformance?.contains("http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete") == true)

        // One deep insert; the answer says where the Thing lives.
        let created = try await sensors.post("/Things", Self.gauge)
        #expect(created.status == 201, "\(created.text) \(sensors.logText)")
        let thingURL = try #require(created.headers["location"])
        #expect(thingURL.hasPrefix(sensors.api + "/Things("))
        #expect(created.object["name"] as? String == "Pegel Kusel")
        // The personal field never reached the store.
        #expect(
            created.object["properties"] as? [String: String] == ["gewaesser": "Glan", "betreiber": "Landkreis Kusel"])

        let thing = try await sensors.get(
            thingURL, [("$expand", "Locations,Datastreams($expand=Sensor,ObservedProperty)")])
        #expect(thing.status == 200, "\(thing.text)")
        #expect(thing.object["@iot.selfLink"] as? String == thingURL)
        #expect(thing.object["HistoricalLocations@iot.navigationLink"] as? String == thingURL + "/HistoricalLocations")
        let streams = try #require(thing.object["Datastreams"] as? [[String: Any]])
        #expect(streams.count == 1)
        #expect((streams[0]["Sensor"] as? [String: Any])?["name"] as? String == "VEGAPULS C 11")
        #expect((streams[0]["unitOfMeasurement"] as? [String: Any])?["symbol"] as? String == "cm")
        // The datastream's phenomenon time spans its observations.
        #expect(streams[0]["phenomenonTime"] as? String == "2026-12-01T09:30:00Z/2026-12-01T10:15:00Z")
        let streamURL = try #require(streams[0]["@iot.selfLink"] as? String)
        let locations = try #require(thing.object["Locations"] as? [[String: Any]])
        #expect((locations.first?["location"] as? [String: Any])?["coordinates"] as? [Double] == [7.398, 49.538])

        // Linking a Thing to a Location recorded a HistoricalLocation; the observations got a
        // FeatureOfInterest made from the Location.
        let history = try await sensors.get(thingURL + "/HistoricalLocations", [("$expand", "Locations")])
        #expect(history.values.count == 1)
        let features = try await sensors.get("/FeaturesOfInterest")
        #expect(features.values.map { $0["name"] as? String } == ["Glanbrücke Kusel"])

        // Navigation, properties and raw values.
        let observations = try await sensors.get(streamURL + "/Observations", [("$orderby", "phenomenonTime desc")])
        #expect(observations.values.compactMap { $0["result"] as? Double } == [118.5, 112, 97])
        #expect(observations.values.first?["phenomenonTime"] as? String == "2026-12-01T10:15:00Z")
        #expect(observations.values.last?["parameters"] as? [String: String] == ["qualitaet": "gut"])
        let parent = try await sensors.get(streamURL + "/Thing")
        #expect(parent.object["@iot.selfLink"] as? String == thingURL)
        let name = try await sensors.get(thingURL + "/name")
        #expect(name.object["name"] as? String == "Pegel Kusel")
        let raw = try await sensors.get(thingURL + "/name/$value")
        #expect(raw.text == "Pegel Kusel")
        let references = try await sensors.get(thingURL + "/Datastreams/$ref")
        #expect(references.values.map { $0.keys.sorted() } == [["@iot.selfLink"]])

        // Filters, counts, selection and paging with next links.
        let high = try await sensors.get(
            "/Observations",
            [("$filter", "result gt 100 and Datastream/name eq 'Wasserstand Kusel'"), ("$count", "true")])
        #expect(high.object["@iot.count"] as? Int == 2)
        #expect(Set(high.values.compactMap { $0["result"] as? Double }) == [112, 118.5])
        let selected = try await sensors.get("/Things", [("$select", "name")])
        #expect(selected.values.first.map { $0.keys.sorted() } == ["@iot.selfLink", "name"])
        var seen: [Int] = []
        var next: String? = sensors.api + "/Observations?$top=2&$orderby=phenomenonTime"
        while let address = next {
            let page = try await sensors.get(address)
            #expect(page.values.count <= 2)
            seen += page.ids
            next = page.object["@iot.nextLink"] as? String
        }
        #expect(seen.count == 3)
        #expect(Set(seen).count == 3)

        // A new reading by POST to the datastream's Observations.
        let reading = try await sensors.post(
            streamURL + "/Observations", #"{"result": 131, "phenomenonTime": "2026-12-01T10:45:00Z"}"#)
        #expect(reading.status == 201, "\(reading.text)")
        let latest = try await sensors.get(
            streamURL + "/Observations", [("$orderby", "phenomenonTime desc"), ("$top", "1"), ("$select", "result")])
        #expect(latest.values.first?["result"] as? Int == 131)

        // PATCH merges; JSON Patch edits; a PATCH cannot change the id.
        let merged = try await sensors.send(
            .PATCH, thingURL,
            body: #"{"description": "Radarpegel, erneuert", "properties": {"betreiber": null, "baujahr": 2026}}"#)
        #expect(merged.status == 200, "\(merged.text)")
        #expect(merged.object["description"] as? String == "Radarpegel, erneuert")
        #expect((merged.object["properties"] as? [String: Any])?.keys.sorted() == ["baujahr", "gewaesser"])
        let patched = try await sensors.send(
            .PATCH, thingURL,
            body:
                #"[{"op": "replace", "path": "/name", "value": "Pegel Kusel (Glan)"}, {"op": "test", "path": "/properties/gewaesser", "value": "Glan"}]"#,
            contentType: "application/json-patch+json")
        #expect(patched.status == 200, "\(patched.text)")
        #expect(patched.object["name"] as? String == "Pegel Kusel (Glan)")
        let failedTest = try await sensors.send(
            .PATCH, thingURL,
            body:
                #"[{"op": "replace", "path": "/name", "value": "x"}, {"op": "test", "path": "/properties/gewaesser", "value": "Lauter"}]"#,
            contentType: "application/json-patch+json")
        #expect(failedTest.status == 400)
        #expect(try await sensors.get(thingURL + "/name/$value").text == "Pegel Kusel (Glan)")

        // Deleting the Thing takes its datastream and observations along; sensors stay.
        let deleted = try await sensors.send(.DELETE, thingURL)
        #expect(deleted.status == 200)
        #expect(try await sensors.get(thingURL).status == 404)
        #expect(try await sensors.get("/Datastreams").values.isEmpty)
        #expect(try await sensors.get("/Observations").values.isEmpty)
        #expect(try await sensors.get("/Sensors").values.count == 1)

        // The same Thing made again gets new ids: a client holding the old ones finds nothing, never
        // another Thing's data (SQLite would give the highest id again once its row was deleted).
        let again = try await sensors.post("/Things", Self.gauge)
        #expect(again.status == 201, "\(again.text)")
        let newThingURL = try #require(again.headers["location"])
        #expect(newThingURL != thingURL)
        let newStreams = try await sensors.get("/Datastreams").values.compactMap { $0["@iot.selfLink"] as? String }
        #expect(newStreams.count == 1 && !newStreams.contains(streamURL), "\(newStreams) \(streamURL)")
        #expect(try await sensors.get(streamURL).status == 404)
    }

    @Test func badRequests_getClearErrors_andChangeNothing() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.3")
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post("/Things", Self.gauge)
        #expect(created.status == 201, "\(created.text)")

        func refused(_ reply: SensorsProcess.Reply, _ status: Int, _ words: String) {
            #expect(reply.status == status, "\(reply.text)")
            #expect(reply.object["code"] as? Int == status)
            #expect(reply.message.contains(words), "\(reply.message)")
        }
        refused(try await sensors.post("/Things", #"{"name": "x", "description": }"#), 400, "line 1, column 30")
        refused(
            try await sensors.post("/Things", #"{"name": 5, "description": "d"}"#), 400, "Thing.name must be a string")
        refused(
            try await sensors.post("/Things", #"{"name": "x", "description": "d", "colour": "red"}"#), 400, "'colour'")
        refused(try await sensors.post("/Things", #"{"name": "x"}"#), 400, "needs description")
        refused(
            try await sensors.post(
                "/Observations", #"{"result": 1, "Datastream": {"@iot.id": 999}}"#), 409,
            "no Datastream with @iot.id 999")
        refused(try await sensors.get("/Gauges"), 404, "'Gauges' is not an entity set")
        refused(try await sensors.get("/Things(abc)"), 404, "not an entity id")
        refused(try await sensors.get("/Things(999)"), 404, "no Thing")
        refused(try await sensors.get("/Things", [("$filter", "colour eq 'red'")]), 400, "colour")
        refused(try await sensors.get("/Things", [("$filter", "name eq")]), 400, "$filter")
        refused(try await sensors.get("/Things", [("$top", "99999999999999999999")]), 400, "$top")
        refused(try await sensors.get("/Things", [("$expand", "Gauges")]), 400, "Gauges")
        refused(
            try await sensors.get(
                "/Things",
                [("$filter", String(repeating: "(", count: 2000) + "name eq 'a'" + String(repeating: ")", count: 2000))]
            ),
            400, "$filter")
        refused(
            try await sensors.get("/Things", [("$filter", "name eq '" + String(repeating: "x", count: 20_000) + "'")]),
            400, "$filter")
        // Writing without the token, or with a wrong one.
        refused(
            try await sensors.send(.POST, "/Things", body: #"{"name": "x", "description": "d"}"#, authorized: false),
            401, "token")
        refused(
            try await sensors.send(
                .DELETE, "/Things(1)", authorization: "Basic " + Data("admin:wrong".utf8).base64EncodedString()), 401,
            "token")
        // Basic authentication with the token as password works (FROST clients send that).
        let basic = try await sensors.send(
            .POST, "/Things", body: #"{"name": "Pegel Altenglan", "description": "Druckpegel"}"#,
            authorization: "Basic " + Data("admin:\(sensors.token)".utf8).base64EncodedString())
        #expect(basic.status == 201, "\(basic.text)")

        // A deep insert that fails halfway stores nothing of it.
        let before = try await sensors.get("/Sensors", [("$count", "true")]).object["@iot.count"] as? Int
        let broken = try await sensors.post(
            "/Datastreams",
            #"{"name": "d", "description": "d", "observationType": "x", "unitOfMeasurement": {}, "Thing": {"@iot.id": 1}, "Sensor": {"name": "s", "description": "s", "encodingType": "t", "metadata": "m"}, "ObservedProperty": {"@iot.id": 999}}"#
        )
        #expect(broken.status == 409, "\(broken.text)")
        #expect(try await sensors.get("/Sensors", [("$count", "true")]).object["@iot.count"] as? Int == before)
        // The service still answers.
        #expect(try await sensors.get("/Things").status == 200)
    }

    @Test func observationsPastRetention_areDeletedAtStart() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.4", extra: "retention: 1d")
        defer { sensors.stop() }
        try await sensors.start()
        #expect(try await sensors.post("/Things", Self.gauge).status == 201)
        let threeDaysAgo = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3 * 86_400))
        let old = try await sensors.post(
            "/Datastreams(1)/Observations", #"{"result": 80, "phenomenonTime": "\#(threeDaysAgo)"}"#)
        #expect(old.status == 201, "\(old.text)")
        let fresh = try await sensors.post("/Datastreams(1)/Observations", #"{"result": 120}"#)
        #expect(fresh.status == 201, "\(fresh.text)")
        #expect(try await sensors.get("/Observations", [("$filter", "result ge 80")]).values.count == 5)

        sensors.stopProcess()
        try await sensors.start()
        // Every reading older than a day is gone; the one without a time was taken as now and stays.
        let left = try await sensors.get("/Observations")
        #expect(left.values.compactMap { $0["result"] as? Int } == [120])
    }

    @Test func dataArray_uploadsRowsOneByOne_andReadsThemBackGroupedByDatastream() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.5")
        defer { sensors.stop() }
        try await sensors.start()
        #expect(try await sensors.post("/Things", Self.gauge).status == 201)

        // Four rows: the third has a result that is no value, the fourth a missing column.
        let uploaded = try await sensors.post(
            "/CreateObservations",
            #"""
            [{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result", "parameters"],
              "dataArray@iot.count": 4,
              "dataArray": [["2026-12-02T08:00:00Z", 140, {"qualitaet": "gut"}], ["2026-12-02T08:15:00Z", 142.5, null],
                            ["2026-12-02T08:30:00Z", "x", 1], ["2026-12-02T08:45:00Z", 150]]}]
            """#)
        #expect(uploaded.status == 201, "\(uploaded.text)")
        let links = try #require(uploaded.json as? [String])
        #expect(links.count == 4)
        #expect(links[0].hasPrefix(sensors.api + "/Observations("))
        #expect(links[1].hasPrefix(sensors.api + "/Observations("))
        #expect(links[2] == "error")
        #expect(links[3] == "error")
        #expect(try await sensors.get(links[0]).object["result"] as? Int == 140)
        // The datastream's phenomenon time now reaches the new readings.
        let stream = try await sensors.get("/Datastreams(1)")
        #expect((stream.object["phenomenonTime"] as? String)?.hasSuffix("/2026-12-02T08:15:00Z") == true)

        // Read back as rows, grouped by datastream.
        let rows = try await sensors.get(
            "/Datastreams(1)/Observations",
            [
                ("$resultFormat", "dataArray"), ("$select", "id,phenomenonTime,result"),
                ("$orderby", "phenomenonTime desc"),
                ("$top", "2"),
            ])
        #expect(rows.status == 200, "\(rows.text)")
        let group = try #require(rows.values.first)
        #expect(group["components"] as? [String] == ["id", "phenomenonTime", "result"])
        #expect(group["dataArray@iot.count"] as? Int == 2)
        let data = try #require(group["dataArray"] as? [[Any]])
        #expect(data.map { $0[1] as? String } == ["2026-12-02T08:15:00Z", "2026-12-02T08:00:00Z"])
        #expect(data.map { $0[2] as? Double } == [142.5, 140])
        #expect(group["Datastream@iot.navigationLink"] as? String == sensors.api + "/Datastreams(1)")
        #expect(rows.object["@iot.nextLink"] != nil)

        // A datastream that does not exist stores nothing of the request.
        let before =
            try await sensors.get("/Observations", [("$count", "true"), ("$top", "0")]).object["@iot.count"] as? Int
        let refused = try await sensors.post(
            "/CreateObservations",
            #"[{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": [[1]]}, {"Datastream": {"@iot.id": 99}, "components": ["result"], "dataArray": [[2]]}]"#
        )
        #expect(refused.status == 409, "\(refused.text)")
        #expect(
            try await sensors.get("/Observations", [("$count", "true"), ("$top", "0")]).object["@iot.count"] as? Int
                == before)
        let badComponent = try await sensors.post(
            "/CreateObservations", #"[{"Datastream": {"@iot.id": 1}, "components": ["colour"], "dataArray": [[1]]}]"#)
        #expect(badComponent.status == 400)
        #expect(badComponent.message.contains("'colour'"), "\(badComponent.message)")
    }
}
