package import Foundation
package import StellwerkAPI
package import Store

/// What a promotion keeps in the store: the plan for the target environment, its gates as last
/// evaluated, and how far each site is. Everything the promotion engine needs after a restart.
package struct PromotionDocument: Codable, Sendable, Equatable {
    package var policy: PromotionPolicy
    package var plan: Plan
    package var message: String
    package var gates: [GateView]
    package var sites: [PromotionSiteView]
    /// The reason, for an emergency change.
    package var emergency: String?
}

/// The three gates of a promotion, evaluated from what the store knows at `now`: pure, so tests give
/// it any clock.
package struct PromotionGates: Sendable {
    package var release: String
    package var policy: PromotionPolicy
    package var now: Date
    /// An emergency change: maintenance windows do not apply.
    package var emergency: Bool

    package init(release: String, policy: PromotionPolicy, now: Date, emergency: Bool = false) {
        self.release = release
        self.policy = policy
        self.now = now
        self.emergency = emergency
    }

    /// Verified: every node of the source environment runs the release, healthy, since a rollout that
    /// succeeded at least `soak` ago — so its migrations ran there too. A node that stopped
    /// reporting (`disconnected`) closes the gate: its last report is no word on what it does now,
    /// and when it is back its soak starts over (the store counts its return as a hiccup).
    package func verified(
        sourceRollouts: [RolloutRecord], sourceDesired: [String: (serial: Int, state: NodeDesiredState)],
        sourceReports: [String: (report: NodeReport, at: Date)], migrations: [String],
        lastUnhealthy: [String: Date] = [:], disconnected: Set<String> = []
    ) -> GateView {
        let source = policy.source
        func closed(_ detail: String) -> GateView { GateView(name: .verified, open: false, detail: detail) }
        let nodes = sourceDesired.filter { !$0.value.state.instances.isEmpty }
        guard let rollout = sourceRollouts.first(where: { $0.release == release }), !nodes.isEmpty else {
            return closed("release \(release) never ran in \(source); apply it there first")
        }
        let elsewhere = nodes.filter { $0.value.state.instances.contains { $0.release != release } }.keys.sorted()
        if !elsewhere.isEmpty {
            return closed("\(source) no longer runs \(release) on \(elsewhere.joined(separator: ", "))")
        }
        guard rollout.state == .succeeded else {
            return closed("its rollout \(rollout.id) in \(source) is \(rollout.state.rawValue), not succeeded")
        }
        for (node, desired) in nodes.sorted(by: { $0.key < $1.key }) {
            if disconnected.contains(node) {
                let since = sourceReports[node].map { " since \(MaintenanceWindows.describe($0.at))" } ?? ""
                return closed(
                    "\(node) in \(source) has not reported\(since): a silent node cannot vouch for \(release)")
            }
            let verdict = RolloutEngine.verdict(
                of: sourceReports[node]?.report, expected: ExpectedInstance.of(desired.state),
                writtenSerial: desired.serial)
            switch verdict {
            case .healthy: continue
            case .pending(let why), .failed(let why): return closed("\(node) in \(source) is not healthy: \(why)")
            }
        }
        // The soak counts from the rollout's end, or from the last time a node reported an instance
        // that was not running healthy, whichever is later: it must be green all along.
        let hiccup = nodes.keys.compactMap { lastUnhealthy[$0] }.max()
        let since = max(rollout.updatedAt, hiccup ?? .distantPast)
        let healthyFor = now.timeIntervalSince(since)
        let soak = TimeInterval(policy.soakSeconds)
        if healthyFor < soak {
            let again =
                since > rollout.updatedAt
                ? " (an instance was not healthy until \(MaintenanceWindows.describe(since)))" : ""
            return closed(
                "soaking: healthy in \(source) for \(Self.duration(healthyFor)) of \(Self.duration(soak))\(again); "
                    + "opens at \(MaintenanceWindows.describe(since.addingTimeInterval(soak)))")
        }
        let migrated = migrations.isEmpty ? "" : "; migrations \(migrations.joined(separator: ", ")) ran there"
        return GateView(
            name: .verified, open: true,
            detail:
                "healthy on all \(nodes.count) node(s) of \(source) for \(Self.duration(healthyFor)) (soak \(Self.duration(soak)))\(migrated)"
        )
    }

    /// Approvals: enough approvers other than the requester said yes. A rejection is handled before
    /// this gate matters: it ends the promotion.
    package func approvals(_ decisions: [ApprovalRecord], requester: String, promotion: String) -> GateView {
        let approvers = decisions.filter { $0.decision == .approve && $0.approver != requester }.map(\.approver)
        if policy.approvals == 0 {
            return GateView(name: .approvals, open: true, detail: "none required")
        }
        if approvers.count >= policy.approvals {
            return GateView(
                name: .approvals, open: true,
                detail: "\(approvers.count) of \(policy.approvals): \(approvers.joined(separator: ", "))")
        }
        return GateView(
            name: .approvals, open: false,
            detail:
                "\(approvers.count) of \(policy.approvals); an approver other than \(requester) runs `stellwerk promotion approve \(promotion)`"
        )
    }

    /// Windows: which sites may be touched now. Open when the next site in line is inside a window.
    package func windows(pendingSites: [String]) -> GateView {
        if emergency {
            return GateView(name: .windows, open: true, detail: "emergency change: maintenance windows do not apply")
        }
        guard policy.respectWindows else {
            return GateView(name: .windows, open: true, detail: "sites change at any time (windows: false)")
        }
        guard !pendingSites.isEmpty else {
            return GateView(name: .windows, open: true, detail: "no site left to change")
        }
        var waiting: [String] = []
        for site in pendingSites {
            let windows = MaintenanceWindows(policy.windows[site] ?? [])
            if !windows.isOpen(at: now) {
                let opens =
                    windows.nextOpening(after: now).map { MaintenanceWindows.describe($0) } ?? "never (no window)"
                waiting.append("\(site) until \(opens)")
            }
        }
        let first = pendingSites[0]
        let open = MaintenanceWindows(policy.windows[first] ?? []).isOpen(at: now)
        let detail =
            waiting.isEmpty
            ? "every remaining site is inside its maintenance window"
            : (open ? "\(first) is inside its window; " : "") + "waiting: " + waiting.joined(separator: "; ")
        return GateView(name: .windows, open: open, detail: detail)
    }

    /// "3m 20s", "2h", "1d 4h": durations as an operator reads them.
    package static func duration(_ interval: TimeInterval) -> String {
        let seconds = max(0, Int(interval))
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds / 60)m \(seconds % 60)s" }
        if seconds < 86400 {
            return seconds % 3600 / 60 == 0 ? "\(seconds / 3600)h" : "\(seconds / 3600)h \(seconds % 3600 / 60)m"
        }
        return seconds % 86400 / 3600 == 0
            ? "\(seconds / 86400)d" : "\(seconds / 86400)d \(seconds % 86400 / 3600)h"
    }
}
