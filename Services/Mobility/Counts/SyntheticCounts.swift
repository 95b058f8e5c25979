package import Foundation

/// Made-up traffic counts, for sandboxes: every mode of every station of the stations file per
/// quarter hour of the last day, in the count feeds' CSV. Traffic follows the day (a morning and an
/// evening peak, quiet nights), so at night some counts fall below a privacy minimum and the sensor
/// service's suppression shows. Each row also carries a made-up counter serial, as real exports do,
/// which the service must drop.
package enum SyntheticCounts {
    /// Quarter hours in the feed: a day, so a new sandbox has a day of history at once.
    static let quarters = 96

    package static func feed(_ stations: [String: CountingStation], at now: Date) -> Data {
        let last = Int(now.timeIntervalSince1970) / 900
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        var csv = "station,mode,start,end,count,counter_serial\n"
        for station in stations.values.sorted(by: { $0.id < $1.id }) {
            for mode in station.modes {
                for quarter in (last - quarters)..<last {
                    let start = Date(timeIntervalSince1970: TimeInterval(quarter * 900))
                    let parts = calendar.dateComponents([.hour, .minute], from: start)
                    let hour = Double(parts.hour ?? 0) + Double(parts.minute ?? 0) / 60
                    let count = Self.count(
                        mode, hour: hour, roll: SyntheticRealtime.roll("\(station.id)\(mode)\(quarter)"))
                    csv += "\(station.id),\(mode.rawValue),\(text(start)),\(text(start.addingTimeInterval(900))),"
                    csv += "\(count),SN-\(SyntheticRealtime.roll(station.id + mode.rawValue) % 100_000)\n"
                }
            }
        }
        return Data(csv.utf8)
    }

    /// A quarter hour's count: the mode's peak traffic times the day's curve, varied by `roll`.
    static func count(_ mode: CountingStation.Mode, hour: Double, roll: Int) -> Int {
        let peak: Double =
            switch mode {
            case .cars: 180
            case .bicycles: 40
            case .pedestrians: 60
            }
        // Peaks at 8 and 17 o'clock, a floor of 2 % at night.
        func bell(_ centre: Double) -> Double { exp(-pow(hour - centre, 2) / 4) }
        let curve = max(0.02, min(1, 0.9 * bell(8) + bell(17) + 0.4 * bell(12.5)))
        let jitter = 0.8 + Double(roll % 41) / 100
        return max(0, Int((peak * curve * jitter).rounded()))
    }

    private static func text(_ date: Date) -> String { date.formatted(.iso8601) }
}
