import Foundation
import HTTPTransport
import OrchestratorClient
import Server
import StellwerkAPI
import TestSupport
import Testing

/// The web console (issue #22) on a real orchestrator: sign-in as a session cookie, CSRF tokens on
/// every form, four eyes as in the API, sessions that end with revocation, sign-out and their
/// lifetime; the two-person approval in Debian's headless Chromium through Selenium.
@Suite(.serialized) struct ConsoleEndToEndTests {
    static let python = Fixtures.repositoryRoot.appendingPathComponent(".build/python-clients/bin/python")
    static let browser =
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        && FileManager.default.isExecutableFile(atPath: python.path)
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    /// A browser's cookies, from the answers' `Set-Cookie`.
    final class Browser: @unchecked Sendable {
        let http: OrchestratorConnection
        var cookies: [String: String] = [:]
        /// Every `Set-Cookie` seen, whole, for checking its attributes.
        var seen: [String] = []

        init(_ cluster: LocalCluster) throws {
            http = try OrchestratorConnection(
                url: cluster.serverURL, authority: try String(contentsOf: cluster.authorityFile, encoding: .utf8))
        }

        func send(_ method: HTTPVerb, _ path: String, form: [String: String]? = nil) async throws -> HTTPAnswer {
            var headers: [(String, String)] = []
            if !cookies.isEmpty {
                headers.append(
                    ("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: "; ")))
            }
            let body = form.map { fields in
                Data(
                    fields.sorted { $0.key < $1.key }.map {
                        "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                    }.joined(separator: "&").utf8)
            }
            let answer = try await http.exchange(
                method, path, body: body, contentType: "application/x-www-form-urlencoded", headers: headers)
            for (name, value) in answer.headers where name.lowercased() == "set-cookie" {
                seen.append(value)
                let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                guard pair.count == 2 || value.contains("Max-Age=0") else { continue }
                let key = String(pair[0])
                if value.contains("Max-Age=0") { cookies[key] = nil } else { cookies[key] = String(pair[1]) }
            }
            return answer
        }

        /// The value of the hidden `csrf` field of the page.
        static func csrf(_ page: String) -> String {
            guard let start = page.range(of: "name=\"csrf\" value=\"") else { return "" }
            return String(page[start.upperBound...].prefix { $0 != "\"" })
        }

        func signIn(_ token: String) async throws -> HTTPAnswer {
            let form = try await send(.get, "/console/sign-in")
            return try await send(.post, "/console/sign-in", form: ["csrf": Self.csrf(form.text), "token": token])
        }
    }

    @Test func twoPeople_requestAndApprove_throughCLIAndConsole_withSessionsAndCSRF() async throws {
        let cluster = try LocalCluster(
            block: 70,
            nodes: [
                LocalCluster.Node(name: "s1", site: "sa", environment: "sandbox"),
                LocalCluster.Node(name: "l1", site: "la", environment: "live"),
            ],
            environments: [
                "sandbox": "promotes_to: live\n" + LocalCluster.rolloutPolicy(),
                "live": LocalCluster.rolloutPolicy() + "\npromotion:\n  soak: 0s\n  approvals: 1\n  windows: false",
            ])
        defer { cluster.tearDown() }
        try await cluster.start(recordingPolicies: false)
        func created(_ name: String, _ role: String) async throws -> String {
            let result = try await cluster.stellwerk(["user", "create", name, "--role", role])
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let olga = try await created("olga", "*=operator")
        let erika = try await created("erika", "live=approver")
        try await cluster.recordPolicies()
        let release = try await cluster.release(version: "1")
        let applied = try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")
        // olga requests the promotion through the CLI.
        var requested: ProcessRunner.Result?
        try await cluster.waitFor("the release to be verified and the promotion requested", seconds: 60) {
            let attempt = try await cluster.stellwerk(["promote", release, "--to", "live", "--json"], token: olga)
            requested = attempt
            return attempt.status == 0
        }
        let promotion = try decode(PromotionView.self, try #require(requested).standardOutput).id
        func state() async throws -> PromotionView {
            try decode(
                PromotionView.self,
                try await cluster.stellwerk(["promotion", "show", promotion, "--json"]).standardOutput)
        }

        // Nobody signed in: sent to sign in. A wrong token, or a form from elsewhere, is refused.
        let anonymous = try Browser(cluster)
        let start = try await anonymous.send(.get, "/console")
        #expect(start.status == 303 && start.header("Location") == "/console/sign-in")
        #expect(try await anonymous.signIn("swt_not-a-token").status == 401)
        let foreign = try Browser(cluster)
        let forged = try await foreign.send(.post, "/console/sign-in", form: ["csrf": "guessed", "token": olga])
        #expect(forged.status == 403 && foreign.cookies["stellwerk_session"] == nil)

        // olga signs in: a session cookie only this site's HTTPS requests carry, and never to the API.
        let requester = try Browser(cluster)
        let signedIn = try await requester.signIn(olga)
        #expect(signedIn.status == 303 && signedIn.header("Location") == "/console")
        let cookie = try #require(requester.seen.first { $0.hasPrefix("stellwerk_session=") })
        for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Max-Age=28800", "Path=/console"] {
            #expect(cookie.contains(attribute), "\(cookie)")
        }
        #expect(try await requester.send(.get, "/v1/whoami").status == 401, "the API takes no cookie")
        let page = try await requester.send(.get, "/console/promotions/\(promotion)")
        #expect(page.status == 200)
        #expect(page.text.contains("können nicht selbst über sie entscheiden"))
        #expect(!page.text.contains("value=\"approve\""))
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        // Her own decision, sent anyway with a valid form: refused as the API refuses it.
        let own = try await requester.send(
            .post, "/console/promotions/\(promotion)/decision",
            form: ["csrf": Browser.csrf(page.text), "decision": "approve", "reason": ""])
        #expect(own.status == 403, "\(own.text)")
        #expect(own.text.contains("approve"), "\(own.text)")

        // erika's form without the session's CSRF token changes nothing.
        let approverSession = try Browser(cluster)
        #expect(try await approverSession.signIn(erika).status == 303)
        let noToken = try await approverSession.send(
            .post, "/console/promotions/\(promotion)/decision", form: ["decision": "approve", "reason": "x"])
        #expect(noToken.status == 403 && noToken.text.contains("CSRF"), "\(noToken.text)")
        let wrongToken = try await approverSession.send(
            .post, "/console/promotions/\(promotion)/decision", form: ["csrf": "x", "decision": "approve"])
        #expect(wrongToken.status == 403)
        #expect(try await state().decisions.isEmpty)
        #expect(try await state().state == .waiting)

        // The approval itself: in the browser where there is one (always in CI), else as a browser
        // would send it.
        if Self.browser || Self.required {
            try #require(Self.browser, "install chromium and chromium-driver and run scripts/python-clients")
            let artifacts = Fixtures.repositoryRoot.appendingPathComponent(".build/test-artifacts")
            let output = cluster.root.appendingPathComponent("console.out").path
            let status = try await offloaded {
                try Spawn.run(
                    Self.python.path,
                    [
                        Fixtures.repositoryRoot.appendingPathComponent("Tests/Interop/console_flow.py").path,
                        artifacts.path, cluster.serverURL, olga, erika, promotion,
                    ], standardOutput: output
                ).status
            }
            let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(status == 0, "\(printed)")
            #expect(printed.hasSuffix("ok\n"), "\(printed)")
            #expect(
                FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("console-approved.png").path))
        } else {
            let form = try await approverSession.send(.get, "/console/promotions/\(promotion)")
            let approved = try await approverSession.send(
                .post, "/console/promotions/\(promotion)/decision",
                form: ["csrf": Browser.csrf(form.text), "decision": "approve", "reason": "Sandbox im Browser geprüft"])
            #expect(approved.status == 200 && approved.text.contains("Ihre Freigabe ist vermerkt."), "\(approved.text)")
        }
        let decided = try await state()
        #expect(decided.decisions.map(\.approver) == ["erika"])
        #expect(decided.decisions.first?.reason == "Sandbox im Browser geprüft")
        #expect(decided.state != .waiting)

        // A node of live with its health history; sandbox is not erika's to read.
        try await cluster.waitFor("l1 to report the promoted service", seconds: 60) {
            let node = try await approverSession.send(.get, "/console/nodes/live/l1")
            return node.status == 200 && node.text.contains("web: running")
        }
        let history = try await approverSession.send(.get, "/console/nodes/live/l1")
        #expect(history.text.contains("Gesundheitsverlauf"), "\(history.text)")
        #expect(history.text.contains("keine Instanz"), "the history begins before the promotion: \(history.text)")
        #expect(try await approverSession.send(.get, "/console/nodes/sandbox/s1").status == 404)
        #expect(try await approverSession.send(.get, "/console/sites/live/la").text.contains("/console/nodes/live/l1"))

        // A role that decides on live waits for a second admin: the admin's overview says so, and how.
        #expect(try await cluster.stellwerk(["user", "create", "gerd", "--role", "live=approver"]).status == 0)
        let admin = try Browser(cluster)
        #expect(try await admin.signIn(cluster.adminToken).status == 303)
        let waitingRoles = try await admin.send(.get, "/console")
        #expect(waitingRoles.text.contains("stellwerk user approve gerd"), "\(waitingRoles.text)")
        #expect(!(try await approverSession.send(.get, "/console")).text.contains("gerd"), "only admins see it")
        // The audit log, filtered, is the admins' as in the API.
        let audit = try await admin.send(.get, "/console/audit?actor=erika&action=promotion.")
        #expect(audit.status == 200 && audit.text.contains("promotion.approve"), "\(audit.text)")
        #expect(!audit.text.contains("user.create"), "the filter holds")
        #expect(try await approverSession.send(.get, "/console/audit").status == 403)

        // Revoking olga ends her session at her next click; signing out ends erika's.
        #expect(try await cluster.stellwerk(["user", "revoke", "olga"]).status == 0)
        let revoked = try await requester.send(.get, "/console")
        #expect(revoked.status == 303 && revoked.header("Location") == "/console/sign-in")
        let overview = try await approverSession.send(.get, "/console")
        #expect(overview.status == 200 && overview.text.contains("<h1>Übersicht</h1>"))
        let signedOut = try await approverSession.send(
            .post, "/console/sign-out", form: ["csrf": Browser.csrf(overview.text)])
        #expect(signedOut.status == 303)
        approverSession.cookies["stellwerk_session"] = try #require(
            approverSession.seen.first { $0.hasPrefix("stellwerk_session=") && !$0.contains("Max-Age=0") }?
                .split(separator: ";")[0].split(separator: "=", maxSplits: 1).last.map(String.init))
        #expect(try await approverSession.send(.get, "/console").status == 303, "a signed-out session is over")
    }

    /// A session ends when its lifetime is over, and the oldest go first when there are too many.
    @Test func sessions_expire_andTheOldestGoFirst() {
        let sessions = ConsoleSessions(lifetime: 3600)
        let start = Date(timeIntervalSince1970: 1_796_630_400)
        let (id, session) = sessions.open(tokenHash: "h", now: start)
        #expect(session.expiresAt == start + 3600)
        #expect(sessions.session(id, now: start + 3599)?.csrf == session.csrf)
        #expect(sessions.session(id, now: start + 3600) == nil)
        #expect(sessions.session(id, now: start) == nil, "an expired session is forgotten")
        #expect(sessions.session(String(repeating: "x", count: 500)) == nil)
        var first: String?
        for index in 0..<ConsoleSessions.limit {
            let opened = sessions.open(tokenHash: "h", now: start + Double(index)).id
            if index == 0 { first = opened }
        }
        let last = sessions.open(tokenHash: "h", now: start + Double(ConsoleSessions.limit)).id
        #expect(sessions.session(first, now: start + 1) == nil)
        #expect(sessions.session(last, now: start + 1) != nil)
    }
}
