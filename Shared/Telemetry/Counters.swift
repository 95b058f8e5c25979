import Synchronization

/// Counts by label values, safe to bump from any task: requests by route and status, convergences by
/// outcome.
///
/// ```swift
/// let requests = Counters(labels: ["method", "route", "status"])
/// requests.add(["GET", "/health", "200"])
/// page.counter("stellwerk_http_requests_total", help: "…", samples: requests.samples())
/// ```
package final class Counters: Sendable {
    private let names: [String]
    private let counts = Mutex<[[String]: Int]>([:])

    package init(labels names: [String]) {
        self.names = names
    }

    /// Adds `amount` to the count of these label values (one per label name, in order).
    package func add(_ values: [String], _ amount: Int = 1) {
        precondition(values.count == names.count, "one value per label")
        counts.withLock { $0[values, default: 0] += amount }
    }

    /// The count of these label values; 0 when never bumped.
    package func count(_ values: [String]) -> Int { counts.withLock { $0[values] ?? 0 } }

    /// Every label set with its count, in a stable order.
    package func samples() -> [PrometheusText.Sample] {
        counts.withLock { $0 }.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { values, count in
            PrometheusText.Sample(labels: Array(zip(names, values)), value: Double(count))
        }
    }
}
