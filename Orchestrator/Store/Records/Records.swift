import Crypto
import Database
package import Foundation
package import StellwerkAPI

/// A node as the orchestrator knows it.
package struct NodeRecord: Sendable, Hashable, Codable {
    /// Whether the node's agent is in touch: pending until it joined, disconnected when not seen for
    /// longer than the grace period.
    package typealias Connection = NodeConnection

    package var environment: String
    package var name: String
    package var site: String
    package var address: String
    package var labels: [String: String]
    /// SHA-256 of the certificate the agent authenticates with; `nil` until it joined.
    package var certificateFingerprint: String?
    package var lastSeen: Date?
    package var connection: Connection

    package init(
        environment: String, name: String, site: String, address: String, labels: [String: String],
        certificateFingerprint: String? = nil, lastSeen: Date? = nil, connection: Connection = .pending
    ) {
        self.environment = environment
        self.name = name
        self.site = site
        self.address = address
        self.labels = labels
        self.certificateFingerprint = certificateFingerprint
        self.lastSeen = lastSeen
        self.connection = connection
    }
}

/// An expiring claim on a name: a rollout of an environment, or the leader role among orchestrators.
package struct Lease: Sendable, Hashable, Codable {
    package var name: String
    package var holder: String
    package var acquiredAt: Date
    package var expiresAt: Date

    package func isHeld(at now: Date) -> Bool { expiresAt > now }
}

/// One entry of the append-only audit log.
package struct AuditEntry: Sendable, Hashable, Codable {
    package var sequence: Int
    package var at: Date
    /// Who: an operator (`operator:anna`), a node (`node:kl-live-1`) or the orchestrator itself.
    package var actor: String
    /// What, as a dotted verb: `desired-state.write`, `lock.break`, `secret.set`.
    package var action: String
    /// The environment, or empty for actions outside one.
    package var environment: String
    /// The object acted on: a node, lease, secret or release name.
    package var object: String
    /// More about it, as short text; never a secret value.
    package var detail: String
    package var previousHash: String
    package var hash: String

    /// The hash an entry must carry: SHA-256 over the previous hash and every field, length-prefixed
    /// so no two different entries give the same input.
    package static func hash(
        sequence: Int, at: Date, actor: String, action: String, environment: String, object: String, detail: String,
        previousHash: String
    ) -> String {
        let milliseconds = Int((at.timeIntervalSince1970 * 1000).rounded())
        let fields = [String(sequence), String(milliseconds), actor, action, environment, object, detail, previousHash]
        return SHA256.hash(data: Array(fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|").utf8))
            .lowercaseHex
    }
}

/// What an entry to append says; the store adds sequence, time and hashes.
package struct AuditEvent: Sendable, Hashable {
    package var actor: String
    package var action: String
    package var environment: String
    package var object: String
    package var detail: String

    package init(actor: String, action: String, environment: String = "", object: String, detail: String = "") {
        self.actor = actor
        self.action = action
        self.environment = environment
        self.object = object
        self.detail = detail
    }
}

/// The result of checking the audit log's hash chain.
package struct AuditVerification: Sendable, Hashable, Codable {
    /// Entries checked.
    package var entries: Int
    /// Every break found, first first; empty when the chain is intact.
    package var problems: [String]

    package var isIntact: Bool { problems.isEmpty }
}

/// A single-use join token, stored only as its hash.
package struct JoinTokenRecord: Sendable, Hashable, Codable {
    package var id: String
    package var tokenHash: String
    package var environment: String
    package var site: String
    package var node: String
    package var expiresAt: Date
    package var usedAt: Date?
    package var createdBy: String
    package var createdAt: Date

    package init(
        id: String, tokenHash: String, environment: String, site: String, node: String, expiresAt: Date,
        usedAt: Date? = nil, createdBy: String, createdAt: Date
    ) {
        self.id = id
        self.tokenHash = tokenHash
        self.environment = environment
        self.site = site
        self.node = node
        self.expiresAt = expiresAt
        self.usedAt = usedAt
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}

/// A client certificate the orchestrator issued to a node.
package struct CertificateRecord: Sendable, Hashable, Codable {
    package var serial: String
    package var environment: String
    package var node: String
    package var fingerprint: String
    package var notAfter: Date
    package var issuedAt: Date
    package var revokedAt: Date?

    package init(
        serial: String, environment: String, node: String, fingerprint: String, notAfter: Date, issuedAt: Date,
        revokedAt: Date? = nil
    ) {
        self.serial = serial
        self.environment = environment
        self.node = node
        self.fingerprint = fingerprint
        self.notAfter = notAfter
        self.issuedAt = issuedAt
        self.revokedAt = revokedAt
    }
}

/// A secret as stored: only the encrypted value and a fingerprint that identifies it.
package struct SecretRecord: Sendable, Hashable, Codable {
    package var environment: String
    package var name: String
    package var ciphertext: String
    package var fingerprint: String
    package var updatedAt: Date
    package var updatedBy: String
    /// 1 when first stored; the store counts it up on every change.
    package var version: Int
    package var kind: SecretKind
    /// The one site whose nodes receive it; nil for every site.
    package var site: String?

    package init(
        environment: String, name: String, ciphertext: String, fingerprint: String, updatedAt: Date,
        updatedBy: String, version: Int = 1, kind: SecretKind = .value, site: String? = nil
    ) {
        self.environment = environment
        self.name = name
        self.ciphertext = ciphertext
        self.fingerprint = fingerprint
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
        self.version = version
        self.kind = kind
        self.site = site
    }
}

/// How a write changes a secret.
package enum SecretChange: String, Sendable {
    /// A value given: a new secret, or a new version of one.
    case set
    /// A new secret; a conflict when the name is taken.
    case generate
    /// A new version of an existing secret; not found when there is none.
    case rotate
}

/// A rollout and where it stands. Its document (owned by the rollout engine) holds the policy and
/// each node's step; what each step gives its node is stored apart (`rolloutTargets`).
package struct RolloutRecord: Sendable, Hashable, Codable {
    package var id: String
    package var environment: String
    package var release: String
    package var serial: Int
    package var state: RolloutState
    /// The rollout's own details (policy, waves, steps) as JSON, owned by the rollout engine.
    package var document: String
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, environment: String, release: String, serial: Int, state: RolloutState, document: String,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.environment = environment
        self.release = release
        self.serial = serial
        self.state = state
        self.document = document
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What one step of a rollout gives its node, and what the node had (to roll back to).
package struct RolloutTarget: Sendable, Hashable {
    package var node: String
    package var target: NodeDesiredState
    /// `nil` when the node had no desired state.
    package var previous: NodeDesiredState?

    package init(node: String, target: NodeDesiredState, previous: NodeDesiredState?) {
        self.node = node
        self.target = target
        self.previous = previous
    }
}

/// A request to promote a release from one environment to the next.
package struct PromotionRecord: Sendable, Hashable, Codable {
    package var id: String
    package var release: String
    package var source: String
    package var target: String
    package var requestedBy: String
    package var state: PromotionState
    package var document: String
    package var createdAt: Date
    package var updatedAt: Date
    /// Why this is an emergency change (not verified in the source, windows do not apply); `nil` for
    /// a promotion.
    package var emergency: String?

    package init(
        id: String, release: String, source: String, target: String, requestedBy: String, state: PromotionState,
        document: String, createdAt: Date, updatedAt: Date, emergency: String? = nil
    ) {
        self.id = id
        self.release = release
        self.source = source
        self.target = target
        self.requestedBy = requestedBy
        self.state = state
        self.document = document
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.emergency = emergency
    }
}

/// An approver's decision on a promotion.
package struct ApprovalRecord: Sendable, Hashable, Codable {
    package var promotion: String
    package var approver: String
    package var decision: Decision
    package var reason: String
    package var createdAt: Date

    package init(promotion: String, approver: String, decision: Decision, reason: String, createdAt: Date) {
        self.promotion = promotion
        self.approver = approver
        self.decision = decision
        self.reason = reason
        self.createdAt = createdAt
    }
}

/// An operator: a name, the hash of their API token, and their role per environment (`*` for all).
package struct OperatorRecord: Sendable, Hashable, Codable {
    package var name: String
    package var tokenHash: String
    package var roles: [String: Role]
    package var createdBy: String
    package var createdAt: Date
    package var revokedAt: Date?
    /// A role that decides on a governed environment, granted by one admin: the token works only once
    /// a second admin approved the grant.
    package var awaitingApproval: Bool
    package var approvedBy: String?
    package var approvedAt: Date?

    package init(
        name: String, tokenHash: String, roles: [String: Role], createdBy: String, createdAt: Date,
        revokedAt: Date? = nil, awaitingApproval: Bool = false, approvedBy: String? = nil, approvedAt: Date? = nil
    ) {
        self.name = name
        self.tokenHash = tokenHash
        self.roles = roles
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.awaitingApproval = awaitingApproval
        self.approvedBy = approvedBy
        self.approvedAt = approvedAt
    }
}

extension AuditEntry {
    /// The entry as the API and `--json` show it.
    package var view: AuditEntryView {
        AuditEntryView(
            sequence: sequence, at: at, actor: actor, action: action, environment: environment, object: object,
            detail: detail, previousHash: previousHash, hash: hash)
    }
}

extension Lease {
    /// The lease as the API and `--json` show it.
    package var view: LockView { LockView(name: name, holder: holder, acquiredAt: acquiredAt, expiresAt: expiresAt) }
}
