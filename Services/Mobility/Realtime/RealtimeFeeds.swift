package import Foundation
import SwiftProtobuf
import Synchronization

/// The GTFS-Realtime the service took in: the last good FeedMessage of each configured source, how
/// and when each was last fetched, and whether it is still current. A source whose data is older
/// than `staleAfter` (by its header's timestamp, or by when it was fetched where the header has none)
/// is stale: its updates no longer change departures and are left out of the republished feed, and
/// every view says so.
package final class RealtimeFeeds: Sendable {
    package let sources: [String]
    package let staleAfter: TimeInterval
    private let state = Mutex(State())
    /// The last merge, with what it was made of: boards ask for it on every request, and it changes
    /// only when a source gives new data or turns stale.
    private let merged = Mutex<(generation: Int, current: [String], snapshot: RealtimeSnapshot)?>(nil)

    private struct State {
        var sources: [String: Source] = [:]
        /// Counts the messages taken, so a merge knows whether it is still the latest.
        var generation = 0
    }

    /// The most entities one message may hold: far above a whole German state's trips in a day.
    static let entityLimit = 200_000

    struct Source: Sendable {
        var message: TransitRealtime_FeedMessage?
        /// When the message was made (its header), or fetched where the header says nothing.
        var producedAt: Date?
        var fetchedAt: Date?
        var attemptedAt: Date?
        var lastError: String?
    }

    package init(sources: [String], staleAfter: TimeInterval) {
        self.sources = sources
        self.staleAfter = staleAfter
    }

    /// Why a body is not taken.
    package struct Refusal: Error, CustomStringConvertible, Sendable {
        package var description: String
    }

    /// Takes a fetched body from `url` as that source's data, or refuses it (the data taken before
    /// stays, and ages).
    package func accept(_ body: Data, from url: String, at now: Date) throws(Refusal) {
        let message: TransitRealtime_FeedMessage
        do {
            message = try TransitRealtime_FeedMessage(serializedBytes: body)
        } catch {
            throw record(
                Refusal(description: "the body is not a GTFS-Realtime FeedMessage (protobuf): \(error)"), url, now)
        }
        guard message.header.incrementality == .fullDataset else {
            throw record(Refusal(description: "only FULL_DATASET feeds are taken, not DIFFERENTIAL"), url, now)
        }
        guard message.entity.count <= Self.entityLimit else {
            throw record(
                Refusal(description: "\(message.entity.count) entities, more than \(Self.entityLimit)"), url, now)
        }
        var produced = now
        if message.header.hasTimestamp, message.header.timestamp > 0, message.header.timestamp < UInt64(Int32.max) * 2 {
            // A producer's clock ahead of ours does not make its data newer than now.
            produced = min(now, Date(timeIntervalSince1970: TimeInterval(message.header.timestamp)))
        }
        state.withLock { state in
            state.sources[url] = Source(
                message: message, producedAt: produced, fetchedAt: now, attemptedAt: now, lastError: nil)
            state.generation += 1
        }
    }

    private func record(_ refusal: Refusal, _ url: String, _ now: Date) -> Refusal {
        failed(url, refusal.description, at: now)
        return refusal
    }

    /// Notes a fetch of `url` that failed.
    package func failed(_ url: String, _ reason: String, at now: Date) {
        state.withLock { state in
            var source = state.sources[url] ?? Source()
            source.attemptedAt = now
            source.lastError = reason
            state.sources[url] = source
        }
    }

    /// One source as `/api/realtime` shows it.
    package struct Status: Codable, Sendable, Equatable {
        package var url: String
        package var stale: Bool
        package var producedAt: String?
        package var fetchedAt: String?
        package var attemptedAt: String?
        package var tripUpdates: Int
        package var alerts: Int
        package var lastError: String?
    }

    package func statuses(at now: Date) -> [Status] {
        let kept = state.withLock { $0.sources }
        func text(_ date: Date?) -> String? { date.map { $0.formatted(.iso8601) } }
        return sources.map { url in
            let source = kept[url] ?? Source()
            let entities = source.message?.entity ?? []
            return Status(
                url: url, stale: isStale(source, at: now), producedAt: text(source.producedAt),
                fetchedAt: text(source.fetchedAt), attemptedAt: text(source.attemptedAt),
                tripUpdates: entities.filter(\.hasTripUpdate).count, alerts: entities.filter(\.hasAlert).count,
                lastError: source.lastError)
        }
    }

    private func isStale(_ source: Source, at now: Date) -> Bool {
        guard let produced = source.producedAt else { return true }
        return now.timeIntervalSince(produced) > staleAfter
    }

    /// What is current at `now`: the trip updates and alerts of every source that is not stale (a
    /// later source's update of a trip replacing an earlier one's), and when the oldest of them was
    /// produced.
    package func current(at now: Date) -> RealtimeSnapshot {
        let (kept, generation) = state.withLock { ($0.sources, $0.generation) }
        let current = sources.filter { url in
            kept[url].map { $0.message != nil && !isStale($0, at: now) } ?? false
        }
        if let last = merged.withLock({ $0 }), last.generation == generation, last.current == current {
            return last.snapshot
        }
        let snapshot = merge(kept, at: now)
        merged.withLock { $0 = (generation, current, snapshot) }
        return snapshot
    }

    private func merge(_ kept: [String: Source], at now: Date) -> RealtimeSnapshot {
        var snapshot = RealtimeSnapshot()
        snapshot.configured = !sources.isEmpty
        var oldestCurrent: Date?
        var newestStale: Date?
        for url in sources {
            guard let source = kept[url], let message = source.message, let produced = source.producedAt else {
                snapshot.stale = true
                continue
            }
            guard !isStale(source, at: now) else {
                snapshot.stale = true
                newestStale = max(newestStale ?? .distantPast, produced)
                continue
            }
            oldestCurrent = min(oldestCurrent ?? .distantFuture, produced)
            for entity in message.entity where !entity.isDeleted {
                if entity.hasTripUpdate {
                    let trip = entity.tripUpdate.trip
                    snapshot.tripUpdates[RealtimeSnapshot.key(trip.tripID, trip.startDate)] = entity
                }
                if entity.hasAlert { snapshot.alerts.append(entity) }
            }
        }
        snapshot.producedAt = oldestCurrent ?? newestStale
        return snapshot
    }
}

/// The realtime data current at one moment.
package struct RealtimeSnapshot: Sendable {
    /// Whether any source is configured.
    package var configured = false
    /// Whether a configured source is stale or has given nothing yet.
    package var stale = false
    package var producedAt: Date?
    /// Trip updates by trip and start date (empty when the update gives none).
    var tripUpdates: [String: TransitRealtime_FeedEntity] = [:]
    var alerts: [TransitRealtime_FeedEntity] = []

    static func key(_ trip: String, _ startDate: String) -> String { trip + "\u{0}" + startDate }

    /// The update of `trip` on `serviceDate`, or one that names no date.
    package func update(of trip: String, on serviceDate: String) -> TransitRealtime_TripUpdate? {
        (tripUpdates[Self.key(trip, serviceDate)] ?? tripUpdates[Self.key(trip, "")])?.tripUpdate
    }

    /// The merged feed, as it is republished: a full dataset of the current entities (trip updates
    /// or alerts), its timestamp the oldest of the sources it came from (or the time of the last data
    /// when every source is stale, so a client sees how old it is).
    func message(alerts wanted: Bool, at now: Date) -> TransitRealtime_FeedMessage {
        var message = TransitRealtime_FeedMessage()
        message.header.gtfsRealtimeVersion = "2.0"
        message.header.incrementality = .fullDataset
        message.header.timestamp = UInt64(max(0, (producedAt ?? now).timeIntervalSince1970))
        message.entity = wanted ? alerts : tripUpdates.keys.sorted().compactMap { tripUpdates[$0] }
        return message
    }
}
