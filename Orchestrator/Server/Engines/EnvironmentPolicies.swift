import Crypto
import Foundation
import StellwerkAPI
import Store

/// Each environment's policy as the server holds it: recorded from the environment files by an
/// approver, through a second approver for a governed environment (one with a promotion source).
/// ``PolicyEnforcement`` holds every change to it.
struct EnvironmentPolicies: Sendable {
    let store: StateStore
    let hub: EventHub

    // MARK: Recording

    func view(_ environment: String, message: String = "") async throws -> PolicyView {
        let record = try await store.policy(environment: environment)
        let recorded = try record?.recorded.map { entry in
            RecordedPolicy(
                policy: try Self.decode(entry.document), digest: entry.digest, recordedBy: entry.by,
                approvedBy: entry.approvedBy, recordedAt: entry.at)
        }
        let proposal = try record?.proposed.map { entry in
            let policy = try Self.decode(entry.document)
            return PolicyProposal(
                policy: policy, digest: entry.digest, proposedBy: entry.by, proposedAt: entry.at,
                differences: Self.differences(policy, from: recorded?.policy))
        }
        let said =
            message.isEmpty
            ? (proposal != nil
                ? "a policy change waits for a second approver"
                : (recorded == nil ? "no policy recorded yet" : "recorded"))
            : message
        return PolicyView(environment: environment, recorded: recorded, proposal: proposal, message: said)
    }

    /// Records `policy` at once, or — when the environment is governed before or after — keeps it
    /// as a proposal for a second approver.
    func propose(
        _ policy: EnvironmentPolicy, environment: String, by user: String, actor: String, now: Date = Date()
    ) async throws -> PolicyView {
        try Self.validate(policy, environment: environment)
        let (document, digest) = try Self.canonical(policy)
        let current = try await store.policy(environment: environment)
        let recorded = try current?.recorded.map { try Self.decode($0.document) }
        if current?.recorded?.digest == digest, current?.proposed == nil {
            return try await view(environment, message: "unchanged: the server holds this policy already")
        }
        let changes = Self.differences(policy, from: recorded)
        let entry = PolicyRecord.Entry(document: document, digest: digest, by: user, approvedBy: nil, at: now)
        let detail = changes.joined(separator: "; ")
        if policy.isGoverned || recorded?.isGoverned == true {
            try await store.proposePolicy(environment: environment, entry, actor: actor, detail: detail)
            hub.publish(.policy, environment: environment, object: digest, detail: "proposed by \(user)")
            return try await view(
                environment,
                message:
                    "\(environment) has a promotion source, so a second approver records this change with `stellwerk policy approve --env \(environment)`"
            )
        }
        try await store.recordPolicy(
            environment: environment, entry, replacing: current?.recorded?.digest, actor: actor, detail: detail)
        hub.publish(.policy, environment: environment, object: digest, detail: "recorded by \(user)")
        return try await view(environment, message: "recorded")
    }

    func approve(
        environment: String, digest: String, approver: String, actor: String
    ) async throws -> PolicyView {
        try await store.approvePolicy(environment: environment, digest: digest, approver: approver, actor: actor)
        hub.publish(.policy, environment: environment, object: digest, detail: "approved by \(approver)")
        return try await view(environment, message: "recorded, approved by \(approver)")
    }

    // MARK: Helpers

    /// What differs from the recorded policy; for the first policy of an environment, that it is the first.
    static func differences(_ policy: EnvironmentPolicy, from recorded: EnvironmentPolicy?) -> [String] {
        guard let recorded else {
            return [
                "the first policy of this environment"
                    + (policy.promotion.map { ", promoted into from \($0.source)" } ?? "")
            ]
        }
        return policy.differences(from: recorded, ours: "the change")
    }

    /// Refuses settings no environment file can produce; the CLI's checks are not the server's.
    static func validate(_ policy: EnvironmentPolicy, environment: String) throws {
        let year = 366 * 86_400
        var problems: [String] = []
        let rollout = policy.rollout
        if !(0...10_000).contains(rollout.canary) { problems.append("rollout.canary must be 0 to 10000") }
        if !(1...(rollout.maxInFlightPercent ? 100 : 10_000)).contains(rollout.maxInFlight) {
            problems.append("rollout.max_in_flight must be 1 to 10000, or 1% to 100%")
        }
        for (name, value) in [
            ("min_healthy_time", rollout.minHealthySeconds), ("healthy_deadline", rollout.healthyDeadlineSeconds),
            ("progress_deadline", rollout.progressDeadlineSeconds), ("lost_after", rollout.lostAfterSeconds),
        ] where !(0...year).contains(value) {
            problems.append("rollout.\(name) must be between 0 s and 366 days")
        }
        if let promotion = policy.promotion {
            if promotion.source.isEmpty || promotion.source == environment {
                problems.append("the promotion source must name another environment")
            }
            if !(0...year).contains(promotion.soakSeconds) {
                problems.append("promotion.soak must be between 0 s and 366 days")
            }
            if !(0...10).contains(promotion.approvals) { problems.append("promotion.approvals must be 0 to 10") }
            if !(1...1_000).contains(promotion.maxSitesInFlight) {
                problems.append("promotion.max_sites_in_flight must be 1 to 1000")
            }
            for (site, windows) in promotion.windows.sorted(by: { $0.key < $1.key }) {
                for window in windows
                where window.days.isEmpty || !window.days.allSatisfy({ (1...7).contains($0) })
                    || !(0..<1440).contains(window.from) || !(0...1440).contains(window.to)
                {
                    problems.append("a maintenance window of \(site) has days outside 1–7 or times outside the day")
                }
            }
        }
        guard problems.isEmpty else {
            throw APIError.badRequest("the policy for \(environment) is invalid: " + problems.joined(separator: "; "))
        }
    }

    /// The policy's canonical JSON and its SHA-256: the same policy always gives the same digest.
    static func canonical(_ policy: EnvironmentPolicy) throws -> (document: String, digest: String) {
        let data = try JSONResponse.encoder.encode(policy)
        return (String(decoding: data, as: UTF8.self), SHA256.hash(data: data).lowercaseHex)
    }

    static func decode(_ document: String) throws -> EnvironmentPolicy {
        try JSONResponse.decoder.decode(EnvironmentPolicy.self, from: Data(document.utf8))
    }
}
