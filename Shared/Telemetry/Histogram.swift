import Synchronization

/// Observations sorted into buckets by upper bound, with their sum and count: how long convergences
/// and requests take, as Prometheus histograms.
package final class Histogram: Sendable {
    /// Upper bounds in seconds: from a millisecond to a minute, for work that is usually quick.
    package static let secondsBounds: [Double] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]

    private let bounds: [Double]
    private let labelNames: [String]
    private let series = Mutex<[[String]: Snapshot]>([:])

    /// One label set's buckets (not cumulative), the sum and the count of its observations.
    package struct Snapshot: Sendable {
        package var labels: [(String, String)]
        package var bounds: [Double]
        package var counts: [Int]
        package var sum: Double
        package var count: Int
    }

    package init(bounds: [Double] = Histogram.secondsBounds, labels labelNames: [String] = []) {
        self.bounds = bounds.sorted()
        self.labelNames = labelNames
    }

    /// Records one observation for these label values.
    package func observe(_ value: Double, _ values: [String] = []) {
        precondition(values.count == labelNames.count, "one value per label")
        series.withLock { series in
            var snapshot =
                series[values]
                ?? Snapshot(
                    labels: Array(zip(labelNames, values)), bounds: bounds,
                    counts: Array(repeating: 0, count: bounds.count), sum: 0, count: 0)
            if let bucket = bounds.firstIndex(where: { value <= $0 }) { snapshot.counts[bucket] += 1 }
            snapshot.sum += value
            snapshot.count += 1
            series[values] = snapshot
        }
    }

    /// Records how long something took, in seconds.
    package func observe(_ duration: Duration, _ values: [String] = []) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) / 1e18, values)
    }

    /// Every label set's state, in a stable order.
    package func snapshots() -> [Snapshot] {
        series.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.value)
    }
}
