import SensorThings

/// Which field of which device's uplinks becomes an observation of a Datastream, and the rules a
/// reading must pass. Kept with the Datastream itself, in its `properties.ingest`, so a site
/// configures its gauges through the SensorThings API (or its seed) like everything else:
///
/// ```json
/// "properties": {"ingest": {"device": "eui-70b3d57ed005a1b2", "field": "water_level_mm",
///   "factor": 0.1, "offset": 0, "min": 0, "max": 1200, "max_step": 50, "implausible": "flag"}}
/// ```
struct IngestMapping: Sendable, Equatable {
    var datastream: Int64
    /// The device's id at the network server or its DevEUI, lowercased.
    var device: String
    /// The field of the decoded payload.
    var field: String
    /// The stored value is `reading × factor + offset` (a unit conversion: mm to cm is 0.1).
    var factor = 1.0
    var offset = 0.0
    /// Plausibility limits of the converted value; outside them a reading is implausible.
    var minimum: Double?
    var maximum: Double?
    /// The largest plausible change from the reading before it (a jump of a radar echo off a boat).
    var maximumStep: Double?
    /// What happens to an implausible reading: stored with `resultQuality` "implausible", or dropped.
    var flagsImplausible = false
    /// Whether readings carry the device as a keyed pseudonym in `parameters.device`, so readings of
    /// several devices in one Datastream can be told apart without naming the device.
    var keepsDevicePseudonym = false

    /// The mapping in a Datastream's properties; nil when it has none. A mapping that is there but
    /// wrong is an error naming the member, so a typo is not a silently ignored gauge.
    static func from(datastream: Int64, properties: JSONValue) throws(IngestRejection) -> IngestMapping? {
        guard let ingest = properties["ingest"], ingest != .null else { return nil }
        func fail(_ message: String) -> IngestRejection {
            .malformed("Datastream \(datastream) properties.ingest: \(message)")
        }
        guard let members = ingest.members else { throw fail("must be an object") }
        let known: Set = [
            "device", "field", "factor", "offset", "min", "max", "max_step", "implausible", "device_pseudonym",
        ]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw fail("unknown member '\(unknown.0)'; the members are \(known.sorted().joined(separator: ", "))")
        }
        guard let device = ingest["device"]?.string, !device.isEmpty else { throw fail("needs device (a text)") }
        guard let field = ingest["field"]?.string, !field.isEmpty else { throw fail("needs field (a text)") }
        var mapping = IngestMapping(datastream: datastream, device: device.lowercased(), field: field)
        func number(_ name: String) throws(IngestRejection) -> Double? {
            guard let value = ingest[name], value != .null else { return nil }
            guard let number = value.double, number.isFinite else { throw fail("\(name) must be a number") }
            return number
        }
        mapping.factor = try number("factor") ?? 1
        mapping.offset = try number("offset") ?? 0
        mapping.minimum = try number("min")
        mapping.maximum = try number("max")
        mapping.maximumStep = try number("max_step")
        if let step = mapping.maximumStep, step <= 0 { throw fail("max_step must be above 0") }
        if let minimum = mapping.minimum, let maximum = mapping.maximum, minimum > maximum {
            throw fail("min is above max")
        }
        switch ingest["implausible"]?.string ?? "reject" {
        case "reject": mapping.flagsImplausible = false
        case "flag": mapping.flagsImplausible = true
        default: throw fail("implausible must be \"reject\" or \"flag\"")
        }
        if let pseudonym = ingest["device_pseudonym"], pseudonym != .null {
            guard case .bool(let flag) = pseudonym else { throw fail("device_pseudonym must be true or false") }
            mapping.keepsDevicePseudonym = flag
        }
        return mapping
    }

    /// The converted value of `reading`, or nil when it is not a number.
    func value(of reading: JSONValue) -> Double? {
        guard let number = reading.double ?? reading.string.flatMap(Double.init), number.isFinite else { return nil }
        return number * factor + offset
    }

    /// Why `value` is implausible after `previous`, or nil when it passes.
    func implausibility(of value: Double, after previous: Double?) -> String? {
        if let minimum, value < minimum { return "below \(minimum)" }
        if let maximum, value > maximum { return "above \(maximum)" }
        if let maximumStep, let previous, abs(value - previous) > maximumStep {
            return "a step of \(abs(value - previous)) (more than \(maximumStep))"
        }
        return nil
    }
}
