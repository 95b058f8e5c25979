package import Foundation
import StellwerkAPI
package import Store

/// Promotions: a release verified in one environment enters the next, site by site. A request is
/// checked against the gates and stored; once approved, the canary site gets a rollout of its own,
/// then the other sites, at most `max_sites_in_flight` at once and each only inside its maintenance
/// window. A site whose rollout fails stops the promotion: sites not started stay untouched, sites
/// done keep the new release. The state lives in the store, so a restarted server goes on from there;
/// like the rollout engine, only the holder of its lease (`promotion-engine`) advances promotions.
package struct PromotionEngine: Sendable {
    let store: StateStore
    let hub: EventHub
    let signingKey: Data
    /// The promotion clock (windows and soak); tests of the gates give their own.
    var now: @Sendable () -> Date = { Date() }
    /// One advance at a time: the engine's pass and a request's or approval's own advance.
    let advancing: SerialGate
    package static let leaseName = "promotion-engine"

    package init(
        store: StateStore, hub: EventHub, signingKey: Data, advancing: SerialGate = SerialGate(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.store = store
        self.hub = hub
        self.signingKey = signingKey
        self.advancing = advancing
        self.now = now
    }

    private var planner: RolloutPlanner { RolloutPlanner(store: store, signingKey: signingKey) }

    // MARK: Requests and decisions

    func request(_ body: PromotionRequest, actor: String, requester: String) async throws -> PromotionView {
        let plan = body.plan
        guard plan.format == Plan.currentFormat else {
            throw APIError.badRequest(
                "the plan has format \(plan.format); this server reads format \(Plan.currentFormat)")
        }
        guard plan.promotion != nil, plan.rollout != nil else {
            throw APIError.badRequest(
                "the plan carries no promotion gates; request promotions with `stellwerk promote RELEASE --to \(plan.environment)`"
            )
        }
        let emergency = try Self.emergencyReason(body.emergency)
        guard var policy = try await PolicyEnforcement(store: store).enforced(for: plan).promotion else {
            throw APIError.conflict("\(plan.environment) has no promotion source on the server")
        }
        if emergency != nil {
            // An emergency change skips the soak and the windows, never the second person.
            policy.respectWindows = false
            policy.approvals = max(1, policy.approvals)
        }
        guard plan.release != ReleaseManifest.unreleased, let manifest = try await store.release(id: plan.release)
        else { throw APIError.conflict("the server holds no release \(plan.release); create it first") }
        let serial = try await store.serial(environment: plan.environment)
        guard serial == plan.serial else {
            throw APIError(
                .stalePlan,
                "the plan is stale: it was computed at serial \(plan.serial), but \(plan.environment) is at serial \(serial) now; request the promotion again"
            )
        }
        // Every site's nodes must be deployable before anything is stored.
        _ = try await planner.steps(of: plan.sites)
        // A dry run gets no ID; where its text would name one, it says PROMOTION.
        let id = body.dryRun ? "PROMOTION" : "pr-" + UUID().uuidString.lowercased().prefix(8)
        let time = now()
        let gates = PromotionGates(release: plan.release, policy: policy, now: time, emergency: emergency != nil)
        let sites = Self.order(plan, policy: policy)
        var verified = try await verifiedGate(gates, manifest: manifest)
        if let emergency {
            verified = GateView(
                name: .verified, open: true,
                detail: "emergency change (\(emergency)): "
                    + (verified.open ? verified.detail : "not verified: \(verified.detail)"))
        }
        var document = PromotionDocument(
            policy: policy, plan: plan, message: body.message ?? "",
            gates: [
                verified, gates.approvals([], requester: requester, promotion: id),
                gates.windows(pendingSites: sites.filter { $0.state == .pending }.map(\.site)),
            ], sites: sites, emergency: emergency)
        for index in document.sites.indices where document.sites[index].state == .pending {
            Self.describeWindow(&document.sites[index], policy: policy, now: time)
        }
        var record = PromotionRecord(
            id: id, release: plan.release, source: policy.source, target: plan.environment, requestedBy: requester,
            state: body.dryRun ? .dryRun : .waiting, document: "", createdAt: time, updatedAt: time,
            emergency: emergency)
        if body.dryRun {
            document.message =
                verified.open ? "dry run: nothing was started" : "dry run: the promotion would be refused"
            return try view(record, document: document, decisions: [])
        }
        guard verified.open else {
            throw APIError(
                .gateClosed,
                "promotion refused: \(plan.release) is not verified in \(policy.source): \(verified.detail)")
        }
        if let active = try await store.promotions(target: plan.environment, active: true).first {
            throw APIError.conflict(
                "promotion \(active.id) into \(plan.environment) is still \(active.state.rawValue); wait for it or cancel it"
            )
        }
        if let rollout = try await store.activeRollouts().first(where: { $0.environment == plan.environment }) {
            throw APIError.conflict(
                "rollout \(rollout.id) is still \(rollout.state.rawValue) in \(plan.environment); wait for it, or cancel it"
            )
        }
        document.message = "waiting for approvals"
        record.document = try Self.encode(document)
        try await store.createPromotion(record)
        announce(record, record.state.rawValue)
        try await advance(id)
        return try await view(id: id)
    }

    /// The verified gate, from what the store knows of the source environment now.
    private func verifiedGate(_ gates: PromotionGates, manifest: ReleaseManifest) async throws -> GateView {
        let source = gates.policy.source
        let silent = try await store.nodes(environment: source).filter { $0.connection == .disconnected }.map(\.name)
        return gates.verified(
            sourceRollouts: try await store.rollouts(environment: source),
            sourceDesired: try await store.desiredStatesByNode(environment: source),
            sourceReports: try await store.reports(environment: source),
            migrations: manifest.components.values.flatMap(\.migrations).sorted(),
            lastUnhealthy: try await store.lastUnhealthy(environment: source), disconnected: Set(silent))
    }

    /// An approver's yes or no. A no ends the promotion and needs a reason; both only while it waits.
    func decide(_ id: String, _ decision: Decision, reason: String, approver: String) async throws -> PromotionView {
        try await advancing.run {
            try await decideAlone(id, decision, reason: reason, approver: approver)
            try await advanceAlone(id)
        }
        return try await view(id: id)
    }

    private func decideAlone(_ id: String, _ decision: Decision, reason: String, approver: String) async throws {
        guard let (record, _) = try await store.promotion(id: id) else {
            throw APIError.notFound("there is no promotion \(id)")
        }
        if decision == .reject, reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.badRequest("a rejection needs a reason")
        }
        guard record.state == .waiting else {
            throw APIError.conflict(
                "promotion \(id) is \(record.state.rawValue); decisions are taken while it waits for approvals")
        }
        try await store.recordApproval(
            ApprovalRecord(promotion: id, approver: approver, decision: decision, reason: reason, createdAt: now()))
        if decision == .reject {
            var document = try Self.decode(record.document)
            document.message = "rejected by \(approver): \(reason)"
            for index in document.sites.indices where document.sites[index].state == .pending {
                Self.stop(&document.sites[index], because: "not started: the promotion was rejected")
            }
            try await store.updatePromotion(
                id: id, state: .rejected, document: try Self.encode(document), actor: "user:\(approver)",
                detail: reason, at: now())
        }
        announce(record, decision == .approve ? "approved" : "rejected")
    }

    /// Stops a promotion: sites not started stay as they are, rollouts in flight are cancelled (their
    /// nodes keep what they have).
    func cancel(_ id: String, actor: String) async throws -> PromotionView {
        try await advancing.run { try await cancelAlone(id, actor: actor) }
        return try await view(id: id)
    }

    private func cancelAlone(_ id: String, actor: String) async throws {
        guard let (record, _) = try await store.promotion(id: id) else {
            throw APIError.notFound("there is no promotion \(id)")
        }
        guard record.state.isActive else {
            throw APIError.conflict("promotion \(id) is \(record.state.rawValue) already")
        }
        var document = try Self.decode(record.document)
        for index in document.sites.indices {
            if document.sites[index].state == .pending {
                Self.stop(&document.sites[index], because: "not started: the promotion was cancelled")
            }
            if document.sites[index].state == .rollingOut, let rollout = document.sites[index].rollout,
                let running = try await store.rollout(id: rollout), running.state.isActive
            {
                var carried = try RolloutDocument.decode(running.document)
                carried.message = "cancelled with promotion \(id); nodes keep what they have"
                try await store.updateRollout(
                    id: rollout, state: .cancelled, document: try carried.encoded(), actor: actor,
                    expecting: running.state)
                document.sites[index].state = .failed
                document.sites[index].detail = "cancelled while rolling out"
            }
        }
        document.message = "cancelled by \(actor)"
        try await store.updatePromotion(
            id: id, state: .cancelled, document: try Self.encode(document), actor: actor, detail: "cancelled",
            at: now())
        announce(record, "cancelled")
    }

    // MARK: Advancing

    /// One pass over every promotion still waiting or rolling out.
    /// Advances every active promotion. Never busy for reports: what it follows are rollouts, whose
    /// changes wake it anyway.
    @discardableResult
    package func advanceAll() async throws -> Bool {
        for record in try await store.promotions(active: true).reversed() { try await advance(record.id) }
        return false
    }

    private func advance(_ id: String) async throws {
        try await advancing.run { try await advanceAlone(id) }
    }

    private func advanceAlone(_ id: String) async throws {
        guard let (record, decisions) = try await store.promotion(id: id), record.state.isActive else { return }
        let original = try Self.decode(record.document)
        var document = original
        let time = now()
        let gates = PromotionGates(
            release: record.release, policy: document.policy, now: time, emergency: document.emergency != nil)
        var state = record.state
        var detail = ""
        let approvals = gates.approvals(decisions, requester: record.requestedBy, promotion: id)
        document.gates = document.gates.map { $0.name == .approvals ? approvals : $0 }
        if state == .waiting, approvals.open {
            state = .rollingOut
            document.message = "rolling out"
            detail = document.gates.filter { $0.name != .windows }.map { "\($0.name.rawValue): \($0.detail)" }
                .joined(separator: "; ")
        }
        if state == .rollingOut {
            try await followSites(&document, id: id, release: record.release, now: time)
            try await startSites(&document, id: id, target: record.target, now: time)
            let failed = document.sites.filter { $0.state == .failed }
            if !document.sites.contains(where: { $0.state == .rollingOut || $0.state == .pending }) {
                if let first = failed.first {
                    state = .failed
                    let notStarted = document.sites.filter { $0.state == .notStarted }.count
                    let done = document.sites.filter { $0.state == .done }.map(\.site)
                    document.message =
                        "\(first.site) failed: \(first.detail); \(notStarted) site(s) not started"
                        + (done.isEmpty ? "" : "; \(done.joined(separator: ", ")) keep \(record.release)")
                } else {
                    state = .succeeded
                    document.message = "every site of \(record.target) runs \(record.release)"
                }
                detail = document.message
            }
        }
        let pending = document.sites.filter { $0.state == .pending }.map(\.site)
        document.gates = document.gates.map { $0.name == .windows ? gates.windows(pendingSites: pending) : $0 }
        guard document != original || state != record.state else { return }
        try await store.updatePromotion(
            id: id, state: state, document: try Self.encode(document), actor: "promotion:\(id)", detail: detail,
            at: time)
        announce(record, state.rawValue)
    }

    /// Reads how the sites' rollouts went.
    private func followSites(_ document: inout PromotionDocument, id: String, release: String, now: Date) async throws {
        var stopped: String?
        for index in document.sites.indices where document.sites[index].state == .rollingOut {
            guard let rollout = document.sites[index].rollout, let record = try await store.rollout(id: rollout)
            else { continue }
            let carried = try RolloutDocument.decode(record.document)
            switch record.state {
            case .succeeded:
                document.sites[index].state = .done
                document.sites[index].detail = "runs \(release)"
            case .failed, .rolledBack, .cancelled:
                document.sites[index].state = .failed
                document.sites[index].detail = "rollout \(rollout) \(record.state.rawValue): \(carried.message)"
                stopped = document.sites[index].site
            default:
                document.sites[index].detail = "rollout \(rollout): \(carried.message)"
            }
        }
        if document.sites.contains(where: { $0.state == .failed }) {
            let cause = stopped ?? document.sites.first { $0.state == .failed }?.site ?? "a site"
            for index in document.sites.indices where document.sites[index].state == .pending {
                Self.stop(&document.sites[index], because: "not started: the promotion stopped after \(cause) failed")
            }
        }
    }

    /// Starts the sites that may go now: the canary site alone first, then up to `max_sites_in_flight`
    /// at once, each only inside its maintenance window.
    private func startSites(_ document: inout PromotionDocument, id: String, target: String, now: Date) async throws {
        let policy = document.policy
        let inFlight = document.sites.filter { $0.state == .rollingOut }.count
        let canaryPending = document.sites.first.map { $0.wave == 0 && $0.state != .done } ?? false
        var slots = canaryPending ? 1 - inFlight : max(1, policy.maxSitesInFlight) - inFlight
        for index in document.sites.indices where document.sites[index].state == .pending && slots > 0 {
            if canaryPending && document.sites[index].wave != 0 { break }
            if policy.respectWindows,
                !MaintenanceWindows(policy.windows[document.sites[index].site] ?? []).isOpen(at: now)
            {
                Self.describeWindow(&document.sites[index], policy: policy, now: now)
                continue
            }
            let site = document.sites[index].site
            let steps = try await planner.steps(of: document.plan.sites.filter { $0.site == site })
            guard let settings = document.plan.rollout else { continue }
            let rollout = try await planner.create(
                environment: target, release: document.plan.release,
                serial: try await store.serial(environment: target), settings: settings, steps: steps,
                actor: "promotion:\(id)", now: now, promotion: id)
            hub.publish(.rollout, environment: target, object: rollout.id, detail: rollout.state.rawValue)
            document.sites[index].rollout = rollout.id
            document.sites[index].windowOpensAt = nil
            document.sites[index].state = rollout.state == .succeeded ? .done : .rollingOut
            document.sites[index].detail = "rollout \(rollout.id) started"
            slots -= 1
        }
        for index in document.sites.indices where document.sites[index].state == .pending {
            Self.describeWindow(&document.sites[index], policy: policy, now: now)
        }
    }

    // MARK: Views and helpers

    /// Tells the event stream; an emergency change says so in every event.
    private func announce(_ record: PromotionRecord, _ detail: String) {
        hub.publish(
            .promotion, environment: record.target, object: record.id,
            detail: record.emergency == nil ? detail : "\(detail) (emergency change)")
    }

    /// The reason an emergency change must give: said, and short enough for a log line.
    static func emergencyReason(_ text: String?) throws -> String? {
        guard let text else { return nil }
        let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else { throw APIError.badRequest("an emergency change needs a reason") }
        guard reason.count <= 500, !reason.contains(where: \.isNewline) else {
            throw APIError.badRequest("the reason for an emergency change must be one line of at most 500 characters")
        }
        return reason
    }

    func view(id: String) async throws -> PromotionView {
        guard let (record, decisions) = try await store.promotion(id: id) else {
            throw APIError.notFound("there is no promotion \(id)")
        }
        return try view(record, document: try Self.decode(record.document), decisions: decisions)
    }

    func view(
        _ record: PromotionRecord, document: PromotionDocument, decisions: [ApprovalRecord]
    ) throws
        -> PromotionView
    {
        PromotionView(
            id: record.id, release: record.release, source: record.source, target: record.target, state: record.state,
            requestedBy: record.requestedBy, message: document.message, gates: document.gates, sites: document.sites,
            decisions: decisions.map {
                DecisionView(approver: $0.approver, decision: $0.decision, reason: $0.reason, at: $0.createdAt)
            }, createdAt: record.createdAt, updatedAt: record.updatedAt, emergency: record.emergency)
    }

    /// The sites in the order they are promoted: the canary site (wave 0) first, then the others by
    /// name in waves of `max_sites_in_flight`. Sites with nothing to change are done from the start.
    static func order(_ plan: Plan, policy: PromotionPolicy) -> [PromotionSiteView] {
        func changing(_ site: SitePlan) -> [String] {
            site.nodes.filter { $0.changes.contains { $0.action != .unchanged } }.map(\.node)
        }
        let candidates = plan.sites.filter { !changing($0).isEmpty }
        let canary = candidates.first { $0.site == policy.canarySite } ?? candidates.first
        let others = candidates.filter { $0.site != canary?.site }
        var result: [PromotionSiteView] = []
        if let canary {
            result.append(
                PromotionSiteView(
                    site: canary.site, wave: 0, state: .pending, rollout: nil, nodes: changing(canary),
                    detail: "canary site", windowOpensAt: nil))
        }
        for (index, site) in others.enumerated() {
            result.append(
                PromotionSiteView(
                    site: site.site, wave: 1 + index / max(1, policy.maxSitesInFlight), state: .pending, rollout: nil,
                    nodes: changing(site), detail: "waits for the sites before it", windowOpensAt: nil))
        }
        for site in plan.sites where changing(site).isEmpty {
            result.append(
                PromotionSiteView(
                    site: site.site, wave: nil, state: .done, rollout: nil, nodes: [],
                    detail: "runs the release already", windowOpensAt: nil))
        }
        return result
    }

    private static func describeWindow(_ site: inout PromotionSiteView, policy: PromotionPolicy, now: Date) {
        guard policy.respectWindows else { return }
        let windows = MaintenanceWindows(policy.windows[site.site] ?? [])
        if windows.isOpen(at: now) {
            site.windowOpensAt = nil
            if site.detail.hasPrefix("waits for its maintenance window") {
                site.detail = "inside its maintenance window"
            }
        } else if let opens = windows.nextOpening(after: now) {
            site.windowOpensAt = opens
            site.detail = "waits for its maintenance window until \(MaintenanceWindows.describe(opens))"
        } else {
            site.detail = "waits for a maintenance window, but the site has none"
        }
    }

    private static func stop(_ site: inout PromotionSiteView, because reason: String) {
        site.state = .notStarted
        site.detail = reason
        site.windowOpensAt = nil
    }

    static func encode(_ document: PromotionDocument) throws -> String {
        String(decoding: try JSONResponse.encoder.encode(document), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> PromotionDocument {
        try JSONResponse.decoder.decode(PromotionDocument.self, from: Data(text.utf8))
    }
}
