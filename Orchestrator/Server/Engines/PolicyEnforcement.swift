import Foundation
import StellwerkAPI
import Store

/// What the recorded policies demand of every change: a plan must carry its environment's policy as
/// the server holds it; into a governed environment a plan changes nothing that runs unless it came
/// through a promotion, and only inside the sites' maintenance windows; a rollback there goes only to
/// a release that passed the gates.
struct PolicyEnforcement: Sendable {
    let store: StateStore

    /// The environment's recorded policy; refuses an environment without one, since nothing may change
    /// it before its policy is known.
    func recorded(_ environment: String) async throws -> EnvironmentPolicy {
        guard let entry = try await store.policy(environment: environment)?.recorded else {
            throw APIError(
                .policyMismatch,
                "the server holds no policy for \(environment) yet: an approver records it from the environment files with `stellwerk policy apply --env \(environment)`"
            )
        }
        return try EnvironmentPolicies.decode(entry.document)
    }

    /// The recorded policy of the plan's environment; refuses a plan whose policy differs, naming
    /// every difference, and an environment without a recorded policy.
    func enforced(for plan: Plan) async throws -> EnvironmentPolicy {
        let recorded = try await recorded(plan.environment)
        guard let carried = plan.policy else {
            throw APIError.badRequest(
                "the plan carries no rollout policy; compute it again with this version of stellwerk")
        }
        let differences = carried.differences(from: recorded)
        guard differences.isEmpty else {
            throw APIError(
                .policyMismatch,
                "the plan's policy for \(plan.environment) differs from the one the server holds: "
                    + differences.joined(separator: "; ")
                    + "; an approver records the files' policy with `stellwerk policy apply --env \(plan.environment)`, or restore the files"
            )
        }
        return recorded
    }

    /// Into a governed environment, `apply` only adds instances of a release that passed the
    /// environment's gates (nodes that join later), inside the sites' maintenance windows; anything
    /// that changes what runs goes through a promotion, or an emergency change.
    func checkApply(_ plan: Plan, policy: EnvironmentPolicy, now: Date = Date()) async throws {
        guard let gates = policy.promotion else { return }
        let stored = try await store.desiredStatesByNode(environment: plan.environment)
        var touched: [String] = []
        var changing: [String] = []
        for site in plan.sites {
            var siteChanges = false
            for node in site.nodes where node.changes.contains(where: { $0.action != .unchanged }) {
                siteChanges = true
                let running = Dictionary(
                    (stored[node.node]?.state.instances ?? []).map { ($0.service, $0) },
                    uniquingKeysWith: { first, _ in first })
                let wanted = Dictionary(
                    node.desired.instances.map { ($0.service, $0) }, uniquingKeysWith: { first, _ in first })
                for (service, instance) in running.sorted(by: { $0.key < $1.key }) where wanted[service] != instance {
                    changing.append("\(service) on \(node.node)")
                }
                for instance in node.desired.instances
                where running[instance.service] == nil && instance.release != plan.release {
                    changing.append("\(instance.service) on \(node.node) with release \(instance.release)")
                }
            }
            if siteChanges { touched.append(site.site) }
        }
        let passed = try await passedGates(plan.release, environment: plan.environment)
        if !passed || !changing.isEmpty {
            let why =
                passed
                ? "the plan changes what runs (\(changing.joined(separator: ", ")))"
                : "\(plan.release) has not passed its gates (no promotion of it into \(plan.environment) was approved)"
            throw APIError(
                .gateClosed,
                "\(plan.environment) has a promotion source (\(gates.source)), so what runs there changes only through a promotion: \(why); request it with `stellwerk promote \(plan.release) --to \(plan.environment)`, or in an emergency with `stellwerk promote \(plan.release) --to \(plan.environment) --emergency REASON`"
            )
        }
        try Self.requireWindows(touched, gates: gates, change: "apply", environment: plan.environment, now: now)
    }

    /// Into a governed environment, a rollback goes only to a release that passed its gates, and only
    /// inside the touched sites' maintenance windows.
    func checkRollback(
        environment: String, release: String, sites: [String], now: Date = Date()
    ) async throws {
        guard let gates = try await recorded(environment).promotion else { return }
        guard try await passedGates(release, environment: environment) else {
            throw APIError(
                .gateClosed,
                "\(environment) has a promotion source (\(gates.source)): the rollback's release \(release) never passed its gates; in an emergency, request `stellwerk promote \(release) --to \(environment) --emergency REASON`"
            )
        }
        try Self.requireWindows(sites, gates: gates, change: "rollback", environment: environment, now: now)
    }

    /// Whether a promotion of `release` into `environment` was approved and started (or finished).
    private func passedGates(_ release: String, environment: String) async throws -> Bool {
        for promotion in try await store.promotions(target: environment) where promotion.release == release {
            if promotion.state == .succeeded { return true }
            let document = try PromotionEngine.decode(promotion.document)
            if document.sites.contains(where: { $0.rollout != nil }) { return true }
        }
        return false
    }

    private static func requireWindows(
        _ sites: [String], gates: PromotionPolicy, change: String, environment: String, now: Date
    ) throws {
        guard gates.respectWindows else { return }
        var closed: [String] = []
        for site in Set(sites).sorted() {
            let windows = MaintenanceWindows(gates.windows[site] ?? [])
            guard !windows.isOpen(at: now) else { continue }
            let opens = windows.nextOpening(after: now).map { "opens \(MaintenanceWindows.describe($0))" } ?? "none"
            closed.append("\(site) (next window: \(opens))")
        }
        guard closed.isEmpty else {
            throw APIError(
                .gateClosed,
                "the \(change) would touch sites of \(environment) outside their maintenance windows: \(closed.joined(separator: ", ")); try again inside them, or make it an emergency change with `stellwerk promote RELEASE --to \(environment) --emergency REASON`"
            )
        }
    }
}
