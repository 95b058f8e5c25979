public import FoundationEssentials

// The messages between the orchestrator server, its agents and the operator CLI. Field names are the
// wire format; docs/api/openapi.json documents them.

/// How an environment rolls a plan out, as the plan carries it to the server.
public struct RolloutSettings: Codable, Sendable, Hashable {
    /// How many nodes form the canary wave.
    public var canary: Int
    /// The most nodes updated at once: a count, or a percentage of the plan's nodes when `maxInFlightPercent`.
    public var maxInFlight: Int
    public var maxInFlightPercent: Bool
    /// How long each instance of a batch must stay healthy before the batch counts as done.
    public var minHealthySeconds: Int
    /// An instance not healthy this long after its node got the new state fails.
    public var healthyDeadlineSeconds: Int
    /// A rollout with no step moving forward for this long fails.
    public var progressDeadlineSeconds: Int
    /// Whether a failure rolls back every node already touched.
    public var autoRollback: Bool
    /// A node not heard from for this long counts as disconnected.
    public var lostAfterSeconds: Int
    /// What a wave does about a node that is disconnected when its turn comes.
    public var onDisconnected: DisconnectedNodes

    public init(
        canary: Int, maxInFlight: Int, maxInFlightPercent: Bool, minHealthySeconds: Int, healthyDeadlineSeconds: Int,
        progressDeadlineSeconds: Int, autoRollback: Bool, lostAfterSeconds: Int, onDisconnected: DisconnectedNodes
    ) {
        self.canary = canary
        self.maxInFlight = maxInFlight
        self.maxInFlightPercent = maxInFlightPercent
        self.minHealthySeconds = minHealthySeconds
        self.healthyDeadlineSeconds = healthyDeadlineSeconds
        self.progressDeadlineSeconds = progressDeadlineSeconds
        self.autoRollback = autoRollback
        self.lostAfterSeconds = lostAfterSeconds
        self.onDisconnected = onDisconnected
    }

    /// What a wave does about a disconnected node (`on_disconnected`).
    public enum DisconnectedNodes: String, WireEnum {
        /// Wait for it until the healthy deadline.
        case wait
        /// Skip it; it converges when it reconnects.
        case skip

        public static let wireName = "on_disconnected value"
    }

    /// The batch size for `nodes` nodes: at least one.
    public func batchSize(of nodes: Int) -> Int {
        guard maxInFlightPercent else { return max(1, maxInFlight) }
        return max(1, (nodes * maxInFlight) / 100)
    }

    /// How many waves `nodes` changing nodes take: the canary wave, then batches of `batchSize`.
    public func waveCount(of nodes: Int) -> Int {
        guard nodes > 0 else { return 0 }
        let canaryNodes = min(canary, nodes)
        let batch = batchSize(of: nodes)
        return (canaryNodes > 0 ? 1 : 0) + (nodes - canaryNodes + batch - 1) / batch
    }
}

// MARK: Enrollment

/// `POST /v1/join`: a join token and a certificate request for the key the agent just made.
public struct JoinRequest: Codable, Sendable, Hashable {
    public var token: String
    /// PKCS#10 certificate signing request, PEM.
    public var certificateRequest: String

    public init(token: String, certificateRequest: String) {
        self.token = token
        self.certificateRequest = certificateRequest
    }
}

/// The node's identity: its certificate, the CA to trust, and the key releases are signed with.
public struct JoinResponse: Codable, Sendable, Hashable {
    public var environment: String
    public var site: String
    public var node: String
    /// The node's client certificate, PEM.
    public var certificate: String
    /// The orchestrator's CA certificate, PEM.
    public var authority: String
    /// The orchestrator's Ed25519 release-signing public key, base64.
    public var signingKey: String
    /// The addresses of every server of the orchestrator, the answering one first: an agent whose
    /// server goes away goes on with the next. Nil from a server before this field.
    public var orchestrators: [String]?

    public init(
        environment: String, site: String, node: String, certificate: String, authority: String, signingKey: String,
        orchestrators: [String]? = nil
    ) {
        self.environment = environment
        self.site = site
        self.node = node
        self.certificate = certificate
        self.authority = authority
        self.signingKey = signingKey
        self.orchestrators = orchestrators
    }
}

/// `POST /v1/agent/certificate`: a new key's certificate request, signed in over the current mTLS identity.
public struct RenewalRequest: Codable, Sendable, Hashable {
    public var certificateRequest: String
    public init(certificateRequest: String) { self.certificateRequest = certificateRequest }
}

public struct RenewalResponse: Codable, Sendable, Hashable {
    public var certificate: String
    public init(certificate: String) { self.certificate = certificate }
}

/// `GET /v1/agent/desired-state`: the node's desired state and the serial it was written at.
public struct DesiredStateResponse: Codable, Sendable, Hashable {
    public var serial: Int
    public var state: NodeDesiredState
    /// The values of the secrets the state names, sealed to this node; nil when it names none (and
    /// always in the copy the agent saves).
    public var secrets: SealedSecrets?
    /// The addresses of every server of the orchestrator, as at join; a newer list than the agent's
    /// comes at once, at the serial the agent has.
    public var orchestrators: [String]?
    public init(
        serial: Int, state: NodeDesiredState, secrets: SealedSecrets? = nil, orchestrators: [String]? = nil
    ) {
        self.serial = serial
        self.state = state
        self.secrets = secrets
        self.orchestrators = orchestrators
    }
}

// MARK: Operators

/// `PUT /v1/environments/{env}/nodes/{node}/push`: how the orchestrator pushes to a node that
/// cannot call out, registered by an admin (`stellwerk node bootstrap` does it with the host key it
/// checked). Pushes go only where a registration says, whatever a plan carries.
public struct PushRegistration: Codable, Sendable, Hashable {
    public var site: String
    public var target: PushTarget

    public init(site: String, target: PushTarget) {
        self.site = site
        self.target = target
    }
}

/// `POST /v1/join-tokens`.
public struct JoinTokenRequest: Codable, Sendable, Hashable {
    public var environment: String
    public var site: String
    public var node: String
    public var ttlSeconds: Int
    public init(environment: String, site: String, node: String, ttlSeconds: Int) {
        self.environment = environment
        self.site = site
        self.node = node
        self.ttlSeconds = ttlSeconds
    }
}

/// A token, shown once; only its hash is kept.
public struct IssuedToken: Codable, Sendable, Hashable {
    public var id: String
    public var token: String
    public var expiresAt: Date?
    public init(id: String, token: String, expiresAt: Date?) {
        self.id = id
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// `POST /v1/users`: an operator and their role per environment (`*` for every environment).
public struct UserRequest: Codable, Sendable, Hashable {
    public var name: String
    public var roles: [String: Role]
    public init(name: String, roles: [String: Role]) {
        self.name = name
        self.roles = roles
    }
}

public struct UserView: Codable, Sendable, Hashable {
    public var name: String
    public var roles: [String: Role]
    public var createdBy: String
    public var createdAt: Date
    public var revokedAt: Date?
    /// Roles that decide on an environment with a promotion source, granted by one admin: the token
    /// works once a second admin approved them (`POST /v1/users/{name}/approve`).
    public var awaitingApproval: Bool
    public var approvedBy: String?
    public init(
        name: String, roles: [String: Role], createdBy: String, createdAt: Date, revokedAt: Date?,
        awaitingApproval: Bool = false, approvedBy: String? = nil
    ) {
        self.name = name
        self.roles = roles
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.awaitingApproval = awaitingApproval
        self.approvedBy = approvedBy
    }
}

/// `POST /v1/rollouts`: apply a plan.
public struct ApplyRequest: Codable, Sendable, Hashable {
    public var plan: Plan
    public init(plan: Plan) { self.plan = plan }
}

/// A rollout as operators see it.
public struct RolloutView: Codable, Sendable, Hashable {
    public var id: String
    public var environment: String
    public var release: String
    public var state: RolloutState
    /// Why the rollout ended the way it did, or what it waits for.
    public var message: String
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var steps: [RolloutStepView]

    public init(
        id: String, environment: String, release: String, state: RolloutState, message: String, createdBy: String,
        createdAt: Date, updatedAt: Date, steps: [RolloutStepView]
    ) {
        self.id = id
        self.environment = environment
        self.release = release
        self.state = state
        self.message = message
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.steps = steps
    }

    /// Whether the rollout can still change without an operator.
    public var isActive: Bool { state.isActive }
}

/// One node's part of a rollout.
public struct RolloutStepView: Codable, Sendable, Hashable {
    public var node: String
    public var site: String
    /// 0 is the canary wave.
    public var wave: Int
    public var state: RolloutStepState
    public var detail: String
    public var startedAt: Date?
    public var updatedAt: Date

    public init(
        node: String, site: String, wave: Int, state: RolloutStepState, detail: String, startedAt: Date?,
        updatedAt: Date
    ) {
        self.node = node
        self.site = site
        self.wave = wave
        self.state = state
        self.detail = detail
        self.startedAt = startedAt
        self.updatedAt = updatedAt
    }
}

/// `GET /v1/status`.
public struct StatusDocument: Codable, Sendable, Hashable {
    public var generatedAt: Date
    public var environments: [EnvironmentStatus]
    public init(generatedAt: Date, environments: [EnvironmentStatus]) {
        self.generatedAt = generatedAt
        self.environments = environments
    }
}

public struct EnvironmentStatus: Codable, Sendable, Hashable {
    public var name: String
    public var serial: Int
    public var activeRollout: String?
    public var nodes: [NodeStatus]
    /// "pr-1a2b3c4d: REASON" while the newest promotion into the environment is an emergency change:
    /// what runs there was not verified in its source.
    public var emergency: String?

    public init(name: String, serial: Int, activeRollout: String?, nodes: [NodeStatus], emergency: String? = nil) {
        self.name = name
        self.serial = serial
        self.activeRollout = activeRollout
        self.nodes = nodes
        self.emergency = emergency
    }
}

public struct NodeStatus: Codable, Sendable, Hashable {
    public var node: String
    public var site: String
    public var address: String
    public var connection: NodeConnection
    public var lastSeen: Date?
    /// The serial the node should be at, and the one it last reported converging to.
    public var desiredSerial: Int?
    public var reportedSerial: Int?
    public var instances: [InstanceStatus]

    public init(
        node: String, site: String, address: String, connection: NodeConnection, lastSeen: Date?,
        desiredSerial: Int?,
        reportedSerial: Int?, instances: [InstanceStatus]
    ) {
        self.node = node
        self.site = site
        self.address = address
        self.connection = connection
        self.lastSeen = lastSeen
        self.desiredSerial = desiredSerial
        self.reportedSerial = reportedSerial
        self.instances = instances
    }
}

public struct InstanceStatus: Codable, Sendable, Hashable {
    /// How the instance is doing: as its agent last reported, or `pending` while it has not reported
    /// the instance yet.
    public enum State: String, WireEnum {
        case pending, running, starting, unhealthy
        case crashLooping = "crash-looping"
        case stopped

        public static let wireName = "instance status"

        public init(_ reported: InstanceReport.State) {
            switch reported {
            case .running: self = .running
            case .starting: self = .starting
            case .unhealthy: self = .unhealthy
            case .crashLooping: self = .crashLooping
            case .stopped: self = .stopped
            }
        }
    }

    public var service: String
    public var release: String
    public var desiredRelease: String?
    public var state: State
    public var health: String?
    public var lastError: String?
    public var drift: [String]

    public init(
        service: String, release: String, desiredRelease: String?, state: State, health: String?,
        lastError: String?, drift: [String]
    ) {
        self.service = service
        self.release = release
        self.desiredRelease = desiredRelease
        self.state = state
        self.health = health
        self.lastError = lastError
        self.drift = drift
    }
}

/// One thing that happened, as `/v1/events` streams it.
public struct ServerEvent: Codable, Sendable, Hashable {
    public var sequence: Int
    public var type: EventKind
    public var environment: String
    public var object: String
    public var detail: String
    public var at: Date

    public init(sequence: Int, type: EventKind, environment: String, object: String, detail: String, at: Date) {
        self.sequence = sequence
        self.type = type
        self.environment = environment
        self.object = object
        self.detail = detail
        self.at = at
    }
}

/// The body of every error the server answers with.
public struct ErrorBody: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        public var code: ErrorCode
        public var message: String
        public init(code: ErrorCode, message: String) {
            self.code = code
            self.message = message
        }
    }
    public var error: Detail
    public init(code: ErrorCode, message: String) { error = Detail(code: code, message: message) }
}
