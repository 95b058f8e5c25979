import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// Promotions from sandbox (sites sa, sb) to live (sites la, lb, lc), every node an agent process on
/// its own loopback address, driven with the CLI as operators and approvers would.
@Suite(.serialized) struct PromotionEndToEndTests {
    static let nodes = [
        LocalCluster.Node(name: "s1", site: "sa", environment: "sandbox"),
        LocalCluster.Node(name: "s2", site: "sb", environment: "sandbox"),
        LocalCluster.Node(name: "l1", site: "la", environment: "live"),
        LocalCluster.Node(name: "l2", site: "lb", environment: "live"),
        LocalCluster.Node(name: "l3", site: "lc", environment: "live"),
    ]

    /// The migration every release runs: it appends a line once, and stops halfway on data it cannot
    /// convert (a file `data/unconvertible`).
    static let migrations = """
        migrations:
          args: [migrate, --append, data/records.txt, --text, "migriert\\n", --once, --fail-if, data/unconvertible]
        """

    static func cluster(
        block: Int, soak: String, approvals: Int, windows: Bool, sites: [String: String] = [:]
    ) throws
        -> LocalCluster
    {
        try LocalCluster(
            block: block, nodes: nodes,
            environments: [
                "sandbox": "promotes_to: live\n" + LocalCluster.rolloutPolicy(),
                "live": LocalCluster.rolloutPolicy(maxInFlight: 1) + """

                    promotion:
                      soak: \(soak)
                      approvals: \(approvals)
                      windows: \(windows)
                      canary_site: la
                      max_sites_in_flight: 2
                    """,
            ], sites: sites, blueprintExtra: migrations)
    }

    @Test func verifiedRelease_promotedWithApproval_siteBySite_insideWindows_andResumedAfterServerRestart()
        async throws
    {
        // la and lb are inside a window now; lc's only window opens in six hours.
        let cluster = try Self.cluster(
            block: 41, soak: "20s", approvals: 1, windows: true,
            sites: ["la": BerlinWindow.openNow(), "lb": BerlinWindow.openNow(), "lc": BerlinWindow.closedNow()])
        defer { cluster.tearDown() }
        // The people first: once live has a promotion source, granting a role that approves there
        // waits for a second admin.
        try await cluster.start(recordingPolicies: false)
        func created(_ name: String, _ role: String, by token: String? = nil) async throws -> String {
            let result = try await cluster.stellwerk(["user", "create", name, "--role", role], token: token)
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let ritaToken = try await created("rita", "*=admin")
        let olgaToken = try await created("olga", "*=operator")
        let erikaToken = try await created("erika", "live=approver")
        try await cluster.recordPolicies()
        let release = try await cluster.release(version: "1", migrations: ["0001"])
        let applied = try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")

        // Straight away the release has not soaked: refused, saying why.
        let early = try await cluster.stellwerk(["promote", release, "--to", "live"])
        #expect(early.status == 1)
        #expect(early.standardError.contains("is not verified in sandbox: soaking"), "\(early.standardError)")

        // The soak must be green all along: s1's service stops answering for a while during it (its
        // health check fails, the agent reports it unhealthy) and then recovers, so after the soak
        // from the rollout's end the release is still not verified.
        let service = try #require(Self.servicePID(address: cluster.addresses["s1"] ?? ""))
        func s1State() async throws -> InstanceStatus.State? {
            try await cluster.status(env: "sandbox").environments.first?.nodes.first { $0.node == "s1" }?.instances
                .first?.state
        }
        kill(service, SIGSTOP)
        try await cluster.waitFor("s1 to be reported unhealthy", seconds: 30) { try await s1State() != .running }
        kill(service, SIGCONT)
        try await cluster.waitFor("s1 to be healthy again", seconds: 30) { try await s1State() == .running }
        let hiccup = try await cluster.stellwerk(["promote", release, "--to", "live"])
        #expect(hiccup.status == 1)
        #expect(hiccup.standardError.contains("was not healthy until"), "\(hiccup.standardError)")

        // Once it has been green for the whole soak, a dry run shows every gate and the site plan,
        // and starts nothing.
        var verified: ProcessRunner.Result?
        try await cluster.waitFor("the release to be verified again", seconds: 60) {
            let attempt = try await cluster.stellwerk(["promote", release, "--to", "live", "--dry-run", "--json"])
            verified = attempt
            return attempt.status == 0
        }
        let dry = try #require(verified)
        let preview = try decode(PromotionView.self, dry.standardOutput)
        #expect(preview.state == .dryRun)
        #expect(preview.gates.map(\.name) == [.verified, .approvals, .windows])
        #expect(preview.gates.map(\.open) == [true, false, true], "\(preview.gates)")
        #expect(preview.sites.map(\.site) == ["la", "lb", "lc"])
        #expect(preview.sites.map(\.wave) == [0, 1, 1])
        let waiting = try #require(preview.sites.last)
        #expect(waiting.detail.hasPrefix("waits for its maintenance window until"), "\(waiting.detail)")
        #expect(waiting.windowOpensAt != nil)
        #expect(try await cluster.stellwerk(["promotion", "list", "--json"]).standardOutput.contains("pr-") == false)

        // Requested by rita, an admin. Four eyes: she may approve, but not her own request, and nobody
        // she made counts as a second person; an operator may not approve at all; the approver erika,
        // whom the first admin made before the request, may.
        let requested = try await cluster.stellwerk(
            ["promote", release, "--to", "live", "--message", "Pegel 1", "--json"], token: ritaToken)
        #expect(requested.status == 0, "\(requested.standardError)")
        let promotion = try decode(PromotionView.self, requested.standardOutput)
        #expect(promotion.state == .waiting)
        #expect(promotion.gates.map(\.open) == [true, false, true])
        let own = try await cluster.stellwerk(["promotion", "approve", promotion.id], token: ritaToken)
        #expect(own.status == 1)
        #expect(own.standardError.contains("cannot also decide on it"), "\(own.standardError)")
        let puppetToken = try await created("puppet", "live=approver", by: ritaToken)
        // Granted by rita alone, puppet's role waits for a second admin; the first admin approves it
        // (rita could not), and still puppet is no second person next to rita.
        let approvedGrant = try await cluster.stellwerk(["user", "approve", "puppet"])
        #expect(approvedGrant.status == 0, "\(approvedGrant.standardError)")
        let puppet = try await cluster.stellwerk(["promotion", "approve", promotion.id], token: puppetToken)
        #expect(puppet.status == 1)
        #expect(
            puppet.standardError.contains(
                "puppet cannot decide on promotion \(promotion.id): puppet was created by rita, who requested it"),
            "\(puppet.standardError)")
        let operatorApproval = try await cluster.stellwerk(["promotion", "approve", promotion.id], token: olgaToken)
        #expect(operatorApproval.status == 1)
        #expect(operatorApproval.standardError.contains("approve"), "\(operatorApproval.standardError)")
        let approved = try await cluster.stellwerk(
            ["promotion", "approve", promotion.id, "--reason", "sandbox portal checked"], token: erikaToken)
        #expect(approved.status == 0, "\(approved.standardError)")

        // The canary site rolls out alone; kill the server meanwhile: the promotion resumes. On a busy
        // machine the canary may be done before a look at it comes back; the server is killed then
        // with the next wave to resume instead.
        var lastSeen = ""
        do {
            try await cluster.waitFor("the canary site to start") {
                let shown = try await cluster.stellwerk(["promotion", "show", promotion.id, "--json"])
                lastSeen = shown.standardOutput + shown.standardError
                let canary = (try? decode(PromotionView.self, shown.standardOutput))?.sites.first?.state
                return canary == .rollingOut || canary == .done
            }
        } catch {
            Issue.record("the promotion as last seen: \(lastSeen)")
            throw error
        }
        cluster.stopServer(signal: SIGKILL)
        try await cluster.startServer()
        try await cluster.waitFor("la and lb to be done", seconds: 120) {
            let shown = try await cluster.stellwerk(["promotion", "show", promotion.id, "--json"])
            return (try? decode(PromotionView.self, shown.standardOutput))?.sites.prefix(2).allSatisfy {
                $0.state == .done
            } ?? false
        }
        let shown = try decode(
            PromotionView.self,
            try await cluster.stellwerk(["promotion", "show", promotion.id, "--json"]).standardOutput)
        #expect(shown.state == .rollingOut)
        #expect(shown.sites.map(\.state) == [.done, .done, .pending])
        #expect(shown.sites[2].detail.hasPrefix("waits for its maintenance window until"))
        #expect(shown.gates.first { $0.name == .windows }?.detail.contains("lc until") == true, "\(shown.gates)")
        #expect(shown.decisions.map(\.approver) == ["erika"])
        let live = try await cluster.status(env: "live")
        let runs = Dictionary(
            uniqueKeysWithValues: try #require(live.environments.first?.nodes).map {
                ($0.node, $0.instances.map(\.release))
            })
        #expect(runs["l1"] == [release])
        #expect(runs["l2"] == [release])
        #expect(runs["l3"] ?? [] == [])

        // While it waits for lc, nobody applies to live past it.
        let apply = try await cluster.stellwerk(["apply", "--env", "live", "--release", release])
        #expect(apply.status == 1)
        #expect(apply.standardError.contains("promotion \(promotion.id)"), "\(apply.standardError)")

        let cancelled = try await cluster.stellwerk(["promotion", "cancel", promotion.id])
        #expect(cancelled.status == 0, "\(cancelled.standardError)")
        let after = try decode(
            PromotionView.self,
            try await cluster.stellwerk(["promotion", "show", promotion.id, "--json"]).standardOutput)
        #expect(after.state == .cancelled)
        #expect(after.sites.map(\.state) == [.done, .done, .notStarted])

        // Decisions only while a promotion waits; a rejection needs a reason; a plan without gates
        // (of an environment nothing promotes into) is no promotion request.
        let late = try await cluster.stellwerk(["promotion", "approve", promotion.id], token: erikaToken)
        #expect(late.status == 1)
        #expect(
            late.standardError.contains("is cancelled; decisions are taken while it waits"), "\(late.standardError)")
        let admin = try cluster.adminConnection()
        let reasonless = try await admin.exchange(
            .post, Endpoints.rejectPromotion.path(["id": promotion.id]), body: Data(#"{"reason": " "}"#.utf8))
        #expect(reasonless.status == 400)
        let plain = try await cluster.stellwerk(["plan", "--env", "sandbox", "--release", release, "--json"])
        #expect(plain.status == 0, "\(plain.standardError)")
        let gateless = try await admin.exchange(
            .post, Endpoints.requestPromotion.path,
            body: Data(#"{"dryRun": true, "plan": \#(plain.standardOutput)}"#.utf8))
        #expect(gateless.status == 400)
        #expect(String(decoding: gateless.body, as: UTF8.self).contains("carries no promotion gates"))

        let audit = try await admin.send(.audit(limit: 1000))
        await admin.shutdown()
        let actions = audit.map(\.action)
        for action in ["promotion.request", "promotion.approve", "promotion.rolling-out", "promotion.cancelled"] {
            #expect(actions.contains(action), "\(action) missing from the audit log")
        }
        let opened = try #require(audit.first { $0.action == "promotion.rolling-out" })
        #expect(opened.detail.contains("verified: healthy on all 2 node(s) of sandbox"), "\(opened.detail)")
        #expect(opened.detail.contains("approvals: 1 of 1: erika"), "\(opened.detail)")
    }

    @Test func migrationFailingOnTheCanarySite_stopsThePromotion_restoresItsData_andTouchesNoOtherSite()
        async throws
    {
        let cluster = try Self.cluster(block: 42, soak: "0s", approvals: 0, windows: false)
        defer { cluster.tearDown() }
        try await cluster.start()

        // Release 1 everywhere: sandbox by apply, live by a promotion that needs no approval.
        let first = try await cluster.release(version: "1", migrations: ["0001"])
        #expect(try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", first]).status == 0)
        let promoted = try await cluster.stellwerk(["promote", first, "--to", "live", "--follow", "--json"])
        #expect(promoted.status == 0, "\(promoted.standardOutput)\(promoted.standardError)")
        #expect(try decode(PromotionView.self, promoted.standardOutput).state == .succeeded)

        // Release 2 brings a migration; it passes in the sandbox, but la holds data it cannot convert.
        let second = try await cluster.release(version: "2", migrations: ["0001", "0002"])
        let sandboxData = cluster.data(of: "s1").appendingPathComponent("instances/web/data/records.txt")
        let beforeSecond = try Data(contentsOf: sandboxData)
        #expect(try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", second]).status == 0)
        try Data("messwert nach 0002\n".utf8).write(to: sandboxData, options: .atomic)
        let data = cluster.data(of: "l1").appendingPathComponent("instances/web/data")
        try Data("Altbestand\n".utf8).write(to: data.appendingPathComponent("unconvertible"))
        let before = try Data(contentsOf: data.appendingPathComponent("records.txt"))

        let failing = try await cluster.stellwerk(["promote", second, "--to", "live", "--follow", "--json"])
        #expect(failing.status == 1, "\(failing.standardError)")
        let view = try decode(PromotionView.self, failing.standardOutput)
        #expect(view.state == .failed, "\(view.message)")
        #expect(view.sites.map(\.site) == ["la", "lb", "lc"])
        #expect(view.sites.map(\.state) == [.failed, .notStarted, .notStarted], "\(view.sites.map(\.detail))")
        #expect(view.message.hasPrefix("la failed"), "\(view.message)")

        // la is back on release 1 with its data byte for byte; lb and lc were never touched.
        #expect(try Data(contentsOf: data.appendingPathComponent("records.txt")) == before)
        let live = try await cluster.status(env: "live")
        for node in try #require(live.environments.first?.nodes) {
            #expect(node.instances.map(\.release) == [first], "\(node.node)")
            #expect(node.instances.map(\.state) == [.running], "\(node.node)")
        }
        let rollouts = try decode(
            [RolloutView].self,
            try await cluster.stellwerk(["rollout", "list", "--env", "live", "--json"]).standardOutput)
        #expect(
            rollouts.filter { $0.release == second }.flatMap { $0.steps.map(\.node) } == ["l1"],
            "\(rollouts.map { "\($0.id) \($0.release) \($0.state) \($0.createdBy) \($0.message)" })")

        // `release show` says where each release runs and how healthy, and who made it.
        let shown = try await cluster.stellwerk(["release", "show", second, "--json"])
        #expect(shown.status == 0, "\(shown.standardError)")
        let details = try JSONSerialization.jsonObject(with: Data(shown.standardOutput.utf8)) as? [String: Any]
        let placements = try #require(details?["environments"] as? [[String: Any]])
        #expect(placements.map { $0["environment"] as? String } == ["sandbox"])
        #expect(placements.first?["healthy"] as? Int == 2)
        let release = try #require(details?["release"] as? [String: Any])
        #expect((release["manifest"] as? [String: Any])?["createdBy"] as? String == "admin")
        let listed = try await cluster.stellwerk(["release", "list"])
        #expect(listed.standardOutput.contains("live 3/3"), "\(listed.standardOutput)")

        // Rolling the sandbox back past 0002, which cannot be undone, restores the backups from before
        // it: the command says so and wants a yes first.
        let unconfirmed = try await cluster.stellwerk(["rollback", "--env", "sandbox"])
        #expect(unconfirmed.status == 1)
        #expect(
            unconfirmed.standardOutput.contains("web on s1: migration 0002 cannot be undone"),
            "\(unconfirmed.standardOutput)")
        #expect(unconfirmed.standardError.contains("confirm with --yes"), "\(unconfirmed.standardError)")
        let rolledBack = try await cluster.stellwerk(["rollback", "--env", "sandbox", "--yes"])
        #expect(rolledBack.status == 0, "\(rolledBack.standardOutput)\(rolledBack.standardError)")
        #expect(try Data(contentsOf: sandboxData) == beforeSecond)
    }
}

extension PromotionEndToEndTests {
    /// The test service a node's agent runs, found by the address it listens on.
    static func servicePID(address: String) -> pid_t? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for pid in entries.compactMap({ Int32($0) }) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
            let commandLine = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if commandLine.contains("stellwerk-test-service --host \(address) ") { return pid }
        }
        return nil
    }
}

/// Maintenance windows relative to the current time in Berlin, so a test knows which are open.
enum BerlinWindow {
    private static let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// The ISO weekday (0 = Monday here) and minute of the day in Berlin, `offset` minutes from now.
    private static func local(offset minutes: Int) -> (day: Int, minute: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!
        let parts = calendar.dateComponents(
            [.weekday, .hour, .minute], from: Date().addingTimeInterval(TimeInterval(minutes * 60)))
        return ((parts.weekday! + 5) % 7, parts.hour! * 60 + parts.minute!)
    }

    private static func window(from start: Int, length: Int) -> String {
        let (day, minute) = local(offset: start)
        let end = (minute + length) % 1440
        func time(_ value: Int) -> String { String(format: "\"%02d:%02d\"", value / 60, value % 60) }
        return "maintenance_windows:\n  - days: [\(days[day])]\n    from: \(time(minute))\n    to: \(time(end))\n"
    }

    /// A window from two hours ago to two hours ahead.
    static func openNow() -> String { window(from: -120, length: 240) }

    /// A single one-hour window six hours ahead.
    static func closedNow() -> String { window(from: 360, length: 60) }
}
