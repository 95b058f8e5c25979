import Foundation
import StellwerkAPI
import TestSupport
import Testing

/// The environment policy the server holds (issue #18): nothing is applied before it is recorded, a
/// plan whose policy differs is refused with the difference, an operator cannot apply to live what
/// did not pass its gates, a policy change to live needs a second approver, and an emergency change
/// goes past the soak and the windows only with an approval, marked as one everywhere.
@Suite struct PolicyEndToEndTests {
    @Test func live_takesOnlyGatedOrApprovedEmergencyChanges_andThePolicyIsTheServers() async throws {
        // lb's only window opens in six hours: only an emergency change touches it now.
        let cluster = try LocalCluster(
            block: 50,
            nodes: [
                LocalCluster.Node(name: "s1", site: "sa", environment: "sandbox"),
                LocalCluster.Node(name: "l1", site: "la", environment: "live"),
                LocalCluster.Node(name: "l2", site: "lb", environment: "live"),
            ],
            environments: [
                "sandbox": "promotes_to: live\n" + LocalCluster.rolloutPolicy(),
                "live": LocalCluster.rolloutPolicy(maxInFlight: 1) + """

                    promotion:
                      soak: 1h
                      approvals: 1
                      windows: true
                      canary_site: la
                      max_sites_in_flight: 1
                    """,
            ], sites: ["la": BerlinWindow.openNow(), "lb": BerlinWindow.closedNow()])
        defer { cluster.tearDown() }
        try await cluster.start(recordingPolicies: false)
        let release = try await cluster.release(version: "1")

        // Until an approver recorded the sandbox's policy, nothing is applied to it.
        let unrecorded = try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", release])
        #expect(unrecorded.status == 1)
        #expect(
            unrecorded.standardError.contains("the server holds no policy for sandbox yet"),
            "\(unrecorded.standardError)")
        let unrecordedPlan = try await cluster.stellwerk(["plan", "--env", "sandbox", "--release", release])
        #expect(
            (unrecordedPlan.standardOutput + unrecordedPlan.standardError).contains(
                "the server holds no policy for sandbox yet and will refuse this plan"),
            "\(unrecordedPlan.standardOutput)")
        // The people, before live has a promotion source: afterwards an approver for live would wait
        // for a second admin (TrustTests).
        func created(_ name: String, _ role: String) async throws -> String {
            let result = try await cluster.stellwerk(["user", "create", name, "--role", role])
            #expect(result.status == 0, "\(result.standardError)")
            return result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let olga = try await created("olga", "*=operator")
        let erika = try await created("erika", "live=approver")
        let anna = try await created("anna", "live=approver")
        try await cluster.recordPolicies()
        let live = try decode(
            PolicyView.self, try await cluster.stellwerk(["policy", "show", "--env", "live", "--json"]).standardOutput)
        #expect(live.recorded?.recordedBy == "policy-proposer")
        #expect(live.recorded?.approvedBy == "admin")
        #expect(live.recorded?.policy.promotion?.source == "sandbox")
        #expect(live.proposal == nil)
        let applied = try await cluster.stellwerk(["apply", "--env", "sandbox", "--release", release])
        #expect(applied.status == 0, "\(applied.standardOutput)\(applied.standardError)")

        func liveReleases() async throws -> [String: [String]] {
            let nodes = try await cluster.status(env: "live").environments.first?.nodes ?? []
            return Dictionary(uniqueKeysWithValues: nodes.map { ($0.node, $0.instances.map(\.release)) })
        }

        // An operator cannot apply to live a release that never passed its gates.
        let straight = try await cluster.stellwerk(["apply", "--env", "live", "--release", release], token: olga)
        #expect(straight.status == 1)
        #expect(straight.standardError.contains("live has a promotion source (sandbox)"), "\(straight.standardError)")
        #expect(straight.standardError.contains("\(release) has not passed its gates"), "\(straight.standardError)")
        #expect(try await liveReleases().values.allSatisfy { $0.isEmpty })
        let early = try await cluster.stellwerk(["promote", release, "--to", "live"], token: olga)
        #expect(early.status == 1)
        #expect(early.standardError.contains("soaking"), "\(early.standardError)")

        // Files edited to drop the approval and the soak: the plan's policy is not the server's.
        let file = cluster.workspace.appendingPathComponent("Environments/live/environment.yaml")
        let original = try String(contentsOf: file, encoding: .utf8)
        try original.replacingOccurrences(of: "approvals: 1", with: "approvals: 0")
            .replacingOccurrences(of: "soak: 1h", with: "soak: 0s").write(to: file, atomically: true, encoding: .utf8)
        let warned = try await cluster.stellwerk(["plan", "--env", "live", "--release", release], token: olga)
        #expect(
            (warned.standardOutput + warned.standardError).contains(
                "differs from the one the server holds, so the server will refuse this plan (promotion.soak"),
            "\(warned.standardOutput)")
        let shown = try await cluster.stellwerk(["policy", "show", "--env", "live"], token: olga)
        #expect(shown.status == 0, "\(shown.standardError)")
        #expect(shown.standardOutput.contains("Recorded "), "\(shown.standardOutput)")
        #expect(shown.standardOutput.contains("by policy-proposer, approved by admin"), "\(shown.standardOutput)")
        #expect(
            shown.standardOutput.contains("promotion.approvals: the server has 1, the workspace has 0"),
            "\(shown.standardOutput)")
        let bypass = try await cluster.stellwerk(["promote", release, "--to", "live"], token: olga)
        #expect(bypass.status == 1)
        #expect(bypass.standardError.contains("differs from the one the server holds"), "\(bypass.standardError)")
        #expect(
            bypass.standardError.contains("promotion.approvals: the server has 1, the plan has 0"),
            "\(bypass.standardError)")
        #expect(bypass.standardError.contains("promotion.soak: the server has 3600s, the plan has 0s"))
        // Recording it takes an approver, and for live a second one: the proposer cannot approve.
        let byOperator = try await cluster.stellwerk(["policy", "apply", "--env", "live"], token: olga)
        #expect(byOperator.status == 1)
        #expect(byOperator.standardError.contains("may not approve"), "\(byOperator.standardError)")
        let proposed = try await cluster.stellwerk(["policy", "apply", "--env", "live", "--json"], token: erika)
        #expect(proposed.status == 0, "\(proposed.standardError)")
        let proposal = try #require(try decode(PolicyView.self, proposed.standardOutput).proposal)
        #expect(proposal.proposedBy == "erika")
        #expect(proposal.differences.contains("promotion.approvals: the server has 1, the change has 0"))
        let own = try await cluster.stellwerk(["policy", "approve", "--env", "live"], token: erika)
        #expect(own.status == 1)
        #expect(own.standardError.contains("erika proposed the policy change of live"), "\(own.standardError)")
        let stale = try await cluster.adminConnection().exchange(
            .post, Endpoints.approvePolicy.path(["env": "live"]),
            body: try JSONEncoder().encode(PolicyApproval(digest: String(repeating: "0", count: 64))))
        #expect(stale.status == 409)
        // Until a second approver agrees, the server keeps its policy: still refused.
        #expect(try await cluster.stellwerk(["promote", release, "--to", "live"], token: olga).status == 1)
        try original.write(to: file, atomically: true, encoding: .utf8)

        // An emergency change: not verified, lb outside its window, once a second person approved.
        let emergency = try await cluster.stellwerk(
            ["promote", release, "--to", "live", "--emergency", "Pegel-Dienst liefert keine Werte", "--json"],
            token: olga)
        #expect(emergency.status == 0, "\(emergency.standardError)")
        let requested = try decode(PromotionView.self, emergency.standardOutput)
        #expect(requested.emergency == "Pegel-Dienst liefert keine Werte")
        #expect(requested.state == .waiting)
        #expect(requested.gates.map(\.open) == [true, false, true], "\(requested.gates)")
        #expect(requested.gates[0].detail.hasPrefix("emergency change (Pegel-Dienst liefert keine Werte)"))
        #expect(requested.gates[2].detail == "emergency change: maintenance windows do not apply")
        let reasonless = try await cluster.stellwerk(
            ["promote", release, "--to", "live", "--emergency", "  "], token: olga)
        #expect(reasonless.status == 1)
        #expect(reasonless.standardError.contains("an emergency change needs a reason"))
        #expect(try await liveReleases().values.allSatisfy { $0.isEmpty }, "nothing moves before the approval")
        let approved = try await cluster.stellwerk(["promotion", "approve", requested.id], token: anna)
        #expect(approved.status == 0, "\(approved.standardError)")
        try await cluster.waitFor("the emergency change to reach both sites", seconds: 120) {
            let shown = try await cluster.stellwerk(["promotion", "show", requested.id, "--json"])
            return (try? decode(PromotionView.self, shown.standardOutput))?.state == .succeeded
        }
        #expect(try await liveReleases() == ["l1": [release], "l2": [release]])

        // Marked as one in the status, the audit log, the metrics and the event stream.
        let status = try await cluster.status(env: "live")
        #expect(status.environments.first?.emergency == "\(requested.id): Pegel-Dienst liefert keine Werte")
        let shownStatus = try await cluster.stellwerk(["status", "--env", "live"])
        #expect(
            shownStatus.standardOutput.contains("EMERGENCY CHANGE \(requested.id)"), "\(shownStatus.standardOutput)")
        let admin = try cluster.adminConnection()
        let audit = try await admin.send(.audit(limit: 1000))
        let marked = try #require(audit.first { $0.action == "promotion.emergency" })
        #expect(marked.object == requested.id)
        #expect(marked.detail.hasPrefix("EMERGENCY CHANGE: release \(release)"), "\(marked.detail)")
        for action in ["policy.record", "policy.propose", "policy.approve"] {
            #expect(audit.contains { $0.action == action }, "\(action) missing from the audit log")
        }
        let metrics = String(decoding: try await admin.exchange(.get, Endpoints.metrics.path).body, as: UTF8.self)
        #expect(metrics.contains("stellwerk_emergency_changes_total{environment=\"live\"} 1"), "\(metrics)")
        await admin.shutdown()
        let events = try String(contentsOf: try await cluster.readEvents(for: 3).file, encoding: .utf8)
        #expect(events.contains("\"detail\":\"approved (emergency change)\""), "\(events)")

        // Now the release passed live's gates, but changing what runs still takes a promotion.
        let site = cluster.workspace.appendingPathComponent("Environments/live/sites/la.yaml")
        let siteFile = try String(contentsOf: site, encoding: .utf8)
        try siteFile.replacingOccurrences(of: "web: {}", with: "web: {parameters: {port: \(cluster.servicePort + 1)}}")
            .write(to: site, atomically: true, encoding: .utf8)
        let changed = try await cluster.stellwerk(["apply", "--env", "live", "--release", release], token: olga)
        #expect(changed.status == 1)
        #expect(changed.standardError.contains("the plan changes what runs (web on l1)"), "\(changed.standardError)")
        #expect(try await liveReleases() == ["l1": [release], "l2": [release]])
    }
}
