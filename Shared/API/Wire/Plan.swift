/// The difference between an environment's desired state and its recorded actual state.
///
/// A plan is deterministic: the same inputs give a byte-identical plan. It records the state serial it
/// was computed from; applying it after the state moved on is refused.
public struct Plan: Codable, Sendable, Hashable {
    /// The version of this file format; readers refuse versions they do not know.
    public static let currentFormat = 1

    public var format: Int
    /// The environment the plan is for.
    public var environment: String
    /// The state serial the plan was computed from.
    public var serial: Int
    /// The release the plan deploys.
    public var release: String
    /// SHA-256 over the blueprints, environment and sites the plan was computed from.
    public var revision: String
    /// The changes, per site, sorted by site name.
    public var sites: [SitePlan]
    /// Things an operator should know before applying, such as secrets that were never set.
    public var warnings: [String]
    /// How the server rolls the plan out: the environment's rollout policy.
    public var rollout: RolloutSettings?
    /// The gates a promotion into the plan's environment passes, and the sites' maintenance windows;
    /// `nil` when no environment promotes into it.
    public var promotion: PromotionPolicy?

    public init(
        environment: String, serial: Int, release: String, revision: String, sites: [SitePlan], warnings: [String]
    ) {
        self.format = Plan.currentFormat
        self.environment = environment
        self.serial = serial
        self.release = release
        self.revision = revision
        self.sites = sites
        self.warnings = warnings
    }

    /// How many instances each action applies to.
    public var summary: [PlanAction: Int] {
        var counts: [PlanAction: Int] = [:]
        for site in sites {
            for node in site.nodes {
                for change in node.changes { counts[change.action, default: 0] += 1 }
            }
        }
        return counts
    }

    /// The plan without the nodes it leaves as they are (and sites with none left): what a server
    /// needs to apply it. A plan of 10,000 nodes that changes a few is megabytes instead of a hundred.
    public var changesOnly: Plan {
        var plan = self
        plan.sites = sites.compactMap { site in
            var site = site
            site.nodes = site.nodes.filter { $0.changes.contains { $0.action != .unchanged } }
            return site.nodes.isEmpty ? nil : site
        }
        return plan
    }

    /// Whether applying the plan would change nothing.
    public var isEmpty: Bool {
        sites.allSatisfy { $0.nodes.allSatisfy { $0.changes.allSatisfy { $0.action == .unchanged } } }
    }
}

/// The changes at one site.
public struct SitePlan: Codable, Sendable, Hashable {
    public var site: String
    public var displayName: String
    /// The nodes by name in natural order (`n2` before `n10`); nodes that are no longer declared appear
    /// with only removals.
    public var nodes: [NodePlan]
    /// The addresses the site's proxy serves after the plan is applied; `nil` without a proxy.
    public var serves: [ServedAddress]?

    public init(site: String, displayName: String, nodes: [NodePlan], serves: [ServedAddress]? = nil) {
        self.site = site
        self.displayName = displayName
        self.nodes = nodes
        self.serves = serves
    }
}

/// A public address a site's proxy serves, and the service behind it.
public struct ServedAddress: Codable, Sendable, Hashable {
    public var url: String
    public var service: String

    public init(url: String, service: String) {
        self.url = url
        self.service = service
    }
}

/// The changes on one node, with the desired state that applying them produces.
public struct NodePlan: Codable, Sendable, Hashable {
    public var node: String
    public var address: String
    /// One entry per service instance that is desired or recorded, sorted by service name.
    public var changes: [ServiceChange]
    /// The node's desired state after the plan is applied.
    public var desired: NodeDesiredState

    public init(node: String, address: String, changes: [ServiceChange], desired: NodeDesiredState) {
        self.node = node
        self.address = address
        self.changes = changes
        self.desired = desired
    }
}

/// What happens to one service instance.
public enum PlanAction: String, WireEnum, Comparable {
    public static let wireName = "plan action"

    /// The instance does not run on the node yet.
    case create
    /// The instance runs, but its artifact, configuration or parameters change.
    case update
    /// An update that also brings data migrations (the agent backs up first).
    case migrate
    /// Nothing to install; only secret values changed, so the instance is re-rendered and restarted.
    case restart
    /// The instance runs but is no longer desired on the node.
    case remove
    /// Nothing changes.
    case unchanged

    private var rank: Int {
        switch self {
        case .create: 0
        case .update: 1
        case .migrate: 2
        case .restart: 3
        case .remove: 4
        case .unchanged: 5
        }
    }

    public static func < (lhs: PlanAction, rhs: PlanAction) -> Bool {
        lhs.rank < rhs.rank
    }
}

/// One service instance's entry in a plan.
public struct ServiceChange: Codable, Sendable, Hashable {
    public var service: String
    public var action: PlanAction
    /// What differs, in a stable order; empty for create, remove and unchanged.
    public var details: [ChangeDetail]

    public init(service: String, action: PlanAction, details: [ChangeDetail]) {
        self.service = service
        self.action = action
        self.details = details
    }
}

/// One difference between recorded and desired state of an instance.
///
/// Secret values never appear: a secret's detail carries neither `from` nor `to`, only that it changed.
public struct ChangeDetail: Codable, Sendable, Hashable {
    /// What changed.
    public enum Kind: String, WireEnum {
        case artifact, config, parameter, secret, arguments, ports, health, migrations, release, user

        public static let wireName = "change kind"
    }

    public var kind: Kind
    /// The item that changed: a parameter, file or port name; `nil` where the kind says it all.
    public var name: String?
    public var from: String?
    public var to: String?

    public init(kind: Kind, name: String? = nil, from: String? = nil, to: String? = nil) {
        self.kind = kind
        self.name = name
        self.from = from
        self.to = to
    }
}
