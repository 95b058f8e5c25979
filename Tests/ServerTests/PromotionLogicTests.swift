import Foundation
import StellwerkAPI
import Store
import Testing

@testable import Server

/// The pure parts of promotions with an injected clock: maintenance windows in Europe/Berlin, the
/// approvals gate, the site order.
@Suite struct PromotionLogicTests {
    /// A UTC instant, from the ISO 8601 text.
    private func at(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    /// Kusel's windows: Tuesday 21:00–23:30 and Saturday 08:00–12:00, Berlin time.
    private let kusel = MaintenanceWindows([
        MaintenanceWindowSpec(days: [2], from: 21 * 60, to: 23 * 60 + 30),
        MaintenanceWindowSpec(days: [6], from: 8 * 60, to: 12 * 60),
    ])

    @Test func windows_areReadInBerlinTime_inWinterAndSummer() throws {
        // 24 November 2026 is a Tuesday; Berlin is UTC+1 in winter.
        #expect(kusel.isOpen(at: try at("2026-11-24T20:00:00Z")))  // 21:00 local: opens
        #expect(!kusel.isOpen(at: try at("2026-11-24T19:59:00Z")))  // 20:59 local
        #expect(kusel.isOpen(at: try at("2026-11-24T22:29:00Z")))  // 23:29 local
        #expect(!kusel.isOpen(at: try at("2026-11-24T22:30:00Z")))  // 23:30 local: closed
        // 7 July 2026 is a Tuesday; Berlin is UTC+2 in summer.
        #expect(kusel.isOpen(at: try at("2026-07-07T19:30:00Z")))
        #expect(kusel.isOpen(at: try at("2026-07-07T20:00:00Z")))
        #expect(!kusel.isOpen(at: try at("2026-07-07T18:30:00Z")))
    }

    @Test func nextOpening_isTheNearestWindowStart() throws {
        // Tuesday 20:59 local: the Tuesday window opens in a minute.
        #expect(kusel.nextOpening(after: try at("2026-11-24T19:59:00Z")) == (try at("2026-11-24T20:00:00Z")))
        // Wednesday noon: Saturday 08:00 local.
        #expect(kusel.nextOpening(after: try at("2026-11-25T11:00:00Z")) == (try at("2026-11-28T07:00:00Z")))
        // Inside a window: now.
        let inside = try at("2026-11-28T08:00:00Z")
        #expect(kusel.nextOpening(after: inside) == inside)
        #expect(MaintenanceWindows([]).nextOpening(after: inside) == nil)
        #expect(MaintenanceWindows.describe(try at("2026-11-28T07:00:00Z")) == "Sat 28.11. 08:00 (Europe/Berlin)")
    }

    @Test func windowAcrossMidnight_isOpenOnTheNextDayUntilItCloses() throws {
        // Friday 22:00 to 02:00.
        let night = MaintenanceWindows([MaintenanceWindowSpec(days: [5], from: 22 * 60, to: 2 * 60)])
        #expect(night.isOpen(at: try at("2026-11-27T21:30:00Z")))  // Fri 22:30
        #expect(night.isOpen(at: try at("2026-11-28T00:59:00Z")))  // Sat 01:59
        #expect(!night.isOpen(at: try at("2026-11-28T01:00:00Z")))  // Sat 02:00
        #expect(!night.isOpen(at: try at("2026-11-26T21:30:00Z")))  // Thu 22:30
    }

    private func policy(approvals: Int = 1, windows: Bool = true, inFlight: Int = 2) -> PromotionPolicy {
        PromotionPolicy(
            source: "sandbox", soakSeconds: 3600, approvals: approvals, respectWindows: windows,
            canarySite: "kusel", maxSitesInFlight: inFlight,
            windows: ["kusel": kusel.windows, "mayen-koblenz": [MaintenanceWindowSpec(days: [1], from: 0, to: 60)]])
    }

    @Test func approvals_countOnlyOthersThanTheRequester() throws {
        let gates = PromotionGates(release: "r-1", policy: policy(approvals: 1), now: Date())
        func decision(_ approver: String, _ decision: Decision = .approve) -> ApprovalRecord {
            ApprovalRecord(promotion: "pr-1", approver: approver, decision: decision, reason: "", createdAt: Date())
        }
        let none = gates.approvals([], requester: "anna", promotion: "pr-1")
        #expect(!none.open)
        #expect(none.detail.contains("an approver other than anna runs `stellwerk promotion approve pr-1`"))
        // The store refuses a requester's own decision; should one be there, it does not count.
        #expect(!gates.approvals([decision("anna")], requester: "anna", promotion: "pr-1").open)
        #expect(!gates.approvals([decision("erika", .reject)], requester: "anna", promotion: "pr-1").open)
        let approved = gates.approvals([decision("erika")], requester: "anna", promotion: "pr-1")
        #expect(approved.open)
        #expect(approved.detail == "1 of 1: erika")
        #expect(
            PromotionGates(release: "r-1", policy: policy(approvals: 0), now: Date())
                .approvals([], requester: "anna", promotion: "pr-1").open)
    }

    @Test func windowsGate_saysWhichSitesWaitAndUntilWhen() throws {
        // Tuesday 22:00 local: Kusel is open, Mayen-Koblenz (Monday 00:00–01:00) is not.
        let gates = PromotionGates(release: "r-1", policy: policy(), now: try at("2026-11-24T21:00:00Z"))
        let gate = gates.windows(pendingSites: ["kusel", "mayen-koblenz"])
        #expect(gate.open)
        #expect(
            gate.detail == "kusel is inside its window; waiting: mayen-koblenz until Mon 30.11. 00:00 (Europe/Berlin)")
        #expect(!gates.windows(pendingSites: ["mayen-koblenz"]).open)
        #expect(
            PromotionGates(release: "r-1", policy: policy(windows: false), now: Date())
                .windows(pendingSites: ["mayen-koblenz"]).open)
    }

    @Test func sites_canaryFirst_thenWavesOfMaxSitesInFlight_unchangedSitesDone() {
        func site(_ name: String, changes: Bool) -> SitePlan {
            let state = NodeDesiredState(
                node: "\(name)-1", site: name, environment: "live", address: "127.0.0.1", instances: [])
            return SitePlan(
                site: name, displayName: name,
                nodes: [
                    NodePlan(
                        node: "\(name)-1", address: "127.0.0.1",
                        changes: [
                            ServiceChange(service: "portal", action: changes ? .update : .unchanged, details: [])
                        ], desired: state)
                ])
        }
        let plan = Plan(
            environment: "live", serial: 3, release: "r-1", revision: "",
            sites: [
                site("bitburg-pruem", changes: true), site("kaiserslautern", changes: false),
                site("kusel", changes: true), site("linz-am-rhein", changes: true),
                site("sankt-wendel", changes: true),
            ], warnings: [])
        let order = PromotionEngine.order(plan, policy: policy(inFlight: 2))
        #expect(order.map(\.site) == ["kusel", "bitburg-pruem", "linz-am-rhein", "sankt-wendel", "kaiserslautern"])
        #expect(order.map(\.wave) == [0, 1, 1, 2, nil], "a site with nothing to change has no wave")
        #expect(order.map(\.state) == [.pending, .pending, .pending, .pending, .done])
    }

    /// An emergency change says why, in one line a log can hold; blank, long or multi-line reasons
    /// are refused before anything is stored.
    @Test func emergencyReason_isOneLineOfAtMost500Characters() throws {
        #expect(try PromotionEngine.emergencyReason(nil) == nil)
        #expect(try PromotionEngine.emergencyReason("  Pegel ausgefallen \n") == "Pegel ausgefallen")
        #expect(try PromotionEngine.emergencyReason(String(repeating: "x", count: 500))?.count == 500)
        for (reason, message) in [
            (" \t\n", "an emergency change needs a reason"),
            (
                String(repeating: "x", count: 501),
                "the reason for an emergency change must be one line of at most 500 characters"
            ),
            ("Pegel\nausgefallen", "the reason for an emergency change must be one line of at most 500 characters"),
        ] {
            #expect {
                try PromotionEngine.emergencyReason(reason)
            } throws: { error in
                (error as? APIError)?.message == message
            }
        }
    }
}
