import Testing

@testable import SensorThings
@testable import Sensors

/// The rules an uplink's reading passes, and the mappings in a Datastream's properties, on their own.
@Suite struct IngestRuleTests {
    static func properties(_ ingest: String) throws -> JSONValue {
        try JSONParser.parse(Array(#"{"ingest": \#(ingest)}"#.utf8))
    }

    @Test func mapping_convertsAndChecksLimitsAndSteps() throws {
        let mapping = try #require(
            try IngestMapping.from(
                datastream: 7,
                properties: Self.properties(
                    #"{"device": "EUI-70B3", "field": "mm", "factor": 0.1, "offset": -5, "min": 0, "max": 100, "max_step": 10}"#
                )))
        #expect(mapping.device == "eui-70b3")
        #expect(mapping.value(of: .integer(500)) == 45)
        #expect(mapping.value(of: .string("500")) == 45)
        #expect(mapping.value(of: .string("viel")) == nil)
        #expect(mapping.implausibility(of: 45, after: 40) == nil)
        #expect(mapping.implausibility(of: 45, after: 30)?.contains("a step of 15") == true)
        #expect(mapping.implausibility(of: -1, after: nil) == "below 0.0")
        #expect(mapping.implausibility(of: 101, after: nil) == "above 100.0")
        #expect(!mapping.flagsImplausible)
    }

    @Test(arguments: [
        (#"{"field": "mm"}"#, "needs device"),
        (#"{"device": "d", "field": "mm", "factor": "zehn"}"#, "factor must be a number"),
        (#"{"device": "d", "field": "mm", "faktor": 2}"#, "unknown member 'faktor'"),
        (#"{"device": "d", "field": "mm", "min": 5, "max": 1}"#, "min is above max"),
        (#"{"device": "d", "field": "mm", "max_step": 0}"#, "max_step must be above 0"),
        (#"{"device": "d", "field": "mm", "implausible": "ignore"}"#, #"implausible must be "reject" or "flag""#),
        (#"["d"]"#, "must be an object"),
    ])
    func badMappings_areRefusedNamingTheMember(ingest: String, message: String) throws {
        #expect {
            _ = try IngestMapping.from(datastream: 3, properties: Self.properties(ingest))
        } throws: { error in
            (error as? IngestRejection)?.message.hasPrefix("Datastream 3 properties.ingest: ") == true
                && (error as? IngestRejection)?.message.contains(message) == true
        }
    }

    @Test func topics_tellTheFormat() {
        #expect(Uplink.Format(topic: "v3/pegel@ttn/devices/eui-1/up") == .thingsStack)
        #expect(Uplink.Format(topic: "application/42/device/70b3/event/up") == .chirpStack)
        #expect(Uplink.Format(topic: "v3/pegel@ttn/devices/eui-1/join") == nil)
        #expect(Uplink.Format(topic: "v1.1/Observations") == nil)
    }

    @Test func thingsStackUplink_keepsOnlyDeviceTimeAndDecodedFields() throws {
        let message = try JSONParser.parse(
            Array(
                #"{"end_device_ids": {"device_id": "Pegel-1", "dev_eui": "70B3"}, "uplink_message": {"decoded_payload": {"mm": 12}, "received_at": "2026-12-06T08:00:00.5Z", "rx_metadata": [{"gateway_ids": {"gateway_id": "g"}}]}}"#
                    .utf8))
        let uplink = try Uplink.parse(message, format: .thingsStack)
        #expect(uplink.devices == ["pegel-1", "70b3"])
        #expect(uplink.time == SensorTime.milliseconds("2026-12-06T08:00:00.5Z"))
        #expect(uplink.fields.map(\.0) == ["mm"])
        #expect(throws: IngestRejection.self) {
            try Uplink.parse(
                try JSONParser.parse(Array(#"{"deviceInfo": {"devEui": "70b3"}}"#.utf8)), format: .chirpStack)
        }
    }
}
