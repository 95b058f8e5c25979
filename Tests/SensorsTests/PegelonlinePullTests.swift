import Foundation
import TestSupport
import Testing

@testable import Sensors

/// Pulling readings from a Pegelonline-compatible source: here another sensor service's Pegelonline
/// view, a real HTTP server on its own loopback address. Resumable, without duplicates, only from
/// allowed sources, and a source that fails is counted and asked again later.
@Suite(.serialized) struct PegelonlinePullTests {
    @Test func readingsFromAnAllowedSource_arrivePulledOnce_andKeepComing() async throws {
        let source = try await SensorsProcess(host: "127.0.64.60", extra: "pegelonline_view: true")
        defer { source.stop() }
        try await source.start()
        #expect(
            try await source.post("/Things", PegelonlineViewTests.station(readings: [100, 105, 110, 120])).status
                == 201)
        let origin = source.url + "/pegelonline/v2"

        let mirror = try await SensorsProcess(
            host: "127.0.64.61", extra: "pull:\n  sources: \(origin)\n  interval: 1s")
        defer { mirror.stop() }
        try await mirror.start()
        let gauge = """
            {"name": "Pegel Kusel (Spiegel)", "description": "from the Landkreis",
             "Locations": [{"name": "Glanbrücke", "description": "Brücke", "encodingType": "application/geo+json",
                            "location": {"type": "Point", "coordinates": [7.398, 49.538]}}],
             "Datastreams": [
               {"name": "W Kusel", "description": "W", "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "urn:cm"},
                "properties": {"pull": {"source": "\(origin)", "station": "KUSEL", "timeseries": "W"}},
                "Sensor": {"name": "Pegelonline", "description": "pull", "encodingType": "text/plain", "metadata": "-"},
                "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "W"}},
               {"name": "W elsewhere", "description": "W", "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "urn:cm"},
                "properties": {"pull": {"source": "\(origin).evil.example", "station": "KUSEL"}},
                "Sensor": {"@iot.id": 1}, "ObservedProperty": {"@iot.id": 1}}
             ]}
            """
        #expect(try await mirror.post("/Things", gauge).status == 201)

        func results(_ datastream: Int) async throws -> [Double] {
            try await mirror.get("/Datastreams(\(datastream))/Observations", [("$orderby", "phenomenonTime")]).values
                .compactMap { ($0["result"] as? NSNumber)?.doubleValue }
        }
        try await waitUntil("four readings were pulled") { try await results(1).count >= 4 }
        #expect(try await results(1) == [100, 105, 110, 120], "\(mirror.logText)")

        // A new reading at the source arrives with the next round; nothing arrives twice.
        let stream = try await source.get("/Datastreams").values.first?["@iot.selfLink"] as? String
        let newest = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        #expect(
            try await source.post(
                try #require(stream) + "/Observations", #"{"phenomenonTime": "\#(newest)", "result": 126}"#
            ).status == 201)
        try await waitUntil("the new reading was pulled") { try await results(1).count >= 5 }
        // Two more rounds ask the source again: what arrived stays once.
        func pulls() async throws -> Double {
            let page = try await mirror.send(.GET, mirror.url + "/metrics").text
            return SensorsMQTTTests.metric(#"sensors_pull_total{what="request",outcome="ok"}"#, in: page) ?? 0
        }
        let target = try await pulls() + 2
        try await waitUntil("two more pulls") { try await pulls() >= target }
        #expect(try await results(1) == [100, 105, 110, 120, 126])
        // The source that only looks like the allowed one is never asked.
        #expect(try await results(2).isEmpty)
        #expect(mirror.logText.contains("Datastream 2 asks \(origin).evil.example, which pull.sources does not allow"))

        // The source goes away: counted as failed requests, the mirror keeps serving what it has.
        source.stopProcess()
        try await waitUntil("a failed pull was counted") {
            try await mirror.send(.GET, mirror.url + "/metrics").text.contains(
                #"sensors_pull_total{what="request",outcome="failed"}"#)
        }
        #expect(try await results(1).count == 5)
    }

    @Test func allowedSources_matchWholeURLs() {
        let allowed = ["https://www.pegelonline.wsv.de/webservices/rest-api/v2"]
        #expect(PegelonlinePull.isAllowed("https://www.pegelonline.wsv.de/webservices/rest-api/v2", by: allowed))
        #expect(PegelonlinePull.isAllowed("https://www.pegelonline.wsv.de/webservices/rest-api/v2/", by: allowed))
        #expect(!PegelonlinePull.isAllowed("https://www.pegelonline.wsv.de/webservices/rest-api/v2x", by: allowed))
        #expect(!PegelonlinePull.isAllowed("https://www.pegelonline.wsv.de.evil/webservices/rest-api/v2", by: allowed))
        #expect(!PegelonlinePull.isAllowed("http://127.0.0.1/", by: []))
    }
}
