import Database
import Foundation
import TestSupport
import Testing

@testable import SensorThings
@testable import Sensors

/// Alerts by the rules in a Datastream: warning levels with hysteresis and the rate of rise, stored
/// once, delivered signed to a real webhook receiver, acknowledged through the API, served as CAP
/// 1.2, and neither raised nor sent again when the service restarts.
@Suite(.serialized) struct SensorsAlertTests {
    static let secret = "alarm-geheimnis-0123456789"

    @Test func levelsAndRise_areRaisedOnce_deliveredSigned_acknowledged_andSurviveARestart() async throws {
        try #require(SensorsInteropTests.available || !SensorsInteropTests.required)
        let host = "127.0.64.80"
        let port = try FreePort.find(host: host)
        let events = try Fixtures.temporaryFolder("stellwerk-alert-hook").appendingPathComponent("events.jsonl")
        let receiver = try Spawn.run(
            "/usr/bin/python3",
            [
                Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/alert_webhook_receiver.py").path, host,
                String(port), Self.secret, events.path,
            ], wait: false
        ).pid
        defer {
            kill(receiver, SIGTERM)
            var status: Int32 = 0
            waitpid(receiver, &status, 0)
        }
        let sensors = try await SensorsProcess(
            host: host,
            extra: "alerts:\n  webhook_url: http://\(host):\(port)/hook\n  webhook_secret: \(Self.secret)")
        defer { sensors.stop() }
        try await sensors.start()
        let gauge = PegelonlineViewTests.station(readings: []).replacingOccurrences(
            of: #""properties": {"pegelonline": {"shortname": "W""#,
            with:
                #""properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 150}, {"name": "Meldestufe 2", "above": 200}], "hysteresis": 5, "rise_per_hour": 40}, "pegelonline": {"shortname": "W""#
        ).replacingOccurrences(of: #", "Observations": []"#, with: "")
        let created = try await sensors.post("/Things", gauge)
        try #require(created.status == 201, "\(created.text)")

        let start = Date().addingTimeInterval(-3 * 3600)
        func post(_ minutes: Int, _ value: Double) async throws {
            let time = ISO8601DateFormatter().string(from: start.addingTimeInterval(Double(minutes) * 60))
            let reply = try await sensors.post(
                "/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(time)", "result": \#(value)}"#)
            try #require(reply.status == 201, "\(reply.text)")
        }
        func alerts() async throws -> [[String: Any]] { try await sensors.get(sensors.url + "/alerts").values }
        func settle(_ what: String, _ condition: ([[String: Any]]) -> Bool) async throws {
            try await waitUntil(what, within: .seconds(20)) { condition(try await alerts()) }
        }
        /// Waits until the alert service finished `count` more rounds of looking and delivering.
        func rounds(_ count: Double) async throws {
            func checked() async throws -> Double {
                let page = try await sensors.send(.GET, sensors.url + "/metrics").text
                return SensorsMQTTTests.metric(#"sensors_alerts_total{kind="any",outcome="checked"}"#, in: page) ?? 0
            }
            let target = try await checked() + count
            try await waitUntil("the alert service went round", within: .seconds(20)) { try await checked() >= target }
        }
        func delivered() -> [String] {
            ((try? String(contentsOf: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        try await post(0, 140)
        try await post(15, 155)
        try await settle("level 1 is open") { $0.count == 1 && $0[0]["state"] as? String == "open" }
        // Around the threshold, within the hysteresis: still the same alert.
        try await post(30, 148)
        try await rounds(2)
        #expect(try await alerts().count == 1)
        // Below 150 − 5: ended.
        try await post(45, 144)
        try await settle("level 1 ended") { $0.first?["state"] as? String == "ended" }
        // A jump to level 2, 66 above the reading an hour before: level and rise together.
        try await post(75, 210)
        try await settle("level 2 and rise are open") { list in
            list.filter { $0["state"] as? String == "open" }.compactMap { $0["name"] as? String }.sorted() == [
                "Meldestufe 2", "Schneller Anstieg",
            ]
        }
        try await waitUntil("four deliveries arrived", within: .seconds(20)) { delivered().count >= 4 }
        let received = delivered()
        #expect(!received.contains("REJECTED"))
        let summary = received.compactMap { line -> String? in
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return "\(event["event"] ?? "") \(event["name"] ?? "")"
        }
        #expect(
            summary.sorted() == [
                "ended Meldestufe 1", "raised Meldestufe 1", "raised Meldestufe 2", "raised Schneller Anstieg",
            ], "\(received)")

        // Acknowledged by the operator, with the token only.
        let open = try #require(try await alerts().first { $0["name"] as? String == "Meldestufe 2" })
        let id = try #require(open["id"] as? Int)
        #expect(
            try await sensors.send(.POST, sensors.url + "/alerts/\(id)/acknowledge", authorized: false).status == 401)
        let acknowledged = try await sensors.send(
            .POST, sensors.url + "/alerts/\(id)/acknowledge", body: #"{"by": "Leitstelle Kusel"}"#)
        #expect(acknowledged.object["state"] as? String == "acknowledged", "\(acknowledged.text)")
        #expect(acknowledged.object["acknowledgedBy"] as? String == "Leitstelle Kusel")

        // CAP 1.2: an Alert while open, a Cancel once ended; well-formed XML.
        let cap = try await sensors.send(.GET, sensors.url + "/alerts/\(id).cap")
        #expect(cap.headers["content-type"]?.hasPrefix("application/cap+xml") == true)
        #expect(cap.text.contains(#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">"#))
        #expect(cap.text.contains("<msgType>Alert</msgType>") && cap.text.contains("<severity>Moderate</severity>"))
        #expect(cap.text.contains("<circle>49.538,7.398 0</circle>"), "\(cap.text)")
        let ended = try #require(try await alerts().first { $0["state"] as? String == "ended" }?["id"] as? Int)
        let cancel = try await sensors.send(.GET, sensors.url + "/alerts/\(ended).cap")
        #expect(cancel.text.contains("<msgType>Cancel</msgType>") && cancel.text.contains("<references>"))
        let xml = sensors.root.appendingPathComponent("alert.cap")
        try cap.text.write(to: xml, atomically: true, encoding: .utf8)
        #expect(
            try Spawn.run(
                "/usr/bin/python3", ["-c", "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])", xml.path]
            )
            .status == 0)

        // A restart evaluates everything again: nothing is raised or sent twice.
        sensors.stopProcess()
        try await sensors.start()
        // The first round evaluates everything and sends what is pending; the second starts after it.
        try await rounds(2)
        #expect(try await alerts().count == 3)
        #expect(delivered().count == 4)
    }

    @Test(.enabled(if: SensorsInteropTests.available || SensorsInteropTests.required))
    func alertMail_reachesTheRelay_inGermanWithAnEncodedSubject() async throws {
        try #require(SensorsInteropTests.available, "the Python clients are missing: run scripts/python-clients")
        let host = "127.0.64.81"
        let port = try FreePort.find(host: host)
        let maildir = try Fixtures.temporaryFolder("stellwerk-alert-mail")
        for folder in ["tmp", "new", "cur"] {
            try FileManager.default.createDirectory(
                at: maildir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        // aiosmtpd, Python's SMTP server, as the municipality's relay, keeping what it gets in a Maildir.
        let relay = try Spawn.run(
            SensorsInteropTests.python.path,
            ["-m", "aiosmtpd", "-n", "-l", "\(host):\(port)", "-c", "aiosmtpd.handlers.Mailbox", maildir.path],
            standardOutput: maildir.appendingPathComponent("relay.log").path, wait: false
        ).pid
        defer {
            kill(relay, SIGTERM)
            var status: Int32 = 0
            waitpid(relay, &status, 0)
        }
        let sensors = try await SensorsProcess(
            host: host,
            extra:
                "alerts:\n  smtp_relay: \(host):\(port)\n  mail_from: pegel@kusel.example\n  mail_to: leitstelle@kusel.example, bauhof@kusel.example"
        )
        defer { sensors.stop() }
        try await sensors.start()
        let gauge = PegelonlineViewTests.station(readings: [120]).replacingOccurrences(
            of: #""properties": {"pegelonline": {"shortname": "W""#,
            with:
                #""properties": {"alerts": {"levels": [{"name": "Meldestufe 1", "above": 150}]}, "pegelonline": {"shortname": "W""#
        )
        try #require(try await sensors.post("/Things", gauge).status == 201)
        let now = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        try #require(
            try await sensors.post("/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(now)", "result": 163}"#)
                .status
                == 201)

        let inbox = maildir.appendingPathComponent("new")
        func mailbox() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: inbox.path)) ?? [] }
        try await waitUntil("the relay received the mail") { !mailbox().isEmpty }
        let mails = mailbox()
        let mail = try String(contentsOf: inbox.appendingPathComponent(try #require(mails.first)), encoding: .utf8)
        #expect(mail.contains("From: pegel@kusel.example"))
        #expect(mail.contains("To: leitstelle@kusel.example, bauhof@kusel.example"))
        let subject = "Warnung: Meldestufe 1 — Pegel Kusel"
        #expect(mail.contains("Subject: =?UTF-8?B?\(Data(subject.utf8).base64EncodedString())?="), "\(mail)")
        let encoded = mail.components(separatedBy: "\n\n").dropFirst().joined().replacingOccurrences(of: "\n", with: "")
            .replacingOccurrences(of: "\r", with: "")
        let body = String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
        #expect(body.contains("Warnung: Wasserstand Kusel: Meldestufe 1 — 163 erreicht (ab 150)"), "\(body)")
        #expect(body.contains("/alerts/1.cap"), "\(body)")
        #expect(mails.count == 1)
    }

    @Test func lowWaterFromCharacteristicValues_andStaleData_areRaisedEnded_andServedAsACAPFeed() async throws {
        let host = "127.0.64.82"
        let sensors = try await SensorsProcess(host: host)
        defer { sensors.stop() }
        try await sensors.start()
        let gauge = PegelonlineViewTests.station(readings: []).replacingOccurrences(
            of: #""properties": {"pegelonline": {"shortname": "W""#,
            with:
                #""properties": {"alerts": {"levels": "characteristic", "stale_after_minutes": 2}, "pegelonline": {"shortname": "W""#
        ).replacingOccurrences(of: #", "Observations": []"#, with: "")
        try #require(try await sensors.post("/Things", gauge).status == 201)
        func post(minutesAgo: Double, _ value: Double) async throws {
            let time = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-minutesAgo * 60))
            let reply = try await sensors.post(
                "/Datastreams(1)/Observations", #"{"phenomenonTime": "\#(time)", "result": \#(value)}"#)
            try #require(reply.status == 201, "\(reply.text)")
        }
        func open() async throws -> [String] {
            try await sensors.get(sensors.url + "/alerts?state=open").values.compactMap { $0["name"] as? String }
                .sorted()
        }
        func settle(_ expected: [String]) async throws {
            var seen: [String] = []
            do {
                try await waitUntil("the open alerts were \(expected)", within: .seconds(20)) {
                    seen = try await open()
                    return seen == expected
                }
            } catch {
                Issue.record("open alerts: \(seen), expected \(expected); log: \(sensors.logText.suffix(2000))")
                throw error
            }
        }

        // Five minutes old and at the gauge's MNW (40): low water, and no reading for longer than 2 minutes.
        try await post(minutesAgo: 5, 40)
        try await settle(["Keine Messwerte", "Mittleres Niedrigwasser (MNW)"])
        let stale = try #require(
            try await sensors.get(sensors.url + "/alerts").values.first { $0["kind"] as? String == "stale" })
        #expect((stale["message"] as? String)?.contains("seit 2 Minuten kein Messwert") == true, "\(stale)")
        #expect(stale["value"] == nil)
        // A fresh reading above MNW ends both; one at MHW (130) raises the level.
        try await post(minutesAgo: 0.5, 131)
        try await settle(["Mittleres Hochwasser (MHW)"])

        // The feed: every alert of the last day, ended ones as CAP Cancel, well-formed Atom.
        let feed = try await sensors.send(.GET, sensors.url + "/alerts.atom")
        #expect(feed.headers["content-type"]?.hasPrefix("application/atom+xml") == true)
        let file = sensors.root.appendingPathComponent("alerts.atom")
        try feed.text.write(to: file, atomically: true, encoding: .utf8)
        let output = sensors.root.appendingPathComponent("feed-summary.txt")
        let parsed = try Spawn.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import sys, xml.etree.ElementTree as E
                a = '{http://www.w3.org/2005/Atom}'; c = '{urn:oasis:names:tc:emergency:cap:1.2}'
                for e in E.parse(sys.argv[1]).getroot().iter(a + 'entry'):
                    cap = e.find(a + 'content').find(c + 'alert')
                    print(cap.find(c + 'msgType').text, cap.find(c + 'info').find(c + 'event').text)
                """, file.path,
            ], standardOutput: output.path)
        #expect(parsed.status == 0, "\(feed.text)")
        let summary = try String(contentsOf: output, encoding: .utf8)
        #expect(
            summary.split(separator: "\n").sorted() == [
                "Alert Hochwasser: Mittleres Hochwasser (MHW)", "Cancel Ausfall der Pegelmessung",
                "Cancel Niedrigwasser",
            ], "\(summary) \(feed.text)")
    }

    /// Once a second the alert engine asks which Datastreams got observations since the last look.
    /// That must read the new rows along the primary key: a plan that scans an index reads every
    /// observation ever stored, each second (0.8 s of CPU at 10 million, found by the benchmark).
    @Test func lookForNewObservations_readsOnlyTheNewRows() async throws {
        let root = try Fixtures.temporaryFolder("stellwerk-alert-plan")
        defer { try? FileManager.default.removeItem(at: root) }
        let store = try SensorStore(location: "sqlite:\(root.path)/sensors.sqlite", create: true, connections: 1)
        defer { store.close() }
        _ = try await store.migrate()
        let plan = try await store.pool.withConnection { connection in
            try connection.execute(
                "EXPLAIN QUERY PLAN " + AlertService.datastreamsOfNewObservations, [.integer(0)]
            ).map { $0.text(3) }
        }
        #expect(plan == ["SEARCH observations USING INTEGER PRIMARY KEY (rowid>?)"], "\(plan)")
    }

    @Test func characteristicLevels_comeFromTheGauge_andLowWaterHasHysteresis() throws {
        let rules = try #require(
            try AlertRules.from(
                datastream: 1,
                properties: JSONParser.parse(
                    Array(
                        #"{"alerts": {"levels": "characteristic", "hysteresis": 5}, "pegelonline": {"characteristicValues": [{"shortname": "MNW", "value": 20}, {"shortname": "MW", "value": 45}, {"shortname": "MHW", "value": 180}]}}"#
                            .utf8))))
        #expect(rules.levels == [AlertRules.Level(name: "Mittleres Hochwasser (MHW)", above: 180)])
        #expect(rules.low == AlertRules.LowWater(name: "Mittleres Niedrigwasser (MNW)", below: 20))
        #expect(rules.isLowWater(20, wasLow: false))
        #expect(!rules.isLowWater(21, wasLow: false))
        #expect(rules.isLowWater(24, wasLow: true))
        #expect(!rules.isLowWater(26, wasLow: true))
    }

    @Test func levels_keepTheirAlertWithinTheHysteresis() throws {
        let rules = try #require(
            try AlertRules.from(
                datastream: 1,
                properties: JSONParser.parse(
                    Array(
                        #"{"alerts": {"levels": [{"name": "1", "above": 100}, {"name": "2", "above": 200}], "hysteresis": 10}}"#
                            .utf8))))
        #expect(rules.level(for: 99, current: 0) == 0)
        #expect(rules.level(for: 100, current: 0) == 1)
        #expect(rules.level(for: 250, current: 0) == 2)
        #expect(rules.level(for: 195, current: 2) == 2)
        #expect(rules.level(for: 189, current: 2) == 1)
        #expect(rules.level(for: 91, current: 1) == 1)
        #expect(rules.level(for: 89, current: 2) == 0)
        // Rules that lost a level since: no crash, the reading decides.
        #expect(rules.level(for: 150, current: 4) == 1)
    }

    @Test(arguments: [
        (
            #"{"levels": [{"name": "a", "above": 5}, {"name": "b", "above": 3}]}"#,
            "must be higher than the level before it"
        ),
        (#"{"levels": []}"#, "needs levels, low, rise_per_hour or stale_after_minutes"),
        (#"{"rise_per_hour": -1}"#, "rise_per_hour must be a number above 0"),
        (#"{"levels": [{"above": 5}]}"#, "levels[0] needs a name"),
        (#"{"stufen": []}"#, "unknown member 'stufen'"),
        (#"{"levels": "characteristic"}"#, "needs properties.pegelonline.characteristicValues"),
        (#"{"levels": "meldestufen"}"#, "or \"characteristic\""),
        (#"{"stale_after_minutes": 0}"#, "stale_after_minutes must be a whole number from 1 to 10080"),
        (#"{"stale_after_minutes": 1e300}"#, "stale_after_minutes must be a whole number"),
        (#"{"levels": [{"name": "a", "above": 5}], "low": {"name": "n", "below": 9}}"#, "low.below must be under"),
    ])
    func badRules_areRefusedNamingTheMember(alerts: String, message: String) {
        #expect {
            _ = try AlertRules.from(datastream: 4, properties: JSONParser.parse(Array(#"{"alerts": \#(alerts)}"#.utf8)))
        } throws: { error in
            (error as? IngestRejection)?.message.contains(message) == true
        }
    }
}
