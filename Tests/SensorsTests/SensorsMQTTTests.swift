import Foundation
import Logging
import MQTT
import Synchronization
import TestSupport
import Testing

/// The "MQTT Receive" side of the sensor service against a real Mosquitto: new observations reach
/// subscribers (paho-mqtt, and the service's own client library as a second subscriber), and a broker
/// that is down at start or goes away later loses nothing: what was created meanwhile is published
/// once the broker is back.
@Suite(.serialized) struct SensorsMQTTTests {
    static let python = SensorsInteropTests.python
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    /// A gauge with a location (observations get a FeatureOfInterest from it) and one datastream.
    static let gauge = """
        {
          "name": "Pegel Altenglan", "description": "Glan",
          "Locations": [{"name": "Glanbrücke", "description": "Brücke", "encodingType": "application/geo+json",
                         "location": {"type": "Point", "coordinates": [7.467, 49.551]}}],
          "Datastreams": [{
            "name": "Wasserstand Altenglan", "description": "W",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": {"name": "Zentimeter", "symbol": "cm", "definition": "http://unitsofmeasure.org/ucum.html#para-30"},
            "Sensor": {"name": "Radar", "description": "Radar", "encodingType": "text/plain", "metadata": "-"},
            "ObservedProperty": {"name": "Wasserstand", "definition": "urn:w", "description": "W"}
          }]
        }
        """

    @Test(.enabled(if: (MosquittoServer.shouldRun && SensorsInteropTests.available) || required))
    func pahoSubscriber_receivesEachNewObservation_onTheDatastreamAndSetTopics() async throws {
        try #require(SensorsInteropTests.available, "the Python clients are missing: run scripts/python-clients")
        let broker = try MosquittoServer(host: "127.0.64.20")
        let sensors = try await SensorsProcess(
            host: "127.0.64.20", extra: "mqtt:\n  broker: mqtt://\(broker.host):\(broker.port)")
        defer { sensors.stop() }
        try await sensors.start()
        let created = try await sensors.post("/Things", Self.gauge)
        try #require(created.status == 201, "\(created.text)")

        // The service document says where to subscribe.
        let document = try await sensors.get("")
        let settings = document.object["serverSettings"] as? [String: Any]
        #expect(
            (settings?["mqtt"] as? [String: Any])?["endpoints"] as? [String] == ["mqtt://127.0.64.20:\(broker.port)"])
        #expect(
            (settings?["conformance"] as? [String])?.contains {
                $0.hasSuffix("receive-updates-via-mqtt/receive-updates")
            } == true)

        let ready = sensors.root.appendingPathComponent("paho.ready")
        let output = sensors.root.appendingPathComponent("paho.out").path
        let subscriber = Task {
            try await offloaded {
                try Spawn.run(
                    Self.python.path,
                    [
                        Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/paho_mqtt_observations.py").path,
                        broker.host, String(broker.port), "1", "3", ready.path,
                    ], standardOutput: output
                ).status
            }
        }
        try await waitUntil("paho-mqtt subscribed") { FileManager.default.fileExists(atPath: ready.path) }
        for (minute, level) in [(0, 131.5), (15, 134), (30, 140.25)] {
            let reply = try await sensors.post(
                "/Datastreams(1)/Observations",
                #"{"phenomenonTime": "2026-12-06T06:\#(minute == 0 ? "00" : String(minute)):00Z", "result": \#(level)}"#
            )
            #expect(reply.status == 201, "\(reply.text)")
        }
        let status = try await subscriber.value
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(printed)\n\(sensors.logText)\n\(broker.log)")
        #expect(printed == "1 131.5\n2 134\n3 140.25\nok\n", "\(printed)")
    }

    @Test(.enabled(if: MosquittoServer.shouldRun, "Mosquitto is not installed"))
    func brokerDownAtStartAndRestarted_everyObservationIsPublishedOnceItIsBack() async throws {
        let broker = try MosquittoServer(host: "127.0.64.21")
        // A subscriber with a persistent session: the broker keeps its subscription across restarts
        // and queues for it what is published while it reconnects.
        let received = Mutex<[String]>([])
        var settings = MQTTClient.Settings(host: broker.host, port: broker.port, clientID: "test-subscriber")
        settings.subscriptions = ["v1.1/Datastreams(1)/Observations"]
        settings.longestReconnectDelay = .milliseconds(400)
        var quiet = Logger(label: "test-subscriber")
        quiet.logLevel = .warning
        let subscriber = try MQTTClient(settings, logger: quiet) { message in
            received.withLock { $0.append(String(decoding: message.payload, as: UTF8.self)) }
        }
        subscriber.start()
        try await waitUntil("the subscription was granted") { subscriber.statistics.granted == 1 }
        broker.stop()

        let sensors = try await SensorsProcess(
            host: "127.0.64.21", extra: "mqtt:\n  broker: mqtt://\(broker.host):\(broker.port)")
        defer { sensors.stop() }
        // The broker is down: the service starts anyway and serves HTTP.
        try await sensors.start()
        try #require(try await sensors.post("/Things", Self.gauge).status == 201)
        for level in [101, 102] {
            let reply = try await sensors.post(
                "/Datastreams(1)/Observations",
                #"{"phenomenonTime": "2026-12-06T07:0\#(level - 100):00Z", "result": \#(level)}"#)
            #expect(reply.status == 201, "\(reply.text)")
        }
        let waiting = try await sensors.send(.GET, sensors.url + "/metrics").text
        #expect(waiting.contains("sensors_mqtt_connected 0"), "\(waiting)")
        // Thing, Location, Datastream, Sensor, ObservedProperty, and two observations on two topics each
        // (and a third for their FeatureOfInterest).
        #expect(Self.metric("sensors_mqtt_queued", in: waiting).map { $0 >= 6 } == true, "\(waiting)")

        try broker.start()
        try await waitUntil("both observations arrived") { received.withLock { $0.count } >= 2 }

        // Gone again, and back: the observation posted in between arrives too, by DataArray.
        broker.stop()
        let bulk = try await sensors.post(
            "/CreateObservations",
            #"[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"], "dataArray": [["2026-12-06T07:03:00Z", 103]]}]"#
        )
        #expect(bulk.status == 201, "\(bulk.text)")
        try broker.start()
        try await waitUntil("the third observation arrived") { received.withLock { $0.count } >= 3 }
        // Nothing is resent once the broker acknowledged all: wait for that, then count what arrived.
        try await waitUntil("the outbox emptied") {
            Self.metric("sensors_mqtt_queued", in: try await sensors.send(.GET, sensors.url + "/metrics").text) == 0
        }

        let results = received.withLock { $0 }.compactMap { text in
            (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["result"] as? Int
        }
        #expect(results == [101, 102, 103], "\(received.withLock { $0 })")
        let published = try await sensors.send(.GET, sensors.url + "/metrics").text
        #expect(published.contains("sensors_mqtt_connected 1"), "\(published)")
        #expect(Self.metric("sensors_mqtt_queued", in: published) == 0, "\(published)")
        #expect(Self.metric("sensors_mqtt_dropped_total", in: published) == 0, "\(published)")
        // The outage was said once in the log, not once per attempt.
        let warnings = sensors.logText.components(separatedBy: "\n").filter { $0.contains("cannot connect") }
        #expect((1...2).contains(warnings.count), "\(sensors.logText)")
        await subscriber.stop()
    }

    @Test func brokerAddress_isCheckedWhenTheConfigurationIsRead() async throws {
        let sensors = try await SensorsProcess(host: "127.0.64.22")
        defer { sensors.stop() }
        let handle = try FileHandle(forWritingTo: sensors.config)
        handle.seekToEndOfFile()
        handle.write(Data("mqtt:\n  broker: mqtts://127.0.0.1:8883\n".utf8))
        try handle.close()
        let run = try await ProcessRunner.run(
            "datenplattform", ["sensors", "--config", sensors.config.path], in: sensors.root)
        #expect(run.status != 0)
        #expect(
            run.standardError.contains("mqtt.broker 'mqtts://127.0.0.1:8883': only mqtt:// is built"),
            "\(run.standardError)")
        #expect(run.standardError.split(separator: "\n").count == 1, "\(run.standardError)")
    }

    static func metric(_ name: String, in page: String) -> Double? {
        page.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}
