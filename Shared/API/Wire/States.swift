// The closed sets of values the orchestrator, the CLI and the agents exchange, declared once.

/// Where a rollout stands.
public enum RolloutState: String, WireEnum {
    case running, paused, succeeded, failed, cancelled
    case rollingBack = "rolling-back"
    case rolledBack = "rolled-back"

    public static let wireName = "rollout state"

    /// Whether the rollout can still change without an operator.
    public var isActive: Bool { self == .running || self == .paused || self == .rollingBack }
}

/// Where one node's part of a rollout stands.
public enum RolloutStepState: String, WireEnum {
    case waiting, installing, health, done, failed, skipped
    case notStarted = "not-started"
    case rollingBack = "rolling-back"
    case rolledBack = "rolled-back"
    case rollbackFailed = "rollback-failed"

    public static let wireName = "rollout step state"

    /// Whether nothing more happens to the step.
    public var isFinished: Bool {
        switch self {
        case .done, .failed, .skipped, .notStarted, .rolledBack, .rollbackFailed: true
        case .waiting, .installing, .health, .rollingBack: false
        }
    }
}

/// Where a promotion stands.
public enum PromotionState: String, WireEnum {
    /// Waiting for approvals.
    case waiting
    case rollingOut = "rolling-out"
    case succeeded, failed, rejected, cancelled
    /// Only evaluated, never stored.
    case dryRun = "dry-run"

    public static let wireName = "promotion state"

    /// Whether the promotion can still change without an operator.
    public var isActive: Bool { self == .waiting || self == .rollingOut }
}

/// Where one site of a promotion stands.
public enum PromotionSiteState: String, WireEnum {
    case pending
    case rollingOut = "rolling-out"
    case done, failed
    /// The promotion stopped before the site's turn.
    case notStarted = "not-started"

    public static let wireName = "promotion site state"
}

/// The gates a promotion passes.
public enum PromotionGate: String, WireEnum {
    /// Healthy everywhere in the source environment for the soak time.
    case verified
    /// Enough approvals from someone other than the requester.
    case approvals
    /// Each site only inside its maintenance windows.
    case windows

    public static let wireName = "promotion gate"
}

/// An approver's answer to a promotion.
public enum Decision: String, WireEnum {
    case approve, reject

    public static let wireName = "decision"
}

/// How the orchestrator last heard of a node.
public enum NodeConnection: String, WireEnum {
    /// Never joined.
    case pending
    /// Joined with its token, but its agent has not reported yet.
    case joined
    case connected
    /// Silent for longer than the grace period.
    case disconnected

    public static let wireName = "node connection"
}

/// What an operator may do, by role: viewers read, operators deploy, approvers approve promotions,
/// admins do everything (and manage users and join tokens).
public enum Role: String, WireEnum {
    case viewer, `operator`, approver, admin

    public static let wireName = "role"

    public func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): true
        case (_, .read): true
        case (.operator, .deploy): true
        case (.approver, .approve): true
        default: false
        }
    }
}

/// What an endpoint asks of an operator's role.
public enum Permission: String, WireEnum {
    case read, deploy, approve, administer

    public static let wireName = "permission"
}

/// Why the orchestrator refused or failed a request; `ErrorBody.error.code`.
public enum ErrorCode: String, WireEnum {
    case badRequest = "bad-request"
    case unauthorized, forbidden
    case notFound = "not-found"
    case methodNotAllowed = "method-not-allowed"
    case conflict
    /// The plan was computed at an older serial than the environment's.
    case stalePlan = "stale-plan"
    /// A promotion gate is closed.
    case gateClosed = "gate-closed"
    /// The plan's environment policy differs from the one the server holds, or the server holds none.
    case policyMismatch = "policy-mismatch"
    case tooLarge = "too-large"
    case rangeNotSatisfiable = "range-not-satisfiable"
    /// Too many tries in too short a time (joining); the message says when to try again.
    case tooManyRequests = "too-many-requests"
    /// A dependency (the state store) does not answer.
    case unavailable
    case `internal`

    public static let wireName = "error code"
}

/// What an event on `/v1/events` is about.
public enum EventKind: String, WireEnum {
    case rollout
    case rolloutStep = "rollout.step"
    case promotion
    case release
    case nodeJoin = "node.join"
    case nodeJoinRefused = "node.join-refused"
    case nodeReport = "node.report"
    case nodeDisconnected = "node.disconnected"
    case nodeRevoked = "node.revoked"
    case nodeRemoved = "node.removed"
    /// The orchestrator could not push a node's desired state over SSH (`transport: ssh`), and why.
    case nodePushFailed = "node.push-failed"
    case lockBroken = "lock.broken"
    /// An environment's policy was proposed or recorded.
    case policy
    /// A secret was set, generated, rotated or deleted (its name and version; never its value).
    case secret

    public static let wireName = "event kind"
}
