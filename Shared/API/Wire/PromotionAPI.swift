public import FoundationEssentials

/// What a promotion into an environment must pass, as the planner reads it from the environment and
/// its sites: the orchestrator evaluates these gates, it does not read the workspace itself.
public struct PromotionPolicy: Codable, Sendable, Hashable {
    /// The environment that promotes into this one (its `promotes_to` names this one).
    public var source: String
    /// How long the release must have run healthy everywhere in the source environment.
    public var soakSeconds: Int
    /// Approvals needed from holders of the approver role other than the requester.
    public var approvals: Int
    /// Whether each site is only touched inside one of its maintenance windows.
    public var respectWindows: Bool
    /// The site rolled out first, alone.
    public var canarySite: String?
    /// How many sites roll out at once after the canary site.
    public var maxSitesInFlight: Int
    /// Each site's maintenance windows (Europe/Berlin local time), by site name.
    public var windows: [String: [MaintenanceWindowSpec]]

    public init(
        source: String, soakSeconds: Int, approvals: Int, respectWindows: Bool, canarySite: String?,
        maxSitesInFlight: Int, windows: [String: [MaintenanceWindowSpec]]
    ) {
        self.source = source
        self.soakSeconds = soakSeconds
        self.approvals = approvals
        self.respectWindows = respectWindows
        self.canarySite = canarySite
        self.maxSitesInFlight = maxSitesInFlight
        self.windows = windows
    }
}

/// One weekly maintenance window in Europe/Berlin local time.
public struct MaintenanceWindowSpec: Codable, Sendable, Hashable {
    /// ISO weekdays, 1 = Monday … 7 = Sunday: the days the window opens on.
    public var days: [Int]
    /// Minutes after local midnight the window opens.
    public var from: Int
    /// Minutes after local midnight it closes; not after `from` for a window across midnight.
    public var to: Int

    public init(days: [Int], from: Int, to: Int) {
        self.days = days
        self.from = from
        self.to = to
    }
}

/// `POST /v1/promotions`: promote the plan's release into the plan's environment.
public struct PromotionRequest: Codable, Sendable, Hashable {
    /// The plan for the target environment with the release; it must carry a promotion policy.
    public var plan: Plan
    /// Evaluate the gates and show the per-site plan without storing or starting anything.
    public var dryRun: Bool
    public var message: String?
    /// Why this is an emergency change: the release enters without being verified in the source
    /// environment and outside maintenance windows, once an approver other than the requester agreed.
    public var emergency: String?

    public init(plan: Plan, dryRun: Bool, message: String? = nil, emergency: String? = nil) {
        self.plan = plan
        self.dryRun = dryRun
        self.message = message
        self.emergency = emergency
    }
}

/// `POST /v1/promotions/{id}/approve|reject`.
public struct DecisionRequest: Codable, Sendable, Hashable {
    public var reason: String

    public init(reason: String) { self.reason = reason }
}

/// A promotion as the API and `stellwerk promotion show --json` present it.
public struct PromotionView: Codable, Sendable, Hashable {
    public var id: String
    public var release: String
    public var source: String
    public var target: String
    public var state: PromotionState
    public var requestedBy: String
    public var message: String
    public var gates: [GateView]
    public var sites: [PromotionSiteView]
    public var decisions: [DecisionView]
    public var createdAt: Date
    public var updatedAt: Date
    /// The reason, when this is an emergency change (not verified, windows do not apply).
    public var emergency: String?

    public init(
        id: String, release: String, source: String, target: String, state: PromotionState, requestedBy: String,
        message: String, gates: [GateView], sites: [PromotionSiteView], decisions: [DecisionView], createdAt: Date,
        updatedAt: Date, emergency: String? = nil
    ) {
        self.id = id
        self.release = release
        self.source = source
        self.target = target
        self.state = state
        self.requestedBy = requestedBy
        self.message = message
        self.gates = gates
        self.sites = sites
        self.decisions = decisions
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.emergency = emergency
    }
}

/// One gate and what it says: open, or closed and why.
public struct GateView: Codable, Sendable, Hashable {
    public var name: PromotionGate
    public var open: Bool
    public var detail: String

    public init(name: PromotionGate, open: Bool, detail: String) {
        self.name = name
        self.open = open
        self.detail = detail
    }
}

/// One site of a promotion.
public struct PromotionSiteView: Codable, Sendable, Hashable {
    public var site: String
    /// 0 for the canary site, then the waves after it; `nil` for a site with nothing to change.
    public var wave: Int?
    public var state: PromotionSiteState
    /// The rollout that carries (or carried) the site.
    public var rollout: String?
    /// Nodes whose desired state changes.
    public var nodes: [String]
    public var detail: String
    /// When the site's next maintenance window opens, while it waits for one.
    public var windowOpensAt: Date?

    public init(
        site: String, wave: Int?, state: PromotionSiteState, rollout: String?, nodes: [String], detail: String,
        windowOpensAt: Date?
    ) {
        self.site = site
        self.wave = wave
        self.state = state
        self.rollout = rollout
        self.nodes = nodes
        self.detail = detail
        self.windowOpensAt = windowOpensAt
    }
}

/// An approver's decision.
public struct DecisionView: Codable, Sendable, Hashable {
    public var approver: String
    public var decision: Decision
    public var reason: String
    public var at: Date

    public init(approver: String, decision: Decision, reason: String, at: Date) {
        self.approver = approver
        self.decision = decision
        self.reason = reason
        self.at = at
    }
}

/// `GET /v1/environments/{env}/rollback`: what `stellwerk rollback` would do, before it does it.
public struct RollbackPreview: Codable, Sendable, Hashable {
    public var environment: String
    /// The releases the environment runs now.
    public var from: String
    /// The release it goes back to: the last one that was healthy everywhere.
    public var to: String
    /// The nodes whose desired state changes.
    public var nodes: [String]
    /// Instances whose data is restored from a backup, because they go back past migrations that
    /// cannot be undone; each says what is lost.
    public var restores: [String]

    public init(environment: String, from: String, to: String, nodes: [String], restores: [String]) {
        self.environment = environment
        self.from = from
        self.to = to
        self.nodes = nodes
        self.restores = restores
    }
}
