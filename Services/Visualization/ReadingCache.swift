import Synchronization

/// Readings of datastreams kept between requests for as long as a chart may be kept: a request for
/// another period of the same datastream (the page after the SVG, 7 days after 24 hours, a period
/// one step further) reads from the sensor service only what is not here yet. After `lifetime` an
/// entry is read anew whole, so late and corrected readings show up within the same time as a cached
/// chart would.
final class ReadingCache: Sendable {
    struct Entry: Sendable {
        var start: Int64
        var end: Int64
        /// Ordered by time, each time once.
        var readings: [TimeSeriesChart.Reading]
        var loaded: Int64
    }

    private let entries = Mutex<[Int64: Entry]>([:])
    /// Milliseconds an entry is used; 0 keeps nothing.
    let lifetime: Int64
    /// The most readings kept over all datastreams (16 bytes each).
    let limit: Int

    init(lifetime: Int64, limit: Int = 1_000_000) {
        self.lifetime = lifetime
        self.limit = limit
    }

    /// The readings of `datastream` from `start` to `end`, reading what is missing with `fetch`.
    func readings(
        _ datastream: Int64, from start: Int64, to end: Int64, now: Int64,
        fetch: (Int64, Int64) async throws(SensorSource.Failure) -> [TimeSeriesChart.Reading]
    ) async throws(SensorSource.Failure) -> [TimeSeriesChart.Reading] {
        guard lifetime > 0 else { return try await fetch(start, end) }
        let kept = entries.withLock { entries -> Entry? in
            guard let entry = entries[datastream], now - entry.loaded < lifetime else { return nil }
            return entry
        }
        var entry: Entry
        if let kept, start <= kept.end, end >= kept.start {
            entry = kept
            if start < entry.start {
                let earlier = try await fetch(start, entry.start).filter { $0.time < entry.start }
                entry.readings = earlier + entry.readings
                entry.start = start
            }
            if end > entry.end {
                let later = try await fetch(entry.end, end).filter { $0.time > entry.end }
                entry.readings += later
                entry.end = end
            }
        } else {
            entry = Entry(start: start, end: end, readings: try await fetch(start, end), loaded: now)
        }
        let slice = Self.slice(entry.readings, from: start, to: end)
        store(datastream, entry)
        return slice
    }

    private func store(_ datastream: Int64, _ entry: Entry) {
        entries.withLock { entries in
            entries[datastream] = entry
            var total = entries.values.reduce(0) { $0 + $1.readings.count }
            // Over the limit: the entries read longest ago go first.
            for (key, value) in entries.sorted(by: { $0.value.loaded < $1.value.loaded }) where total > limit {
                entries[key] = nil
                total -= value.readings.count
            }
        }
    }

    /// The readings from `start` to `end`, by binary search in the ordered list.
    static func slice(
        _ readings: [TimeSeriesChart.Reading], from start: Int64, to end: Int64
    ) -> [TimeSeriesChart.Reading] {
        func firstIndex(atLeast time: Int64, after: Bool) -> Int {
            var low = 0
            var high = readings.count
            while low < high {
                let middle = (low + high) / 2
                if after ? readings[middle].time <= time : readings[middle].time < time {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low
        }
        let lower = firstIndex(atLeast: start, after: false)
        let upper = firstIndex(atLeast: end, after: true)
        return lower < upper ? Array(readings[lower..<upper]) : []
    }
}
