import Foundation
import Mobility
import TestSupport
import Testing

/// GTFS feeds imported into a real SQLite store: what a valid feed gives the departure boards, and
/// how every kind of broken or hostile feed is refused whole with its file and line, the feed
/// served before staying served.
struct GTFSImportTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    static func instant(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aValidFeed_isServed_andItsBoardsFollowTheCalendarPastMidnightAndAcrossTheClockChange() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        let feed = try await store.importFeed(
            try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder), named: "synthetic.zip",
            into: folder.appendingPathComponent("gtfs"))
        #expect(feed.version == 1 && feed.served)
        #expect(feed.timezone == "Europe/Berlin")
        #expect(feed.stops == 41 && feed.routes == 4 && feed.agencies == 1)
        // 4 lines × 2 directions × (60 weekday + 20 weekend trips), 10 stops each.
        #expect(feed.trips == 640 && feed.stopTimes == 6400)
        #expect(feed.firstDate == 20_260_101 && feed.lastDate == 20_261_231)
        #expect(feed.publisher == "Stellwerk (synthetische Testdaten)" && feed.feedVersion == "synthetic-1")

        let board = DepartureBoard(store: store)
        func times(_ stop: String, _ at: String, hours: Int = 1) async throws -> [String] {
            try #require(try await board.board(stopID: stop, from: Self.instant(at), hours: hours, limit: 50))
                .departures.map(\.scheduled)
        }
        // A Monday: lines 101 and 103 start at platform s0 every 20 minutes (103 four minutes later);
        // trips ending there (pickup_type 1) are not departures.
        #expect(
            try await times("s0", "2026-12-07T08:00:00+01:00") == [
                "2026-12-07T08:00:00+01:00", "2026-12-07T08:04:00+01:00", "2026-12-07T08:20:00+01:00",
                "2026-12-07T08:24:00+01:00", "2026-12-07T08:40:00+01:00", "2026-12-07T08:44:00+01:00",
            ])
        let monday = try #require(
            try await board.board(stopID: "s0", from: Self.instant("2026-12-07T08:00:00+01:00"), hours: 1, limit: 2))
        #expect(monday.departures.count == 2)
        #expect(monday.departures[0].routeShortName == "101" && monday.departures[0].routeType == 3)
        #expect(monday.departures[0].headsign == "Haltestelle 10 (synthetisch)")
        #expect(monday.departures[0].tripID == "r0-weekday-9-0" && monday.departures[0].platform == "1")
        // The station's board holds both its platforms.
        let station = try #require(
            try await board.board(stopID: "hbf", from: Self.instant("2026-12-07T08:00:00+01:00"), hours: 1, limit: 50))
        #expect(station.departures.count == 12)
        #expect(Set(station.departures.map(\.stopID)) == ["s0", "s1"])
        #expect(station.stop.name == "Kaiserslautern Hbf (synthetisch)" && station.stop.locationType == 1)
        // Ten past midnight on Tuesday: Monday's last trips (24:20:00 and on), of Monday's service day.
        let night = try #require(
            try await board.board(stopID: "s0", from: Self.instant("2026-12-08T00:10:00+01:00"), hours: 1, limit: 50))
        #expect(
            night.departures.map(\.scheduled) == [
                "2026-12-08T00:20:00+01:00", "2026-12-08T00:24:00+01:00", "2026-12-08T00:40:00+01:00",
                "2026-12-08T00:44:00+01:00",
            ])
        #expect(night.departures.allSatisfy { $0.serviceDate == "20261207" })
        // Saturday runs hourly; Christmas Day (a Friday, removed in calendar_dates.txt) not at all.
        #expect(
            try await times("s0", "2026-12-05T08:00:00+01:00") == [
                "2026-12-05T08:00:00+01:00", "2026-12-05T08:04:00+01:00",
            ])
        #expect(try await times("s0", "2026-12-25T08:00:00+01:00", hours: 4).isEmpty)
        #expect(try await times("s0", "2026-12-24T08:00:00+01:00").count == 6)
        // The Sunday the clocks go forward: 08:00:00 is eight o'clock summer time.
        #expect(try await times("s0", "2026-03-29T08:00:00+02:00").first == "2026-03-29T08:00:00+02:00")
        // Outside the feed's year, and at a stop it does not have.
        #expect(try await times("s0", "2027-06-01T08:00:00+02:00").isEmpty)
        #expect(try await board.board(stopID: "nowhere", from: Date(), hours: 1, limit: 5) == nil)
        // The archive is kept for republication, byte for byte.
        let kept = folder.appendingPathComponent("gtfs/" + MobilityStore.fileName(of: feed))
        #expect(try Data(contentsOf: kept) == Data(contentsOf: folder.appendingPathComponent("feed.zip")))
    }

    @Test func aFeedWithProblems_isRefusedWhole_eachProblemWithFileAndLine_andTheServedOneStays() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        let served = try await store.importFeed(
            try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder), named: "good.zip", into: folder)

        var files = GTFSFeeds.synthetic
        files["trips.txt"]! += "r9,weekday,ghost-1,Nirgendwo,0\nr0,holiday,ghost-2,Nirgendwo,0\n"
        files["stop_times.txt"]! += """
            r0-weekday-0-0,05:30:00,05:30:00,s999,99,0,0
            r0-weekday-0-0,05:40:00,05:39:00,s3,98,0,0
            r0-weekday-0-0,05:50:00,05:50:00,s3,1,0,0
            r0-weekday-0-0,25:61:00,25:61:00,s3,97,0,0
            r0-weekday-0-0,05:50:00,05:50:00,hbf,96,0,0

            """
        files["calendar_dates.txt"]! += "weekday,20261301,2\n"
        files["stops.txt"]! += "s-orphan,Waise,49.4,7.7,0,nowhere,\ns-far,Weit weg,91.0,7.7,0,,\n"
        let refused = try GTFSFeeds.zip(files, in: folder, name: "bad.zip")
        let refusal = try await #require(throws: (any Error).self) {
            try await store.importFeed(refused, named: "bad.zip", into: folder)
        }
        let problems = try #require(refusal as? GTFSRefusal).problems.map(\.description)
        let tripLines = files["trips.txt"]!.split(separator: "\n").count
        let timeLines = files["stop_times.txt"]!.split(separator: "\n").count
        let stopLines = files["stops.txt"]!.split(separator: "\n").count
        #expect(
            problems == [
                "stops.txt:\(stopLines): stop_lat '91.0' is not a number from -90.0 to 90.0",
                "stops.txt:\(stopLines - 1): parent_station 'nowhere' is not in stops.txt",
                "calendar_dates.txt:4: date '20261301' is not a date YYYYMMDD",
                "trips.txt:\(tripLines - 1): route_id 'r9' is not in routes.txt",
                "trips.txt:\(tripLines): service_id 'holiday' is in neither calendar.txt nor calendar_dates.txt",
                "stop_times.txt:\(timeLines - 4): stop_id 's999' is not in stops.txt",
                "stop_times.txt:\(timeLines - 3): departure_time 05:39:00 is before arrival_time 05:40:00",
                "stop_times.txt:\(timeLines - 2): trip 'r0-weekday-0-0' has stop_sequence 1 twice",
                "stop_times.txt:\(timeLines - 1): arrival_time '25:61:00' is not a time HH:MM:SS (hours may pass 24 after midnight)",
                "stop_times.txt:\(timeLines): stop_id 'hbf' has location_type 1: vehicles stop at platforms (0) or boarding areas (4)",
            ], "\(problems)")
        // Nothing of the refused version is left; the first stays served.
        #expect(try await store.feedVersions() == [served])
        let rows = try await store.pool.withConnection {
            try $0.query("SELECT COUNT(*) FROM gtfs_stop_times").first?.integer(0)
        }
        #expect(rows == served.stopTimes)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("gtfs-") } == [
                MobilityStore.fileName(of: served)
            ])
    }

    @Test(
        arguments: [
            ("agency.txt", nil, "agency.txt: missing: every GTFS feed has it"),
            (
                "calendar.txt", nil,
                "calendar.txt: missing, and so is calendar_dates.txt: a feed needs at least one of them"
            ),
            (
                "routes.txt", "route_id,agency_id,route_short_name\nr0,SYN,101\n",
                "routes.txt:1: the required column route_type is missing"
            ),
            ("routes.txt", "route_id,route_type\n\"r0,3\n", "routes.txt:2: a quoted field that is never closed"),
            (
                "routes.txt", "route_id,route_type\nr\"0,3\n",
                "routes.txt:2: a quote inside a field that does not begin with one"
            ),
            ("routes.txt", "route_id,route_type\n\"r0\"x,3\n", "routes.txt:2: text after the closing quote of a field"),
            (
                "routes.txt", "route_id,route_type,route_short_name\nr0,3\n",
                "routes.txt:2: 2 fields where the header has 3"
            ),
            (
                "routes.txt", "route_id,route_type,route_type\nr0,3,3\n",
                "routes.txt:1: the column route_type appears twice"
            ),
            ("routes.txt", "", "routes.txt:1: empty: the header is missing"),
            (
                "agency.txt", "agency_name,agency_url,agency_timezone\nX,https://x,Mars/Olympus\n",
                "agency.txt:2: agency_timezone 'Mars/Olympus' is not a time zone (Europe/Berlin, say)"
            ),
        ] as [(String, String?, String)])
    func brokenFilesAndCSV_areRefusedWithTheirLine(file: String, content: String?, problem: String) async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        var files = GTFSFeeds.synthetic
        files[file] = content
        if file == "calendar.txt" { files["calendar_dates.txt"] = nil }
        let error = try await #require(throws: GTFSRefusal.self) {
            try await store.importFeed(try GTFSFeeds.zip(files, in: folder), named: "bad.zip", into: folder)
        }
        #expect(error.problems.first?.description == problem, "\(error)")
        #expect(try await store.feedVersions().isEmpty)
    }

    @Test func byteOrderMarksWindowsLineEndingsQuotedFieldsAndUnknownColumns_areTaken() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        var files = GTFSFeeds.synthetic
        for (name, content) in files { files[name] = "\u{FEFF}" + content.replacingOccurrences(of: "\n", with: "\r\n") }
        files["routes.txt"] =
            "\u{FEFF}route_id,agency_id,route_short_name,route_long_name,route_type,route_color,network_id,route_desc\r\n"
            + (0..<4).map {
                "r\($0),SYN,\(101 + $0),\"Linie \(101 + $0), \"\"Schnellbus\"\"\",3,0A5FA5,VRN,\"zwei\r\nZeilen\"\r\n"
            }.joined()
        let feed = try await store.importFeed(try GTFSFeeds.zip(files, in: folder), named: "crlf.zip", into: folder)
        #expect(feed.routes == 4 && feed.stopTimes == 6400)
        let names = try await store.pool.withConnection {
            try $0.query("SELECT long_name FROM gtfs_routes ORDER BY key").map { $0.text(0) }
        }
        #expect(names.first == "Linie 101, \"Schnellbus\"")
        let agencies = try await store.pool.withConnection {
            try $0.query("SELECT agency_id FROM gtfs_agencies").map { $0.text(0) }
        }
        #expect(agencies == ["SYN"])
    }

    @Test func invalidUTF8_isRefusedWithItsLine() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        var files = GTFSFeeds.synthetic
        files["stops.txt"] = nil
        let url = try GTFSFeeds.zip(files, in: folder)
        // Latin-1 "Zweibrücken" (0xFC) in a UTF-8 file, added as raw bytes.
        var stops = Data(GTFSFeeds.synthetic["stops.txt"]!.utf8)
        stops.append(contentsOf: Array("s-latin,Zweibr".utf8) + [0xFC] + Array("cken,49.2,7.3,0,,\n".utf8))
        try SyntheticFeed.append(named: "stops.txt", data: stops, to: url)
        let error = try await #require(throws: GTFSRefusal.self) {
            try await store.importFeed(url, named: "latin1.zip", into: folder)
        }
        #expect(error.description == "stops.txt:43: a field that is not valid UTF-8")
    }

    @Test func hostileArchives_areRefusedBeforeAnythingIsStored() async throws {
        let folder = try Fixtures.temporaryFolder("stellwerk-gtfs")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await GTFSFeeds.store(in: folder)
        defer { store.close() }
        func refusal(_ url: URL) async throws -> String {
            let error = try await #require(throws: (any Error).self) {
                try await store.importFeed(url, named: url.lastPathComponent, into: folder)
            }
            return "\(error)"
        }
        // An entry that would be written outside a folder were the archive unpacked.
        var files = GTFSFeeds.synthetic
        files["../../etc/cron.d/gtfs"] = "* * * * * root true\n"
        #expect(
            try await refusal(try GTFSFeeds.zip(files, in: folder, name: "traversal.zip"))
                == "traversal.zip: the entry '../../etc/cron.d/gtfs' names a path outside the archive")
        // A file that says it is 2 GiB: refused from its header, before a byte is inflated.
        let huge = try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder, name: "huge.zip")
        try GTFSFeeds.declare(0x8000_0000, for: "stop_times.txt", in: huge)
        #expect(
            try await refusal(huge)
                == "huge.zip: 'stop_times.txt' unpacks to 2147483648 bytes, more than the limit of 1073741824")
        // A header that understates what the entry inflates to (a zip bomb's trick): stopped at the
        // declared size.
        let bomb = try GTFSFeeds.zip(GTFSFeeds.synthetic, in: folder, name: "bomb.zip")
        try GTFSFeeds.declare(4096, for: "stop_times.txt", in: bomb)
        #expect(
            try await refusal(bomb)
                == "stop_times.txt: unpacks to more than the 4096 bytes its header declares (a zip bomb?)")
        // Not a zip at all.
        let text = folder.appendingPathComponent("feed.txt")
        try Data("stop_id,stop_name\n".utf8).write(to: text)
        #expect(try await refusal(text) == "feed.txt: not a zip archive")
        #expect(try await store.feedVersions().isEmpty)
        let tables = try await store.pool.withConnection {
            try $0.query("SELECT (SELECT COUNT(*) FROM gtfs_stops) + (SELECT COUNT(*) FROM gtfs_stop_times)").first?
                .integer(0)
        }
        #expect(tables == 0)
    }

    @Test func weekdays_areTheCalendars() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var day = calendar.date(from: DateComponents(year: 1999, month: 12, day: 25))!
        for _ in 0..<1200 {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            let date = GTFSDate(year: parts.year!, month: parts.month!, day: parts.day!)
            // Foundation: 1 is Sunday; GTFS's calendar.txt starts with Monday.
            #expect(ServiceCalendar.weekdayIndex(date) == (parts.weekday! + 5) % 7, "\(date)")
            day = calendar.date(byAdding: .day, value: 11, to: day)!
        }
    }
}
