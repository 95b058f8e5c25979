import Database
package import Foundation
import SwiftProtobuf

/// A made-up GTFS-Realtime producer over the served timetable, for sandboxes: the trips that start
/// within an hour either side of now, most a few minutes late, some on time, one in fifteen
/// cancelled — the same for a trip every time it is asked (a hash of its id), so the boards stay
/// still between fetches. Its entities' ids begin with `synthetic-`.
package struct SyntheticRealtime {
    let store: MobilityStore

    package init(store: MobilityStore) { self.store = store }

    package func message(at now: Date) async throws -> TransitRealtime_FeedMessage {
        var message = TransitRealtime_FeedMessage()
        message.header.gtfsRealtimeVersion = "2.0"
        message.header.incrementality = .fullDataset
        message.header.timestamp = UInt64(now.timeIntervalSince1970)
        guard let feed = try await store.servedFeed(), let zone = TimeZone(identifier: feed.timezone) else {
            return message
        }
        let calendar = try await store.calendar(of: feed.version)
        for day in ServiceDay.around(now, in: zone) {
            let running = calendar.services(on: day.date)
            let offset = Int(now.timeIntervalSince(day.origin))
            let (low, high) = (offset - 3600, offset + 3600)
            guard !running.isEmpty, high > 0, low < GTFSTime.hourLimit * 3600 else { continue }
            let trips = try await store.pool.withConnection { connection in
                var parameters: [SQLValue] = [
                    .integer(Int64(feed.version)), .integer(Int64(low)), .integer(Int64(high)),
                ]
                let services = running.sorted().map { service -> String in
                    parameters.append(.text(service))
                    return "$\(parameters.count)"
                }.joined(separator: ", ")
                // Each trip's first stop: where it starts, and when.
                return try connection.execute(
                    """
                    SELECT t.trip_id, st.stop_sequence FROM gtfs_trips t
                    JOIN gtfs_stop_times st ON st.feed = t.feed AND st.trip_key = t.key
                    WHERE t.feed = $1 AND t.service_id IN (\(services))
                        AND st.stop_sequence = (SELECT MIN(stop_sequence) FROM gtfs_stop_times
                            WHERE feed = t.feed AND trip_key = t.key)
                        AND st.departure >= $2 AND st.departure < $3
                    ORDER BY t.trip_id
                    """, parameters
                ).map { ($0.text(0), $0.integer(1)) }
            }
            for (trip, sequence) in trips {
                var entity = TransitRealtime_FeedEntity()
                entity.id = "synthetic-\(trip)-\(day.date.text)"
                entity.tripUpdate.trip.tripID = trip
                entity.tripUpdate.trip.startDate = day.date.text
                let roll = Self.roll(trip + day.date.text)
                if roll % 15 == 0 {
                    entity.tripUpdate.trip.scheduleRelationship = .canceled
                } else {
                    var first = TransitRealtime_TripUpdate.StopTimeUpdate()
                    first.stopSequence = UInt32(sequence)
                    // A third on time, the rest up to seven minutes late, in whole minutes.
                    first.departure.delay = roll % 3 == 0 ? 0 : Int32(60 * (1 + roll % 7))
                    entity.tripUpdate.stopTimeUpdate = [first]
                }
                message.entity.append(entity)
            }
        }
        return message
    }

    /// A number from a text that stays the same across runs and machines (FNV-1a).
    static func roll(_ text: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Int(hash % 1_000_003)
    }
}
