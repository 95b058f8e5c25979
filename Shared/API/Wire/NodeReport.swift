/// What an agent reports about its node: each instance it runs and how that instance is doing.
public struct NodeReport: Codable, Sendable, Hashable {
    public var node: String
    public var environment: String
    /// The serial of the desired state the agent last converged to; `nil` before its first.
    public var desiredSerial: Int?
    /// The instances, sorted by service name.
    public var instances: [InstanceReport]

    public init(node: String, environment: String, desiredSerial: Int?, instances: [InstanceReport]) {
        self.node = node
        self.environment = environment
        self.desiredSerial = desiredSerial
        self.instances = instances
    }
}

/// One instance as its agent sees it.
public struct InstanceReport: Codable, Sendable, Hashable {
    /// How the instance's process is doing.
    public enum State: String, WireEnum {
        case running, starting, unhealthy, crashLooping = "crash-looping", stopped

        public static let wireName = "instance state"
    }

    /// What the instance runs: the spec it was installed from.
    public var spec: InstanceSpec
    public var state: State
    /// The outcome of the last health check, such as `ok` or `HTTP 503`; `nil` before the first.
    public var health: String?
    /// The last error, with what was being done ("running migrations: exit status 3").
    public var lastError: String?
    /// Files of the instance that changed behind the agent's back.
    public var drift: [String]

    public init(spec: InstanceSpec, state: State, health: String?, lastError: String?, drift: [String]) {
        self.spec = spec
        self.state = state
        self.health = health
        self.lastError = lastError
        self.drift = drift
    }
}
