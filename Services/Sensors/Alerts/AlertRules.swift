import SensorThings

/// When a Datastream raises alerts, kept with it in `properties.alerts` (like its ingest mapping):
///
/// ```json
/// "properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 150}, {"name": "Meldestufe 2", "above": 200}],
///                           "hysteresis": 5, "rise_per_hour": 20}}
/// ```
///
/// A level is entered when a reading reaches its `above` and left only when a reading falls below
/// `above − hysteresis`, so a level that wobbles around a threshold is one alert, not a stream.
struct AlertRules: Sendable, Equatable {
    struct Level: Sendable, Equatable {
        var name: String
        var above: Double
    }

    /// Ascending by `above`; level 1 is the first.
    var levels: [Level]
    var hysteresis: Double
    /// The rise in one hour (in the Datastream's unit) that raises a rate-of-rise alert.
    var risePerHour: Double?

    /// The rules in a Datastream's properties; nil when it has none, an error naming the member
    /// when they are wrong.
    static func from(datastream: Int64, properties: JSONValue) throws(IngestRejection) -> AlertRules? {
        guard let alerts = properties["alerts"], alerts != .null else { return nil }
        func fail(_ message: String) -> IngestRejection {
            .malformed("Datastream \(datastream) properties.alerts: \(message)")
        }
        guard let members = alerts.members else { throw fail("must be an object") }
        let known: Set = ["levels", "hysteresis", "rise_per_hour"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw fail("unknown member '\(unknown.0)'; the members are \(known.sorted().joined(separator: ", "))")
        }
        var levels: [Level] = []
        if let list = alerts["levels"] {
            guard case .array(let items) = list, items.count <= 4 else {
                throw fail("levels must be a list of at most 4 {name, above}")
            }
            for (index, item) in items.enumerated() {
                guard let name = item["name"]?.string, !name.isEmpty, let above = item["above"]?.double,
                    above.isFinite
                else { throw fail("levels[\(index)] needs a name and a number above") }
                if let previous = levels.last, above <= previous.above {
                    throw fail("levels[\(index)].above must be higher than the level before it")
                }
                levels.append(Level(name: name, above: above))
            }
        }
        let hysteresis = alerts["hysteresis"]?.double ?? 0
        guard hysteresis >= 0, hysteresis.isFinite else { throw fail("hysteresis must be a number of at least 0") }
        let rise = alerts["rise_per_hour"]?.double
        if let rise, !(rise > 0 && rise.isFinite) { throw fail("rise_per_hour must be a number above 0") }
        guard !levels.isEmpty || rise != nil else { throw fail("needs levels or rise_per_hour") }
        return AlertRules(levels: levels, hysteresis: hysteresis, risePerHour: rise)
    }

    /// The level a reading of `value` puts the Datastream at, coming from `current` (0: none).
    func level(for value: Double, current: Int) -> Int {
        // The rules may have lost levels since the current one was raised.
        let current = min(max(current, 0), levels.count)
        let reached = levels.lastIndex { value >= $0.above }.map { $0 + 1 } ?? 0
        guard reached < current else { return reached }
        // Falling: a level is kept until the reading is below its threshold by the hysteresis.
        let kept = (1...current).last { value >= levels[$0 - 1].above - hysteresis } ?? 0
        return max(reached, kept)
    }
}
