import SensorThings

/// The privacy rules of one Datastream, kept with it in `properties.privacy` (like its alerts):
///
/// ```json
/// "properties": {"privacy": {"min_count": 5, "raw_days": 30, "after_raw": "hourly"}}
/// ```
///
/// Counts from 1 to `min_count − 1` (people passing a counter) are not stored as they are; raw
/// observations older than `raw_days` are reduced to hourly aggregates or deleted.
struct DatastreamPrivacy: Sendable, Equatable {
    enum AfterRaw: String, Sendable {
        case hourly, delete
    }

    var minimumCount: Double?
    var rawDays: Int?
    var afterRaw: AfterRaw = .hourly

    /// The quality an observation below the minimum count is stored with (its result is null).
    static let suppressedQuality = JSONValue.string("suppressed")

    /// The rules in a Datastream's properties; nil when it has none, an error naming the member
    /// when they are wrong: a typo must not quietly keep personal data.
    static func from(datastream: Int64?, properties: JSONValue) throws(IngestRejection) -> DatastreamPrivacy? {
        guard let privacy = properties["privacy"], privacy != .null else { return nil }
        func fail(_ message: String) -> IngestRejection {
            .malformed("Datastream\(datastream.map { " \($0)" } ?? "") properties.privacy: \(message)")
        }
        guard let members = privacy.members else { throw fail("must be an object") }
        let known: Set = ["min_count", "raw_days", "after_raw"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw fail("unknown member '\(unknown.0)'; the members are \(known.sorted().joined(separator: ", "))")
        }
        var rules = DatastreamPrivacy()
        if let count = privacy["min_count"], count != .null {
            guard let value = count.double, value == value.rounded(), (2...1_000_000).contains(value) else {
                throw fail("min_count must be a whole number from 2 to 1000000")
            }
            rules.minimumCount = value
        }
        if let days = privacy["raw_days"], days != .null {
            guard let value = days.double, value == value.rounded(), (1...3650).contains(value) else {
                throw fail("raw_days must be a whole number of days from 1 to 3650")
            }
            rules.rawDays = Int(value)
        }
        if let after = privacy["after_raw"], after != .null {
            guard let text = after.string, let value = AfterRaw(rawValue: text) else {
                throw fail("after_raw must be \"hourly\" or \"delete\"")
            }
            guard rules.rawDays != nil else { throw fail("after_raw needs raw_days") }
            rules.afterRaw = value
        }
        guard rules.minimumCount != nil || rules.rawDays != nil else { throw fail("needs min_count or raw_days") }
        return rules
    }

    /// Whether `result` is a count too small to keep.
    func suppresses(_ result: Double) -> Bool {
        guard let minimumCount else { return false }
        return result > 0 && result < minimumCount
    }
}
