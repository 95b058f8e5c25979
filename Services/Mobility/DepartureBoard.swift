import Database
package import Foundation
import Synchronization

/// The next departures at a stop from the served timetable: every service day whose times reach
/// into the asked window (trips of yesterday that run past midnight too), only the services that
/// run on that day, in the order they leave.
package final class DepartureBoard: Sendable {
    let store: MobilityStore
    /// The realtime sources, when any is configured.
    let realtime: RealtimeFeeds?
    /// The served version's calendar, read once per version.
    private let calendars = Mutex<(version: Int, calendar: ServiceCalendar)?>(nil)

    package init(store: MobilityStore, realtime: RealtimeFeeds? = nil) {
        self.store = store
        self.realtime = realtime
    }

    package struct Stop: Codable, Sendable, Equatable {
        package var id: String
        package var name: String?
        package var latitude: Double?
        package var longitude: Double?
        package var locationType: Int
        package var platform: String?
    }

    package struct Departure: Codable, Sendable, Equatable {
        package var tripID: String
        package var routeID: String
        package var routeShortName: String?
        package var routeLongName: String?
        package var routeType: Int
        package var headsign: String?
        /// The platform or pole it leaves from (a station's board lists all of them).
        package var stopID: String
        package var platform: String?
        package var stopSequence: Int
        /// The service day it belongs to, `YYYYMMDD`.
        package var serviceDate: String
        /// When it leaves by the timetable, ISO 8601 with the feed's offset.
        package var scheduled: String
        /// When it leaves by the realtime data, and how late that is; nil when there is none for it.
        package var expected: String?
        package var delaySeconds: Int?
        /// Its trip is cancelled or its stop skipped.
        package var cancelled: Bool
    }

    /// Where the realtime data on a board stands: `stale` when a source gave nothing current (its
    /// data is then not applied).
    package struct RealtimeState: Codable, Sendable, Equatable {
        package var stale: Bool
        package var producedAt: String?
    }

    package struct Board: Codable, Sendable {
        package var stop: Stop
        package var feedVersion: Int
        package var from: String
        /// nil when the service has no realtime source.
        package var realtime: RealtimeState?
        package var departures: [Departure]
        package var alerts: [RealtimeSnapshot.BoardAlert]
    }

    /// The board of `stopID` from `instant` for `hours`, at most `limit` departures; nil when the
    /// stop is not in the served feed. Throws `noFeed` when nothing is served.
    package func board(stopID: String, from instant: Date, hours: Int, limit: Int) async throws -> Board? {
        guard let feed = try await store.servedFeed() else { throw MobilityError.noFeed }
        let calendar = try await calendar(of: feed.version)
        guard let zone = TimeZone(identifier: feed.timezone) else { throw MobilityError.noFeed }
        let version = Int64(feed.version)
        let days = ServiceDay.around(instant, in: zone)
        let rows = try await store.pool.withConnection { connection -> (Stop, [(Date, Departure)], Set<String>)? in
            guard
                let stopRow = try connection.query(
                    "SELECT key, stop_id, name, latitude, longitude, location_type, platform FROM gtfs_stops "
                        + "WHERE feed = $1 AND stop_id = $2", .integer(version), .text(stopID)
                ).first
            else { return nil }
            let stop = Stop(
                id: stopRow.text(1), name: stopRow.optionalText(2), latitude: stopRow.optionalReal(3),
                longitude: stopRow.optionalReal(4), locationType: stopRow.integer(5), platform: stopRow.optionalText(6))
            var keys = [Int64(stopRow.integer(0))]
            // The stop, its platforms and its station: an alert may name any of them.
            var stopIDs: Set<String> = [stop.id]
            if stop.locationType == 1 {
                for row in try connection.query(
                    "SELECT key, stop_id FROM gtfs_stops WHERE feed = $1 AND parent_key = $2", .integer(version),
                    .integer(keys[0]))
                {
                    keys.append(Int64(row.integer(0)))
                    stopIDs.insert(row.text(1))
                }
            } else if let parent = try connection.query(
                "SELECT p.stop_id FROM gtfs_stops s JOIN gtfs_stops p ON p.feed = s.feed AND p.key = s.parent_key "
                    + "WHERE s.feed = $1 AND s.key = $2", .integer(version), .integer(keys[0])
            ).first {
                stopIDs.insert(parent.text(0))
            }
            var found: [(Date, Departure)] = []
            let end = instant.addingTimeInterval(Double(hours) * 3600)
            for day in days {
                let running = calendar.services(on: day.date)
                let low = max(0, Int(instant.timeIntervalSince(day.origin).rounded(.up)))
                let high = min(GTFSTime.hourLimit * 3600, Int(end.timeIntervalSince(day.origin)))
                guard !running.isEmpty, low < high else { continue }
                var parameters: [SQLValue] = [.integer(version), .integer(Int64(low)), .integer(Int64(high))]
                let stopList = keys.map { key -> String in
                    parameters.append(.integer(key))
                    return "$\(parameters.count)"
                }.joined(separator: ", ")
                let serviceList = running.sorted().map { service -> String in
                    parameters.append(.text(service))
                    return "$\(parameters.count)"
                }.joined(separator: ", ")
                parameters.append(.integer(Int64(limit)))
                let rows = try connection.execute(
                    """
                    SELECT st.departure, t.trip_id, COALESCE(st.headsign, t.headsign), r.route_id, r.short_name,
                        r.long_name, r.route_type, s.stop_id, s.platform, st.stop_sequence
                    FROM gtfs_stop_times st
                    JOIN gtfs_trips t ON t.feed = st.feed AND t.key = st.trip_key
                    JOIN gtfs_routes r ON r.feed = t.feed AND r.key = t.route_key
                    JOIN gtfs_stops s ON s.feed = st.feed AND s.key = st.stop_key
                    WHERE st.feed = $1 AND st.departure >= $2 AND st.departure < $3 AND st.pickup_type <> 1
                        AND st.stop_key IN (\(stopList)) AND t.service_id IN (\(serviceList))
                    ORDER BY st.departure LIMIT $\(parameters.count)
                    """, parameters)
                for row in rows {
                    let leaves = day.origin.addingTimeInterval(Double(row.integer(0)))
                    found.append(
                        (
                            leaves,
                            Departure(
                                tripID: row.text(1), routeID: row.text(3), routeShortName: row.optionalText(4),
                                routeLongName: row.optionalText(5), routeType: row.integer(6),
                                headsign: row.optionalText(2),
                                stopID: row.text(7), platform: row.optionalText(8), stopSequence: row.integer(9),
                                serviceDate: day.date.text, scheduled: "", cancelled: false)
                        ))
                }
            }
            return (stop, found, stopIDs)
        }
        guard let (stop, found, stopIDs) = rows else { return nil }
        let format = Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone)
        let snapshot = realtime?.current(at: Date())
        let departures = found.sorted { $0.0 < $1.0 }.prefix(limit).map { leaves, departure in
            var departure = departure
            departure.scheduled = leaves.formatted(format)
            if let change = snapshot?.change(
                trip: departure.tripID, serviceDate: departure.serviceDate, sequence: departure.stopSequence,
                stopID: departure.stopID, scheduled: leaves)
            {
                departure.expected = change.expected?.formatted(format)
                departure.delaySeconds = change.delaySeconds
                departure.cancelled = change.cancelled
            }
            return departure
        }
        return Board(
            stop: stop, feedVersion: feed.version, from: instant.formatted(format),
            realtime: snapshot.flatMap {
                $0.configured ? RealtimeState(stale: $0.stale, producedAt: $0.producedAt?.formatted(format)) : nil
            }, departures: Array(departures),
            alerts: snapshot?.alerts(at: instant, stops: stopIDs, routes: Set(departures.map(\.routeID))) ?? [])
    }

    private func calendar(of version: Int) async throws -> ServiceCalendar {
        if let cached = calendars.withLock({ $0 }), cached.version == version { return cached.calendar }
        let calendar = try await store.calendar(of: version)
        calendars.withLock { $0 = (version, calendar) }
        return calendar
    }
}
