package import Foundation
import Synchronization

/// The traffic counts the service took in, by source: each source's last good body is kept until
/// the next one replaces it, for the history publisher to send on what the sensor service does not
/// have yet. Counts are never served from here: only the sensor service, which suppresses small
/// ones, publishes them.
package final class CountFeeds: Sendable {
    package let sources: [String]
    package let stations: [String: CountingStation]
    private let state = Mutex<[String: Taken]>([:])

    typealias Taken = SourceTaken<TrafficCount>

    package init(sources: [String], stations: [String: CountingStation]) {
        self.sources = sources
        self.stations = stations
    }

    /// Takes a body fetched from `url`, or refuses it whole (the counts taken before stay).
    package func accept(_ body: Data, from url: String, at now: Date) throws(SourceRefusal) {
        guard sources.contains(url) else { throw SourceRefusal("\(url) is not a configured count source") }
        let reading: CountsCSV.Reading
        do {
            reading = try CountsCSV.parse(body, stations: stations, now: now)
        } catch {
            failed(url, error.description, at: now)
            throw error
        }
        state.withLock {
            $0[url] = Taken(items: reading.counts, leftOut: reading.leftOut, fetchedAt: now, attemptedAt: now)
        }
    }

    package func failed(_ url: String, _ reason: String, at now: Date) {
        state.withLock { $0.noteFailure(of: url, reason, at: now) }
    }

    /// Every count of every source, by station and mode, oldest first.
    package func counts() -> [TrafficCount] {
        let taken = state.withLock { $0 }
        return sources.flatMap { taken[$0]?.items ?? [] }.sorted {
            ($0.station, $0.mode.rawValue, $0.start) < ($1.station, $1.mode.rawValue, $1.start)
        }
    }

    /// One source as `/api/counts/sources` shows it.
    package struct Status: Codable, Sendable {
        package var url: String
        package var fetchedAt: String?
        package var attemptedAt: String?
        package var counts: Int
        package var leftOut: [String]
        package var lastError: String?
    }

    package func statuses() -> [Status] {
        let taken = state.withLock { $0 }
        return sources.map { url in
            let data = taken[url] ?? Taken()
            return Status(
                url: url, fetchedAt: data.fetchedAt.map { $0.formatted(.iso8601) },
                attemptedAt: data.attemptedAt.map { $0.formatted(.iso8601) }, counts: data.items.count,
                leftOut: Array(data.leftOut.prefix(50)), lastError: data.lastError)
        }
    }
}
