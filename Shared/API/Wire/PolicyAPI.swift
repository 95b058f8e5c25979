public import FoundationEssentials

/// What the server holds of an environment's files and enforces on every change to it: how rollouts
/// go, and for an environment with a promotion source, the gates and the sites' maintenance windows.
/// A plan carries the same two parts; the server refuses one whose copy differs from its own.
public struct EnvironmentPolicy: Codable, Sendable, Hashable {
    public var rollout: RolloutSettings
    /// `nil` when no environment promotes into this one.
    public var promotion: PromotionPolicy?

    public init(rollout: RolloutSettings, promotion: PromotionPolicy?) {
        self.rollout = rollout
        self.promotion = promotion
    }

    /// Whether changes to the environment are governed: it has a promotion source, so only a
    /// verified and approved release (or an approved emergency change) enters it.
    public var isGoverned: Bool { promotion != nil }

    /// Every setting that differs from `recorded`, one line each, named as in the environment and
    /// site files: "promotion.approvals: the server has 1, the plan has 0".
    public func differences(from recorded: EnvironmentPolicy, ours: String = "the plan") -> [String] {
        var lines: [String] = []
        func compare(_ name: String, _ server: String, _ mine: String) {
            if server != mine { lines.append("\(name): the server has \(server), \(ours) has \(mine)") }
        }
        func seconds(_ value: Int) -> String { "\(value)s" }
        func inFlight(_ settings: RolloutSettings) -> String {
            settings.maxInFlightPercent ? "\(settings.maxInFlight)%" : "\(settings.maxInFlight)"
        }
        let (a, b) = (recorded.rollout, rollout)
        compare("rollout.canary", "\(a.canary)", "\(b.canary)")
        compare("rollout.max_in_flight", inFlight(a), inFlight(b))
        compare("rollout.min_healthy_time", seconds(a.minHealthySeconds), seconds(b.minHealthySeconds))
        compare("rollout.healthy_deadline", seconds(a.healthyDeadlineSeconds), seconds(b.healthyDeadlineSeconds))
        compare("rollout.progress_deadline", seconds(a.progressDeadlineSeconds), seconds(b.progressDeadlineSeconds))
        compare("rollout.auto_rollback", "\(a.autoRollback)", "\(b.autoRollback)")
        compare("rollout.lost_after", seconds(a.lostAfterSeconds), seconds(b.lostAfterSeconds))
        compare("rollout.on_disconnected", a.onDisconnected.rawValue, b.onDisconnected.rawValue)
        switch (recorded.promotion, promotion) {
        case (nil, nil): break
        case (let server?, nil):
            lines.append("promotes_to: the server has \(server.source) promoting into it, \(ours) has no source")
        case (nil, let mine?):
            lines.append("promotes_to: the server has no source promoting into it, \(ours) has \(mine.source)")
        case (let server?, let mine?):
            compare("promotes_to (the source)", server.source, mine.source)
            compare("promotion.soak", seconds(server.soakSeconds), seconds(mine.soakSeconds))
            compare("promotion.approvals", "\(server.approvals)", "\(mine.approvals)")
            compare("promotion.windows", "\(server.respectWindows)", "\(mine.respectWindows)")
            compare("promotion.canary_site", server.canarySite ?? "none", mine.canarySite ?? "none")
            compare("promotion.max_sites_in_flight", "\(server.maxSitesInFlight)", "\(mine.maxSitesInFlight)")
            for site in Set(server.windows.keys).union(mine.windows.keys).sorted() {
                compare(
                    "maintenance_windows of \(site)", MaintenanceWindowSpec.describe(server.windows[site]),
                    MaintenanceWindowSpec.describe(mine.windows[site]))
            }
        }
        return lines
    }
}

extension MaintenanceWindowSpec {
    /// "Tue 21:00–23:30, Sat 08:00–12:00", or "none" (for a site the file does not name, "no site").
    static func describe(_ windows: [MaintenanceWindowSpec]?) -> String {
        guard let windows else { return "no such site" }
        guard !windows.isEmpty else { return "none" }
        let days = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        func time(_ minutes: Int) -> String {
            let (hour, minute) = (minutes / 60, minutes % 60)
            return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
        }
        return windows.map { window in
            window.days.map { (1...7).contains($0) ? days[$0] : "day \($0)" }.joined(separator: "/") + " "
                + time(window.from) + "–" + time(window.to)
        }.joined(separator: ", ")
    }
}

extension Plan {
    /// The policy the plan was computed with; `nil` for a plan of an older stellwerk without one.
    public var policy: EnvironmentPolicy? {
        rollout.map { EnvironmentPolicy(rollout: $0, promotion: promotion) }
    }
}

/// `GET|PUT /v1/environments/{env}/policy`: the policy the server enforces, and a change that waits
/// for a second approver.
public struct PolicyView: Codable, Sendable, Hashable {
    public var environment: String
    /// `nil` until an approver recorded one; until then nothing can be applied to the environment.
    public var recorded: RecordedPolicy?
    /// A change to a governed environment's policy, waiting for a second approver.
    public var proposal: PolicyProposal?
    /// What the last call did, for people: "recorded", "waits for a second approver", "unchanged".
    public var message: String

    public init(environment: String, recorded: RecordedPolicy?, proposal: PolicyProposal?, message: String) {
        self.environment = environment
        self.recorded = recorded
        self.proposal = proposal
        self.message = message
    }
}

/// A policy as recorded: what it says, its digest, and who recorded it (and who approved it).
public struct RecordedPolicy: Codable, Sendable, Hashable {
    public var policy: EnvironmentPolicy
    /// SHA-256 over the policy's canonical JSON: what an approval names.
    public var digest: String
    public var recordedBy: String
    public var approvedBy: String?
    public var recordedAt: Date

    public init(policy: EnvironmentPolicy, digest: String, recordedBy: String, approvedBy: String?, recordedAt: Date) {
        self.policy = policy
        self.digest = digest
        self.recordedBy = recordedBy
        self.approvedBy = approvedBy
        self.recordedAt = recordedAt
    }
}

/// A proposed policy change: the new policy, how it differs from the recorded one, who proposed it.
public struct PolicyProposal: Codable, Sendable, Hashable {
    public var policy: EnvironmentPolicy
    public var digest: String
    public var proposedBy: String
    public var proposedAt: Date
    /// Against the recorded policy; every setting for an environment without one.
    public var differences: [String]

    public init(policy: EnvironmentPolicy, digest: String, proposedBy: String, proposedAt: Date, differences: [String])
    {
        self.policy = policy
        self.digest = digest
        self.proposedBy = proposedBy
        self.proposedAt = proposedAt
        self.differences = differences
    }
}

/// `POST /v1/environments/{env}/policy/approve`: the digest of the proposal the approver read, so a
/// proposal replaced in the meantime is not approved unseen.
public struct PolicyApproval: Codable, Sendable, Hashable {
    public var digest: String

    public init(digest: String) { self.digest = digest }
}
