import Foundation
import TestSupport
import Testing

/// Readings from the field: LoRaWAN uplinks from The Things Stack over MQTT (sent with the real
/// `mosquitto_pub`) and from ChirpStack by webhook become observations of the Datastreams whose
/// `properties.ingest` names the device, converted and checked; duplicates, implausible readings,
/// unknown devices and garbage are handled by rule and counted, and the service keeps running.
@Suite(.serialized) struct SensorsIngestTests {
    static let device = "eui-70b3d57ed005a1b2"

    /// A gauge whose water level arrives in millimetres and is stored in centimetres.
    static func gauge(implausible: String) -> String {
        """
        {
          "name": "Pegel Kusel", "description": "Glan",
          "Locations": [{"name": "Glanbrücke", "description": "Brücke", "encodingType": "application/geo+json",
                         "location": {"type": "Point", "coordinates": [7.398, 49.538]}}],
          "Datastreams": [{
            "name": "Wasserstand Kusel", "description": "W",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
            "properties": {"ingest": {"device": "\(device)", "field": "water_level_mm", "factor": 0.1,
                                      "min": 0, "max": 1000, "max_step": 50, "implausible": "\(implausible)"}},
            "Sensor": {"name": "Radar", "description": "Radar", "encodingType": "text/plain", "metadata": "-"},
            "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "W"}
          }]
        }
        """
    }

    /// An uplink as The Things Stack v3 publishes it, gateway metadata and raw payload included.
    static func thingsStackUplink(device: String = device, millimetres: Int, at time: String) -> String {
        """
        {"end_device_ids": {"device_id": "\(device)", "application_ids": {"application_id": "pegel-kusel"},
          "dev_eui": "70B3D57ED005A1B2"},
         "received_at": "\(time)",
         "uplink_message": {"f_port": 1, "frm_payload": "BNI=",
           "decoded_payload": {"water_level_mm": \(millimetres), "battery_v": 3.61},
           "rx_metadata": [{"gateway_ids": {"gateway_id": "kusel-rathaus"}, "rssi": -97,
                            "location": {"latitude": 49.53, "longitude": 7.40}}],
           "received_at": "\(time)"}}
        """
    }

    @Test(.enabled(if: MosquittoServer.shouldRun, "Mosquitto is not installed"))
    func thingsStackUplinks_overMQTT_becomeObservations_byRule() async throws {
        let broker = try MosquittoServer(host: "127.0.64.40")
        let sensors = try await SensorsProcess(
            host: "127.0.64.40", extra: "mqtt:\n  broker: mqtt://\(broker.host):\(broker.port)")
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post("/Things", Self.gauge(implausible: "flag"))
        try #require(created.status == 201, "\(created.text)")

        func publish(_ payload: String, device: String = Self.device) throws {
            let status = try Spawn.run(
                "/usr/bin/mosquitto_pub",
                [
                    "-h", broker.host, "-p", String(broker.port), "-q", "1", "-t",
                    "v3/pegel-kusel@ttn/devices/\(device)/up", "-m", payload,
                ]
            ).status
            try #require(status == 0, "mosquitto_pub failed: \(broker.log)")
        }
        func observations() async throws -> [[String: Any]] {
            try await sensors.get("/Datastreams(1)/Observations", [("$orderby", "phenomenonTime")]).values
        }
        func counted(_ outcome: String) async throws -> Double {
            let page = try await sensors.send(.GET, sensors.url + "/metrics").text
            let line = page.split(separator: "\n").first {
                $0.hasPrefix("sensors_ingest_readings_total{") && $0.contains("outcome=\"\(outcome)\"")
                    && $0.contains("source=\"mqtt\"")
            }
            return line.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        }

        // The service subscribes once the broker accepted it; send until the first reading is in.
        try await waitUntil("an observation arrived from MQTT", every: .milliseconds(300)) {
            guard try await observations().isEmpty else { return true }
            try publish(Self.thingsStackUplink(millimetres: 1234, at: "2026-12-06T08:00:00Z"))
            return false
        }
        // The same uplink again (a network server retrying): dropped as a duplicate.
        try publish(Self.thingsStackUplink(millimetres: 1234, at: "2026-12-06T08:00:00Z"))
        // A jump of 56.6 cm in 15 minutes, more than max_step: stored, flagged.
        try publish(Self.thingsStackUplink(millimetres: 1800, at: "2026-12-06T08:15:00Z"))
        // A plausible reading, earlier than the last one (out of order): stored.
        try publish(Self.thingsStackUplink(millimetres: 1250, at: "2026-12-06T07:45:00Z"))
        // An unknown device, garbage, and an uplink without a decoded payload: counted, nothing stored.
        try publish(
            Self.thingsStackUplink(device: "eui-0000000000000000", millimetres: 1, at: "2026-12-06T08:20:00Z"),
            device: "eui-0000000000000000")
        try publish("{\"end_device_ids\": [", device: Self.device)
        try publish(#"{"end_device_ids": {"device_id": "\#(Self.device)"}, "uplink_message": {"f_port": 1}}"#)

        // Taken in order: when the last one is counted, all are.
        try await waitFor(counted, "malformed", atLeast: 2)
        try await waitFor(counted, "unknown_device", atLeast: 1)
        let stored = try await observations()
        #expect(
            stored.compactMap { $0["phenomenonTime"] as? String } == [
                "2026-12-06T07:45:00Z", "2026-12-06T08:00:00Z", "2026-12-06T08:15:00Z",
            ])
        #expect(stored.compactMap { ($0["result"] as? NSNumber)?.doubleValue } == [125, 123.4, 180])
        #expect(stored.map { $0["resultQuality"] as? String } == [nil, nil, "implausible"])
        // Nothing of the gateway or the raw payload was kept.
        #expect(!stored.contains { "\($0)".contains("kusel-rathaus") || "\($0)".contains("BNI=") })
        #expect(try await counted("duplicate") >= 1)
        #expect(try await counted("flagged") == 1)
        // The log names no device.
        #expect(!sensors.logText.contains("70b3d57ed005a1b2"), "\(sensors.logText)")
        // Still serving.
        #expect(try await sensors.send(.GET, sensors.url + "/health").status == 200)
    }

    @Test func chirpStackWebhook_needsTheToken_andRejectsImplausibleReadings() async throws {
        let token = "ingest-\(UUID().uuidString.prefix(8))"
        let sensors = try await SensorsProcess(host: "127.0.64.41", extra: "ingest_token: \(token)")
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post("/Things", Self.gauge(implausible: "reject"))
        try #require(created.status == 201, "\(created.text)")
        func uplink(millimetres: Int, at time: String) -> String {
            """
            {"deduplicationId": "3ac7e3c4", "time": "\(time)",
             "deviceInfo": {"tenantName": "Kusel", "applicationName": "pegel", "deviceName": "glan-bruecke",
                            "devEui": "70b3d57ed005a1b2"},
             "data": "BNI=", "object": {"water_level_mm": \(millimetres)},
             "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -101}]}
            """
        }
        func send(
            _ body: String, path: String = "/ingest/chirpstack", token: String? = token
        ) async throws
            -> SensorsProcess.Reply
        {
            try await sensors.send(
                .POST, sensors.url + path, body: body, authorization: token.map { "Bearer \($0)" }, authorized: false)
        }

        // The mapping names the device by its id; ChirpStack's DevEUI matches too.
        let mapped = try await sensors.send(
            .PATCH, "/Datastreams(1)",
            body:
                #"{"properties": {"ingest": {"device": "70B3D57ED005A1B2", "field": "water_level_mm", "factor": 0.1, "max": 1000}}}"#
        )
        #expect(mapped.status == 200, "\(mapped.text)")

        let stored = try await send(uplink(millimetres: 2045, at: "2026-12-06T09:00:00.000Z"))
        #expect(stored.status == 200, "\(stored.text)")
        #expect(stored.text == #"{"readings":[{"outcome":"stored","Datastream":1}]}"#)
        let rejected = try await send(uplink(millimetres: 20_450, at: "2026-12-06T09:15:00.000Z"))
        #expect(rejected.text.contains(#""outcome":"implausible""#), "\(rejected.text)")
        #expect(rejected.text.contains("above 1000"), "\(rejected.text)")

        let unauthorized = try await send(uplink(millimetres: 2050, at: "2026-12-06T09:30:00.000Z"), token: nil)
        #expect(unauthorized.status == 401)
        let wrong = try await send(uplink(millimetres: 2050, at: "2026-12-06T09:30:00.000Z"), token: "falsch")
        #expect(wrong.status == 401)
        let unknownFormat = try await send("{}", path: "/ingest/sigfox")
        #expect(unknownFormat.status == 404)
        #expect(unknownFormat.message.contains("/ingest/ttn, /ingest/chirpstack"), "\(unknownFormat.text)")
        let garbage = try await send("[1, 2")
        #expect(garbage.status == 200)
        #expect(garbage.text.contains(#""outcome":"malformed""#), "\(garbage.text)")

        let observations = try await sensors.get("/Datastreams(1)/Observations").values
        #expect(observations.compactMap { ($0["result"] as? NSNumber)?.doubleValue } == [204.5])
        #expect(observations.first?["phenomenonTime"] as? String == "2026-12-06T09:00:00Z")
    }

    func waitFor(
        _ counted: (String) async throws -> Double, _ outcome: String, atLeast count: Double
    ) async throws {
        try await waitUntil("\(outcome) was counted \(Int(count)) time(s)") { try await counted(outcome) >= count }
    }
}
