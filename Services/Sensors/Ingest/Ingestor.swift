import Database
import Logging
import MQTT
import SensorThings
import Synchronization
import Telemetry

/// Turns uplinks from LoRaWAN network servers (over MQTT or a webhook) into observations, by the
/// mappings in the Datastreams' properties: converted, checked for plausibility, duplicates dropped,
/// everything counted. Stored observations are published over MQTT like any other.
final class Ingestor: Sendable {
    let store: SensorStore
    let configuration: SensorsConfiguration
    let logger: Logger
    let now: @Sendable () -> Int64
    let mqtt: MQTTClient?
    /// Mappings by device name; nil until first needed and after a Datastream changed.
    private let mappings = Mutex<[String: [IngestMapping]]?>(nil)
    /// Readings by source (`mqtt`, `webhook`), format and outcome, for `/metrics`.
    let outcomes = Counters(labels: ["source", "format", "outcome"])

    init(
        store: SensorStore, configuration: SensorsConfiguration, logger: Logger, now: @escaping @Sendable () -> Int64,
        mqtt: MQTTClient?
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.now = now
        self.mqtt = mqtt
    }

    /// What became of one reading (or of the whole uplink, for `malformed` and `unknown_device`).
    struct Outcome: Sendable, Equatable {
        var datastream: Int64?
        /// `stored`, `flagged` (stored as implausible), `implausible` (dropped), `duplicate`,
        /// `missing_field`, `unknown_device` or `malformed`.
        var outcome: String
        var message: String?
    }

    /// Datastreams changed: read the mappings again before the next uplink.
    func invalidate() {
        mappings.withLock { $0 = nil }
    }

    /// Takes one message; never throws for a bad uplink (it is counted), only when the store fails.
    func ingest(_ payload: [UInt8], format: Uplink.Format, source: String) async throws -> [Outcome] {
        let outcomes: [Outcome]
        do {
            let message: JSONValue
            do {
                message = try JSONParser.parse(payload, maximumDepth: 32)
            } catch {
                throw IngestRejection.malformed("the uplink is not JSON: \(error.description)")
            }
            outcomes = try await ingest(try Uplink.parse(message, format: format))
        } catch let rejection as IngestRejection {
            outcomes = [Outcome(outcome: rejection.reason, message: rejection.message)]
        }
        for outcome in outcomes { self.outcomes.add([source, format.rawValue, outcome.outcome]) }
        return outcomes
    }

    private func ingest(_ uplink: Uplink) async throws -> [Outcome] {
        let byDevice = try await currentMappings()
        guard let device = uplink.devices.first(where: { byDevice[$0] != nil }), let mappings = byDevice[device] else {
            throw IngestRejection.unknownDevice
        }
        let time = uplink.time ?? now()
        var (outcomes, rows) = try await store.pool.withWriter { connection in
            var outcomes: [Outcome] = []
            var rows: [(IngestMapping, Double, flagged: Bool)] = []
            for mapping in mappings {
                guard let reading = uplink.fields.first(where: { $0.0 == mapping.field })?.1 else {
                    outcomes.append(
                        Outcome(
                            datastream: mapping.datastream, outcome: "missing_field",
                            message: "the uplink has no numeric field \(mapping.field)"))
                    continue
                }
                guard let value = mapping.value(of: reading) else {
                    outcomes.append(
                        Outcome(
                            datastream: mapping.datastream, outcome: "missing_field",
                            message: "\(mapping.field) is not a number"))
                    continue
                }
                let same = try connection.execute(
                    "SELECT 1 FROM observations WHERE datastream_id = $1 AND phenomenon_time_start = $2 LIMIT 1",
                    [.integer(mapping.datastream), .integer(time)])
                if !same.isEmpty {
                    outcomes.append(Outcome(datastream: mapping.datastream, outcome: "duplicate"))
                    continue
                }
                var previous: Double?
                if mapping.maximumStep != nil {
                    previous = try connection.execute(
                        "SELECT result_number FROM observations WHERE datastream_id = $1 AND phenomenon_time_start < $2"
                            + " AND (result_quality IS NULL OR result_quality <> '\"implausible\"')"
                            + " ORDER BY phenomenon_time_start DESC LIMIT 1",
                        [.integer(mapping.datastream), .integer(time)]
                    ).first?.optionalReal(0)
                }
                if let problem = mapping.implausibility(of: value, after: previous) {
                    if mapping.flagsImplausible {
                        rows.append((mapping, value, true))
                        outcomes.append(Outcome(datastream: mapping.datastream, outcome: "flagged", message: problem))
                    } else {
                        outcomes.append(
                            Outcome(datastream: mapping.datastream, outcome: "implausible", message: problem))
                    }
                    continue
                }
                if mapping.keepsDevicePseudonym && self.configuration.privacy.pseudonymKey == nil {
                    outcomes.append(
                        Outcome(
                            datastream: mapping.datastream, outcome: "malformed",
                            message: "device_pseudonym needs privacy.pseudonym_key in the service's configuration"))
                    continue
                }
                rows.append((mapping, value, false))
                outcomes.append(Outcome(datastream: mapping.datastream, outcome: "stored"))
            }
            return (outcomes, rows)
        }
        guard !rows.isEmpty else { return outcomes }
        let groups: [JSONValue] = rows.map { mapping, value, flagged in
            .object([
                ("Datastream", .object([("@iot.id", .integer(mapping.datastream))])),
                (
                    "components",
                    .array(["phenomenonTime", "result", "resultQuality", "parameters"].map(JSONValue.string))
                ),
                (
                    "dataArray",
                    .array([
                        .array([
                            .string(SensorTime.text(time)), .number(value),
                            flagged ? .string("implausible") : .null,
                            mapping.keepsDevicePseudonym
                                ? configuration.privacy.pseudonym(of: device).map {
                                    .object([("device", .string($0))])
                                } ?? .null : .null,
                        ])
                    ])
                ),
            ])
        }
        let writer = EntityWriter(store: store, configuration: configuration, now: now, mqtt: mqtt)
        let links = try await writer.createObservations(.array(groups))
        // A row the writer refused (a Datastream deleted meanwhile) is not stored after all.
        for (index, link) in links.enumerated() where link == "error" {
            if let position = outcomes.firstIndex(where: {
                $0.datastream == rows[index].0.datastream && ($0.outcome == "stored" || $0.outcome == "flagged")
            }) {
                outcomes[position] = Outcome(
                    datastream: rows[index].0.datastream, outcome: "malformed", message: "the Datastream refused it")
            }
        }
        return outcomes
    }

    /// The mappings by device, read from the Datastreams when not cached.
    private func currentMappings() async throws -> [String: [IngestMapping]] {
        if let cached = mappings.withLock({ $0 }) { return cached }
        let rows = try await store.pool.withConnection { connection in
            try connection.execute("SELECT id, properties FROM datastreams WHERE properties IS NOT NULL", [])
        }
        var byDevice: [String: [IngestMapping]] = [:]
        for row in rows {
            guard let text = row.optionalText(1), text.contains("\"ingest\""),
                let properties = try? JSONParser.parse(Array(text.utf8))
            else { continue }
            do {
                if let mapping = try IngestMapping.from(datastream: Int64(row.integer(0)), properties: properties) {
                    byDevice[mapping.device, default: []].append(mapping)
                }
            } catch {
                logger.warning("ingest: \(error.message); the Datastream gets no readings until it is fixed")
            }
        }
        mappings.withLock { $0 = byDevice }
        return byDevice
    }
}
