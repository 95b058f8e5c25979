/// The recorded actual state of an environment: what each node last reported it runs.
///
/// The planner compares the desired state against it. The orchestrator builds it from its state store
/// (`GET /v1/environments/{env}/state`); offline, `stellwerk plan --state FILE` reads it from a file.
/// An environment that was never applied has an empty snapshot with serial 0.
public struct StateSnapshot: Codable, Sendable, Hashable {
    /// The state serial: bumped on every change of desired state, so a plan can be refused when stale.
    public var serial: Int
    /// The environment this snapshot describes.
    public var environment: String
    /// The nodes, by node name.
    public var nodes: [String: RecordedNode]
    /// Fingerprints of the secrets' current values, by secret name. Values themselves never appear.
    public var secrets: [String: String]

    public init(serial: Int, environment: String, nodes: [String: RecordedNode] = [:], secrets: [String: String] = [:])
    {
        self.serial = serial
        self.environment = environment
        self.nodes = nodes
        self.secrets = secrets
    }

    /// The state of an environment nothing was ever applied to.
    public static func empty(environment: String) -> StateSnapshot {
        StateSnapshot(serial: 0, environment: environment)
    }
}

/// What one node last reported.
public struct RecordedNode: Codable, Sendable, Hashable {
    /// The site the node belonged to when it reported.
    public var site: String
    /// The node's address when it reported.
    public var address: String
    /// The instances the node runs, sorted by service name.
    public var instances: [InstanceSpec]

    public init(site: String, address: String, instances: [InstanceSpec]) {
        self.site = site
        self.address = address
        self.instances = instances
    }

    private enum CodingKeys: String, CodingKey {
        case site, address, instances
    }

    /// Sorts the instances: the orchestrator sends them in the order its database keeps them.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        site = try container.decode(String.self, forKey: .site)
        address = try container.decode(String.self, forKey: .address)
        instances = try container.decode([InstanceSpec].self, forKey: .instances).sorted { $0.service < $1.service }
    }
}
