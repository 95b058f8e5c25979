import Synchronization
import Testing

@testable import Visualization

/// Readings kept between requests: another period of the same datastream reads only what is
/// missing, and an entry past its lifetime is read anew whole.
struct ReadingCacheTests {
    /// A source with a reading every minute, counting what it was asked for.
    final class Source: Sendable {
        let asked = Mutex<[(Int64, Int64)]>([])

        func fetch(_ start: Int64, _ end: Int64) -> [TimeSeriesChart.Reading] {
            asked.withLock { $0.append((start, end)) }
            let first = (start + 59_999) / 60_000
            let last = end / 60_000
            guard first <= last else { return [] }
            return (first...last).map { TimeSeriesChart.Reading(time: $0 * 60_000, value: Double($0)) }
        }
    }

    @Test func anotherPeriod_readsOnlyWhatIsMissing_andAnOldEntryIsReadWhole() async throws {
        let source = Source()
        let cache = ReadingCache(lifetime: 60_000)
        let minute: Int64 = 60_000
        func read(_ start: Int64, _ end: Int64, at now: Int64) async throws -> [TimeSeriesChart.Reading] {
            try await cache.readings(7, from: start * minute, to: end * minute, now: now) { start, end in
                source.fetch(start, end)
            }
        }
        #expect(try await read(100, 200, at: 0).map(\.time) == (100...200).map { $0 * minute })
        // Ten minutes earlier and ten later: two small reads, the middle from the cache.
        let wider = try await read(90, 210, at: 1_000)
        #expect(wider.map(\.time) == (90...210).map { $0 * minute })
        #expect(
            source.asked.withLock { $0.map { [$0.0 / minute, $0.1 / minute] } } == [
                [100, 200], [90, 100], [200, 210],
            ])
        // Inside what is kept: nothing read.
        #expect(try await read(120, 130, at: 2_000).count == 11)
        #expect(source.asked.withLock { $0.count } == 3)
        // Past the lifetime: read whole again.
        #expect(try await read(120, 130, at: 70_000).count == 11)
        #expect(source.asked.withLock { $0.last.map { [$0.0 / minute, $0.1 / minute] } } == [120, 130])
    }

    @Test func slice_findsTheBoundsInclusive() {
        let readings = [10, 20, 20, 30, 40].map { TimeSeriesChart.Reading(time: Int64($0), value: 0) }
        #expect(ReadingCache.slice(readings, from: 20, to: 30).map(\.time) == [20, 20, 30])
        #expect(ReadingCache.slice(readings, from: 41, to: 50).isEmpty)
        #expect(ReadingCache.slice(readings, from: 0, to: 9).isEmpty)
        #expect(ReadingCache.slice(readings, from: 0, to: 100).count == 5)
    }

    @Test func withoutALifetime_nothingIsKept() async throws {
        let source = Source()
        let cache = ReadingCache(lifetime: 0)
        for _ in 0..<2 {
            _ = try await cache.readings(1, from: 0, to: 600_000, now: 0) { start, end in source.fetch(start, end) }
        }
        #expect(source.asked.withLock { $0.count } == 2)
    }
}
