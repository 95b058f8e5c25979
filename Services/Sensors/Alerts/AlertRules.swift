import SensorThings

/// When a Datastream raises alerts, kept with it in `properties.alerts` (like its ingest mapping):
///
/// ```json
/// "properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 150}, {"name": "Meldestufe 2", "above": 200}],
///                           "hysteresis": 5, "rise_per_hour": 20, "stale_after_minutes": 60}}
/// ```
///
/// `"levels": "characteristic"` takes the gauge's own characteristic values instead (MHW as the
/// level, MNW as low water) from `properties.pegelonline.characteristicValues`.
///
/// A level is entered when a reading reaches its `above` and left only when a reading falls below
/// `above − hysteresis`, so a level that wobbles around a threshold is one alert, not a stream.
struct AlertRules: Sendable, Equatable {
    struct Level: Sendable, Equatable {
        var name: String
        var above: Double
    }

    struct LowWater: Sendable, Equatable {
        var name: String
        var below: Double
    }

    /// Ascending by `above`; level 1 is the first.
    var levels: [Level]
    /// Readings at or below it raise a low-water alert.
    var low: LowWater?
    var hysteresis: Double
    /// The rise in one hour (in the Datastream's unit) that raises a rate-of-rise alert.
    var risePerHour: Double?
    /// Milliseconds without a reading after which the Datastream counts as stale.
    var staleAfter: Int64?

    /// The rules in a Datastream's properties; nil when it has none, an error naming the member
    /// when they are wrong.
    static func from(datastream: Int64, properties: JSONValue) throws(IngestRejection) -> AlertRules? {
        guard let alerts = properties["alerts"], alerts != .null else { return nil }
        func fail(_ message: String) -> IngestRejection {
            .malformed("Datastream \(datastream) properties.alerts: \(message)")
        }
        guard let members = alerts.members else { throw fail("must be an object") }
        let known: Set = ["levels", "low", "hysteresis", "rise_per_hour", "stale_after_minutes"]
        if let unknown = members.first(where: { !known.contains($0.0) }) {
            throw fail("unknown member '\(unknown.0)'; the members are \(known.sorted().joined(separator: ", "))")
        }
        var levels: [Level] = []
        var low: LowWater?
        switch alerts["levels"] {
        case nil, .null?: break
        case .string("characteristic")?:
            (levels, low) = try characteristicLevels(of: properties, fail: fail)
        case .array(let items)? where items.count <= 4:
            for (index, item) in items.enumerated() {
                guard let name = item["name"]?.string, !name.isEmpty, let above = item["above"]?.double,
                    above.isFinite
                else { throw fail("levels[\(index)] needs a name and a number above") }
                if let previous = levels.last, above <= previous.above {
                    throw fail("levels[\(index)].above must be higher than the level before it")
                }
                levels.append(Level(name: name, above: above))
            }
        default:
            throw fail("levels must be a list of at most 4 {name, above}, or \"characteristic\"")
        }
        if let item = alerts["low"], item != .null {
            guard let name = item["name"]?.string, !name.isEmpty, let below = item["below"]?.double, below.isFinite
            else { throw fail("low needs a name and a number below") }
            if let first = levels.first, below >= first.above {
                throw fail("low.below must be under the first level")
            }
            low = LowWater(name: name, below: below)
        }
        let hysteresis = alerts["hysteresis"]?.double ?? 0
        guard hysteresis >= 0, hysteresis.isFinite else { throw fail("hysteresis must be a number of at least 0") }
        let rise = alerts["rise_per_hour"]?.double
        if let rise, !(rise > 0 && rise.isFinite) { throw fail("rise_per_hour must be a number above 0") }
        var staleAfter: Int64?
        if let stale = alerts["stale_after_minutes"], stale != .null {
            // A week at most: past that a gauge is out of service, not late.
            guard let minutes = stale.double, minutes == minutes.rounded(), (1...10_080).contains(minutes) else {
                throw fail("stale_after_minutes must be a whole number from 1 to 10080")
            }
            staleAfter = Int64(minutes) * 60_000
        }
        guard !levels.isEmpty || low != nil || rise != nil || staleAfter != nil else {
            throw fail("needs levels, low, rise_per_hour or stale_after_minutes")
        }
        return AlertRules(levels: levels, low: low, hysteresis: hysteresis, risePerHour: rise, staleAfter: staleAfter)
    }

    /// MHW as the one level and MNW as low water, from the characteristic values that the
    /// Pegelonline view serves too.
    private static func characteristicLevels(
        of properties: JSONValue, fail: (String) -> IngestRejection
    ) throws(IngestRejection) -> ([Level], LowWater?) {
        guard let values = CharacteristicValues.list(in: properties) else {
            throw fail("levels \"characteristic\" needs properties.pegelonline.characteristicValues")
        }
        let high = CharacteristicValues.value("MHW", in: values)
        let low = CharacteristicValues.value("MNW", in: values)
        guard high != nil || low != nil else {
            throw fail("levels \"characteristic\" needs MHW or MNW among properties.pegelonline.characteristicValues")
        }
        if let high, let low, low >= high { throw fail("characteristic value MNW must be under MHW") }
        return (
            high.map { [Level(name: "Mittleres Hochwasser (MHW)", above: $0)] } ?? [],
            low.map { LowWater(name: "Mittleres Niedrigwasser (MNW)", below: $0) }
        )
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

    /// Whether a reading of `value` means low water, coming from `isLow`.
    func isLowWater(_ value: Double, wasLow isLow: Bool) -> Bool {
        guard let low else { return false }
        return isLow ? value <= low.below + hysteresis : value <= low.below
    }
}
