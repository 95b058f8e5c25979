public import FoundationEssentials

/// `GET /health`: the server is up and its state store answers.
public struct HealthView: Codable, Sendable, Hashable {
    /// `ok`; a server whose store does not answer says so with an error body and 503 instead.
    public var status: String
    public var version: String

    public init(status: String, version: String) {
        self.status = status
        self.version = version
    }
}

/// `GET /v1/whoami`: the operator a token belongs to and their roles.
public struct CallerView: Codable, Sendable, Hashable {
    public var name: String
    /// The role per environment; `*` for every environment.
    public var roles: [String: Role]

    public init(name: String, roles: [String: Role]) {
        self.name = name
        self.roles = roles
    }
}

/// A node as `GET /v1/nodes` lists it: its contact with the orchestrator and the client certificate
/// it was given last.
public struct NodeCertificateView: Codable, Sendable, Hashable {
    /// What the certificate is good for now.
    public enum State: String, WireEnum {
        /// Never joined.
        case none
        case valid
        /// Past two thirds of its lifetime: the agent renews it at its next hourly look.
        case renewalDue = "renewal-due"
        case expired
        /// Revoked by an operator, or superseded by a new join: the node must join again.
        case revoked

        public static let wireName = "certificate state"
    }

    public var environment: String
    public var site: String
    public var node: String
    public var connection: NodeConnection
    public var lastSeen: Date?
    public var state: State
    public var serial: String?
    /// SHA-256 of the certificate (DER), as the agent's `identity` folder holds it.
    public var fingerprint: String?
    public var issuedAt: Date?
    public var notAfter: Date?
    public var revokedAt: Date?

    public init(
        environment: String, site: String, node: String, connection: NodeConnection, lastSeen: Date?, state: State,
        serial: String? = nil, fingerprint: String? = nil, issuedAt: Date? = nil, notAfter: Date? = nil,
        revokedAt: Date? = nil
    ) {
        self.environment = environment
        self.site = site
        self.node = node
        self.connection = connection
        self.lastSeen = lastSeen
        self.state = state
        self.serial = serial
        self.fingerprint = fingerprint
        self.issuedAt = issuedAt
        self.notAfter = notAfter
        self.revokedAt = revokedAt
    }
}

/// A join token as `GET /v1/join-tokens` lists it: never the token itself.
public struct JoinTokenView: Codable, Sendable, Hashable {
    public var id: String
    public var environment: String
    public var site: String
    public var node: String
    public var expiresAt: Date
    public var used: Bool

    public init(id: String, environment: String, site: String, node: String, expiresAt: Date, used: Bool) {
        self.id = id
        self.environment = environment
        self.site = site
        self.node = node
        self.expiresAt = expiresAt
        self.used = used
    }
}

/// One entry of the append-only, hash-chained audit log.
public struct AuditEntryView: Codable, Sendable, Hashable {
    public var sequence: Int
    public var at: Date
    /// Who did it: `user:NAME`, `node:NAME`, `rollout:ID`, `promotion:ID`, `server`.
    public var actor: String
    /// What was done, such as `rollout.start` or `lock.break`.
    public var action: String
    public var environment: String
    public var object: String
    public var detail: String
    public var previousHash: String
    public var hash: String

    public init(
        sequence: Int, at: Date, actor: String, action: String, environment: String, object: String,
        detail: String, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.at = at
        self.actor = actor
        self.action = action
        self.environment = environment
        self.object = object
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// `GET /v1/audit/verify`: the whole chain checked.
public struct AuditVerificationView: Codable, Sendable, Hashable {
    public var entries: Int
    /// Every entry that was modified, deleted or moved; empty when the log is intact.
    public var problems: [String]

    public init(entries: Int, problems: [String]) {
        self.entries = entries
        self.problems = problems
    }
}

/// A lock: a lease with an expiry that one server holds (`rollout-engine`, `promotion-engine`).
public struct LockView: Codable, Sendable, Hashable {
    public var name: String
    public var holder: String
    public var acquiredAt: Date
    public var expiresAt: Date

    public init(name: String, holder: String, acquiredAt: Date, expiresAt: Date) {
        self.name = name
        self.holder = holder
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
    }
}
