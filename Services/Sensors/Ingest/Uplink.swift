import SensorThings

/// One reading of a device as a LoRaWAN network server hands it on, reduced to what the platform
/// keeps: which device, when, and the decoded fields. Everything else in the message (gateway
/// metadata, radio parameters, the raw payload, locations of gateways) is dropped here, before
/// anything is stored.
struct Uplink: Sendable {
    /// The network servers whose uplink format is understood, by the name the webhook path uses.
    enum Format: String, Sendable, CaseIterable {
        /// The Things Stack v3 (`v3/{app}@{tenant}/devices/{device}/up`).
        case thingsStack = "ttn"
        /// ChirpStack v4 (`application/{id}/device/{devEUI}/event/up`).
        case chirpStack = "chirpstack"

        /// The MQTT topic filter its uplinks arrive on.
        var topicFilter: String {
            switch self {
            case .thingsStack: "v3/+/devices/+/up"
            case .chirpStack: "application/+/device/+/event/up"
            }
        }

        /// The format of a message that arrived on `topic`; nil for other topics.
        init?(topic: String) {
            let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
            if levels.count == 5, levels[0] == "v3", levels[2] == "devices", levels[4] == "up" {
                self = .thingsStack
            } else if levels.count == 6, levels[0] == "application", levels[2] == "device", levels[4] == "event",
                levels[5] == "up"
            {
                self = .chirpStack
            } else {
                return nil
            }
        }
    }

    /// The device's names, lowercased: its id at the network server and its DevEUI (either may be
    /// what a mapping names).
    var devices: [String]
    /// When it was measured (received by the network server), in milliseconds since 1970; nil
    /// when the message does not say.
    var time: Int64?
    /// The payload as the network server's decoder made it.
    var fields: [(String, JSONValue)]

    /// Reads a message; a message that is not an uplink of `format` is an error saying what is missing.
    static func parse(_ message: JSONValue, format: Format) throws(IngestRejection) -> Uplink {
        guard message.members != nil else { throw .malformed("an uplink must be a JSON object") }
        switch format {
        case .thingsStack:
            let ids = message["end_device_ids"]
            let devices = [ids?["device_id"]?.string, ids?["dev_eui"]?.string].compactMap { $0?.lowercased() }
            guard !devices.isEmpty else { throw .malformed("a Things Stack uplink needs end_device_ids.device_id") }
            guard let uplink = message["uplink_message"] else {
                throw .malformed("not an uplink: the message has no uplink_message")
            }
            guard let fields = uplink["decoded_payload"]?.members else {
                throw .malformed("the uplink has no decoded_payload: set a payload formatter at the network server")
            }
            let time = (uplink["received_at"]?.string ?? message["received_at"]?.string).flatMap(
                SensorTime.milliseconds)
            return Uplink(devices: devices, time: time, fields: fields)
        case .chirpStack:
            let info = message["deviceInfo"]
            let devices = [info?["devEui"]?.string, info?["deviceName"]?.string].compactMap { $0?.lowercased() }
            guard !devices.isEmpty else { throw .malformed("a ChirpStack uplink needs deviceInfo.devEui") }
            guard let fields = message["object"]?.members else {
                throw .malformed("the uplink has no object: set a codec for the device profile in ChirpStack")
            }
            return Uplink(
                devices: devices, time: message["time"]?.string.flatMap(SensorTime.milliseconds), fields: fields)
        }
    }
}

/// Why an uplink or one of its readings was not stored; the reason is a metric label.
enum IngestRejection: Error, Sendable, Equatable {
    case malformed(String)
    case unknownDevice

    var reason: String {
        switch self {
        case .malformed: "malformed"
        case .unknownDevice: "unknown_device"
        }
    }

    var message: String {
        switch self {
        case .malformed(let message): message
        case .unknownDevice: "no Datastream maps this device (properties.ingest.device)"
        }
    }
}
