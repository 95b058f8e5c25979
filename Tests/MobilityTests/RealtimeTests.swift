import Foundation
import Mobility
import SwiftProtobuf
import TestSupport
import Testing

/// GTFS-Realtime taken in and given out: delays and cancellations on the departure boards (at the
/// stop itself, carried on from the stop before, for the whole trip), alerts for the stop and its
/// lines, a source that stops updating marked stale and no longer applied, bodies that are not
/// FeedMessages refused; and gtfs-realtime-bindings (the reference bindings) reading the
/// republished feed.
struct RealtimeTests {
    /// Monday 2026-12-07, 08:00 in Kaiserslautern.
    static let morning = ISO8601DateFormatter().date(from: "2026-12-07T08:00:00+01:00")!

    /// Line 101's 08:00 and 08:20 trips from platform s0, and line 103's 08:04 one.
    static func feed(producedAt: Date = Date()) -> TransitRealtime_FeedMessage {
        var message = TransitRealtime_FeedMessage()
        message.header.gtfsRealtimeVersion = "2.0"
        message.header.incrementality = .fullDataset
        message.header.timestamp = UInt64(producedAt.timeIntervalSince1970)
        // 08:00: two minutes late at its first stop; the update of a later stop says nothing of it.
        var late = TransitRealtime_FeedEntity()
        late.id = "late"
        late.tripUpdate.trip.tripID = "r0-weekday-9-0"
        late.tripUpdate.trip.startDate = "20261207"
        var first = TransitRealtime_TripUpdate.StopTimeUpdate()
        first.stopSequence = 1
        first.departure.delay = 120
        var fifth = TransitRealtime_TripUpdate.StopTimeUpdate()
        fifth.stopSequence = 5
        fifth.departure.delay = 300
        late.tripUpdate.stopTimeUpdate = [first, fifth]
        // 08:04 (line 103): cancelled.
        var cancelled = TransitRealtime_FeedEntity()
        cancelled.id = "cancelled"
        cancelled.tripUpdate.trip.tripID = "r2-weekday-9-0"
        cancelled.tripUpdate.trip.scheduleRelationship = .canceled
        // 08:20: an absolute time at its first stop, 90 seconds after the timetable's.
        var timed = TransitRealtime_FeedEntity()
        timed.id = "timed"
        timed.tripUpdate.trip.tripID = "r0-weekday-10-0"
        var stop = TransitRealtime_TripUpdate.StopTimeUpdate()
        stop.stopID = "s0"
        stop.departure.time = Int64(morning.timeIntervalSince1970) + 20 * 60 + 90
        timed.tripUpdate.stopTimeUpdate = [stop]
        // 08:24 (line 103): late by four minutes from a stop before s0 (it starts there: nothing
        // before it, so the trip-level delay applies).
        var whole = TransitRealtime_FeedEntity()
        whole.id = "whole"
        whole.tripUpdate.trip.tripID = "r2-weekday-10-0"
        whole.tripUpdate.delay = 240
        // An alert for line 101, and one for another town's stop.
        var alert = TransitRealtime_FeedEntity()
        alert.id = "baustelle"
        alert.alert.cause = .construction
        alert.alert.effect = .detour
        var route = TransitRealtime_EntitySelector()
        route.routeID = "r0"
        alert.alert.informedEntity = [route]
        var german = TransitRealtime_TranslatedString.Translation()
        german.text = "Umleitung wegen Bauarbeiten (synthetisch)"
        german.language = "de"
        var english = TransitRealtime_TranslatedString.Translation()
        english.text = "Detour (synthetic)"
        english.language = "en"
        alert.alert.headerText.translation = [english, german]
        var elsewhere = TransitRealtime_FeedEntity()
        elsewhere.id = "elsewhere"
        elsewhere.alert.effect = .stopMoved
        var farStop = TransitRealtime_EntitySelector()
        farStop.stopID = "s30"
        elsewhere.alert.informedEntity = [farStop]
        message.entity = [late, cancelled, timed, whole, alert, elsewhere]
        return message
    }

    @Test func delaysCancellationsAndAlerts_reachTheBoards_andAStaleSourceIsNotApplied() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs-rt")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        _ = try await store.importFeed(
            try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder), named: "synthetic.zip", into: folder)
        let url = "http://127.0.67.20/rt.pb"
        let feeds = RealtimeFeeds(sources: [url], staleAfter: 120)
        let board = DepartureBoard(store: store, realtime: feeds)

        // Nothing fetched yet: stale, and the timetable alone.
        let before = try #require(try await board.board(stopID: "s0", from: Self.morning, hours: 1, limit: 6))
        #expect(before.realtime?.stale == true && before.realtime?.producedAt == nil)
        #expect(before.departures.allSatisfy { $0.expected == nil && !$0.cancelled })

        try feeds.accept(try Self.feed().serializedBytes(), from: url, at: Date())
        let now = try #require(try await board.board(stopID: "s0", from: Self.morning, hours: 1, limit: 6))
        #expect(now.realtime?.stale == false)
        let byTrip = Dictionary(uniqueKeysWithValues: now.departures.map { ($0.tripID, $0) })
        #expect(byTrip["r0-weekday-9-0"]?.delaySeconds == 120)
        #expect(byTrip["r0-weekday-9-0"]?.expected == "2026-12-07T08:02:00+01:00")
        #expect(byTrip["r2-weekday-9-0"]?.cancelled == true && byTrip["r2-weekday-9-0"]?.expected == nil)
        #expect(byTrip["r0-weekday-10-0"]?.delaySeconds == 90)
        #expect(byTrip["r0-weekday-10-0"]?.expected == "2026-12-07T08:21:30+01:00")
        #expect(byTrip["r2-weekday-10-0"]?.delaySeconds == 240)
        // Trips the feed says nothing of keep their timetable.
        #expect(byTrip["r0-weekday-11-0"]?.expected == nil && byTrip["r0-weekday-11-0"]?.cancelled == false)
        #expect(now.alerts.map(\.id) == ["baustelle"])
        #expect(now.alerts.first?.header == "Umleitung wegen Bauarbeiten (synthetisch)")
        #expect(now.alerts.first?.cause == "CONSTRUCTION" && now.alerts.first?.effect == "DETOUR")
        // The same data an hour later, nothing new fetched: the merge no longer holds it.
        let anHourOn = feeds.current(at: Date().addingTimeInterval(3600))
        #expect(anHourOn.stale && anHourOn.update(of: "r0-weekday-9-0", on: "20261207") == nil)
        #expect(feeds.current(at: Date()).update(of: "r0-weekday-9-0", on: "20261207") != nil)

        // Farther along line 101's 08:00 trip: stop 3 carries on stop 1's delay; stop 6 takes stop 5's.
        let path = try await store.pool.withConnection { connection in
            try connection.query(
                "SELECT s.stop_id FROM gtfs_stop_times st JOIN gtfs_trips t ON t.feed = st.feed AND t.key = st.trip_key "
                    + "JOIN gtfs_stops s ON s.feed = st.feed AND s.key = st.stop_key "
                    + "WHERE t.trip_id = 'r0-weekday-9-0' ORDER BY st.stop_sequence"
            ).map { $0.text(0) }
        }
        for (index, delay) in [(2, 120), (5, 300)] {
            let later = try #require(
                try await board.board(stopID: path[index], from: Self.morning, hours: 1, limit: 20))
            #expect(later.departures.first { $0.tripID == "r0-weekday-9-0" }?.delaySeconds == delay, "\(path[index])")
        }

        // The producer keeps sending data made an hour ago: stale, not applied, and said so.
        try feeds.accept(
            try Self.feed(producedAt: Date().addingTimeInterval(-3600)).serializedBytes(), from: url, at: Date())
        let stale = try #require(try await board.board(stopID: "s0", from: Self.morning, hours: 1, limit: 6))
        #expect(stale.realtime?.stale == true && stale.realtime?.producedAt != nil)
        #expect(stale.departures.allSatisfy { $0.expected == nil && !$0.cancelled })
        #expect(stale.alerts.isEmpty)
        #expect(feeds.statuses(at: Date()).first?.stale == true)
    }

    @Test func bodiesThatAreNotFullFeedMessages_areRefused_andTheDataBeforeStays() throws {
        let url = "http://127.0.67.21/rt.pb"
        let feeds = RealtimeFeeds(sources: [url], staleAfter: 120)
        try feeds.accept(try Self.feed().serializedBytes(), from: url, at: Date())
        for (body, reason) in [
            (Data("<html>Wartungsarbeiten</html>".utf8), "the body is not a GTFS-Realtime FeedMessage (protobuf)"),
            (Data([0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]), "the body is not a GTFS-Realtime FeedMessage (protobuf)"),
            // A message without its required header.
            (Data(), "the body is not a GTFS-Realtime FeedMessage (protobuf)"),
        ] {
            let refusal = try #require(throws: RealtimeFeeds.Refusal.self) {
                try feeds.accept(body, from: url, at: Date())
            }
            #expect(refusal.description.hasPrefix(reason), "\(refusal)")
        }
        var differential = Self.feed()
        differential.header.incrementality = .differential
        let refusal = try #require(throws: RealtimeFeeds.Refusal.self) {
            try feeds.accept(try differential.serializedBytes(), from: url, at: Date())
        }
        #expect(refusal.description == "only FULL_DATASET feeds are taken, not DIFFERENTIAL")
        // What came before is still current, and the refusal is shown with the source.
        let status = try #require(feeds.statuses(at: Date()).first)
        #expect(!status.stale && status.tripUpdates == 4 && status.alerts == 2)
        #expect(status.lastError == "only FULL_DATASET feeds are taken, not DIFFERENTIAL")
    }
}

/// The made-up realtime a sandbox runs on: over the served timetable, the same for a trip each time.
struct SyntheticRealtimeTests {
    @Test func theTripsStartingAroundNow_areLateOnTimeOrCancelled_theSameEachTime() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs-rt")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        let producer = SyntheticRealtime(store: store)
        #expect(try await producer.message(at: RealtimeTests.morning).entity.isEmpty)
        _ = try await store.importFeed(
            try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder), named: "synthetic.zip", into: folder)
        let message = try await producer.message(at: RealtimeTests.morning)
        // 07:00 to 09:00 on a Monday: 3 trips an hour per line and direction, 4 lines, both directions.
        #expect(message.entity.count == 2 * 3 * 4 * 2, "\(message.entity.count)")
        #expect(
            message.entity.allSatisfy { $0.id.hasPrefix("synthetic-") && $0.tripUpdate.trip.startDate == "20261207" })
        let cancelled = message.entity.filter { $0.tripUpdate.trip.scheduleRelationship == .canceled }
        let delays = message.entity.compactMap { $0.tripUpdate.stopTimeUpdate.first?.departure.delay }
        #expect(!cancelled.isEmpty && cancelled.count < message.entity.count / 5, "\(cancelled.count)")
        #expect(delays.contains(0) && delays.contains { $0 > 0 } && delays.allSatisfy { (0...420).contains($0) })
        #expect(try await producer.message(at: RealtimeTests.morning).entity == message.entity)
        // Christmas Day has no service, so nothing to be late.
        let christmas = ISO8601DateFormatter().date(from: "2026-12-25T10:00:00+01:00")!
        #expect(try await producer.message(at: christmas).entity.isEmpty)
    }
}
