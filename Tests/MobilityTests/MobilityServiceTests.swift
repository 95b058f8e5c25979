import Foundation
import Mobility
import TestSupport
import Testing

/// `datenplattform mobility` as a process over HTTP: imports over the API and the command line,
/// refusals as JSON with every problem's file and line, the republished zip, the departure boards,
/// and gtfs-kit (a real GTFS client) reading what it republishes.
@Suite(.serialized) struct MobilityServiceTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let pythonAvailable = FileManager.default.isExecutableFile(atPath: python.path)
    /// parkapi-sources lives in an environment of its own (scripts/python-clients says why).
    static let parkAPIPython = Fixtures.repositoryRoot.appendingPathComponent(".build/python-parkapi/bin/python")
    static let parkAPIAvailable = FileManager.default.isExecutableFile(atPath: parkAPIPython.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test func importsOverTheAPI_refusalsSayWhatAndWhere_andTheBoardsAnswer() async throws {
        let mobility = try await MobilityProcess(host: "127.0.67.1")
        defer { mobility.stop() }
        try await mobility.start()

        // Nothing served yet: the board and the zip say so.
        let empty = try await mobility.send(.GET, "/gtfs/feed.zip")
        #expect(empty.status == 404)
        #expect(empty.error["message"] as? String == "no GTFS feed has been imported yet")

        let good = try GTFSFeeds.zip(GTFSFeeds.synthetic, in: mobility.root)
        // Without the token, or with another one: refused, nothing imported.
        for authorization in [nil, "Bearer wrong", "Basic \(mobility.token)"] as [String?] {
            let refused = try await mobility.send(
                .POST, "/api/gtfs/feeds", body: try Data(contentsOf: good), authorization: authorization)
            #expect(refused.status == 401, "\(refused.text)")
        }
        let imported = try await mobility.upload(good)
        #expect(imported.status == 201, "\(imported.text)")
        let feed = try #require(imported.object["feed"] as? [String: Any])
        #expect(feed["version"] as? Int == 1 && feed["stop_times"] as? Int == 6400 && feed["served"] as? Bool == true)

        // A broken feed: 422 with each problem, and version 1 still served.
        var files = GTFSFeeds.synthetic
        files["trips.txt"]! += "r9,weekday,ghost,Nirgendwo,0\n"
        let broken = try await mobility.upload(try GTFSFeeds.zip(files, in: mobility.root, name: "broken.zip"))
        #expect(broken.status == 422)
        let problems = broken.error["problems"] as? [[String: Any]] ?? []
        #expect(problems.count == 1, "\(broken.text)")
        #expect(problems.first?["file"] as? String == "trips.txt")
        #expect(problems.first?["line"] as? Int == files["trips.txt"]!.split(separator: "\n").count)
        #expect(problems.first?["message"] as? String == "route_id 'r9' is not in routes.txt")
        #expect((broken.error["message"] as? String)?.contains("the feed served before is still served") == true)
        let feeds = try await mobility.send(.GET, "/api/gtfs/feeds")
        #expect((feeds.object["feeds"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1])
        // Not a zip; an empty body; more than max_upload_megabytes (8).
        let text = try await mobility.send(
            .POST, "/api/gtfs/feeds", body: Data("stop_id\n".utf8), authorization: "Bearer \(mobility.token)")
        #expect(
            text.status == 422
                && (text.error["problems"] as? [[String: Any]])?.first?["message"] as? String == "not a zip archive")
        let nothing = try await mobility.send(
            .POST, "/api/gtfs/feeds", body: Data(), authorization: "Bearer \(mobility.token)")
        #expect(nothing.status == 400, "\(nothing.text)")
        let huge = try await mobility.send(
            .POST, "/api/gtfs/feeds", body: Data(count: 9 << 20), authorization: "Bearer \(mobility.token)")
        #expect(huge.status == 413, "\(huge.text)")
        // No upload is left behind, taken or not.
        #expect(
            try FileManager.default.contentsOfDirectory(
                atPath: mobility.root.appendingPathComponent("data/gtfs/.incoming").path
            ).isEmpty)

        // The zip comes back as it was imported.
        let zip = try await mobility.send(.GET, "/gtfs/feed.zip")
        #expect(zip.status == 200 && zip.headers["content-type"] == "application/zip")
        #expect(zip.body == (try Data(contentsOf: good)))
        #expect(zip.headers["etag"]?.count == 66)

        let board = try await mobility.send(
            .GET, "/api/stops/s0/departures?at=2026-12-07T08:00:00%2B01:00&hours=1&limit=3")
        #expect(board.status == 200, "\(board.text)")
        let departures = board.object["departures"] as? [[String: Any]] ?? []
        #expect(
            departures.map { $0["scheduled"] as? String } == [
                "2026-12-07T08:00:00+01:00", "2026-12-07T08:04:00+01:00", "2026-12-07T08:20:00+01:00",
            ])
        #expect(departures.first?["route_short_name"] as? String == "101")
        // Bad parameters: 400 naming the parameter; an unknown stop: 404.
        for (query, message) in [
            ("hours=0", "hours '0' is not a whole number from 1 to 24"),
            ("limit=99999999999999999999", "limit '99999999999999999999' is not a whole number from 1 to 200"),
            ("at=gestern", "at 'gestern' is not a time in ISO 8601"),
            ("at=9999-01-01T00:00:00Z", "at '9999-01-01T00:00:00Z' is not a time in ISO 8601"),
        ] {
            let bad = try await mobility.send(.GET, "/api/stops/s0/departures?\(query)")
            #expect(bad.status == 400, "\(query): \(bad.text)")
            #expect((bad.error["message"] as? String)?.hasPrefix(message) == true, "\(bad.text)")
        }
        let unknown = try await mobility.send(.GET, "/api/stops/nirgendwo/departures")
        #expect(
            unknown.status == 404 && unknown.error["message"] as? String == "the served feed has no stop 'nirgendwo'")
        let metrics = try await mobility.send(.GET, "/metrics")
        #expect(metrics.text.contains("mobility_gtfs_stop_times 6400"), "\(metrics.text)")
    }

    @Test func theCommandLineImport_printsEveryProblemWithItsLine_andOnlyIfEmptyKeepsTheFeed() async throws {
        let mobility = try await MobilityProcess(host: "127.0.67.2")
        defer { mobility.stop() }
        var files = GTFSFeeds.synthetic
        files["stops.txt"]! += "s-far,Weit weg,91.0,7.7,0,,\n"
        files["calendar.txt"] = files["calendar.txt"]!.replacingOccurrences(of: "20261231", with: "20251231")
        let broken = try GTFSFeeds.zip(files, in: mobility.root, name: "broken.zip")
        let refused = try await mobility.datenplattform(["import", broken.path])
        #expect(refused.status == 1)
        // Every problem once: a service, stop or trip with a problem of its own is still known, so
        // what refers to it is no further problem.
        #expect(
            refused.standardError == """
                \(broken.path) was refused; the feed served before is still served:
                stops.txt:43: stop_lat '91.0' is not a number from -90.0 to 90.0
                calendar.txt:2: end_date 20251231 is before start_date 20260101
                calendar.txt:3: end_date 20251231 is before start_date 20260101

                """, "\(refused.standardError)")
        let good = try GTFSFeeds.zip(GTFSFeeds.synthetic, in: mobility.root)
        let imported = try await mobility.datenplattform(["import", good.path])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(imported.standardOutput.contains("as feed version 1"), "\(imported.standardOutput)")
        let again = try await mobility.datenplattform(["import", good.path, "--only-if-empty"])
        #expect(again.standardOutput == "a feed is served already; imported nothing\n")
        let missing = try await mobility.datenplattform([
            "import", mobility.root.appendingPathComponent("nope.zip").path,
        ])
        #expect(
            missing.status != 0 && missing.standardError.contains("cannot read the GTFS zip"),
            "\(missing.standardError)")
    }

    @Test(.enabled(if: pythonAvailable || required, "run scripts/python-clients to make the Python clients"))
    func gtfsKit_readsTheRepublishedFeed_andItsStopTimetablesAreTheBoards() async throws {
        try #require(Self.pythonAvailable, "the Python clients are missing: run scripts/python-clients")
        let mobility = try await MobilityProcess(host: "127.0.67.3")
        defer { mobility.stop() }
        let zip = mobility.root.appendingPathComponent("synthetic.zip")
        let written = try await ProcessRunner.run(
            "datenplattform", ["mobility", "synthetic-feed", zip.path, "--start", "20260101", "--years", "1"],
            in: mobility.root)
        #expect(written.status == 0, "\(written.standardError)")
        #expect(try await mobility.datenplattform(["import", zip.path]).status == 0)
        try await mobility.start()
        // A weekday at the station's first platform, a Saturday at a stop of the lines.
        for (stop, date) in [("s0", "20261207"), ("s5", "20261205")] {
            let output = mobility.root.appendingPathComponent("gtfs-kit-\(stop).out").path
            let status = try await offloaded {
                try Spawn.run(
                    Self.python.path,
                    [
                        Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/gtfs_kit_feed.py").path,
                        mobility.url, stop, date, "41", "6400",
                    ], standardOutput: output, standardError: output
                ).status
            }
            let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(status == 0, "\(printed)\n\(mobility.logText)")
            #expect(printed.hasSuffix("departures agree\nok\n"), "\(printed)")
        }
    }
}

/// The service with a GTFS-Realtime source over HTTP: fetched, applied, republished for the
/// reference bindings, and a source gone wrong shown with its reason.
@Suite(.serialized) struct MobilityRealtimeServiceTests {
    @Test(.enabled(if: MobilityServiceTests.pythonAvailable || MobilityServiceTests.required))
    func aRealtimeSource_reachesTheBoards_andTheRepublishedFeedIsReadByTheReferenceBindings() async throws {
        try #require(MobilityServiceTests.pythonAvailable, "the Python clients are missing: run scripts/python-clients")
        let source = RealtimeSource(host: "127.0.67.30")
        try await source.start()
        defer { source.stop() }
        source.serve(try RealtimeTests.feed().serializedBytes())
        let mobility = try await MobilityProcess(
            host: "127.0.67.31", extra: "realtime:\n  sources: \(source.url)\n  interval: 1s\n  stale_after: 60s")
        defer { mobility.stop() }
        #expect(
            try await mobility.datenplattform([
                "import", try GTFSFeeds.zip(GTFSFeeds.synthetic, in: mobility.root).path,
            ]).status == 0)
        try await mobility.start()
        // The first fetch comes within the first interval.
        var board = MobilityProcess.Reply(status: 0, body: Data(), headers: [:])
        try await waitUntil("the board carries current realtime") {
            board = try await mobility.send(.GET, "/api/stops/s0/departures?at=2026-12-07T08:00:00%2B01:00&hours=1")
            return (board.object["realtime"] as? [String: Any])?["stale"] as? Bool == false
        }
        let departures = board.object["departures"] as? [[String: Any]] ?? []
        #expect(departures.first?["delay_seconds"] as? Int == 120, "\(board.text)")
        #expect(departures.first?["expected"] as? String == "2026-12-07T08:02:00+01:00")
        #expect(departures.dropFirst().first?["cancelled"] as? Bool == true)
        #expect((board.object["alerts"] as? [[String: Any]])?.first?["id"] as? String == "baustelle")

        let output = mobility.root.appendingPathComponent("gtfs-rt.out").path
        let status = try await offloaded {
            try Spawn.run(
                MobilityServiceTests.python.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/gtfs_realtime_feed.py").path,
                    mobility.url, "r0-weekday-9-0", "120", "baustelle",
                ], standardOutput: output, standardError: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0 && printed.hasSuffix("4 trip updates, 2 alerts\nok\n"), "\(printed)")
        let json = try await mobility.send(.GET, "/gtfs-rt/trip-updates.json")
        #expect(
            json.object["stale"] as? Bool == false && json.text.contains("\"tripId\":\"r0-weekday-9-0\""),
            "\(json.text)")

        // The source breaks: its reason is shown, and what it gave before is still served until stale.
        source.serve(Data("<html>Wartungsarbeiten</html>".utf8))
        var shown = ""
        try await waitUntil("the source's refusal is shown") {
            let realtime = try await mobility.send(.GET, "/api/realtime")
            shown = (realtime.object["sources"] as? [[String: Any]])?.first?["last_error"] as? String ?? ""
            return !shown.isEmpty
        }
        #expect(shown.hasPrefix("the body is not a GTFS-Realtime FeedMessage (protobuf)"), "\(shown)")
        let still = try await mobility.send(.GET, "/api/stops/s0/departures?at=2026-12-07T08:00:00%2B01:00&hours=1")
        #expect((still.object["departures"] as? [[String: Any]])?.first?["delay_seconds"] as? Int == 120)
        // Data an hour old: stale at once, no longer applied, the republished feed empty with the old time.
        source.serve(try RealtimeTests.feed(producedAt: Date().addingTimeInterval(-3600)).serializedBytes())
        var stale = MobilityProcess.Reply(status: 0, body: Data(), headers: [:])
        try await waitUntil("the republished feed is marked stale") {
            stale = try await mobility.send(.GET, "/gtfs-rt/trip-updates.json")
            return stale.object["stale"] as? Bool == true
        }
        #expect(stale.object["stale"] as? Bool == true, "\(stale.text)")
        #expect(!stale.text.contains("tripUpdate"), "\(stale.text)")
        let metrics = try await mobility.send(.GET, "/metrics")
        #expect(metrics.text.contains("mobility_realtime_stale 1"), "\(metrics.text)")
    }

    @Test func withoutASource_theRealtimeRoutesSaySo() async throws {
        let mobility = try await MobilityProcess(host: "127.0.67.32")
        defer { mobility.stop() }
        try await mobility.start()
        for path in ["/gtfs-rt/trip-updates.pb", "/api/realtime"] {
            let answer = try await mobility.send(.GET, path)
            #expect(answer.status == 404)
            #expect(answer.error["message"] as? String == "no GTFS-Realtime source is configured (realtime.sources)")
        }
    }
}

/// Parking over HTTP: the service's own synthetic Kaiserslautern feed fetched like a real one, and
/// its ParkAPI v3 output held against parkapi-sources' validators.
@Suite(.serialized) struct MobilityParkingServiceTests {
    @Test(.enabled(if: MobilityServiceTests.parkAPIAvailable || MobilityServiceTests.required))
    func theKaiserslauternFeed_comesOutAsParkAPIv3_thatParkAPIsValidatorsAccept() async throws {
        try #require(MobilityServiceTests.parkAPIAvailable, "parkapi-sources is missing: run scripts/python-clients")
        let mobility = try await MobilityProcess(
            host: "127.0.67.50",
            extra: """
                parking:
                  kaiserslautern_xml: {url}/synthetic/parking/kaiserslautern.xml
                  sites: parking-sites.yaml
                  interval: 10s
                  synthetic: true
                """, files: ["parking-sites.yaml": ParkingTests.sitesFile])
        defer { mobility.stop() }
        try await mobility.start()
        var sites: [[String: Any]] = []
        try await waitUntil("the parking sites carry occupancy") {
            let answer = try await mobility.send(.GET, "/api/parking/v3/parking-sites")
            sites = answer.object["items"] as? [[String: Any]] ?? []
            return sites.contains { $0["has_realtime_data"] as? Bool == true }
        }
        // The feed's car parks with their occupancy; Messeplatz, which the feed does not name, without.
        #expect(
            sites.map { $0["uid"] as? String } == [
                "kaiserslautern-p-messeplatz", "kaiserslautern-ph-altstadt", "kaiserslautern-ph-lutrinastrasse",
            ])
        let output = mobility.root.appendingPathComponent("parkapi.out").path
        let status = try await offloaded {
            try Spawn.run(
                MobilityServiceTests.parkAPIPython.path,
                [
                    Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/parkapi_sites.py").path,
                    mobility.url + "/api/parking/v3/parking-sites", "3", "3",
                ], standardOutput: output, standardError: output
            ).status
        }
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0 && printed.hasSuffix("3 sites, 3 with occupancy\nok\n"), "\(printed)\n\(mobility.logText)")
        let one = try await mobility.send(.GET, "/api/parking/v3/parking-sites/kaiserslautern-ph-altstadt")
        #expect(one.object["name"] as? String == "PH Altstadt (synthetisch)")
        let missing = try await mobility.send(.GET, "/api/parking/v3/parking-sites/nirgendwo")
        #expect(missing.status == 404 && missing.error["message"] as? String == "no parking site 'nirgendwo'")
        let sources = try await mobility.send(.GET, "/api/parking/sources")
        let first = (sources.object["sources"] as? [[String: Any]])?.first
        #expect(
            first?["format"] as? String == "kaiserslautern-xml" && first?["stale"] as? Bool == false, "\(sources.text)")
    }

    @Test func aConfigurationWithoutTheParkingFile_isRefusedInOneLine() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-mobility-config")
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("mobility.yaml")
        try Data(
            """
            listen: {host: 127.0.67.51, port: 18051}
            public_url: http://127.0.67.51:18051
            database: sqlite:data/mobility.sqlite
            parking:
              kaiserslautern_xml: https://www.kaiserslautern.example/pls.xml

            """.utf8
        ).write(to: config)
        let refused = try await ProcessRunner.run(
            "datenplattform", ["mobility", "migrate", "--config", config.path], in: root)
        #expect(refused.status != 0)
        #expect(
            refused.standardError
                == "Error: \(config.path): parking.sites must name a parking file with the car parks: Kaiserslautern's feed has no positions\n",
            "\(refused.standardError)")
    }
}
